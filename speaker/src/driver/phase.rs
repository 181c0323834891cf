//! The speaker's phases, and what each one lets it do: a pure state machine, so that start-up
//! order is read in one place instead of from a dozen flags.
//!
//! ```text
//!   Starting --every watch listed--> Running --member prober started--> Quiet{until}
//!                                       ^                                  |
//!                                       +-------- the view settled --------+
//!   Running --leave (SIGTERM)--> Leaving{until} --every address handed over, or until--> Stopping
//!   Starting, Quiet --leave--> Stopping
//!   any phase --shutdown--> Stopping
//! ```
//!
//! A speaker asked to stop while it answers leaves: it takes itself out of every ranking, tells the
//! other speakers at once, and keeps answering each address it owned until the new owner has
//! announced it ([`crate::layer2::release`]), for at most [`LEAVE_BOUND`].
//!
//! A speaker decides nothing until every watch has listed once: a half-listed cluster would make
//! it withdraw what it should announce. A speaker whose member prober has just started has heard
//! no other speaker yet and would think itself alone, so for [`HOLD`] it decides (BGP follows its
//! decisions, since a BGP route from every eligible node is never wrong) but answers no ARP/NDP
//! and writes no status.

use std::time::{Duration, Instant};

use crate::layer2::release::HANDOFF_BOUND;

/// How long a starting prober listens before this node announces anything in Layer2: longer than
/// the silence after which a member is dead (300 ms), so the view is settled by then.
pub const HOLD: Duration = Duration::from_millis(600);

/// The longest a leaving speaker keeps going: each handoff ends by [`HANDOFF_BOUND`], this is the
/// backstop, so that SIGTERM to exit stays well under the 3 s before SIGKILL (lab) and the chart's
/// terminationGracePeriodSeconds (5 s).
pub const LEAVE_BOUND: Duration = HANDOFF_BOUND.saturating_add(Duration::from_millis(200));

/// Where the speaker is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for every watch to list once; nothing is decided.
    Starting,
    /// The member view is settling: decisions are made and BGP follows them, but no address is
    /// answered for in Layer2 and no status is written, until `until`.
    Quiet {
        /// When the view is taken as settled.
        until: Instant,
    },
    /// Deciding and announcing.
    Running,
    /// Asked to stop while answering: out of every ranking, answering only the addresses still
    /// being handed over, until they all are or until `until`.
    Leaving {
        /// When it stops whatever is left.
        until: Instant,
    },
    /// Asked to stop: answering for nothing.
    Stopping,
}

/// What happens to the speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Every watch has listed once.
    Listed,
    /// The member prober started at `now`.
    ProberStarted {
        /// When.
        now: Instant,
    },
    /// The time is `now` (the settling deadline may have passed).
    Tick {
        /// When.
        now: Instant,
    },
    /// SIGTERM at `now`: hand the addresses over, then stop.
    Leave {
        /// When.
        now: Instant,
    },
    /// No address is being handed over any more.
    Released,
    /// Stop at once (the watches ended).
    Shutdown,
}

impl Phase {
    /// The phase after `input`.
    #[must_use]
    pub fn next(self, input: Input) -> Phase {
        match (self, input) {
            (Phase::Stopping, _) | (_, Input::Shutdown) => Phase::Stopping,
            (Phase::Running, Input::Leave { now }) => Phase::Leaving { until: now + LEAVE_BOUND },
            (Phase::Starting | Phase::Quiet { .. }, Input::Leave { .. }) => Phase::Stopping,
            (Phase::Leaving { .. }, Input::Released) => Phase::Stopping,
            (Phase::Leaving { until }, Input::Tick { now }) if now >= until => Phase::Stopping,
            (phase @ Phase::Leaving { .. }, _) => phase,
            (Phase::Starting, Input::Listed) => Phase::Running,
            // The prober starts only from a decision pass, so never while Starting.
            (Phase::Starting, _) => Phase::Starting,
            (Phase::Running | Phase::Quiet { .. }, Input::ProberStarted { now }) => Phase::Quiet { until: now + HOLD },
            (Phase::Quiet { until }, Input::Tick { now }) if now >= until => Phase::Running,
            (phase, Input::Listed | Input::Tick { .. } | Input::Released) => phase,
        }
    }

    /// Whether the announcer is asked (and BGP follows its answer).
    pub fn decides(self) -> bool {
        matches!(self, Phase::Quiet { .. } | Phase::Running | Phase::Leaving { .. })
    }

    /// Whether this node answers ARP/NDP for the addresses it owns (while leaving: owns none, and
    /// answers those still being handed over).
    pub fn answers_layer2(self) -> bool {
        matches!(self, Phase::Running | Phase::Leaving { .. })
    }

    /// Whether status objects and the announced metric follow the decisions.
    pub fn reports(self) -> bool {
        matches!(self, Phase::Running | Phase::Leaving { .. })
    }

    /// Whether this node takes itself out of every Layer2 ranking.
    pub fn leaving(self) -> bool {
        matches!(self, Phase::Leaving { .. } | Phase::Stopping)
    }

    /// When the speaker must be told the time ([`Input::Tick`]), if ever.
    pub fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Quiet { until } | Phase::Leaving { until } => Some(until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn a_speaker_decides_nothing_until_every_watch_has_listed() {
        let t0 = Instant::now();
        let phase = Phase::Starting.next(Input::Tick { now: at(t0, 10_000) });
        assert_eq!(phase, Phase::Starting);
        assert!(!phase.decides());
        assert!(!phase.answers_layer2());
        assert_eq!(phase.next(Input::Listed), Phase::Running);
    }

    #[test]
    fn a_started_prober_keeps_layer2_quiet_for_the_hold_then_announces() {
        let t0 = Instant::now();
        let quiet = Phase::Starting.next(Input::Listed).next(Input::ProberStarted { now: t0 });
        assert_eq!(quiet, Phase::Quiet { until: at(t0, 600) });
        assert!(quiet.decides(), "BGP follows decisions while the view settles");
        assert!(!quiet.answers_layer2());
        assert!(!quiet.reports());
        assert_eq!(quiet.deadline(), Some(at(t0, 600)));
        assert_eq!(quiet.next(Input::Tick { now: at(t0, 599) }), quiet);
        let running = quiet.next(Input::Tick { now: at(t0, 600) });
        assert_eq!(running, Phase::Running);
        assert!(running.answers_layer2() && running.reports());
        assert_eq!(running.deadline(), None);
    }

    #[test]
    fn member_keys_that_arrive_late_still_hold_layer2_back_while_the_view_settles() {
        let t0 = Instant::now();
        let phase = Phase::Running.next(Input::ProberStarted { now: at(t0, 5_000) });
        assert_eq!(phase, Phase::Quiet { until: at(t0, 5_600) });
    }

    #[test]
    fn a_prober_cannot_start_before_the_watches_listed() {
        let t0 = Instant::now();
        assert_eq!(Phase::Starting.next(Input::ProberStarted { now: t0 }), Phase::Starting);
    }

    #[test]
    fn shutdown_wins_from_every_phase_and_is_final() {
        let t0 = Instant::now();
        for phase in [Phase::Starting, Phase::Quiet { until: t0 }, Phase::Running, Phase::Stopping] {
            let stopped = phase.next(Input::Shutdown);
            assert_eq!(stopped, Phase::Stopping);
            for input in [Input::Listed, Input::ProberStarted { now: t0 }, Input::Tick { now: at(t0, 1_000) }] {
                assert_eq!(stopped.next(input), Phase::Stopping);
            }
            assert!(!stopped.decides() && !stopped.answers_layer2() && !stopped.reports());
        }
    }

    #[test]
    fn sigterm_while_answering_leaves_until_handed_over_or_the_bound() {
        let t0 = Instant::now();
        let leaving = Phase::Running.next(Input::Leave { now: t0 });
        assert_eq!(leaving, Phase::Leaving { until: t0 + LEAVE_BOUND });
        assert!(LEAVE_BOUND < Duration::from_millis(2500), "SIGTERM to exit within 2.5 s");
        assert!(leaving.decides() && leaving.answers_layer2() && leaving.reports() && leaving.leaving());
        assert_eq!(leaving.deadline(), Some(t0 + LEAVE_BOUND));
        for input in [
            Input::Listed,
            Input::ProberStarted { now: t0 },
            Input::Leave { now: at(t0, 100) },
            Input::Tick { now: at(t0, 1_000) },
        ] {
            assert_eq!(leaving.next(input), leaving, "{input:?}");
        }
        assert_eq!(leaving.next(Input::Released), Phase::Stopping);
        assert_eq!(leaving.next(Input::Tick { now: t0 + LEAVE_BOUND }), Phase::Stopping);
        assert_eq!(leaving.next(Input::Shutdown), Phase::Stopping);
    }

    #[test]
    fn sigterm_before_answering_stops_at_once() {
        let t0 = Instant::now();
        for phase in [Phase::Starting, Phase::Quiet { until: at(t0, 600) }, Phase::Stopping] {
            assert_eq!(phase.next(Input::Leave { now: t0 }), Phase::Stopping, "{phase:?}");
        }
        assert_eq!(Phase::Running.next(Input::Released), Phase::Running);
        assert!(!Phase::Running.leaving());
    }

    #[test]
    fn listing_again_changes_nothing_once_started() {
        let t0 = Instant::now();
        for phase in [Phase::Quiet { until: t0 }, Phase::Running] {
            assert_eq!(phase.next(Input::Listed), phase);
        }
    }
}
