//! One session's state machine and timers (RFC 5880 sections 6.2, 6.5, 6.8).

use std::time::{Duration, Instant};

use super::{Action, ConfigError, SessionConfig};
use crate::DropReason;
use crate::packet::{ControlPacket, Diagnostic, Micros, PACKET_LEN, State, VERSION};
use crate::xorshift::XorShift;

/// The least transmit interval advertised while the session is not Up (RFC 5880 section 6.8.3).
pub const SLOW_START_TX: Duration = Duration::from_secs(1);

/// What the peer last told us (RFC 5880 section 6.8.1's bfd.Remote* variables).
#[derive(Debug, Clone, Copy)]
struct Remote {
    discriminator: u32,
    state: State,
    diag: Diagnostic,
    demand: bool,
    min_rx: Duration,
    desired_min_tx: Duration,
    detect_mult: u8,
}

impl Remote {
    /// Nothing known: the RFC's initial values (bfd.RemoteMinRxInterval starts at 1 µs).
    fn unknown() -> Self {
        Remote {
            discriminator: 0,
            state: State::Down,
            diag: Diagnostic::NoDiagnostic,
            demand: false,
            min_rx: Duration::from_micros(1),
            desired_min_tx: Duration::ZERO,
            detect_mult: 0,
        }
    }
}

/// One BFD session in asynchronous mode, sans-I/O. See the [module documentation](super) for the
/// contract with the I/O layer.
#[derive(Debug, Clone)]
pub struct Session {
    local_discriminator: u32,
    config: SessionConfig,
    state: State,
    local_diag: Diagnostic,
    remote: Remote,
    /// bfd.DesiredMinTxInterval as the transmit interval uses it: behind the advertised value
    /// while an increase waits for the Poll Sequence's Final.
    tx_in_use: Duration,
    /// bfd.RequiredMinRxInterval as the detection time uses it: behind the configured value while
    /// a decrease waits for the Final.
    rx_in_use: Duration,
    /// A Poll Sequence is in progress: periodic packets carry P until a packet with F arrives.
    polling: bool,
    /// When the next periodic packet is due (when periodic transmission is allowed at all).
    next_tx: Instant,
    /// When the last packet from the peer arrived; `None` until one does and after a detection
    /// timeout.
    last_rx: Option<Instant>,
    rng: XorShift,
}

impl Session {
    /// A session in state Down. An active one is due to send at `now`; `seed` drives the jitter
    /// of its transmit intervals, so the same seed gives the same schedule.
    pub fn new(local_discriminator: u32, config: SessionConfig, now: Instant, seed: u64) -> Result<Self, ConfigError> {
        if local_discriminator == 0 {
            return Err(ConfigError::ZeroLocalDiscriminator);
        }
        config.validate()?;
        let mut session = Session {
            local_discriminator,
            config,
            state: State::Down,
            local_diag: Diagnostic::NoDiagnostic,
            remote: Remote::unknown(),
            tx_in_use: Duration::ZERO,
            rx_in_use: config.required_min_rx,
            polling: false,
            next_tx: now,
            last_rx: None,
            rng: XorShift::new(seed),
        };
        session.tx_in_use = session.advertised_desired_min_tx();
        Ok(session)
    }

    /// A packet from the peer, already decoded ([`crate::packet::decode`]) and matched to this
    /// session ([`crate::demux::Demux::lookup`]). Does the rest of RFC 5880 section 6.8.6: learns
    /// the peer's discriminator, state and intervals, ends a Poll Sequence on F, moves the state
    /// machine (section 6.2), answers a Poll with F at once, and sends a periodic packet if one is
    /// due (a passive session's first).
    ///
    /// Discards with [`DropReason::DiscriminatorMismatch`] when Your Discriminator is non-zero and
    /// not ours, and with [`DropReason::AdminDown`] while administratively down (after learning
    /// the peer's values, as the RFC orders).
    pub fn on_packet(&mut self, now: Instant, packet: &ControlPacket) -> Result<Vec<Action>, DropReason> {
        if packet.your_discriminator != 0 && packet.your_discriminator != self.local_discriminator {
            return Err(DropReason::DiscriminatorMismatch);
        }
        self.remote = Remote {
            discriminator: packet.my_discriminator,
            state: packet.state,
            diag: packet.diag,
            demand: packet.demand,
            min_rx: packet.required_min_rx.as_duration(),
            desired_min_tx: packet.desired_min_tx.as_duration(),
            detect_mult: packet.detect_mult,
        };
        self.last_rx = Some(now);
        if packet.final_ && self.polling {
            self.end_poll();
        }
        if self.state == State::AdminDown {
            return Err(DropReason::AdminDown);
        }

        let mut actions = Vec::new();
        match (self.state, packet.state) {
            (State::Down, State::AdminDown) => {}
            (_, State::AdminDown) => {
                self.change_state(now, State::Down, Diagnostic::NeighborSignaledSessionDown, &mut actions)
            }
            (State::Down, State::Down) => self.change_state(now, State::Init, Diagnostic::NoDiagnostic, &mut actions),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.change_state(now, State::Up, Diagnostic::NoDiagnostic, &mut actions)
            }
            (State::Up, State::Down) => {
                self.change_state(now, State::Down, Diagnostic::NeighborSignaledSessionDown, &mut actions)
            }
            _ => {}
        }
        if packet.poll {
            // Section 6.8.7: at once, whatever the timers, the state or the role.
            actions.push(Action::Send(self.packet(true)));
        }
        // The peer may have asked for packets more often (or at all again).
        self.reschedule(now);
        self.transmit_if_due(now, &mut actions);
        Ok(actions)
    }

    /// Time has passed: call at [`Session::next_deadline`] (earlier or later is harmless). Sends
    /// the periodic packet when due; when the detection time passed without a packet, the session
    /// goes Down (from Init or Up) with [`Diagnostic::ControlDetectionTimeExpired`] and forgets
    /// the peer's discriminator.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.detection_deadline().is_some_and(|deadline| deadline <= now) {
            if matches!(self.state, State::Init | State::Up) {
                self.change_state(now, State::Down, Diagnostic::ControlDetectionTimeExpired, &mut actions);
            }
            self.remote = Remote::unknown();
            self.last_rx = None;
        }
        self.transmit_if_due(now, &mut actions);
        actions
    }

    /// New timers or role. A change of the advertised intervals starts a Poll Sequence; while Up,
    /// a longer transmit interval and a shorter receive interval wait for the peer's Final
    /// (RFC 5880 section 6.8.3); everything else applies at once.
    pub fn set_config(&mut self, now: Instant, config: SessionConfig) -> Result<Vec<Action>, ConfigError> {
        config.validate()?;
        let before = self.advertised();
        self.config = config;
        self.intervals_changed(before);
        self.reschedule(now);
        let mut actions = Vec::new();
        self.transmit_if_due(now, &mut actions);
        Ok(actions)
    }

    /// Takes the session administratively down (RFC 5880 section 6.8.16): it sends AdminDown with
    /// [`Diagnostic::AdministrativelyDown`] (the first packet at once), discards what it receives
    /// and never comes up until [`Session::admin_up`]. Nothing happens if already AdminDown.
    pub fn admin_down(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state != State::AdminDown {
            self.change_state(now, State::AdminDown, Diagnostic::AdministrativelyDown, &mut actions);
            self.next_tx = now;
            self.transmit_if_due(now, &mut actions);
        }
        actions
    }

    /// Leaves AdminDown for Down, where the handshake starts again. Nothing happens otherwise.
    pub fn admin_up(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state == State::AdminDown {
            self.change_state(now, State::Down, Diagnostic::NoDiagnostic, &mut actions);
            self.transmit_if_due(now, &mut actions);
        }
        actions
    }

    /// When to call [`Session::on_timer`] next: the earlier of the next periodic packet (when
    /// periodic transmission is allowed) and the detection timeout (when the peer was heard).
    /// `None` when neither runs: a passive session that has not heard its peer, or a peer that
    /// asked for no packets and went quiet. Recompute after every call into the session.
    pub fn next_deadline(&self) -> Option<Instant> {
        let tx = self.periodic_allowed().then_some(self.next_tx);
        match (tx, self.detection_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The session state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The peer's state as its last packet said (Down when nothing is known).
    pub fn remote_state(&self) -> State {
        self.remote.state
    }

    /// Why the session last changed state, as our packets say.
    pub fn local_diag(&self) -> Diagnostic {
        self.local_diag
    }

    /// The diagnostic of the peer's last packet.
    pub fn remote_diag(&self) -> Diagnostic {
        self.remote.diag
    }

    /// Our discriminator, which the peer sends as Your Discriminator.
    pub fn local_discriminator(&self) -> u32 {
        self.local_discriminator
    }

    /// The peer's discriminator; zero while unknown (before its first packet, after a detection
    /// timeout).
    pub fn remote_discriminator(&self) -> u32 {
        self.remote.discriminator
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The negotiated transmit interval before jitter: the longer of our desired transmit interval
    /// in use and the peer's required receive interval (RFC 5880 section 6.8.7). Periodic packets
    /// go out every 75 to 100 % of it (75 to 90 % with a Detect Mult of 1).
    pub fn tx_interval(&self) -> Duration {
        self.tx_in_use.max(self.remote.min_rx)
    }

    /// The detection time in asynchronous mode: the peer's Detect Mult times the longer of our
    /// required receive interval in use and the peer's desired transmit interval (RFC 5880 section
    /// 6.8.4). `None` until the peer is heard.
    pub fn detection_time(&self) -> Option<Duration> {
        self.last_rx?;
        Some(self.rx_in_use.max(self.remote.desired_min_tx) * u32::from(self.remote.detect_mult))
    }

    /// Whether a Poll Sequence is in progress (our periodic packets carry P).
    pub fn polling(&self) -> bool {
        self.polling
    }

    /// The transmit interval we advertise: at least [`SLOW_START_TX`] while not Up.
    fn advertised_desired_min_tx(&self) -> Duration {
        if self.state == State::Up { self.config.desired_min_tx } else { self.config.desired_min_tx.max(SLOW_START_TX) }
    }

    /// The two intervals our packets advertise.
    fn advertised(&self) -> (Duration, Duration) {
        (self.advertised_desired_min_tx(), self.config.required_min_rx)
    }

    /// The advertised intervals may have changed from `before`: start a Poll Sequence and decide
    /// which new value applies now (RFC 5880 section 6.8.3).
    fn intervals_changed(&mut self, before: (Duration, Duration)) {
        let (tx, rx) = self.advertised();
        if (tx, rx) == before {
            return;
        }
        self.polling = true;
        let up = self.state == State::Up;
        // The peer must lengthen its detection time before we send less often...
        if !(up && tx > self.tx_in_use) {
            self.tx_in_use = tx;
        }
        // ...and shorten it only once it sends more often.
        if !(up && rx < self.rx_in_use) {
            self.rx_in_use = rx;
        }
    }

    /// The peer answered our Poll: the advertised intervals now apply in full.
    fn end_poll(&mut self) {
        self.polling = false;
        (self.tx_in_use, self.rx_in_use) = self.advertised();
    }

    fn change_state(&mut self, now: Instant, to: State, diag: Diagnostic, actions: &mut Vec<Action>) {
        let before = self.advertised();
        let from = self.state;
        self.state = to;
        self.local_diag = diag;
        actions.push(Action::StateChanged { from, to, diag });
        // Entering or leaving Up changes the slow-start floor of the advertised transmit interval.
        self.intervals_changed(before);
        self.reschedule(now);
    }

    /// Brings the next periodic packet forward when the transmit interval got shorter than the
    /// wait left.
    fn reschedule(&mut self, now: Instant) {
        let interval = self.tx_interval();
        if self.next_tx > now + interval {
            self.next_tx = now + self.jittered(interval);
        }
    }

    /// Whether periodic packets may be sent now (RFC 5880 sections 6.1 and 6.8.7).
    fn periodic_allowed(&self) -> bool {
        let passive_and_unheard = self.config.passive && self.remote.discriminator == 0;
        let peer_wants_none = self.remote.min_rx.is_zero();
        let peer_in_demand =
            self.remote.demand && self.state == State::Up && self.remote.state == State::Up && !self.polling;
        !(passive_and_unheard || peer_wants_none || peer_in_demand)
    }

    fn transmit_if_due(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.periodic_allowed() && self.next_tx <= now {
            actions.push(Action::Send(self.packet(false)));
            let interval = self.tx_interval();
            self.next_tx = now + self.jittered(interval);
        }
    }

    /// The interval reduced by a random 0 to 25 %, or 10 to 25 % with a Detect Mult of 1 (RFC
    /// 5880 section 6.8.7), so that sessions do not synchronise.
    fn jittered(&mut self, interval: Duration) -> Duration {
        let most = if self.config.detect_mult == 1 { 900 } else { 1000 };
        let per_mille = u128::from(self.rng.in_range(750, most));
        let nanos = interval.as_nanos() * per_mille / 1000;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Our packet now: a periodic one (P while polling) or the answer to a Poll (F, never P).
    fn packet(&self, final_: bool) -> ControlPacket {
        ControlPacket {
            version: VERSION,
            diag: self.local_diag,
            state: self.state,
            poll: self.polling && !final_,
            final_,
            control_plane_independent: false,
            auth_present: false,
            demand: false,
            multipoint: false,
            detect_mult: self.config.detect_mult,
            length: PACKET_LEN as u8,
            my_discriminator: self.local_discriminator,
            your_discriminator: self.remote.discriminator,
            desired_min_tx: Micros::from_duration(self.advertised_desired_min_tx()),
            required_min_rx: self.config.required_min_rx_micros(),
            required_min_echo_rx: Micros(0),
        }
    }

    fn detection_deadline(&self) -> Option<Instant> {
        Some(self.last_rx? + self.detection_time()?)
    }
}
