//! Decode and encode errors. A decode error carries the NOTIFICATION RFC 4271 section 6 prescribes and,
//! for UPDATEs, the RFC 7606 treatment, so the session layer only resets the session where 7606 says to.

use crate::notification::Notification;

/// What to do about a malformed message (RFC 7606 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Treatment {
    /// Only the malformed attribute is dropped; the UPDATE is otherwise valid. Keep the session.
    AttributeDiscard,
    /// The UPDATE's announced routes count as withdrawn. Keep the session.
    TreatAsWithdraw,
    /// Send [`DecodeError::notification`] and close the session.
    SessionReset,
}

/// A received message that is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem} ({treatment:?}, {})", .notification.on_the_wire())]
pub struct DecodeError {
    /// What is wrong.
    pub problem: Problem,
    /// What to do about it; always [`Treatment::SessionReset`] outside UPDATEs.
    pub treatment: Treatment,
    /// The NOTIFICATION to send when the session is reset.
    pub notification: Notification,
    /// The whole message's length when its header was valid: when the treatment keeps the session,
    /// skip this many octets and go on decoding.
    pub message_len: Option<usize>,
}

impl DecodeError {
    /// A malformed message that resets the session with `notification`.
    pub(crate) fn reset(problem: Problem, notification: Notification) -> Self {
        Self { problem, treatment: Treatment::SessionReset, notification, message_len: None }
    }

    /// Whether the session must be reset (send [`DecodeError::notification`], then close).
    pub fn resets_session(&self) -> bool {
        self.treatment == Treatment::SessionReset
    }
}

/// What is wrong with a received message; each reads as a sentence in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The 16-octet marker is not all ones.
    #[error("the header marker is not all ones")]
    MarkerNotAllOnes,
    /// The length is outside 19..=4096 or wrong for the type.
    #[error("message length {length} is not valid for message type {message_type}")]
    BadLength {
        /// The length field.
        length: u16,
        /// The type field.
        message_type: u8,
    },
    /// The type is not OPEN, UPDATE, NOTIFICATION, KEEPALIVE or ROUTE-REFRESH.
    #[error("message type {0} is unknown")]
    UnknownType(u8),
    /// The OPEN's version is not 4.
    #[error("BGP version {0} is not supported")]
    UnsupportedVersion(u8),
    /// The OPEN's AS (2-octet field or 4-octet capability) is 0 (RFC 7607).
    #[error("peer AS {0} is not acceptable")]
    BadPeerAs(u32),
    /// The OPEN's BGP identifier is 0.0.0.0.
    #[error("BGP identifier 0.0.0.0 is not acceptable")]
    BadBgpIdentifier,
    /// An optional parameter other than capabilities (2).
    #[error("optional parameter type {0} is not supported")]
    UnsupportedOptionalParameter(u8),
    /// Hold time 1 or 2 seconds.
    #[error("hold time {0} s is not acceptable")]
    UnacceptableHoldTime(u16),
    /// A capability FerroLB knows has a value of the wrong shape.
    #[error("capability {code} is malformed")]
    MalformedCapability {
        /// The capability code.
        code: u8,
    },
    /// The OPEN's optional parameters do not fill its body exactly.
    #[error("the OPEN's optional parameter lengths do not add up")]
    MalformedOpen,
    /// The UPDATE's withdrawn-routes or path-attribute lengths overrun the message.
    #[error("the UPDATE's field lengths overrun the message")]
    UpdateLengthsInconsistent,
    /// A prefix in the withdrawn routes, NLRI or an MP attribute is malformed.
    #[error("a prefix is malformed")]
    InvalidPrefix,
    /// The path attributes overrun their total length.
    #[error("the path attributes overrun their total length")]
    AttributeListOverrun,
    /// MP_REACH_NLRI or MP_UNREACH_NLRI appears twice.
    #[error("attribute {type_code} appears more than once")]
    DuplicateMpAttribute {
        /// The attribute type.
        type_code: u8,
    },
    /// A known attribute with flags that contradict its type.
    #[error("attribute {type_code} has wrong flags")]
    AttributeFlags {
        /// The attribute type.
        type_code: u8,
    },
    /// A known attribute with a length that contradicts its type.
    #[error("attribute {type_code} has a wrong length")]
    AttributeLength {
        /// The attribute type.
        type_code: u8,
    },
    /// An unknown attribute flagged well-known.
    #[error("well-known attribute {type_code} is unknown")]
    UnrecognizedWellKnown {
        /// The attribute type.
        type_code: u8,
    },
    /// Routes are announced without a mandatory attribute.
    #[error("mandatory attribute {type_code} is missing")]
    MissingWellKnown {
        /// The attribute type.
        type_code: u8,
    },
    /// ORIGIN is not 0, 1 or 2.
    #[error("ORIGIN value {0} is undefined")]
    InvalidOrigin(u8),
    /// NEXT_HOP is 0.0.0.0, a broadcast or a multicast address.
    #[error("NEXT_HOP {0} is not a host address")]
    InvalidNextHop(std::net::Ipv4Addr),
    /// AS_PATH segments are malformed.
    #[error("the AS_PATH is malformed")]
    MalformedAsPath,
    /// A recognised optional attribute has a malformed value.
    #[error("optional attribute {type_code} is malformed")]
    MalformedOptional {
        /// The attribute type.
        type_code: u8,
    },
}

/// A message that cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message would exceed 4096 octets.
    #[error("the message would be {length} octets, more than 4096")]
    MessageTooLong {
        /// The length it would have.
        length: usize,
    },
    /// The OPEN's capabilities exceed 255 octets (extended optional parameters are not implemented).
    #[error("the OPEN's capabilities take {length} octets, more than 255")]
    OptionalParametersTooLong {
        /// Their length.
        length: usize,
    },
    /// A capability value exceeds 255 octets.
    #[error("capability {code} has {length} octets, more than 255")]
    CapabilityTooLong {
        /// The capability code.
        code: u8,
        /// Its value's length.
        length: usize,
    },
    /// IPv4 prefixes are announced without an IPv4 next hop.
    #[error("IPv4 prefixes are announced without an IPv4 next hop")]
    MissingIpv4NextHop,
    /// IPv6 prefixes are announced without an IPv6 next hop.
    #[error("IPv6 prefixes are announced without an IPv6 next hop")]
    MissingIpv6NextHop,
    /// IPv6 prefixes and IPv4 prefixes with an IPv6 next hop in one UPDATE: each needs its own
    /// MP_REACH_NLRI, and an UPDATE carries one.
    #[error("IPv6 prefixes and IPv4 prefixes with an IPv6 next hop cannot share an UPDATE")]
    TwoMpReach,
    /// Prefixes are announced without path attributes.
    #[error("prefixes are announced without path attributes")]
    MissingAttributes,
    /// The path attributes alone leave no room for a prefix in a 4096-octet UPDATE.
    #[error("the path attributes take {length} octets, leaving no room for prefixes")]
    AttributesTooLong {
        /// Their length.
        length: usize,
    },
}
