//! Packing many prefixes with equal attributes into few UPDATEs of at most 4096 octets.
//!
//! Each family gets its own UPDATEs (IPv4 in the NLRI / Withdrawn Routes fields, IPv6 in the MP
//! attributes), filled greedily in the order given: at most one message more than the optimum per family.

use super::attributes::RouteAttributes;
use super::error::EncodeError;
use super::header::{HEADER_LEN, MAX_MESSAGE_LEN};
use super::prefix::{self, Family, Prefix};
use super::update::{self, Update, encode_parts, mp_reach_fixed_len};

/// Octets after the header that every UPDATE has: the two 2-octet length fields.
const UPDATE_FIXED_LEN: usize = HEADER_LEN + 4;
/// The extended-length header of an MP attribute (the budget assumes it; a short one only saves room).
const MP_HEADER_LEN: usize = 4;

/// UPDATEs announcing `prefixes` (IPv4 and IPv6 in any order) with `attributes`, each at most 4096
/// octets once encoded.
pub fn pack_announcements(attributes: &RouteAttributes, prefixes: &[Prefix]) -> Result<Vec<Update>, EncodeError> {
    let mut updates = Vec::new();
    for_each_announcement(attributes, prefixes, |chunk| {
        updates.push(Update { withdrawn: Vec::new(), attributes: Some(attributes.clone()), announced: chunk.to_vec() });
        Ok(())
    })?;
    Ok(updates)
}

/// Appends the encoded UPDATEs of [`pack_announcements`] to `out`; returns how many. On error `out`
/// holds the UPDATEs appended before it.
pub fn encode_announcements(
    attributes: &RouteAttributes,
    prefixes: &[Prefix],
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let mut count = 0;
    for_each_announcement(attributes, prefixes, |chunk| {
        count += 1;
        encode_parts(out, &[], Some(attributes), chunk)
    })?;
    Ok(count)
}

/// UPDATEs withdrawing `prefixes` (IPv4 and IPv6 in any order), each at most 4096 octets.
pub fn pack_withdrawals(prefixes: &[Prefix]) -> Vec<Update> {
    let mut updates = Vec::new();
    for_each_withdrawal(prefixes, |chunk| {
        updates.push(Update { withdrawn: chunk.to_vec(), attributes: None, announced: Vec::new() });
    });
    updates
}

/// Appends the encoded UPDATEs of [`pack_withdrawals`] to `out`; returns how many.
pub fn encode_withdrawals(prefixes: &[Prefix], out: &mut Vec<u8>) -> usize {
    let mut count = 0;
    for_each_withdrawal(prefixes, |chunk| {
        // Chunks are sized to fit, so this cannot fail; a failure would leave `out` unchanged.
        if encode_parts(out, chunk, None, &[]).is_ok() {
            count += 1;
        }
    });
    count
}

fn for_each_announcement(
    attributes: &RouteAttributes,
    prefixes: &[Prefix],
    mut emit: impl FnMut(&[Prefix]) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let (v4, v6) = by_family(prefixes);
    let mut scratch = Vec::with_capacity(64);
    if !v4.is_empty() {
        let fixed = match (attributes.next_hop_v4_ipv6, attributes.next_hop_v4) {
            // RFC 8950: in MP_REACH_NLRI, without NEXT_HOP.
            (Some(next_hop), _) => {
                attributes.encode(false, &mut scratch);
                UPDATE_FIXED_LEN + scratch.len() + MP_HEADER_LEN + mp_reach_fixed_len(next_hop.wire_len())
            }
            (None, Some(_)) => {
                attributes.encode(true, &mut scratch);
                UPDATE_FIXED_LEN + scratch.len()
            }
            (None, None) => return Err(EncodeError::MissingIpv4NextHop),
        };
        let budget = room(fixed, scratch.len())?;
        for chunk in chunks(&v4, budget) {
            emit(chunk)?;
        }
    }
    if !v6.is_empty() {
        let next_hop = attributes.next_hop_v6.ok_or(EncodeError::MissingIpv6NextHop)?;
        scratch.clear();
        attributes.encode(false, &mut scratch);
        let fixed = UPDATE_FIXED_LEN + scratch.len() + MP_HEADER_LEN + mp_reach_fixed_len(next_hop.wire_len());
        let budget = room(fixed, scratch.len())?;
        for chunk in chunks(&v6, budget) {
            emit(chunk)?;
        }
    }
    Ok(())
}

fn for_each_withdrawal(prefixes: &[Prefix], mut emit: impl FnMut(&[Prefix])) {
    let (v4, v6) = by_family(prefixes);
    for chunk in chunks(&v4, MAX_MESSAGE_LEN - UPDATE_FIXED_LEN) {
        emit(chunk);
    }
    let v6_budget = MAX_MESSAGE_LEN - UPDATE_FIXED_LEN - update::mp_unreach_len(0) - 1;
    for chunk in chunks(&v6, v6_budget) {
        emit(chunk);
    }
}

/// Octets left for prefixes after `fixed`; an error when not even a host prefix (17 octets) fits.
fn room(fixed: usize, attributes_len: usize) -> Result<usize, EncodeError> {
    match MAX_MESSAGE_LEN.checked_sub(fixed) {
        Some(budget) if budget >= 17 => Ok(budget),
        _ => Err(EncodeError::AttributesTooLong { length: attributes_len }),
    }
}

fn by_family(prefixes: &[Prefix]) -> (Vec<Prefix>, Vec<Prefix>) {
    prefixes.iter().partition(|p| p.family() == Family::V4)
}

/// Consecutive runs of `prefixes` whose NLRI encodings fit in `budget` octets each.
fn chunks(prefixes: &[Prefix], budget: usize) -> impl Iterator<Item = &[Prefix]> {
    let mut rest = prefixes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut used = 0;
        let mut count = 0;
        for p in rest {
            let len = prefix::nlri_len(p);
            if used + len > budget && count > 0 {
                break;
            }
            used += len;
            count += 1;
        }
        let (chunk, tail) = rest.split_at(count.min(rest.len()));
        rest = tail;
        Some(chunk)
    })
}
