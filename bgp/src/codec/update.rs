//! UPDATE messages (RFC 4271 section 4.3, RFC 4760) and their encoding: IPv4 prefixes in the Withdrawn
//! Routes and NLRI fields, IPv6 prefixes in MP_UNREACH_NLRI / MP_REACH_NLRI (AFI 2, SAFI 1).
//!
//! The MP attributes are written first (RFC 7606 section 5.1 requires it so that a receiver can always
//! find them), the others follow in ascending type order.

use super::attributes::Ipv6NextHop;
use super::attributes::{RouteAttributes, flags, header_len, put_header, type_code};
use super::error::EncodeError;
use super::header::{self, MAX_MESSAGE_LEN, MessageType};
use super::prefix::{self, AFI_IPV4, AFI_IPV6, Family, Prefix, SAFI_UNICAST};

/// An UPDATE: withdrawn prefixes, and announced prefixes with their attributes.
///
/// An UPDATE with nothing withdrawn nor announced is, on the wire, the IPv4 End-of-RIB marker, and
/// decodes as [`super::Message::EndOfRib`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Update {
    /// Withdrawn prefixes: IPv4 ones go in the Withdrawn Routes field, IPv6 ones in MP_UNREACH_NLRI.
    pub withdrawn: Vec<Prefix>,
    /// The attributes of `announced`: encoded only when `announced` is not empty, and decoded only
    /// when the UPDATE announces prefixes.
    pub attributes: Option<RouteAttributes>,
    /// Announced prefixes: IPv4 ones go in the NLRI field (in MP_REACH_NLRI when the attributes give
    /// them an IPv6 next hop), IPv6 ones in MP_REACH_NLRI.
    pub announced: Vec<Prefix>,
}

impl Update {
    /// Appends this UPDATE as a whole message; on error `out` is left as it was.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_parts(out, &self.withdrawn, self.attributes.as_ref(), &self.announced)
    }
}

/// The per-family split of a prefix list, computed without allocating.
struct Split<'a> {
    prefixes: &'a [Prefix],
    v4_len: usize,
    v6_len: usize,
}

impl<'a> Split<'a> {
    fn new(prefixes: &'a [Prefix]) -> Self {
        let (mut v4_len, mut v6_len) = (0, 0);
        for p in prefixes {
            match p.family() {
                Family::V4 => v4_len += prefix::nlri_len(p),
                Family::V6 => v6_len += prefix::nlri_len(p),
            }
        }
        Self { prefixes, v4_len, v6_len }
    }

    fn has(&self, family: Family) -> bool {
        self.prefixes.iter().any(|p| p.family() == family)
    }

    fn encode(&self, family: Family, out: &mut Vec<u8>) {
        for p in self.prefixes.iter().filter(|p| p.family() == family) {
            prefix::encode(p, out);
        }
    }
}

/// Octets of MP_REACH_NLRI's value before the NLRI: AFI, SAFI, next-hop length, next hop, reserved.
pub(crate) fn mp_reach_fixed_len(next_hop_len: usize) -> usize {
    2 + 1 + 1 + next_hop_len + 1
}

/// Octets of MP_UNREACH_NLRI's value before the withdrawn prefixes: AFI, SAFI.
pub(crate) const MP_UNREACH_FIXED_LEN: usize = 3;

/// Appends one UPDATE made of the given parts; on error `out` is left as it was.
pub(crate) fn encode_parts(
    out: &mut Vec<u8>,
    withdrawn: &[Prefix],
    attributes: Option<&RouteAttributes>,
    announced: &[Prefix],
) -> Result<(), EncodeError> {
    let withdrawn = Split::new(withdrawn);
    let announced = Split::new(announced);
    let attributes = match (announced.prefixes.is_empty(), attributes) {
        (true, _) => None,
        (false, None) => return Err(EncodeError::MissingAttributes),
        (false, Some(attributes)) => Some(attributes),
    };
    let announce_v4 = announced.has(Family::V4);
    let announce_v6 = announced.has(Family::V6);
    // RFC 8950: IPv4 prefixes with an IPv6 next hop go in MP_REACH_NLRI.
    let v4_over_v6 = attributes.and_then(|a| a.next_hop_v4_ipv6).filter(|_| announce_v4);
    if announce_v4 && v4_over_v6.is_none() && attributes.is_some_and(|a| a.next_hop_v4.is_none()) {
        return Err(EncodeError::MissingIpv4NextHop);
    }
    let next_hop_v6 = match attributes.map(|a| a.next_hop_v6) {
        Some(None) if announce_v6 => return Err(EncodeError::MissingIpv6NextHop),
        Some(next_hop) if announce_v6 => next_hop,
        _ => None,
    };
    if v4_over_v6.is_some() && next_hop_v6.is_some() {
        return Err(EncodeError::TwoMpReach);
    }
    // Bound every length before writing so that the 16-bit fields cannot overflow.
    let rough = withdrawn.v4_len + withdrawn.v6_len + announced.v4_len + announced.v6_len;
    if rough > MAX_MESSAGE_LEN {
        return Err(EncodeError::MessageTooLong { length: rough });
    }

    let start = header::begin(out, MessageType::Update);
    put_u16(out, withdrawn.v4_len);
    withdrawn.encode(Family::V4, out);
    let attrs_len_at = out.len();
    put_u16(out, 0);

    if let Some(next_hop) = next_hop_v6 {
        put_mp_reach(out, Family::V6, &next_hop, &announced);
    }
    if let Some(next_hop) = v4_over_v6 {
        put_mp_reach(out, Family::V4, &next_hop, &announced);
    }
    if withdrawn.has(Family::V6) {
        put_mp_unreach_header(out, withdrawn.v6_len);
        withdrawn.encode(Family::V6, out);
    }
    if let Some(attributes) = attributes {
        attributes.encode(announce_v4 && v4_over_v6.is_none(), out);
    }
    let attrs_len = out.len() - attrs_len_at - 2;
    if attrs_len > MAX_MESSAGE_LEN {
        let length = out.len() - start;
        out.truncate(start);
        return Err(EncodeError::MessageTooLong { length });
    }
    patch_u16(out, attrs_len_at, attrs_len);
    if v4_over_v6.is_none() {
        announced.encode(Family::V4, out);
    }
    header::finish(out, start).map_err(|length| EncodeError::MessageTooLong { length })
}

/// Appends an MP_REACH_NLRI announcing the `family` prefixes of `announced` (unicast) with an IPv6
/// next hop: 16 octets (global) or 32 (global, then link-local).
fn put_mp_reach(out: &mut Vec<u8>, family: Family, next_hop: &Ipv6NextHop, announced: &Split<'_>) {
    let (afi, nlri_len) = match family {
        Family::V4 => (AFI_IPV4, announced.v4_len),
        Family::V6 => (AFI_IPV6, announced.v6_len),
    };
    let value_len = mp_reach_fixed_len(next_hop.wire_len()) + nlri_len;
    put_header(out, flags::OPTIONAL, type_code::MP_REACH_NLRI, value_len);
    out.extend_from_slice(&afi.to_be_bytes());
    out.push(SAFI_UNICAST);
    out.push(u8::try_from(next_hop.wire_len()).unwrap_or(16));
    out.extend_from_slice(&next_hop.global.octets());
    if let Some(link_local) = next_hop.link_local {
        out.extend_from_slice(&link_local.octets());
    }
    out.push(0);
    announced.encode(family, out);
}

/// Appends the header and AFI/SAFI of an IPv6 MP_UNREACH_NLRI whose prefixes take `nlri_len` octets.
pub(crate) fn put_mp_unreach_header(out: &mut Vec<u8>, nlri_len: usize) {
    put_header(out, flags::OPTIONAL, type_code::MP_UNREACH_NLRI, MP_UNREACH_FIXED_LEN + nlri_len);
    out.extend_from_slice(&AFI_IPV6.to_be_bytes());
    out.push(SAFI_UNICAST);
}

/// Octets of an IPv6 MP_UNREACH_NLRI attribute withdrawing prefixes of `nlri_len` octets.
pub(crate) fn mp_unreach_len(nlri_len: usize) -> usize {
    header_len(MP_UNREACH_FIXED_LEN + nlri_len) + MP_UNREACH_FIXED_LEN + nlri_len
}

/// Appends the IPv6 End-of-RIB marker (RFC 4724 section 2): an UPDATE with only an empty MP_UNREACH_NLRI.
pub(crate) fn encode_end_of_rib(family: Family, out: &mut Vec<u8>) {
    let start = header::begin(out, MessageType::Update);
    put_u16(out, 0);
    match family {
        Family::V4 => put_u16(out, 0),
        Family::V6 => {
            put_u16(out, mp_unreach_len(0));
            put_mp_unreach_header(out, 0);
        }
    }
    // 23 or 29 octets: always within bounds.
    let _ = header::finish(out, start);
}

fn put_u16(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&u16::try_from(value).unwrap_or(u16::MAX).to_be_bytes());
}

fn patch_u16(out: &mut [u8], at: usize, value: usize) {
    if let Some(field) = out.get_mut(at..at + 2) {
        field.copy_from_slice(&u16::try_from(value).unwrap_or(u16::MAX).to_be_bytes());
    }
}
