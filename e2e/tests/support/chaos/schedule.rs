//! Which operations and faults a chaos run makes, and when (pure: a seed and a length decide all).
//!
//! Operations go every 250 to 700 ms: create a Service (plain, with a requested address, with a
//! sharing key, or dual-stack; in the Layer2 or the BGP pool; policy Cluster or Local; backends
//! on a random set of nodes), update one (its policy or its backends), delete one, or shrink or
//! grow a pool. Faults come one at a time, 3 to 5 s apart, each kind once before any repeats:
//! the leading controller killed, the API server (with etcd) restarted, a speaker frozen, a
//! node's link cut, two nodes that cannot hear each other's heartbeats, a node whose heartbeats
//! are lost one way, the router restarted.

use std::time::Duration;

use super::rng::Rng;

/// The lab's nodes.
pub const NODES: [&str; 3] = ["node1", "node2", "node3"];
/// Live Services (sentinels aside) at most, so that pools fill now and then but not always.
const MAX_LIVE: usize = 24;

/// The two pools of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pool {
    /// On the node segment, announced by ARP/NDP.
    L2,
    /// Announced to the router.
    Bgp,
}

impl Pool {
    /// The IPAddressPool's name.
    pub fn name(self) -> &'static str {
        match self {
            Pool::L2 => "l2",
            Pool::Bgp => "bgp",
        }
    }

    /// The pool's address ranges at a size, as written in its spec.
    pub fn ranges(self, size: PoolSize) -> [&'static str; 2] {
        match (self, size) {
            (Pool::L2, PoolSize::Full) => ["198.51.100.200-198.51.100.215", "2001:db8:1::200-2001:db8:1::20f"],
            (Pool::L2, PoolSize::Shrunk) => ["198.51.100.200-198.51.100.207", "2001:db8:1::200-2001:db8:1::207"],
            (Pool::Bgp, PoolSize::Full) => ["203.0.113.0/28", "2001:db8:100::/124"],
            (Pool::Bgp, PoolSize::Shrunk) => ["203.0.113.0/29", "2001:db8:100::/125"],
        }
    }

    /// The IPv4 address at `offset` in the full pool (for requested addresses).
    pub fn v4_at(self, offset: u8) -> String {
        match self {
            Pool::L2 => format!("198.51.100.{}", 200 + u16::from(offset % 16)),
            Pool::Bgp => format!("203.0.113.{}", offset % 16),
        }
    }

    /// The pool's manifest at `size`, with its advertisement.
    pub fn manifest(self, size: PoolSize) -> String {
        let [v4, v6] = self.ranges(size);
        let name = self.name();
        let advertisement = match self {
            Pool::L2 => "L2Advertisement",
            Pool::Bgp => "BGPAdvertisement",
        };
        format!(
            "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {{name: {name}}}\n\
             spec: {{addresses: ['{v4}', '{v6}']}}\n---\n\
             apiVersion: ferrolb.io/v1beta1\nkind: {advertisement}\nmetadata: {{name: {name}}}\n\
             spec: {{ipAddressPools: [{name}]}}\n"
        )
    }
}

/// A pool's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolSize {
    /// 16 addresses per family.
    Full,
    /// 8 addresses per family (the first half).
    Shrunk,
}

/// How a Service asks for its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Any address of its pool.
    Plain,
    /// This IPv4 address of its pool ([`Pool::v4_at`]), which another Service may hold.
    Requested(u8),
    /// Any address, shared with the Services of the same key (ports differ, policy Cluster).
    Shared(u8),
    /// One address per family.
    DualStack,
}

/// A Service as the run writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Its name, in namespace `default`.
    pub name: String,
    /// Its pool.
    pub pool: Pool,
    /// How it asks for its address.
    pub kind: Kind,
    /// `externalTrafficPolicy: Local` (else Cluster).
    pub local: bool,
    /// Nodes with a ready backend (never empty).
    pub backends: Vec<String>,
    /// Its one TCP port (unique per Service, so shared ones never clash).
    pub port: u16,
}

impl ServiceSpec {
    /// The Service's manifest.
    pub fn manifest(&self) -> String {
        let mut annotations = format!("ferrolb.io/address-pool: {}", self.pool.name());
        match &self.kind {
            Kind::Requested(offset) => {
                annotations.push_str(&format!(", ferrolb.io/loadBalancerIPs: '{}'", self.pool.v4_at(*offset)));
            }
            Kind::Shared(key) => annotations.push_str(&format!(", ferrolb.io/allow-shared-ip: key-{key}")),
            Kind::Plain | Kind::DualStack => {}
        }
        let mut spec = format!("externalTrafficPolicy: {}", if self.local { "Local" } else { "Cluster" });
        if self.kind == Kind::DualStack {
            spec.push_str(", ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]");
        }
        crate::lb_service(&self.name, self.port, &annotations, &spec)
    }
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Create or replace a Service (and its backends).
    Apply(ServiceSpec),
    /// Delete a Service.
    Delete(String),
    /// Resize a pool.
    Resize(Pool, PoolSize),
}

impl Op {
    /// A short name for the report.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Apply(_) => "apply Service",
            Op::Delete(_) => "delete Service",
            Op::Resize(_, PoolSize::Full) => "grow pool",
            Op::Resize(_, PoolSize::Shrunk) => "shrink pool",
        }
    }
}

/// One fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// kill -9 of the leading controller replica, started again at the end.
    KillLeader,
    /// The API server and etcd stopped and started again.
    RestartApiserver,
    /// SIGSTOP of a node's speaker, SIGCONT at the end.
    FreezeSpeaker(String),
    /// A node's link down, up at the end.
    CutLink(String),
    /// Two nodes drop each other's heartbeats (both still reach the clients and the third node).
    Partition(String, String),
    /// A node's outgoing heartbeats are dropped (it still hears the others, still reaches clients).
    OneWay(String),
    /// The router's BGP daemon restarted.
    RestartRouter,
}

impl Fault {
    /// A short name for the report.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::KillLeader => "kill -9 leading controller",
            Fault::RestartApiserver => "restart apiserver+etcd",
            Fault::FreezeSpeaker(_) => "SIGSTOP speaker",
            Fault::CutLink(_) => "cut node link",
            Fault::Partition(..) => "partition two nodes",
            Fault::OneWay(_) => "one-way heartbeat loss",
            Fault::RestartRouter => "restart router",
        }
    }
}

/// Something at an offset from the start of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed<T> {
    /// When.
    pub at: Duration,
    /// What.
    pub what: T,
}

/// A fault and how long it lasts (`end == start` for the instant ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    /// When it is injected.
    pub start: Duration,
    /// When it is healed.
    pub end: Duration,
    /// Which.
    pub fault: Fault,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Operations in time order.
    pub ops: Vec<Timed<Op>>,
    /// Faults in time order, never overlapping.
    pub faults: Vec<FaultWindow>,
}

/// The schedule of a run of `length` from `seed`.
pub fn schedule(seed: u64, length: Duration) -> Schedule {
    let mut rng = Rng::new(seed);
    Schedule { ops: operations(&mut rng, length), faults: faults(&mut rng, length) }
}

fn operations(rng: &mut Rng, length: Duration) -> Vec<Timed<Op>> {
    let mut ops = Vec::new();
    let mut live: Vec<ServiceSpec> = Vec::new();
    let mut sizes = [PoolSize::Full, PoolSize::Full];
    let mut at = Duration::from_secs(1);
    let mut next = 0u16;
    while at < length {
        let roll = rng.below(100);
        let op = if live.len() < 4 || (roll < 40 && live.len() < MAX_LIVE) {
            next += 1;
            let spec = new_service(rng, next);
            live.push(spec.clone());
            Op::Apply(spec)
        } else if roll < 65 {
            let index = usize::try_from(rng.below(live.len() as u64)).unwrap_or(0);
            let spec = &mut live[index];
            if matches!(spec.kind, Kind::Shared(_)) || rng.chance(50) {
                spec.backends = backends(rng);
            } else {
                spec.local = !spec.local;
            }
            Op::Apply(spec.clone())
        } else if roll < 90 {
            let index = usize::try_from(rng.below(live.len() as u64)).unwrap_or(0);
            Op::Delete(live.swap_remove(index).name)
        } else {
            let which = usize::try_from(rng.below(2)).unwrap_or(0);
            sizes[which] = if sizes[which] == PoolSize::Full { PoolSize::Shrunk } else { PoolSize::Full };
            Op::Resize([Pool::L2, Pool::Bgp][which], sizes[which])
        };
        ops.push(Timed { at, what: op });
        at += Duration::from_millis(rng.between(250, 700));
    }
    // Pools end full, so that after settling every Service has room to be judged by.
    for (which, size) in sizes.iter().enumerate() {
        if *size == PoolSize::Shrunk {
            ops.push(Timed { at, what: Op::Resize([Pool::L2, Pool::Bgp][which], PoolSize::Full) });
        }
    }
    ops
}

fn new_service(rng: &mut Rng, n: u16) -> ServiceSpec {
    let pool = if rng.chance(50) { Pool::L2 } else { Pool::Bgp };
    let kind = match rng.below(4) {
        0 => Kind::Plain,
        1 => Kind::Requested(u8::try_from(rng.below(16)).unwrap_or(0)),
        2 => Kind::Shared(u8::try_from(rng.below(3)).unwrap_or(0)),
        _ => Kind::DualStack,
    };
    let local = !matches!(kind, Kind::Shared(_)) && rng.chance(40);
    ServiceSpec { name: format!("svc-{n}"), pool, kind, local, backends: backends(rng), port: 8000 + n }
}

/// A random non-empty set of nodes.
fn backends(rng: &mut Rng) -> Vec<String> {
    let mask = rng.between(1, 7);
    NODES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| (*n).to_owned()).collect()
}

fn faults(rng: &mut Rng, length: Duration) -> Vec<FaultWindow> {
    let mut out = Vec::new();
    let mut at = Duration::from_secs(3);
    let mut deck: Vec<u64> = Vec::new();
    loop {
        if deck.is_empty() {
            deck = (0..7).collect();
            // Fisher-Yates: every kind once per round, in a seeded order.
            for i in (1..deck.len()).rev() {
                let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
                deck.swap(i, j);
            }
        }
        let node = |rng: &mut Rng| NODES[usize::try_from(rng.below(3)).unwrap_or(0)].to_owned();
        let kind = deck.pop().unwrap_or(0);
        let fault = match kind {
            0 => Fault::KillLeader,
            1 => Fault::RestartApiserver,
            2 => Fault::FreezeSpeaker(node(rng)),
            3 => Fault::CutLink(node(rng)),
            4 => {
                let a = usize::try_from(rng.below(3)).unwrap_or(0);
                let b = (a + 1 + usize::try_from(rng.below(2)).unwrap_or(0)) % 3;
                Fault::Partition(NODES[a].to_owned(), NODES[b].to_owned())
            }
            5 => Fault::OneWay(node(rng)),
            _ => Fault::RestartRouter,
        };
        let instant = matches!(fault, Fault::RestartApiserver | Fault::RestartRouter);
        let lasts = if instant { Duration::ZERO } else { Duration::from_millis(rng.between(2000, 5000)) };
        let end = at + lasts;
        if end + Duration::from_secs(3) > length {
            break;
        }
        out.push(FaultWindow { start: at, end, fault });
        at = end + Duration::from_millis(rng.between(3000, 5000));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::{Fault, Kind, Op, PoolSize, schedule};

    #[test]
    fn a_seed_reproduces_its_schedule_and_every_fault_kind_comes_in_a_minute() {
        let minute = Duration::from_secs(60);
        assert_eq!(schedule(42, minute), schedule(42, minute));
        assert_ne!(schedule(42, minute), schedule(43, minute));
        for seed in 0..20 {
            let s = schedule(seed, minute);
            let kinds: BTreeSet<&str> = s.faults.iter().map(|f| f.fault.kind()).collect();
            assert_eq!(kinds.len(), 7, "seed {seed}: {kinds:?}");
            for pair in s.faults.windows(2) {
                assert!(pair[0].end < pair[1].start, "faults never overlap: {pair:?}");
            }
            assert!(s.faults.iter().all(|f| f.end + Duration::from_secs(3) <= minute));
            for f in &s.faults {
                if let Fault::Partition(a, b) = &f.fault {
                    assert_ne!(a, b);
                }
            }
            let ops: BTreeSet<&str> = s.ops.iter().map(|o| o.what.kind()).collect();
            assert!(ops.len() >= 4, "seed {seed}: {ops:?}");
            let kinds: BTreeSet<String> = s
                .ops
                .iter()
                .filter_map(|o| match &o.what {
                    Op::Apply(spec) => Some(format!("{:?}", std::mem::discriminant(&spec.kind))),
                    _ => None,
                })
                .collect();
            assert_eq!(kinds.len(), 4, "every kind of Service: {kinds:?}");
            let last_sizes: Vec<_> = s
                .ops
                .iter()
                .rev()
                .filter_map(|o| match o.what {
                    Op::Resize(pool, size) => Some((pool, size)),
                    _ => None,
                })
                .collect();
            for pool in [super::Pool::L2, super::Pool::Bgp] {
                if let Some((_, size)) = last_sizes.iter().find(|(p, _)| *p == pool) {
                    assert_eq!(*size, PoolSize::Full, "seed {seed}: pools end full");
                }
            }
        }
    }

    #[test]
    fn manifests_say_what_the_spec_says() {
        let spec = super::ServiceSpec {
            name: "svc-1".into(),
            pool: super::Pool::Bgp,
            kind: Kind::Requested(3),
            local: true,
            backends: vec!["node1".into()],
            port: 8001,
        };
        let m = spec.manifest();
        assert!(
            m.contains("ferrolb.io/address-pool: bgp") && m.contains("ferrolb.io/loadBalancerIPs: '203.0.113.3'"),
            "{m}"
        );
        assert!(m.contains("externalTrafficPolicy: Local") && m.contains("port: 8001"), "{m}");
    }
}
