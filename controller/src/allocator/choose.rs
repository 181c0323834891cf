//! Choosing one family's address for a Service, and checking an address it asks for or holds.
//!
//! The order, as in MetalLB: the address the Service requests; else the pool it names; else the
//! pools whose serviceAllocation admits it (lower priority first, no priority last, then by name)
//! and then the pools without serviceAllocation (by name), both only if they assign automatically.
//! Within those pools, a Service with a sharing key first joins an address its key already uses,
//! if it may, and otherwise takes the lowest free address of the first pool that has one.

use std::net::IpAddr;

use ferrolb_core::addresses::Family;

use super::Allocator;
use super::pools::Pools;
use super::refused::Refused;
use super::service::ServiceSpec;

/// The address of `family` that `spec` asks for: `None` when it asks for no specific address.
pub(super) fn requested(spec: &ServiceSpec, family: Family) -> Result<Option<IpAddr>, Refused> {
    if spec.request.requested.is_empty() {
        return Ok(None);
    }
    let ip = spec.request.requested.iter().copied().find(|ip| Family::of(*ip) == family);
    ip.map(Some).ok_or(Refused::NoRequestedAddressOfFamily { family })
}

/// The pool where `spec` may have `ip`, sharing aside: the Service wants its family and asks for
/// it (when it asks for a specific address), a pool holds it and does not avoid it, that pool is
/// the one the Service names (if any) and its serviceAllocation admits the Service.
pub(super) fn placement(pools: &Pools, spec: &ServiceSpec, ip: IpAddr) -> Result<usize, Refused> {
    let family = Family::of(ip);
    if !spec.families.wants(family) {
        return Err(Refused::FamilyNotWanted { address: ip, family });
    }
    if let Some(requested) = requested(spec, family)?
        && requested != ip
    {
        return Err(Refused::NotRequested { address: ip, requested });
    }
    let index = pools.holding(ip).ok_or(Refused::NotInAnyPool { address: ip })?;
    let pool = pools.get(index);
    if pool.avoids(ip) {
        return Err(Refused::AvoidedAddress { address: ip, pool: pool.name.clone() });
    }
    if let Some(named) = &spec.request.pool
        && *named != pool.name
    {
        return Err(Refused::OutsideNamedPool { address: ip, pool: named.clone() });
    }
    if !pool.allows(spec) {
        return Err(Refused::NotAllowed { address: ip, pool: pool.name.clone() });
    }
    Ok(index)
}

impl Allocator {
    /// Gives `spec` (already recorded) an address of `family`, drawing from `preferred` first
    /// when it is one of the pools the Service may draw from automatically.
    pub(super) fn assign_family(
        &mut self,
        spec: &ServiceSpec,
        family: Family,
        preferred: Option<usize>,
    ) -> Result<(), Refused> {
        if let Some(ip) = requested(spec, family)? {
            let pool = placement(&self.pools, spec, ip)?;
            self.held.check_sharing(spec, ip)?;
            self.held.take(&mut self.pools, &spec.key, ip, pool);
            return Ok(());
        }
        let order = self.order(spec, preferred)?;
        if let Some((ip, pool)) = self.held.joinable(spec, family, &order) {
            self.held.take(&mut self.pools, &spec.key, ip, pool);
            return Ok(());
        }
        let free = order.iter().find_map(|&pool| self.pools.get(pool).first_free(family).map(|ip| (ip, pool)));
        match free {
            Some((ip, pool)) => {
                self.held.take(&mut self.pools, &spec.key, ip, pool);
                Ok(())
            }
            None => Err(self.exhausted(spec, family, &order)),
        }
    }

    /// The pools `spec` may draw from when it asks for no specific address, in the order to try
    /// them, `preferred` first when it is among them.
    fn order(&self, spec: &ServiceSpec, preferred: Option<usize>) -> Result<Vec<usize>, Refused> {
        if let Some(name) = &spec.request.pool {
            let index =
                self.pools.by_name(name.as_str()).ok_or_else(|| Refused::PoolNotFound { pool: name.clone() })?;
            if !self.pools.get(index).allows(spec) {
                return Err(Refused::PoolNotAllowed { pool: name.clone() });
            }
            return Ok(vec![index]);
        }
        let mut order = self.pools.automatic_for(spec);
        if order.is_empty() {
            return Err(Refused::NoPoolMatches { namespace: spec.key.namespace.to_string() });
        }
        if let Some(at) = preferred.and_then(|preferred| order.iter().position(|&pool| pool == preferred)) {
            let pool = order.remove(at);
            order.insert(0, pool);
        }
        Ok(order)
    }

    /// Why none of `order` gave `spec` an address of `family`.
    fn exhausted(&self, spec: &ServiceSpec, family: Family, order: &[usize]) -> Refused {
        let with_family: Vec<_> = order
            .iter()
            .map(|&index| self.pools.get(index))
            .filter(|pool| pool.has_family(family))
            .map(|pool| pool.name.clone())
            .collect();
        match (&spec.request.pool, with_family.as_slice()) {
            (Some(pool), []) => Refused::PoolLacksFamily { pool: pool.clone(), family },
            (None, []) => Refused::FamilyUnavailable { family },
            (_, [pool]) => Refused::PoolExhausted { pool: pool.clone(), family },
            (_, _) => Refused::PoolsExhausted { family, pools: with_family },
        }
    }

    /// The pool a Service should draw its missing families from: the pool of an address it
    /// already holds, else, when it lacks several families, the first pool it may draw from that
    /// can serve them all (so both addresses come from one pool, as in MetalLB).
    pub(super) fn preferred_pool(&self, spec: &ServiceSpec, missing: &[Family]) -> Option<usize> {
        if !spec.request.requested.is_empty() {
            return None;
        }
        if let Some(ip) = self.held.held_all(&spec.key).first() {
            return self.held.address(*ip).map(|address| address.pool);
        }
        if missing.len() < 2 {
            return None;
        }
        let order = self.order(spec, None).ok()?;
        order.into_iter().find(|&index| {
            missing.iter().all(|&family| {
                self.pools.get(index).available(family) > 0 || self.held.joinable(spec, family, &[index]).is_some()
            })
        })
    }
}
