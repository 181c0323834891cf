//! Feeds arbitrary text to the pool address-entry parser (`198.51.100.0/24`, `192.0.2.10-192.0.2.20`,
//! IPv6 of both forms), as the controller reads an IPAddressPool's `spec.addresses`: it must never
//! panic; a range it accepts is ordered and of one family, and its printed form parses back to it.

#![no_main]

use ferrolb_core::addresses::{AddressRange, parse_pool_entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(entry) = parse_pool_entry(text) else { return };
    let range = entry.range;
    assert!(range.first() <= range.last(), "{text:?} -> {range}");
    assert_eq!(range.first().is_ipv4(), range.last().is_ipv4(), "{text:?} -> {range}");
    assert!(range.len() >= 1);
    assert!(range.contains(range.first()) && range.contains(range.last()));
    let printed = range.to_string();
    assert_eq!(printed.parse::<AddressRange>().ok(), Some(range), "{text:?} printed as {printed:?}");
});
