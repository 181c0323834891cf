//! One `IPAddressPool.spec.addresses` entry, read as MetalLB reads it.
//!
//! MetalLB takes an entry with a '-' as a range `first-last` (spaces around either address
//! allowed) and anything else as a CIDR through Go's `net.ParseCIDR`, which accepts host bits set
//! ("203.0.113.7/24") and keeps the network. We accept the same and say whether host bits were
//! set, so the caller can warn. We are stricter in one place: a range whose ends are of two
//! families is refused, where MetalLB silently makes an empty or wrong pool of it.

use std::net::IpAddr;

use super::{AddressRange, Family, RangeError};

/// How an entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryForm {
    /// `network/prefix_len`.
    Cidr {
        /// The prefix length written.
        prefix_len: u8,
        /// Whether the address had bits set past the prefix, e.g. "203.0.113.7/24".
        host_bits_set: bool,
    },
    /// `first-last`.
    Range,
}

/// A parsed pool entry: the addresses it covers and how it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolEntry {
    /// The addresses of the entry.
    pub range: AddressRange,
    /// Whether the entry was a CIDR or a range.
    pub form: EntryForm,
}

impl PoolEntry {
    /// Whether the entry is a CIDR whose address had host bits set (worth a warning: the user
    /// may have meant a single address or a different network).
    pub fn host_bits_set(&self) -> bool {
        matches!(self.form, EntryForm::Cidr { host_bits_set: true, .. })
    }
}

/// An entry that is not a valid pool entry, with the entry as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid address pool entry: {problem}")]
pub struct PoolEntryError {
    /// The entry as written.
    pub input: String,
    /// What is wrong with it.
    pub problem: PoolEntryProblem,
}

/// What is wrong with a pool entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolEntryProblem {
    /// Neither a '/' nor a '-': often a lone address, which needs a prefix length.
    #[error(
        "it is neither a CIDR (192.0.2.0/24) nor a range (192.0.2.10-192.0.2.20); \
         a single address is written with a prefix length, as in 192.0.2.7/32"
    )]
    NotCidrOrRange,
    /// The part before '/' is not an IP address.
    #[error("the network address {text:?} is not an IP address")]
    BadNetworkAddress {
        /// The text before the '/'.
        text: String,
    },
    /// The CIDR network is an IPv4-mapped IPv6 address, which Go's `net.ParseCIDR` refuses.
    #[error("the network address {text:?} is an IPv4-mapped IPv6 address; write the IPv4 CIDR")]
    MappedNetworkAddress {
        /// The text before the '/'.
        text: String,
    },
    /// The part after '/' is not a decimal number.
    #[error("the prefix length {text:?} is not a decimal number")]
    BadPrefixLength {
        /// The text after the '/'.
        text: String,
    },
    /// The prefix length exceeds the address size.
    #[error("the prefix length /{prefix_len} is longer than the {} bits of an {family} address", family.bits())]
    PrefixTooLong {
        /// The family of the network address.
        family: Family,
        /// The prefix length written (saturated at 255).
        prefix_len: u8,
    },
    /// The part before '-' is not an IP address.
    #[error("the start {text:?} is not an IP address")]
    BadStart {
        /// The text before the '-', trimmed.
        text: String,
    },
    /// The part after '-' is not an IP address.
    #[error("the end {text:?} is not an IP address")]
    BadEnd {
        /// The text after the '-', trimmed.
        text: String,
    },
    /// The range's ends are of different families.
    #[error("the start {first} and the end {last} are not of the same address family")]
    MixedFamilies {
        /// The start address.
        first: IpAddr,
        /// The end address.
        last: IpAddr,
    },
    /// The range's start is greater than its end.
    #[error("the start {first} comes after the end {last}")]
    FirstAfterLast {
        /// The start address.
        first: IpAddr,
        /// The end address.
        last: IpAddr,
    },
}

/// Parses one `IPAddressPool.spec.addresses` entry: a CIDR ("203.0.113.0/24",
/// "2001:db8:100::/120", host bits allowed) or a range ("198.51.100.200-198.51.100.250", spaces
/// around '-' allowed).
pub fn parse_pool_entry(input: &str) -> Result<PoolEntry, PoolEntryError> {
    let parsed = match input.split_once('-') {
        Some((start, end)) => parse_range(start, end),
        None => parse_cidr(input),
    };
    parsed.map_err(|problem| PoolEntryError { input: input.to_owned(), problem })
}

fn parse_cidr(input: &str) -> Result<PoolEntry, PoolEntryProblem> {
    let Some((addr_text, len_text)) = input.split_once('/') else {
        return Err(PoolEntryProblem::NotCidrOrRange);
    };
    // Go's net.ParseCIDR trims nothing, so neither do we.
    let addr: IpAddr =
        addr_text.parse().map_err(|_| PoolEntryProblem::BadNetworkAddress { text: addr_text.to_owned() })?;
    if let IpAddr::V6(v6) = addr
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(PoolEntryProblem::MappedNetworkAddress { text: addr_text.to_owned() });
    }
    let prefix_len = parse_prefix_len(len_text)?;
    let family = Family::of(addr);
    let range = AddressRange::from_prefix(addr, prefix_len)
        .map_err(|_| PoolEntryProblem::PrefixTooLong { family, prefix_len })?;
    Ok(PoolEntry { range, form: EntryForm::Cidr { prefix_len, host_bits_set: range.first() != addr } })
}

/// Decimal digits only, leading zeros allowed (as Go's `dtoi`); values past 255 saturate, which
/// is longer than any prefix anyway.
fn parse_prefix_len(text: &str) -> Result<u8, PoolEntryProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PoolEntryProblem::BadPrefixLength { text: text.to_owned() });
    }
    let value = text.bytes().fold(0u32, |acc, b| acc.saturating_mul(10).saturating_add(u32::from(b - b'0')));
    Ok(u8::try_from(value).unwrap_or(u8::MAX))
}

fn parse_range(start: &str, end: &str) -> Result<PoolEntry, PoolEntryProblem> {
    let (start, end) = (start.trim(), end.trim());
    // Go's net.ParseIP reads "::ffff:a.b.c.d" as the IPv4 address a.b.c.d; so do we.
    let first = start
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| PoolEntryProblem::BadStart { text: start.to_owned() })?;
    let last = end
        .parse::<IpAddr>()
        .map(|ip| ip.to_canonical())
        .map_err(|_| PoolEntryProblem::BadEnd { text: end.to_owned() })?;
    let range = AddressRange::new(first, last).map_err(|err| match err {
        RangeError::MixedFamilies { .. } => PoolEntryProblem::MixedFamilies { first, last },
        _ => PoolEntryProblem::FirstAfterLast { first, last },
    })?;
    Ok(PoolEntry { range, form: EntryForm::Range })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::tests::{ip, range};

    #[test]
    fn accepts_what_metallb_accepts() {
        let cidr = |prefix_len, host_bits_set| EntryForm::Cidr { prefix_len, host_bits_set };
        let cases = [
            ("203.0.113.0/24", range("203.0.113.0", "203.0.113.255"), cidr(24, false)),
            ("203.0.113.7/24", range("203.0.113.0", "203.0.113.255"), cidr(24, true)),
            ("203.0.113.7/32", range("203.0.113.7", "203.0.113.7"), cidr(32, false)),
            ("203.0.113.7/032", range("203.0.113.7", "203.0.113.7"), cidr(32, false)),
            ("10.9.8.7/0", range("0.0.0.0", "255.255.255.255"), cidr(0, true)),
            ("2001:db8:100::/120", range("2001:db8:100::", "2001:db8:100::ff"), cidr(120, false)),
            ("2001:db8:100::1/120", range("2001:db8:100::", "2001:db8:100::ff"), cidr(120, true)),
            ("::1.2.3.4/128", range("::1.2.3.4", "::1.2.3.4"), cidr(128, false)),
            ("198.51.100.200-198.51.100.250", range("198.51.100.200", "198.51.100.250"), EntryForm::Range),
            ("198.51.100.200 - 198.51.100.250", range("198.51.100.200", "198.51.100.250"), EntryForm::Range),
            ("  198.51.100.200\t-198.51.100.250 ", range("198.51.100.200", "198.51.100.250"), EntryForm::Range),
            ("198.51.100.7-198.51.100.7", range("198.51.100.7", "198.51.100.7"), EntryForm::Range),
            ("2001:db8:1::200-2001:db8:1::2ff", range("2001:db8:1::200", "2001:db8:1::2ff"), EntryForm::Range),
            ("::ffff:10.0.0.1-10.0.0.9", range("10.0.0.1", "10.0.0.9"), EntryForm::Range),
        ];
        for (input, want_range, want_form) in cases {
            let entry = parse_pool_entry(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(entry.range, want_range, "{input}");
            assert_eq!(entry.form, want_form, "{input}");
            assert_eq!(
                entry.host_bits_set(),
                matches!(want_form, EntryForm::Cidr { host_bits_set: true, .. }),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        use PoolEntryProblem::*;
        let text = |s: &str| s.to_owned();
        let cases = [
            ("203.0.113.7", NotCidrOrRange),
            ("", NotCidrOrRange),
            ("203.0.113.0/", BadPrefixLength { text: text("") }),
            ("203.0.113.0/+24", BadPrefixLength { text: text("+24") }),
            ("203.0.113.0/24/24", BadPrefixLength { text: text("24/24") }),
            ("203.0.113.0/ 24", BadPrefixLength { text: text(" 24") }),
            ("203.0.113.0/33", PrefixTooLong { family: Family::V4, prefix_len: 33 }),
            ("2001:db8::/129", PrefixTooLong { family: Family::V6, prefix_len: 129 }),
            ("2001:db8::/99999999999", PrefixTooLong { family: Family::V6, prefix_len: 255 }),
            ("203.0.113/24", BadNetworkAddress { text: text("203.0.113") }),
            ("203.0.113.256/24", BadNetworkAddress { text: text("203.0.113.256") }),
            ("010.0.0.0/8", BadNetworkAddress { text: text("010.0.0.0") }),
            (" 203.0.113.0/24", BadNetworkAddress { text: text(" 203.0.113.0") }),
            ("fe80::1%eth0/64", BadNetworkAddress { text: text("fe80::1%eth0") }),
            ("::ffff:10.0.0.0/104", MappedNetworkAddress { text: text("::ffff:10.0.0.0") }),
            ("-198.51.100.250", BadStart { text: text("") }),
            ("198.51.100.x-198.51.100.250", BadStart { text: text("198.51.100.x") }),
            ("198.51.100.200-", BadEnd { text: text("") }),
            ("198.51.100.200-198.51.100.250-198.51.100.251", BadEnd { text: text("198.51.100.250-198.51.100.251") }),
            ("198.51.100.0/24-198.51.100.250", BadStart { text: text("198.51.100.0/24") }),
            ("198.51.100.200-2001:db8::1", MixedFamilies { first: ip("198.51.100.200"), last: ip("2001:db8::1") }),
            ("2001:db8::1-198.51.100.200", MixedFamilies { first: ip("2001:db8::1"), last: ip("198.51.100.200") }),
            (
                "198.51.100.250-198.51.100.200",
                FirstAfterLast { first: ip("198.51.100.250"), last: ip("198.51.100.200") },
            ),
            ("2001:db8::9-2001:db8::1", FirstAfterLast { first: ip("2001:db8::9"), last: ip("2001:db8::1") }),
        ];
        for (input, want) in cases {
            let err = parse_pool_entry(input).expect_err(input);
            assert_eq!(err.problem, want, "{input}");
            assert_eq!(err.input, input);
        }
    }

    #[test]
    fn error_names_the_input_and_the_reason() {
        let err = parse_pool_entry("198.51.100.250-198.51.100.200").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"198.51.100.250-198.51.100.200\" is not a valid address pool entry: \
             the start 198.51.100.250 comes after the end 198.51.100.200"
        );
        let err = parse_pool_entry("203.0.113.0/33").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"203.0.113.0/33\" is not a valid address pool entry: \
             the prefix length /33 is longer than the 32 bits of an IPv4 address"
        );
    }
}
