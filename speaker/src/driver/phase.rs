//! The speaker's phases, and what each one lets it do: a pure state machine, so that start-up
//! order is read in one place instead of from a dozen flags.
//!
//! ```text
//!   Starting --every watch listed--> Running --member prober started--> Quiet{until}
//!                                       ^                                  |
//!                                       +-------- the view settled --------+
//!   any phase --shutdown--> Stopping
//! ```
//!
//! A speaker decides nothing until every watch has listed once: a half-listed cluster would make
//! it withdraw what it should announce. A speaker whose member prober has just started has heard
//! no other speaker yet and would think itself alone, so for [`HOLD`] it decides (BGP follows its
//! decisions, since a BGP route from every eligible node is never wrong) but answers no ARP/NDP
//! and writes no status.

use std::time::{Duration, Instant};

/// How long a starting prober listens before this node announces anything in Layer2: longer than
/// the silence after which a member is dead (300 ms), so the view is settled by then.
pub const HOLD: Duration = Duration::from_millis(600);

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
    /// SIGTERM, or the watches ended.
    Shutdown,
}

impl Phase {
    /// The phase after `input`.
    #[must_use]
    pub fn next(self, input: Input) -> Phase {
        match (self, input) {
            (Phase::Stopping, _) | (_, Input::Shutdown) => Phase::Stopping,
            (Phase::Starting, Input::Listed) => Phase::Running,
            // The prober starts only from a decision pass, so never while Starting.
            (Phase::Starting, _) => Phase::Starting,
            (Phase::Running | Phase::Quiet { .. }, Input::ProberStarted { now }) => Phase::Quiet { until: now + HOLD },
            (Phase::Quiet { until }, Input::Tick { now }) if now >= until => Phase::Running,
            (phase, Input::Listed | Input::Tick { .. }) => phase,
        }
    }

    /// Whether the announcer is asked (and BGP follows its answer).
    pub fn decides(self) -> bool {
        matches!(self, Phase::Quiet { .. } | Phase::Running)
    }

    /// Whether this node answers ARP/NDP for the addresses it owns.
    pub fn answers_layer2(self) -> bool {
        self == Phase::Running
    }

    /// Whether status objects and the announced metric follow the decisions.
    pub fn reports(self) -> bool {
        self == Phase::Running
    }

    /// When the speaker must be told the time ([`Input::Tick`]), if ever.
    pub fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Quiet { until } => Some(until),
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
    fn listing_again_changes_nothing_once_started() {
        let t0 = Instant::now();
        for phase in [Phase::Quiet { until: t0 }, Phase::Running] {
            assert_eq!(phase.next(Input::Listed), phase);
        }
    }
}
