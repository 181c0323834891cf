//! BGP message codec, pure (RFC 4271; 4760 multiprotocol, 6793 4-octet AS, 2918 route refresh, 4724
//! graceful restart, 1997 and 8092 communities, 7606 revised error handling).
//!
//! Decides how messages look on the wire and whether received bytes are a well-formed message; every
//! malformed input is a [`DecodeError`] carrying the NOTIFICATION to send and, for UPDATEs, the RFC 7606
//! treatment. It does not decide what to send or when (the FSM and the session do), and assumes the
//! 4-octet AS capability is in use (FerroLB always sends it; a session should refuse peers without it).
//!
//! Start with [`Message`], [`decode`], [`Message::encode`] and [`encode_announcements`].

mod attributes;
mod error;
mod header;
mod open;
mod pack;
mod prefix;
mod reader;
mod update;
mod update_decode;

#[cfg(test)]
pub(crate) mod tests;

pub use attributes::{
    Community, Ipv6NextHop, LargeCommunity, Origin, RouteAttributes, flags as attribute_flags, type_code,
};
pub use error::{DecodeError, EncodeError, Problem, Treatment};
pub use header::{HEADER_LEN, MAX_MESSAGE_LEN, MessageType};
pub use open::{AS_TRANS, Capability, ExtendedNextHop, GracefulRestart, Open, unsupported_capability};
pub use pack::{encode_announcements, encode_withdrawals, pack_announcements, pack_withdrawals};
pub use prefix::{AFI_IPV4, AFI_IPV6, AfiSafi, Family, Prefix, PrefixLengthError, SAFI_UNICAST};
pub use update::Update;

use reader::Reader;
use update_decode::Received;

use crate::notification::Notification;

/// A BGP message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// OPEN.
    Open(Open),
    /// UPDATE withdrawing and/or announcing routes.
    Update(Update),
    /// The End-of-RIB marker of a family (an UPDATE on the wire, RFC 4724 section 2).
    EndOfRib(Family),
    /// NOTIFICATION.
    Notification(Notification),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH.
    RouteRefresh(RouteRefresh),
}

/// A ROUTE-REFRESH message (RFC 2918): asks the peer to send its routes of one AFI/SAFI again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// The AFI/SAFI asked for.
    pub afi_safi: AfiSafi,
}

impl Message {
    /// Appends the encoded message to `out`; on error `out` is left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let message_type = match self {
            Self::Update(update) => return update.encode(out),
            Self::EndOfRib(family) => {
                update::encode_end_of_rib(*family, out);
                return Ok(());
            }
            Self::Open(_) => MessageType::Open,
            Self::Notification(_) => MessageType::Notification,
            Self::Keepalive => MessageType::Keepalive,
            Self::RouteRefresh(_) => MessageType::RouteRefresh,
        };
        // Code and subcode, then the data.
        if let Self::Notification(n) = self
            && 2 + n.data.len() > MAX_MESSAGE_LEN - HEADER_LEN
        {
            return Err(EncodeError::MessageTooLong { length: HEADER_LEN + 2 + n.data.len() });
        }
        header::begin(out, message_type);
        match self {
            Self::Open(open) => {
                if let Err(e) = open.encode_body(out) {
                    out.truncate(start);
                    return Err(e);
                }
            }
            Self::Notification(n) => {
                out.extend_from_slice(&[n.code, n.subcode]);
                out.extend_from_slice(&n.data);
            }
            Self::RouteRefresh(rr) => {
                out.extend_from_slice(&rr.afi_safi.afi.to_be_bytes());
                out.push(0);
                out.push(rr.afi_safi.safi);
            }
            Self::Keepalive | Self::Update(_) | Self::EndOfRib(_) => {}
        }
        header::finish(out, start).map_err(|length| EncodeError::MessageTooLong { length })
    }

    /// The encoded message in a new buffer.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// The message's type on the wire.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Open(_) => MessageType::Open,
            Self::Update(_) | Self::EndOfRib(_) => MessageType::Update,
            Self::Notification(_) => MessageType::Notification,
            Self::Keepalive => MessageType::Keepalive,
            Self::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }
}

/// Decodes the first message in `buf`: `Ok(None)` when `buf` does not hold a whole message yet,
/// `Ok(Some((message, consumed)))` otherwise.
///
/// On `Err(e)`: when `e.resets_session()`, send `e.notification` and close; otherwise (an UPDATE that
/// RFC 7606 treats as withdraw or attribute-discard) skip `e.message_len` octets and go on.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, DecodeError> {
    let Some(header) = header::check(buf)? else {
        return Ok(None);
    };
    let Some(body) = buf.get(HEADER_LEN..header.length) else {
        return Ok(None);
    };
    let with_len = |mut e: DecodeError| {
        e.message_len = Some(header.length);
        e
    };
    let message = match header.message_type {
        MessageType::Open => Message::Open(Open::decode_body(body).map_err(with_len)?),
        MessageType::Update => match update_decode::decode_body(body, header.length)? {
            Received::Update(update) => Message::Update(update),
            Received::EndOfRib(family) => Message::EndOfRib(family),
        },
        MessageType::Notification => match body {
            [code, subcode, data @ ..] => Message::Notification(Notification::new(*code, *subcode, data.to_vec())),
            // The header guaranteed the 2 octets; unreachable.
            _ => return Ok(None),
        },
        MessageType::Keepalive => Message::Keepalive,
        MessageType::RouteRefresh => {
            let mut reader = Reader::new(body);
            let (afi, _reserved, safi) = (reader.u16(), reader.u8(), reader.u8());
            match (afi, safi) {
                (Some(afi), Some(safi)) => Message::RouteRefresh(RouteRefresh { afi_safi: AfiSafi { afi, safi } }),
                // The header guaranteed the 4 octets; unreachable.
                _ => return Ok(None),
            }
        }
    };
    Ok(Some((message, header.length)))
}
