//! The ConnectRetry backoff as the StartTimer actions show it.

use super::*;
use Action::*;
use Timer::*;

fn retry_delays(actions: &[Action]) -> Vec<Duration> {
    actions
        .iter()
        .filter_map(|a| match a {
            StartTimer(ConnectRetry, d) => Some(*d),
            _ => None,
        })
        .collect()
}

#[test]
fn refused_connections_wait_5_then_doubling_to_120() {
    let mut h = Harness::new(config());
    assert_eq!(retry_delays(&h.step(Event::ManualStart)), [secs(5)]);
    let mut waits = Vec::new();
    let mut attempts = Vec::new();
    for _ in 0..7 {
        waits.extend(retry_delays(&h.step(Event::TcpConnectionFails)));
        assert_eq!(h.state(), State::Active);
        attempts.extend(retry_delays(&h.step(Event::ConnectRetryTimerExpires)));
        assert_eq!(h.state(), State::Connect);
    }
    let s = |v: &[u64]| v.iter().map(|n| secs(*n)).collect::<Vec<_>>();
    assert_eq!(waits, s(&[5, 10, 20, 40, 80, 120, 120]));
    // A new attempt's timeout is the delay reached so far.
    assert_eq!(attempts, s(&[10, 20, 40, 80, 120, 120, 120]));
}

#[test]
fn timed_out_attempts_back_off_too() {
    let mut h = Harness::new(config());
    h.step(Event::ManualStart);
    let delays: Vec<Duration> = (0..6).flat_map(|_| retry_delays(&h.step(Event::ConnectRetryTimerExpires))).collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 120].map(secs));
    assert_eq!(h.session.connect_retry_counter(), 6);
}

#[test]
fn refused_opens_back_off_in_idle() {
    let mut h = Harness::new(config());
    h.step(Event::ManualStart);
    let mut waits = Vec::new();
    for _ in 0..4 {
        h.step(Event::TcpCrAcked);
        waits.extend(retry_delays(&h.step(Event::BgpOpen(OpenParams { asn: 1, ..peer_open() }))));
        assert_eq!(h.state(), State::Idle);
        h.step(Event::ConnectRetryTimerExpires);
    }
    assert_eq!(waits, [5, 10, 20, 40].map(secs));
}

#[test]
fn established_resets_the_backoff() {
    let mut h = Harness::new(config());
    h.step(Event::ManualStart);
    for _ in 0..4 {
        h.step(Event::ConnectRetryTimerExpires);
    }
    assert_eq!(h.step(Event::TcpCrAcked)[0], StopTimer(ConnectRetry));
    h.step(Event::BgpOpen(peer_open()));
    h.step(Event::KeepAliveMsg);
    assert_eq!(h.state(), State::Established);
    assert_eq!(retry_delays(&h.step(Event::HoldTimerExpires)), [secs(5)]);
    assert_eq!(retry_delays(&h.step(Event::ConnectRetryTimerExpires)), [secs(10)]);
}

#[test]
fn a_fixed_retry_never_grows() {
    let mut c = config();
    c.connect_retry = RetryBackoff::fixed(secs(30));
    let mut h = Harness::new(c);
    h.step(Event::ManualStart);
    let delays: Vec<Duration> = (0..4).flat_map(|_| retry_delays(&h.step(Event::ConnectRetryTimerExpires))).collect();
    assert_eq!(delays, [secs(30); 4]);
}

#[test]
fn jitter_seeded_by_the_caller_shortens_delays_by_at_most_a_quarter() {
    let run = |seed| {
        let mut c = config();
        c.jitter_seed = Some(seed);
        let mut h = Harness::new(c);
        let mut delays = retry_delays(&h.step(Event::ManualStart));
        for _ in 0..20 {
            delays.extend(retry_delays(&h.step(Event::ConnectRetryTimerExpires)));
        }
        delays
    };
    let delays = run(42);
    assert_eq!(delays.len(), 21);
    assert!(delays[0] >= Duration::from_millis(3750) && delays[0] <= secs(5), "{:?}", delays[0]);
    assert!(delays.iter().all(|d| *d <= secs(120)));
    assert!(delays.iter().skip(10).all(|d| *d >= secs(90)), "late delays near the 120 s cap: {delays:?}");
    assert_eq!(delays, run(42), "same seed, same delays");
    assert_ne!(delays, run(43));
}
