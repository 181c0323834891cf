//! Counters of the prober, for metrics: the integrator reads them into prometheus-client families.
//!
//! Decides nothing; the prober task updates them and anyone holding the `Arc` reads them.

use std::sync::atomic::{AtomicU64, Ordering};

use super::table::Rejection;
use super::wire::DecodeError;

/// Why a received datagram was dropped; also a metrics label ([`RejectReason::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// Not a heartbeat: wrong magic, version or length, or a name that is not UTF-8.
    Malformed,
    /// The tag matches no key: forged, corrupted, or another cluster's key.
    BadTag,
    /// Authenticated, but from a node that is not a member.
    UnknownSender,
    /// Send time too far from our clock.
    Stale,
    /// Not newer than the last accepted heartbeat of its sender.
    Replay,
}

impl RejectReason {
    /// Every reason, for registering metrics.
    pub const ALL: [RejectReason; 5] = [Self::Malformed, Self::BadTag, Self::UnknownSender, Self::Stale, Self::Replay];

    /// The metrics label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::BadTag => "bad_tag",
            Self::UnknownSender => "unknown_sender",
            Self::Stale => "stale",
            Self::Replay => "replay",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Malformed => 0,
            Self::BadTag => 1,
            Self::UnknownSender => 2,
            Self::Stale => 3,
            Self::Replay => 4,
        }
    }
}

impl From<&DecodeError> for RejectReason {
    fn from(err: &DecodeError) -> Self {
        match err {
            DecodeError::BadTag => Self::BadTag,
            _ => Self::Malformed,
        }
    }
}

impl From<&Rejection> for RejectReason {
    fn from(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::UnknownSender { .. } => Self::UnknownSender,
            Rejection::Stale { .. } => Self::Stale,
            Rejection::Replay { .. } => Self::Replay,
        }
    }
}

/// Counters for metrics, updated by the prober task and readable at any time.
#[derive(Debug, Default)]
pub struct Counters {
    pub(super) members_alive: AtomicU64,
    pub(super) failures_detected: AtomicU64,
    pub(super) unheard: AtomicU64,
    pub(super) heartbeats_sent: AtomicU64,
    pub(super) heartbeats_accepted: AtomicU64,
    pub(super) send_errors: AtomicU64,
    pub(super) receive_errors: AtomicU64,
    rejected: [AtomicU64; 5],
}

impl Counters {
    /// Nodes in the alive set, this node included (a gauge).
    pub fn members_alive(&self) -> u64 {
        self.members_alive.load(Ordering::Relaxed)
    }

    /// Members that went from heard to silent, since start.
    pub fn failures_detected(&self) -> u64 {
        self.failures_detected.load(Ordering::Relaxed)
    }

    /// Heartbeat datagrams sent (one per member per round), since start.
    pub fn heartbeats_sent(&self) -> u64 {
        self.heartbeats_sent.load(Ordering::Relaxed)
    }

    /// Times this node stepped down because the members it hears do not hear it, since start.
    pub fn unheard(&self) -> u64 {
        self.unheard.load(Ordering::Relaxed)
    }

    /// Heartbeats accepted by the table, since start.
    pub fn heartbeats_accepted(&self) -> u64 {
        self.heartbeats_accepted.load(Ordering::Relaxed)
    }

    /// Failed sends (e.g. no route to a member), since start.
    pub fn send_errors(&self) -> u64 {
        self.send_errors.load(Ordering::Relaxed)
    }

    /// Failed receives, since start.
    pub fn receive_errors(&self) -> u64 {
        self.receive_errors.load(Ordering::Relaxed)
    }

    /// Datagrams dropped for `reason`, since start.
    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejected.get(reason.index()).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(super) fn reject(&self, reason: RejectReason) {
        if let Some(counter) = self.rejected.get(reason.index()) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}
