//! BGP: candidacy of this node, peers, aggregation, attribute merging.

use super::*;

const B: &str = "203.0.113.77";

fn prefix(text: &str) -> Prefix {
    let (network, length) = text.split_once('/').unwrap();
    Prefix::new(ip(network), length.parse().unwrap()).unwrap()
}

fn attrs(local_pref: Option<u32>, communities: &[CommunityValue]) -> RouteAttributes {
    RouteAttributes { local_pref, communities: communities.iter().copied().collect() }
}

fn agg(mut ad: BgpAdvertisement, v4: u8, v6: u8) -> BgpAdvertisement {
    ad.aggregation_length = v4;
    ad.aggregation_length_v6 = v6;
    ad
}

fn to_peers(mut ad: BgpAdvertisement, peers: &[&str]) -> BgpAdvertisement {
    ad.peers = peers.iter().map(|p| (*p).to_string()).collect();
    ad
}

fn peer_on(mut p: Peer, node: &str) -> Peer {
    p.node_selectors.push(sel(&[("kubernetes.io/hostname", node)]));
    p
}

fn desired(world: &World) -> BTreeMap<String, BTreeMap<Prefix, RouteAttributes>> {
    world.announcer().decide_bgp().desired
}

fn outcome(world: &World, name: &str) -> BgpOutcome {
    world.announcer().decide_bgp().verdicts[&key(name)][0].outcome.clone()
}

#[test]
fn prefixes_mask_to_the_aggregation_length() {
    let cases = [
        ("203.0.113.77", 32, "203.0.113.77/32"),
        ("203.0.113.77", 24, "203.0.113.0/24"),
        ("203.0.113.77", 25, "203.0.113.0/25"),
        ("203.0.113.200", 25, "203.0.113.128/25"),
        ("203.0.113.77", 0, "0.0.0.0/0"),
        ("203.0.113.77", 40, "203.0.113.77/32"),
        ("2001:db8:100::42", 128, "2001:db8:100::42/128"),
        ("2001:db8:100::42", 120, "2001:db8:100::/120"),
        ("2001:db8:100::1:42", 64, "2001:db8:100::/64"),
        ("2001:db8:100::42", 0, "::/0"),
        ("2001:db8:100::42", 200, "2001:db8:100::42/128"),
    ];
    for (address, length, expected) in cases {
        let got = Prefix::covering(ip(address), length);
        assert_eq!(got, prefix(expected), "{address}/{length}");
        assert_eq!(got.to_string(), expected);
    }
}

#[test]
fn aggregation_v4_and_v6_in_the_desired_set() {
    let world = World::new()
        .everywhere(svc("web", &[B, "2001:db8:100::42"]))
        .bgp(vec![agg(bgp_adv("ads", &["bgp", "bgp6"]), 24, 120)], vec![Peer { dual_stack: true, ..peer("p1") }]);
    let routes = desired(&world);
    let expected: BTreeMap<Prefix, RouteAttributes> =
        [(prefix("203.0.113.0/24"), attrs(None, &[])), (prefix("2001:db8:100::/120"), attrs(None, &[]))].into();
    assert_eq!(routes, [("p1".to_string(), expected)].into());
}

#[test]
fn a_peer_gets_its_own_family_unless_dual_stack() {
    const V6: &str = "2001:db8:100::42";
    let v6_peer = |name: &str| Peer { address: ip("2001:db8:1::1"), ..peer(name) };
    let world = World::new().everywhere(svc("web", &[B, V6])).bgp(
        vec![bgp_adv("ads", &["bgp", "bgp6"])],
        vec![peer("v4"), v6_peer("v6"), Peer { dual_stack: true, ..peer("dual") }],
    );
    let host = |a: &str| (Prefix::covering(ip(a), 128), attrs(None, &[]));
    let expected: BTreeMap<String, BTreeMap<Prefix, RouteAttributes>> = [
        ("dual".to_string(), [host(B), host(V6)].into()),
        ("v4".to_string(), [host(B)].into()),
        ("v6".to_string(), [host(V6)].into()),
    ]
    .into();
    assert_eq!(desired(&world), expected);
    let verdicts = &world.announcer().decide_bgp().verdicts[&key("web")];
    let peers_of = |i: usize| match &verdicts[i].outcome {
        BgpOutcome::Advertised { peers, .. } => peers.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!((peers_of(0), peers_of(1)), (vec!["dual".into(), "v4".into()], vec!["dual".into(), "v6".into()]));

    // Only an IPv4 peer: the IPv6 address goes nowhere, and the reason says why.
    let world =
        World::new().everywhere(svc("web", &[B, V6])).bgp(vec![bgp_adv("ads", &["bgp", "bgp6"])], vec![peer("v4")]);
    let verdicts = &world.announcer().decide_bgp().verdicts[&key("web")];
    let BgpOutcome::NotAdvertised(reason) = &verdicts[1].outcome else { panic!("{verdicts:?}") };
    assert!(reason.to_string().contains("carries this address family"), "{reason}");
}

#[test]
fn peers_named_all_and_node_selected() {
    let p = |name: &str| peer(name);
    let host = |prefix_text: &str| [(prefix(prefix_text), attrs(None, &[]))].into_iter().collect::<BTreeMap<_, _>>();
    let none = BTreeMap::new;
    type Desired = BTreeMap<String, BTreeMap<Prefix, RouteAttributes>>;
    let cases: Vec<(&str, Vec<BgpAdvertisement>, Vec<Peer>, Desired)> = vec![
        (
            "no peers named: every peer",
            vec![bgp_adv("a", &["bgp"])],
            vec![p("p1"), p("p2")],
            [("p1".into(), host("203.0.113.77/32")), ("p2".into(), host("203.0.113.77/32"))].into(),
        ),
        (
            "one peer named: the other gets an empty set",
            vec![to_peers(bgp_adv("a", &["bgp"]), &["p2"])],
            vec![p("p1"), p("p2")],
            [("p1".into(), none()), ("p2".into(), host("203.0.113.77/32"))].into(),
        ),
        (
            "a peer that does not select this node is not ours at all",
            vec![bgp_adv("a", &["bgp"])],
            vec![p("p1"), peer_on(p("p2"), "n2")],
            [("p1".into(), host("203.0.113.77/32"))].into(),
        ),
        (
            "a peer selecting this node",
            vec![bgp_adv("a", &["bgp"])],
            vec![peer_on(p("p1"), "n1")],
            [("p1".into(), host("203.0.113.77/32"))].into(),
        ),
        (
            "two advertisements to two peers with different aggregation",
            vec![to_peers(bgp_adv("a", &["bgp"]), &["p1"]), to_peers(agg(bgp_adv("b", &["bgp"]), 24, 64), &["p2"])],
            vec![p("p1"), p("p2")],
            [("p1".into(), host("203.0.113.77/32")), ("p2".into(), host("203.0.113.0/24"))].into(),
        ),
        ("no peer configured", vec![bgp_adv("a", &["bgp"])], vec![], [].into()),
    ];
    for (name, ads, peers, expected) in cases {
        let world = World::new().everywhere(svc("web", &[B])).bgp(ads, peers);
        assert_eq!(desired(&world), expected, "case: {name}");
    }
}

/// Planned withdrawal: an excluded node (or one whose network is unavailable) keeps its peers,
/// each with nothing to carry, so its sessions stay up and send the withdrawals rather than
/// close (a session closed first would drop the routes only when the router notices).
#[test]
fn an_excluded_node_keeps_its_peers_with_nothing_to_carry() {
    let w = || World::new().bgp(vec![bgp_adv("a", &["bgp"])], vec![peer("p1")]).everywhere(svc("web", &[B]));
    let announced = desired(&w());
    assert_eq!(announced["p1"].len(), 1, "{announced:?}");
    let nothing: BTreeMap<String, BTreeMap<Prefix, RouteAttributes>> = [("p1".to_string(), BTreeMap::new())].into();
    assert_eq!(desired(&w().node_mut("n1", |n| n.excluded = true)), nothing, "excluded");
    assert_eq!(desired(&w().node_mut("n1", |n| n.network_unavailable = true)), nothing, "network unavailable");
}

#[test]
fn candidate_rules_for_this_node() {
    use NodeRejection::*;
    let rejected = |rejection| BgpOutcome::NotAdvertised(Reason::NodeRejected { node: "n1".into(), rejection });
    let advertised = BgpOutcome::Advertised {
        peers: [("p1".to_string(), prefix("203.0.113.77/32"))].into(),
        advertisements: vec!["a".into()],
    };
    let w = || World::new().bgp(vec![bgp_adv("a", &["bgp"])], vec![peer("p1")]);
    let web = || svc("web", &[B]);
    let on_n2 = |mut ad: BgpAdvertisement| {
        ad.node_selectors.push(sel(&[("kubernetes.io/hostname", "n2")]));
        ad
    };
    let cases: Vec<(&str, World, BgpOutcome)> = vec![
        ("every rule passes", w().everywhere(web()), advertised.clone()),
        ("excluded", w().everywhere(web()).node_mut("n1", |n| n.excluded = true), rejected(Excluded)),
        (
            "network unavailable",
            w().everywhere(web()).node_mut("n1", |n| n.network_unavailable = true),
            rejected(NetworkUnavailable),
        ),
        (
            "no Node object for this node",
            {
                let mut x = w().everywhere(web());
                x.nodes.retain(|n| n.name != "n1");
                x
            },
            rejected(UnknownNode),
        ),
        ("Local, endpoint here", w().service(local(web()), vec![ep("n1", true, true)]), advertised.clone()),
        ("Local, endpoint elsewhere", w().service(local(web()), vec![ep("n2", true, true)]), rejected(NoLocalEndpoint)),
        (
            "Local, only serving here and ready elsewhere",
            w().service(local(web()), vec![ep("n1", false, true), ep("n2", true, true)]),
            rejected(NoLocalEndpoint),
        ),
        (
            "Local, serving here and nothing ready",
            w().service(local(web()), vec![ep("n1", false, true)]),
            advertised.clone(),
        ),
        ("no endpoint anywhere: withdrawn", w().service(web(), vec![]), BgpOutcome::NotAdvertised(Reason::NoEndpoints)),
        (
            "nodeSelectors leave this node out",
            w().everywhere(web()).bgp(vec![on_n2(bgp_adv("a", &["bgp"]))], vec![peer("p1")]),
            rejected(NotSelected),
        ),
        ("a dead member does not matter", w().everywhere(web()).dead("n2"), advertised.clone()),
        ("nor does this node's Layer2 health", w().everywhere(web()).dead("n1"), advertised.clone()),
        (
            "serviceSelectors exclude it",
            w().everywhere(web()).bgp(
                vec![{
                    let mut ad = bgp_adv("a", &["bgp"]);
                    ad.service_selectors.push(sel(&[("tier", "web")]));
                    ad
                }],
                vec![peer("p1")],
            ),
            BgpOutcome::NotAdvertised(Reason::ServiceSelectorsExclude {
                pool: "bgp".into(),
                advertisements: vec!["a".into()],
            }),
        ),
        (
            "a Layer2 pool has no BGPAdvertisement",
            w().everywhere(svc("web", &["198.51.100.200"])),
            BgpOutcome::NotAdvertised(Reason::NoAdvertisement { pool: "l2".into() }),
        ),
        (
            "the only peer named does not select this node",
            w().everywhere(web())
                .bgp(vec![to_peers(bgp_adv("a", &["bgp"]), &["p2"])], vec![peer("p1"), peer_on(peer("p2"), "n3")]),
            BgpOutcome::NotAdvertised(Reason::NoPeer { advertisements: vec!["a".into()] }),
        ),
    ];
    for (name, world, expected) in cases {
        assert_eq!(outcome(&world, "web"), expected, "case: {name}");
    }
}

#[test]
fn a_withdrawn_service_leaves_empty_sets() {
    let world = World::new().service(svc("web", &[B]), vec![]).bgp(vec![bgp_adv("a", &["bgp"])], vec![peer("p1")]);
    assert_eq!(desired(&world), [("p1".to_string(), BTreeMap::new())].into());
}

#[test]
fn same_prefix_to_same_peer_merges_attributes() {
    let with = |name: &str, local_pref: Option<u32>, communities: &[CommunityValue]| {
        let mut ad = agg(bgp_adv(name, &["bgp"]), 24, 128);
        ad.local_pref = local_pref;
        ad.communities = communities.to_vec();
        ad
    };
    let large = CommunityValue::Large(64600, 1, 2);
    let cases: Vec<(&str, Vec<BgpAdvertisement>, RouteAttributes)> = vec![
        (
            "one advertisement",
            vec![with("a", Some(100), &[community(64600, 1)])],
            attrs(Some(100), &[community(64600, 1)]),
        ),
        (
            "union of communities, highest localPref",
            vec![with("a", Some(100), &[community(64600, 1)]), with("b", Some(200), &[community(64600, 2), large])],
            attrs(Some(200), &[community(64600, 1), community(64600, 2), large]),
        ),
        (
            "a localPref beats none, whatever the order",
            vec![with("a", None, &[]), with("b", Some(50), &[]), with("c", None, &[community(1, 1)])],
            attrs(Some(50), &[community(1, 1)]),
        ),
        (
            "duplicates collapse",
            vec![with("a", None, &[community(1, 1)]), with("b", None, &[community(1, 1)])],
            attrs(None, &[community(1, 1)]),
        ),
    ];
    for (name, ads, expected) in cases {
        // Two Services in one /24: one route, attributes merged over both.
        let world = World::new()
            .everywhere(svc("web", &[B]))
            .everywhere(svc("db", &["203.0.113.9"]))
            .bgp(ads, vec![peer("p1")]);
        let expected_routes: BTreeMap<Prefix, RouteAttributes> = [(prefix("203.0.113.0/24"), expected)].into();
        assert_eq!(desired(&world), [("p1".to_string(), expected_routes)].into(), "case: {name}");
    }
}

#[test]
fn merging_differs_only_where_services_differ() {
    // web is selected by an advertisement adding a community; db is not: they share the /24,
    // so the community rides on the aggregate.
    let mut tagged = agg(bgp_adv("tagged", &["bgp"]), 24, 128);
    tagged.service_selectors.push(sel(&[("tier", "web")]));
    tagged.communities = vec![community(64600, 7)];
    let plain = agg(bgp_adv("plain", &["bgp"]), 24, 128);
    let world = World::new()
        .everywhere(labelled(svc("web", &[B]), "tier", "web"))
        .everywhere(svc("db", &["203.0.113.9"]))
        .bgp(vec![plain, tagged], vec![peer("p1")]);
    let decision = world.announcer().decide_bgp();
    assert_eq!(decision.desired["p1"][&prefix("203.0.113.0/24")], attrs(None, &[community(64600, 7)]));
    let BgpOutcome::Advertised { advertisements, .. } = &decision.verdicts[&key("web")][0].outcome else { panic!() };
    assert_eq!(advertisements, &vec!["plain".to_string(), "tagged".to_string()]);
    let BgpOutcome::Advertised { advertisements, .. } = &decision.verdicts[&key("db")][0].outcome else { panic!() };
    assert_eq!(advertisements, &vec!["plain".to_string()]);
}

#[test]
fn the_full_decision_has_both_modes() {
    let world = World::new()
        .service(local(svc("l2svc", &["198.51.100.220"])), vec![ep("n1", true, true)])
        .everywhere(svc("bgpsvc", &[B]))
        .bgp(vec![bgp_adv("a", &["bgp"])], vec![peer("p1")]);
    let decision = world.announcer().decide();
    assert_eq!(decision.layer2.owned.keys().copied().collect::<Vec<_>>(), vec![ip("198.51.100.220")]);
    assert_eq!(decision.bgp.desired["p1"].keys().copied().collect::<Vec<_>>(), vec![prefix("203.0.113.77/32")]);
    assert_eq!(
        decision.layer2.verdicts[&key("bgpsvc")][0].outcome,
        Layer2Outcome::NotAnnounced(Reason::NoAdvertisement { pool: "bgp".into() })
    );
}
