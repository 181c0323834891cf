//! OpenSent, OpenConfirm and Established: OPEN handling, errors, NOTIFICATIONs, shutdown.

use super::*;
use Action::*;
use Timer::*;

/// The actions of an error we detect: NOTIFICATION, close, stop `running`, Down, restart delay.
fn failed(notification: Notification, running: &[Timer]) -> Vec<Action> {
    let mut actions = vec![SendNotification(notification.clone()), DropConnection];
    actions.extend(running.iter().map(|t| StopTimer(*t)));
    actions.push(Down(DownReason::NotificationSent(notification)));
    actions.push(StartTimer(ConnectRetry, secs(5)));
    actions
}

/// The actions of a loss without our NOTIFICATION (peer's NOTIFICATION, TCP failure).
fn lost(reason: DownReason, running: &[Timer]) -> Vec<Action> {
    let mut actions = vec![DropConnection];
    actions.extend(running.iter().map(|t| StopTimer(*t)));
    actions.push(Down(reason));
    actions.push(StartTimer(ConnectRetry, secs(5)));
    actions
}

/// The actions of a Cease we send that leaves the session down for good.
fn ceased(notification: Notification, reason: DownReason, running: &[Timer]) -> Vec<Action> {
    let mut actions = vec![SendNotification(notification), DropConnection];
    actions.extend(running.iter().map(|t| StopTimer(*t)));
    actions.push(Down(reason));
    actions
}

fn hold_expired(running: &[Timer]) -> Vec<Action> {
    let mut actions = vec![SendNotification(Notification::hold_timer_expired()), DropConnection];
    actions.extend(running.iter().map(|t| StopTimer(*t)));
    actions.push(Down(DownReason::HoldTimerExpired));
    actions.push(StartTimer(ConnectRetry, secs(5)));
    actions
}

fn update_err(reset: bool) -> Event {
    Event::UpdateMsgErr { notification: Notification::new(3, 1, vec![]), session_reset: reset }
}

#[test]
fn open_sent_table() {
    let with = |f: fn(&mut OpenParams)| {
        let mut p = peer_open();
        f(&mut p);
        Event::BgpOpen(p)
    };
    check_table(
        State::OpenSent,
        vec![
            case(
                "valid OPEN: KEEPALIVE, negotiated timers",
                Event::BgpOpen(peer_open()),
                vec![SendKeepalive, StartTimer(Hold, secs(90)), StartTimer(Keepalive, secs(30))],
                State::OpenConfirm,
            ),
            case(
                "version 3",
                with(|p| p.version = 3),
                failed(Notification::new(2, 1, vec![0, 4]), &[Hold]),
                State::Idle,
            ),
            case("wrong AS", with(|p| p.asn = 64513), failed(Notification::new(2, 2, vec![]), &[Hold]), State::Idle),
            case(
                "router id 0.0.0.0",
                with(|p| p.router_id = Ipv4Addr::UNSPECIFIED),
                failed(Notification::new(2, 3, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "hold time 1",
                with(|p| p.hold_time = 1),
                failed(Notification::new(2, 6, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "hold time 2",
                with(|p| p.hold_time = 2),
                failed(Notification::new(2, 6, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "header error sends the codec's NOTIFICATION",
                Event::BgpHeaderErr(Notification::new(1, 2, vec![0, 5])),
                failed(Notification::new(1, 2, vec![0, 5]), &[Hold]),
                State::Idle,
            ),
            case(
                "OPEN error sends the codec's NOTIFICATION",
                Event::BgpOpenMsgErr(Notification::new(2, 4, vec![])),
                failed(Notification::new(2, 4, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "KEEPALIVE before OPEN: FSM error 5/1",
                Event::KeepAliveMsg,
                failed(Notification::new(5, 1, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "UPDATE before OPEN: FSM error 5/1",
                Event::UpdateMsg,
                failed(Notification::new(5, 1, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "bad UPDATE before OPEN: FSM error 5/1",
                update_err(false),
                failed(Notification::new(5, 1, vec![]), &[Hold]),
                State::Idle,
            ),
            case(
                "peer's NOTIFICATION",
                Event::NotifMsg(Notification::new(2, 2, vec![])),
                lost(DownReason::NotificationReceived(Notification::new(2, 2, vec![])), &[Hold]),
                State::Idle,
            ),
            case("large hold timer expires", Event::HoldTimerExpires, hold_expired(&[]), State::Idle),
            case(
                "TCP failure goes back to Active",
                Event::TcpConnectionFails,
                lost(DownReason::ConnectionFailed, &[Hold]),
                State::Active,
            ),
            case(
                "ManualStop: Cease 6/2",
                Event::ManualStop,
                ceased(Notification::new(6, 2, vec![]), DownReason::Stopped, &[Hold]),
                State::Idle,
            ),
            case(
                "collision lost: Cease 6/7",
                Event::OpenCollisionDump,
                ceased(Notification::new(6, 7, vec![]), DownReason::CollisionLost, &[Hold]),
                State::Idle,
            ),
            case("second connection is not this session's", Event::TcpConnectionConfirmed, vec![], State::OpenSent),
            case("stale retry timer ignored", Event::ConnectRetryTimerExpires, vec![], State::OpenSent),
            case("stale keepalive timer ignored", Event::KeepaliveTimerExpires, vec![], State::OpenSent),
        ],
    );
}

#[test]
fn open_confirm_table() {
    const BOTH: &[Timer] = &[Hold, Keepalive];
    check_table(
        State::OpenConfirm,
        vec![
            case(
                "KEEPALIVE: Established with negotiated timers",
                Event::KeepAliveMsg,
                vec![StartTimer(Hold, secs(90)), Established(negotiated())],
                State::Established,
            ),
            case(
                "keepalive timer: send and rearm",
                Event::KeepaliveTimerExpires,
                vec![SendKeepalive, StartTimer(Keepalive, secs(30))],
                State::OpenConfirm,
            ),
            case("hold timer: 4/0", Event::HoldTimerExpires, hold_expired(&[Keepalive]), State::Idle),
            case(
                "peer's NOTIFICATION",
                Event::NotifMsg(Notification::new(6, 5, vec![])),
                lost(DownReason::NotificationReceived(Notification::new(6, 5, vec![])), BOTH),
                State::Idle,
            ),
            case("TCP failure", Event::TcpConnectionFails, lost(DownReason::ConnectionFailed, BOTH), State::Idle),
            case(
                "second OPEN: FSM error 5/2",
                Event::BgpOpen(peer_open()),
                failed(Notification::new(5, 2, vec![]), BOTH),
                State::Idle,
            ),
            case("UPDATE: FSM error 5/2", Event::UpdateMsg, failed(Notification::new(5, 2, vec![]), BOTH), State::Idle),
            case(
                "bad UPDATE: FSM error 5/2",
                update_err(true),
                failed(Notification::new(5, 2, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "header error",
                Event::BgpHeaderErr(Notification::new(1, 1, vec![])),
                failed(Notification::new(1, 1, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "OPEN error",
                Event::BgpOpenMsgErr(Notification::new(2, 7, vec![])),
                failed(Notification::new(2, 7, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "ManualStop: Cease 6/2",
                Event::ManualStop,
                ceased(Notification::new(6, 2, vec![]), DownReason::Stopped, BOTH),
                State::Idle,
            ),
            case(
                "collision lost: Cease 6/7",
                Event::OpenCollisionDump,
                ceased(Notification::new(6, 7, vec![]), DownReason::CollisionLost, BOTH),
                State::Idle,
            ),
            case("ManualStart is a no-op", Event::ManualStart, vec![], State::OpenConfirm),
        ],
    );
}

#[test]
fn established_table() {
    const BOTH: &[Timer] = &[Hold, Keepalive];
    check_table(
        State::Established,
        vec![
            case(
                "KEEPALIVE restarts the hold timer",
                Event::KeepAliveMsg,
                vec![StartTimer(Hold, secs(90))],
                State::Established,
            ),
            case(
                "UPDATE restarts the hold timer",
                Event::UpdateMsg,
                vec![StartTimer(Hold, secs(90))],
                State::Established,
            ),
            case(
                "bad UPDATE treated as withdraw: no reset, still heard",
                update_err(false),
                vec![StartTimer(Hold, secs(90))],
                State::Established,
            ),
            case(
                "bad UPDATE asking for a reset",
                update_err(true),
                failed(Notification::new(3, 1, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "keepalive timer: send and rearm",
                Event::KeepaliveTimerExpires,
                vec![SendKeepalive, StartTimer(Keepalive, secs(30))],
                State::Established,
            ),
            case("hold timer: 4/0", Event::HoldTimerExpires, hold_expired(&[Keepalive]), State::Idle),
            case(
                "peer's Cease",
                Event::NotifMsg(Notification::new(6, 2, b"\x04bye".to_vec())),
                lost(DownReason::NotificationReceived(Notification::new(6, 2, b"\x04bye".to_vec())), BOTH),
                State::Idle,
            ),
            case("TCP failure", Event::TcpConnectionFails, lost(DownReason::ConnectionFailed, BOTH), State::Idle),
            case(
                "OPEN: FSM error 5/3",
                Event::BgpOpen(peer_open()),
                failed(Notification::new(5, 3, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "bad OPEN: FSM error 5/3",
                Event::BgpOpenMsgErr(Notification::new(2, 2, vec![])),
                failed(Notification::new(5, 3, vec![]), BOTH),
                State::Idle,
            ),
            case(
                "header error",
                Event::BgpHeaderErr(Notification::new(1, 3, vec![9])),
                failed(Notification::new(1, 3, vec![9]), BOTH),
                State::Idle,
            ),
            case(
                "ManualStop: Cease 6/2",
                Event::ManualStop,
                ceased(Notification::new(6, 2, vec![]), DownReason::Stopped, BOTH),
                State::Idle,
            ),
            case(
                "collision lost: Cease 6/7",
                Event::OpenCollisionDump,
                ceased(Notification::new(6, 7, vec![]), DownReason::CollisionLost, BOTH),
                State::Idle,
            ),
            case("second connection ignored", Event::TcpConnectionConfirmed, vec![], State::Established),
            case("stale retry timer ignored", Event::ConnectRetryTimerExpires, vec![], State::Established),
        ],
    );
}

#[test]
fn established_reports_what_was_negotiated_and_forgets_it_on_down() {
    let mut h = Harness::in_state(config(), State::OpenConfirm);
    assert_eq!(h.session.peer_open(), Some(&peer_open()));
    h.advance(secs(2));
    let established_at = h.now;
    h.step(Event::KeepAliveMsg);
    assert_eq!(h.session.negotiated(), Some(&negotiated()));
    assert_eq!(h.session.established_since(), Some(established_at));
    h.step(Event::TcpConnectionFails);
    assert_eq!(h.session.negotiated(), None);
    assert_eq!(h.session.peer_open(), None);
    assert_eq!(h.session.established_since(), None);
}

#[test]
fn ibgp_with_dynamic_asn_negotiates_internal() {
    let mut c = config();
    c.peer_asn = PeerAsn::DynamicInternal;
    let mut h = Harness::in_state(c, State::OpenSent);
    h.step(Event::BgpOpen(OpenParams { asn: 64600, ipv6_unicast: false, ..peer_open() }));
    let actions = h.step(Event::KeepAliveMsg);
    let expected = Negotiated { peer_asn: 64600, internal: true, ipv6_unicast: false, ..negotiated() };
    assert_eq!(actions, vec![StartTimer(Hold, secs(90)), Established(expected)]);
}

#[test]
fn dynamic_external_refuses_our_own_as() {
    let mut c = config();
    c.peer_asn = PeerAsn::DynamicExternal;
    let mut h = Harness::in_state(c, State::OpenSent);
    let actions = h.step(Event::BgpOpen(OpenParams { asn: 64600, ..peer_open() }));
    assert_eq!(actions, failed(Notification::bad_peer_as(), &[Hold]));
}

#[test]
fn ibgp_peer_with_our_router_id_is_refused() {
    let mut c = config();
    c.peer_asn = PeerAsn::Fixed(64600);
    let mut h = Harness::in_state(c, State::OpenSent);
    let actions = h.step(Event::BgpOpen(OpenParams { asn: 64600, router_id: LOCAL_ID, ..peer_open() }));
    assert_eq!(actions, failed(Notification::bad_bgp_identifier(), &[Hold]));
}
