//! Whole clusters of membership tables under partitions: who answers for an address.
//!
//! Each simulated node is a [`Table`]; heartbeats (with reports) go every 100 ms, and at once after a
//! change, as the prober sends them, except over the directed links a scenario cuts. A node answers
//! for an address when it is healthy and first, in the address's ranking, among its alive set: what
//! the announcer does with the view. The promise checked: once the tables had time to notice a cut,
//! at most one node answers, for every ranking, and exactly one when some node still hears and is
//! heard by everyone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::members::table::{Change, Table, TableConfig};
use crate::members::wire::{self, BootId, Heartbeat, KeyRing, Standing};

const WALL: u64 = 1_700_000_000_000;
const STEP: Duration = Duration::from_millis(10);
const INTERVAL: Duration = Duration::from_millis(100);

struct Node {
    name: String,
    table: Table,
    seq: u64,
    resend: bool,
}

struct Cluster {
    t0: Instant,
    now: Duration,
    nodes: Vec<Node>,
    /// `cut[from][to]`: heartbeats from `from` do not reach `to`.
    cut: Vec<Vec<bool>>,
    /// Heartbeats go through the codec (slower: used where the scenario count is small).
    keys: Option<KeyRing>,
}

impl Cluster {
    fn new(n: usize, through_the_wire: bool) -> Self {
        let t0 = Instant::now();
        let names: Vec<String> = (0..n).map(|i| format!("node-{i}")).collect();
        let nodes = names
            .iter()
            .map(|me| {
                let mut table = Table::new(me.clone(), TableConfig::default(), t0);
                table.set_members(names.iter().cloned(), t0);
                Node { name: me.clone(), table, seq: 0, resend: false }
            })
            .collect();
        let keys = through_the_wire.then(|| KeyRing::new([b"0123456789abcdef-partitions"]).unwrap());
        Self { t0, now: Duration::ZERO, nodes, cut: vec![vec![false; n]; n], keys }
    }

    fn set_cuts(&mut self, pattern: u32) {
        let n = self.nodes.len();
        let mut bit = 0;
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    self.cut[from][to] = pattern & (1 << bit) != 0;
                    bit += 1;
                }
            }
        }
    }

    fn send(&mut self, from: usize) {
        let at = self.t0 + self.now;
        let wall = WALL + u64::try_from(self.now.as_millis()).unwrap();
        let sender = &mut self.nodes[from];
        sender.seq += 1;
        let beat = Heartbeat {
            node: sender.name.clone(),
            boot: BootId(from as u64 + 1),
            seq: sender.seq,
            sent_at_ms: wall,
            standing: if sender.table.healthy() { Standing::Member } else { Standing::SteppingDown },
            reads_reports: true,
            report: Some(sender.table.report(at)),
        };
        let beat = match &self.keys {
            Some(keys) => wire::decode(&wire::encode(&beat, keys).unwrap(), keys).unwrap(),
            None => beat,
        };
        for to in 0..self.nodes.len() {
            if to == from || self.cut[from][to] {
                continue;
            }
            let receiver = &mut self.nodes[to];
            let changes = receiver.table.on_heartbeat(&beat, at, wall).unwrap();
            receiver.resend |= resends(&changes);
        }
    }

    /// One step of 10 ms: due rounds (node `i` sends at `i * 7 ms` into each 100 ms), immediate
    /// rounds after changes, then the passage of time.
    fn step(&mut self) {
        self.now += STEP;
        let n = self.nodes.len();
        for i in 0..n {
            let phase = Duration::from_millis(7 * i as u64);
            let due = (self.now.as_millis() % INTERVAL.as_millis()) / STEP.as_millis()
                == (phase.as_millis() % INTERVAL.as_millis()) / STEP.as_millis();
            if due || std::mem::take(&mut self.nodes[i].resend) {
                self.send(i);
            }
        }
        let at = self.t0 + self.now;
        for node in &mut self.nodes {
            let changes = node.table.tick(at);
            node.resend |= resends(&changes);
        }
        // Changes noticed on a tick go out at once, as the prober does.
        for i in 0..n {
            if std::mem::take(&mut self.nodes[i].resend) {
                self.send(i);
            }
        }
    }

    fn run(&mut self, for_: Duration) {
        let end = self.now + for_;
        while self.now < end {
            self.step();
        }
    }

    /// The nodes answering for an address whose ranking is `order` (node indexes, best first).
    fn answerers(&self, order: &[usize]) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.table.healthy())
            .filter(|(i, node)| {
                let alive = node.table.alive();
                order.iter().find(|&&j| alive.contains(&self.nodes[j].name)) == Some(i)
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn describe(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                format!(
                    "{}: healthy {} unheard {} alive {:?}",
                    n.name,
                    n.table.healthy(),
                    n.table.unheard(),
                    n.table.alive()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn resends(changes: &[Change]) -> bool {
    changes.iter().any(|c| !matches!(c, Change::Vouched(_) | Change::Unvouched(_)))
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut p = rest.clone();
            p.insert(at, n - 1);
            out.push(p);
        }
    }
    out
}

/// Whether some node hears every other node and is heard by every other node.
fn someone_fully_connected(cut: &[Vec<bool>]) -> bool {
    let n = cut.len();
    (0..n).any(|i| (0..n).all(|j| i == j || (!cut[i][j] && !cut[j][i])))
}

/// Whether the nodes split into two groups of two or more with every link in one direction cut.
fn split_into_groups(cut: &[Vec<bool>]) -> bool {
    let n = cut.len();
    (1u32..(1 << n) - 1).any(|group| {
        let inside = |i: usize| group & (1 << i) != 0;
        let size = (0..n).filter(|&i| inside(i)).count();
        let cut_out = (0..n).all(|i| (0..n).all(|j| !inside(i) || inside(j) || cut[i][j]));
        size >= 2 && n - size >= 2 && cut_out
    })
}

/// Runs every loss pattern of `n` nodes: converge, cut, check every ranking at every step from 700 ms
/// after the cut (when every death and every report has arrived), heal, check again within 1 s.
/// Returns the patterns that had two answerers once settled.
fn every_pattern(n: usize) -> Vec<(u32, String)> {
    let links = n * (n - 1);
    let orders = permutations(n);
    let mut split = Vec::new();
    for pattern in 0..(1u32 << links) {
        let mut cluster = Cluster::new(n, false);
        cluster.run(Duration::from_millis(600));
        for order in &orders {
            assert_eq!(cluster.answerers(order).len(), 1, "before the cut: {}", cluster.describe());
        }
        cluster.set_cuts(pattern);
        cluster.run(Duration::from_millis(700));
        let mut two = false;
        for _ in 0..50 {
            cluster.step();
            for order in &orders {
                let answering = cluster.answerers(order);
                two |= answering.len() > 1;
                if someone_fully_connected(&cluster.cut) {
                    assert!(
                        !answering.is_empty(),
                        "pattern {pattern:#b} order {order:?}: nobody answers: {}",
                        cluster.describe()
                    );
                }
            }
        }
        if two {
            split.push((pattern, cluster.describe()));
        }
        cluster.set_cuts(0);
        cluster.run(Duration::from_secs(1));
        for order in &orders {
            assert_eq!(
                cluster.answerers(order).len(),
                1,
                "pattern {pattern:#b}, 1 s after healing: {}",
                cluster.describe()
            );
        }
    }
    split
}

#[test]
fn three_nodes_never_have_two_answerers_whatever_links_fail() {
    let split = every_pattern(3);
    assert!(split.is_empty(), "two answerers under {} of 64 patterns: {split:#?}", split.len());
}

#[test]
fn four_nodes_have_two_answerers_only_when_split_into_two_groups() {
    let split = every_pattern(4);
    for (pattern, state) in &split {
        let mut cluster = Cluster::new(4, false);
        cluster.set_cuts(*pattern);
        assert!(split_into_groups(&cluster.cut), "pattern {pattern:#014b} is no clean split, yet: {state}");
    }
}

/// The case issue 17 reports: the owner's heartbeats are lost while it still hears the others.
#[test]
fn an_owner_whose_heartbeats_are_lost_steps_down_and_returns_after_the_heal() {
    let mut cluster = Cluster::new(3, true);
    cluster.run(Duration::from_millis(600));
    let order = [0, 1, 2];
    assert_eq!(cluster.answerers(&order), vec![0]);
    cluster.cut[0][1] = true;
    cluster.cut[0][2] = true;
    let mut steps_with_two = 0;
    let mut moved_after = None;
    for step in 1..=100 {
        cluster.step();
        let answering = cluster.answerers(&order);
        if answering.len() > 1 {
            steps_with_two += 1;
        }
        if moved_after.is_none() && answering == vec![1] {
            moved_after = Some(step * 10);
        }
    }
    assert_eq!(steps_with_two, 0, "two nodes answered at once");
    let moved_after = moved_after.expect("the address never moved");
    assert!(moved_after <= 400, "moved after {moved_after} ms");
    assert!(!cluster.nodes[0].table.healthy() && cluster.nodes[0].table.unheard(), "{}", cluster.describe());
    cluster.cut[0][1] = false;
    cluster.cut[0][2] = false;
    cluster.run(Duration::from_millis(300));
    assert_eq!(cluster.answerers(&order), vec![0], "back with its owner: {}", cluster.describe());
    assert!(cluster.nodes[0].table.healthy());
}

/// When only the link between two members fails, a third that hears both vouches for each to the
/// other: all three keep one alive set, and the owner keeps its address.
#[test]
fn a_member_heard_by_others_stays_alive_for_a_node_that_cannot_hear_it() {
    let mut cluster = Cluster::new(3, true);
    cluster.run(Duration::from_millis(600));
    cluster.cut[0][1] = true;
    cluster.cut[1][0] = true;
    cluster.run(Duration::from_secs(1));
    let everyone: BTreeSet<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    for node in &cluster.nodes {
        assert!(node.table.healthy(), "{}", cluster.describe());
        assert_eq!(node.table.alive(), everyone, "{}", cluster.describe());
    }
    assert_eq!(cluster.answerers(&[0, 1, 2]), vec![0]);
    // The voucher dies: the other two no longer hold each other alive.
    cluster.cut[2][0] = true;
    cluster.cut[2][1] = true;
    cluster.cut[0][2] = true;
    cluster.cut[1][2] = true;
    cluster.run(Duration::from_secs(1));
    assert!(cluster.nodes.iter().all(|n| !n.table.healthy()), "everyone is alone: {}", cluster.describe());
}
