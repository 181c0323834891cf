//! When to (re)send the gratuitous announcements for addresses this node has just gained.
//!
//! Pure: time comes in as `now`. It decides the schedule (at once, then at +0.5 s, +1 s and +2 s: one lost
//! broadcast must not leave clients pointing at the old owner) and which addresses are due; it does not
//! build or send frames.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Offsets from the moment an address is gained at which it is announced.
pub const ANNOUNCE_OFFSETS: [Duration; 4] =
    [Duration::ZERO, Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];

/// The instants at which an address gained at `gained_at` is announced.
pub fn announcement_times(gained_at: Instant) -> impl Iterator<Item = Instant> {
    ANNOUNCE_OFFSETS.into_iter().filter_map(move |offset| gained_at.checked_add(offset))
}

/// Pending announcements of one interface: per address, when it was gained and how many rounds were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announcements {
    pending: BTreeMap<IpAddr, Pending>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    gained_at: Instant,
    next_round: usize,
}

impl Pending {
    fn next_time(&self) -> Option<Instant> {
        announcement_times(self.gained_at).nth(self.next_round)
    }
}

impl Announcements {
    /// Nothing pending.
    pub fn new() -> Announcements {
        Announcements::default()
    }

    /// Starts the schedule for `ip` (again, if it was running: a regained address is announced afresh).
    pub fn gain(&mut self, ip: IpAddr, now: Instant) {
        self.pending.insert(ip, Pending { gained_at: now, next_round: 0 });
    }

    /// Stops announcing `ip` at once.
    pub fn lose(&mut self, ip: IpAddr) {
        self.pending.remove(&ip);
    }

    /// The addresses to announce now, each once, and advances their schedules. Rounds missed because the
    /// caller was late are skipped, not sent in a burst.
    pub fn due(&mut self, now: Instant) -> Vec<IpAddr> {
        let mut due = Vec::new();
        self.pending.retain(|ip, pending| {
            let Some(next) = pending.next_time() else { return false };
            if next > now {
                return true;
            }
            due.push(*ip);
            while pending.next_time().is_some_and(|t| t <= now) {
                pending.next_round += 1;
            }
            pending.next_time().is_some()
        });
        due
    }

    /// When [`Announcements::due`] next has something, if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().filter_map(Pending::next_time).min()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_schedule_is_now_then_half_one_and_two_seconds() {
        let t0 = Instant::now();
        let times: Vec<Duration> = announcement_times(t0).map(|t| t - t0).collect();
        assert_eq!(times, vec![ms(0), ms(500), ms(1000), ms(2000)]);
    }

    #[test]
    fn an_address_is_announced_four_times_then_forgotten() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let mut a = Announcements::new();
        a.gain(ip, t0);
        let mut sent_at = Vec::new();
        for step in 0..=25 {
            let now = t0 + ms(step * 100);
            if !a.due(now).is_empty() {
                sent_at.push(step * 100);
            }
        }
        assert_eq!(sent_at, vec![0, 500, 1000, 2000]);
        assert!(a.is_empty());
        assert_eq!(a.next_deadline(), None);
    }

    #[test]
    fn deadlines_follow_the_earliest_address() {
        let t0 = Instant::now();
        let (v4, v6): (IpAddr, IpAddr) = ("198.51.100.200".parse().unwrap(), "2001:db8:1::200".parse().unwrap());
        let mut a = Announcements::new();
        a.gain(v4, t0);
        a.gain(v6, t0 + ms(200));
        assert_eq!(a.next_deadline(), Some(t0));
        assert_eq!(a.due(t0), vec![v4]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(200)));
        assert_eq!(a.due(t0 + ms(200)), vec![v6]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(500)));
    }

    #[test]
    fn a_late_caller_sends_once_and_skips_missed_rounds() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let mut a = Announcements::new();
        a.gain(ip, t0);
        assert_eq!(a.due(t0 + ms(1200)), vec![ip]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(2000)));
    }

    #[test]
    fn losing_stops_and_regaining_restarts() {
        let t0 = Instant::now();
        let ip: IpAddr = "2001:db8:1::200".parse().unwrap();
        let mut a = Announcements::new();
        a.gain(ip, t0);
        a.due(t0);
        a.lose(ip);
        assert_eq!(a.due(t0 + ms(500)), Vec::<IpAddr>::new());
        a.gain(ip, t0 + ms(3000));
        assert_eq!(a.due(t0 + ms(3000)), vec![ip]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(3500)));
    }
}
