//! Gathering changes before acting on them: a burst of watch events becomes one rebuild.
//!
//! A change that comes after a quiet spell (nothing for `quiet` since the last action ended, which
//! the caller reports with [`Debouncer::acted`]) is acted on at once: a lone Service is not kept
//! waiting for company. A change that comes sooner after the last action waits while more keep
//! coming less than `quiet` apart, but never longer than `at_most` after the first: a burst
//! becomes few actions, and a steady stream of changes still gets decisions. Each caller picks its window (the controller a fixed one; the speaker widens
//! it with the cost of its last decision).

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

/// Changes gathered since the last action, and when the action is due.
#[derive(Debug)]
pub struct Debouncer<S> {
    /// What changed.
    pub sources: BTreeSet<S>,
    first: Option<Instant>,
    due: Option<Instant>,
    /// The first change came after a quiet spell: the action is due at once, and later changes
    /// do not put it off.
    leading: bool,
    /// When the last action ended.
    acted: Option<Instant>,
}

impl<S> Default for Debouncer<S> {
    fn default() -> Self {
        Debouncer { sources: BTreeSet::new(), first: None, due: None, leading: false, acted: None }
    }
}

impl<S: Ord> Debouncer<S> {
    /// Records a change of `source` at `now`: after a quiet spell the action is due at once;
    /// otherwise it waits `quiet` for more, but no longer than `at_most` after the first change.
    pub fn add(&mut self, source: S, now: Instant, quiet: Duration, at_most: Duration) {
        self.sources.insert(source);
        if self.first.is_none() {
            self.first = Some(now);
            self.leading = self.acted.is_none_or(|acted| now >= acted + quiet);
        }
        if self.leading {
            self.due = Some(self.due.unwrap_or(now));
            return;
        }
        let first = self.first.unwrap_or(now);
        self.due = Some((now + quiet).min(first + at_most));
    }

    /// When the action is due, if anything changed.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Waits until the action is due; forever when nothing changed.
    pub async fn settled(&self) {
        match self.due {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// Takes what changed and starts over.
    pub fn take(&mut self) -> BTreeSet<S> {
        self.first = None;
        self.due = None;
        self.leading = false;
        std::mem::take(&mut self.sources)
    }

    /// The action on what was taken ended at `now`: changes in the next `quiet` are gathered
    /// (they came while it ran, or right after), later ones are acted on at once.
    pub fn acted(&mut self, now: Instant) {
        self.acted = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(5);
    const AT_MOST: Duration = Duration::from_millis(25);

    #[tokio::test(start_paused = true)]
    async fn a_change_after_a_quiet_spell_is_due_at_once_and_later_ones_do_not_put_it_off() {
        let t0 = Instant::now();
        let mut p = Debouncer::default();
        assert_eq!(p.due(), None);
        p.add("services", t0, QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t0), "nothing happened before: at once");
        p.add("nodes", t0 + Duration::from_millis(1), QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t0), "a change before the action does not delay it");
        assert_eq!(p.take(), ["nodes", "services"].into());
        assert_eq!(p.due(), None);
        assert!(p.take().is_empty());
        p.acted(Instant::now());
        // A change a quiet spell after the last action ended: at once again.
        tokio::time::advance(QUIET).await;
        let t1 = Instant::now();
        p.add("services", t1, QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_right_after_an_action_is_gathered_but_never_delayed_past_the_bound() {
        let mut p = Debouncer::default();
        p.add("services", Instant::now(), QUIET, AT_MOST);
        p.take();
        // The action took longer than the quiet time; what came meanwhile is still gathered.
        tokio::time::advance(AT_MOST).await;
        p.acted(Instant::now());
        let t0 = Instant::now();
        p.add("services", t0, QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t0 + QUIET));
        p.add("nodes", t0 + Duration::from_millis(4), QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t0 + Duration::from_millis(9)));
        p.add("services", t0 + Duration::from_millis(23), QUIET, AT_MOST);
        assert_eq!(p.due(), Some(t0 + AT_MOST));
        assert_eq!(p.take(), ["nodes", "services"].into());
    }

    #[tokio::test(start_paused = true)]
    async fn settles_at_once_after_a_quiet_spell_else_after_the_quiet_time_or_the_bound() {
        let mut p = Debouncer::default();
        let t0 = Instant::now();
        p.add((), t0, QUIET, AT_MOST);
        p.settled().await;
        assert_eq!(Instant::now(), t0);
        p.take();
        p.acted(Instant::now());
        // Right after an action, changes every 4 ms keep it waiting, up to the bound.
        let t1 = Instant::now();
        for i in 0..10 {
            p.add((), t1 + Duration::from_millis(4 * i), QUIET, AT_MOST);
        }
        p.settled().await;
        assert_eq!(Instant::now(), t1 + AT_MOST);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_gathered_never_settles() {
        let p: Debouncer<()> = Debouncer::default();
        let waited = tokio::time::timeout(Duration::from_secs(3600), p.settled()).await;
        assert!(waited.is_err());
    }
}
