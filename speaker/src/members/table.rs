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

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::wire::{BootId, Heartbeat, Standing};

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
    /// This node's own health changed (`false`: isolated, must step down).
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Liveness {
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
}

#[derive(Clone, Debug)]
struct Peer {
    liveness: Liveness,
    last: Option<Last>,
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
}

impl Table {
    /// An empty table for node `me`, healthy, with no other members.
    pub fn new(me: impl Into<String>, config: TableConfig, now: Instant) -> Self {
        Self { me: me.into(), config, peers: BTreeMap::new(), link_up: true, healthy: true, silence_since: now }
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
            self.peers.entry(name).or_insert(Peer { liveness: Liveness::Unheard, last: None });
        }
        if !could_isolate_before && self.peers.len() >= 2 {
            self.silence_since = self.silence_since.max(now);
        }
        changes.extend(self.evaluate_health(now));
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
        peer.last = Some(Last { boot: beat.boot, seq: beat.seq, sent_at_ms: beat.sent_at_ms, heard_at: now });
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
        changes.extend(self.evaluate_health(now));
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
        changes.extend(self.evaluate_health(now));
        changes
    }

    /// Records whether this node's link on the node network is up; while it is down, this node is
    /// unhealthy.
    pub fn set_link_up(&mut self, up: bool, now: Instant) -> Vec<Change> {
        self.link_up = up;
        self.evaluate_health(now).into_iter().collect()
    }

    /// The alive members, this node included (whatever its health: see [`Table::healthy`]).
    pub fn alive(&self) -> BTreeSet<String> {
        let peers = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.liveness, Liveness::Alive | Liveness::Restarting))
            .map(|(n, _)| n.clone());
        std::iter::once(self.me.clone()).chain(peers).collect()
    }

    /// Whether this node may take part (false: isolated or link down, must step down), as of the
    /// last call that took a `now`.
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
        deaths.chain(isolation).min()
    }

    /// Whether silence can mean this node is cut off: at least two other members that could be
    /// heard (a restarting one is silent on purpose).
    fn could_isolate(&self) -> bool {
        self.peers.values().filter(|p| p.liveness != Liveness::Restarting).count() >= 2
    }

    fn evaluate_health(&mut self, now: Instant) -> Option<Change> {
        let silent =
            self.could_isolate() && now.saturating_duration_since(self.silence_since) >= self.config.suspect_after;
        let healthy = self.link_up && !silent;
        (healthy != self.healthy).then(|| {
            self.healthy = healthy;
            Change::Healthy(healthy)
        })
    }
}
