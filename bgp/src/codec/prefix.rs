//! The NLRI encoding of prefixes (RFC 4271 section 4.3: length in bits, then the fewest octets that
//! hold it), and the address family identifiers (AFI/SAFI, RFC 4760). The prefix and the family
//! themselves are `ferrolb-net`'s, shared with the announcer and the configuration.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use ferrolb_net::addresses::{Family, Prefix, PrefixLengthError};

use super::reader::Reader;

/// AFI for IPv4.
pub const AFI_IPV4: u16 = 1;
/// AFI for IPv6.
pub const AFI_IPV6: u16 = 2;
/// SAFI for unicast.
pub const SAFI_UNICAST: u8 = 1;

/// An address family and subsequent address family, as capabilities and ROUTE-REFRESH carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    /// Address family identifier.
    pub afi: u16,
    /// Subsequent address family identifier.
    pub safi: u8,
}

impl AfiSafi {
    /// IPv4 unicast (1/1).
    pub const IPV4_UNICAST: Self = Self { afi: AFI_IPV4, safi: SAFI_UNICAST };
    /// IPv6 unicast (2/1).
    pub const IPV6_UNICAST: Self = Self { afi: AFI_IPV6, safi: SAFI_UNICAST };

    /// The unicast AFI/SAFI of `family`.
    pub fn unicast(family: Family) -> Self {
        match family {
            Family::V4 => Self::IPV4_UNICAST,
            Family::V6 => Self::IPV6_UNICAST,
        }
    }

    /// The family when this is IPv4 or IPv6 unicast.
    pub fn unicast_family(self) -> Option<Family> {
        match self {
            Self::IPV4_UNICAST => Some(Family::V4),
            Self::IPV6_UNICAST => Some(Family::V6),
            _ => None,
        }
    }
}

/// Octets `prefix` takes in an NLRI field.
pub(crate) fn nlri_len(prefix: &Prefix) -> usize {
    1 + usize::from(prefix.prefix_len()).div_ceil(8)
}

/// Appends the NLRI encoding of `prefix`: its length in bits, then the fewest octets that hold it.
pub(crate) fn encode(prefix: &Prefix, out: &mut Vec<u8>) {
    let octets = usize::from(prefix.prefix_len()).div_ceil(8);
    out.push(prefix.prefix_len());
    match prefix.addr() {
        IpAddr::V4(v4) => out.extend(v4.octets().iter().take(octets)),
        IpAddr::V6(v6) => out.extend(v6.octets().iter().take(octets)),
    }
}

/// Reads an NLRI field of `family` to the end, pushing each prefix; `None` when one is malformed (length
/// beyond the address, or octets missing).
pub(crate) fn decode_all(bytes: &[u8], family: Family, out: &mut Vec<Prefix>) -> Option<()> {
    let mut reader = Reader::new(bytes);
    while !reader.is_empty() {
        let len = reader.u8()?;
        if len > family.bits() {
            return None;
        }
        let octets = reader.take(usize::from(len).div_ceil(8))?;
        let addr = match family {
            Family::V4 => {
                let mut raw = [0u8; 4];
                raw.get_mut(..octets.len())?.copy_from_slice(octets);
                IpAddr::V4(Ipv4Addr::from(raw))
            }
            Family::V6 => {
                let mut raw = [0u8; 16];
                raw.get_mut(..octets.len())?.copy_from_slice(octets);
                IpAddr::V6(Ipv6Addr::from(raw))
            }
        };
        out.push(Prefix::new(addr, len).ok()?);
    }
    Some(())
}
