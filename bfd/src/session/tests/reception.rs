//! The reception rules of RFC 5880 section 6.8.6 that need the session (the packet-only ones are
//! in `packet`, the lookup in `demux`).

use super::*;

#[test]
fn drops_a_your_discriminator_that_is_not_ours() {
    let mut h = Harness::new(config());
    let reason = h.recv_dropped(ControlPacket { your_discriminator: LOCAL + 1, ..peer(State::Init) });
    assert_eq!(reason, DropReason::DiscriminatorMismatch);
    assert_eq!(h.session.state(), State::Down);
    assert_eq!(h.session.remote_discriminator(), 0, "nothing learned from a dropped packet");
}

#[test]
fn accepts_your_discriminator_zero_in_down() {
    let mut h = Harness::new(config());
    assert!(h.session.on_packet(h.now, &ControlPacket { your_discriminator: 0, ..peer(State::Down) }).is_ok());
}

#[test]
fn learns_the_peer_and_addresses_it_from_then_on() {
    let mut h = Harness::new(config());
    let first = sent(&h.session.on_timer(h.now));
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].my_discriminator, first[0].your_discriminator), (LOCAL, 0));
    h.advance(ms(10));
    h.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
    assert_eq!(h.session.remote_discriminator(), PEER);
    assert_eq!(h.session.remote_state(), State::Down);
    let (packets, _) = h.run_for(Duration::from_secs(1));
    assert_eq!(packets[0].1.your_discriminator, PEER);
    assert_eq!(packets[0].1.state, State::Init);
}

#[test]
fn discards_everything_while_admin_down_yet_learns_the_peer() {
    let mut h = Harness::new(config());
    h.session.admin_down(h.now);
    assert_eq!(h.recv_dropped(peer(State::Init)), DropReason::AdminDown);
    assert_eq!(h.session.state(), State::AdminDown);
    // The RFC learns the peer's values before this check: our AdminDown reaches it addressed.
    assert_eq!(h.session.remote_discriminator(), PEER);
}

#[test]
fn answers_a_poll_at_once_with_final_and_never_poll() {
    let mut h = Harness::new(config());
    h.bring_up(); // going Up started our own Poll Sequence
    assert!(h.session.polling());
    h.run_for(ms(100)); // the periodic packet went out
    let actions = h.recv(ControlPacket { poll: true, ..peer(State::Up) });
    let packets = sent(&actions);
    assert_eq!(packets.len(), 1, "the answer, outside the periodic schedule");
    assert!(packets[0].final_ && !packets[0].poll);
    assert_eq!(packets[0].state, State::Up);
}

#[test]
fn answers_a_poll_with_the_state_it_moved_to() {
    let mut h = Harness::new(config());
    let actions = h.recv(ControlPacket { poll: true, your_discriminator: 0, ..peer(State::Down) });
    let finals: Vec<_> = sent(&actions).into_iter().filter(|p| p.final_).collect();
    assert_eq!(finals.len(), 1);
    assert_eq!((finals[0].state, finals[0].your_discriminator), (State::Init, PEER));
}

#[test]
fn a_final_without_a_poll_in_progress_changes_nothing() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    let interval = h.session.tx_interval();
    h.recv(ControlPacket { final_: true, ..peer(State::Up) });
    assert!(!h.session.polling());
    assert_eq!(h.session.tx_interval(), interval);
}
