//! The 19-octet message header (RFC 4271 section 4.1): marker, length, type.
//!
//! Decides whether a header is acceptable (marker all ones, length within 19..=4096 and right for the
//! type, known type); the bodies are checked by the per-message modules.

use super::error::{DecodeError, Problem};
use crate::notification::{HeaderSubcode, Notification};
use crate::wire::wire_enum;

/// Octets in the header.
pub const HEADER_LEN: usize = 19;
/// The largest message RFC 4271 allows (no extended messages, RFC 8654).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Octets in the marker.
const MARKER_LEN: usize = 16;

wire_enum! {
    /// The message types FerroLB knows.
    pub enum MessageType {
        /// 1: OPEN.
        Open = 1 => "OPEN",
        /// 2: UPDATE.
        Update = 2 => "UPDATE",
        /// 3: NOTIFICATION.
        Notification = 3 => "NOTIFICATION",
        /// 4: KEEPALIVE.
        Keepalive = 4 => "KEEPALIVE",
        /// 5: ROUTE-REFRESH (RFC 2918).
        RouteRefresh = 5 => "ROUTE-REFRESH",
    }
}

impl MessageType {
    /// Whether `length` (header included) is acceptable for this type.
    fn accepts_length(self, length: usize) -> bool {
        match self {
            Self::Open => length >= HEADER_LEN + 10,
            Self::Update => length >= HEADER_LEN + 4,
            Self::Notification => length >= HEADER_LEN + 2,
            Self::Keepalive => length == HEADER_LEN,
            Self::RouteRefresh => length == HEADER_LEN + 4,
        }
    }
}

/// A header that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The message length, header included.
    pub(crate) length: usize,
    /// The message type.
    pub(crate) message_type: MessageType,
}

/// Checks the first [`HEADER_LEN`] octets of `buf`; `None` when fewer are there yet.
pub(crate) fn check(buf: &[u8]) -> Result<Option<Header>, DecodeError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let (marker, rest) = header.split_at(MARKER_LEN);
    if marker.iter().any(|&b| b != 0xff) {
        return Err(reset(Problem::MarkerNotAllOnes, HeaderSubcode::ConnectionNotSynchronized, Vec::new()));
    }
    let [len_hi, len_lo, type_code] = <[u8; 3]>::try_from(rest).unwrap_or([0; 3]);
    let length = u16::from_be_bytes([len_hi, len_lo]);
    let bad_length = || {
        reset(
            Problem::BadLength { length, message_type: type_code },
            HeaderSubcode::BadMessageLength,
            length.to_be_bytes().to_vec(),
        )
    };
    let length_usize = usize::from(length);
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&length_usize) {
        return Err(bad_length());
    }
    let Some(message_type) = MessageType::from_u8(type_code) else {
        return Err(reset(Problem::UnknownType(type_code), HeaderSubcode::BadMessageType, vec![type_code]));
    };
    if !message_type.accepts_length(length_usize) {
        return Err(bad_length());
    }
    Ok(Some(Header { length: length_usize, message_type }))
}

fn reset(problem: Problem, subcode: HeaderSubcode, data: Vec<u8>) -> DecodeError {
    DecodeError::reset(problem, Notification::header(subcode, data))
}

/// Appends a header whose length is filled in by [`finish`]; returns where the message starts.
pub(crate) fn begin(out: &mut Vec<u8>, message_type: MessageType) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0xff; MARKER_LEN]);
    out.extend_from_slice(&[0, 0, message_type as u8]);
    start
}

/// Writes the length of the message that starts at `start`; `Err(length)` (and the message removed from
/// `out`) when it is longer than [`MAX_MESSAGE_LEN`].
pub(crate) fn finish(out: &mut Vec<u8>, start: usize) -> Result<(), usize> {
    let length = out.len().saturating_sub(start);
    match (u16::try_from(length), out.get_mut(start + MARKER_LEN..start + MARKER_LEN + 2)) {
        (Ok(len16), Some(field)) if length <= MAX_MESSAGE_LEN => {
            field.copy_from_slice(&len16.to_be_bytes());
            Ok(())
        }
        _ => {
            out.truncate(start);
            Err(length)
        }
    }
}
