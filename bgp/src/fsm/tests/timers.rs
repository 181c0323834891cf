//! Hold and keepalive timers: zero hold time, clamping, deadlines, stale expiries.

use super::*;
use Action::*;
use Timer::*;

#[test]
fn hold_zero_negotiated_arms_no_hold_or_keepalive_timer() {
    // Either side proposing 0 gives 0.
    for (ours, theirs) in [(0, 90), (90, 0), (0, 0)] {
        let mut c = config();
        c.hold_time = secs(ours);
        let mut h = Harness::in_state(c, State::OpenSent);
        let actions = h.step(Event::BgpOpen(OpenParams { hold_time: theirs, ..peer_open() }));
        assert_eq!(actions, vec![SendKeepalive, StopTimer(Hold)], "ours {ours} theirs {theirs}");
        let actions = h.step(Event::KeepAliveMsg);
        let expected = Negotiated { hold_time: secs(0), keepalive: None, ..negotiated() };
        assert_eq!(actions, vec![Established(expected)]);
        assert_eq!(h.session.next_deadline(), None);
        assert_eq!(h.step(Event::KeepAliveMsg), vec![], "nothing to restart");
        assert_eq!(h.step(Event::UpdateMsg), vec![]);
        assert_eq!(h.step(Event::HoldTimerExpires), vec![], "no hold timer can expire");
        assert_eq!(h.state(), State::Established);
    }
}

#[test]
fn configured_keepalive_is_used_and_clamped_to_a_third_of_the_hold_time() {
    for (configured, peer_hold, hold, keepalive) in [(10, 90, 90, 10), (40, 90, 90, 30), (10, 15, 15, 5)] {
        let mut c = config();
        c.keepalive = Some(secs(configured));
        let mut h = Harness::in_state(c, State::OpenSent);
        let actions = h.step(Event::BgpOpen(OpenParams { hold_time: peer_hold, ..peer_open() }));
        assert_eq!(actions, vec![SendKeepalive, StartTimer(Hold, secs(hold)), StartTimer(Keepalive, secs(keepalive))]);
        assert_eq!(h.step(Event::KeepaliveTimerExpires), vec![SendKeepalive, StartTimer(Keepalive, secs(keepalive))]);
    }
}

#[test]
fn smaller_peer_hold_time_wins() {
    let mut h = Harness::in_state(config(), State::OpenSent);
    let actions = h.step(Event::BgpOpen(OpenParams { hold_time: 9, ..peer_open() }));
    assert_eq!(actions, vec![SendKeepalive, StartTimer(Hold, secs(9)), StartTimer(Keepalive, secs(3))]);
}

#[test]
fn deadlines_follow_the_timers() {
    let mut h = Harness::in_state(config(), State::Connect);
    assert_eq!(h.session.next_deadline(), Some((ConnectRetry, h.start + secs(5))));
    h.advance(secs(1));
    h.step(Event::TcpCrAcked);
    assert_eq!(h.session.deadline(ConnectRetry), None);
    assert_eq!(h.session.next_deadline(), Some((Hold, h.start + secs(241))));
    h.advance(secs(1));
    h.step(Event::BgpOpen(peer_open()));
    assert_eq!(h.session.deadline(Hold), Some(h.start + secs(92)));
    assert_eq!(h.session.next_deadline(), Some((Keepalive, h.start + secs(32))));
    h.advance(secs(30));
    h.step(Event::KeepaliveTimerExpires);
    assert_eq!(h.session.next_deadline(), Some((Keepalive, h.start + secs(62))));
}

#[test]
fn a_fired_timer_is_not_running_until_restarted() {
    let mut h = Harness::in_state(config(), State::OpenConfirm);
    h.step(Event::HoldTimerExpires);
    assert_eq!(h.session.deadline(Hold), None);
    assert_eq!(h.session.deadline(Keepalive), None);
    // A keepalive expiry that raced the stop is ignored, not answered with a KEEPALIVE.
    assert_eq!(h.step(Event::KeepaliveTimerExpires), vec![]);
}

#[test]
fn timer_expiry_events_match_the_timers() {
    for timer in [ConnectRetry, Hold, Keepalive] {
        assert_eq!(timer.expiry_event().timer(), Some(timer));
    }
    assert_eq!(Event::KeepAliveMsg.timer(), None);
}

#[test]
fn timers_kept_from_the_actions_alone_are_the_state_machines() {
    let mut h = Harness::new(config());
    // What the I/O layer keeps: only the StartTimer and StopTimer actions go into it.
    let mut io: Deadlines<Instant> = Deadlines::default();
    let path = [
        (0, Event::ManualStart),
        (5, Event::ConnectRetryTimerExpires),
        (1, Event::TcpConnectionFails),
        (10, Event::ConnectRetryTimerExpires),
        (1, Event::TcpCrAcked),
        (1, Event::BgpOpen(peer_open())),
        (1, Event::KeepAliveMsg),
        (30, Event::KeepaliveTimerExpires),
        (2, Event::UpdateMsg),
        (90, Event::HoldTimerExpires),
        (40, Event::ConnectRetryTimerExpires),
        (0, Event::ManualStop),
    ];
    for (advance, event) in path {
        h.advance(secs(advance));
        let name = event.name();
        if let Some(timer) = event.timer() {
            assert!(io.stop(timer), "{name}: the I/O layer only reports a running timer");
        }
        let now = h.now;
        for action in h.step(event) {
            io.apply(&action, |delay| now + delay);
        }
        for timer in Timer::ALL {
            assert_eq!(io.get(timer), h.session.deadline(timer), "{name}: {timer}");
        }
        assert_eq!(io.next(), h.session.next_deadline(), "{name}");
    }
    assert_eq!(h.state(), State::Idle);
    assert_eq!(io.next(), None, "stopped: nothing runs");
}
