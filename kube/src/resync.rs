//! The periodic resync: every `period` (5 minutes by default) a program looks at everything
//! again, whether or not a watch said something changed; and after a failed write it looks again
//! sooner, on a backoff, so a write the API server refused is retried without waiting for the
//! next change.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::time::Instant;

/// How often a program resyncs by default.
pub const PERIOD: Duration = Duration::from_secs(300);
/// The first retry after a failure; each further failure doubles it, up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between retries.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// The resync clock: a periodic tick, and a sooner one after a failure.
#[derive(Debug)]
pub struct Resync {
    period: Duration,
    next: Instant,
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl Resync {
    /// A clock whose first tick comes one `period` from now.
    pub fn new(period: Duration) -> Self {
        Resync { period, next: Instant::now() + period, retry_at: None, backoff: FIRST_RETRY }
    }

    /// Something failed: tick again after the backoff (unless a tick is due sooner anyway).
    pub fn failed(&mut self) {
        let at = Instant::now() + self.backoff.min(self.period);
        self.retry_at = Some(self.retry_at.map_or(at, |due| due.min(at)));
        self.backoff = (self.backoff * 2).min(MAX_RETRY);
    }

    /// Everything went through: the backoff starts over.
    pub fn succeeded(&mut self) {
        self.retry_at = None;
        self.backoff = FIRST_RETRY;
    }

    /// Waits for the next tick: the retry if one is due, else the periodic one.
    pub async fn tick(&mut self) {
        let at = self.retry_at.map_or(self.next, |retry| retry.min(self.next));
        tokio::time::sleep_until(at).await;
        self.retry_at = None;
        if Instant::now() >= self.next {
            self.next = Instant::now() + self.period;
        }
    }
}

/// The periodic ticks alone, as a stream, for a loop that merges its inputs into one stream.
pub fn ticks(period: Duration) -> BoxStream<'static, ()> {
    stream::unfold(Resync::new(period), |mut clock| async move {
        clock.tick().await;
        Some(((), clock))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticks_every_period() {
        let t0 = Instant::now();
        let mut r = Resync::new(PERIOD);
        r.tick().await;
        assert_eq!(Instant::now(), t0 + PERIOD);
        r.tick().await;
        assert_eq!(Instant::now(), t0 + PERIOD * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_stream_ticks_every_period() {
        let t0 = Instant::now();
        let mut ticks = ticks(PERIOD);
        ticks.next().await;
        ticks.next().await;
        assert_eq!(Instant::now(), t0 + PERIOD * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_is_retried_soon_and_ever_later_until_it_succeeds() {
        let t0 = Instant::now();
        let mut r = Resync::new(PERIOD);
        r.failed();
        r.tick().await;
        assert_eq!(Instant::now(), t0 + FIRST_RETRY);
        r.failed();
        r.tick().await;
        assert_eq!(Instant::now(), t0 + FIRST_RETRY * 3);
        for _ in 0..10 {
            r.failed();
            r.tick().await;
        }
        let before = Instant::now();
        r.failed();
        r.tick().await;
        assert_eq!(Instant::now(), before + MAX_RETRY);
        r.succeeded();
        r.failed();
        let before = Instant::now();
        r.tick().await;
        assert_eq!(Instant::now(), before + FIRST_RETRY);
        // No failure: back to the period, counted from the start.
        r.tick().await;
        assert_eq!(Instant::now(), t0 + PERIOD);
    }
}
