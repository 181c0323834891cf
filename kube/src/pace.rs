//! A loop's pace: what brings a program's loop back for another pass. Watch changes and the
//! channels it follows are gathered by a [`Debouncer`]; the [`Resync`] clock adds a pass every
//! period, and sooner after a failure; shutdown, or a source that closed, ends the loop.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::debounce::Debouncer;
use crate::resync::Resync;
use crate::triggers::Triggers;

/// The pace of one loop; `T` says what changed (`None` in a stream: it closed).
pub struct Pace<T> {
    triggers: Triggers<Option<T>>,
    pending: Debouncer<T>,
    resync: Resync,
    quiet: Duration,
    at_most: Duration,
    on_resync: T,
    /// A pass was handed out and has not been reported ended yet (the next call ends it).
    passing: bool,
}

impl<T: Ord + Clone + Send + 'static> Pace<T> {
    /// Gathers changes `quiet` apart for `at_most` at the longest; resyncs every `period` as
    /// a change `on_resync`.
    pub fn new(quiet: Duration, at_most: Duration, period: Duration, on_resync: T) -> Self {
        Pace {
            triggers: Triggers::new(),
            pending: Debouncer::default(),
            resync: Resync::new(period),
            quiet,
            at_most,
            on_resync,
            passing: false,
        }
    }

    /// Where watches add their streams (each item `Some(what changed)`).
    pub fn triggers(&mut self) -> &mut Triggers<Option<T>> {
        &mut self.triggers
    }

    /// Follows a channel: each change of `rx` is a change `item`; its closing ends the loop.
    pub fn follow<V: Send + Sync + 'static>(&mut self, rx: watch::Receiver<V>, item: T) {
        let changes = futures::stream::unfold(Some(rx), move |rx| {
            let item = item.clone();
            async move {
                let mut rx = rx?;
                match rx.changed().await {
                    Ok(()) => Some((Some(item), Some(rx))),
                    Err(_) => Some((None, None)),
                }
            }
        });
        self.triggers.push(changes.boxed());
    }

    /// Waits for the next pass and says what changed since the last; None once `shutdown`
    /// fired or a source closed.
    pub async fn next(&mut self, shutdown: &mut watch::Receiver<bool>) -> Option<BTreeSet<T>> {
        if std::mem::take(&mut self.passing) {
            // The caller comes back when its pass ended.
            self.pending.acted(Instant::now());
        }
        loop {
            let changed = tokio::select! {
                _ = shutdown.changed() => return None,
                () = self.pending.settled() => {
                    self.passing = true;
                    return Some(self.pending.take());
                }
                next = self.triggers.next() => next.flatten()?,
                () = self.resync.tick() => self.on_resync.clone(),
            };
            self.pending.add(changed, Instant::now(), self.quiet, self.at_most);
        }
    }

    /// The pass's writes all went through.
    pub fn succeeded(&mut self) {
        self.resync.succeeded();
    }

    /// Some write of the pass failed: come back soon (see [`Resync::failed`]).
    pub fn failed(&mut self) {
        self.resync.failed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(50);
    const AT_MOST: Duration = Duration::from_millis(500);

    #[tokio::test(start_paused = true)]
    async fn a_followed_change_after_a_quiet_spell_passes_at_once_then_resyncs_come_and_a_closed_channel_ends_it() {
        let (_stop, mut shutdown) = watch::channel(false);
        let (leading_tx, leading) = watch::channel(false);
        let mut pace = Pace::new(QUIET, AT_MOST, Duration::from_secs(300), "resync");
        pace.follow(leading, "leading");
        let t0 = Instant::now();
        leading_tx.send_replace(true);
        assert_eq!(pace.next(&mut shutdown).await, Some(["leading"].into()));
        assert_eq!(Instant::now(), t0, "nothing came before it: at once");
        // A change right after that pass is gathered for the quiet time.
        leading_tx.send_replace(false);
        assert_eq!(pace.next(&mut shutdown).await, Some(["leading"].into()));
        assert_eq!(Instant::now(), t0 + QUIET);
        assert_eq!(pace.next(&mut shutdown).await, Some(["resync"].into()));
        assert_eq!(Instant::now(), t0 + Duration::from_secs(300), "the resync clock counts from the start");
        pace.failed();
        let t1 = Instant::now();
        assert_eq!(pace.next(&mut shutdown).await, Some(["resync"].into()));
        assert_eq!(Instant::now(), t1 + crate::resync::FIRST_RETRY);
        drop(leading_tx);
        assert_eq!(pace.next(&mut shutdown).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_it() {
        let (stop, mut shutdown) = watch::channel(false);
        let mut pace = Pace::new(QUIET, AT_MOST, Duration::from_secs(300), ());
        stop.send_replace(true);
        assert_eq!(pace.next(&mut shutdown).await, None);
    }
}
