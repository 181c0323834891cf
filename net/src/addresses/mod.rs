//! Addresses: families, inclusive address ranges, MetalLB pool entries and interval sets.
//!
//! Start with [`AddressRange`] (one contiguous run of addresses of one family), then
//! [`parse_pool_entry`] (one `IPAddressPool.spec.addresses` entry, read exactly as MetalLB reads
//! it) and [`IntervalSet`] (disjoint ranges with logarithmic insert, remove and lookup, which the
//! allocator uses for pools and assignments). [`Prefix`] is a CIDR prefix as BGP advertises it.
//!
//! Arithmetic is done on `u128` for both families: an IPv4 address is its 32-bit value widened.

mod parse;
mod prefix;
mod set;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

pub use parse::{EntryForm, PoolEntry, PoolEntryError, PoolEntryProblem, parse_pool_entry};
pub use prefix::{Prefix, PrefixLengthError};
pub use set::{IntervalSet, buggy_v4_in, is_buggy_v4};

/// The address family of an IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4: 32-bit addresses.
    V4,
    /// IPv6: 128-bit addresses.
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

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// Why two addresses do not make an [`AddressRange`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The two ends are of different families.
    #[error("{first} and {last} are not of the same address family")]
    MixedFamilies {
        /// The first address given.
        first: IpAddr,
        /// The last address given.
        last: IpAddr,
    },
    /// The first address is greater than the last one.
    #[error("the first address {first} comes after the last address {last}")]
    FirstAfterLast {
        /// The first address given.
        first: IpAddr,
        /// The last address given.
        last: IpAddr,
    },
    /// A prefix length is longer than the address has bits.
    #[error("prefix length /{prefix_len} is longer than the {} bits of an {family} address", family.bits())]
    PrefixTooLong {
        /// The family of the network address.
        family: Family,
        /// The prefix length given.
        prefix_len: u8,
    },
}

/// A non-empty, inclusive run of addresses of one family: `first..=last`.
///
/// Ordered by first address, then last; IPv4 ranges sort before IPv6 ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressRange {
    first: IpAddr,
    last: IpAddr,
}

impl AddressRange {
    /// The range `first..=last`; both ends must be of one family and `first <= last`.
    pub fn new(first: IpAddr, last: IpAddr) -> Result<Self, RangeError> {
        if Family::of(first) != Family::of(last) {
            return Err(RangeError::MixedFamilies { first, last });
        }
        if first > last {
            return Err(RangeError::FirstAfterLast { first, last });
        }
        Ok(AddressRange { first, last })
    }

    /// The range holding `ip` alone.
    pub fn single(ip: IpAddr) -> Self {
        AddressRange { first: ip, last: ip }
    }

    /// The network of `addr` with `prefix_len` leading bits; host bits of `addr` are ignored.
    pub fn from_prefix(addr: IpAddr, prefix_len: u8) -> Result<Self, RangeError> {
        let family = Family::of(addr);
        if prefix_len > family.bits() {
            return Err(RangeError::PrefixTooLong { family, prefix_len });
        }
        let host = host_mask(family, prefix_len);
        let bits = to_bits(addr);
        Ok(AddressRange { first: from_bits(family, bits & !host), last: from_bits(family, bits | host) })
    }

    /// The lowest address of the range.
    pub fn first(&self) -> IpAddr {
        self.first
    }

    /// The highest address of the range.
    pub fn last(&self) -> IpAddr {
        self.last
    }

    /// The family of both ends.
    pub fn family(&self) -> Family {
        Family::of(self.first)
    }

    /// How many addresses the range holds. The whole IPv6 space (2^128 addresses) does not fit a
    /// `u128` and reads as `u128::MAX`.
    // A range is never empty, so an `is_empty` would always answer false.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u128 {
        (to_bits(self.last) - to_bits(self.first)).saturating_add(1)
    }

    /// Whether `ip` lies in the range (an address of the other family never does).
    pub fn contains(&self, ip: IpAddr) -> bool {
        Family::of(ip) == self.family() && self.first <= ip && ip <= self.last
    }

    /// The addresses both ranges hold, if any.
    pub fn intersection(&self, other: &AddressRange) -> Option<AddressRange> {
        if self.family() != other.family() {
            return None;
        }
        let first = self.first.max(other.first);
        let last = self.last.min(other.last);
        (first <= last).then_some(AddressRange { first, last })
    }

    /// The range as a network address and prefix length, when it is exactly one CIDR block.
    pub fn as_prefix(&self) -> Option<(IpAddr, u8)> {
        let first = to_bits(self.first);
        let span = to_bits(self.last) - first;
        // A CIDR block spans 2^k - 1 past its first address, which is aligned to 2^k.
        let aligned = span & span.wrapping_add(1) == 0 && first & span == 0;
        let host_bits = (128 - span.leading_zeros()) as u8;
        aligned.then(|| (self.first, self.family().bits() - host_bits))
    }

    /// The fewest CIDR blocks covering the range exactly, in address order, with their prefix
    /// lengths.
    pub fn cidr_blocks(&self) -> Vec<(AddressRange, u8)> {
        let family = self.family();
        let bits = u32::from(family.bits());
        let (first, last) = self.bounds();
        // host_bits 128 spans the whole IPv6 space, which `1 << 128` cannot express.
        let span = |host_bits: u32| u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
        let mut blocks = Vec::new();
        let mut start = first;
        loop {
            // The largest block aligned at `start` that ends at or before `last`.
            let mut host_bits = if start == 0 { bits } else { start.trailing_zeros().min(bits) };
            while host_bits > 0 && span(host_bits) > last - start {
                host_bits -= 1;
            }
            let end = start + span(host_bits);
            // bits - host_bits is at most 128.
            blocks.push((AddressRange::from_bounds(family, start, end), (bits - host_bits) as u8));
            if end >= last {
                return blocks;
            }
            start = end + 1;
        }
    }

    pub(crate) fn bounds(&self) -> (u128, u128) {
        (to_bits(self.first), to_bits(self.last))
    }

    pub(crate) fn from_bounds(family: Family, first: u128, last: u128) -> Self {
        AddressRange { first: from_bits(family, first), last: from_bits(family, last) }
    }
}

impl From<IpAddr> for AddressRange {
    fn from(ip: IpAddr) -> Self {
        AddressRange::single(ip)
    }
}

impl fmt::Display for AddressRange {
    /// CIDR form ("192.0.2.0/24") when the range is exactly a CIDR block, else "first-last".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_prefix() {
            Some((network, len)) => write!(f, "{network}/{len}"),
            None => write!(f, "{}-{}", self.first, self.last),
        }
    }
}

impl FromStr for AddressRange {
    type Err = PoolEntryError;

    /// Parses a pool entry with [`parse_pool_entry`], forgetting whether host bits were set.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_pool_entry(s).map(|entry| entry.range)
    }
}

/// The mask of the host bits below a `prefix_len`-bit prefix.
fn host_mask(family: Family, prefix_len: u8) -> u128 {
    let host_bits = u32::from(family.bits() - prefix_len);
    u128::MAX.checked_shr(128 - host_bits).unwrap_or(0)
}

/// The address as an integer; IPv4 addresses are widened from `u32`.
pub(crate) fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_bits()),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// The address of `family` with value `bits`; callers keep IPv4 values below 2^32.
pub(crate) fn from_bits(family: Family, bits: u128) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from_bits(bits as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from_bits(bits)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `s` as an address; the tests of every addresses module read addresses so.
    pub(crate) fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The range `a..=b`.
    pub(crate) fn range(a: &str, b: &str) -> AddressRange {
        AddressRange::new(ip(a), ip(b)).unwrap()
    }

    #[test]
    fn new_checks_family_and_order() {
        assert_eq!(
            AddressRange::new(ip("192.0.2.1"), ip("::1")),
            Err(RangeError::MixedFamilies { first: ip("192.0.2.1"), last: ip("::1") })
        );
        assert_eq!(
            AddressRange::new(ip("192.0.2.9"), ip("192.0.2.1")),
            Err(RangeError::FirstAfterLast { first: ip("192.0.2.9"), last: ip("192.0.2.1") })
        );
        assert!(AddressRange::new(ip("192.0.2.1"), ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn len_counts_inclusively_and_saturates_on_the_whole_v6_space() {
        assert_eq!(range("192.0.2.0", "192.0.2.255").len(), 256);
        assert_eq!(AddressRange::single(ip("::1")).len(), 1);
        assert_eq!(range("0.0.0.0", "255.255.255.255").len(), 1 << 32);
        let all_v6 = AddressRange::from_prefix(ip("::"), 0).unwrap();
        assert_eq!(all_v6.len(), u128::MAX);
    }

    #[test]
    fn contains_respects_bounds_and_family() {
        let r = range("198.51.100.200", "198.51.100.250");
        assert!(r.contains(ip("198.51.100.200")));
        assert!(r.contains(ip("198.51.100.250")));
        assert!(!r.contains(ip("198.51.100.251")));
        assert!(!r.contains(ip("::ffff:198.51.100.220")));
        assert_eq!(r.family(), Family::V4);
    }

    #[test]
    fn from_prefix_drops_host_bits() {
        let r = AddressRange::from_prefix(ip("203.0.113.77"), 24).unwrap();
        assert_eq!(r, range("203.0.113.0", "203.0.113.255"));
        let r = AddressRange::from_prefix(ip("2001:db8:100::7"), 120).unwrap();
        assert_eq!(r, range("2001:db8:100::", "2001:db8:100::ff"));
        assert_eq!(
            AddressRange::from_prefix(ip("10.0.0.0"), 33),
            Err(RangeError::PrefixTooLong { family: Family::V4, prefix_len: 33 })
        );
        assert_eq!(AddressRange::from_prefix(ip("10.1.2.3"), 0).unwrap(), range("0.0.0.0", "255.255.255.255"));
    }

    #[test]
    fn display_uses_cidr_form_only_for_exact_blocks() {
        let cases = [
            (range("203.0.113.0", "203.0.113.255"), "203.0.113.0/24"),
            (range("203.0.113.7", "203.0.113.7"), "203.0.113.7/32"),
            (range("203.0.113.1", "203.0.113.255"), "203.0.113.1-203.0.113.255"),
            (range("203.0.113.128", "203.0.114.127"), "203.0.113.128-203.0.114.127"),
            (range("0.0.0.0", "255.255.255.255"), "0.0.0.0/0"),
            (range("2001:db8:100::", "2001:db8:100::ff"), "2001:db8:100::/120"),
            (range("2001:db8:1::200", "2001:db8:1::2ff"), "2001:db8:1::200/120"),
            (range("2001:db8:1::200", "2001:db8:1::2fe"), "2001:db8:1::200-2001:db8:1::2fe"),
            (AddressRange::from_prefix(ip("::"), 0).unwrap(), "::/0"),
        ];
        for (r, want) in cases {
            assert_eq!(r.to_string(), want);
        }
    }

    #[test]
    fn intersection_is_the_common_part() {
        let a = range("10.0.0.0", "10.0.0.10");
        let b = range("10.0.0.5", "10.0.0.20");
        assert_eq!(a.intersection(&b), Some(range("10.0.0.5", "10.0.0.10")));
        assert_eq!(a.intersection(&range("10.0.0.11", "10.0.0.12")), None);
        assert_eq!(a.intersection(&range("::", "::5")), None);
    }

    #[test]
    fn from_str_reads_pool_entries() {
        let r: AddressRange = "198.51.100.200 - 198.51.100.250".parse().unwrap();
        assert_eq!(r, range("198.51.100.200", "198.51.100.250"));
        assert!("nonsense".parse::<AddressRange>().is_err());
    }

    fn blocks(text: &str) -> Vec<String> {
        text.parse::<AddressRange>()
            .unwrap()
            .cidr_blocks()
            .into_iter()
            .map(|(block, len)| format!("{block}|{len}"))
            .collect()
    }

    #[test]
    fn ranges_split_into_the_fewest_blocks() {
        assert_eq!(blocks("203.0.113.0/24"), ["203.0.113.0/24|24"]);
        assert_eq!(
            blocks("198.51.100.200-198.51.100.250"),
            [
                "198.51.100.200/29|29",
                "198.51.100.208/28|28",
                "198.51.100.224/28|28",
                "198.51.100.240/29|29",
                "198.51.100.248/31|31",
                "198.51.100.250/32|32"
            ]
        );
        assert_eq!(blocks("0.0.0.0/0"), ["0.0.0.0/0|0"]);
        assert_eq!(blocks("::/0"), ["::/0|0"]);
        assert_eq!(blocks("255.255.255.254-255.255.255.255"), ["255.255.255.254/31|31"]);
        assert_eq!(blocks("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").len(), 128);
        assert_eq!(blocks("2001:db8:1::200-2001:db8:1::2ff"), ["2001:db8:1::200/120|120"]);
    }
}
