//! The one NOTIFICATION type (RFC 4271 section 4.5): error code, subcode and data, with the codes
//! and subcodes named (RFC 4271, 4486 and 9384 Cease, 6608 FSM, 7313 ROUTE-REFRESH, 5492
//! capabilities, 8538 hard reset, 9234 roles) and the sentence logs and status conditions print.
//!
//! The codec encodes and decodes it, the state machine decides which one answers an error; this
//! module only names codes and builds values. It depends on [`crate::wire`] alone.

use std::fmt;

use crate::wire::{BGP_VERSION, wire_enum};

/// A NOTIFICATION: error code, subcode and data, kept raw so that any received one round-trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The error code (see [`ErrorCode`]).
    pub code: u8,
    /// The error subcode (0: unspecific); its meaning depends on the code (see the `*Subcode` enums).
    pub subcode: u8,
    /// Diagnostic data, as the RFC for the (code, subcode) prescribes.
    pub data: Vec<u8>,
}

wire_enum! {
    /// The NOTIFICATION error codes (RFC 4271 section 4.5, RFC 7313).
    pub enum ErrorCode {
        /// 1: the message header was wrong ([`HeaderSubcode`]).
        MessageHeader = 1 => "Message Header Error",
        /// 2: the OPEN was refused ([`OpenSubcode`]).
        OpenMessage = 2 => "OPEN Message Error",
        /// 3: an UPDATE was malformed ([`UpdateSubcode`]).
        UpdateMessage = 3 => "UPDATE Message Error",
        /// 4: no KEEPALIVE or UPDATE arrived within the hold time.
        HoldTimerExpired = 4 => "Hold Timer Expired",
        /// 5: a message arrived in a state where it is not expected ([`FsmSubcode`]).
        FiniteStateMachine = 5 => "Finite State Machine Error",
        /// 6: the session is closed on purpose ([`CeaseSubcode`]).
        Cease = 6 => "Cease",
        /// 7: a ROUTE-REFRESH was malformed (RFC 7313; subcode 1 = invalid message length).
        RouteRefresh = 7 => "ROUTE-REFRESH Message Error",
    }
}

wire_enum! {
    /// Subcodes of [`ErrorCode::MessageHeader`].
    pub enum HeaderSubcode {
        /// 1: the marker is not all ones. No data.
        ConnectionNotSynchronized = 1 => "Connection Not Synchronized",
        /// 2: the length is out of range or wrong for the type. Data: the length (2 octets).
        BadMessageLength = 2 => "Bad Message Length",
        /// 3: the type is unknown. Data: the type (1 octet).
        BadMessageType = 3 => "Bad Message Type",
    }
}

wire_enum! {
    /// Subcodes of [`ErrorCode::OpenMessage`] (RFC 4271; 7 from RFC 5492, 11 from RFC 9234).
    pub enum OpenSubcode {
        /// 0: no more specific subcode applies.
        Unspecific = 0,
        /// 1: the version is not 4. Data: the largest supported version, 4, as 2 octets.
        UnsupportedVersionNumber = 1 => "Unsupported Version Number",
        /// 2: the peer's AS is not acceptable (0, or not the configured one).
        BadPeerAs = 2 => "Bad Peer AS",
        /// 3: the BGP identifier is not acceptable (0, or equal to ours).
        BadBgpIdentifier = 3 => "Bad BGP Identifier",
        /// 4: an optional parameter other than capabilities was present.
        UnsupportedOptionalParameter = 4 => "Unsupported Optional Parameter",
        /// 6: the hold time is 1 or 2 seconds (or otherwise refused).
        UnacceptableHoldTime = 6 => "Unacceptable Hold Time",
        /// 7: a capability is malformed or a required one is missing. Data: the capabilities concerned.
        UnsupportedCapability = 7 => "Unsupported Capability",
        /// 11: the BGP roles of the two sides do not fit (RFC 9234).
        RoleMismatch = 11 => "Role Mismatch",
    }
}

wire_enum! {
    /// Subcodes of [`ErrorCode::UpdateMessage`].
    pub enum UpdateSubcode {
        /// 1: the lengths of the fields or attributes do not add up, or an MP attribute repeats. No data.
        MalformedAttributeList = 1 => "Malformed Attribute List",
        /// 2: an unknown attribute is flagged well-known. Data: the attribute.
        UnrecognizedWellKnownAttribute = 2 => "Unrecognized Well-known Attribute",
        /// 3: a mandatory attribute is absent. Data: its type code (1 octet).
        MissingWellKnownAttribute = 3 => "Missing Well-known Attribute",
        /// 4: an attribute's flags conflict with its type. Data: the attribute.
        AttributeFlagsError = 4 => "Attribute Flags Error",
        /// 5: an attribute's length conflicts with its type. Data: the attribute.
        AttributeLengthError = 5 => "Attribute Length Error",
        /// 6: ORIGIN has an undefined value. Data: the attribute.
        InvalidOriginAttribute = 6 => "Invalid ORIGIN Attribute",
        /// 8: NEXT_HOP is not a valid host address. Data: the attribute.
        InvalidNextHopAttribute = 8 => "Invalid NEXT_HOP Attribute",
        /// 9: a recognised optional attribute has a bad value. Data: the attribute.
        OptionalAttributeError = 9 => "Optional Attribute Error",
        /// 10: the NLRI or withdrawn routes are syntactically wrong. No data.
        InvalidNetworkField = 10 => "Invalid Network Field",
        /// 11: the AS_PATH is malformed. No data.
        MalformedAsPath = 11 => "Malformed AS_PATH",
    }
}

wire_enum! {
    /// Subcodes of [`ErrorCode::FiniteStateMachine`] (RFC 6608).
    pub enum FsmSubcode {
        /// 0: unspecified.
        Unspecified = 0,
        /// 1: unexpected message in OpenSent.
        UnexpectedInOpenSent = 1 => "Unexpected Message in OpenSent State",
        /// 2: unexpected message in OpenConfirm.
        UnexpectedInOpenConfirm = 2 => "Unexpected Message in OpenConfirm State",
        /// 3: unexpected message in Established.
        UnexpectedInEstablished = 3 => "Unexpected Message in Established State",
    }
}

wire_enum! {
    /// Subcodes of [`ErrorCode::Cease`] (RFC 4486, 8538, 9384).
    pub enum CeaseSubcode {
        /// 1: maximum number of prefixes reached.
        MaximumPrefixesReached = 1 => "Maximum Number of Prefixes Reached",
        /// 2: administrative shutdown.
        AdministrativeShutdown = 2 => "Administrative Shutdown",
        /// 3: the peer was removed from the configuration.
        PeerDeconfigured = 3 => "Peer De-configured",
        /// 4: administrative reset.
        AdministrativeReset = 4 => "Administrative Reset",
        /// 5: connection rejected.
        ConnectionRejected = 5 => "Connection Rejected",
        /// 6: other configuration change.
        OtherConfigurationChange = 6 => "Other Configuration Change",
        /// 7: connection collision resolution.
        ConnectionCollisionResolution = 7 => "Connection Collision Resolution",
        /// 8: out of resources.
        OutOfResources = 8 => "Out of Resources",
        /// 9: hard reset (RFC 8538).
        HardReset = 9 => "Hard Reset",
        /// 10: BFD saw the peer go down (RFC 9384).
        BfdDown = 10 => "BFD Down",
    }
}

impl Notification {
    /// A NOTIFICATION with the given raw code, subcode and data.
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Self {
        Self { code, subcode, data }
    }

    /// 1/`subcode` Message Header Error with `data`.
    pub fn header(subcode: HeaderSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::MessageHeader as u8, subcode as u8, data)
    }

    /// 2/`subcode` OPEN Message Error with `data`.
    pub fn open(subcode: OpenSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::OpenMessage as u8, subcode as u8, data)
    }

    /// 3/`subcode` UPDATE Message Error with `data`.
    pub fn update(subcode: UpdateSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::UpdateMessage as u8, subcode as u8, data)
    }

    /// 2/1 Unsupported Version Number; the data names the version we support (4), as two octets.
    pub fn unsupported_version() -> Self {
        Self::open(OpenSubcode::UnsupportedVersionNumber, u16::from(BGP_VERSION).to_be_bytes().to_vec())
    }

    /// 2/2 Bad Peer AS (0, or not the configured one).
    pub fn bad_peer_as() -> Self {
        Self::open(OpenSubcode::BadPeerAs, Vec::new())
    }

    /// 2/3 Bad BGP Identifier (0, or equal to ours on iBGP).
    pub fn bad_bgp_identifier() -> Self {
        Self::open(OpenSubcode::BadBgpIdentifier, Vec::new())
    }

    /// 2/6 Unacceptable Hold Time.
    pub fn unacceptable_hold_time() -> Self {
        Self::open(OpenSubcode::UnacceptableHoldTime, Vec::new())
    }

    /// 4/0 Hold Timer Expired.
    pub fn hold_timer_expired() -> Self {
        Self::new(ErrorCode::HoldTimerExpired as u8, 0, Vec::new())
    }

    /// 5/x Finite State Machine Error; the state machine passes the state the unexpected message
    /// arrived in (RFC 6608).
    pub fn fsm_error(subcode: impl Into<FsmSubcode>) -> Self {
        Self::new(ErrorCode::FiniteStateMachine as u8, subcode.into() as u8, Vec::new())
    }

    /// 6/`subcode` Cease, no data.
    pub fn cease(subcode: CeaseSubcode) -> Self {
        Self::new(ErrorCode::Cease as u8, subcode as u8, Vec::new())
    }

    /// 6/2 Cease, Administrative Shutdown (RFC 4486).
    pub fn administrative_shutdown() -> Self {
        Self::cease(CeaseSubcode::AdministrativeShutdown)
    }

    /// 6/7 Cease, Connection Collision Resolution (RFC 4486).
    pub fn collision_resolution() -> Self {
        Self::cease(CeaseSubcode::ConnectionCollisionResolution)
    }

    /// The error code, when it is one we name.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_u8(self.code)
    }

    /// The RFC name of the error code.
    pub fn code_name(&self) -> &'static str {
        self.error_code().and_then(ErrorCode::name).unwrap_or("Unknown Error")
    }

    /// The RFC name of the subcode, when it has one.
    pub fn subcode_name(&self) -> Option<&'static str> {
        let subcode = self.subcode;
        match self.error_code()? {
            ErrorCode::MessageHeader => HeaderSubcode::from_u8(subcode)?.name(),
            ErrorCode::OpenMessage => OpenSubcode::from_u8(subcode)?.name(),
            ErrorCode::UpdateMessage => UpdateSubcode::from_u8(subcode)?.name(),
            ErrorCode::FiniteStateMachine => FsmSubcode::from_u8(subcode)?.name(),
            ErrorCode::Cease => CeaseSubcode::from_u8(subcode)?.name(),
            ErrorCode::HoldTimerExpired | ErrorCode::RouteRefresh => None,
        }
    }

    /// The operator's message of a Cease Administrative Shutdown or Reset (RFC 9003): a length
    /// octet then that many octets of UTF-8. None when absent or malformed.
    pub fn shutdown_message(&self) -> Option<&str> {
        let subcode = CeaseSubcode::from_u8(self.subcode);
        if self.error_code() != Some(ErrorCode::Cease)
            || !matches!(subcode, Some(CeaseSubcode::AdministrativeShutdown | CeaseSubcode::AdministrativeReset))
        {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        if text.is_empty() {
            return None;
        }
        std::str::from_utf8(text).ok()
    }

    /// The notification as the octets say it, `NOTIFICATION 1/2 data 00 12`, for a decode error's
    /// log line.
    pub fn on_the_wire(&self) -> impl fmt::Display + '_ {
        OnTheWire(self)
    }
}

impl fmt::Display for Notification {
    /// `6/2 (Cease, Administrative Shutdown: "maintenance")`, for logs and status messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({}", self.code, self.subcode, self.code_name())?;
        if let Some(sub) = self.subcode_name() {
            write!(f, ", {sub}")?;
        }
        if let Some(message) = self.shutdown_message() {
            write!(f, ": {message:?}")?;
        }
        f.write_str(")")
    }
}

/// [`Notification::on_the_wire`].
struct OnTheWire<'a>(&'a Notification);

impl fmt::Display for OnTheWire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(f, "NOTIFICATION {}/{}", n.code, n.subcode)?;
        if !n.data.is_empty() {
            f.write_str(" data")?;
            for byte in &n.data {
                write!(f, " {byte:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_subcode_and_shutdown_message() {
        let cases = [
            (Notification::hold_timer_expired(), "4/0 (Hold Timer Expired)"),
            (Notification::bad_peer_as(), "2/2 (OPEN Message Error, Bad Peer AS)"),
            (
                Notification::new(6, 2, b"\x0bmaintenance".to_vec()),
                "6/2 (Cease, Administrative Shutdown: \"maintenance\")",
            ),
            (Notification::new(99, 1, vec![]), "99/1 (Unknown Error)"),
        ];
        for (n, text) in cases {
            assert_eq!(n.to_string(), text);
        }
    }

    #[test]
    fn every_named_code_and_subcode_reads_as_the_rfc_names_it() {
        let cases = [
            ((1, 1), "1/1 (Message Header Error, Connection Not Synchronized)"),
            ((2, 0), "2/0 (OPEN Message Error)"),
            ((2, 11), "2/11 (OPEN Message Error, Role Mismatch)"),
            ((3, 11), "3/11 (UPDATE Message Error, Malformed AS_PATH)"),
            ((3, 7), "3/7 (UPDATE Message Error)"),
            ((5, 0), "5/0 (Finite State Machine Error)"),
            ((5, 2), "5/2 (Finite State Machine Error, Unexpected Message in OpenConfirm State)"),
            ((6, 10), "6/10 (Cease, BFD Down)"),
            ((6, 11), "6/11 (Cease)"),
            ((7, 1), "7/1 (ROUTE-REFRESH Message Error)"),
        ];
        for ((code, subcode), text) in cases {
            assert_eq!(Notification::new(code, subcode, vec![]).to_string(), text);
        }
    }

    #[test]
    fn on_the_wire_shows_code_subcode_and_data_octets() {
        assert_eq!(Notification::hold_timer_expired().on_the_wire().to_string(), "NOTIFICATION 4/0");
        let bad_length = Notification::header(HeaderSubcode::BadMessageLength, vec![0x00, 0x12]);
        assert_eq!(bad_length.on_the_wire().to_string(), "NOTIFICATION 1/2 data 00 12");
    }

    #[test]
    fn shutdown_message_rejects_short_or_invalid_data() {
        let cases: [(Vec<u8>, Option<&str>); 5] = [
            (vec![], None),
            (vec![0], None),
            (vec![5, b'a', b'b'], None),
            (vec![2, 0xff, 0xfe], None),
            (vec![2, b'o', b'k', b'!'], Some("ok")),
        ];
        for (data, expected) in cases {
            assert_eq!(Notification::new(6, 2, data.clone()).shutdown_message(), expected, "{data:?}");
        }
        assert_eq!(Notification::new(6, 3, b"\x02ok".to_vec()).shutdown_message(), None);
    }
}
