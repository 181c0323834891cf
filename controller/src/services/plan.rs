//! The whole assignment, decided from scratch from what the cluster says: every address
//! already in a Service's status is restored first (oldest Service first, so the older one
//! keeps a disputed address), then every Service is applied, oldest first. Level-triggered
//! and idempotent: the same inputs give the same answer, and a restart loses nothing.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::config::Pool;

use crate::allocator::{Allocator, Applied, Refused, ServiceKey, ServiceSpec};

/// One served Service as the planner sees it.
#[derive(Debug, Clone)]
pub struct View {
    /// What it asks for.
    pub spec: ServiceSpec,
    /// When it was created (seconds since the epoch); older Services win disputes.
    pub created: i64,
    /// The addresses its status holds now.
    pub status_ips: Vec<IpAddr>,
    /// Whether FerroLB wrote those addresses (its condition names them). An address put in a
    /// status by hand loses to one FerroLB assigned, whatever the ages.
    pub written_by_us: bool,
}

/// Why a Service got the pool it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It asked for the addresses (loadBalancerIPs, or spec.loadBalancerIP).
    Requested,
    /// It named the pool (address-pool annotation).
    NamedPool,
    /// The pool's serviceAllocation selects it.
    ServiceAllocation,
    /// The first autoAssign pool with a free address.
    AutoAssign,
}

impl Why {
    /// The reason in words, for the Service's condition.
    pub fn describe(self, request_source: Option<&str>) -> String {
        match self {
            Why::Requested => format!("requested by {}", request_source.unwrap_or("ferrolb.io/loadBalancerIPs")),
            Why::NamedPool => "named by ferrolb.io/address-pool".into(),
            Why::ServiceAllocation => "serviceAllocation of the pool selects this Service".into(),
            Why::AutoAssign => "first autoAssign pool with a free address".into(),
        }
    }
}

/// What one Service should have.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Where the Service is in the `views` given to [`plan`].
    pub index: usize,
    /// The Service.
    pub key: ServiceKey,
    /// Its addresses, or why it has none.
    pub result: Result<Applied, Refused>,
    /// Why the pool (meaningful when assigned).
    pub why: Why,
    /// Addresses its status held that could not be kept, and why (another Service owns one,
    /// it left every pool, ...).
    pub not_kept: Vec<(IpAddr, Refused)>,
}

/// Decides every Service's addresses. Returns the outcomes (oldest Service first; each names
/// its place in `views`) and the allocator, whose counters give the pools' status.
pub fn plan(pools: &BTreeMap<String, Pool>, views: &[View]) -> (Vec<Outcome>, Allocator) {
    let mut order: Vec<usize> = (0..views.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&views[a], &views[b]);
        (!a.written_by_us, a.created, &a.spec.key).cmp(&(!b.written_by_us, b.created, &b.spec.key))
    });
    let mut alloc = Allocator::new(pools);
    // Addresses refused here are not restored: apply() below gives a new one or says why.
    let mut not_kept: BTreeMap<ServiceKey, Vec<(IpAddr, Refused)>> = BTreeMap::new();
    let restored = order.iter().map(|&i| (views[i].spec.clone(), views[i].status_ips.clone()));
    for (key, ip, why) in alloc.reset(restored) {
        not_kept.entry(key).or_default().push((ip, why));
    }
    let outcomes = order
        .into_iter()
        .map(|index| {
            let v = &views[index];
            let result = alloc.apply(&v.spec);
            let why = if !v.spec.request.requested.is_empty() {
                Why::Requested
            } else if v.spec.request.pool.is_some() {
                Why::NamedPool
            } else {
                let restricted = result
                    .as_ref()
                    .ok()
                    .and_then(|a| a.assigned.first())
                    .is_some_and(|a| pools.get(a.pool.as_str()).is_some_and(|p| p.allocation.is_some()));
                if restricted { Why::ServiceAllocation } else { Why::AutoAssign }
            };
            let not_kept = not_kept.remove(&v.spec.key).unwrap_or_default();
            Outcome { index, key: v.spec.key.clone(), result, why, not_kept }
        })
        .collect();
    (outcomes, alloc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolb_core::addresses::AddressRange;

    fn pools(cidr: &str) -> BTreeMap<String, Pool> {
        let range: AddressRange = cidr.parse().expect("a range");
        let pool = Pool {
            name: "p".into(),
            labels: BTreeMap::new(),
            ranges: vec![range],
            auto_assign: true,
            avoid_buggy_ips: false,
            allocation: None,
        };
        BTreeMap::from([("p".to_owned(), pool)])
    }

    fn view(name: &str, created: i64, ips: &[&str]) -> View {
        View {
            spec: ServiceSpec::new(ServiceKey::new("ns", name)),
            created,
            status_ips: ips.iter().map(|i| i.parse().expect("an ip")).collect(),
            written_by_us: true,
        }
    }

    #[test]
    fn an_address_written_by_hand_loses_to_one_ferrolb_assigned() {
        let mut hand = view("a-hand", 10, &["203.0.113.1"]);
        hand.written_by_us = false;
        let (out, _) = plan(&pools("203.0.113.0/30"), &[hand, view("b-owner", 10, &["203.0.113.1"])]);
        assert_eq!(ips(&out, "b-owner"), ["203.0.113.1"]);
        assert_ne!(ips(&out, "a-hand"), ["203.0.113.1"]);
    }

    fn ips(outcomes: &[Outcome], name: &str) -> Vec<String> {
        let o = outcomes.iter().find(|o| *o.key.name == *name).expect("an outcome");
        o.result.as_ref().map(|a| a.ips().iter().map(ToString::to_string).collect()).unwrap_or_default()
    }

    #[test]
    fn addresses_in_status_are_kept_and_new_services_get_free_ones() {
        let (out, _) = plan(&pools("203.0.113.0/30"), &[view("new", 20, &[]), view("old", 10, &["203.0.113.2"])]);
        assert_eq!(ips(&out, "old"), ["203.0.113.2"]);
        assert_eq!(ips(&out, "new"), ["203.0.113.0"]);
        assert!(out.iter().all(|o| o.why == Why::AutoAssign));
    }

    #[test]
    fn the_older_service_keeps_a_disputed_address() {
        let (out, _) =
            plan(&pools("203.0.113.0/30"), &[view("b", 20, &["203.0.113.1"]), view("a", 10, &["203.0.113.1"])]);
        assert_eq!(ips(&out, "a"), ["203.0.113.1"]);
        assert_ne!(ips(&out, "b"), ["203.0.113.1"]);
        let b = out.iter().find(|o| &*o.key.name == "b").expect("b");
        assert_eq!(b.not_kept.len(), 1, "b is told why it lost 203.0.113.1");
    }

    #[test]
    fn an_address_outside_every_pool_is_replaced() {
        let (out, _) = plan(&pools("203.0.113.0/30"), &[view("a", 10, &["198.51.100.7"])]);
        assert_eq!(ips(&out, "a"), ["203.0.113.0"]);
    }

    #[test]
    fn an_exhausted_pool_refuses_the_youngest() {
        let (out, alloc) =
            plan(&pools("203.0.113.0/31"), &[view("c", 30, &[]), view("a", 10, &[]), view("b", 20, &[])]);
        assert!(out.iter().find(|o| &*o.key.name == "c").is_some_and(|o| o.result.is_err()));
        assert_eq!(alloc.usage("p").map(|u| u.v4.assigned), Some(2));
    }

    #[test]
    fn planning_twice_gives_the_same_answer() {
        let views = vec![view("a", 10, &[]), view("b", 20, &[])];
        let (first, _) = plan(&pools("203.0.113.0/29"), &views);
        let with_status: Vec<View> = views
            .into_iter()
            .map(|mut v| {
                v.status_ips = ips(&first, &v.spec.key.name).iter().filter_map(|i| i.parse().ok()).collect();
                v
            })
            .collect();
        let (second, _) = plan(&pools("203.0.113.0/29"), &with_status);
        assert_eq!(ips(&first, "a"), ips(&second, "a"));
        assert_eq!(ips(&first, "b"), ips(&second, "b"));
    }
}
