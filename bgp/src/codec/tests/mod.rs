//! Codec tests: byte-exact encodings written from the RFCs, NOTIFICATION mappings, packing, proptest
//! round trips and robustness, and a cross-check against netgauze-bgp-pkt.

mod encodings;
mod errors;
mod extended_next_hop;
mod netgauze;
mod packing;
mod roundtrip;

use std::net::IpAddr;

use super::Prefix;

/// The 16-octet all-ones marker.
pub(super) const MARKER: [u8; 16] = [0xff; 16];

/// `marker ++ parts...`, for spelling messages by hand.
pub(super) fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = MARKER.to_vec();
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// A prefix from text, e.g. `p("203.0.113.0/24")`.
pub(crate) fn p(text: &str) -> Prefix {
    let (addr, len) = text.split_once('/').unwrap();
    Prefix::new(addr.parse::<IpAddr>().unwrap(), len.parse().unwrap()).unwrap()
}
