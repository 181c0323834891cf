//! The allocator: which address each LoadBalancer Service gets, from which pool, and why not.
//!
//! A pure index in the linkerd style: values in, values out, no I/O and no clock.
//!
//! What production calls: the controller decides every Service's addresses from scratch on
//! each pass (`services::plan`, level-triggered, so a restart loses nothing). It builds an
//! allocator over the configured pools ([`Allocator::new`]), hands it every served Service with
//! the addresses its status holds, oldest first ([`Allocator::reset`], which restores each),
//! then gives each Service its addresses ([`Allocator::apply`]) and reads each pool's counters
//! for its status ([`Allocator::usage`]). [`Refused`] says why a Service gets no address, in
//! words fit for an Event.
//!
//! The index also takes changes one at a time ([`Allocator::delete`], [`Allocator::restore`],
//! [`Allocator::set_pools`], with [`Allocator::users`] and [`Allocator::services`] to read it):
//! production does not call these today (it replans instead); the unit tests, the property
//! test (`tests/allocator_props.rs`) and the benchmark drive the index through them.
//!
//! Pools are interval sets per family: the next free address is one logarithmic lookup, so a
//! /16 is handed out and taken back quickly (figures: docs/performance.md). How a pool and an
//! address are chosen is in `choose`; when Services may share an address is in `sharing`.
//!
//! Files: `service` (the inputs), `refused` (the reasons), `pools` (pools, counters), `choose`
//! (choosing and checking addresses), `sharing` (MetalLB's sharing rule), `holdings` (who holds
//! what).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::PoolName;
use ferrolb_core::config::Pool;

mod choose;
mod holdings;
mod pools;
mod refused;
mod service;
mod sharing;
#[cfg(test)]
mod tests;

pub use pools::{PoolUsage, Usage};
pub use refused::Refused;
pub use service::{IpFamilies, Labels, Port, Protocol, ServiceKey, ServiceSpec, TrafficPolicy};

use choose::placement;
use holdings::Holdings;
use pools::Pools;

/// One address of a Service and the pool it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The address.
    pub ip: IpAddr,
    /// The pool holding it.
    pub pool: PoolName,
}

/// What [`Allocator::apply`] gave a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its addresses, the primary family first. Never empty.
    pub assigned: Vec<Assignment>,
    /// The families a PreferDualStack Service still lacks, and why.
    pub missing: Vec<(Family, Refused)>,
}

impl Applied {
    /// The addresses alone, the primary family first.
    pub fn ips(&self) -> Vec<IpAddr> {
        self.assigned.iter().map(|assignment| assignment.ip).collect()
    }
}

/// What a new set of pools changed, from [`Allocator::set_pools`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconfigured {
    /// Services that lost an address (it left every pool, or its pool may no longer serve
    /// them), sorted: apply them again to give them a new one. Their other addresses stay.
    pub released: Vec<ServiceKey>,
    /// Services that kept their addresses, now in a pool of another name, sorted.
    pub repooled: Vec<ServiceKey>,
    /// Pools left out because their names are not valid pool names (never so for pools read
    /// from the API server).
    pub invalid_pool_names: Vec<String>,
}

/// The allocator's index: the pools, and which Service holds which address.
#[derive(Debug, Clone, Default)]
pub struct Allocator {
    pools: Pools,
    held: Holdings,
}

impl Allocator {
    /// An allocator over `pools` (as in `Config.pools`) with nothing assigned.
    pub fn new(pools: &BTreeMap<String, Pool>) -> Self {
        Allocator { pools: Pools::new(pools.values()), held: Holdings::default() }
    }

    /// Gives the Service its addresses, or keeps those it has: applying the same Service again
    /// returns the same addresses. An address it holds that no longer fits its description (a
    /// different requested address or pool, a pool that no longer admits it, a sharing conflict
    /// with the other users after a change of key or ports) is released and replaced.
    ///
    /// SingleStack and PreferDualStack succeed when at least one family is assigned (the rest is
    /// in [`Applied::missing`]); RequireDualStack only with every family. On refusal the Service
    /// holds nothing afterwards, except for [`Refused::InvalidRequest`] and the other checks of
    /// the request itself, which are made before anything changes.
    pub fn apply(&mut self, spec: &ServiceSpec) -> Result<Applied, Refused> {
        check_request(spec)?;
        let applied = self.converge(spec);
        if applied.is_err() {
            self.held.release_all(&mut self.pools, &spec.key);
        }
        applied
    }

    /// Records `spec` and releases what its Service holds that no longer fits it.
    fn refit(&mut self, spec: &ServiceSpec) {
        self.held.set_spec(spec);
        for ip in self.held.held_all(&spec.key) {
            let fits = placement(&self.pools, spec, ip).is_ok() && self.held.check_sharing(spec, ip).is_ok();
            if !fits {
                self.held.release(&mut self.pools, &spec.key, ip);
            }
        }
    }

    fn converge(&mut self, spec: &ServiceSpec) -> Result<Applied, Refused> {
        self.refit(spec);
        let missing: Vec<Family> =
            spec.families.wanted().into_iter().filter(|family| self.held.held(&spec.key, *family).is_none()).collect();
        let preferred = self.preferred_pool(spec, &missing);
        let mut refused = Vec::new();
        for family in missing {
            if let Err(reason) = self.assign_family(spec, family, preferred) {
                refused.push((family, reason));
            }
        }
        let assigned = self.addresses(&spec.key);
        let all_or_nothing = matches!(spec.families, IpFamilies::RequireDual(_));
        let enough = refused.is_empty() || (!all_or_nothing && !assigned.is_empty());
        if enough {
            return Ok(Applied { assigned, missing: refused });
        }
        // The primary family's reason comes first, when it is among them.
        Err(refused.swap_remove(0).1)
    }

    /// Forgets the Service and returns what it held; an address is free again once its last
    /// user is gone. A Service re-created under the same key starts from nothing.
    pub fn delete(&mut self, key: &ServiceKey) -> Vec<Assignment> {
        let released = self.held.release_all(&mut self.pools, key);
        released.into_iter().map(|(ip, pool)| Assignment { ip, pool: self.pools.get(pool).name.clone() }).collect()
    }

    /// Re-registers addresses already in the Service's status, one answer per address in the
    /// order given. An address is accepted when a pool that may serve the Service holds it, it
    /// is what the Service asks for, and the Service may share it with its current users;
    /// otherwise the reason comes back, and the caller applies the Service to reassign it.
    ///
    /// Meant for start, before anything new is assigned, so that running Services keep their
    /// addresses. What the Service already holds and no longer fits it is released first.
    pub fn restore(&mut self, spec: &ServiceSpec, ips: &[IpAddr]) -> Vec<Result<Assignment, Refused>> {
        self.refit(spec);
        let answers = ips.iter().map(|ip| self.restore_one(spec, ip.to_canonical())).collect();
        self.held.forget_if_empty(&spec.key);
        answers
    }

    fn restore_one(&mut self, spec: &ServiceSpec, ip: IpAddr) -> Result<Assignment, Refused> {
        let family = Family::of(ip);
        if let Some(held) = self.held.held(&spec.key, family) {
            if held == ip {
                return self.assignment(ip).ok_or(Refused::NotInAnyPool { address: ip });
            }
            return Err(Refused::TwoAddressesOneFamily { family, first: held, second: ip });
        }
        let pool = placement(&self.pools, spec, ip)?;
        self.held.check_sharing(spec, ip)?;
        self.held.take(&mut self.pools, &spec.key, ip, pool);
        Ok(Assignment { ip, pool: self.pools.get(pool).name.clone() })
    }

    /// Forgets every Service, then restores each of `services` with the addresses in its status,
    /// in the order given (so the caller decides who wins a disputed address, e.g. the oldest).
    /// Returns every address refused, with its Service and the reason.
    pub fn reset(
        &mut self,
        services: impl IntoIterator<Item = (ServiceSpec, Vec<IpAddr>)>,
    ) -> Vec<(ServiceKey, IpAddr, Refused)> {
        let configs: Vec<Pool> = self.pools.configs().cloned().collect();
        self.pools = Pools::new(&configs);
        self.held = Holdings::default();
        let mut refused = Vec::new();
        for (spec, ips) in services {
            for (ip, answer) in ips.iter().zip(self.restore(&spec, &ips)) {
                if let Err(reason) = answer {
                    refused.push((spec.key.clone(), *ip, reason));
                }
            }
        }
        refused
    }

    /// Replaces the pools. Addresses still in a pool that may serve their Service stay where
    /// they are, even if that pool no longer assigns automatically; the others are released and
    /// their Services listed so the caller applies them again.
    pub fn set_pools(&mut self, pools: &BTreeMap<String, Pool>) -> Reconfigured {
        let old = std::mem::replace(&mut self.pools, Pools::new(pools.values()));
        let (released, repooled) =
            self.held.repool(&old, &mut self.pools, |pools, spec, ip| placement(pools, spec, ip).is_ok());
        Reconfigured {
            released: released.into_iter().collect(),
            repooled: repooled.into_iter().collect(),
            invalid_pool_names: self.pools.invalid_names.clone(),
        }
    }

    /// The Service's addresses, the primary family first.
    pub fn addresses(&self, key: &ServiceKey) -> Vec<Assignment> {
        let Some(spec) = self.held.spec(key) else {
            return Vec::new();
        };
        let mut ips = self.held.held_all(key);
        let wanted = spec.families.wanted();
        ips.sort_by_key(|ip| wanted.iter().position(|family| *family == Family::of(*ip)));
        ips.into_iter().filter_map(|ip| self.assignment(ip)).collect()
    }

    /// The Services using `ip`, sorted.
    pub fn users(&self, ip: IpAddr) -> Vec<ServiceKey> {
        self.held.address(ip).map(|address| address.users.iter().cloned().collect()).unwrap_or_default()
    }

    /// Every Service holding an address, sorted.
    pub fn services(&self) -> impl Iterator<Item = &ServiceKey> {
        self.held.services()
    }

    /// The counters of the pool named `pool`, for its status.
    pub fn usage(&self, pool: &str) -> Option<PoolUsage> {
        self.pools.by_name(pool).map(|index| self.pools.get(index).usage())
    }

    fn assignment(&self, ip: IpAddr) -> Option<Assignment> {
        let address = self.held.address(ip)?;
        Some(Assignment { ip, pool: self.pools.get(address.pool).name.clone() })
    }
}

/// The checks of a Service's request on its own: its annotations parse, and it asks for at most
/// one address of each family it wants.
fn check_request(spec: &ServiceSpec) -> Result<(), Refused> {
    if let Some(problem) = spec.request.problems.first() {
        return Err(Refused::InvalidRequest { problem: problem.clone() });
    }
    let requested = &spec.request.requested;
    for (i, &first) in requested.iter().enumerate() {
        let family = Family::of(first);
        if let Some(&second) = requested[i + 1..].iter().find(|ip| Family::of(**ip) == family) {
            return Err(Refused::TwoAddressesOneFamily { family, first, second });
        }
        if !spec.families.wants(family) {
            return Err(Refused::FamilyNotWanted { address: first, family });
        }
    }
    Ok(())
}
