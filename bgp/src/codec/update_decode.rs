//! Checks received UPDATEs (RFC 4271 section 6.3, revised by RFC 7606) and reads them far enough to
//! validate: prefixes, the attributes FerroLB sends, and the End-of-RIB markers (RFC 4724).
//!
//! Decides, for each error, the NOTIFICATION RFC 4271 prescribes and the RFC 7606 treatment; when several
//! errors occur the most severe treatment wins. It does not decide what to do with received routes
//! (FerroLB ignores them), nor apply iBGP/eBGP rules such as LOCAL_PREF from an external peer.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::attributes::{
    AS_SEQUENCE, Community, Ipv6NextHop, LargeCommunity, Origin, RouteAttributes, flags, type_code,
};
use super::error::{DecodeError, Problem, Treatment};
use super::prefix::{self, AfiSafi, Family, Prefix};
use super::reader::Reader;
use super::update::Update;
use crate::notification::{Notification, UpdateSubcode};

/// A received UPDATE that passed the checks.
#[derive(Debug)]
pub(crate) enum Received {
    /// Routes withdrawn and/or announced.
    Update(Update),
    /// The End-of-RIB marker of a family.
    EndOfRib(Family),
}

/// The most severe error found so far.
struct Verdict {
    worst: Option<(Treatment, Problem, Notification)>,
}

impl Verdict {
    fn record(&mut self, treatment: Treatment, problem: Problem, notification: Notification) {
        if self.worst.as_ref().is_none_or(|(worst, _, _)| treatment > *worst) {
            self.worst = Some((treatment, problem, notification));
        }
    }
}

/// What the attributes carried.
#[derive(Default)]
struct Seen {
    types: [u64; 4],
    count: usize,
    origin: Option<Origin>,
    as_path: Option<Vec<u32>>,
    next_hop: Option<Ipv4Addr>,
    local_pref: Option<u32>,
    communities: Vec<Community>,
    large_communities: Vec<LargeCommunity>,
    mp_next_hop: Option<Ipv6NextHop>,
    mp_next_hop_v4: Option<Ipv6NextHop>,
    mp_announced: Vec<Prefix>,
    mp_withdrawn: Vec<Prefix>,
    mp_unreach_family: Option<Family>,
}

impl Seen {
    /// Marks `code` seen; false when it was already.
    fn first(&mut self, code: u8) -> bool {
        let (word, bit) = (usize::from(code / 64), 1u64 << (code % 64));
        match self.types.get_mut(word) {
            Some(w) if *w & bit == 0 => {
                *w |= bit;
                true
            }
            _ => false,
        }
    }

    fn has(&self, code: u8) -> bool {
        self.types.get(usize::from(code / 64)).is_some_and(|w| w & (1u64 << (code % 64)) != 0)
    }
}

/// Checks and reads an UPDATE body of a message `message_len` octets long.
pub(crate) fn decode_body(body: &[u8], message_len: usize) -> Result<Received, DecodeError> {
    let fail = |treatment, problem, notification| DecodeError {
        problem,
        treatment,
        notification,
        message_len: Some(message_len),
    };
    let reset = |problem, subcode, data| fail(Treatment::SessionReset, problem, Notification::update(subcode, data));
    let lengths = || reset(Problem::UpdateLengthsInconsistent, UpdateSubcode::MalformedAttributeList, Vec::new());
    let network = || reset(Problem::InvalidPrefix, UpdateSubcode::InvalidNetworkField, Vec::new());

    let mut reader = Reader::new(body);
    let withdrawn_len = reader.u16().ok_or_else(lengths)?;
    let withdrawn_bytes = reader.take(usize::from(withdrawn_len)).ok_or_else(lengths)?;
    let attrs_len = reader.u16().ok_or_else(lengths)?;
    let attr_bytes = reader.take(usize::from(attrs_len)).ok_or_else(lengths)?;
    let nlri_bytes = reader.rest();

    let mut update = Update::default();
    prefix::decode_all(withdrawn_bytes, Family::V4, &mut update.withdrawn).ok_or_else(network)?;
    prefix::decode_all(nlri_bytes, Family::V4, &mut update.announced).ok_or_else(network)?;
    let announce_v4 = !update.announced.is_empty();

    let mut verdict = Verdict { worst: None };
    let mut seen = Seen::default();
    let mut attrs = Reader::new(attr_bytes);
    while !attrs.is_empty() {
        let Some((attr_flags, code, value, whole)) = next_attribute(&mut attrs) else {
            // RFC 7606 section 4: the total length still locates the NLRI, so the routes are withdrawn.
            let notification = Notification::update(UpdateSubcode::MalformedAttributeList, Vec::new());
            verdict.record(Treatment::TreatAsWithdraw, Problem::AttributeListOverrun, notification);
            break;
        };
        seen.count += 1;
        if !seen.first(code) {
            if code == type_code::MP_REACH_NLRI || code == type_code::MP_UNREACH_NLRI {
                let subcode = UpdateSubcode::MalformedAttributeList;
                return Err(reset(Problem::DuplicateMpAttribute { type_code: code }, subcode, Vec::new()));
            }
            // RFC 7606 section 3 (g): later copies of other attributes are discarded.
            continue;
        }
        check_attribute(attr_flags, code, value, whole, &mut seen, &mut verdict);
        if verdict.worst.as_ref().is_some_and(|(t, _, _)| *t == Treatment::SessionReset) {
            break;
        }
    }

    let announces = announce_v4 || !seen.mp_announced.is_empty();
    if announces && verdict.worst.is_none() {
        let mut required = vec![type_code::ORIGIN, type_code::AS_PATH];
        if announce_v4 {
            required.push(type_code::NEXT_HOP);
        }
        if let Some(&missing) = required.iter().find(|&&code| !seen.has(code)) {
            let notification = Notification::update(UpdateSubcode::MissingWellKnownAttribute, vec![missing]);
            verdict.record(Treatment::TreatAsWithdraw, Problem::MissingWellKnown { type_code: missing }, notification);
        }
    }
    if let Some((treatment, problem, notification)) = verdict.worst {
        return Err(fail(treatment, problem, notification));
    }

    if update.withdrawn.is_empty() && !announces && seen.mp_withdrawn.is_empty() {
        if attr_bytes.is_empty() {
            return Ok(Received::EndOfRib(Family::V4));
        }
        if let (1, Some(family)) = (seen.count, seen.mp_unreach_family) {
            return Ok(Received::EndOfRib(family));
        }
    }
    update.withdrawn.append(&mut seen.mp_withdrawn);
    update.announced.append(&mut seen.mp_announced);
    if announces {
        update.attributes = Some(RouteAttributes {
            origin: seen.origin.unwrap_or(Origin::Incomplete),
            as_path: seen.as_path.unwrap_or_default(),
            next_hop_v4: seen.next_hop,
            next_hop_v4_ipv6: seen.mp_next_hop_v4,
            next_hop_v6: seen.mp_next_hop,
            local_pref: seen.local_pref,
            communities: seen.communities,
            large_communities: seen.large_communities,
        });
    }
    Ok(Received::Update(update))
}

/// Reads one attribute: flags, type, value and the whole attribute (for NOTIFICATION data); `None` when
/// it overruns the attributes.
fn next_attribute<'a>(reader: &mut Reader<'a>) -> Option<(u8, u8, &'a [u8], &'a [u8])> {
    let start = reader.rest();
    let attr_flags = reader.u8()?;
    let code = reader.u8()?;
    let len = if attr_flags & flags::EXTENDED_LENGTH != 0 { reader.u16()? } else { u16::from(reader.u8()?) };
    let value = reader.take(usize::from(len))?;
    let whole = start.get(..start.len() - reader.remaining())?;
    Some((attr_flags, code, value, whole))
}

/// The optional and transitive bits a known attribute must carry; `None` for unknown types.
fn expected_flags(code: u8) -> Option<u8> {
    use type_code::*;
    Some(match code {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => flags::TRANSITIVE,
        MULTI_EXIT_DISC | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI => flags::OPTIONAL,
        AGGREGATOR | COMMUNITIES | LARGE_COMMUNITY => flags::OPTIONAL | flags::TRANSITIVE,
        _ => return None,
    })
}

/// The RFC 7606 treatment of a malformed attribute of this type.
fn treatment_of(code: u8) -> Treatment {
    match code {
        type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI => Treatment::SessionReset,
        type_code::ATOMIC_AGGREGATE | type_code::AGGREGATOR => Treatment::AttributeDiscard,
        _ => Treatment::TreatAsWithdraw,
    }
}

/// Checks one attribute and keeps what FerroLB reads of it.
fn check_attribute(attr_flags: u8, code: u8, value: &[u8], whole: &[u8], seen: &mut Seen, verdict: &mut Verdict) {
    let Some(expected) = expected_flags(code) else {
        if attr_flags & flags::OPTIONAL == 0 {
            let problem = Problem::UnrecognizedWellKnown { type_code: code };
            let notification = Notification::update(UpdateSubcode::UnrecognizedWellKnownAttribute, whole.to_vec());
            verdict.record(Treatment::SessionReset, problem, notification);
        }
        return;
    };
    let treatment = treatment_of(code);
    let mut error = |problem: Problem, subcode: UpdateSubcode, data: &[u8]| {
        verdict.record(treatment, problem, Notification::update(subcode, data.to_vec()));
    };
    let partial_allowed = expected == flags::OPTIONAL | flags::TRANSITIVE;
    let kind_bits = attr_flags & (flags::OPTIONAL | flags::TRANSITIVE);
    if kind_bits != expected || (!partial_allowed && attr_flags & flags::PARTIAL != 0) {
        error(Problem::AttributeFlags { type_code: code }, UpdateSubcode::AttributeFlagsError, whole);
        return;
    }
    let length = Problem::AttributeLength { type_code: code };
    let optional = Problem::MalformedOptional { type_code: code };
    let word = |v: &[u8]| <[u8; 4]>::try_from(v).ok().map(u32::from_be_bytes);
    match code {
        type_code::ORIGIN => match value {
            [v] => match Origin::from_u8(*v) {
                Some(origin) => seen.origin = Some(origin),
                None => error(Problem::InvalidOrigin(*v), UpdateSubcode::InvalidOriginAttribute, whole),
            },
            _ => error(length, UpdateSubcode::AttributeLengthError, whole),
        },
        type_code::AS_PATH => match read_as_path(value) {
            Some(path) => seen.as_path = Some(path),
            None => error(Problem::MalformedAsPath, UpdateSubcode::MalformedAsPath, &[]),
        },
        type_code::NEXT_HOP => match word(value).map(Ipv4Addr::from) {
            Some(hop) if hop.is_unspecified() || hop.is_broadcast() || hop.is_multicast() => {
                error(Problem::InvalidNextHop(hop), UpdateSubcode::InvalidNextHopAttribute, whole)
            }
            Some(hop) => seen.next_hop = Some(hop),
            None => error(length, UpdateSubcode::AttributeLengthError, whole),
        },
        type_code::LOCAL_PREF => match word(value) {
            Some(pref) => seen.local_pref = Some(pref),
            None => error(length, UpdateSubcode::AttributeLengthError, whole),
        },
        type_code::MULTI_EXIT_DISC | type_code::ORIGINATOR_ID if value.len() != 4 => {
            error(length, UpdateSubcode::AttributeLengthError, whole)
        }
        type_code::ATOMIC_AGGREGATE if !value.is_empty() => error(length, UpdateSubcode::AttributeLengthError, whole),
        // A 4-octet AS session: AS (4) and identifier (4).
        type_code::AGGREGATOR if value.len() != 8 => error(length, UpdateSubcode::AttributeLengthError, whole),
        type_code::CLUSTER_LIST if value.is_empty() || !value.len().is_multiple_of(4) => {
            error(length, UpdateSubcode::AttributeLengthError, whole)
        }
        type_code::COMMUNITIES if value.is_empty() || !value.len().is_multiple_of(4) => {
            error(optional, UpdateSubcode::OptionalAttributeError, whole)
        }
        type_code::COMMUNITIES => {
            seen.communities = value.chunks_exact(4).filter_map(word).map(Community).collect();
        }
        type_code::LARGE_COMMUNITY if value.is_empty() || !value.len().is_multiple_of(12) => {
            error(optional, UpdateSubcode::OptionalAttributeError, whole)
        }
        type_code::LARGE_COMMUNITY => {
            seen.large_communities = value
                .chunks_exact(12)
                .filter_map(|c| {
                    let mut r = Reader::new(c);
                    Some(LargeCommunity { global_admin: r.u32()?, local_data1: r.u32()?, local_data2: r.u32()? })
                })
                .collect();
        }
        type_code::MP_REACH_NLRI => match read_mp_reach(value, seen) {
            Ok(()) => {}
            Err(MpError::Header) => error(optional, UpdateSubcode::OptionalAttributeError, whole),
            Err(MpError::Prefix) => error(Problem::InvalidPrefix, UpdateSubcode::InvalidNetworkField, &[]),
        },
        type_code::MP_UNREACH_NLRI => match read_mp_unreach(value, seen) {
            Ok(()) => {}
            Err(MpError::Header) => error(optional, UpdateSubcode::OptionalAttributeError, whole),
            Err(MpError::Prefix) => error(Problem::InvalidPrefix, UpdateSubcode::InvalidNetworkField, &[]),
        },
        _ => {}
    }
}

/// The AS numbers of the AS_SEQUENCE segments; `None` when a segment has an unknown type, no AS
/// numbers, or overruns the attribute (4-octet AS numbers).
fn read_as_path(value: &[u8]) -> Option<Vec<u32>> {
    let mut reader = Reader::new(value);
    let mut path = Vec::new();
    while !reader.is_empty() {
        let segment_type = reader.u8()?;
        let count = reader.u8()?;
        if !(1..=4).contains(&segment_type) || count == 0 {
            return None;
        }
        for _ in 0..count {
            let asn = reader.u32()?;
            if segment_type == AS_SEQUENCE {
                path.push(asn);
            }
        }
    }
    Some(path)
}

/// Why an MP attribute was refused.
enum MpError {
    /// AFI/SAFI/next hop malformed.
    Header,
    /// A prefix malformed.
    Prefix,
}

fn read_mp_reach(value: &[u8], seen: &mut Seen) -> Result<(), MpError> {
    let mut reader = Reader::new(value);
    let afi_safi = read_afi_safi(&mut reader).ok_or(MpError::Header)?;
    let next_hop_len = reader.u8().ok_or(MpError::Header)?;
    let next_hop = reader.take(usize::from(next_hop_len)).ok_or(MpError::Header)?;
    let _reserved = reader.u8().ok_or(MpError::Header)?;
    let family = match afi_safi.unicast_family() {
        Some(family) => family,
        // Not a family FerroLB negotiates: nothing to check in it.
        None => return Ok(()),
    };
    let v6 = |bytes: Option<&[u8]>| bytes.and_then(|b| <[u8; 16]>::try_from(b).ok()).map(Ipv6Addr::from);
    match (family, next_hop.len()) {
        (Family::V4, 4) => {}
        (_, 16 | 32) => {
            let global = v6(next_hop.get(..16)).ok_or(MpError::Header)?;
            let hop = Some(Ipv6NextHop { global, link_local: v6(next_hop.get(16..32)) });
            // IPv4 NLRI with an IPv6 next hop: RFC 8950.
            match family {
                Family::V4 => seen.mp_next_hop_v4 = hop,
                Family::V6 => seen.mp_next_hop = hop,
            }
        }
        _ => return Err(MpError::Header),
    }
    prefix::decode_all(reader.rest(), family, &mut seen.mp_announced).ok_or(MpError::Prefix)
}

fn read_mp_unreach(value: &[u8], seen: &mut Seen) -> Result<(), MpError> {
    let mut reader = Reader::new(value);
    let afi_safi = read_afi_safi(&mut reader).ok_or(MpError::Header)?;
    let Some(family) = afi_safi.unicast_family() else {
        return Ok(());
    };
    seen.mp_unreach_family = Some(family);
    prefix::decode_all(reader.rest(), family, &mut seen.mp_withdrawn).ok_or(MpError::Prefix)
}

fn read_afi_safi(reader: &mut Reader<'_>) -> Option<AfiSafi> {
    Some(AfiSafi { afi: reader.u16()?, safi: reader.u8()? })
}
