//! The pools as the allocator uses them: which pool holds an address, which pools a Service may
//! get an address from and in what order, and each pool's taken addresses as an interval set.
//!
//! A pool's taken set holds the addresses in use and, when the pool avoids buggy IPs, its .0 and
//! .255 addresses, reserved once when the pool is built. The lowest free address of a range is
//! then one [`IntervalSet::first_free_in`] lookup, never a scan.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::addresses::{AddressRange, Family, IntervalSet, buggy_v4_in, is_buggy_v4};
use ferrolb_core::annotations::PoolName;
use ferrolb_core::config::Pool;
use ferrolb_core::selectors::{any_matches, matches};

use super::service::ServiceSpec;

/// How many addresses of one family a pool has assigned and has left, as `IPAddressPool`
/// status shows them (capped at `i64::MAX` for huge IPv6 pools).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Addresses in use (an address shared by several Services counts once).
    pub assigned: i64,
    /// Addresses that may still be handed out.
    pub available: i64,
}

/// A pool's [`Usage`] for each family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// IPv4 counters.
    pub v4: Usage,
    /// IPv6 counters.
    pub v6: Usage,
}

impl PoolUsage {
    /// The counters of `family`.
    pub fn of(&self, family: Family) -> Usage {
        match family {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }
}

/// The slot of `family` in per-family arrays.
pub(super) fn slot(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

/// One pool and what is taken in it.
#[derive(Debug, Clone)]
pub(super) struct PoolState {
    /// Its name.
    pub(super) name: PoolName,
    config: Pool,
    /// Its ranges, in the order written (ranges another pool already holds are left out).
    ranges: Vec<AddressRange>,
    /// Addresses in use, and reserved buggy addresses.
    taken: IntervalSet,
    size: [u128; 2],
    reserved: [u128; 2],
    assigned: [u128; 2],
}

impl PoolState {
    /// Whether the pool's serviceAllocation (if any) admits `spec`: its namespace by name or by
    /// labels, and its own labels.
    pub(super) fn allows(&self, spec: &ServiceSpec) -> bool {
        let Some(allocation) = &self.config.allocation else {
            return true;
        };
        let any_namespace = allocation.namespaces.is_empty() && allocation.namespace_selectors.is_empty();
        let namespace = any_namespace
            || allocation.namespaces.iter().any(|n| **n == *spec.key.namespace)
            || allocation.namespace_selectors.iter().any(|selector| matches(selector, &spec.namespace_labels));
        namespace && any_matches(&allocation.service_selectors, &spec.labels)
    }

    /// Whether the pool refuses to hand out `ip` (a .0 or .255 address under avoidBuggyIPs).
    pub(super) fn avoids(&self, ip: IpAddr) -> bool {
        self.config.avoid_buggy_ips && is_buggy_v4(ip)
    }

    /// Whether the pool has any address of `family`.
    pub(super) fn has_family(&self, family: Family) -> bool {
        self.size[slot(family)] > 0
    }

    /// How many addresses of `family` may still be handed out.
    pub(super) fn available(&self, family: Family) -> u128 {
        let i = slot(family);
        self.size[i].saturating_sub(self.reserved[i]).saturating_sub(self.assigned[i])
    }

    /// The lowest free address of `family`, ranges taken in the order written: one logarithmic
    /// lookup per range.
    pub(super) fn first_free(&self, family: Family) -> Option<IpAddr> {
        if self.available(family) == 0 {
            return None;
        }
        self.ranges.iter().filter(|range| range.family() == family).find_map(|range| self.taken.first_free_in(range))
    }

    /// The pool's counters.
    pub(super) fn usage(&self) -> PoolUsage {
        let usage = |family: Family| Usage {
            assigned: capped(self.assigned[slot(family)]),
            available: capped(self.available(family)),
        };
        PoolUsage { v4: usage(Family::V4), v6: usage(Family::V6) }
    }
}

fn capped(n: u128) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every pool, indexed by name and by address.
#[derive(Debug, Clone, Default)]
pub(super) struct Pools {
    /// Sorted by name.
    list: Vec<PoolState>,
    /// Each range's first address -> its last address and its pool.
    by_address: BTreeMap<IpAddr, (IpAddr, usize)>,
    /// Pools with a serviceAllocation that assign automatically: lower priority first, no
    /// priority last, then by name.
    pinned: Vec<usize>,
    /// Pools without a serviceAllocation that assign automatically, by name.
    general: Vec<usize>,
    /// Names of pools left out because they are not valid pool names.
    pub(super) invalid_names: Vec<String>,
}

impl Pools {
    /// The pools of `configs`. Addresses already held by a pool earlier by name are left out of
    /// later ones (a validated `Config` never has such overlaps).
    pub(super) fn new<'a>(configs: impl IntoIterator<Item = &'a Pool>) -> Self {
        let mut pools = Pools::default();
        let mut configs: Vec<&Pool> = configs.into_iter().collect();
        configs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut claimed = IntervalSet::new();
        for config in configs {
            let Ok(name) = PoolName::new(config.name.clone()) else {
                pools.invalid_names.push(config.name.clone());
                continue;
            };
            let index = pools.list.len();
            let mut state = PoolState {
                name,
                config: config.clone(),
                ranges: Vec::new(),
                taken: IntervalSet::new(),
                size: [0; 2],
                reserved: [0; 2],
                assigned: [0; 2],
            };
            for range in &config.ranges {
                if claimed.overlap(range).is_some() {
                    continue;
                }
                claimed.insert(*range);
                pools.by_address.insert(range.first(), (range.last(), index));
                let i = slot(range.family());
                state.size[i] = state.size[i].saturating_add(range.len());
                if config.avoid_buggy_ips {
                    for ip in buggy_v4_in(range) {
                        state.taken.insert(AddressRange::single(ip));
                        state.reserved[i] += 1;
                    }
                }
                state.ranges.push(*range);
            }
            pools.list.push(state);
        }
        pools.order();
        pools
    }

    fn order(&mut self) {
        for (index, pool) in self.list.iter().enumerate() {
            match (&pool.config.allocation, pool.config.auto_assign) {
                (Some(_), true) => self.pinned.push(index),
                (None, true) => self.general.push(index),
                (_, false) => {}
            }
        }
        let list = &self.list;
        // Sorting is stable and `pinned` is in name order: equal priorities stay by name.
        self.pinned.sort_by_key(|&i| {
            let priority = list[i].config.allocation.as_ref().and_then(|allocation| allocation.priority);
            (priority.is_none(), priority)
        });
    }

    /// The configuration of every pool, by name.
    pub(super) fn configs(&self) -> impl Iterator<Item = &Pool> {
        self.list.iter().map(|pool| &pool.config)
    }

    /// Pool number `index`.
    pub(super) fn get(&self, index: usize) -> &PoolState {
        &self.list[index]
    }

    /// The number of the pool named `name`.
    pub(super) fn by_name(&self, name: &str) -> Option<usize> {
        self.list.binary_search_by(|pool| pool.name.as_str().cmp(name)).ok()
    }

    /// The number of the pool holding `ip`, in one logarithmic lookup.
    pub(super) fn holding(&self, ip: IpAddr) -> Option<usize> {
        let (&first, &(last, index)) = self.by_address.range(..=ip).next_back()?;
        (Family::of(first) == Family::of(ip) && ip <= last).then_some(index)
    }

    /// The pools `spec` gets an address from when it names none, in the order to try them:
    /// pools whose serviceAllocation admits it, then pools without serviceAllocation.
    pub(super) fn automatic_for(&self, spec: &ServiceSpec) -> Vec<usize> {
        let pinned = self.pinned.iter().copied().filter(|&i| self.list[i].allows(spec));
        pinned.chain(self.general.iter().copied()).collect()
    }

    /// Marks `ip`, an address of pool `index`, as taken.
    pub(super) fn take(&mut self, index: usize, ip: IpAddr) {
        let pool = &mut self.list[index];
        pool.taken.insert(AddressRange::single(ip));
        pool.assigned[slot(Family::of(ip))] += 1;
    }

    /// Marks `ip`, an address of pool `index`, as free again.
    pub(super) fn free(&mut self, index: usize, ip: IpAddr) {
        let pool = &mut self.list[index];
        pool.taken.remove(AddressRange::single(ip));
        let i = slot(Family::of(ip));
        pool.assigned[i] = pool.assigned[i].saturating_sub(1);
    }
}
