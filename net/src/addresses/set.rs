//! A set of addresses kept as disjoint, sorted, non-adjacent ranges.
//!
//! Each family is a `BTreeMap` from a range's first address to its last. Touching or
//! overlapping ranges are merged on insert, so the map never holds two ranges that could be one:
//! that invariant is what lets [`IntervalSet::first_free_in`] answer with a single lookup.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{AddressRange, Family, from_bits, to_bits};

/// Addresses of both families, stored as disjoint ranges.
///
/// Insert, remove, `contains`, `overlap` and `first_free_in` cost O(log n) in the number of
/// stored ranges (insert and remove also pay for each stored range they swallow or split).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntervalSet {
    v4: Intervals,
    v6: Intervals,
}

impl IntervalSet {
    /// An empty set.
    pub fn new() -> Self {
        IntervalSet::default()
    }

    /// Whether the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.v4.map.is_empty() && self.v6.map.is_empty()
    }

    /// How many addresses the set holds, saturating at `u128::MAX`.
    pub fn len(&self) -> u128 {
        self.count(Family::V4).saturating_add(self.count(Family::V6))
    }

    /// How many addresses of `family` the set holds; the whole IPv6 space reads as `u128::MAX`.
    pub fn count(&self, family: Family) -> u128 {
        let part = self.part(family);
        // The count is kept modulo 2^128; zero with ranges present means all of IPv6.
        if part.count == 0 && !part.map.is_empty() { u128::MAX } else { part.count }
    }

    /// Adds every address of `range`.
    pub fn insert(&mut self, range: AddressRange) {
        let (first, last) = range.bounds();
        self.part_mut(range.family()).insert(first, last);
    }

    /// Removes every address of `range` (addresses not in the set are ignored).
    pub fn remove(&mut self, range: AddressRange) {
        let (first, last) = range.bounds();
        self.part_mut(range.family()).remove(first, last);
    }

    /// Whether `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let x = to_bits(ip);
        self.part(Family::of(ip)).starting_at_or_before(x).is_some_and(|(_, last)| last >= x)
    }

    /// Whether every address of `range` is in the set.
    pub fn covers(&self, range: &AddressRange) -> bool {
        let (first, last) = range.bounds();
        self.part(range.family()).starting_at_or_before(first).is_some_and(|(_, end)| end >= last)
    }

    /// The lowest run of addresses that both `range` and the set hold, if any.
    pub fn overlap(&self, range: &AddressRange) -> Option<AddressRange> {
        let (first, last) = range.bounds();
        let part = self.part(range.family());
        let hit = match part.starting_at_or_before(first) {
            Some((_, end)) if end >= first => Some((first, end)),
            _ => part.map.range(first..=last).next().map(|(&s, &e)| (s, e)),
        };
        hit.map(|(s, e)| AddressRange::from_bounds(range.family(), s, e.min(last)))
    }

    /// The lowest address of `range` that is not in the set, in one O(log n) lookup.
    ///
    /// To skip addresses that must never be handed out (such as MetalLB's "buggy" .0 and .255
    /// IPv4 addresses, see [`buggy_v4_in`]), insert them into the set being searched: they then
    /// merge with their neighbours and cost nothing to skip.
    pub fn first_free_in(&self, range: &AddressRange) -> Option<IpAddr> {
        let (first, last) = range.bounds();
        let free = match self.part(range.family()).starting_at_or_before(first) {
            // Stored ranges never touch, so the address after one is free.
            Some((_, end)) if end >= first => (end < last).then(|| end + 1),
            _ => Some(first),
        };
        free.map(|x| from_bits(range.family(), x))
    }

    /// The stored ranges in ascending order, IPv4 first.
    pub fn ranges(&self) -> impl Iterator<Item = AddressRange> + '_ {
        let v4 = self.v4.map.iter().map(|(&s, &e)| AddressRange::from_bounds(Family::V4, s, e));
        let v6 = self.v6.map.iter().map(|(&s, &e)| AddressRange::from_bounds(Family::V6, s, e));
        v4.chain(v6)
    }

    fn part(&self, family: Family) -> &Intervals {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    fn part_mut(&mut self, family: Family) -> &mut Intervals {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }
}

impl FromIterator<AddressRange> for IntervalSet {
    fn from_iter<I: IntoIterator<Item = AddressRange>>(iter: I) -> Self {
        let mut set = IntervalSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<AddressRange> for IntervalSet {
    fn extend<I: IntoIterator<Item = AddressRange>>(&mut self, iter: I) {
        for range in iter {
            self.insert(range);
        }
    }
}

/// Whether `ip` is an IPv4 address ending in .0 or .255, which MetalLB's `avoidBuggyIPs` skips
/// because some old consumer equipment drops traffic to them. IPv6 addresses never are.
pub fn is_buggy_v4(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => matches!(v4.octets()[3], 0 | 255),
        IpAddr::V6(_) => false,
    }
}

/// The addresses of `range` for which [`is_buggy_v4`] holds, in ascending order, computed
/// lazily (two per /24, none for IPv6).
pub fn buggy_v4_in(range: &AddressRange) -> impl Iterator<Item = IpAddr> + use<> {
    let (first, last) = range.bounds();
    // IPv6 has no buggy addresses: no blocks to walk.
    let blocks = (range.family() == Family::V4).then_some((first >> 8)..=(last >> 8));
    blocks
        .into_iter()
        .flatten()
        .flat_map(|block| [block << 8, (block << 8) | 0xff])
        .filter(move |&x| first <= x && x <= last)
        .map(|x| from_bits(Family::V4, x))
}

/// One family's ranges: first address -> last address, disjoint and never adjacent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Intervals {
    map: BTreeMap<u128, u128>,
    /// Number of addresses, modulo 2^128 (exact except for the whole IPv6 space, which is 0).
    count: u128,
}

impl Intervals {
    /// The stored range starting at or before `x` (it holds `x` only if its end is >= `x`).
    fn starting_at_or_before(&self, x: u128) -> Option<(u128, u128)> {
        self.map.range(..=x).next_back().map(|(&s, &e)| (s, e))
    }

    fn insert(&mut self, first: u128, last: u128) {
        let (mut start, mut end) = (first, last);
        // A range before `first` that reaches it, or ends just before it, is absorbed.
        if let Some((s, e)) = self.starting_at_or_before(first)
            && e.checked_add(1).is_none_or(|after| after >= first)
        {
            self.take(s, e);
            start = s;
            end = end.max(e);
        }
        // So is every range starting inside [first, last + 1].
        let reach = last.saturating_add(1);
        while let Some((&s, &e)) = self.map.range(first..=reach).next() {
            self.take(s, e);
            end = end.max(e);
        }
        self.put(start, end);
    }

    fn remove(&mut self, first: u128, last: u128) {
        // A range starting before `first` keeps its head, and its tail if it reaches past `last`.
        if let Some((s, e)) = first.checked_sub(1).and_then(|before| self.starting_at_or_before(before))
            && e >= first
        {
            self.take(s, e);
            self.put(s, first - 1);
            if e > last {
                self.put(last + 1, e);
            }
        }
        // Ranges starting inside [first, last] lose their part up to `last`.
        while let Some((&s, &e)) = self.map.range(first..=last).next() {
            self.take(s, e);
            if e > last {
                self.put(last + 1, e);
            }
        }
    }

    fn take(&mut self, start: u128, end: u128) {
        self.map.remove(&start);
        self.count = self.count.wrapping_sub(size(start, end));
    }

    fn put(&mut self, start: u128, end: u128) {
        self.map.insert(start, end);
        self.count = self.count.wrapping_add(size(start, end));
    }
}

/// Addresses in `start..=end`, modulo 2^128.
fn size(start: u128, end: u128) -> u128 {
    (end - start).wrapping_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::tests::ip;

    fn r(s: &str) -> AddressRange {
        s.parse().unwrap()
    }

    fn set(entries: &[&str]) -> IntervalSet {
        entries.iter().map(|s| r(s)).collect()
    }

    fn shown(set: &IntervalSet) -> Vec<String> {
        set.ranges().map(|r| r.to_string()).collect()
    }

    #[test]
    fn insert_merges_overlapping_and_touching_ranges() {
        let s = set(&["10.0.0.0/30", "10.0.0.4/30", "10.0.0.10-10.0.0.12", "10.0.0.9-10.0.0.9"]);
        assert_eq!(shown(&s), ["10.0.0.0/29", "10.0.0.9-10.0.0.12"]);
        assert_eq!(s.len(), 12);
        let s = set(&["10.0.0.0-10.0.0.2", "10.0.0.6-10.0.0.7", "10.0.0.1-10.0.0.6"]);
        assert_eq!(shown(&s), ["10.0.0.0/29"]);
    }

    #[test]
    fn remove_splits_and_trims() {
        let mut s = set(&["10.0.0.0/24", "10.0.1.0/24"]);
        s.remove(r("10.0.0.10-10.0.0.19"));
        s.remove(r("10.0.0.250-10.0.1.5"));
        assert_eq!(shown(&s), ["10.0.0.0-10.0.0.9", "10.0.0.20-10.0.0.249", "10.0.1.6-10.0.1.255"]);
        assert_eq!(s.len(), 256 + 256 - 10 - 12);
        s.remove(r("0.0.0.0/0"));
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn families_are_kept_apart() {
        let s = set(&["2001:db8:100::/120", "203.0.113.0/24"]);
        assert_eq!(shown(&s), ["203.0.113.0/24", "2001:db8:100::/120"]);
        assert_eq!(s.count(Family::V4), 256);
        assert_eq!(s.count(Family::V6), 256);
        assert!(s.contains(ip("2001:db8:100::ff")));
        assert!(!s.contains(ip("::ffff:203.0.113.1")));
    }

    #[test]
    fn edges_of_the_address_spaces() {
        let mut s = set(&["::/0"]);
        assert_eq!(s.count(Family::V6), u128::MAX);
        s.remove(r("::/1"));
        assert_eq!(s.count(Family::V6), 1 << 127);
        s.insert(r("::/1"));
        assert_eq!(shown(&s), ["::/0"]);
        s.remove(AddressRange::single(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assert_eq!(s.count(Family::V6), u128::MAX);
        assert_eq!(s.first_free_in(&r("::/0")), Some(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        let s = set(&["0.0.0.0/0"]);
        assert_eq!(s.len(), 1 << 32);
        assert_eq!(s.first_free_in(&r("0.0.0.0/0")), None);
    }

    #[test]
    fn overlap_returns_the_first_common_part() {
        let s = set(&["10.0.0.5-10.0.0.9", "10.0.0.20-10.0.0.29"]);
        let cases = [
            ("10.0.0.0-10.0.0.4", None),
            ("10.0.0.0-10.0.0.6", Some("10.0.0.5-10.0.0.6")),
            ("10.0.0.7-10.0.0.25", Some("10.0.0.7-10.0.0.9")),
            ("10.0.0.10-10.0.0.25", Some("10.0.0.20-10.0.0.25")),
            ("10.0.0.10-10.0.0.19", None),
            ("10.0.0.29-10.0.0.40", Some("10.0.0.29/32")),
            ("::/0", None),
        ];
        for (query, want) in cases {
            let got = s.overlap(&r(query)).map(|r| r.to_string());
            assert_eq!(got.as_deref(), want, "{query}");
        }
    }

    #[test]
    fn first_free_in_skips_used_runs() {
        let used = set(&["10.0.0.0-10.0.0.9", "10.0.0.11-10.0.0.20"]);
        let cases = [
            ("10.0.0.0/24", Some("10.0.0.10")),
            ("10.0.0.11-10.0.0.30", Some("10.0.0.21")),
            ("10.0.0.11-10.0.0.20", None),
            ("10.0.0.30/32", Some("10.0.0.30")),
            ("2001:db8::/64", Some("2001:db8::")),
        ];
        for (range, want) in cases {
            assert_eq!(used.first_free_in(&r(range)), want.map(ip), "{range}");
        }
    }

    #[test]
    fn covers_needs_every_address() {
        let s = set(&["10.0.0.0/24", "10.0.2.0/24"]);
        assert!(s.covers(&r("10.0.0.3-10.0.0.200")));
        assert!(!s.covers(&r("10.0.0.3-10.0.1.0")));
        assert!(!s.covers(&r("10.0.1.0/24")));
    }

    #[test]
    fn buggy_addresses_end_in_0_or_255() {
        assert!(is_buggy_v4(ip("203.0.113.0")));
        assert!(is_buggy_v4(ip("203.0.113.255")));
        assert!(!is_buggy_v4(ip("203.0.113.1")));
        assert!(!is_buggy_v4(ip("2001:db8::ff")));
        let got: Vec<_> = buggy_v4_in(&r("10.0.0.255-10.0.2.0")).map(|ip| ip.to_string()).collect();
        assert_eq!(got, ["10.0.0.255", "10.0.1.0", "10.0.1.255", "10.0.2.0"]);
        assert_eq!(buggy_v4_in(&r("10.0.0.1-10.0.0.254")).count(), 0);
        assert_eq!(buggy_v4_in(&r("2001:db8::/120")).count(), 0);
        let top: Vec<_> = buggy_v4_in(&r("255.255.255.0/24")).collect();
        assert_eq!(top, [ip("255.255.255.0"), ip("255.255.255.255")]);
    }

    /// The allocator's load: every address of a /16 handed out one at a time, lowest first, well
    /// under a second even unoptimised (a scan per assignment would take minutes).
    #[test]
    fn assigning_a_whole_slash_16_stays_logarithmic() {
        let started = std::time::Instant::now();
        let pool = r("10.20.0.0/16");
        let mut used = IntervalSet::new();
        let mut handed = 0u32;
        while let Some(ip) = used.first_free_in(&pool) {
            used.insert(AddressRange::single(ip));
            handed += 1;
        }
        assert_eq!(handed, 65_536);
        assert_eq!(shown(&used), ["10.20.0.0/16"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    }

    #[test]
    fn reserving_buggy_addresses_keeps_them_out_cheaply() {
        let pool = r("10.20.0.0/16");
        let mut used: IntervalSet = buggy_v4_in(&pool).map(AddressRange::single).collect();
        let mut handed = 0u32;
        while let Some(ip) = used.first_free_in(&pool) {
            assert!(!is_buggy_v4(ip), "{ip}");
            used.insert(AddressRange::single(ip));
            handed += 1;
        }
        assert_eq!(handed, 65_536 - 512);
    }

    #[test]
    fn releasing_makes_the_lowest_address_free_again() {
        let pool = r("10.0.0.0/29");
        let mut used = set(&["10.0.0.0/29"]);
        used.remove(AddressRange::single(ip("10.0.0.5")));
        used.remove(AddressRange::single(ip("10.0.0.2")));
        assert_eq!(used.first_free_in(&pool), Some(ip("10.0.0.2")));
        assert_eq!(used.len(), 6);
    }
}
