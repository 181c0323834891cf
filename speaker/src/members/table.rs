//! Who is alive, and whether this node itself is healthy (pure: time comes in as arguments).
//!
//! Decides, from authenticated heartbeats and the passage of time, which configured members are
//! alive, which have stepped down, which are dead, and whether this node must step down. It does not
//! authenticate datagrams ([`super::wire`] does) nor send or receive anything ([`super::prober`]).
//!
//! Rules:
//! - A member is alive from the first heartbeat accepted from it until `suspect_after` of silence
//!   (dead at exactly `last heard + suspect_after`). A member never heard is not alive.
//! - A heartbeat flagged "stepping down" keeps the member heard but out of the alive set: it has
//!   found itself isolated and must not be chosen as an owner. One flagged "leaving" does the same
//!   for a planned departure (its speaker stops, or its Node is excluded); when a leaving member
//!   then falls silent it has departed, which is not counted as a failure.
//! - A heartbeat flagged "restarting" keeps the member alive, silent, for `restart_window` instead
//!   of `suspect_after`: its process restarts on a node that keeps forwarding, so its addresses stay
//!   with it rather than moving away and back. A heartbeat from its next boot makes it a plain member
//!   again; if none comes within the window, it is dead (a failure). A restarting member does not
//!   count towards this node's isolation (at least two other members that could be heard).
//! - Replays: per member we keep its boot id, highest sequence number and send time. A heartbeat is
//!   refused when its send time is more than `freshness_window` away from our clock (whatever its
//!   boot), when it repeats or goes back on a sequence number of the current boot, or when it
//!   brings another boot id but is not newer than the last accepted heartbeat. So a recorded
//!   datagram, replayed later, cannot revive a dead member; a datagram an on-path attacker held
//!   back can do so for at most `freshness_window` after it was sent. The freshness check costs a
//!   requirement: node clocks must agree within `freshness_window` (default 5 s), which NTP gives.
//!   Checking freshness on every heartbeat (not only on a new boot) is what bounds held-back ones.
//! - This node is unhealthy (isolated, must step down) when its node-network link is reported
//!   down, or when it has accepted no heartbeat from any member for `suspect_after` while at least
//!   two other members are configured. With a single other member, silence cannot tell "the peer
//!   died" from "I am cut off", so this node stays healthy: stepping down would leave the address
//!   with no owner whenever the peer really died. The link-down report still applies.
//! - When the member list grows to two or more others, the silence clock starts at that moment, so
//!   a starting speaker is not declared isolated before it could hear anyone.
//! - News: every heartbeat carries a report of the freshest news its sender has of each member (one
//!   of that member's heartbeats, heard directly or reported by another member): how old it is and
//!   whether it said the member may own addresses (see [`super::wire`]). Ages only grow, with time
//!   and by at least a millisecond per relay, so news of a dead member dies out everywhere at most
//!   `suspect_after` after its last heartbeat (plus one interval per relay).
//! - Unheard: this node is unhealthy when every member it hears, whose report it holds and whose
//!   current boot it has heard for at least `suspect_after` (time enough to have heard us), has no
//!   news of this node younger than `suspect_after`. That is the one-way partition: our heartbeats
//!   are lost while we still hear the others (and still reach the clients). The others find us dead
//!   and take our addresses over; without this rule we would keep answering too. A member whose
//!   report we do not hold (it runs an older version, or its member list differs from ours) counts
//!   as hearing us, and nobody is judged unheard in the table's first `suspect_after`.
//! - Vouched: a member this node does not hear (never heard, or silent for `suspect_after`) is still
//!   alive here while the freshest news of it that reports bring is younger than `suspect_after` and
//!   says it may own addresses. So when some links fail, every node that some chain of heard links
//!   reaches keeps the same alive set, and the nodes rank addresses alike instead of each taking
//!   the others'.
//! - What these rules do not cover: a split of the members into two groups of two or more where no
//!   heartbeat crosses from one group to the other in at least one direction, while both still reach
//!   the clients.
//!   Each group is healthy and elects its own owners. Preventing it takes a quorum, which turns the
//!   loss of half the nodes (or of the nodes without speakers, which are members too) into an outage;
//!   FerroLB chooses availability there, as memberlist does. docs/layer2.md says so.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::wire::{BootId, Entry, Heartbeat, Report, Standing, roster_digest};

/// What each relay adds to the age of news it passes on, on top of rounding up: the time in flight.
const RELAY_AGE: Duration = Duration::from_millis(1);

/// Timing of the failure detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableConfig {
    /// Silence after which a member is dead, and after which this node, hearing nobody, is isolated.
    pub suspect_after: Duration,
    /// Largest accepted difference between a heartbeat's send time and our clock.
    pub freshness_window: Duration,
    /// How long a member that announced its restart stays alive without a heartbeat (the speaker's
    /// `--layer2-restart-window`; by default no longer than any other member).
    pub restart_window: Duration,
}

impl Default for TableConfig {
    fn default() -> Self {
        Self {
            suspect_after: Duration::from_millis(300),
            freshness_window: Duration::from_secs(5),
            restart_window: Duration::from_millis(300),
        }
    }
}

/// A change in what the table answers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// The member entered the alive set.
    Alive(String),
    /// The member announced it is isolated and left the alive set; it is still heard.
    SteppedDown(String),
    /// The member announced a planned departure and left the alive set; it is still heard.
    Leaving(String),
    /// The member announced that its process restarts; it stays alive for the restart window.
    Restarting(String),
    /// The member fell silent for `suspect_after` (it was alive or stepping down): a failure.
    Dead(String),
    /// The member fell silent for `suspect_after` after announcing its departure: not a failure.
    Departed(String),
    /// The member was alive or stepping down and was removed from the member list.
    Removed(String),
    /// This node does not hear the member, but a member it holds alive does: alive here too.
    Vouched(String),
    /// The member is no longer vouched for (nor heard): it left the alive set.
    Unvouched(String),
    /// This node's own health changed (`false`: isolated or unheard, must step down).
    Healthy(bool),
}

/// Why an authenticated heartbeat was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The sender is not a configured member (or claims to be this node).
    #[error("heartbeat from {node}, which is not a member")]
    UnknownSender {
        /// The name the heartbeat carries.
        node: String,
    },
    /// The send time is too far from our clock: an old datagram replayed, or clocks out of step.
    #[error("heartbeat from {node} was sent {skew_ms} ms away from our clock")]
    Stale {
        /// The sender.
        node: String,
        /// Distance between its send time and our clock.
        skew_ms: u64,
    },
    /// Not newer than what was already accepted from this member.
    #[error("heartbeat from {node} is not newer than the last one accepted (replay)")]
    Replay {
        /// The sender.
        node: String,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Liveness {
    #[default]
    Unheard,
    Alive,
    SteppingDown,
    Leaving,
    Restarting,
    Dead,
}

impl Liveness {
    /// Heard from and not yet silent for its allowed silence.
    fn heard(self) -> bool {
        matches!(self, Liveness::Alive | Liveness::SteppingDown | Liveness::Leaving | Liveness::Restarting)
    }

    /// Heard and holding itself available for ownership.
    fn alive(self) -> bool {
        matches!(self, Liveness::Alive | Liveness::Restarting)
    }

    /// The silence after which a member in this state is dead (or departed).
    fn silence(self, config: &TableConfig) -> Duration {
        if self == Liveness::Restarting { config.restart_window } else { config.suspect_after }
    }
}

/// The newest accepted heartbeat of a member.
#[derive(Clone, Copy, Debug)]
struct Last {
    boot: BootId,
    seq: u64,
    sent_at_ms: u64,
    heard_at: Instant,
    /// Whether it said it may own addresses (a member, or restarting).
    alive: bool,
}

/// News of a member carried by a report: when it was fresh, by our clock, and whether it said alive.
type News = Option<(Instant, bool)>;

/// One entry of a peer's report, read against our clock.
#[derive(Clone, Copy, Debug)]
struct Reported {
    news: News,
    /// The peer holds the member alive.
    held: bool,
}

#[derive(Clone, Debug, Default)]
struct Peer {
    liveness: Liveness,
    last: Option<Last>,
    /// When its current boot was first heard.
    boot_since: Option<Instant>,
    /// Whether its last heartbeat said it reads reports (true until heard otherwise).
    reads_reports: bool,
    /// From its last report, if it indexes our roster: what it says of every roster member (empty:
    /// no report).
    news: Vec<Reported>,
}

/// Membership state of one node: the configured members, what was heard from them, and this
/// node's own health.
#[derive(Clone, Debug)]
pub struct Table {
    me: String,
    config: TableConfig,
    peers: BTreeMap<String, Peer>,
    link_up: bool,
    healthy: bool,
    /// When we last accepted a heartbeat from anyone (or when isolation could first be judged).
    silence_since: Instant,
    /// Whether every member we hear reports not hearing us (see the module docs).
    unheard: bool,
    /// When this table was made: nobody is judged unheard in its first `suspect_after`.
    started: Instant,
    /// Every member's name, this node included, sorted: what report bitmaps index.
    roster: Vec<String>,
    /// [`roster_digest`] of `roster`.
    digest: u64,
    /// Members not heard here but reached by the news reports bring: until when, and whether that
    /// news says they may own addresses (then they are vouched for: alive here).
    reached: BTreeMap<String, (Instant, bool)>,
}

impl Table {
    /// An empty table for node `me`, healthy, with no other members.
    pub fn new(me: impl Into<String>, config: TableConfig, now: Instant) -> Self {
        let me = me.into();
        let roster = vec![me.clone()];
        let digest = roster_digest(roster.iter().map(String::as_str));
        Self {
            me,
            config,
            peers: BTreeMap::new(),
            link_up: true,
            healthy: true,
            silence_since: now,
            unheard: false,
            started: now,
            roster,
            digest,
            reached: BTreeMap::new(),
        }
    }

    /// This node's name.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// The timing this table runs with.
    pub fn config(&self) -> TableConfig {
        self.config
    }

    /// Replaces the member list. This node's own name may be included; it is ignored. Members kept
    /// keep their state; new ones are unheard until their first heartbeat.
    pub fn set_members<N: Into<String>>(&mut self, names: impl IntoIterator<Item = N>, now: Instant) -> Vec<Change> {
        let wanted: BTreeSet<String> = names.into_iter().map(Into::into).filter(|n| *n != self.me).collect();
        let could_isolate_before = self.peers.len() >= 2;
        let mut changes = Vec::new();
        self.peers.retain(|name, peer| {
            let keep = wanted.contains(name);
            if !keep && peer.liveness.heard() {
                changes.push(Change::Removed(name.clone()));
            }
            keep
        });
        for name in wanted {
            self.peers.entry(name).or_insert_with(|| Peer { reads_reports: true, ..Peer::default() });
        }
        if !could_isolate_before && self.peers.len() >= 2 {
            self.silence_since = self.silence_since.max(now);
        }
        let roster: Vec<String> = self
            .peers
            .keys()
            .cloned()
            .chain(std::iter::once(self.me.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if roster != self.roster {
            // Reports index the roster: the ones held describe the old one.
            self.digest = roster_digest(roster.iter().map(String::as_str));
            self.roster = roster;
            for peer in self.peers.values_mut() {
                peer.news.clear();
            }
        }
        changes.extend(self.settle(now));
        changes
    }

    /// Takes in an authenticated heartbeat received at `now`, our clock reading `wall_ms` (Unix ms).
    pub fn on_heartbeat(&mut self, beat: &Heartbeat, now: Instant, wall_ms: u64) -> Result<Vec<Change>, Rejection> {
        let window_ms = u64::try_from(self.config.freshness_window.as_millis()).unwrap_or(u64::MAX);
        let Some(peer) = self.peers.get_mut(&beat.node) else {
            return Err(Rejection::UnknownSender { node: beat.node.clone() });
        };
        let skew_ms = beat.sent_at_ms.abs_diff(wall_ms);
        if skew_ms > window_ms {
            return Err(Rejection::Stale { node: beat.node.clone(), skew_ms });
        }
        if let Some(last) = peer.last {
            let newer = if last.boot == beat.boot { beat.seq > last.seq } else { beat.sent_at_ms > last.sent_at_ms };
            if !newer {
                return Err(Rejection::Replay { node: beat.node.clone() });
            }
        }
        if peer.last.is_none_or(|l| l.boot != beat.boot) {
            peer.boot_since = Some(now);
        }
        let alive = matches!(beat.standing, Standing::Member | Standing::Restarting);
        peer.last = Some(Last { boot: beat.boot, seq: beat.seq, sent_at_ms: beat.sent_at_ms, heard_at: now, alive });
        peer.reads_reports = beat.reads_reports;
        peer.news = read_report(beat.report.as_ref(), self.digest, self.roster.len(), now);
        let before = peer.liveness;
        peer.liveness = match beat.standing {
            Standing::Member => Liveness::Alive,
            Standing::SteppingDown => Liveness::SteppingDown,
            Standing::Leaving => Liveness::Leaving,
            Standing::Restarting => Liveness::Restarting,
        };
        let mut changes = Vec::new();
        match (before, peer.liveness) {
            (Liveness::Alive, Liveness::SteppingDown) => changes.push(Change::SteppedDown(beat.node.clone())),
            (Liveness::Alive | Liveness::SteppingDown, Liveness::Leaving) => {
                changes.push(Change::Leaving(beat.node.clone()));
            }
            (b, Liveness::Restarting) if b != Liveness::Restarting => {
                changes.push(Change::Restarting(beat.node.clone()));
            }
            (b, Liveness::Alive) if b != Liveness::Alive => changes.push(Change::Alive(beat.node.clone())),
            _ => {}
        }
        self.silence_since = self.silence_since.max(now);
        changes.extend(self.settle(now));
        Ok(changes)
    }

    /// Lets time pass: members silent for `suspect_after` die, and this node's health is judged.
    pub fn tick(&mut self, now: Instant) -> Vec<Change> {
        let config = self.config;
        let mut changes = Vec::new();
        for (name, peer) in &mut self.peers {
            let silence = peer.liveness.silence(&config);
            let silent = peer.last.is_some_and(|l| now.saturating_duration_since(l.heard_at) >= silence);
            if peer.liveness.heard() && silent {
                let planned = peer.liveness == Liveness::Leaving;
                peer.liveness = Liveness::Dead;
                changes.push(if planned { Change::Departed(name.clone()) } else { Change::Dead(name.clone()) });
            }
        }
        changes.extend(self.settle(now));
        changes
    }

    /// Records whether this node's link on the node network is up; while it is down, this node is
    /// unhealthy.
    pub fn set_link_up(&mut self, up: bool, now: Instant) -> Vec<Change> {
        self.link_up = up;
        self.evaluate_health(now).into_iter().collect()
    }

    /// The alive members, this node included (whatever its health: see [`Table::healthy`]): those
    /// heard and alive, and those vouched for.
    pub fn alive(&self) -> BTreeSet<String> {
        let peers = self.peers.iter().filter(|(_, p)| p.liveness.alive()).map(|(n, _)| n.clone());
        let vouched = self.reached.iter().filter(|(_, (_, alive))| *alive).map(|(n, _)| n.clone());
        std::iter::once(self.me.clone()).chain(peers).chain(vouched).collect()
    }

    /// The members heard lately, whatever they said of themselves (alive, stepping down, leaving,
    /// restarting), this node included: the speakers that are running, whether or not they may own
    /// addresses (the stray relay's peers).
    pub fn heard(&self) -> BTreeSet<String> {
        let peers = self.peers.iter().filter(|(_, p)| p.liveness.heard()).map(|(n, _)| n.clone());
        std::iter::once(self.me.clone()).chain(peers).collect()
    }

    /// Whether every member this node hears reports not hearing it (one reason to be unhealthy).
    pub fn unheard(&self) -> bool {
        self.unheard
    }

    /// Whether `name`'s heartbeats may be sent in version 2 (it reads reports, or was never heard).
    pub fn reads_reports(&self, name: &str) -> bool {
        self.peers.get(name).is_none_or(|p| p.reads_reports)
    }

    /// This node's report at `now`, for its next heartbeats: its freshest news of every member.
    pub fn report(&self, now: Instant) -> Report {
        let entries = self
            .roster
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let Some(peer) = self.peers.get(name) else {
                    return Entry::new(Some(Duration::ZERO), self.healthy, self.healthy);
                };
                if peer.liveness == Liveness::Restarting {
                    // Alive for as long as we hold it so, silent or not.
                    return Entry::new(Some(Duration::ZERO), true, true);
                }
                // Held: it would be alive here if it said it may own addresses.
                let held = peer.liveness.heard() || self.reached.contains_key(name);
                let direct = peer.last.map(|l| (l.heard_at, l.alive));
                match self.freshest(index, direct) {
                    Some((at, alive)) => Entry::new(Some(now.saturating_duration_since(at) + RELAY_AGE), alive, held),
                    None => Entry::new(None, false, held),
                }
            })
            .collect();
        Report { roster: self.digest, entries }
    }

    /// The freshest of `direct` and the news of roster member `index` in the reports of the members
    /// heard.
    fn freshest(&self, index: usize, direct: News) -> News {
        self.peers
            .values()
            .filter(|reporter| reporter.liveness.heard())
            .filter_map(|reporter| reporter.news.get(index).and_then(|r| r.news))
            .chain(direct)
            .max()
    }

    /// Whether this node may take part (false: isolated, unheard or link down, must step down), as of
    /// the last call that took a `now`.
    pub fn healthy(&self) -> bool {
        self.healthy
    }

    /// Whether `name` is a configured member other than this node.
    pub fn is_member(&self, name: &str) -> bool {
        self.peers.contains_key(name)
    }

    /// The configured members other than this node.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.peers.keys().map(String::as_str)
    }

    /// The earliest instant at which [`Table::tick`] may report something, if any: the I/O edge
    /// sleeps until then, so a death is seen at `suspect_after`, not at the next periodic tick.
    pub fn next_deadline(&self) -> Option<Instant> {
        let config = self.config;
        let deaths = self
            .peers
            .values()
            .filter(|p| p.liveness.heard())
            .filter_map(|p| p.last.and_then(|l| l.heard_at.checked_add(p.liveness.silence(&config))));
        let isolation = (self.healthy && self.link_up && self.could_isolate())
            .then(|| self.silence_since.checked_add(config.suspect_after))
            .flatten();
        deaths.chain(isolation).chain(self.reached.values().map(|(until, _)| *until)).min()
    }

    /// Whether silence can mean this node is cut off: at least two other members that could be
    /// heard (a restarting one is silent on purpose).
    fn could_isolate(&self) -> bool {
        self.peers.values().filter(|p| p.liveness != Liveness::Restarting).count() >= 2
    }

    /// Re-judges what follows from the heartbeats held: vouched members, then this node's health.
    fn settle(&mut self, now: Instant) -> Vec<Change> {
        let mut changes = self.evaluate_vouched(now);
        changes.extend(self.evaluate_health(now));
        changes
    }

    fn evaluate_vouched(&mut self, now: Instant) -> Vec<Change> {
        let wait = self.config.suspect_after;
        // Hysteresis: news relayed along a chain of members ages by up to an interval per relay, so
        // a member reached stays so until its news is twice `suspect_after` old; it is reached only
        // with news younger than `suspect_after`, which a member that just died leaves nobody
        // (their last news of it is as old as ours).
        let window = |name: &String| if self.reached.contains_key(name) { wait * 2 } else { wait };
        let reached: BTreeMap<String, (Instant, bool)> = self
            .roster
            .iter()
            .enumerate()
            .filter(|(_, name)| {
                self.peers.get(*name).is_some_and(|p| matches!(p.liveness, Liveness::Unheard | Liveness::Dead))
            })
            .filter_map(|(index, name)| {
                let (at, alive) = self.freshest(index, None)?;
                let until = at.checked_add(window(name)).filter(|&until| until > now)?;
                Some((name.clone(), (until, alive)))
            })
            .collect();
        let vouched = |map: &BTreeMap<String, (Instant, bool)>, name: &String| map.get(name).is_some_and(|(_, a)| *a);
        let mut changes: Vec<Change> = reached
            .keys()
            .filter(|n| vouched(&reached, n) && !vouched(&self.reached, n))
            .map(|n| Change::Vouched(n.clone()))
            .collect();
        changes.extend(
            self.reached
                .keys()
                .filter(|n| vouched(&self.reached, n) && !vouched(&reached, n))
                .map(|n| Change::Unvouched(n.clone())),
        );
        self.reached = reached;
        changes
    }

    /// Whether every member heard, whose report counts, says it does not hear this node.
    fn judge_unheard(&self, now: Instant) -> bool {
        let wait = self.config.suspect_after;
        if now.saturating_duration_since(self.started) < wait {
            return false;
        }
        let mut counted = self.peers.values().filter(|p| {
            p.liveness.heard()
                && p.liveness != Liveness::Restarting
                && p.boot_since.is_some_and(|since| now.saturating_duration_since(since) >= wait)
        });
        let me = self.roster.iter().position(|name| *name == self.me);
        let mut any = false;
        let all_deaf = counted.all(|p| {
            any = true;
            // No report (an older speaker, or another roster) counts as hearing us.
            me.and_then(|i| p.news.get(i)).is_some_and(|reported| !reported.held)
        });
        any && all_deaf
    }

    fn evaluate_health(&mut self, now: Instant) -> Option<Change> {
        let silent =
            self.could_isolate() && now.saturating_duration_since(self.silence_since) >= self.config.suspect_after;
        self.unheard = self.judge_unheard(now);
        let healthy = self.link_up && !silent && !self.unheard;
        (healthy != self.healthy).then(|| {
            self.healthy = healthy;
            Change::Healthy(healthy)
        })
    }
}

/// A report's news by roster index, as instants of our clock: an entry `age` old, received at `now`,
/// was fresh at `now - age`. Empty when the report is missing or indexes another roster.
fn read_report(report: Option<&Report>, digest: u64, members: usize, now: Instant) -> Vec<Reported> {
    let Some(report) = report.filter(|r| r.roster == digest && r.entries.len() == members) else {
        return Vec::new();
    };
    report
        .entries
        .iter()
        .map(|entry| Reported {
            news: entry.age().and_then(|age| now.checked_sub(age)).map(|at| (at, entry.alive)),
            held: entry.held,
        })
        .collect()
}
