//! When each of a session's timers fires. The state machine keeps one set to know which timers
//! run; the I/O layer keeps its own, in its runtime's instant type, built from the
//! [`Action::StartTimer`] and [`Action::StopTimer`] actions alone, and sleeps on it.

use std::time::Duration;

use super::{Action, Timer};

/// The running timers of one session and when each fires; `I` is the clock's instant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines<I> {
    slots: [Option<I>; 3],
}

impl<I> Default for Deadlines<I> {
    fn default() -> Self {
        Deadlines { slots: [None, None, None] }
    }
}

impl<I: Copy + Ord> Deadlines<I> {
    /// When `timer` fires, if it is running.
    pub fn get(&self, timer: Timer) -> Option<I> {
        self.slots[slot(timer)]
    }

    /// (Re)starts `timer` to fire at `at`, replacing a running one.
    pub fn start(&mut self, timer: Timer, at: I) {
        self.slots[slot(timer)] = Some(at);
    }

    /// Stops `timer`; whether it was running. A timer that fired is stopped this way too.
    pub fn stop(&mut self, timer: Timer) -> bool {
        self.slots[slot(timer)].take().is_some()
    }

    /// The running timer that fires first (the earlier kind on a tie).
    pub fn next(&self) -> Option<(Timer, I)> {
        Timer::ALL.into_iter().filter_map(|t| self.get(t).map(|at| (t, at))).min_by_key(|&(_, at)| at)
    }

    /// Carries out `action` if it is a timer's: a start fires at `at(delay)`. Whether it was one.
    pub fn apply(&mut self, action: &Action, at: impl FnOnce(Duration) -> I) -> bool {
        match action {
            Action::StartTimer(timer, delay) => self.start(*timer, at(*delay)),
            Action::StopTimer(timer) => {
                self.stop(*timer);
            }
            _ => return false,
        }
        true
    }
}

fn slot(timer: Timer) -> usize {
    match timer {
        Timer::ConnectRetry => 0,
        Timer::Hold => 1,
        Timer::Keepalive => 2,
    }
}
