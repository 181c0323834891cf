//! NOTIFICATION messages (RFC 4271 section 4.5) and the error codes and subcodes they carry (RFC 4271,
//! 4486 Cease, 6608 FSM, 7313 ROUTE-REFRESH, 5492 capabilities, 8538 hard reset).
//!
//! This module names codes and builds notifications; it does not decide when one is sent (the FSM does).

use super::header::{HEADER_LEN, MAX_MESSAGE_LEN};
use super::open::Capability;
use super::reader::Reader;

/// A NOTIFICATION: error code, subcode and data, kept raw so that any received one round-trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The error code (see [`ErrorCode`]).
    pub code: u8,
    /// The error subcode; its meaning depends on the code (see the `*Subcode` enums).
    pub subcode: u8,
    /// Diagnostic data, as the RFC for the (code, subcode) prescribes.
    pub data: Vec<u8>,
}

/// The NOTIFICATION error codes (RFC 4271 section 4.5, RFC 7313).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    /// 1: the message header was wrong ([`HeaderSubcode`]).
    MessageHeader = 1,
    /// 2: the OPEN was refused ([`OpenSubcode`]).
    OpenMessage = 2,
    /// 3: an UPDATE was malformed ([`UpdateSubcode`]).
    UpdateMessage = 3,
    /// 4: no KEEPALIVE or UPDATE arrived within the hold time.
    HoldTimerExpired = 4,
    /// 5: a message arrived in a state where it is not expected ([`FsmSubcode`]).
    FiniteStateMachine = 5,
    /// 6: the session is closed on purpose ([`CeaseSubcode`]).
    Cease = 6,
    /// 7: a ROUTE-REFRESH was malformed (RFC 7313; subcode 1 = invalid message length).
    RouteRefresh = 7,
}

impl ErrorCode {
    /// The code for a raw value, `None` for a value no RFC we implement defines.
    pub fn from_u8(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::MessageHeader,
            2 => Self::OpenMessage,
            3 => Self::UpdateMessage,
            4 => Self::HoldTimerExpired,
            5 => Self::FiniteStateMachine,
            6 => Self::Cease,
            7 => Self::RouteRefresh,
            _ => return None,
        })
    }
}

/// Subcodes of [`ErrorCode::MessageHeader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HeaderSubcode {
    /// 1: the marker is not all ones. No data.
    ConnectionNotSynchronized = 1,
    /// 2: the length is out of range or wrong for the type. Data: the length (2 octets).
    BadMessageLength = 2,
    /// 3: the type is unknown. Data: the type (1 octet).
    BadMessageType = 3,
}

/// Subcodes of [`ErrorCode::OpenMessage`] (RFC 4271; 7 from RFC 5492).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpenSubcode {
    /// 0: no more specific subcode applies.
    Unspecific = 0,
    /// 1: the version is not 4. Data: the largest supported version, 4, as 2 octets.
    UnsupportedVersionNumber = 1,
    /// 2: the peer's AS is not acceptable (0, or not the configured one).
    BadPeerAs = 2,
    /// 3: the BGP identifier is not acceptable (0, or equal to ours).
    BadBgpIdentifier = 3,
    /// 4: an optional parameter other than capabilities was present.
    UnsupportedOptionalParameter = 4,
    /// 6: the hold time is 1 or 2 seconds (or otherwise refused).
    UnacceptableHoldTime = 6,
    /// 7: a capability is malformed or a required one is missing. Data: the capabilities concerned.
    UnsupportedCapability = 7,
}

/// Subcodes of [`ErrorCode::UpdateMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum UpdateSubcode {
    /// 1: the lengths of the fields or attributes do not add up, or an MP attribute repeats. No data.
    MalformedAttributeList = 1,
    /// 2: an unknown attribute is flagged well-known. Data: the attribute.
    UnrecognizedWellKnownAttribute = 2,
    /// 3: a mandatory attribute is absent. Data: its type code (1 octet).
    MissingWellKnownAttribute = 3,
    /// 4: an attribute's flags conflict with its type. Data: the attribute.
    AttributeFlagsError = 4,
    /// 5: an attribute's length conflicts with its type. Data: the attribute.
    AttributeLengthError = 5,
    /// 6: ORIGIN has an undefined value. Data: the attribute.
    InvalidOriginAttribute = 6,
    /// 8: NEXT_HOP is not a valid host address. Data: the attribute.
    InvalidNextHopAttribute = 8,
    /// 9: a recognised optional attribute has a bad value. Data: the attribute.
    OptionalAttributeError = 9,
    /// 10: the NLRI or withdrawn routes are syntactically wrong. No data.
    InvalidNetworkField = 10,
    /// 11: the AS_PATH is malformed. No data.
    MalformedAsPath = 11,
}

/// Subcodes of [`ErrorCode::FiniteStateMachine`] (RFC 6608).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FsmSubcode {
    /// 0: unspecified.
    Unspecified = 0,
    /// 1: unexpected message in OpenSent.
    UnexpectedInOpenSent = 1,
    /// 2: unexpected message in OpenConfirm.
    UnexpectedInOpenConfirm = 2,
    /// 3: unexpected message in Established.
    UnexpectedInEstablished = 3,
}

/// Subcodes of [`ErrorCode::Cease`] (RFC 4486, 8538).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CeaseSubcode {
    /// 1: maximum number of prefixes reached.
    MaximumPrefixesReached = 1,
    /// 2: administrative shutdown.
    AdministrativeShutdown = 2,
    /// 3: the peer was removed from the configuration.
    PeerDeconfigured = 3,
    /// 4: administrative reset.
    AdministrativeReset = 4,
    /// 5: connection rejected.
    ConnectionRejected = 5,
    /// 6: other configuration change.
    OtherConfigurationChange = 6,
    /// 7: connection collision resolution.
    ConnectionCollisionResolution = 7,
    /// 8: out of resources.
    OutOfResources = 8,
    /// 9: hard reset (RFC 8538).
    HardReset = 9,
}

impl Notification {
    /// A notification with the given code, subcode and data.
    pub fn new(code: ErrorCode, subcode: u8, data: Vec<u8>) -> Self {
        Self { code: code as u8, subcode, data }
    }

    /// 1/`subcode` with `data`.
    pub fn header(subcode: HeaderSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::MessageHeader, subcode as u8, data)
    }

    /// 2/`subcode` with `data`.
    pub fn open(subcode: OpenSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::OpenMessage, subcode as u8, data)
    }

    /// 3/`subcode` with `data`.
    pub fn update(subcode: UpdateSubcode, data: Vec<u8>) -> Self {
        Self::new(ErrorCode::UpdateMessage, subcode as u8, data)
    }

    /// 2/2 Bad Peer AS (for a peer whose AS is not the configured one).
    pub fn bad_peer_as() -> Self {
        Self::open(OpenSubcode::BadPeerAs, Vec::new())
    }

    /// 2/3 Bad BGP Identifier (for a peer whose identifier equals ours).
    pub fn bad_bgp_identifier() -> Self {
        Self::open(OpenSubcode::BadBgpIdentifier, Vec::new())
    }

    /// 2/7 Unsupported Capability, listing `capabilities` (e.g. the 4-octet AS one a peer lacks).
    pub fn unsupported_capability(capabilities: &[Capability]) -> Self {
        let mut data = Vec::new();
        for capability in capabilities {
            capability.encode(&mut data);
        }
        Self::open(OpenSubcode::UnsupportedCapability, data)
    }

    /// 4/0 Hold Timer Expired.
    pub fn hold_timer_expired() -> Self {
        Self::new(ErrorCode::HoldTimerExpired, 0, Vec::new())
    }

    /// 5/`subcode` Finite State Machine Error.
    pub fn fsm_error(subcode: FsmSubcode) -> Self {
        Self::new(ErrorCode::FiniteStateMachine, subcode as u8, Vec::new())
    }

    /// 6/`subcode` Cease.
    pub fn cease(subcode: CeaseSubcode) -> Self {
        Self::new(ErrorCode::Cease, subcode as u8, Vec::new())
    }

    /// The error code, when it is one we name.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_u8(self.code)
    }

    /// The body's length on the wire.
    pub(crate) fn body_len(&self) -> usize {
        2 + self.data.len()
    }

    /// Appends the body (code, subcode, data).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
    }

    /// Reads a body; the header already guaranteed at least 2 octets.
    pub(crate) fn decode_body(body: &[u8]) -> Option<Self> {
        let mut reader = Reader::new(body);
        let code = reader.u8()?;
        let subcode = reader.u8()?;
        Some(Self { code, subcode, data: reader.rest().to_vec() })
    }

    /// The most data a NOTIFICATION can carry in one message.
    pub const MAX_DATA_LEN: usize = MAX_MESSAGE_LEN - HEADER_LEN - 2;
}

impl std::fmt::Display for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NOTIFICATION {}/{}", self.code, self.subcode)?;
        if !self.data.is_empty() {
            write!(f, " data")?;
            for byte in &self.data {
                write!(f, " {byte:02x}")?;
            }
        }
        Ok(())
    }
}
