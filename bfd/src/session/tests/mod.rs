//! Event-by-event tests of the session, on a clock the tests move by hand: one `Instant::now()` as
//! the base, every other instant an offset from it.

mod poll;
mod properties;
mod reception;
mod timers;
mod transitions;

use std::time::{Duration, Instant};

use super::*;
use crate::DropReason;
use crate::packet::{ControlPacket, Diagnostic, Micros, State};

pub(super) const LOCAL: u32 = 0x1111_1111;
pub(super) const PEER: u32 = 0x2222_2222;
pub(super) const SEED: u64 = 42;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// 300 ms both ways, multiplier 3, active.
pub(super) fn config() -> SessionConfig {
    SessionConfig::default()
}

/// What the peer sends in `state`: it knows our discriminator, 300 ms both ways, multiplier 3.
pub(super) fn peer(state: State) -> ControlPacket {
    ControlPacket {
        version: 1,
        diag: Diagnostic::NoDiagnostic,
        state,
        poll: false,
        final_: false,
        control_plane_independent: false,
        auth_present: false,
        demand: false,
        multipoint: false,
        detect_mult: 3,
        length: 24,
        my_discriminator: PEER,
        your_discriminator: LOCAL,
        desired_min_tx: Micros(300_000),
        required_min_rx: Micros(300_000),
        required_min_echo_rx: Micros(0),
    }
}

/// The packets among the actions.
pub(super) fn sent(actions: &[Action]) -> Vec<ControlPacket> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(p) => Some(*p),
            Action::StateChanged { .. } => None,
        })
        .collect()
}

/// The state changes among the actions.
pub(super) fn changes(actions: &[Action]) -> Vec<(State, State, Diagnostic)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StateChanged { from, to, diag } => Some((*from, *to, *diag)),
            Action::Send(_) => None,
        })
        .collect()
}

/// What running the timers produced: each packet sent with its time, and the state changes.
pub(super) type Run = (Vec<(Instant, ControlPacket)>, Vec<(State, State, Diagnostic)>);

/// A session and a clock.
pub(super) struct Harness {
    pub session: Session,
    pub base: Instant,
    pub now: Instant,
}

impl Harness {
    pub fn new(config: SessionConfig) -> Self {
        let base = Instant::now();
        Harness { session: Session::new(LOCAL, config, base, SEED).unwrap(), base, now: base }
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// The peer's packet arrives now.
    pub fn recv(&mut self, packet: ControlPacket) -> Vec<Action> {
        self.session.on_packet(self.now, &packet).unwrap()
    }

    /// The peer's packet arrives now and is dropped.
    pub fn recv_dropped(&mut self, packet: ControlPacket) -> DropReason {
        self.session.on_packet(self.now, &packet).unwrap_err()
    }

    /// Runs the session's timers up to `until`, as the I/O layer would, and returns each packet
    /// sent with its time, and the state changes.
    pub fn run_until(&mut self, until: Instant) -> Run {
        let mut packets = Vec::new();
        let mut state_changes = Vec::new();
        while let Some(deadline) = self.session.next_deadline().filter(|d| *d <= until) {
            self.now = deadline.max(self.now);
            let actions = self.session.on_timer(self.now);
            packets.extend(sent(&actions).into_iter().map(|p| (self.now, p)));
            state_changes.extend(changes(&actions));
        }
        self.now = until;
        (packets, state_changes)
    }

    /// Runs the timers for `span` from now.
    pub fn run_for(&mut self, span: Duration) -> Run {
        let until = self.now + span;
        self.run_until(until)
    }

    /// The gaps between consecutive packets sent while running for `span`.
    pub fn gaps_for(&mut self, span: Duration) -> Vec<Duration> {
        let (packets, _) = self.run_for(span);
        packets.windows(2).map(|w| w[1].0 - w[0].0).collect()
    }

    /// The three-way handshake from Down: the peer says Down, then Up; the session is Up.
    pub fn bring_up(&mut self) {
        self.recv(ControlPacket { your_discriminator: 0, ..peer(State::Down) });
        self.advance(ms(10));
        self.recv(peer(State::Up));
        assert_eq!(self.session.state(), State::Up);
    }

    /// Brings the session up and completes the Poll Sequence that going Up starts.
    pub fn bring_up_settled(&mut self) {
        self.bring_up();
        self.advance(ms(10));
        self.recv(ControlPacket { final_: true, ..peer(State::Up) });
        assert!(!self.session.polling());
    }
}
