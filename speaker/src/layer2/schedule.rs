//! When to (re)send the gratuitous announcements for the addresses this node owns.
//!
//! Pure: time comes in as `now`. It decides the schedule (at once, then at +0.5 s, +1 s and +2 s: one lost
//! broadcast must not leave clients pointing at the old owner; then, with a refresh interval, every interval
//! after the gain for as long as the address is owned, so that switches never age the owner's MAC out) and
//! which addresses are due; it does not build or send frames.

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

/// The shortest refresh interval accepted: shorter would only add broadcast traffic (switches and hosts age
/// entries out after minutes, not seconds).
pub const MIN_REFRESH: Duration = Duration::from_secs(1);

/// Why a `--gratuitous-refresh` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// Not a duration.
    #[error(transparent)]
    Duration(#[from] ferrolb_core::config::DurationError),
    /// Positive but below [`MIN_REFRESH`].
    #[error("{0:?} is below the minimum of 1s (use 0 or off to turn it off)")]
    TooShort(Duration),
}

/// Reads a refresh interval as written on the command line: a Go duration such as `30s` or `2m`, or `0` or
/// `off` for none.
pub fn parse_refresh(input: &str) -> Result<Option<Duration>, RefreshError> {
    if input.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let interval = ferrolb_core::config::parse_go_duration(input.trim())?;
    if interval.is_zero() {
        return Ok(None);
    }
    if interval < MIN_REFRESH {
        return Err(RefreshError::TooShort(interval));
    }
    Ok(Some(interval))
}

/// Pending announcements of one interface: per address, when it was gained and when it was last announced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announcements {
    pending: BTreeMap<IpAddr, Pending>,
    refresh: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    gained_at: Instant,
    /// When the last round was sent; `None` before the first.
    last: Option<Instant>,
}

impl Pending {
    /// The first instant of the schedule after the last round: the earlier of the next burst offset and the
    /// next multiple of `refresh` after the gain.
    fn next_time(&self, refresh: Option<Duration>) -> Option<Instant> {
        let Some(last) = self.last else { return Some(self.gained_at) };
        let burst = announcement_times(self.gained_at).find(|t| *t > last);
        let periodic = refresh.and_then(|interval| {
            let elapsed = last.saturating_duration_since(self.gained_at).as_nanos();
            let rounds = elapsed.checked_div(interval.as_nanos())?.checked_add(1)?;
            let offset = u64::try_from(interval.as_nanos().checked_mul(rounds)?).ok()?;
            self.gained_at.checked_add(Duration::from_nanos(offset))
        });
        match (burst, periodic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Announcements {
    /// Nothing pending, and no refresh: an address is announced on [`ANNOUNCE_OFFSETS`] only.
    pub fn new() -> Announcements {
        Announcements::default()
    }

    /// Nothing pending; owned addresses are announced again every `refresh` after they were gained, as long
    /// as they stay owned. `None` or a zero interval means no refresh.
    pub fn with_refresh(refresh: Option<Duration>) -> Announcements {
        Announcements { pending: BTreeMap::new(), refresh: refresh.filter(|r| !r.is_zero()) }
    }

    /// The refresh interval, if any.
    pub fn refresh(&self) -> Option<Duration> {
        self.refresh
    }

    /// Starts the schedule for `ip` (again, if it was running: a regained address is announced afresh).
    pub fn gain(&mut self, ip: IpAddr, now: Instant) {
        self.pending.insert(ip, Pending { gained_at: now, last: None });
    }

    /// Stops announcing `ip` at once.
    pub fn lose(&mut self, ip: IpAddr) {
        self.pending.remove(&ip);
    }

    /// The addresses to announce now, each once, and advances their schedules. Rounds missed because the
    /// caller was late are skipped, not sent in a burst.
    pub fn due(&mut self, now: Instant) -> Vec<IpAddr> {
        let refresh = self.refresh;
        let mut due = Vec::new();
        self.pending.retain(|ip, pending| {
            let Some(next) = pending.next_time(refresh) else { return false };
            if next > now {
                return true;
            }
            due.push(*ip);
            pending.last = Some(now);
            pending.next_time(refresh).is_some()
        });
        due
    }

    /// When [`Announcements::due`] next has something, if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().filter_map(|p| p.next_time(self.refresh)).min()
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

    /// The instants (as offsets from `t0`, in ms) at which `a.due` returns `ip`, polling every `step` ms
    /// up to `until` ms.
    fn sent_at(a: &mut Announcements, t0: Instant, ip: IpAddr, step: u64, until: u64) -> Vec<u64> {
        (0..=until / step).map(|n| n * step).filter(|n| a.due(t0 + ms(*n)).contains(&ip)).collect()
    }

    #[test]
    fn with_a_refresh_an_owned_address_is_announced_every_interval_forever() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let mut a = Announcements::with_refresh(Some(Duration::from_secs(30)));
        a.gain(ip, t0);
        assert_eq!(sent_at(&mut a, t0, ip, 100, 95_000), vec![0, 500, 1000, 2000, 30_000, 60_000, 90_000]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(120_000)));
        assert!(!a.is_empty());
        a.lose(ip);
        assert_eq!(a.next_deadline(), None);
        assert!(a.due(t0 + ms(120_000)).is_empty());
    }

    #[test]
    fn refresh_follows_each_address_own_gain_and_restarts_on_regain() {
        let t0 = Instant::now();
        let (v4, v6): (IpAddr, IpAddr) = ("198.51.100.200".parse().unwrap(), "2001:db8:1::200".parse().unwrap());
        let mut a = Announcements::with_refresh(Some(Duration::from_secs(10)));
        a.gain(v4, t0);
        a.gain(v6, t0 + ms(4000));
        let mut log = Vec::new();
        for n in 0..=250 {
            let now = t0 + ms(n * 100);
            for ip in a.due(now) {
                log.push((n * 100, ip));
            }
        }
        let at = |ip: IpAddr| log.iter().filter(|(_, i)| *i == ip).map(|(t, _)| *t).collect::<Vec<_>>();
        assert_eq!(at(v4), vec![0, 500, 1000, 2000, 10_000, 20_000]);
        assert_eq!(at(v6), vec![4000, 4500, 5000, 6000, 14_000, 24_000]);
        // Regained at 25 s: the burst again, then every 10 s from the new gain.
        a.gain(v4, t0 + ms(25_000));
        assert_eq!(a.due(t0 + ms(25_000)), vec![v4]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(25_500)));
        assert_eq!(
            sent_at(&mut a, t0, v4, 100, 36_000).into_iter().filter(|t| *t > 25_000).collect::<Vec<_>>(),
            vec![25_500, 26_000, 27_000, 35_000]
        );
    }

    #[test]
    fn a_refresh_shorter_than_the_burst_merges_with_it() {
        let t0 = Instant::now();
        let ip: IpAddr = "2001:db8:1::200".parse().unwrap();
        let mut a = Announcements::with_refresh(Some(ms(700)));
        a.gain(ip, t0);
        assert_eq!(sent_at(&mut a, t0, ip, 100, 3000), vec![0, 500, 700, 1000, 1400, 2000, 2100, 2800]);
    }

    #[test]
    fn a_late_caller_skips_missed_refreshes_and_keeps_the_phase() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        let mut a = Announcements::with_refresh(Some(Duration::from_secs(30)));
        a.gain(ip, t0);
        assert_eq!(a.due(t0), vec![ip]);
        // Asleep for 100 s: one announcement, not five, and the next one on the 30 s grid.
        assert_eq!(a.due(t0 + ms(100_000)), vec![ip]);
        assert_eq!(a.next_deadline(), Some(t0 + ms(120_000)));
        assert!(a.due(t0 + ms(119_999)).is_empty());
    }

    #[test]
    fn refresh_flag_values() {
        let s = Duration::from_secs;
        assert_eq!(parse_refresh("30s"), Ok(Some(s(30))));
        assert_eq!(parse_refresh("1m30s"), Ok(Some(s(90))));
        assert_eq!(parse_refresh("1s"), Ok(Some(s(1))));
        assert_eq!(parse_refresh("0"), Ok(None));
        assert_eq!(parse_refresh("0s"), Ok(None));
        assert_eq!(parse_refresh("off"), Ok(None));
        assert_eq!(parse_refresh("500ms"), Err(RefreshError::TooShort(ms(500))));
        assert!(matches!(parse_refresh("30"), Err(RefreshError::Duration(_))));
        assert!(matches!(parse_refresh("-30s"), Err(RefreshError::Duration(_))));
        assert!(matches!(parse_refresh(""), Err(RefreshError::Duration(_))));
    }

    #[test]
    fn no_or_zero_refresh_means_the_burst_only() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.200".parse().unwrap();
        for refresh in [None, Some(Duration::ZERO)] {
            let mut a = Announcements::with_refresh(refresh);
            assert_eq!(a.refresh(), None);
            a.gain(ip, t0);
            assert_eq!(sent_at(&mut a, t0, ip, 100, 60_000), vec![0, 500, 1000, 2000], "{refresh:?}");
            assert!(a.is_empty());
        }
    }
}
