//! The ConnectRetry delay: exponential backoff with optional jitter seeded by the caller.
//!
//! Decides how long the next ConnectRetry timer runs; when it is armed is the session's business.

use std::time::Duration;

use super::RetryBackoff;

/// The growing retry delay of one session.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    limits: RetryBackoff,
    current: Duration,
    jitter: Option<SplitMix64>,
}

impl Backoff {
    pub(crate) fn new(limits: RetryBackoff, jitter_seed: Option<u64>) -> Self {
        Backoff { limits, current: limits.initial, jitter: jitter_seed.map(SplitMix64) }
    }

    /// The delay for a new attempt's timeout: the current delay, unchanged.
    pub(crate) fn attempt(&mut self) -> Duration {
        self.jittered(self.current)
    }

    /// The delay after a failure: the current delay; later ones are doubled, up to the maximum.
    pub(crate) fn failure(&mut self) -> Duration {
        let delay = self.current;
        self.current = self.current.saturating_mul(2).min(self.limits.max);
        self.jittered(delay)
    }

    /// Back to the initial delay (on Established and ManualStart).
    pub(crate) fn reset(&mut self) {
        self.current = self.limits.initial;
    }

    /// RFC 4271 section 10: the base delay times a factor uniform in 0.75..=1.0 (in thousandths).
    fn jittered(&mut self, delay: Duration) -> Duration {
        let Some(rng) = self.jitter.as_mut() else {
            return delay;
        };
        let permille = 750 + rng.next() % 251;
        let millis = delay.as_millis().saturating_mul(u128::from(permille)) / 1000;
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

/// A tiny deterministic generator (splitmix64): enough to spread retries, seeded by the caller.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_double_up_to_the_maximum_and_reset() {
        let mut b = Backoff::new(RetryBackoff::default(), None);
        let waits: Vec<u64> = (0..8).map(|_| b.failure().as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 120, 120, 120]);
        assert_eq!(b.attempt(), Duration::from_secs(120));
        b.reset();
        assert_eq!(b.attempt(), Duration::from_secs(5));
        assert_eq!(b.failure(), Duration::from_secs(5));
        assert_eq!(b.attempt(), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_between_three_quarters_and_all_and_is_reproducible() {
        let limits = RetryBackoff::fixed(Duration::from_secs(100));
        let mut a = Backoff::new(limits, Some(7));
        let mut b = Backoff::new(limits, Some(7));
        let delays: Vec<Duration> = (0..200).map(|_| a.failure()).collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(75) && *d <= Duration::from_secs(100)));
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies");
        let again: Vec<Duration> = (0..200).map(|_| b.failure()).collect();
        assert_eq!(delays, again);
    }
}
