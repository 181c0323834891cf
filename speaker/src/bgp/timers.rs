//! A session's timers, owned by its task: armed and stopped exactly as the state machine's
//! [`Action::StartTimer`] and [`Action::StopTimer`] say, on tokio's clock.

use ferrolb_bgp::fsm::{Action, Deadlines, Timer};
use tokio::time::Instant;

/// The running timers of one session.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    deadlines: Deadlines<Instant>,
}

impl Timers {
    /// Carries out `action` if it is a timer's (a start counts from now); whether it was one.
    pub(crate) fn apply(&mut self, action: &Action) -> bool {
        self.deadlines.apply(action, |delay| {
            let now = Instant::now();
            // Delays are bounded by the state machine's validation (a day at most).
            now.checked_add(delay).unwrap_or(now)
        })
    }

    /// Waits until the first running timer fires and returns it, no longer running; never
    /// returns while none runs. Cancel-safe: nothing changes until it returns.
    pub(crate) async fn expired(&mut self) -> Timer {
        let Some((timer, at)) = self.deadlines.next() else {
            return std::future::pending().await;
        };
        tokio::time::sleep_until(at).await;
        self.deadlines.stop(timer);
        timer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test]
    async fn timers_fire_in_deadline_order_and_only_while_running() {
        let mut timers = Timers::default();
        assert!(timers.apply(&Action::StartTimer(Timer::Hold, ms(2000))));
        assert!(timers.apply(&Action::StartTimer(Timer::Keepalive, ms(100))));
        assert!(timers.apply(&Action::StartTimer(Timer::ConnectRetry, ms(20))));
        assert!(timers.apply(&Action::StopTimer(Timer::ConnectRetry)));
        assert!(!timers.apply(&Action::SendKeepalive), "not a timer's action");
        let start = Instant::now();
        assert_eq!(timers.expired().await, Timer::Keepalive);
        assert!(start.elapsed() >= ms(100));
        // Restarting replaces the running one.
        timers.apply(&Action::StartTimer(Timer::Hold, ms(50)));
        assert_eq!(timers.expired().await, Timer::Hold);
        assert!(start.elapsed() >= ms(150) && start.elapsed() < ms(2000), "{:?}", start.elapsed());
        let none = tokio::time::timeout(ms(200), timers.expired()).await;
        assert!(none.is_err(), "nothing runs: nothing fires");
    }
}
