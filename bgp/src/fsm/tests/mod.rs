//! Event-by-event tests of the session state machine, and a proptest over random event sequences.

mod backoff;
mod connected;
mod connecting;
mod properties;
mod timers;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::*;
use crate::notification::Notification;

pub(super) const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 11);
pub(super) const PEER_ID: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Our AS 64600, the peer fixed at 64512 (the lab's router), FerroLB defaults otherwise.
pub(super) fn config() -> SessionConfig {
    SessionConfig::new(64600, PeerAsn::Fixed(64512), LOCAL_ID)
}

/// A well-formed OPEN from the lab's router, hold time 90.
pub(super) fn peer_open() -> OpenParams {
    OpenParams {
        version: 4,
        asn: 64512,
        hold_time: 90,
        router_id: PEER_ID,
        four_octet_as: true,
        ipv4_unicast: true,
        ipv6_unicast: true,
        route_refresh: true,
        ipv4_over_ipv6: false,
        graceful_restart: None,
    }
}

/// What `config()` and `peer_open()` negotiate.
pub(super) fn negotiated() -> Negotiated {
    Negotiated {
        hold_time: secs(90),
        keepalive: Some(secs(30)),
        peer_asn: 64512,
        peer_router_id: PEER_ID,
        internal: false,
        four_octet_as: true,
        ipv4_unicast: true,
        ipv6_unicast: true,
        route_refresh: true,
        ipv4_over_ipv6: false,
        graceful_restart: false,
    }
}

/// A session with a clock that tests move by hand.
pub(super) struct Harness {
    pub session: Session,
    pub start: Instant,
    pub now: Instant,
}

impl Harness {
    pub fn new(config: SessionConfig) -> Self {
        let now = Instant::now();
        Harness { session: Session::new(config).unwrap(), start: now, now }
    }

    pub fn step(&mut self, event: Event) -> Vec<Action> {
        self.session.step(self.now, event)
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    pub fn state(&self) -> State {
        self.session.state()
    }

    /// A session driven from Idle into `state` by the usual path (active, default settings).
    pub fn in_state(config: SessionConfig, state: State) -> Self {
        let mut h = Harness::new(config);
        let path: &[Event] = match state {
            State::Idle => &[],
            State::Connect => &[Event::ManualStart],
            State::Active => &[Event::ManualStart, Event::TcpConnectionFails],
            State::OpenSent => &[Event::ManualStart, Event::TcpCrAcked],
            State::OpenConfirm => &[Event::ManualStart, Event::TcpCrAcked, Event::BgpOpen(peer_open())],
            State::Established => {
                &[Event::ManualStart, Event::TcpCrAcked, Event::BgpOpen(peer_open()), Event::KeepAliveMsg]
            }
        };
        for event in path {
            h.step(event.clone());
        }
        assert_eq!(h.state(), state, "setup reached {state}");
        h
    }
}

/// One row of a state table: in `from`, `event` gives exactly `actions` and leads to `to`.
pub(super) struct Case {
    pub name: &'static str,
    pub event: Event,
    pub actions: Vec<Action>,
    pub to: State,
}

pub(super) fn case(name: &'static str, event: Event, actions: Vec<Action>, to: State) -> Case {
    Case { name, event, actions, to }
}

/// Runs every case on a fresh session in `from`.
pub(super) fn check_table(from: State, cases: Vec<Case>) {
    for Case { name, event, actions, to } in cases {
        let mut h = Harness::in_state(config(), from);
        let got = h.step(event);
        assert_eq!(got, actions, "{from}: {name}");
        assert_eq!(h.state(), to, "{from}: {name}");
    }
}
