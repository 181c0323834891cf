//! An IP prefix: a network address with its host bits cleared, and a length. What BGP
//! advertises; one type for the announcer (which prefix carries an address) and the BGP codec
//! (which writes and reads it as NLRI).

use std::fmt;
use std::net::IpAddr;

use super::{AddressRange, Family, from_bits, host_mask, to_bits};

/// An IPv4 or IPv6 prefix whose host bits are zero.
///
/// Ordered by network address (IPv4 before IPv6), then length; displayed `network/length`.
/// Build one with [`Prefix::new`], [`Prefix::covering`] or [`Prefix::host`], which clear the
/// host bits; the fields are private so that no prefix is longer than its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    /// The network address (host bits zero).
    network: IpAddr,
    /// The prefix length (at most 32 for IPv4, 128 for IPv6).
    length: u8,
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
        Ok(Self::covering(addr, len))
    }

    /// The prefix of `length` bits covering `address`; a length past the family's width is
    /// taken as the full width.
    pub fn covering(address: IpAddr, length: u8) -> Self {
        let family = Family::of(address);
        let length = length.min(family.bits());
        Prefix { network: from_bits(family, to_bits(address) & !host_mask(family, length)), length }
    }

    /// The host prefix of `addr` (/32 or /128).
    pub fn host(addr: IpAddr) -> Self {
        Prefix { network: addr, length: Family::of(addr).bits() }
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.network
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.length
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        Family::of(self.network)
    }

    /// Whether the prefix holds every address of its family's width: a host route.
    pub fn is_host(&self) -> bool {
        self.length == self.family().bits()
    }

    /// The addresses the prefix covers.
    pub fn range(&self) -> AddressRange {
        let family = self.family();
        let first = to_bits(self.network);
        AddressRange::from_bounds(family, first, first | host_mask(family, self.length.min(family.bits())))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::tests::ip;

    #[test]
    fn new_clears_host_bits_and_refuses_lengths_past_the_family() {
        let cases: Vec<(&str, u8, Result<&str, PrefixLengthError>)> = vec![
            ("203.0.113.77", 24, Ok("203.0.113.0/24")),
            ("203.0.113.77", 32, Ok("203.0.113.77/32")),
            ("203.0.113.77", 0, Ok("0.0.0.0/0")),
            ("203.0.113.77", 33, Err(PrefixLengthError { len: 33, max: 32 })),
            ("2001:db8:100::7", 120, Ok("2001:db8:100::/120")),
            ("2001:db8:100::7", 128, Ok("2001:db8:100::7/128")),
            ("2001:db8:100::7", 129, Err(PrefixLengthError { len: 129, max: 128 })),
        ];
        for (addr, len, want) in cases {
            let got = Prefix::new(ip(addr), len).map(|p| p.to_string());
            assert_eq!(got, want.map(String::from), "{addr}/{len}");
        }
        assert_eq!(PrefixLengthError { len: 33, max: 32 }.to_string(), "prefix length 33 is longer than 32 bits");
    }

    #[test]
    fn covering_clamps_the_length_and_host_is_the_full_width() {
        assert_eq!(Prefix::covering(ip("203.0.113.77"), 40), Prefix::host(ip("203.0.113.77")));
        assert_eq!(Prefix::covering(ip("2001:db8::1"), 200).prefix_len(), 128);
        let p = Prefix::covering(ip("198.51.100.201"), 30);
        assert_eq!((p.addr(), p.prefix_len(), p.family()), (ip("198.51.100.200"), 30, Family::V4));
        assert!(Prefix::host(ip("::1")).is_host() && !p.is_host());
        assert_eq!(p.range(), AddressRange::new(ip("198.51.100.200"), ip("198.51.100.203")).unwrap());
        assert_eq!(Prefix::covering(ip("10.1.2.3"), 0).range().len(), 1 << 32);
    }

    #[test]
    fn ordered_by_address_then_length_ipv4_first() {
        let mut prefixes = [
            Prefix::covering(ip("2001:db8::"), 64),
            Prefix::covering(ip("203.0.113.0"), 32),
            Prefix::covering(ip("203.0.113.0"), 24),
            Prefix::covering(ip("198.51.100.0"), 24),
        ];
        prefixes.sort();
        let texts: Vec<String> = prefixes.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["198.51.100.0/24", "203.0.113.0/24", "203.0.113.0/32", "2001:db8::/64"]);
    }
}
