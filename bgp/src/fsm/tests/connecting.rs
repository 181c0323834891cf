//! Idle, Connect and Active: starting, dialing, failing, stopping.

use super::*;
use Action::*;
use Timer::*;

fn unexpected(state: State, event: &'static str) -> Action {
    Down(DownReason::UnexpectedEvent { state, event })
}

#[test]
fn idle_table() {
    check_table(
        State::Idle,
        vec![
            case(
                "ManualStart dials",
                Event::ManualStart,
                vec![Connect, StartTimer(ConnectRetry, secs(5))],
                State::Connect,
            ),
            case(
                "AutomaticStart dials",
                Event::AutomaticStart,
                vec![Connect, StartTimer(ConnectRetry, secs(5))],
                State::Connect,
            ),
            case("ManualStop does nothing", Event::ManualStop, vec![], State::Idle),
            case("incoming connection refused", Event::TcpConnectionConfirmed, vec![DropConnection], State::Idle),
            case("outgoing connection refused", Event::TcpCrAcked, vec![DropConnection], State::Idle),
            case("stale retry timer ignored", Event::ConnectRetryTimerExpires, vec![], State::Idle),
            case("stale hold timer ignored", Event::HoldTimerExpires, vec![], State::Idle),
            case("KEEPALIVE ignored", Event::KeepAliveMsg, vec![], State::Idle),
            case("OPEN ignored", Event::BgpOpen(peer_open()), vec![], State::Idle),
            case("NOTIFICATION ignored", Event::NotifMsg(Notification::administrative_shutdown()), vec![], State::Idle),
            case("TCP failure ignored", Event::TcpConnectionFails, vec![], State::Idle),
        ],
    );
}

#[test]
fn connect_table() {
    check_table(
        State::Connect,
        vec![
            case(
                "outgoing connection up sends OPEN with the large hold timer",
                Event::TcpCrAcked,
                vec![
                    StopTimer(ConnectRetry),
                    SendOpen(Harness::new(config()).session.local_open().clone()),
                    StartTimer(Hold, secs(240)),
                ],
                State::OpenSent,
            ),
            case(
                "incoming connection up sends OPEN",
                Event::TcpConnectionConfirmed,
                vec![
                    StopTimer(ConnectRetry),
                    SendOpen(Harness::new(config()).session.local_open().clone()),
                    StartTimer(Hold, secs(240)),
                ],
                State::OpenSent,
            ),
            case(
                "attempt timed out: abandon and dial again",
                Event::ConnectRetryTimerExpires,
                vec![DropConnection, Down(DownReason::ConnectTimeout), Connect, StartTimer(ConnectRetry, secs(5))],
                State::Connect,
            ),
            case(
                "attempt failed: wait in Active",
                Event::TcpConnectionFails,
                vec![
                    DropConnection,
                    StopTimer(ConnectRetry),
                    Down(DownReason::ConnectionFailed),
                    StartTimer(ConnectRetry, secs(5)),
                ],
                State::Active,
            ),
            case(
                "ManualStop gives up without NOTIFICATION",
                Event::ManualStop,
                vec![DropConnection, StopTimer(ConnectRetry), Down(DownReason::Stopped)],
                State::Idle,
            ),
            case("ManualStart again is a no-op", Event::ManualStart, vec![], State::Connect),
            case("stale hold timer ignored", Event::HoldTimerExpires, vec![], State::Connect),
            case(
                "KEEPALIVE without a connection",
                Event::KeepAliveMsg,
                vec![
                    DropConnection,
                    StopTimer(ConnectRetry),
                    unexpected(State::Connect, "KeepAliveMsg"),
                    StartTimer(ConnectRetry, secs(5)),
                ],
                State::Idle,
            ),
            case(
                "OPEN without a connection",
                Event::BgpOpen(peer_open()),
                vec![
                    DropConnection,
                    StopTimer(ConnectRetry),
                    unexpected(State::Connect, "BgpOpen"),
                    StartTimer(ConnectRetry, secs(5)),
                ],
                State::Idle,
            ),
        ],
    );
}

#[test]
fn active_table() {
    // Active after one failure: the wait was 5 s, the next delay is 10 s.
    check_table(
        State::Active,
        vec![
            case(
                "retry timer: dial again with the grown delay",
                Event::ConnectRetryTimerExpires,
                vec![Connect, StartTimer(ConnectRetry, secs(10))],
                State::Connect,
            ),
            case(
                "the peer's connection is accepted",
                Event::TcpConnectionConfirmed,
                vec![
                    StopTimer(ConnectRetry),
                    SendOpen(Harness::new(config()).session.local_open().clone()),
                    StartTimer(Hold, secs(240)),
                ],
                State::OpenSent,
            ),
            case(
                "TCP failure goes to Idle",
                Event::TcpConnectionFails,
                vec![
                    DropConnection,
                    StopTimer(ConnectRetry),
                    Down(DownReason::ConnectionFailed),
                    StartTimer(ConnectRetry, secs(10)),
                ],
                State::Idle,
            ),
            case(
                "ManualStop",
                Event::ManualStop,
                vec![DropConnection, StopTimer(ConnectRetry), Down(DownReason::Stopped)],
                State::Idle,
            ),
            case(
                "NOTIFICATION without a connection",
                Event::NotifMsg(Notification::administrative_shutdown()),
                vec![
                    DropConnection,
                    StopTimer(ConnectRetry),
                    unexpected(State::Active, "NotifMsg"),
                    StartTimer(ConnectRetry, secs(10)),
                ],
                State::Idle,
            ),
            case("stale keepalive timer ignored", Event::KeepaliveTimerExpires, vec![], State::Active),
            case("AutomaticStart is a no-op", Event::AutomaticStart, vec![], State::Active),
        ],
    );
}

#[test]
fn passive_session_listens_and_never_dials() {
    let mut c = config();
    c.passive = true;
    let mut h = Harness::new(c);
    assert_eq!(h.step(Event::ManualStart), vec![]);
    assert_eq!(h.state(), State::Active);
    assert_eq!(h.session.next_deadline(), None, "a passive session has no retry timer to wait on");
    let open = h.session.local_open().clone();
    assert_eq!(h.step(Event::TcpConnectionConfirmed), vec![SendOpen(open), StartTimer(Hold, secs(240))]);
    // A lost connection goes back to listening, with nothing to retry.
    assert_eq!(
        h.step(Event::TcpConnectionFails),
        vec![DropConnection, StopTimer(Hold), Down(DownReason::ConnectionFailed)]
    );
    assert_eq!(h.state(), State::Active);
    // An error waits in Idle (refusing connections), then listens again without dialing.
    h.step(Event::TcpConnectionConfirmed);
    let actions = h.step(Event::KeepAliveMsg);
    assert_eq!(actions.last(), Some(&StartTimer(ConnectRetry, secs(5))));
    assert_eq!(h.state(), State::Idle);
    assert_eq!(h.step(Event::TcpConnectionConfirmed), vec![DropConnection]);
    assert_eq!(h.step(Event::ConnectRetryTimerExpires), vec![]);
    assert_eq!(h.state(), State::Active);
}

#[test]
fn manual_stop_cancels_the_automatic_restart() {
    let mut h = Harness::in_state(config(), State::Established);
    h.step(Event::NotifMsg(Notification::administrative_shutdown()));
    assert_eq!(h.state(), State::Idle);
    assert!(h.session.deadline(ConnectRetry).is_some());
    assert_eq!(h.step(Event::ManualStop), vec![StopTimer(ConnectRetry)]);
    assert_eq!(h.step(Event::ConnectRetryTimerExpires), vec![], "the cancelled restart is stale");
    assert_eq!(h.state(), State::Idle);
}

#[test]
fn idle_restarts_by_itself_after_a_failure() {
    let mut h = Harness::in_state(config(), State::Established);
    let actions = h.step(Event::TcpConnectionFails);
    assert_eq!(actions.last(), Some(&StartTimer(ConnectRetry, secs(5))));
    assert_eq!(h.state(), State::Idle);
    h.advance(secs(5));
    assert_eq!(h.step(Event::ConnectRetryTimerExpires), vec![Connect, StartTimer(ConnectRetry, secs(10))]);
    assert_eq!(h.state(), State::Connect);
}

#[test]
fn manual_stop_then_start_resets_counter_and_backoff() {
    let mut h = Harness::in_state(config(), State::OpenSent);
    h.step(Event::NotifMsg(Notification::new(6, 5, vec![])));
    h.step(Event::ConnectRetryTimerExpires);
    h.step(Event::TcpConnectionFails);
    assert_eq!(h.session.connect_retry_counter(), 2);
    h.step(Event::ManualStop);
    assert_eq!(h.session.connect_retry_counter(), 0);
    assert_eq!(h.step(Event::ManualStart), vec![Connect, StartTimer(ConnectRetry, secs(5))]);
}

#[test]
fn invalid_settings_are_refused_at_construction() {
    let mut c = config();
    c.hold_time = secs(2);
    assert_eq!(Session::new(c).unwrap_err(), ConfigError::HoldTime(secs(2)));
}

#[test]
fn manual_start_while_waiting_in_idle_dials_at_once_with_a_fresh_backoff() {
    let mut h = Harness::in_state(config(), State::Connect);
    h.step(Event::TcpConnectionFails);
    h.step(Event::ConnectRetryTimerExpires);
    h.step(Event::TcpCrAcked);
    h.step(Event::BgpOpen(OpenParams { asn: 1, ..peer_open() }));
    assert_eq!(h.state(), State::Idle);
    assert_eq!(h.session.deadline(ConnectRetry), Some(h.now + secs(10)), "waiting out the grown delay");
    assert_eq!(h.step(Event::ManualStart), vec![Connect, StartTimer(ConnectRetry, secs(5))]);
    assert_eq!(h.state(), State::Connect);
}
