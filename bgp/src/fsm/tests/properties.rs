//! Random event sequences: no panic, Down on every way out of Established, timer invariants.

use proptest::prelude::*;

use super::*;

fn arb_open() -> impl Strategy<Value = OpenParams> {
    (
        prop_oneof![6 => Just(4u8), 1 => Just(3u8)],
        prop_oneof![6 => Just(64512u32), 1 => Just(64600u32), 1 => Just(0u32)],
        prop_oneof![Just(90u16), Just(0u16), Just(3u16), Just(2u16), Just(65535u16)],
        prop_oneof![4 => Just(PEER_ID), 1 => Just(LOCAL_ID), 1 => Just(Ipv4Addr::UNSPECIFIED)],
        any::<[bool; 5]>(),
    )
        .prop_map(|(version, asn, hold_time, router_id, [four, v4, v6, rr, enh])| OpenParams {
            version,
            asn,
            hold_time,
            router_id,
            four_octet_as: four,
            ipv4_unicast: v4,
            ipv6_unicast: v6,
            route_refresh: rr,
            ipv4_over_ipv6: enh,
            graceful_restart: None,
        })
}

fn arb_notification() -> impl Strategy<Value = Notification> {
    (1u8..=7, 0u8..=11, proptest::collection::vec(any::<u8>(), 0..4)).prop_map(|(c, s, d)| Notification::new(c, s, d))
}

fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        2 => Just(Event::ManualStart),
        1 => Just(Event::ManualStop),
        1 => Just(Event::AutomaticStart),
        3 => Just(Event::ConnectRetryTimerExpires),
        2 => Just(Event::HoldTimerExpires),
        2 => Just(Event::KeepaliveTimerExpires),
        2 => Just(Event::TcpConnectionConfirmed),
        3 => Just(Event::TcpCrAcked),
        2 => Just(Event::TcpConnectionFails),
        4 => arb_open().prop_map(Event::BgpOpen),
        1 => arb_notification().prop_map(Event::BgpHeaderErr),
        1 => arb_notification().prop_map(Event::BgpOpenMsgErr),
        1 => Just(Event::OpenCollisionDump),
        1 => arb_notification().prop_map(Event::NotifMsg),
        5 => Just(Event::KeepAliveMsg),
        3 => Just(Event::UpdateMsg),
        1 => (arb_notification(), any::<bool>())
            .prop_map(|(notification, session_reset)| Event::UpdateMsgErr { notification, session_reset }),
    ]
}

fn arb_config() -> impl Strategy<Value = SessionConfig> {
    (
        any::<bool>(),
        prop_oneof![Just(0u64), Just(3), Just(90)],
        prop_oneof![Just(None), Just(Some(1u64)), Just(Some(60))],
        prop_oneof![Just(None), any::<u64>().prop_map(Some)],
        prop_oneof![Just(PeerAsn::Fixed(64512)), Just(PeerAsn::DynamicInternal), Just(PeerAsn::DynamicExternal)],
    )
        .prop_map(|(passive, hold, keepalive, jitter_seed, peer_asn)| SessionConfig {
            passive,
            hold_time: secs(hold),
            keepalive: keepalive.map(secs),
            jitter_seed,
            peer_asn,
            ..config()
        })
}

fn allowed_states(timer: Timer) -> &'static [State] {
    match timer {
        Timer::ConnectRetry => &[State::Idle, State::Connect, State::Active],
        Timer::Hold => &[State::OpenSent, State::OpenConfirm, State::Established],
        Timer::Keepalive => &[State::OpenConfirm, State::Established],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_event_sequences_keep_the_invariants(
        config in arb_config(),
        steps in proptest::collection::vec((arb_event(), 0u64..200_000), 1..120),
    ) {
        let passive = config.passive;
        let RetryBackoff { initial, max } = config.connect_retry;
        let mut h = Harness::new(config);
        // The timers as the I/O layer would see them, from the actions alone.
        let mut running = [false; 3];
        let mut io: Deadlines<Instant> = Deadlines::default();
        let mut up = false;
        for (event, advance_ms) in steps {
            h.advance(Duration::from_millis(advance_ms));
            let before = h.state();
            let name = event.name();
            if let Some(timer) = event.timer() {
                // The I/O layer only reports a timer it has running; firing ends it.
                let slot = Timer::ALL.iter().position(|t| *t == timer).unwrap();
                if !running[slot] {
                    prop_assert_eq!(h.step(event), vec![], "stale {} must be ignored", name);
                    continue;
                }
                running[slot] = false;
                io.stop(timer);
            }
            let actions = h.step(event);
            let after = h.state();
            let ctx = format!("{before} --{name}--> {after}: {actions:?}");

            let downs = actions.iter().filter(|a| matches!(a, Action::Down(_))).count();
            let drops = actions.iter().filter(|a| matches!(a, Action::DropConnection)).count();
            let established = actions.iter().filter(|a| matches!(a, Action::Established(_))).count();
            prop_assert!(downs <= 1 && drops <= 1 && established <= 1, "{}", ctx);
            if before == State::Established && after != State::Established {
                prop_assert_eq!(downs, 1, "left Established without Down: {}", ctx);
            }
            prop_assert_eq!(established == 1, before != State::Established && after == State::Established, "{}", ctx);
            // Every abandoned connection is reported, except Idle refusing one.
            prop_assert_eq!(downs, if before == State::Idle { 0 } else { drops }, "{}", ctx);
            // Established and Down alternate.
            if established == 1 { prop_assert!(!up, "{}", ctx); up = true; }
            if downs == 1 { up = false; }
            prop_assert_eq!(up, after == State::Established, "{}", ctx);
            // A NOTIFICATION is always followed by closing.
            if let Some(i) = actions.iter().position(|a| matches!(a, Action::SendNotification(_))) {
                prop_assert_eq!(actions.get(i + 1), Some(&Action::DropConnection), "{}", ctx);
            }
            if passive {
                prop_assert!(!actions.contains(&Action::Connect) && after != State::Connect, "{}", ctx);
            }

            let now = h.now;
            for action in &actions {
                io.apply(action, |delay| now.checked_add(delay).unwrap_or(now));
                match action {
                    Action::StartTimer(timer, delay) => {
                        let slot = Timer::ALL.iter().position(|t| t == timer).unwrap();
                        running[slot] = true;
                        if *timer == Timer::ConnectRetry {
                            prop_assert!(*delay >= initial * 3 / 4 && *delay <= max, "{}", ctx);
                        } else {
                            prop_assert!(!delay.is_zero(), "{}", ctx);
                        }
                    }
                    Action::StopTimer(timer) => {
                        let slot = Timer::ALL.iter().position(|t| t == timer).unwrap();
                        prop_assert!(running[slot], "stopped a timer that was not running: {}", ctx);
                        running[slot] = false;
                    }
                    _ => {}
                }
            }
            for (slot, timer) in Timer::ALL.iter().enumerate() {
                prop_assert_eq!(running[slot], h.session.deadline(*timer).is_some(), "{} view differs: {}", timer, ctx);
                prop_assert_eq!(io.get(*timer), h.session.deadline(*timer), "{} deadline differs: {}", timer, ctx);
                if running[slot] {
                    prop_assert!(allowed_states(*timer).contains(&after), "{} running in {}: {}", timer, after, ctx);
                }
            }
            let negotiated = h.session.negotiated().cloned();
            prop_assert_eq!(negotiated.is_some(), matches!(after, State::OpenConfirm | State::Established), "{}", ctx);
            if let Some(n) = negotiated {
                prop_assert_eq!(n.hold_time.is_zero(), n.keepalive.is_none(), "{}", ctx);
                if n.hold_time.is_zero() {
                    prop_assert!(!running[1] && !running[2], "timers with hold 0: {}", ctx);
                } else {
                    prop_assert!(running[1], "hold timer must run in {}: {}", after, ctx);
                    prop_assert!(n.keepalive.is_some_and(|k| k * 3 <= n.hold_time), "{}", ctx);
                }
            }
        }
    }
}
