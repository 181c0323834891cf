//! Properties of the allocator under random sequences of apply, delete, restore and pool changes:
//! no address is ever held by two Services that may not share it, every address lies in a pool
//! that may serve its Services, a Service holds at most one address per family, applying again
//! changes nothing, and the pool counters always equal a count made from scratch.

// A panic in a test is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ferrolb_controller::allocator::{Allocator, IpFamilies, Port, Refused, ServiceKey, ServiceSpec, TrafficPolicy};
use ferrolb_core::addresses::{Family, buggy_v4_in, is_buggy_v4};
use ferrolb_core::annotations::{PoolName, SharingKey};
use ferrolb_core::config::{Allocation, Pool};
use proptest::prelude::*;

fn pool(name: &str, ranges: &[&str], auto_assign: bool, avoid_buggy_ips: bool) -> Pool {
    Pool {
        name: name.to_owned(),
        labels: BTreeMap::new(),
        ranges: ranges.iter().map(|range| range.parse().unwrap()).collect(),
        auto_assign,
        avoid_buggy_ips,
        allocation: None,
    }
}

/// Two configurations to switch between: the second shrinks pool a, drops pool m, renames
/// pool b to c and lets it serve every namespace.
fn config(variant: u8) -> BTreeMap<String, Pool> {
    let only_ns1 = Allocation {
        priority: Some(1),
        namespaces: vec!["ns1".into()],
        namespace_selectors: Vec::new(),
        service_selectors: Vec::new(),
    };
    let list = if variant == 0 {
        vec![
            pool("a", &["10.0.0.0/29", "2001:db8::/126"], true, false),
            Pool { allocation: Some(only_ns1), ..pool("b", &["10.0.0.255-10.0.1.2"], true, true) },
            pool("m", &["10.0.2.0/30", "2001:db8:2::/127"], false, false),
        ]
    } else {
        vec![
            pool("a", &["10.0.0.0/30", "2001:db8::/127"], true, true),
            pool("c", &["10.0.0.255-10.0.1.2"], true, false),
        ]
    };
    list.into_iter().map(|pool| (pool.name.clone(), pool)).collect()
}

fn ports() -> [Port; 3] {
    [Port::tcp(80), Port::tcp(443), Port::udp(53)]
}

const ADDRESSES: [&str; 8] =
    ["10.0.0.1", "10.0.0.0", "10.0.1.0", "10.0.1.1", "10.0.2.1", "2001:db8::1", "2001:db8:2::", "192.0.2.1"];

fn spec() -> impl Strategy<Value = ServiceSpec> {
    let names = (0..2usize, 0..4usize);
    let sharing = (prop::option::of(0..2usize), prop::collection::vec(any::<bool>(), 3), any::<bool>(), 0..2usize);
    let request = (prop::option::of(0..ADDRESSES.len()), prop::option::of(0..4usize), 0..5usize);
    (names, sharing, request).prop_map(
        |((ns, name), (key, with_ports, local, selector), (requested, named, families))| {
            let mut spec = ServiceSpec::new(ServiceKey::new(format!("ns{ns}"), format!("s{name}")));
            spec.request.sharing_key = key.map(|k| SharingKey::new(format!("k{k}")).unwrap());
            spec.ports = ports().iter().zip(with_ports).filter(|(_, on)| *on).map(|(port, _)| *port).collect();
            spec.traffic_policy = if local { TrafficPolicy::Local } else { TrafficPolicy::Cluster };
            std::sync::Arc::make_mut(&mut spec.selector).insert("app".into(), format!("app{selector}"));
            spec.families = [
                IpFamilies::Single(Family::V4),
                IpFamilies::Single(Family::V6),
                IpFamilies::PreferDual(Family::V4),
                IpFamilies::RequireDual(Family::V6),
                IpFamilies::PreferDual(Family::V6),
            ][families];
            if let Some(i) = requested {
                spec.request.requested.push(ADDRESSES[i].parse().unwrap());
            }
            spec.request.pool = named.map(|i| PoolName::new(["a", "b", "c", "m"][i]).unwrap());
            spec
        },
    )
}

#[derive(Debug, Clone)]
enum Op {
    Apply(ServiceSpec),
    Delete(usize, usize),
    Restore(ServiceSpec, usize),
    SetPools(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => spec().prop_map(Op::Apply),
        2 => (0..2usize, 0..4usize).prop_map(|(ns, name)| Op::Delete(ns, name)),
        2 => (spec(), 0..ADDRESSES.len()).prop_map(|(spec, ip)| Op::Restore(spec, ip)),
        1 => (0..2u8).prop_map(Op::SetPools),
    ]
}

/// Whether two Service descriptions may share an address, written out anew from MetalLB's rule.
fn may_share(a: &ServiceSpec, b: &ServiceSpec) -> bool {
    let same_key = a.request.sharing_key.is_some() && a.request.sharing_key == b.request.sharing_key;
    let ports_apart = a.ports.iter().all(|port| !b.ports.contains(port));
    let local = a.traffic_policy == TrafficPolicy::Local || b.traffic_policy == TrafficPolicy::Local;
    let selectors = !local || a.selector == b.selector;
    same_key && ports_apart && selectors
}

/// Every invariant, given the pools in force and the last description of each Service.
fn check(alloc: &Allocator, pools: &BTreeMap<String, Pool>, specs: &BTreeMap<ServiceKey, ServiceSpec>) {
    let mut in_use: BTreeMap<IpAddr, BTreeSet<ServiceKey>> = BTreeMap::new();
    let mut per_pool: BTreeMap<(String, Family), BTreeSet<IpAddr>> = BTreeMap::new();
    for key in alloc.services() {
        let assignments = alloc.addresses(key);
        assert!(!assignments.is_empty(), "{key} is listed but holds nothing");
        let families: BTreeSet<Family> = assignments.iter().map(|a| Family::of(a.ip)).collect();
        assert_eq!(families.len(), assignments.len(), "{key} holds two addresses of one family");
        for assignment in assignments {
            let pool = &pools[assignment.pool.as_str()];
            assert!(pool.ranges.iter().any(|range| range.contains(assignment.ip)), "{key}: {assignment:?}");
            assert!(!(pool.avoid_buggy_ips && is_buggy_v4(assignment.ip)), "{key}: avoided {}", assignment.ip);
            in_use.entry(assignment.ip).or_default().insert(key.clone());
            per_pool.entry((pool.name.clone(), Family::of(assignment.ip))).or_default().insert(assignment.ip);
        }
    }
    for (ip, users) in &in_use {
        assert_eq!(alloc.users(*ip), users.iter().cloned().collect::<Vec<_>>(), "{ip}");
        for a in users {
            for b in users.iter().filter(|b| *b > a) {
                assert!(may_share(&specs[a], &specs[b]), "{ip} is held by {a} and {b}, which may not share it");
            }
        }
    }
    for (name, pool) in pools {
        let usage = alloc.usage(name).unwrap();
        for family in [Family::V4, Family::V6] {
            let ranges = pool.ranges.iter().filter(|range| range.family() == family);
            let size: u128 = ranges.clone().map(|range| range.len()).sum();
            let avoided = if pool.avoid_buggy_ips { ranges.flat_map(buggy_v4_in).count() as u128 } else { 0 };
            let assigned = per_pool.get(&(name.clone(), family)).map_or(0, BTreeSet::len) as i64;
            let counters = usage.of(family);
            assert_eq!(counters.assigned, assigned, "{name} {family} assigned");
            assert_eq!(counters.available as u128, size - avoided - assigned as u128, "{name} {family} available");
        }
    }
}

/// Refusals made before anything changes.
fn refused_up_front(reason: &Refused) -> bool {
    matches!(
        reason,
        Refused::InvalidRequest { .. } | Refused::TwoAddressesOneFamily { .. } | Refused::FamilyNotWanted { .. }
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_keep_every_invariant(ops in prop::collection::vec(op(), 1..40)) {
        let mut pools = config(0);
        let mut alloc = Allocator::new(&pools);
        let mut specs: BTreeMap<ServiceKey, ServiceSpec> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Apply(spec) => match alloc.apply(&spec) {
                    Ok(applied) => {
                        specs.insert(spec.key.clone(), spec.clone());
                        prop_assert_eq!(alloc.apply(&spec), Ok(applied));
                    }
                    Err(reason) if refused_up_front(&reason) => {}
                    Err(_) => {
                        specs.insert(spec.key.clone(), spec.clone());
                        prop_assert!(alloc.addresses(&spec.key).is_empty());
                    }
                },
                Op::Delete(ns, name) => {
                    let key = ServiceKey::new(format!("ns{ns}"), format!("s{name}"));
                    alloc.delete(&key);
                    prop_assert!(alloc.addresses(&key).is_empty());
                }
                Op::Restore(spec, ip) => {
                    alloc.restore(&spec, &[ADDRESSES[ip].parse().unwrap()]);
                    specs.insert(spec.key.clone(), spec);
                }
                Op::SetPools(variant) => {
                    pools = config(variant);
                    alloc.set_pools(&pools);
                }
            }
            check(&alloc, &pools, &specs);
        }
        let keys: Vec<ServiceKey> = alloc.services().cloned().collect();
        for key in keys {
            alloc.delete(&key);
        }
        for name in pools.keys() {
            let usage = alloc.usage(name).unwrap();
            prop_assert_eq!((usage.v4.assigned, usage.v6.assigned), (0, 0));
        }
    }
}
