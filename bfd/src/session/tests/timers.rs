//! Slow start, interval negotiation, jitter, detection time, the Passive role and a peer that wants
//! no packets (RFC 5880 sections 6.1, 6.8.3, 6.8.4, 6.8.7).

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Whether every gap is within `low..=high` (in per mille of `interval`), and there are some.
fn assert_gaps_within(gaps: &[Duration], interval: Duration, low: u32, high: u32) {
    assert!(!gaps.is_empty());
    for gap in gaps {
        assert!(*gap >= interval * low / 1000 && *gap <= interval * high / 1000, "gap {gap:?} of {interval:?}");
    }
}

/// The peer as it sends once Up, with a multiplier large enough that the tests need not feed it.
fn patient_peer(state: State) -> ControlPacket {
    ControlPacket { detect_mult: 100, ..peer(state) }
}

#[test]
fn an_active_session_sends_at_once() {
    let h = Harness::new(config());
    assert_eq!(h.session.next_deadline(), Some(h.base));
}

#[test]
fn slow_start_sends_every_second_until_up_then_at_the_configured_interval() {
    let mut h = Harness::new(config());
    let (packets, _) = h.run_for(secs(10));
    for (_, p) in &packets {
        assert_eq!((p.state, p.desired_min_tx, p.required_min_rx), (State::Down, Micros(1_000_000), Micros(300_000)));
    }
    let gaps: Vec<_> = packets.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_gaps_within(&gaps, secs(1), 750, 1000);
    assert_eq!(h.session.tx_interval(), secs(1));

    h.recv(ControlPacket { your_discriminator: 0, ..patient_peer(State::Down) });
    h.recv(patient_peer(State::Up));
    assert_eq!(h.session.state(), State::Up);
    assert_eq!(h.session.tx_interval(), ms(300));
    let (packets, _) = h.run_for(secs(5));
    assert!(packets.iter().all(|(_, p)| p.desired_min_tx == Micros(300_000)));
    let gaps: Vec<_> = packets.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_gaps_within(&gaps, ms(300), 750, 1000);
}

#[test]
fn slow_start_keeps_a_configured_interval_over_a_second() {
    let mut h = Harness::new(SessionConfig { desired_min_tx: secs(2), ..config() });
    assert_eq!(h.session.tx_interval(), secs(2));
    let (packets, _) = h.run_for(secs(1));
    assert_eq!(packets[0].1.desired_min_tx, Micros(2_000_000));
}

#[test]
fn a_slower_peer_sets_the_transmit_interval() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(ControlPacket { required_min_rx: Micros(1_000_000), ..patient_peer(State::Up) });
    assert_eq!(h.session.tx_interval(), secs(1));
    let gaps = h.gaps_for(secs(10));
    assert_gaps_within(&gaps, secs(1), 750, 1000);
}

#[test]
fn a_faster_peer_does_not_speed_us_up() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(ControlPacket { required_min_rx: Micros(50_000), ..patient_peer(State::Up) });
    assert_eq!(h.session.tx_interval(), ms(300));
    let gaps = h.gaps_for(secs(10));
    assert_gaps_within(&gaps, ms(300), 750, 1000);
}

#[test]
fn a_peer_asking_for_more_packets_gets_the_next_one_sooner() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(ControlPacket { required_min_rx: Micros(5_000_000), ..patient_peer(State::Up) });
    // The packet already scheduled goes out; the next waits the new interval.
    h.run_for(ms(400));
    assert!(h.session.next_deadline().unwrap() > h.now + secs(3));
    h.recv(patient_peer(State::Up));
    assert!(h.session.next_deadline().unwrap() <= h.now + ms(300));
}

#[test]
fn detection_time_is_the_peer_multiplier_times_the_slower_of_the_two() {
    let mut h = Harness::new(config());
    assert_eq!(h.session.detection_time(), None);
    h.bring_up_settled();
    // The peer sends slower than we need: its interval counts.
    h.recv(ControlPacket { desired_min_tx: Micros(500_000), detect_mult: 5, ..peer(State::Up) });
    assert_eq!(h.session.detection_time(), Some(ms(2500)));
    // The peer could send faster than we need: our required interval counts.
    h.recv(ControlPacket { desired_min_tx: Micros(100_000), detect_mult: 4, ..peer(State::Up) });
    assert_eq!(h.session.detection_time(), Some(ms(1200)));
    // Each packet restarts it.
    assert_eq!(h.session.next_deadline().map(|d| d <= h.now + ms(1200)), Some(true));
}

#[test]
fn jitter_takes_0_to_25_percent_off() {
    let mut h = Harness::new(config());
    let gaps = h.gaps_for(secs(1000));
    assert!(gaps.len() > 1000);
    assert_gaps_within(&gaps, secs(1), 750, 1000);
    // Spread over the whole range, not stuck at one end.
    assert!(gaps.iter().min().unwrap() < &ms(760));
    assert!(gaps.iter().max().unwrap() > &ms(990));
}

#[test]
fn jitter_takes_10_to_25_percent_off_with_detect_mult_1() {
    let mut h = Harness::new(SessionConfig { detect_mult: 1, ..config() });
    let gaps = h.gaps_for(secs(1000));
    assert!(gaps.len() > 1000);
    assert_gaps_within(&gaps, secs(1), 750, 900);
    assert!(gaps.iter().min().unwrap() < &ms(760));
    assert!(gaps.iter().max().unwrap() > &ms(890));
}

#[test]
fn the_seed_decides_the_schedule() {
    let gaps = |seed| {
        let base = Instant::now();
        let mut h = Harness { session: Session::new(LOCAL, config(), base, seed).unwrap(), base, now: base };
        h.gaps_for(secs(20))
    };
    assert_eq!(gaps(7), gaps(7));
    assert_ne!(gaps(7), gaps(8));
}

#[test]
fn a_passive_session_waits_for_the_peer() {
    let mut h = Harness::new(SessionConfig { passive: true, ..config() });
    assert_eq!(h.session.next_deadline(), None);
    let (packets, _) = h.run_for(secs(10));
    assert_eq!(packets, []);
    assert_eq!(h.session.on_timer(h.now), []);

    let actions = h.recv(ControlPacket { your_discriminator: 0, ..patient_peer(State::Down) });
    let packets = sent(&actions);
    assert_eq!(packets.len(), 1, "the first packet goes out at once");
    assert_eq!((packets[0].state, packets[0].your_discriminator), (State::Init, PEER));
    let gaps = h.gaps_for(ms(2900));
    assert_gaps_within(&gaps, secs(1), 750, 1000);
}

#[test]
fn a_passive_session_falls_silent_when_the_peer_times_out() {
    let mut h = Harness::new(SessionConfig { passive: true, ..config() });
    h.bring_up_settled();
    h.run_for(secs(1)); // 900 ms detection time
    assert_eq!(h.session.state(), State::Down);
    assert_eq!(h.session.next_deadline(), None);
}

#[test]
fn a_peer_requiring_no_packets_gets_none_but_its_polls_answered() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(ControlPacket { required_min_rx: Micros(0), ..patient_peer(State::Up) });
    let detection = h.now + h.session.detection_time().unwrap();
    assert_eq!(h.session.next_deadline(), Some(detection), "only the detection timer runs");
    let (packets, _) = h.run_for(secs(10));
    assert_eq!(packets, []);
    let answer = sent(&h.recv(ControlPacket { required_min_rx: Micros(0), poll: true, ..patient_peer(State::Up) }));
    assert_eq!(answer.len(), 1);
    assert!(answer[0].final_);

    // Asking again restarts transmission at once.
    let actions = h.recv(patient_peer(State::Up));
    assert_eq!(sent(&actions).len(), 1);
    let gaps = h.gaps_for(secs(3));
    assert_gaps_within(&gaps, ms(300), 750, 1000);
}

#[test]
fn a_peer_in_demand_mode_gets_no_periodic_packets_once_both_are_up() {
    let mut h = Harness::new(config());
    h.bring_up_settled();
    h.recv(ControlPacket { demand: true, ..patient_peer(State::Up) });
    let (packets, _) = h.run_for(secs(5));
    assert_eq!(packets, []);
    // A Poll Sequence of ours is sent all the same.
    h.session.set_config(h.now, SessionConfig { desired_min_tx: ms(200), ..config() }).unwrap();
    let (packets, _) = h.run_for(secs(1));
    assert!(!packets.is_empty() && packets.iter().all(|(_, p)| p.poll));
}
