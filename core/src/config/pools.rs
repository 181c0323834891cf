//! IPAddressPools: each entry parsed, no two entries overlapping, within a pool or across pools.
//!
//! Pools are taken oldest first; each accepted pool claims its addresses in an index, and a
//! newer pool wanting any of them is refused, naming the pool that holds them. A refused pool
//! claims nothing, so it never blocks a pool created after it. Each check is a logarithmic
//! lookup, so validation stays fast with thousands of pools (figures: docs/performance.md).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_crds::{IPAddressPool, ServiceAllocation};

use super::fields::{check_namespace, no_repeats, selector_list};
use super::validate::{Accepted, Object, Problems, oldest_first, record};
use super::{Allocation, Kind, ObjectRef, Pool, Reason, Verdicts};
use crate::addresses::{AddressRange, IntervalSet, parse_pool_entry};

/// Addresses claimed by owners of type `T`, which never overlap one another.
#[derive(Debug)]
pub(super) struct Claims<T> {
    taken: IntervalSet,
    /// Each claimed range by its first address; claimed ranges are disjoint, so the range
    /// holding an address is the one starting at or before it.
    owners: BTreeMap<IpAddr, (AddressRange, T)>,
}

impl<T> Default for Claims<T> {
    fn default() -> Self {
        Claims { taken: IntervalSet::new(), owners: BTreeMap::new() }
    }
}

impl<T> Claims<T> {
    /// The claimed range and owner of the lowest address of `range` already claimed, if any.
    pub(super) fn conflict(&self, range: &AddressRange) -> Option<&(AddressRange, T)> {
        let first = self.taken.overlap(range)?.first();
        self.owners.range(..=first).next_back().map(|(_, claim)| claim).filter(|(claimed, _)| claimed.contains(first))
    }

    /// Claims `range` for `owner`; the caller has checked that it conflicts with no claim.
    pub(super) fn claim(&mut self, range: AddressRange, owner: T) {
        self.taken.insert(range);
        self.owners.insert(range.first(), (range, owner));
    }
}

/// One parsed entry of a pool: its index, the text as written, its addresses.
struct Entry<'a> {
    index: usize,
    text: &'a str,
    range: AddressRange,
}

/// Validates every IPAddressPool, oldest first, recording a verdict on each.
pub(super) fn validate(pools: &[IPAddressPool], verdicts: &mut Verdicts) -> Accepted<Pool> {
    let mut accepted = Accepted::new(pools);
    // Owner of each accepted entry: the pool's name and the entry as written.
    let mut claims: Claims<(String, String)> = Claims::default();
    for pool in oldest_first(pools) {
        let mut problems = Problems::default();
        let entries = entries(pool, &mut problems);
        if let Some(allocation) = &pool.spec.service_allocation {
            check_allocation(allocation, &mut problems);
        }
        for entry in &entries {
            if let Some((_, (owner, owner_entry))) = claims.conflict(&entry.range) {
                problems.add_with(
                    format!("spec.addresses[{}]", entry.index),
                    Reason::AddressesOverlap,
                    format!("{} overlaps {owner_entry} of IPAddressPool {owner}, which was created first", entry.text),
                    ObjectRef::new(Kind::IPAddressPool, owner.clone()),
                );
            }
        }
        if problems.is_empty() {
            for entry in &entries {
                claims.claim(entry.range, (pool.name().to_owned(), entry.text.to_owned()));
            }
            accepted.accepted.insert(pool.name().to_owned(), resolved(pool, &entries));
        }
        record(verdicts, pool.object_ref(), problems);
    }
    accepted
}

/// The entries of `pool` that parse; a problem for each that does not, and for each that
/// overlaps an earlier entry of the same pool.
fn entries<'a>(pool: &'a IPAddressPool, problems: &mut Problems) -> Vec<Entry<'a>> {
    if pool.spec.addresses.is_empty() {
        problems.invalid("spec.addresses", "must list at least one CIDR or range");
    }
    let mut own: Claims<usize> = Claims::default();
    let mut entries = Vec::with_capacity(pool.spec.addresses.len());
    for (index, text) in pool.spec.addresses.iter().enumerate() {
        let field = format!("spec.addresses[{index}]");
        let range = match parse_pool_entry(text) {
            Ok(entry) => entry.range,
            Err(err) => {
                problems.invalid(field, err.to_string());
                continue;
            }
        };
        match own.conflict(&range) {
            Some(&(_, earlier)) => problems.add(
                field,
                Reason::AddressesOverlap,
                format!("{text} overlaps entry [{earlier}] of the same pool, {}", pool.spec.addresses[earlier]),
            ),
            None => own.claim(range, index),
        }
        entries.push(Entry { index, text, range });
    }
    entries
}

/// Problems of `spec.serviceAllocation`.
fn check_allocation(allocation: &ServiceAllocation, problems: &mut Problems) {
    if let Some(priority) = allocation.priority
        && priority < 0
    {
        problems.invalid("spec.serviceAllocation.priority", format!("{priority} is negative; it must be 0 or more"));
    }
    for (i, namespace) in allocation.namespaces.iter().enumerate() {
        if let Err(message) = check_namespace(namespace) {
            problems.invalid(format!("spec.serviceAllocation.namespaces[{i}]"), message);
        }
    }
    no_repeats(problems, "spec.serviceAllocation.namespaces", &allocation.namespaces, "namespace");
    selector_list(problems, "spec.serviceAllocation.namespaceSelectors", &allocation.namespace_selectors);
    selector_list(problems, "spec.serviceAllocation.serviceSelectors", &allocation.service_selectors);
}

/// The validated pool.
fn resolved(pool: &IPAddressPool, entries: &[Entry<'_>]) -> Pool {
    Pool {
        name: pool.name().to_owned(),
        labels: pool.metadata.labels.clone().unwrap_or_default(),
        ranges: entries.iter().map(|entry| entry.range).collect(),
        auto_assign: pool.spec.auto_assign,
        avoid_buggy_ips: pool.spec.avoid_buggy_ips,
        allocation: pool.spec.service_allocation.as_ref().map(|allocation| Allocation {
            priority: allocation.priority,
            namespaces: allocation.namespaces.clone(),
            namespace_selectors: allocation.namespace_selectors.clone(),
            service_selectors: allocation.service_selectors.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> AddressRange {
        text.parse().unwrap()
    }

    #[test]
    fn claims_find_the_owner_of_the_lowest_overlap() {
        let mut claims = Claims::default();
        claims.claim(range("10.0.0.0/24"), "a");
        claims.claim(range("10.0.2.0/24"), "b");
        claims.claim(range("2001:db8::/120"), "v6");
        let owner = |text: &str| claims.conflict(&range(text)).map(|(_, owner)| *owner);
        assert_eq!(owner("10.0.0.128/25"), Some("a"));
        assert_eq!(owner("10.0.1.0/24"), None);
        assert_eq!(owner("10.0.1.0-10.0.3.0"), Some("b"));
        assert_eq!(owner("8.0.0.0/6"), Some("a"));
        assert_eq!(owner("0.0.0.0/0"), Some("a"));
        assert_eq!(owner("2001:db8::ff-2001:db8::1ff"), Some("v6"));
        assert_eq!(owner("::/0"), Some("v6"));
        assert_eq!(owner("::10.0.0.0/120"), None);
    }
}
