//! Random sequences of packets, timer ticks and operator requests: the session never panics,
//! everything it sends is a packet a peer accepts, and it never asks to be woken in the past.

use proptest::prelude::*;

use super::*;
use crate::packet::decode;

#[derive(Debug, Clone)]
enum Event {
    Timer,
    Packet(ControlPacket),
    SetConfig(SessionConfig),
    AdminDown,
    AdminUp,
}

fn interval() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(50_000), Just(300_000), Just(1_000_000), Just(3_000_000)]
}

fn packet() -> impl Strategy<Value = ControlPacket> {
    ((0u8..4), any::<[bool; 4]>(), 1u8..=5, interval(), interval()).prop_map(
        |(state, [poll, final_, demand, zero_yours], detect_mult, tx, rx)| {
            let state = State::from_code(state);
            let down = matches!(state, State::Down | State::AdminDown);
            ControlPacket {
                state,
                // A packet cannot carry both (decode would not stop it; the peer must not send it).
                poll: poll && !final_,
                final_,
                demand,
                detect_mult,
                your_discriminator: if zero_yours && down { 0 } else { LOCAL },
                desired_min_tx: Micros(tx.max(1)),
                required_min_rx: Micros(rx),
                ..peer(state)
            }
        },
    )
}

fn session_config() -> impl Strategy<Value = SessionConfig> {
    (interval(), interval(), 1u8..=5, any::<bool>()).prop_map(|(tx, rx, detect_mult, passive)| SessionConfig {
        desired_min_tx: Duration::from_micros(u64::from(tx.max(10_000))),
        required_min_rx: Duration::from_micros(u64::from(rx)),
        detect_mult,
        passive,
    })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => Just(Event::Timer),
        6 => packet().prop_map(Event::Packet),
        1 => session_config().prop_map(Event::SetConfig),
        1 => Just(Event::AdminDown),
        1 => Just(Event::AdminUp),
    ]
}

proptest! {
    #[test]
    fn random_events_keep_the_session_sound(
        config in session_config(),
        events in proptest::collection::vec((0u64..2_000, event()), 1..200),
    ) {
        let base = Instant::now();
        let mut session = Session::new(LOCAL, config, base, SEED).unwrap();
        let mut now = base;
        for (wait, event) in events {
            now += ms(wait);
            let actions = match event {
                Event::Timer => session.on_timer(now),
                Event::Packet(p) => session.on_packet(now, &p).unwrap_or_default(),
                Event::SetConfig(c) => session.set_config(now, c).unwrap(),
                Event::AdminDown => session.admin_down(now),
                Event::AdminUp => session.admin_up(now),
            };
            for p in sent(&actions) {
                prop_assert_eq!(decode(&p.encode()), Ok(p));
                prop_assert!(!(p.poll && p.final_));
                prop_assert_eq!(p.state, session.state());
            }
            if matches!(session.state(), State::Init | State::Up) {
                prop_assert_ne!(session.remote_discriminator(), 0);
            }
            // Catching up on timers leaves nothing due: no busy loop for the I/O layer.
            session.on_timer(now);
            prop_assert!(session.next_deadline().is_none_or(|d| d > now));
        }
    }
}
