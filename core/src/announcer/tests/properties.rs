//! Properties of the Layer2 ranking: membership changes move only what they must, addresses
//! spread evenly; and a rough timing at scale (ignored; run by hand with --release).

use std::net::Ipv6Addr;

use proptest::prelude::*;

use super::*;

/// A world of `nodes` nodes (n0..), each address its own Cluster Service with an endpoint,
/// one L2Advertisement over a big pool, with preferred weights `(weight, node index)`.
fn ring(nodes: usize, addresses: &[IpAddr], preferred: &[(i32, usize)]) -> World {
    let mut world = World::new();
    world.config.pools.clear();
    let big = pool("big", &["198.51.100.0/24", "203.0.113.0/24", "2001:db8:1::/112"]);
    world.config.pools.insert("big".into(), big);
    let mut ad = l2("l2", &["big"]);
    for (weight, n) in preferred {
        ad.preferred.push((*weight, sel(&[("kubernetes.io/hostname", &format!("n{n}"))])));
    }
    world.config.l2_advertisements = vec![ad];
    world.nodes = (0..nodes).map(|n| node(&format!("n{n}"))).collect();
    world.members.alive = (0..nodes).map(|n| format!("n{n}")).collect();
    world.me = "n0".into();
    for (i, address) in addresses.iter().enumerate() {
        let text = address.to_string();
        let service = svc(&format!("s{i}"), &[text.as_str()]);
        world = world.service(service, vec![EndpointView { node: None, ready: true, serving: true }]);
    }
    world
}

/// Owner of every address, as the verdicts say.
fn owners(world: &World) -> BTreeMap<IpAddr, String> {
    let decision = world.announcer().decide_layer2();
    decision
        .verdicts
        .values()
        .flatten()
        .filter_map(|v| match &v.outcome {
            Layer2Outcome::Announced(o) => Some((v.address, o.owner.clone())),
            Layer2Outcome::NotAnnounced(_) => None,
        })
        .collect()
}

fn v4(i: u32) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(198, 51, 100, 0)) + (i % 256)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_node_leaving_moves_only_its_addresses(
        nodes in 2usize..7,
        picks in proptest::collection::btree_set(0u32..256, 1..40),
        preferred in proptest::collection::vec((1i32..5, 0usize..7), 0..3),
        leaver in 0usize..7,
    ) {
        let leaver = leaver % nodes;
        let addresses: Vec<IpAddr> = picks.into_iter().map(v4).collect();
        let before = owners(&ring(nodes, &addresses, &preferred));
        // Seen from a node that stays.
        let stayer = format!("n{}", (leaver + 1) % nodes);
        let after = owners(&ring(nodes, &addresses, &preferred).me(&stayer).dead(&format!("n{leaver}")));
        prop_assert_eq!(before.len(), addresses.len());
        prop_assert_eq!(after.len(), addresses.len());
        let gone = format!("n{leaver}");
        for (address, owner) in &before {
            let new_owner = after.get(address).unwrap();
            if *owner == gone {
                prop_assert_ne!(new_owner, &gone);
            } else {
                prop_assert_eq!(new_owner, owner, "{} moved though its owner stayed", address);
            }
        }
    }

    #[test]
    fn a_node_joining_takes_only_addresses_it_now_wins(
        nodes in 1usize..6,
        picks in proptest::collection::btree_set(0u32..256, 1..40),
    ) {
        let addresses: Vec<IpAddr> = picks.into_iter().map(v4).collect();
        let before = owners(&ring(nodes, &addresses, &[]));
        let after = owners(&ring(nodes + 1, &addresses, &[]));
        let joiner = format!("n{nodes}");
        for (address, owner) in &before {
            let new_owner = after.get(address).unwrap();
            prop_assert!(new_owner == owner || *new_owner == joiner, "{} moved from {} to {}", address, owner, new_owner);
        }
    }
}

#[test]
fn three_hundred_addresses_spread_evenly_over_three_nodes() {
    let addresses: Vec<IpAddr> =
        (0..300u32).map(|i| if i < 256 { v4(i) } else { ip(&format!("203.0.113.{}", i - 256)) }).collect();
    let owners = owners(&ring(3, &addresses, &[]));
    assert_eq!(owners.len(), 300);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for owner in owners.values() {
        *counts.entry(owner.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), 3, "{counts:?}");
    for (node, count) in &counts {
        assert!((85..=115).contains(count), "{node} owns {count} of 300: {counts:?}");
    }
}

/// Rough timing: `cargo test -p ferrolb-speaker --lib --release -- --ignored --nocapture decide_at_scale`.
#[test]
#[ignore = "a timing to run by hand with --release, not a test"]
fn decide_at_scale() {
    let mut world = World::new();
    world.config.pools.clear();
    world.config.l2_advertisements.clear();
    // Many pools and advertisements, so that a scan of all advertisements per address would show.
    for p in 0..50u16 {
        let name = format!("p{p}");
        let range = format!("2001:db8:{:x}::/112", 0x200 + p);
        world.config.pools.insert(name.clone(), pool(&name, &[&range]));
        let mut ad = l2(&format!("l2-{p}"), &[&name]);
        ad.preferred.push((1, sel(&[("kubernetes.io/hostname", "n2")])));
        world.config.l2_advertisements.push(ad);
        let mut bgp = bgp_adv(&format!("bgp-{p}"), &[&name]);
        bgp.communities = vec![community(64600, p)];
        world.config.bgp_advertisements.push(bgp);
    }
    world.config.peers = [("p1".to_string(), peer("p1")), ("p2".to_string(), peer("p2"))].into();
    for i in 0..10_000u32 {
        let p = i % 50;
        let address = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x200 + p as u16, 0, 0, 0, 0, (i / 50) as u16 + 1));
        let mut service = svc(&format!("s{i}"), &[]);
        service.addresses = vec![address];
        service.pools = vec![format!("p{p}")];
        world = if i % 2 == 0 {
            world.everywhere(service)
        } else {
            world.service(local(service), vec![ep(&format!("n{}", 1 + i % 3), true, true)])
        };
    }
    let announcer = world.announcer();
    let decision = announcer.decide();
    assert_eq!(decision.bgp.verdicts.len(), 10_000);
    let owned = decision.layer2.owned.len();
    // The machine is shared: the best of ten rounds says more than their mean.
    let best = |f: &dyn Fn()| {
        (0..10)
            .map(|_| {
                let start = std::time::Instant::now();
                f();
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let both = best(&|| drop(std::hint::black_box(announcer.decide())));
    let layer2 = best(&|| drop(std::hint::black_box(announcer.decide_layer2())));
    let bgp = best(&|| drop(std::hint::black_box(announcer.decide_bgp())));
    println!(
        "10000 Services, 3 nodes, 50 pools, best of 10: decide() {both:?} = layer2 {layer2:?} + bgp {bgp:?}; n1 owns {owned}"
    );
}

/// Without reasons (the speaker's setting) a decision announces exactly the same, and keeps
/// only the verdicts of what this node advertises.
#[test]
fn without_reasons_the_same_is_announced_and_only_advertised_verdicts_are_kept() {
    let mut world = World::new();
    world.config.pools.clear();
    world.config.l2_advertisements.clear();
    for p in 0..4u16 {
        let name = format!("p{p}");
        world.config.pools.insert(name.clone(), pool(&name, &[&format!("2001:db8:{:x}::/112", 0x200 + p)]));
        // Pools 0 and 1 are Layer2, 1 and 2 BGP, 3 neither.
        if p < 2 {
            world.config.l2_advertisements.push(l2(&format!("l2-{p}"), &[&name]));
        }
        if p == 1 || p == 2 {
            world.config.bgp_advertisements.push(bgp_adv(&format!("bgp-{p}"), &[&name]));
        }
    }
    world.config.peers = [("p1".to_string(), Peer { dual_stack: true, ..peer("p1") })].into();
    for i in 0..200u32 {
        let p = (i % 4) as u16;
        let address = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x200 + p, 0, 0, 0, 0, i as u16 + 1));
        let mut service = svc(&format!("s{i}"), &[]);
        service.addresses = vec![address];
        service.pools = vec![format!("p{p}")];
        world = match i % 3 {
            0 => world.everywhere(service),
            // Local, with its endpoint on some node (this one for a third of them).
            1 => world.service(local(service), vec![ep(&format!("n{}", 1 + i % 3), true, true)]),
            // No endpoint at all.
            _ => world.service(service, vec![]),
        };
    }
    let full = world.announcer().decide();
    let mut lean = world.announcer();
    lean.keep_reasons(false);
    let lean = lean.decide();

    assert_eq!(lean.layer2.owned, full.layer2.owned);
    assert!(!full.layer2.owned.is_empty(), "the world announces something in Layer2");
    assert!(lean.layer2.verdicts.is_empty());
    assert_eq!(lean.bgp.desired, full.bgp.desired);
    let advertised: BTreeMap<ServiceKey, Vec<BgpVerdict>> = full
        .bgp
        .verdicts
        .iter()
        .map(|(k, v)| {
            let kept: Vec<BgpVerdict> =
                v.iter().filter(|v| matches!(v.outcome, BgpOutcome::Advertised { .. })).cloned().collect();
            (k.clone(), kept)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    assert!(!advertised.is_empty() && advertised.len() < full.bgp.verdicts.len(), "some advertised, some not");
    assert_eq!(lean.bgp.verdicts, advertised);
}
