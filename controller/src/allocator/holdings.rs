//! Who holds what: each address in use with its users and sharing key, each Service with its
//! addresses, and each sharing key with its addresses. Bookkeeping only; the decisions are made
//! by the caller, which checks before it takes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::SharingKey;

use super::pools::{Pools, slot};
use super::refused::Refused;
use super::service::{ServiceKey, ServiceSpec};
use super::sharing::may_share;

/// One address in use.
#[derive(Debug, Clone)]
pub(super) struct AddressUse {
    /// The pool it belongs to.
    pub(super) pool: usize,
    /// The sharing key of its users (all equal when there are several).
    key: Option<SharingKey>,
    /// The Services using it.
    pub(super) users: BTreeSet<ServiceKey>,
}

/// A Service that holds addresses: the description it was last applied with, and its address
/// of each family.
#[derive(Debug, Clone)]
struct Holder {
    spec: ServiceSpec,
    addresses: [Option<IpAddr>; 2],
}

/// Every address in use and every Service holding one.
#[derive(Debug, Clone, Default)]
pub(super) struct Holdings {
    addresses: BTreeMap<IpAddr, AddressUse>,
    by_key: BTreeMap<SharingKey, BTreeSet<IpAddr>>,
    services: BTreeMap<ServiceKey, Holder>,
}

impl Holdings {
    /// The description `key` was last applied with, while it holds an address.
    pub(super) fn spec(&self, key: &ServiceKey) -> Option<&ServiceSpec> {
        self.services.get(key).map(|holder| &holder.spec)
    }

    /// The address of `family` that `key` holds.
    pub(super) fn held(&self, key: &ServiceKey, family: Family) -> Option<IpAddr> {
        self.services.get(key).and_then(|holder| holder.addresses[slot(family)])
    }

    /// Every address `key` holds, IPv4 first.
    pub(super) fn held_all(&self, key: &ServiceKey) -> Vec<IpAddr> {
        self.services.get(key).map(|holder| holder.addresses.iter().flatten().copied().collect()).unwrap_or_default()
    }

    /// How `ip` is used, if it is.
    pub(super) fn address(&self, ip: IpAddr) -> Option<&AddressUse> {
        self.addresses.get(&ip)
    }

    /// Every Service holding an address.
    pub(super) fn services(&self) -> impl Iterator<Item = &ServiceKey> {
        self.services.keys()
    }

    /// Records `spec` as the description of its Service. An address the Service uses alone takes
    /// its (possibly new) sharing key: a sole user may change its key and keep its address.
    pub(super) fn set_spec(&mut self, spec: &ServiceSpec) {
        let holder = match self.services.get_mut(&spec.key) {
            Some(holder) => {
                holder.spec = spec.clone();
                holder
            }
            None => {
                self.services.entry(spec.key.clone()).or_insert(Holder { spec: spec.clone(), addresses: [None; 2] })
            }
        };
        let alone: Vec<IpAddr> = holder
            .addresses
            .iter()
            .flatten()
            .copied()
            .filter(|ip| self.addresses.get(ip).is_some_and(|u| u.users.len() == 1))
            .collect();
        for ip in alone {
            self.rekey(ip, spec.request.sharing_key.clone());
        }
    }

    /// Forgets `key` if it holds nothing.
    pub(super) fn forget_if_empty(&mut self, key: &ServiceKey) {
        if self.services.get(key).is_some_and(|holder| holder.addresses.iter().all(Option::is_none)) {
            self.services.remove(key);
        }
    }

    /// Whether `spec` may use `ip` alongside its current users (other than itself); the first
    /// user, in key order, that forbids it says why.
    pub(super) fn check_sharing(&self, spec: &ServiceSpec, ip: IpAddr) -> Result<(), Refused> {
        let Some(address) = self.addresses.get(&ip) else {
            return Ok(());
        };
        for user in address.users.iter().filter(|user| **user != spec.key) {
            if let Some(holder) = self.services.get(user) {
                may_share(spec, &holder.spec, ip)?;
            }
        }
        Ok(())
    }

    /// The address of `family` used with `spec`'s sharing key that `spec` may join, in the
    /// earliest pool of `order` (then the lowest address), if any.
    pub(super) fn joinable(&self, spec: &ServiceSpec, family: Family, order: &[usize]) -> Option<(IpAddr, usize)> {
        let key = spec.request.sharing_key.as_ref()?;
        let ips = self.by_key.get(key)?;
        let rank = |pool: usize| order.iter().position(|&p| p == pool);
        ips.iter()
            .filter(|ip| Family::of(**ip) == family)
            .filter_map(|ip| self.addresses.get(ip).map(|address| (*ip, address.pool)))
            .filter_map(|(ip, pool)| rank(pool).map(|rank| (rank, ip, pool)))
            .filter(|&(_, ip, _)| self.check_sharing(spec, ip).is_ok())
            .min()
            .map(|(_, ip, pool)| (ip, pool))
    }

    /// Gives `ip`, an address of pool `pool`, to the Service of `spec`, already recorded with
    /// [`Holdings::set_spec`]. The caller has checked that it may.
    pub(super) fn take(&mut self, pools: &mut Pools, key: &ServiceKey, ip: IpAddr, pool: usize) {
        let Some(holder) = self.services.get_mut(key) else {
            return;
        };
        holder.addresses[slot(Family::of(ip))] = Some(ip);
        let sharing_key = holder.spec.request.sharing_key.clone();
        let address = self.addresses.entry(ip).or_insert_with(|| {
            pools.take(pool, ip);
            AddressUse { pool, key: None, users: BTreeSet::new() }
        });
        address.users.insert(key.clone());
        if address.users.len() == 1 {
            self.rekey(ip, sharing_key);
        }
    }

    /// Takes `ip` from `key`; the address is free again when its last user goes.
    pub(super) fn release(&mut self, pools: &mut Pools, key: &ServiceKey, ip: IpAddr) {
        if let Some(holder) = self.services.get_mut(key) {
            let held = &mut holder.addresses[slot(Family::of(ip))];
            if *held == Some(ip) {
                *held = None;
            }
        }
        let Some(address) = self.addresses.get_mut(&ip) else {
            return;
        };
        address.users.remove(key);
        if address.users.is_empty() {
            pools.free(address.pool, ip);
            self.rekey(ip, None);
            self.addresses.remove(&ip);
        }
    }

    /// Takes every address from `key` and forgets it; returns what it held.
    pub(super) fn release_all(&mut self, pools: &mut Pools, key: &ServiceKey) -> Vec<(IpAddr, usize)> {
        let mut released = Vec::new();
        for ip in self.held_all(key) {
            if let Some(address) = self.addresses.get(&ip) {
                released.push((ip, address.pool));
            }
            self.release(pools, key, ip);
        }
        self.services.remove(key);
        released
    }

    /// Moves every address from its pool in `old` to the pool holding it in `new`, dropping the
    /// users for which `keep(new, spec, ip)` says no (and every user of an address no pool
    /// holds). Returns the Services that lost an address, and those that kept one whose pool
    /// changed name.
    pub(super) fn repool(
        &mut self,
        old: &Pools,
        new: &mut Pools,
        keep: impl Fn(&Pools, &ServiceSpec, IpAddr) -> bool,
    ) -> (BTreeSet<ServiceKey>, BTreeSet<ServiceKey>) {
        let (mut released, mut repooled) = (BTreeSet::new(), BTreeSet::new());
        let ips: Vec<IpAddr> = self.addresses.keys().copied().collect();
        for ip in ips {
            let pool = new.holding(ip);
            let Some(address) = self.addresses.get(&ip) else { continue };
            let old_name = &old.get(address.pool).name;
            let (kept, dropped): (BTreeSet<ServiceKey>, BTreeSet<ServiceKey>) =
                address.users.iter().cloned().partition(|user| {
                    let spec = self.services.get(user).map(|holder| &holder.spec);
                    pool.is_some() && spec.is_some_and(|spec| keep(new, spec, ip))
                });
            let renamed = pool.is_some_and(|pool| new.get(pool).name != *old_name);
            for user in &dropped {
                if let Some(holder) = self.services.get_mut(user) {
                    holder.addresses[slot(Family::of(ip))] = None;
                }
            }
            released.extend(dropped);
            match pool.filter(|_| !kept.is_empty()) {
                Some(pool) => {
                    new.take(pool, ip);
                    if renamed {
                        repooled.extend(kept.iter().cloned());
                    }
                    if let Some(address) = self.addresses.get_mut(&ip) {
                        address.users = kept;
                        address.pool = pool;
                    }
                }
                None => {
                    self.rekey(ip, None);
                    self.addresses.remove(&ip);
                }
            }
        }
        for key in &released {
            self.forget_if_empty(key);
        }
        (released, repooled)
    }

    /// Moves `ip` from its current sharing key's index to `key`'s.
    fn rekey(&mut self, ip: IpAddr, key: Option<SharingKey>) {
        let Some(address) = self.addresses.get_mut(&ip) else {
            return;
        };
        if address.key == key {
            return;
        }
        if let Some(old) = address.key.take()
            && let Some(ips) = self.by_key.get_mut(&old)
        {
            ips.remove(&ip);
            if ips.is_empty() {
                self.by_key.remove(&old);
            }
        }
        if let Some(new) = &key {
            self.by_key.entry(new.clone()).or_default().insert(ip);
        }
        address.key = key;
    }
}
