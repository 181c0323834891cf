//! What the validated configuration holds: references resolved, passwords read, durations
//! parsed; that a refused object changes nothing else; that the older of two colliding objects
//! wins whatever order they are given in; and that messages read as sentences.

// Test helpers may unwrap: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

mod config_builders;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use config_builders::*;
use ferrolb_core::addresses::AddressRange;
use ferrolb_core::config::{Allocation, Bfd, CommunityValue, Objects, PeerAsn, Verdicts};
use ferrolb_crds::{DynamicAsn, ServiceAllocation};

fn range(text: &str) -> AddressRange {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A configuration where every object is valid, touching every kind.
fn valid() -> Objects {
    objs![
        pool("bgp", &["203.0.113.0/24", "2001:db8:100::/120"]).labels(&[("mode", "bgp")]).created(1),
        pool("l2", &["198.51.100.200-198.51.100.250", "2001:db8:1::200-2001:db8:1::2ff"]).created(2),
        pool("spare", &["192.0.2.0/28"]).labels(&[("mode", "bgp")]).with(|s| s.auto_assign = false).created(3),
        l2("lab", &["l2"]).with(|s| s.interfaces = strings(&["eth0"])).created(1),
        bgp("routes", &[])
            .with(|s| {
                s.ip_address_pool_selectors = vec![sel(&[("mode", "bgp")])];
                s.communities = strings(&["no-export", "64512:7"]);
                s.local_pref = Some(100);
            })
            .created(1),
        peer("router", 64512, "198.51.100.1")
            .with(|s| {
                s.bfd_profile = Some("fast".into());
                s.password_secret = secret_ref("md5", None);
            })
            .created(1),
        bfd("fast").created(1),
        community("names", &[("no-export", "65535:65281")]).created(1),
        basic_auth("md5", "s3cret"),
    ]
}

fn all_accepted(objects: &Objects, verdicts: &Verdicts) {
    for object in all_refs(objects) {
        assert!(verdicts.accepted(&object), "{object}: {:?}", verdicts.problems(&object));
    }
}

#[test]
fn a_refused_object_leaves_the_rest_of_the_config_alone() {
    let good = valid();
    let (config, verdicts) = build(&good);
    all_accepted(&good, &verdicts);

    let mut with_bad = valid();
    with_bad.pools.push(pool("overlaps", &["203.0.113.128/25"]).created(9));
    with_bad.pools.push(pool("broken", &["nonsense"]));
    with_bad.peers.push(peer("no-asn", 64513, "198.51.100.9").with(|s| s.peer_asn = None));
    with_bad.peers.push(peer("twin", 64513, "198.51.100.1").created(9));
    with_bad.bfd_profiles.push(bfd("slow").with(|s| s.receive_interval = 1));
    with_bad.communities.push(community("clash", &[("no-export", "1:1")]).created(9));
    with_bad.l2_advertisements.push(l2("dangling", &["broken"]));
    with_bad.bgp_advertisements.push(bgp("lonely", &["bgp"]).with(|s| s.peers = strings(&["no-asn"])));
    with_bad.bgp_advertisements.push(bgp("other-pref", &[]).with(|s| s.local_pref = Some(50)).created(9));
    let (config_with_bad, verdicts_with_bad) = build(&with_bad);

    assert_eq!(config_with_bad, config, "the refused objects changed the configuration");
    all_accepted(&good, &verdicts_with_bad);
    let refused = [
        pool_ref("overlaps"),
        pool_ref("broken"),
        peer_ref("no-asn"),
        peer_ref("twin"),
        bfd_ref("slow"),
        community_ref("clash"),
        l2_ref("dangling"),
        bgp_ref("lonely"),
        bgp_ref("other-pref"),
    ];
    for object in refused {
        assert!(!verdicts_with_bad.accepted(&object), "{object} is refused");
    }
}

#[test]
fn the_older_object_wins_whatever_the_input_order() {
    let objects = objs![
        pool("a", &["203.0.113.0/24"]).created(10),
        pool("b", &["203.0.113.0/25"]).created(20),
        pool("c", &["203.0.113.128/25", "192.0.2.0/24"]).created(5),
        pool("d", &["192.0.2.128/25"]).created(30),
        peer("p1", 64512, "198.51.100.1").created(2),
        peer("p2", 64513, "198.51.100.1").created(1),
        community("x", &[("tag", "1:1")]).created(2),
        community("y", &[("tag", "1:2")]).created(1),
        bgp("l1", &[]).with(|s| s.local_pref = Some(1)).created(2),
        bgp("l2", &[]).with(|s| s.local_pref = Some(2)).created(1),
    ];
    let (config, verdicts) = build(&objects);
    // c (oldest) takes 203.0.113.128/25, so a overlaps it; b, created after a was refused, is free.
    let accepted: Vec<String> =
        verdicts.problems.iter().filter(|(_, p)| p.is_empty()).map(|(o, _)| o.to_string()).collect();
    assert_eq!(
        accepted,
        ["IPAddressPool b", "IPAddressPool c", "BGPAdvertisement l2", "BGPPeer p2", "Community y"],
        "{verdicts:#?}"
    );
    assert_eq!(
        problems_of(&verdicts, &pool_ref("a")),
        [problem_with("spec.addresses[0]", ferrolb_core::config::Reason::AddressesOverlap, pool_ref("c"))]
    );
    assert_eq!(
        problems_of(&verdicts, &pool_ref("d")),
        [problem_with("spec.addresses[0]", ferrolb_core::config::Reason::AddressesOverlap, pool_ref("c"))]
    );

    let reorderings: [fn(&mut Objects); 2] = [
        |o| {
            o.pools.reverse();
            o.peers.reverse();
            o.communities.reverse();
            o.bgp_advertisements.reverse();
        },
        |o| {
            o.pools.rotate_left(1);
            o.peers.swap(0, 1);
        },
    ];
    for reorder in reorderings {
        let mut shuffled = objects.clone();
        reorder(&mut shuffled);
        let (other_config, other_verdicts) = build(&shuffled);
        assert_eq!(other_verdicts, verdicts);
        assert_eq!(other_config, config);
    }
}

#[test]
fn pools_hold_their_ranges_labels_and_allocation() {
    let objects = objs![
        pool("p", &["203.0.113.7/24", "198.51.100.200 - 198.51.100.250", "2001:db8:1::200-2001:db8:1::2ff"])
            .labels(&[("tier", "gold")])
            .with(|s| {
                s.auto_assign = false;
                s.avoid_buggy_ips = true;
                s.service_allocation = Some(ServiceAllocation {
                    priority: Some(3),
                    namespaces: strings(&["web"]),
                    namespace_selectors: vec![sel(&[("team", "a")])],
                    service_selectors: vec![],
                });
            }),
        pool("q", &["192.0.2.0/28"]),
    ];
    let (config, _) = build(&objects);
    assert_eq!(config.pools.keys().collect::<Vec<_>>(), ["p", "q"]);
    let p = &config.pools["p"];
    assert_eq!(p.name, "p");
    assert_eq!(
        p.ranges,
        [range("203.0.113.0/24"), range("198.51.100.200-198.51.100.250"), range("2001:db8:1::200/120")]
    );
    assert_eq!(p.labels, BTreeMap::from([("tier".to_owned(), "gold".to_owned())]));
    assert!(!p.auto_assign);
    assert!(p.avoid_buggy_ips);
    assert_eq!(
        p.allocation,
        Some(Allocation {
            priority: Some(3),
            namespaces: strings(&["web"]),
            namespace_selectors: vec![sel(&[("team", "a")])],
            service_selectors: vec![],
        })
    );
    let q = &config.pools["q"];
    assert!(q.auto_assign && !q.avoid_buggy_ips && q.allocation.is_none() && q.labels.is_empty());
}

#[test]
fn advertisements_cover_pools_named_selected_or_all() {
    let objects = objs![
        pool("a", &["203.0.113.0/28"]).labels(&[("zone", "east")]).created(1),
        pool("b", &["203.0.113.16/28"]).created(1),
        pool("c", &["203.0.113.32/28"]).labels(&[("zone", "west")]).created(1),
        pool("refused", &["203.0.113.0/24"]).created(99),
        l2("all", &[]),
        l2("named", &["b"]),
        l2("both", &["b"])
            .with(|s| s.ip_address_pool_selectors = vec![sel(&[("zone", "east")]), sel(&[("zone", "west")])]),
        l2("none-yet", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("zone", "north")])]),
        l2("prefers", &[]).with(|s| {
            s.node_selectors = vec![sel(&[("role", "edge")])];
            s.preferred_node_selectors =
                vec![ferrolb_crds::PreferredNodeSelector { weight: 10, preference: sel(&[("rack", "1")]) }];
        }),
        bgp("selected", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("zone", "west")])]),
    ];
    let (config, verdicts) = build(&objects);
    assert!(!verdicts.accepted(&pool_ref("refused")));
    let l2_pools: Vec<(&str, Vec<&str>)> = config
        .l2_advertisements
        .iter()
        .map(|a| (a.name.as_str(), a.pools.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        l2_pools,
        [
            ("all", vec!["a", "b", "c"]),
            ("both", vec!["a", "b", "c"]),
            ("named", vec!["b"]),
            ("none-yet", vec![]),
            ("prefers", vec!["a", "b", "c"]),
        ]
    );
    let prefers = &config.l2_advertisements[4];
    assert_eq!(prefers.node_selectors, [sel(&[("role", "edge")])]);
    assert_eq!(prefers.preferred, [(10, sel(&[("rack", "1")]))]);
    assert_eq!(config.bgp_advertisements[0].pools, ["c"]);
}

#[test]
fn bgp_advertisements_resolve_communities_and_peers() {
    let objects = objs![
        pool("p", &["203.0.113.0/24"]),
        peer("z-router", 64512, "198.51.100.1"),
        peer("a-router", 64512, "198.51.100.2"),
        community("names", &[("no-export", "65535:65281"), ("big", "large:64512:1:2")]),
        community("more", &[("blackhole", "65535:666")]),
        bgp("b", &["p"]).with(|s| {
            s.communities = strings(&["no-export", "65535:65281", "big", "blackhole", "1:2", "large:1:2:3"]);
            s.peers = strings(&["z-router", "a-router"]);
            s.aggregation_length = 24;
            s.local_pref = Some(150);
            s.node_selectors = vec![sel(&[("zone", "a")])];
        }),
        bgp("a", &[]),
    ];
    let (config, _) = build(&objects);
    assert_eq!(config.bgp_advertisements.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let b = &config.bgp_advertisements[1];
    assert_eq!(
        b.communities,
        [
            CommunityValue::Standard(1, 2),
            CommunityValue::Standard(65535, 666),
            CommunityValue::Standard(65535, 65281),
            CommunityValue::Large(1, 2, 3),
            CommunityValue::Large(64512, 1, 2),
        ]
    );
    assert_eq!(b.peers, ["a-router", "z-router"]);
    assert_eq!((b.aggregation_length, b.aggregation_length_v6, b.local_pref), (24, 128, Some(150)));
    assert_eq!(b.node_selectors, [sel(&[("zone", "a")])]);
    let a = &config.bgp_advertisements[0];
    assert!(a.peers.is_empty() && a.communities.is_empty() && a.local_pref.is_none());
    assert_eq!(a.pools, ["p"]);
    assert_eq!(
        config.communities,
        BTreeMap::from([
            ("big".to_owned(), CommunityValue::Large(64512, 1, 2)),
            ("blackhole".to_owned(), CommunityValue::Standard(65535, 666)),
            ("no-export".to_owned(), CommunityValue::Standard(65535, 65281)),
        ])
    );
}

#[test]
fn peers_resolve_password_bfd_and_timers() {
    let objects = objs![
        peer("secret", 64512, "198.51.100.1").with(|s| {
            s.password_secret = secret_ref("md5", Some("net"));
            s.bfd_profile = Some("fast".into());
            s.hold_time = Some("1m30s".into());
            s.keepalive_time = Some("30s".into());
            s.connect_time = Some("2s".into());
            s.router_id = Some("10.0.0.1".into());
            s.source_address = Some("198.51.100.11".into());
            s.ebgp_multi_hop = true;
            s.vrf = Some("red".into());
            s.peer_port = 1179;
            s.local_asn = Some(4_200_000_001);
        }),
        peer("inline", 64600, "2001:db8::1").with(|s| s.password = Some("clear".into())),
        dynamic_peer("dynamic", DynamicAsn::External, "::ffff:198.51.100.3").with(|s| s.vrf = Some(String::new())),
        secret("net", "md5", "kubernetes.io/basic-auth", Some("from-secret")),
        bfd("fast").with(|s| {
            s.passive_mode = true;
            s.detect_multiplier = 5;
        }),
    ];
    let (config, verdicts) = build(&objects);
    all_accepted(&objects, &verdicts);
    let peer = &config.peers["secret"];
    assert_eq!(peer.password.as_deref(), Some("from-secret"));
    assert_eq!(
        peer.bfd,
        Some(Bfd {
            name: "fast".into(),
            receive_interval_ms: 300,
            transmit_interval_ms: 300,
            detect_multiplier: 5,
            echo_interval_ms: 50,
            echo_mode: false,
            passive_mode: true,
            minimum_ttl: 254,
        })
    );
    assert_eq!(peer.bfd.as_ref(), config.bfd_profiles.get("fast"));
    assert_eq!(peer.hold_time, Some(Duration::from_secs(90)));
    assert_eq!(peer.keepalive_time, Some(Duration::from_secs(30)));
    assert_eq!(peer.connect_time, Some(Duration::from_secs(2)));
    assert_eq!(peer.router_id, Some("10.0.0.1".parse().unwrap()));
    assert_eq!((peer.address, peer.source_address, peer.port), (ip("198.51.100.1"), Some(ip("198.51.100.11")), 1179));
    assert_eq!((peer.my_asn, peer.peer_asn, peer.local_asn), (64600, PeerAsn::Fixed(64512), Some(4_200_000_001)));
    assert_eq!(peer.session_asn(), 4_200_000_001);
    assert!(peer.ebgp_multi_hop);
    assert_eq!(peer.vrf.as_deref(), Some("red"));

    let inline = &config.peers["inline"];
    assert_eq!(inline.password.as_deref(), Some("clear"));
    assert_eq!(inline.peer_asn, PeerAsn::Fixed(64600));
    assert_eq!((inline.local_asn, inline.session_asn()), (None, 64600));
    assert_eq!(
        (inline.hold_time, inline.keepalive_time, inline.connect_time, inline.bfd.as_ref()),
        (None, None, None, None)
    );

    let dynamic = &config.peers["dynamic"];
    assert_eq!(dynamic.peer_asn, PeerAsn::DynamicExternal);
    assert_eq!(dynamic.address, ip("198.51.100.3"), "an IPv4-mapped address is read as IPv4, as Go reads it");
    assert_eq!((dynamic.password.as_deref(), dynamic.vrf.as_deref()), (None, None));
}

#[test]
fn messages_read_as_sentences() {
    let objects = objs![
        pool("a", &["203.0.113.0/24"]).created(1),
        pool("b", &["203.0.113.128/25"]).created(2),
        pool("c", &["192.0.2.0/24", "192.0.2.10-192.0.2.20"]).created(3),
        l2("l", &["b", "gone"]),
        bgp("agg", &["a"]).with(|s| s.aggregation_length = 16),
        bgp("comm", &["a"]).with(|s| s.communities = strings(&["blackhole"])),
        community("old", &[("tag", "1:1")]).created(1),
        community("new", &[("tag", "1:2")]).created(2),
        peer("r", 64512, "198.51.100.1").with(|s| {
            s.password_secret = secret_ref("md5", None);
            s.hold_time = Some("2s".into());
        }),
        secret(OWN_NAMESPACE, "md5", "Opaque", Some("x")),
    ];
    let (_, verdicts) = build(&objects);
    let cases = [
        (pool_ref("b"), vec!["203.0.113.128/25 overlaps 203.0.113.0/24 of IPAddressPool a, which was created first"]),
        (pool_ref("c"), vec!["192.0.2.10-192.0.2.20 overlaps entry [0] of the same pool, 192.0.2.0/24"]),
        (
            l2_ref("l"),
            vec!["names IPAddressPool b, which is not accepted", "names IPAddressPool gone, which does not exist"],
        ),
        (
            bgp_ref("agg"),
            vec![
                "16 is shorter than /24, the prefix of 203.0.113.0/24 in entry 203.0.113.0/24 of IPAddressPool a; a /16 \
                 route would claim addresses outside the pool",
            ],
        ),
        (bgp_ref("comm"), vec!["names community blackhole, which no Community defines"]),
        (
            community_ref("new"),
            vec![
                "defines tag as 1:2, but Community old, which was created first, already defines it (as 1:1); a name \
                 may be defined once",
            ],
        ),
        (
            peer_ref("r"),
            vec![
                "2s is neither under 1s (0: no keepalives) nor at least 3s",
                "Secret ferrolb-system/md5 is of type Opaque; it must be of type kubernetes.io/basic-auth",
            ],
        ),
    ];
    for (object, want) in cases {
        assert_eq!(messages_of(&verdicts, &object), want, "{object}");
    }
    let problem = &verdicts.problems(&pool_ref("b"))[0];
    assert_eq!(
        problem.to_string(),
        "spec.addresses[0]: 203.0.113.128/25 overlaps 203.0.113.0/24 of IPAddressPool a, which was created first"
    );
}

#[test]
fn thousands_of_pools_validate_quickly() {
    let pools = (0..5000u32).map(|i| {
        let base = 0x0a00_0000 + i * 16;
        let net = std::net::Ipv4Addr::from_bits(base);
        pool(&format!("pool-{i:04}"), &[&format!("{net}/28")]).created(i64::from(i))
    });
    let mut objects = objects(pools.map(Any::from).collect());
    // One more that overlaps the very first pool, and advertisements over everything.
    objects.pools.push(pool("late", &["10.0.0.8/29"]).created(10_000));
    objects.l2_advertisements.push(l2("all", &[]));
    objects.bgp_advertisements.push(bgp("all", &[]).with(|s| s.aggregation_length = 28));
    let started = Instant::now();
    let (config, verdicts) = build(&objects);
    let took = started.elapsed();
    assert_eq!(config.pools.len(), 5000);
    assert_eq!(verdicts.problems(&pool_ref("late")).len(), 1);
    assert_eq!(config.l2_advertisements[0].pools.len(), 5000);
    assert_eq!(config.bgp_advertisements[0].pools.len(), 5000);
    assert!(took < Duration::from_millis(800), "5,000 pools took {took:?}");
}
