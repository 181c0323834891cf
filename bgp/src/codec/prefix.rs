//! IP prefixes and their NLRI encoding (RFC 4271 section 4.3: length in bits, then the fewest octets that
//! hold it), and the address family identifiers (AFI/SAFI, RFC 4760).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reader::Reader;

/// IPv4 or IPv6: which NLRI field or MP attribute a prefix travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4: 32-bit addresses, in the UPDATE's own NLRI fields.
    V4,
    /// IPv6: 128-bit addresses, in MP_REACH_NLRI and MP_UNREACH_NLRI.
    V6,
}

impl Family {
    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// How many bits an address of this family has: 32 or 128.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

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

/// An IPv4 or IPv6 prefix whose host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// A prefix length longer than the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prefix length {len} is longer than {max} bits")]
pub struct PrefixLengthError {
    /// The length asked for.
    pub len: u8,
    /// The address's bits.
    pub max: u8,
}

impl Prefix {
    /// `addr/len` with the host bits cleared; an error when `len` exceeds the address's bits.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, PrefixLengthError> {
        let max = Family::of(addr).bits();
        if len > max {
            return Err(PrefixLengthError { len, max });
        }
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(len))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(len))),
        };
        Ok(Self { addr, len })
    }

    /// The host prefix of `addr` (/32 or /128).
    pub fn host(addr: IpAddr) -> Self {
        Self { addr, len: Family::of(addr).bits() }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        Family::of(self.addr)
    }

    /// Octets this prefix takes in an NLRI field.
    pub(crate) fn nlri_len(&self) -> usize {
        1 + usize::from(self.len).div_ceil(8)
    }

    /// Appends the NLRI encoding.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let octets = usize::from(self.len).div_ceil(8);
        out.push(self.len);
        match self.addr {
            IpAddr::V4(v4) => out.extend(v4.octets().iter().take(octets)),
            IpAddr::V6(v6) => out.extend(v6.octets().iter().take(octets)),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0)
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
