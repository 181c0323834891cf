//! Poll Sequences and parameter changes (RFC 5880 sections 6.5 and 6.8.3).

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The peer as it sends once Up, patient enough that the tests need not feed it, sending fast.
fn fast_peer(state: State) -> ControlPacket {
    ControlPacket { detect_mult: 100, desired_min_tx: Micros(50_000), required_min_rx: Micros(50_000), ..peer(state) }
}

fn final_from(peer: ControlPacket) -> ControlPacket {
    ControlPacket { final_: true, ..peer }
}

#[test]
fn going_up_polls_with_the_configured_interval_until_the_final() {
    let mut h = Harness::new(config());
    h.bring_up();
    assert!(h.session.polling());
    let (packets, _) = h.run_for(ms(700));
    assert!(packets.len() >= 2);
    for (_, p) in &packets {
        assert!(p.poll && !p.final_);
        assert_eq!(p.desired_min_tx, Micros(300_000));
    }
    h.recv(final_from(peer(State::Up)));
    assert!(!h.session.polling());
    let (packets, _) = h.run_for(ms(400));
    assert!(packets.iter().all(|(_, p)| !p.poll));
}

#[test]
fn a_longer_transmit_interval_while_up_waits_for_the_final() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(fast_peer(State::Up));
    h.session.set_config(h.now, SessionConfig { desired_min_tx: secs(2), ..config() }).unwrap();
    assert!(h.session.polling());
    assert_eq!(h.session.tx_interval(), ms(300), "the old interval until the peer confirms");
    let (packets, _) = h.run_for(secs(2));
    assert!(packets.len() >= 6);
    assert!(packets.iter().all(|(_, p)| p.poll && p.desired_min_tx == Micros(2_000_000)));

    h.recv(final_from(fast_peer(State::Up)));
    assert_eq!(h.session.tx_interval(), secs(2));
    let (packets, _) = h.run_for(secs(10));
    assert!(packets.len() <= 7);
}

#[test]
fn a_shorter_transmit_interval_applies_at_once() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(fast_peer(State::Up));
    h.run_for(ms(10));
    h.session.set_config(h.now, SessionConfig { desired_min_tx: ms(100), ..config() }).unwrap();
    assert!(h.session.polling());
    assert_eq!(h.session.tx_interval(), ms(100));
    assert!(h.session.next_deadline().unwrap() <= h.now + ms(100), "the next packet comes forward");
}

#[test]
fn a_shorter_receive_interval_while_up_keeps_the_old_detection_time_until_the_final() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(fast_peer(State::Up));
    assert_eq!(h.session.detection_time(), Some(ms(300) * 100));
    h.session.set_config(h.now, SessionConfig { required_min_rx: ms(100), ..config() }).unwrap();
    assert_eq!(h.session.detection_time(), Some(ms(300) * 100));
    let (packets, _) = h.run_for(ms(400));
    assert!(packets.iter().all(|(_, p)| p.poll && p.required_min_rx == Micros(100_000)));
    h.recv(final_from(fast_peer(State::Up)));
    assert_eq!(h.session.detection_time(), Some(ms(100) * 100));
}

#[test]
fn a_longer_receive_interval_applies_at_once() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(fast_peer(State::Up));
    h.session.set_config(h.now, SessionConfig { required_min_rx: secs(1), ..config() }).unwrap();
    assert!(h.session.polling());
    assert_eq!(h.session.detection_time(), Some(secs(100)));
}

#[test]
fn changes_while_not_up_apply_at_once() {
    let mut h = Harness::new(config());
    h.session
        .set_config(h.now, SessionConfig { desired_min_tx: secs(5), required_min_rx: ms(10), ..config() })
        .unwrap();
    assert_eq!(h.session.tx_interval(), secs(5));
    h.recv(ControlPacket { your_discriminator: 0, ..fast_peer(State::Down) });
    assert_eq!(h.session.detection_time(), Some(ms(50) * 100));
}

#[test]
fn other_changes_start_no_poll() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.session.set_config(h.now, SessionConfig { detect_mult: 5, passive: true, ..config() }).unwrap();
    assert!(!h.session.polling());
    let (packets, _) = h.run_for(ms(400));
    assert_eq!(packets[0].1.detect_mult, 5);
}

#[test]
fn unusable_configurations_are_refused() {
    let now = Instant::now();
    assert_eq!(Session::new(0, config(), now, SEED).unwrap_err(), ConfigError::ZeroLocalDiscriminator);
    assert_eq!(
        Session::new(LOCAL, SessionConfig { detect_mult: 0, ..config() }, now, SEED).unwrap_err(),
        ConfigError::ZeroDetectMult
    );
    let mut session = Session::new(LOCAL, config(), now, SEED).unwrap();
    for bad in [
        SessionConfig { desired_min_tx: Duration::ZERO, ..config() },
        SessionConfig { desired_min_tx: Duration::from_nanos(999), ..config() },
        SessionConfig { required_min_rx: Duration::from_secs(5000), ..config() },
    ] {
        assert!(matches!(session.set_config(now, bad), Err(ConfigError::IntervalOutOfRange { .. })), "{bad:?}");
    }
    assert_eq!(session.config(), &config());
    // Zero is a valid receive interval: send me nothing.
    assert!(session.set_config(now, SessionConfig { required_min_rx: Duration::ZERO, ..config() }).is_ok());
}
