//! Path attributes FerroLB sends (RFC 4271 section 5, 1997 communities, 8092 large communities) and
//! their encoding: ORIGIN, AS_PATH (4-octet AS_SEQUENCE), NEXT_HOP, LOCAL_PREF, COMMUNITIES,
//! LARGE_COMMUNITIES, in ascending type order, with the extended-length flag past 255 octets.
//!
//! The MP_REACH_NLRI / MP_UNREACH_NLRI attributes are written by the UPDATE encoder, which knows the
//! prefixes. Received attributes are checked in `update_decode`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::wire_enum;

/// Path attribute type codes.
pub mod type_code {
    /// ORIGIN (well-known mandatory).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (well-known mandatory).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (well-known mandatory for IPv4 NLRI).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (optional non-transitive).
    pub const MULTI_EXIT_DISC: u8 = 4;
    /// LOCAL_PREF (well-known, iBGP).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (well-known discretionary).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (optional transitive).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (optional transitive, RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (optional non-transitive, RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (optional non-transitive, RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (optional non-transitive, RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (optional non-transitive, RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// LARGE_COMMUNITY (optional transitive, RFC 8092).
    pub const LARGE_COMMUNITY: u8 = 32;
}

/// Attribute flag bits.
pub mod flags {
    /// Optional (clear: well-known).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial.
    pub const PARTIAL: u8 = 0x20;
    /// The length field has 2 octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// AS_PATH segment type AS_SEQUENCE.
pub(crate) const AS_SEQUENCE: u8 = 2;

wire_enum! {
    /// The ORIGIN attribute's value.
    pub enum Origin {
        /// 0: learned from an interior protocol (what FerroLB sends).
        Igp = 0 => "IGP",
        /// 1: learned from EGP.
        Egp = 1 => "EGP",
        /// 2: learned some other way.
        Incomplete = 2 => "INCOMPLETE",
    }
}

/// A community (RFC 1997): conventionally the AS in the high 16 bits and a value in the low 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// NO_EXPORT.
    pub const NO_EXPORT: Self = Self(0xffff_ff01);
    /// NO_ADVERTISE.
    pub const NO_ADVERTISE: Self = Self(0xffff_ff02);

    /// `asn:value`.
    pub fn new(asn: u16, value: u16) -> Self {
        Self((u32::from(asn) << 16) | u32::from(value))
    }
}

/// A large community (RFC 8092): global administrator and two local data parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    /// Global administrator (an AS number).
    pub global_admin: u32,
    /// Local data part 1.
    pub local_data1: u32,
    /// Local data part 2.
    pub local_data2: u32,
}

/// The next hop of IPv6 routes, carried in MP_REACH_NLRI (RFC 2545): global, or global and link-local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6NextHop {
    /// The global address.
    pub global: Ipv6Addr,
    /// The link-local address, for peers on the same link.
    pub link_local: Option<Ipv6Addr>,
}

impl Ipv6NextHop {
    /// Octets on the wire: 16 or 32.
    pub(crate) fn wire_len(&self) -> usize {
        if self.link_local.is_some() { 32 } else { 16 }
    }
}

/// The path attributes of announced routes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteAttributes {
    /// ORIGIN.
    pub origin: Origin,
    /// The AS numbers of the AS_SEQUENCE segments, nearest first; empty towards iBGP peers. Received
    /// AS_SET and confederation segments are checked but not kept.
    pub as_path: Vec<u32>,
    /// NEXT_HOP, needed when IPv4 prefixes are announced (unless `next_hop_v4_ipv6` is set); sent
    /// only then.
    pub next_hop_v4: Option<Ipv4Addr>,
    /// An IPv6 next hop for IPv4 routes (RFC 8950, as BGP unnumbered sends them): when set, announced
    /// IPv4 prefixes go in MP_REACH_NLRI (AFI 1, SAFI 1) with this next hop, and NEXT_HOP is not
    /// sent. Only for a peer that advertised the extended next hop capability for IPv4 unicast.
    pub next_hop_v4_ipv6: Option<Ipv6NextHop>,
    /// The IPv6 next hop, needed when IPv6 prefixes are announced; sent (in MP_REACH_NLRI) only then.
    pub next_hop_v6: Option<Ipv6NextHop>,
    /// LOCAL_PREF (iBGP only).
    pub local_pref: Option<u32>,
    /// COMMUNITIES; the attribute is left out when empty.
    pub communities: Vec<Community>,
    /// LARGE_COMMUNITY; the attribute is left out when empty.
    pub large_communities: Vec<LargeCommunity>,
}

impl RouteAttributes {
    /// IGP origin, the given AS path and next hops, nothing else.
    pub fn new(as_path: Vec<u32>, next_hop_v4: Option<Ipv4Addr>, next_hop_v6: Option<Ipv6NextHop>) -> Self {
        Self {
            origin: Origin::Igp,
            as_path,
            next_hop_v4,
            next_hop_v4_ipv6: None,
            next_hop_v6,
            local_pref: None,
            communities: Vec::new(),
            large_communities: Vec::new(),
        }
    }

    /// Appends every attribute except the MP ones, in ascending type order; NEXT_HOP only when
    /// `with_next_hop` (the caller checked `next_hop_v4` is set).
    pub(crate) fn encode(&self, with_next_hop: bool, out: &mut Vec<u8>) {
        let transitive = flags::TRANSITIVE;
        let optional_transitive = flags::OPTIONAL | flags::TRANSITIVE;

        put_header(out, transitive, type_code::ORIGIN, 1);
        out.push(self.origin as u8);

        put_header(out, transitive, type_code::AS_PATH, as_path_len(&self.as_path));
        for segment in self.as_path.chunks(usize::from(u8::MAX)) {
            out.push(AS_SEQUENCE);
            out.push(u8::try_from(segment.len()).unwrap_or(u8::MAX));
            for asn in segment {
                out.extend_from_slice(&asn.to_be_bytes());
            }
        }

        if let (true, Some(next_hop)) = (with_next_hop, self.next_hop_v4) {
            put_header(out, transitive, type_code::NEXT_HOP, 4);
            out.extend_from_slice(&next_hop.octets());
        }

        if let Some(local_pref) = self.local_pref {
            put_header(out, transitive, type_code::LOCAL_PREF, 4);
            out.extend_from_slice(&local_pref.to_be_bytes());
        }

        if !self.communities.is_empty() {
            put_header(out, optional_transitive, type_code::COMMUNITIES, 4 * self.communities.len());
            for community in &self.communities {
                out.extend_from_slice(&community.0.to_be_bytes());
            }
        }

        if !self.large_communities.is_empty() {
            let len = 12 * self.large_communities.len();
            put_header(out, optional_transitive, type_code::LARGE_COMMUNITY, len);
            for lc in &self.large_communities {
                out.extend_from_slice(&lc.global_admin.to_be_bytes());
                out.extend_from_slice(&lc.local_data1.to_be_bytes());
                out.extend_from_slice(&lc.local_data2.to_be_bytes());
            }
        }
    }
}

/// Octets of the AS_PATH value: 2 per segment of at most 255 AS numbers, 4 per AS number.
fn as_path_len(as_path: &[u32]) -> usize {
    as_path.len().div_ceil(usize::from(u8::MAX)) * 2 + as_path.len() * 4
}

/// Appends an attribute header, with the extended-length flag and a 2-octet length past 255 octets.
/// Lengths past 65535 are written as 65535; callers reject such messages as too long.
pub(crate) fn put_header(out: &mut Vec<u8>, attr_flags: u8, type_code: u8, len: usize) {
    match u8::try_from(len) {
        Ok(len8) => out.extend_from_slice(&[attr_flags, type_code, len8]),
        Err(_) => {
            let len16 = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            out.extend_from_slice(&[attr_flags | flags::EXTENDED_LENGTH, type_code, len16[0], len16[1]]);
        }
    }
}

/// Octets of an attribute header for a value of `len` octets.
pub(crate) fn header_len(len: usize) -> usize {
    if len > usize::from(u8::MAX) { 4 } else { 3 }
}
