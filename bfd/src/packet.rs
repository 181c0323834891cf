//! The BFD Control packet (RFC 5880 section 4.1) to and from its 24 octets, without authentication.
//!
//! [`decode`] applies every reception check of RFC 5880 section 6.8.6 that the packet alone can
//! answer, in the RFC's order; the rest (the session lookup, Your Discriminator against the
//! session's, AdminDown) belong to [`crate::demux`] and [`crate::session`].

use std::fmt;
use std::time::Duration;

pub use crate::DropReason;

/// The length of a Control packet without authentication, and the minimum of the length field.
pub const PACKET_LEN: usize = 24;

/// The BFD protocol version this crate speaks.
pub const VERSION: u8 = 1;

/// A session state as carried in the Sta field (RFC 5880 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Held down by configuration; packets are discarded.
    AdminDown,
    /// Down, or not yet up: the three-way handshake starts here.
    Down,
    /// The peer was heard in Down: waiting for it to answer Init or Up.
    Init,
    /// Up: both systems hear each other.
    Up,
}

impl State {
    /// The two-bit Sta field.
    pub fn code(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }

    /// The state of a two-bit Sta field (the bits above are ignored).
    pub fn from_code(code: u8) -> Self {
        match code & 0b11 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    /// The RFC's name of the state, for logs and status fields.
    pub fn as_str(self) -> &'static str {
        match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reason for the sender's last state change (the Diag field, RFC 5880 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Diagnostic {
    /// 0: no diagnostic.
    NoDiagnostic,
    /// 1: nothing was heard from the peer within the detection time.
    ControlDetectionTimeExpired,
    /// 2: the echo function failed.
    EchoFunctionFailed,
    /// 3: the peer signalled that the session went down.
    NeighborSignaledSessionDown,
    /// 4: the forwarding plane was reset.
    ForwardingPlaneReset,
    /// 5: the path is down.
    PathDown,
    /// 6: a concatenated path is down.
    ConcatenatedPathDown,
    /// 7: the session was taken down by configuration.
    AdministrativelyDown,
    /// 8: a reverse concatenated path is down.
    ReverseConcatenatedPathDown,
    /// 9 to 31: reserved for future use; kept as received.
    Reserved(u8),
}

impl Diagnostic {
    /// The five-bit Diag field.
    pub fn code(self) -> u8 {
        match self {
            Diagnostic::NoDiagnostic => 0,
            Diagnostic::ControlDetectionTimeExpired => 1,
            Diagnostic::EchoFunctionFailed => 2,
            Diagnostic::NeighborSignaledSessionDown => 3,
            Diagnostic::ForwardingPlaneReset => 4,
            Diagnostic::PathDown => 5,
            Diagnostic::ConcatenatedPathDown => 6,
            Diagnostic::AdministrativelyDown => 7,
            Diagnostic::ReverseConcatenatedPathDown => 8,
            Diagnostic::Reserved(code) => code & 0b1_1111,
        }
    }

    /// The diagnostic of a five-bit Diag field (the bits above are ignored).
    pub fn from_code(code: u8) -> Self {
        match code & 0b1_1111 {
            0 => Diagnostic::NoDiagnostic,
            1 => Diagnostic::ControlDetectionTimeExpired,
            2 => Diagnostic::EchoFunctionFailed,
            3 => Diagnostic::NeighborSignaledSessionDown,
            4 => Diagnostic::ForwardingPlaneReset,
            5 => Diagnostic::PathDown,
            6 => Diagnostic::ConcatenatedPathDown,
            7 => Diagnostic::AdministrativelyDown,
            8 => Diagnostic::ReverseConcatenatedPathDown,
            other => Diagnostic::Reserved(other),
        }
    }

    /// The RFC's name of the diagnostic, for logs and status fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Diagnostic::NoDiagnostic => "No Diagnostic",
            Diagnostic::ControlDetectionTimeExpired => "Control Detection Time Expired",
            Diagnostic::EchoFunctionFailed => "Echo Function Failed",
            Diagnostic::NeighborSignaledSessionDown => "Neighbor Signaled Session Down",
            Diagnostic::ForwardingPlaneReset => "Forwarding Plane Reset",
            Diagnostic::PathDown => "Path Down",
            Diagnostic::ConcatenatedPathDown => "Concatenated Path Down",
            Diagnostic::AdministrativelyDown => "Administratively Down",
            Diagnostic::ReverseConcatenatedPathDown => "Reverse Concatenated Path Down",
            Diagnostic::Reserved(_) => "Reserved",
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.as_str())
    }
}

/// An interval as the packet carries it: whole microseconds in 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Micros(pub u32);

impl Micros {
    /// The interval in whole microseconds, saturating at `u32::MAX` (about 71 minutes).
    pub fn from_duration(d: Duration) -> Self {
        Micros(u32::try_from(d.as_micros()).unwrap_or(u32::MAX))
    }

    /// The interval as a [`Duration`].
    pub fn as_duration(self) -> Duration {
        Duration::from_micros(u64::from(self.0))
    }
}

/// A BFD Control packet's fields (RFC 5880 section 4.1), without an authentication section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlPacket {
    /// The version (three bits); [`VERSION`] on everything sent and accepted.
    pub version: u8,
    /// The sender's reason for its last state change.
    pub diag: Diagnostic,
    /// The sender's session state.
    pub state: State,
    /// P: the sender asks for parameter confirmation (a Poll Sequence).
    pub poll: bool,
    /// F: the sender answers a Poll.
    pub final_: bool,
    /// C: the sender's BFD does not share fate with its control plane.
    pub control_plane_independent: bool,
    /// A: an authentication section follows (never on packets this crate sends or accepts).
    pub auth_present: bool,
    /// D: the sender wants to run in Demand mode (we stop periodic transmission when both are Up).
    pub demand: bool,
    /// M: reserved for multipoint; packets with it set are discarded.
    pub multipoint: bool,
    /// The sender's detection time multiplier.
    pub detect_mult: u8,
    /// The length field, as read (decode) or 24 (encode always writes 24).
    pub length: u8,
    /// The sender's discriminator for the session (never zero).
    pub my_discriminator: u32,
    /// Our discriminator as the sender knows it; zero while it does not.
    pub your_discriminator: u32,
    /// The interval at which the sender wants to transmit.
    pub desired_min_tx: Micros,
    /// The shortest interval at which the sender can receive; zero: send it nothing.
    pub required_min_rx: Micros,
    /// The shortest interval at which the sender can receive Echo packets; zero: no Echo.
    pub required_min_echo_rx: Micros,
}

impl ControlPacket {
    /// Encodes the packet, without authentication. The version, diagnostic and state are written
    /// as their three, five and two low bits; the length field is always 24 and the A bit as set
    /// (a packet with it set is one no authenticating peer will accept).
    pub fn encode(&self) -> [u8; PACKET_LEN] {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        let mut out = [0u8; PACKET_LEN];
        out[0] = (self.version & 0b111) << 5 | self.diag.code();
        out[1] = self.state.code() << 6
            | flag(self.poll, 0x20)
            | flag(self.final_, 0x10)
            | flag(self.control_plane_independent, 0x08)
            | flag(self.auth_present, 0x04)
            | flag(self.demand, 0x02)
            | flag(self.multipoint, 0x01);
        out[2] = self.detect_mult;
        out[3] = PACKET_LEN as u8;
        out[4..8].copy_from_slice(&self.my_discriminator.to_be_bytes());
        out[8..12].copy_from_slice(&self.your_discriminator.to_be_bytes());
        out[12..16].copy_from_slice(&self.desired_min_tx.0.to_be_bytes());
        out[16..20].copy_from_slice(&self.required_min_rx.0.to_be_bytes());
        out[20..24].copy_from_slice(&self.required_min_echo_rx.0.to_be_bytes());
        out
    }
}

/// Decodes one UDP payload into a Control packet, or says why RFC 5880 section 6.8.6 discards it.
///
/// The checks, in order: at least 24 octets ([`DropReason::Short`]), version 1, the length field at
/// least 24 (26 with the A bit) and at most the datagram's size, Detect Mult non-zero, M bit clear,
/// My Discriminator non-zero, Your Discriminator non-zero unless the state is Down or AdminDown,
/// and last the A bit clear ([`DropReason::AuthUnsupported`]: no authentication is configured).
/// Octets past the length field are ignored.
pub fn decode(datagram: &[u8]) -> Result<ControlPacket, DropReason> {
    let Some(mandatory) = datagram.first_chunk::<PACKET_LEN>() else {
        return Err(DropReason::Short);
    };
    let word = |at: usize| u32::from_be_bytes([mandatory[at], mandatory[at + 1], mandatory[at + 2], mandatory[at + 3]]);
    let flags = mandatory[1];
    let packet = ControlPacket {
        version: mandatory[0] >> 5,
        diag: Diagnostic::from_code(mandatory[0]),
        state: State::from_code(flags >> 6),
        poll: flags & 0x20 != 0,
        final_: flags & 0x10 != 0,
        control_plane_independent: flags & 0x08 != 0,
        auth_present: flags & 0x04 != 0,
        demand: flags & 0x02 != 0,
        multipoint: flags & 0x01 != 0,
        detect_mult: mandatory[2],
        length: mandatory[3],
        my_discriminator: word(4),
        your_discriminator: word(8),
        desired_min_tx: Micros(word(12)),
        required_min_rx: Micros(word(16)),
        required_min_echo_rx: Micros(word(20)),
    };
    if packet.version != VERSION {
        return Err(DropReason::BadVersion);
    }
    // With the A bit, the shortest authentication section (type and length) adds two octets.
    let minimum = if packet.auth_present { PACKET_LEN + 2 } else { PACKET_LEN };
    if usize::from(packet.length) < minimum || usize::from(packet.length) > datagram.len() {
        return Err(DropReason::BadLength);
    }
    if packet.detect_mult == 0 {
        return Err(DropReason::ZeroDetectMult);
    }
    if packet.multipoint {
        return Err(DropReason::Multipoint);
    }
    if packet.my_discriminator == 0 {
        return Err(DropReason::ZeroMyDiscriminator);
    }
    if packet.your_discriminator == 0 && !matches!(packet.state, State::Down | State::AdminDown) {
        return Err(DropReason::ZeroYourDiscriminator);
    }
    if packet.auth_present {
        return Err(DropReason::AuthUnsupported);
    }
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A packet as a peer in Up sends it: 300 ms both ways, Detect Mult 3.
    fn up_packet() -> ControlPacket {
        ControlPacket {
            version: 1,
            diag: Diagnostic::NoDiagnostic,
            state: State::Up,
            poll: false,
            final_: false,
            control_plane_independent: false,
            auth_present: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            length: 24,
            my_discriminator: 0x0102_0304,
            your_discriminator: 0x0a0b_0c0d,
            desired_min_tx: Micros(300_000),
            required_min_rx: Micros(300_000),
            required_min_echo_rx: Micros(0),
        }
    }

    #[test]
    fn encodes_the_rfc_layout_byte_for_byte() {
        let packet = ControlPacket {
            diag: Diagnostic::NeighborSignaledSessionDown,
            state: State::Init,
            poll: true,
            demand: true,
            required_min_echo_rx: Micros(50_000),
            ..up_packet()
        };
        #[rustfmt::skip]
        let expected = [
            0x23, 0xa2, 3, 24,           // version 1, diag 3; Init (2) << 6 | P | D; mult; length
            0x01, 0x02, 0x03, 0x04,      // My Discriminator
            0x0a, 0x0b, 0x0c, 0x0d,      // Your Discriminator
            0x00, 0x04, 0x93, 0xe0,      // Desired Min TX 300000
            0x00, 0x04, 0x93, 0xe0,      // Required Min RX 300000
            0x00, 0x00, 0xc3, 0x50,      // Required Min Echo RX 50000
        ];
        assert_eq!(packet.encode(), expected);
        assert_eq!(decode(&expected), Ok(packet));
    }

    #[test]
    fn every_flag_has_its_own_bit() {
        type SetFlag = fn(&mut ControlPacket);
        let cases: [(SetFlag, u8); 6] = [
            (|p| p.poll = true, 0x20),
            (|p| p.final_ = true, 0x10),
            (|p| p.control_plane_independent = true, 0x08),
            (|p| p.auth_present = true, 0x04),
            (|p| p.demand = true, 0x02),
            (|p| p.multipoint = true, 0x01),
        ];
        for (set, bit) in cases {
            let mut packet = ControlPacket { state: State::AdminDown, ..up_packet() };
            set(&mut packet);
            assert_eq!(packet.encode()[1], bit);
        }
    }

    #[test]
    fn accepts_a_well_formed_packet_with_trailing_octets() {
        let mut datagram = up_packet().encode().to_vec();
        datagram.extend([0xff; 8]);
        assert_eq!(decode(&datagram), Ok(up_packet()));
        // A length field covering the trailing octets is within the datagram: accepted as read.
        datagram[3] = 32;
        assert_eq!(decode(&datagram), Ok(ControlPacket { length: 32, ..up_packet() }));
    }

    #[test]
    fn drops_a_datagram_shorter_than_the_mandatory_section() {
        let bytes = up_packet().encode();
        assert_eq!(decode(&bytes[..23]), Err(DropReason::Short));
        assert_eq!(decode(&[]), Err(DropReason::Short));
    }

    #[test]
    fn drops_a_version_other_than_1() {
        for version in [0, 2, 7] {
            let mut bytes = up_packet().encode();
            bytes[0] = version << 5;
            assert_eq!(decode(&bytes), Err(DropReason::BadVersion), "version {version}");
        }
    }

    #[test]
    fn drops_a_length_field_under_24() {
        let mut bytes = up_packet().encode();
        bytes[3] = 23;
        assert_eq!(decode(&bytes), Err(DropReason::BadLength));
    }

    #[test]
    fn drops_a_length_field_under_26_with_the_auth_bit() {
        let mut datagram = ControlPacket { auth_present: true, ..up_packet() }.encode().to_vec();
        datagram.extend([1, 2]);
        assert_eq!(decode(&datagram), Err(DropReason::BadLength));
        datagram[3] = 26;
        assert_eq!(decode(&datagram), Err(DropReason::AuthUnsupported));
    }

    #[test]
    fn drops_a_length_field_over_the_datagram() {
        let mut bytes = up_packet().encode();
        bytes[3] = 25;
        assert_eq!(decode(&bytes), Err(DropReason::BadLength));
    }

    #[test]
    fn drops_a_zero_detect_mult() {
        let bytes = ControlPacket { detect_mult: 0, ..up_packet() }.encode();
        assert_eq!(decode(&bytes), Err(DropReason::ZeroDetectMult));
    }

    #[test]
    fn drops_the_multipoint_bit() {
        let bytes = ControlPacket { multipoint: true, ..up_packet() }.encode();
        assert_eq!(decode(&bytes), Err(DropReason::Multipoint));
    }

    #[test]
    fn drops_a_zero_my_discriminator() {
        let bytes = ControlPacket { my_discriminator: 0, ..up_packet() }.encode();
        assert_eq!(decode(&bytes), Err(DropReason::ZeroMyDiscriminator));
    }

    #[test]
    fn drops_a_zero_your_discriminator_only_in_init_and_up() {
        for (state, expected) in [
            (State::Up, Err(DropReason::ZeroYourDiscriminator)),
            (State::Init, Err(DropReason::ZeroYourDiscriminator)),
            (State::Down, Ok(())),
            (State::AdminDown, Ok(())),
        ] {
            let bytes = ControlPacket { state, your_discriminator: 0, ..up_packet() }.encode();
            assert_eq!(decode(&bytes).map(|_| ()), expected, "{state}");
        }
    }

    #[test]
    fn drops_the_auth_bit_as_unsupported() {
        let mut datagram = ControlPacket { auth_present: true, ..up_packet() }.encode().to_vec();
        datagram.extend([1, 5, 0, 0, 0]); // Simple Password, length 5: well formed, never accepted
        datagram[3] = 29;
        assert_eq!(decode(&datagram), Err(DropReason::AuthUnsupported));
    }

    #[test]
    fn checks_run_in_the_rfc_order() {
        // Bad version, length, multiplier and discriminators at once: the version is reported.
        let mut bytes = ControlPacket { detect_mult: 0, my_discriminator: 0, ..up_packet() }.encode();
        bytes[0] = 2 << 5;
        bytes[3] = 0;
        assert_eq!(decode(&bytes), Err(DropReason::BadVersion));
        bytes[0] = 1 << 5;
        assert_eq!(decode(&bytes), Err(DropReason::BadLength));
        bytes[3] = 24;
        assert_eq!(decode(&bytes), Err(DropReason::ZeroDetectMult));
    }

    #[test]
    fn diagnostics_and_states_round_trip_their_codes() {
        for code in 0..32 {
            assert_eq!(Diagnostic::from_code(code).code(), code);
        }
        for code in 0..4 {
            assert_eq!(State::from_code(code).code(), code);
        }
        assert_eq!(Diagnostic::ControlDetectionTimeExpired.to_string(), "1 (Control Detection Time Expired)");
    }

    #[test]
    fn micros_saturate_and_truncate() {
        assert_eq!(Micros::from_duration(Duration::from_nanos(1_999)), Micros(1));
        assert_eq!(Micros::from_duration(Duration::from_secs(5_000)), Micros(u32::MAX));
        assert_eq!(Micros(300_000).as_duration(), Duration::from_millis(300));
    }

    fn state() -> impl Strategy<Value = State> {
        (0u8..4).prop_map(State::from_code)
    }

    /// Every packet decode accepts: version 1, no A or M bit, non-zero multiplier and My
    /// Discriminator, Your Discriminator non-zero outside Down and AdminDown.
    fn acceptable_packet() -> impl Strategy<Value = ControlPacket> {
        ((0u8..32, state(), any::<[bool; 4]>(), 1u8..=255), (1u32.., any::<u32>(), any::<[u32; 3]>())).prop_map(
            |((diag, state, [poll, final_, cpi, demand], detect_mult), (mine, yours, intervals))| {
                let yours = if yours == 0 && matches!(state, State::Init | State::Up) { 1 } else { yours };
                ControlPacket {
                    version: 1,
                    diag: Diagnostic::from_code(diag),
                    state,
                    poll,
                    final_,
                    control_plane_independent: cpi,
                    auth_present: false,
                    demand,
                    multipoint: false,
                    detect_mult,
                    length: 24,
                    my_discriminator: mine,
                    your_discriminator: yours,
                    desired_min_tx: Micros(intervals[0]),
                    required_min_rx: Micros(intervals[1]),
                    required_min_echo_rx: Micros(intervals[2]),
                }
            },
        )
    }

    proptest! {
        #[test]
        fn acceptable_packets_round_trip(packet in acceptable_packet()) {
            prop_assert_eq!(decode(&packet.encode()), Ok(packet));
        }

        #[test]
        fn arbitrary_bytes_decode_or_drop_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(packet) = decode(&bytes) {
                prop_assert_eq!(decode(&packet.encode()), Ok(ControlPacket { length: 24, ..packet }));
            }
        }
    }
}
