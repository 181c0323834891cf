//! What must hold in a chaos run, judged on snapshots (pure).
//!
//! All the way through: no address is held by two Services that may not share it. After settling:
//! no Service waits for an address while its pool has room; each pool's counters equal the
//! addresses Services hold in it; the router's BGP table equals the routes the Services call for;
//! and (judged from a capture by [`double_answers`]) no address is answered from two MACs.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use ferrolb_core::addresses::AddressRange;

/// A Service as the API shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenService {
    /// Its name (namespace `default`).
    pub name: String,
    /// `status.loadBalancer.ingress` addresses.
    pub ips: Vec<IpAddr>,
    /// Its sharing key, if any.
    pub sharing_key: Option<String>,
    /// The addresses it requests, if any.
    pub requested: Vec<IpAddr>,
    /// The pool it asks for.
    pub pool: Option<String>,
    /// Whether it wants one address per family.
    pub dual_stack: bool,
    /// `externalTrafficPolicy: Local`.
    pub local: bool,
}

/// A pool as the API shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenPool {
    /// Its name.
    pub name: String,
    /// Its ranges, from its spec.
    pub ranges: Vec<AddressRange>,
    /// `status.assignedIPv4`, `status.assignedIPv6`.
    pub assigned: [Option<i64>; 2],
    /// `status.availableIPv4`, `status.availableIPv6`.
    pub available: [Option<i64>; 2],
}

impl SeenPool {
    fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }
}

/// A broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which promise.
    pub rule: &'static str,
    /// What was seen.
    pub detail: String,
}

fn family(ip: IpAddr) -> usize {
    usize::from(ip.is_ipv6())
}

/// Two Services hold one address without both carrying the same sharing key.
pub fn shared_wrongly(services: &[SeenService]) -> Vec<Violation> {
    let mut holders: BTreeMap<IpAddr, Vec<&SeenService>> = BTreeMap::new();
    for svc in services {
        for ip in &svc.ips {
            holders.entry(*ip).or_default().push(svc);
        }
    }
    holders
        .into_iter()
        .filter(|(_, held)| held.len() > 1)
        .filter(|(_, held)| {
            let key = held[0].sharing_key.as_deref();
            key.is_none() || held.iter().any(|s| s.sharing_key.as_deref() != key)
        })
        .map(|(ip, held)| Violation {
            rule: "one address, two Services that may not share it",
            detail: format!("{ip}: {:?}", held.iter().map(|s| (&s.name, &s.sharing_key)).collect::<Vec<_>>()),
        })
        .collect()
}

/// A Service without its addresses while its pool has room for them. Services that request an
/// address are judged only when no other Service holds it and the pool contains it.
pub fn pending_with_room(services: &[SeenService], pools: &[SeenPool]) -> Vec<Violation> {
    let held: BTreeSet<IpAddr> = services.iter().flat_map(|s| s.ips.iter().copied()).collect();
    let mut out = Vec::new();
    for svc in services {
        let want = if svc.dual_stack { 2 } else { 1 };
        if svc.ips.len() >= want {
            continue;
        }
        let Some(pool) = pools.iter().find(|p| Some(&p.name) == svc.pool.as_ref()) else { continue };
        let families: Vec<usize> = if svc.dual_stack { vec![0, 1] } else { vec![0] };
        let room = families.iter().all(|&f| pool.available[f].unwrap_or(0) > 0);
        let requested_free = svc.requested.iter().all(|ip| !held.contains(ip) && pool.contains(*ip));
        if room && requested_free {
            out.push(Violation {
                rule: "a Service waits while its pool has room",
                detail: format!(
                    "{} holds {:?}; pool {} has {:?} available",
                    svc.name, svc.ips, pool.name, pool.available
                ),
            });
        }
    }
    out
}

/// A pool's counters differ from the addresses Services hold in it (a shared address counts once),
/// or assigned and available do not add up to the pool's size.
pub fn counters(services: &[SeenService], pools: &[SeenPool]) -> Vec<Violation> {
    let held: BTreeSet<IpAddr> = services.iter().flat_map(|s| s.ips.iter().copied()).collect();
    let mut out = Vec::new();
    for pool in pools {
        for f in 0..2 {
            let in_pool = held.iter().filter(|ip| family(**ip) == f && pool.contains(**ip)).count();
            let size: u128 = pool.ranges.iter().filter(|r| family(r.first()) == f).map(AddressRange::len).sum();
            let assigned = pool.assigned[f].unwrap_or(0);
            let available = pool.available[f].unwrap_or(0);
            let sums = u128::try_from(assigned + available).ok() == Some(size);
            if i64::try_from(in_pool).ok() != Some(assigned) || !sums {
                out.push(Violation {
                    rule: "pool counters equal what Services hold",
                    detail: format!(
                        "pool {} IPv{}: Services hold {in_pool}, status says assigned {assigned}, available {available}, size {size}",
                        pool.name,
                        if f == 0 { 4 } else { 6 }
                    ),
                });
            }
        }
    }
    out
}

/// The router table the Services call for: each address of the BGP pool a Service holds, with a
/// next hop per node that may serve it (every node for Cluster, the backends' nodes for Local).
pub fn desired_routes(
    services: &[SeenService],
    bgp_pool: &SeenPool,
    backends: &BTreeMap<String, Vec<String>>,
    node_ips: &BTreeMap<String, [IpAddr; 2]>,
) -> BTreeMap<IpAddr, BTreeSet<IpAddr>> {
    let mut routes: BTreeMap<IpAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    for svc in services {
        let nodes: Vec<&String> = if svc.local {
            backends.get(&svc.name).map(|b| b.iter().collect()).unwrap_or_default()
        } else {
            node_ips.keys().collect()
        };
        for ip in svc.ips.iter().filter(|ip| bgp_pool.contains(**ip)) {
            let hops = routes.entry(*ip).or_default();
            hops.extend(nodes.iter().filter_map(|n| node_ips.get(*n)).map(|ips| ips[family(*ip)]));
        }
    }
    routes.retain(|_, hops| !hops.is_empty());
    routes
}

/// The differences between the router's table and the desired one.
pub fn routes_differ(
    desired: &BTreeMap<IpAddr, BTreeSet<IpAddr>>,
    router: &BTreeMap<IpAddr, BTreeSet<IpAddr>>,
) -> Vec<Violation> {
    let keys: BTreeSet<&IpAddr> = desired.keys().chain(router.keys()).collect();
    keys.into_iter()
        .filter(|ip| desired.get(ip) != router.get(ip))
        .map(|ip| Violation {
            rule: "the router's table equals what the Services call for",
            detail: format!("{ip}: want {:?}, router has {:?}", desired.get(ip), router.get(ip)),
        })
        .collect()
}

/// A stretch of time during which one address was claimed from two MACs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoubleWindow {
    /// The address.
    pub ip: IpAddr,
    /// The two (or more) MACs.
    pub macs: BTreeSet<String>,
    /// Offset from the start of the capture of the first double claim.
    pub from: Duration,
    /// Offset of the last double claim.
    pub to: Duration,
}

/// From ARP claims (time since the capture began, address, source MAC), in time order: the windows
/// during which two MACs claimed one address less than `within` apart. Windows closer than one
/// second are merged.
pub fn double_answers(claims: &[(Duration, IpAddr, String)], within: Duration) -> Vec<DoubleWindow> {
    let mut by_ip: BTreeMap<IpAddr, Vec<(Duration, &str)>> = BTreeMap::new();
    for (at, ip, mac) in claims {
        by_ip.entry(*ip).or_default().push((*at, mac));
    }
    let mut out: Vec<DoubleWindow> = Vec::new();
    for (ip, seen) in by_ip {
        let mut current: Option<DoubleWindow> = None;
        for pair in seen.windows(2) {
            let [(a_at, a_mac), (b_at, b_mac)] = [pair[0], pair[1]];
            if a_mac == b_mac || b_at.saturating_sub(a_at) >= within {
                continue;
            }
            match current.as_mut() {
                Some(w) if a_at.saturating_sub(w.to) < Duration::from_secs(1) => {
                    w.to = b_at;
                    w.macs.extend([a_mac.to_owned(), b_mac.to_owned()]);
                }
                _ => {
                    out.extend(current.take());
                    current = Some(DoubleWindow {
                        ip,
                        macs: [a_mac.to_owned(), b_mac.to_owned()].into(),
                        from: a_at,
                        to: b_at,
                    });
                }
            }
        }
        out.extend(current);
    }
    out.sort_by_key(|w| w.from);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn svc(name: &str, ips: &[&str], key: Option<&str>) -> SeenService {
        SeenService {
            name: name.into(),
            ips: ips.iter().map(|s| ip(s)).collect(),
            sharing_key: key.map(Into::into),
            pool: Some("p".into()),
            ..SeenService::default()
        }
    }

    fn pool(assigned: i64, available: i64) -> SeenPool {
        SeenPool {
            name: "p".into(),
            ranges: vec!["203.0.113.0/30".parse().unwrap()],
            assigned: [Some(assigned), Some(0)],
            available: [Some(available), Some(0)],
        }
    }

    #[test]
    fn sharing_needs_the_same_key_on_every_holder() {
        let ok = [svc("a", &["203.0.113.1"], Some("k")), svc("b", &["203.0.113.1"], Some("k"))];
        assert!(shared_wrongly(&ok).is_empty());
        let keyless = [svc("a", &["203.0.113.1"], None), svc("b", &["203.0.113.1"], None)];
        assert_eq!(shared_wrongly(&keyless).len(), 1);
        let other_key = [svc("a", &["203.0.113.1"], Some("k")), svc("b", &["203.0.113.1"], Some("j"))];
        assert_eq!(shared_wrongly(&other_key).len(), 1);
    }

    #[test]
    fn pending_counts_only_with_room_and_a_free_requested_address() {
        let services = [svc("a", &["203.0.113.1"], None), svc("b", &[], None)];
        assert_eq!(pending_with_room(&services, &[pool(1, 3)]).len(), 1);
        assert!(pending_with_room(&services, &[pool(4, 0)]).is_empty(), "no room");
        let mut asks = svc("c", &[], None);
        asks.requested = vec![ip("203.0.113.1")];
        assert!(pending_with_room(&[services[0].clone(), asks.clone()], &[pool(1, 3)]).is_empty(), "taken");
        asks.requested = vec![ip("203.0.113.2")];
        assert_eq!(pending_with_room(&[services[0].clone(), asks], &[pool(1, 3)]).len(), 1);
    }

    #[test]
    fn counters_count_a_shared_address_once_and_must_add_up() {
        let services = [svc("a", &["203.0.113.1"], Some("k")), svc("b", &["203.0.113.1"], Some("k"))];
        assert!(counters(&services, &[pool(1, 3)]).is_empty());
        assert_eq!(counters(&services, &[pool(2, 2)]).len(), 1);
        assert_eq!(counters(&services, &[pool(1, 2)]).len(), 1, "1 + 2 is not the pool's 4");
    }

    #[test]
    fn routes_follow_policy_and_backends() {
        let node_ips: BTreeMap<String, [IpAddr; 2]> = [
            ("node1".to_owned(), [ip("198.51.100.11"), ip("2001:db8:1::11")]),
            ("node2".to_owned(), [ip("198.51.100.12"), ip("2001:db8:1::12")]),
        ]
        .into();
        let mut local = svc("l", &["203.0.113.2"], None);
        local.local = true;
        let services = [svc("c", &["203.0.113.1"], None), local, svc("x", &["198.51.100.200"], None)];
        let backends: BTreeMap<String, Vec<String>> = [("l".to_owned(), vec!["node2".to_owned()])].into();
        let want = desired_routes(&services, &pool(2, 2), &backends, &node_ips);
        assert_eq!(want.len(), 2, "only the BGP pool's addresses: {want:?}");
        assert_eq!(want[&ip("203.0.113.1")].len(), 2);
        assert_eq!(want[&ip("203.0.113.2")], [ip("198.51.100.12")].into());
        assert!(routes_differ(&want, &want).is_empty());
        let mut router = want.clone();
        router.remove(&ip("203.0.113.2"));
        router.insert(ip("203.0.113.3"), [ip("198.51.100.11")].into());
        assert_eq!(routes_differ(&want, &router).len(), 2);
    }

    #[test]
    fn double_answers_are_two_macs_close_together_merged_into_windows() {
        let ms = Duration::from_millis;
        let a = ip("198.51.100.200");
        let claims = vec![
            (ms(0), a, "m1".to_owned()),
            (ms(50), a, "m1".to_owned()),
            (ms(100), a, "m2".to_owned()),
            (ms(110), a, "m1".to_owned()),
            (ms(300), a, "m2".to_owned()),
            (ms(305), a, "m1".to_owned()),
            (ms(5000), a, "m2".to_owned()),
            (ms(5010), a, "m1".to_owned()),
        ];
        let windows = double_answers(&claims, ms(40));
        assert_eq!(windows.len(), 2, "{windows:?}");
        assert_eq!((windows[0].from, windows[0].to), (ms(100), ms(305)));
        assert!(double_answers(&claims[..3], ms(40)).is_empty(), "a handover 50 ms apart is no double answer");
    }
}
