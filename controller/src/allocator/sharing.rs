//! When two Services may share one address: MetalLB's rule.
//!
//! Both must carry the same sharing key, no (protocol, port) pair may be used by both, and when
//! either has `externalTrafficPolicy: Local` their pod selectors must be equal, because an address
//! is announced from one place and both Services' endpoints must be found there.

use std::net::IpAddr;

use super::refused::Refused;
use super::service::{Port, ServiceSpec, TrafficPolicy};

/// Whether `new` may use `address` alongside `user`, which already uses it; if not, why.
pub(super) fn may_share(new: &ServiceSpec, user: &ServiceSpec, address: IpAddr) -> Result<(), Refused> {
    match (&new.request.sharing_key, &user.request.sharing_key) {
        (Some(a), Some(b)) if a == b => {}
        (Some(_), Some(_)) => return Err(Refused::SharingKeyMismatch { with: user.key.clone() }),
        _ => return Err(Refused::AddressInUse { address, by: user.key.clone() }),
    }
    if let Some(port) = lowest_common_port(&new.ports, &user.ports) {
        return Err(Refused::PortOverlap { with: user.key.clone(), port });
    }
    let local = new.traffic_policy == TrafficPolicy::Local || user.traffic_policy == TrafficPolicy::Local;
    if local && new.selector != user.selector {
        return Err(Refused::SelectorMismatch { with: user.key.clone() });
    }
    Ok(())
}

/// The lowest port both lists hold (lists are short: a quadratic scan is the cheapest).
fn lowest_common_port(a: &[Port], b: &[Port]) -> Option<Port> {
    a.iter().filter(|port| b.contains(port)).min().copied()
}
