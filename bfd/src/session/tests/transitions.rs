//! The state machine of RFC 5880 section 6.2 (as section 6.8.6 drives it), transition by transition.

use super::*;

#[test]
fn down_goes_init_when_the_peer_says_down() {
    let mut h = Harness::new(config());
    let actions = h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    assert_eq!(changes(&actions), [(State::Down, State::Init, Diagnostic::NoDiagnostic)]);
    assert_eq!(h.session.state(), State::Init);
}

#[test]
fn down_goes_up_when_the_peer_says_init() {
    let mut h = Harness::new(config());
    let actions = h.recv(peer(State::Init));
    assert_eq!(changes(&actions), [(State::Down, State::Up, Diagnostic::NoDiagnostic)]);
}

#[test]
fn down_stays_down_when_the_peer_says_up() {
    let mut h = Harness::new(config());
    let actions = h.recv(peer(State::Up));
    assert_eq!(changes(&actions), []);
    assert_eq!(h.session.state(), State::Down);
}

#[test]
fn init_goes_up_when_the_peer_says_init_or_up() {
    for remote in [State::Init, State::Up] {
        let mut h = Harness::new(config());
        h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
        let actions = h.recv(peer(remote));
        assert_eq!(changes(&actions), [(State::Init, State::Up, Diagnostic::NoDiagnostic)], "peer {remote}");
    }
}

#[test]
fn init_stays_init_when_the_peer_says_down() {
    let mut h = Harness::new(config());
    h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    assert_eq!(changes(&h.recv(peer(State::Down))), []);
    assert_eq!(h.session.state(), State::Init);
}

#[test]
fn up_goes_down_when_the_peer_says_down() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    let actions = h.recv(ControlPacket { diag: Diagnostic::ControlDetectionTimeExpired, ..peer(State::Down) });
    assert_eq!(changes(&actions), [(State::Up, State::Down, Diagnostic::NeighborSignaledSessionDown)]);
    assert_eq!(h.session.local_diag(), Diagnostic::NeighborSignaledSessionDown);
    assert_eq!(h.session.remote_diag(), Diagnostic::ControlDetectionTimeExpired);
    // The next packet says why.
    let (packets, _) = h.run_for(Duration::from_secs(2));
    assert_eq!(packets[0].1.state, State::Down);
    assert_eq!(packets[0].1.diag, Diagnostic::NeighborSignaledSessionDown);
}

#[test]
fn up_stays_up_when_the_peer_says_init_or_up() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    assert_eq!(changes(&h.recv(peer(State::Init))), []);
    assert_eq!(changes(&h.recv(peer(State::Up))), []);
    assert_eq!(h.session.state(), State::Up);
}

#[test]
fn admin_down_from_the_peer_takes_init_and_up_down() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    let admin_down = ControlPacket { diag: Diagnostic::AdministrativelyDown, ..peer(State::AdminDown) };
    let actions = h.recv(admin_down);
    assert_eq!(changes(&actions), [(State::Up, State::Down, Diagnostic::NeighborSignaledSessionDown)]);
    // Down stays Down: the peer's AdminDown does not start the handshake.
    assert_eq!(changes(&h.recv(admin_down)), []);
    assert_eq!(h.session.state(), State::Down);

    let mut h = Harness::new(config());
    h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    let actions = h.recv(admin_down);
    assert_eq!(changes(&actions), [(State::Init, State::Down, Diagnostic::NeighborSignaledSessionDown)]);
}

#[test]
fn detection_timeout_takes_up_down_and_forgets_the_peer() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    // Peer: Detect Mult 3, 300 ms both ways: 900 ms.
    assert_eq!(h.session.detection_time(), Some(ms(900)));
    let heard = h.now;
    let (packets, state_changes) = h.run_for(ms(899));
    assert_eq!(state_changes, []);
    assert!(packets.iter().all(|(_, p)| p.state == State::Up));
    let (packets, state_changes) = h.run_until(heard + ms(900));
    assert_eq!(state_changes, [(State::Up, State::Down, Diagnostic::ControlDetectionTimeExpired)]);
    assert_eq!(h.session.remote_discriminator(), 0);
    assert_eq!(h.session.detection_time(), None);
    // Whatever went out at the timeout itself already says Down, to nobody in particular.
    assert!(packets.iter().all(|(at, p)| *at < heard + ms(900) || p.your_discriminator == 0));
    let (packets, _) = h.run_for(Duration::from_secs(3));
    assert!(!packets.is_empty());
    for (_, p) in packets {
        assert_eq!((p.state, p.diag, p.your_discriminator), (State::Down, Diagnostic::ControlDetectionTimeExpired, 0));
        assert_eq!(p.desired_min_tx, Micros(1_000_000), "slow start again");
    }
}

#[test]
fn detection_timeout_takes_init_down() {
    let mut h = Harness::new(config());
    h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    // While not Up the peer advertises at least 1 s: 3 s to detect.
    h.recv(ControlPacket { your_discriminator: 0, desired_min_tx: Micros(1_000_000), ..peer(State::Down) });
    assert_eq!(h.session.detection_time(), Some(Duration::from_secs(3)));
    let (_, state_changes) = h.run_for(Duration::from_secs(3));
    assert_eq!(state_changes, [(State::Init, State::Down, Diagnostic::ControlDetectionTimeExpired)]);
}

#[test]
fn detection_timeout_in_down_only_forgets_the_peer() {
    let mut h = Harness::new(config());
    h.recv(peer(State::Up)); // Down stays Down, but the peer is now known
    assert_eq!(h.session.remote_discriminator(), PEER);
    let (_, state_changes) = h.run_for(ms(900));
    assert_eq!(state_changes, []);
    assert_eq!(h.session.remote_discriminator(), 0);
}

#[test]
fn admin_down_locally_sends_admin_down_at_once_and_admin_up_returns_to_down() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.advance(ms(1));
    let actions = h.session.admin_down(h.now);
    assert_eq!(changes(&actions), [(State::Up, State::AdminDown, Diagnostic::AdministrativelyDown)]);
    let packets = sent(&actions);
    assert_eq!(packets.len(), 1);
    assert_eq!((packets[0].state, packets[0].diag), (State::AdminDown, Diagnostic::AdministrativelyDown));
    assert_eq!(h.session.admin_down(h.now), []);
    // It keeps saying so, whatever the peer says.
    assert_eq!(h.recv_dropped(ControlPacket { your_discriminator: 0, ..peer(State::Down) }), DropReason::AdminDown);
    let (packets, _) = h.run_for(Duration::from_secs(2));
    assert!(!packets.is_empty());
    assert!(packets.iter().all(|(_, p)| p.state == State::AdminDown));

    let actions = h.session.admin_up(h.now);
    assert_eq!(changes(&actions), [(State::AdminDown, State::Down, Diagnostic::NoDiagnostic)]);
    assert_eq!(h.session.admin_up(h.now), []);
    h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    assert_eq!(h.session.state(), State::Init);
}
