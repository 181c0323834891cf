//! Model-based tests: `IntervalSet` against a `BTreeSet` of addresses, on small windows at both
//! ends of the address spaces (where overflow would bite).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ferrolb_net::addresses::{AddressRange, IntervalSet};
use proptest::prelude::*;

/// Offsets within the window under test.
const WIDTH: u32 = 48;

#[derive(Debug, Clone, Copy)]
enum Op {
    Insert(u32, u32),
    Remove(u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let bounds = (0..WIDTH, 0..WIDTH).prop_map(|(a, b)| (a.min(b), a.max(b)));
    prop_oneof![bounds.clone().prop_map(|(a, b)| Op::Insert(a, b)), bounds.prop_map(|(a, b)| Op::Remove(a, b)),]
}

/// A window of addresses: offset `i` maps to an address.
#[derive(Clone, Copy)]
enum Window {
    /// 0.0.0.0 upwards.
    V4Low,
    /// Up to 255.255.255.255.
    V4High,
    /// Up to ffff:...:ffff.
    V6High,
}

impl Window {
    fn ip(self, i: u32) -> IpAddr {
        match self {
            Window::V4Low => IpAddr::V4(Ipv4Addr::from_bits(i)),
            Window::V4High => IpAddr::V4(Ipv4Addr::from_bits(u32::MAX - (WIDTH - 1) + i)),
            Window::V6High => IpAddr::V6(Ipv6Addr::from_bits(u128::MAX - u128::from(WIDTH - 1) + u128::from(i))),
        }
    }

    fn range(self, a: u32, b: u32) -> AddressRange {
        AddressRange::new(self.ip(a), self.ip(b)).unwrap()
    }
}

fn check(window: Window, ops: &[Op], query: (u32, u32)) -> Result<(), TestCaseError> {
    let mut set = IntervalSet::new();
    let mut model = BTreeSet::new();
    for &op in ops {
        match op {
            Op::Insert(a, b) => {
                set.insert(window.range(a, b));
                model.extend(a..=b);
            }
            Op::Remove(a, b) => {
                set.remove(window.range(a, b));
                model.retain(|x| !(a..=b).contains(x));
            }
        }
        for i in 0..WIDTH {
            prop_assert_eq!(set.contains(window.ip(i)), model.contains(&i), "contains {}", i);
        }
        prop_assert_eq!(set.len(), model.len() as u128);
        prop_assert_eq!(set.is_empty(), model.is_empty());

        // Stored ranges: sorted, disjoint, never touching, and exactly the model's runs.
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &x in &model {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == x => *end = x,
                _ => runs.push((x, x)),
            }
        }
        let want: Vec<AddressRange> = runs.iter().map(|&(a, b)| window.range(a, b)).collect();
        let got: Vec<AddressRange> = set.ranges().collect();
        prop_assert_eq!(got, want);
    }

    let (qa, qb) = (query.0.min(query.1), query.0.max(query.1));
    let q = window.range(qa, qb);
    let in_query: Vec<u32> = model.range(qa..=qb).copied().collect();
    let want_overlap = in_query.first().map(|&start| {
        let end = (start..=qb).take_while(|x| model.contains(x)).last().unwrap_or(start);
        window.range(start, end)
    });
    prop_assert_eq!(set.overlap(&q), want_overlap);
    let want_free = (qa..=qb).find(|x| !model.contains(x)).map(|x| window.ip(x));
    prop_assert_eq!(set.first_free_in(&q), want_free);
    prop_assert_eq!(set.covers(&q), in_query.len() as u32 == qb - qa + 1);
    Ok(())
}

proptest! {
    #[test]
    fn v4_low_window_behaves_like_a_set(ops in prop::collection::vec(op(), 0..24), query in (0..WIDTH, 0..WIDTH)) {
        check(Window::V4Low, &ops, query)?;
    }

    #[test]
    fn v4_high_window_behaves_like_a_set(ops in prop::collection::vec(op(), 0..24), query in (0..WIDTH, 0..WIDTH)) {
        check(Window::V4High, &ops, query)?;
    }

    #[test]
    fn v6_high_window_behaves_like_a_set(ops in prop::collection::vec(op(), 0..24), query in (0..WIDTH, 0..WIDTH)) {
        check(Window::V6High, &ops, query)?;
    }
}
