//! Layer2: every candidate rule, preferred weights, interfaces, what this node owns.

use super::*;

const A: &str = "198.51.100.200";

/// The node among `names` with the highest rendezvous score for `address`.
fn hash_winner(names: &[&str], address: &str) -> String {
    names.iter().max_by_key(|n| rendezvous::score(n, ip(address))).unwrap().to_string()
}

fn rejections(pairs: &[(&str, NodeRejection)]) -> Reason {
    Reason::NoCandidate { nodes: pairs.iter().map(|(n, r)| ((*n).to_string(), *r)).collect() }
}

fn prefer(mut ad: Layer2Advertisement, weight: i32, node: &str) -> Layer2Advertisement {
    ad.preferred.push((weight, sel(&[("kubernetes.io/hostname", node)])));
    ad
}

fn on_nodes(mut ad: Layer2Advertisement, node: &str) -> Layer2Advertisement {
    ad.node_selectors.push(sel(&[("kubernetes.io/hostname", node)]));
    ad
}

fn for_services(mut ad: Layer2Advertisement, k: &str, v: &str) -> Layer2Advertisement {
    ad.service_selectors.push(sel(&[(k, v)]));
    ad
}

#[test]
fn candidate_rules() {
    use NodeRejection::*;
    let w = World::new;
    let web = || svc("web", &[A]);
    let cases: Vec<(&str, World, Result<String, Reason>)> = vec![
        ("every node fits: the rendezvous winner", w().everywhere(web()), Ok(hash_winner(&["n1", "n2", "n3"], A))),
        ("Local with the endpoint on n2", w().service(local(web()), vec![ep("n2", true, true)]), Ok("n2".into())),
        ("Local with the endpoint moved to n3", w().service(local(web()), vec![ep("n3", true, true)]), Ok("n3".into())),
        (
            "Local: serving but not ready counts when nothing is ready",
            w().service(local(web()), vec![ep("n2", false, true)]),
            Ok("n2".into()),
        ),
        (
            "Local: a ready endpoint elsewhere beats a serving-only one",
            w().service(local(web()), vec![ep("n2", false, true), ep("n3", true, true)]),
            Ok("n3".into()),
        ),
        ("no endpoint at all", w().service(web(), vec![]), Err(Reason::NoEndpoints)),
        (
            "no slice at all",
            {
                let mut x = w();
                x.services.push(web());
                x
            },
            Err(Reason::NoEndpoints),
        ),
        ("neither ready nor serving", w().service(web(), vec![ep("n2", false, false)]), Err(Reason::NoEndpoints)),
        (
            "Cluster: an endpoint without nodeName still counts",
            w().service(web(), vec![EndpointView { node: None, ready: true, serving: true }]),
            Ok(hash_winner(&["n1", "n2", "n3"], A)),
        ),
        (
            "Local: an endpoint without nodeName puts nowhere",
            w().service(local(web()), vec![EndpointView { node: None, ready: true, serving: true }]),
            Err(rejections(&[("n1", NoLocalEndpoint), ("n2", NoLocalEndpoint), ("n3", NoLocalEndpoint)])),
        ),
        (
            "Local on an excluded node",
            w().service(local(web()), vec![ep("n2", true, true)]).node_mut("n2", |n| n.excluded = true),
            Err(rejections(&[("n1", NoLocalEndpoint), ("n2", Excluded), ("n3", NoLocalEndpoint)])),
        ),
        (
            "Local on a node whose network is unavailable",
            w().service(local(web()), vec![ep("n2", true, true)]).node_mut("n2", |n| n.network_unavailable = true),
            Err(rejections(&[("n1", NoLocalEndpoint), ("n2", NetworkUnavailable), ("n3", NoLocalEndpoint)])),
        ),
        (
            "Local on a dead member",
            w().service(local(web()), vec![ep("n2", true, true)]).dead("n2"),
            Err(rejections(&[("n1", NoLocalEndpoint), ("n2", NotAlive), ("n3", NoLocalEndpoint)])),
        ),
        (
            "Local on two nodes, one dead: the other",
            w().service(local(web()), vec![ep("n2", true, true), ep("n3", true, true)]).dead("n3"),
            Ok("n2".into()),
        ),
        (
            "Local on an unhealthy self",
            w().service(local(web()), vec![ep("n1", true, true)]).dead("n1"),
            Err(rejections(&[("n1", NotAlive), ("n2", NoLocalEndpoint), ("n3", NoLocalEndpoint)])),
        ),
        (
            "an excluded node loses to the others",
            w().everywhere(web()).node_mut("n1", |n| n.excluded = true).node_mut("n2", |n| n.excluded = true),
            Ok("n3".into()),
        ),
        ("only n3 alive", w().everywhere(web()).dead("n1").dead("n2"), Ok("n3".into())),
        (
            "all dead",
            w().everywhere(web()).dead("n1").dead("n2").dead("n3"),
            Err(rejections(&[("n1", NotAlive), ("n2", NotAlive), ("n3", NotAlive)])),
        ),
        (
            "nodeSelectors pick n3",
            w().everywhere(web()).l2_ads(vec![on_nodes(l2("l2", &["l2"]), "n3")]),
            Ok("n3".into()),
        ),
        (
            "nodeSelectors pick n3, which is dead",
            w().everywhere(web()).l2_ads(vec![on_nodes(l2("l2", &["l2"]), "n3")]).dead("n3"),
            Err(rejections(&[("n1", NotSelected), ("n2", NotSelected), ("n3", NotAlive)])),
        ),
        (
            "nodeSelectors pick n3, the endpoint is on n2 (Local)",
            w().service(local(web()), vec![ep("n2", true, true)]).l2_ads(vec![on_nodes(l2("l2", &["l2"]), "n3")]),
            Err(rejections(&[("n1", NotSelected), ("n2", NotSelected), ("n3", NoLocalEndpoint)])),
        ),
        (
            "two advertisements: their nodeSelectors add up",
            w().service(local(web()), vec![ep("n2", true, true)])
                .l2_ads(vec![on_nodes(l2("a", &["l2"]), "n3"), on_nodes(l2("b", &["l2"]), "n2")]),
            Ok("n2".into()),
        ),
        (
            "serviceSelectors exclude the Service",
            w().everywhere(web()).l2_ads(vec![for_services(l2("l2", &["l2"]), "tier", "web")]),
            Err(Reason::ServiceSelectorsExclude { pool: "l2".into(), advertisements: vec!["l2".into()] }),
        ),
        (
            "serviceSelectors select the Service",
            w().everywhere(labelled(web(), "tier", "web"))
                .l2_ads(vec![on_nodes(for_services(l2("l2", &["l2"]), "tier", "web"), "n2")]),
            Ok("n2".into()),
        ),
        (
            "only the advertisement selecting the Service places it",
            w().everywhere(labelled(web(), "tier", "web")).l2_ads(vec![
                on_nodes(for_services(l2("a", &["l2"]), "tier", "db"), "n3"),
                on_nodes(for_services(l2("b", &["l2"]), "tier", "web"), "n1"),
            ]),
            Ok("n1".into()),
        ),
        (
            "a pool no L2Advertisement covers",
            w().everywhere(svc("web", &["192.0.2.7"])),
            Err(Reason::NoAdvertisement { pool: "bare".into() }),
        ),
        (
            "an address in no pool",
            w().everywhere(svc("web", &["198.51.100.7"])),
            Err(Reason::NoPool { address: ip("198.51.100.7") }),
        ),
        (
            "no L2Advertisement at all",
            w().everywhere(web()).l2_ads(vec![]),
            Err(Reason::NoAdvertisement { pool: "l2".into() }),
        ),
        (
            "an IPv6 address",
            w().service(local(svc("web", &["2001:db8:1::205"])), vec![ep("n3", true, true)]),
            Ok("n3".into()),
        ),
        (
            "a live member without a Node object is no candidate",
            {
                let mut x = w().service(local(web()), vec![ep("n4", true, true)]);
                x.members.alive.insert("n4".into());
                x
            },
            Err(rejections(&[
                ("n1", NoLocalEndpoint),
                ("n2", NoLocalEndpoint),
                ("n3", NoLocalEndpoint),
                ("n4", UnknownNode),
            ])),
        ),
        (
            "a Node object that left the cluster",
            {
                let mut x = w().service(local(web()), vec![ep("n2", true, true)]);
                x.nodes.retain(|n| n.name != "n2");
                x
            },
            Err(rejections(&[("n1", NoLocalEndpoint), ("n2", UnknownNode), ("n3", NoLocalEndpoint)])),
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, world, expected) in cases {
        assert_eq!(world.l2_owner("web"), expected, "case: {name}");
    }
}

#[test]
fn preferred_weights() {
    let w = || World::new().everywhere(svc("web", &[A]));
    let cases: Vec<(&str, Vec<Layer2Advertisement>, World, &str)> = vec![
        ("prefer n1", vec![prefer(l2("l2", &["l2"]), 10, "n1")], w(), "n1"),
        ("prefer n2", vec![prefer(l2("l2", &["l2"]), 10, "n2")], w(), "n2"),
        ("prefer n3", vec![prefer(l2("l2", &["l2"]), 10, "n3")], w(), "n3"),
        ("the heavier preference wins", vec![prefer(prefer(l2("l2", &["l2"]), 10, "n3"), 20, "n2")], w(), "n2"),
        (
            "weights add up across advertisements",
            vec![
                prefer(l2("a", &["l2"]), 50, "n2"),
                prefer(l2("b", &["l2"]), 30, "n3"),
                prefer(l2("c", &["l2"]), 30, "n3"),
            ],
            w(),
            "n3",
        ),
        (
            "an advertisement not selecting the Service adds nothing",
            vec![prefer(l2("a", &["l2"]), 50, "n2"), for_services(prefer(l2("b", &["l2"]), 100, "n3"), "tier", "db")],
            w(),
            "n2",
        ),
        ("a preferred node that is dead", vec![prefer(l2("l2", &["l2"]), 10, "n2")], w().dead("n2"), "other"),
        (
            "a preferred node not selected by nodeSelectors",
            vec![on_nodes(prefer(l2("l2", &["l2"]), 10, "n2"), "n3")],
            w(),
            "n3",
        ),
        (
            "a preferred node without the Local endpoint",
            vec![prefer(l2("l2", &["l2"]), 10, "n2")],
            World::new().service(local(svc("web", &[A])), vec![ep("n1", true, true)]),
            "n1",
        ),
    ];
    for (name, ads, world, expected) in cases {
        let world = world.l2_ads(ads);
        let owner = world.l2_owner("web").unwrap();
        if expected == "other" {
            assert_eq!(owner, hash_winner(&["n1", "n3"], A), "case: {name}");
        } else {
            assert_eq!(owner, expected, "case: {name}");
        }
    }
    // The weight is reported.
    let world = World::new().everywhere(svc("web", &[A])).l2_ads(vec![prefer(l2("l2", &["l2"]), 7, "n2")]);
    let Layer2Outcome::Announced(ownership) = world.l2_outcome("web") else { panic!("not announced") };
    assert_eq!((ownership.owner.as_str(), ownership.weight), ("n2", 7));
    assert_eq!(ownership.candidates, vec!["n1", "n2", "n3"]);
    assert_eq!(ownership.advertisements, vec!["l2"]);
}

#[test]
fn interfaces_of_the_owner() {
    let with = |ad: Layer2Advertisement, names: &[&str]| {
        let mut ad = ad;
        ad.interfaces = names.iter().map(|n| (*n).to_string()).collect();
        ad
    };
    let cases: Vec<(&str, Vec<Layer2Advertisement>, Interfaces)> = vec![
        ("none given: all", vec![l2("l2", &["l2"])], Interfaces::All),
        ("one list", vec![with(l2("l2", &["l2"]), &["eth0"])], Interfaces::Only(set(["eth0"]))),
        (
            "two lists: their union",
            vec![with(l2("a", &["l2"]), &["eth0"]), with(l2("b", &["l2"]), &["eth1", "eth0"])],
            Interfaces::Only(set(["eth0", "eth1"])),
        ),
        ("a list and an empty one: all", vec![with(l2("a", &["l2"]), &["eth0"]), l2("b", &["l2"])], Interfaces::All),
        (
            "a list from an advertisement not selecting this node is ignored",
            vec![with(l2("a", &["l2"]), &["eth0"]), with(on_nodes(l2("b", &["l2"]), "n3"), &["eth9"])],
            Interfaces::Only(set(["eth0"])),
        ),
    ];
    for (name, ads, expected) in cases {
        // Pin the owner to n1 (this node) with a Local endpoint.
        let world = World::new().service(local(svc("web", &[A])), vec![ep("n1", true, true)]).l2_ads(ads);
        let decision = world.announcer().decide_layer2();
        let owned = decision.owned.get(&ip(A)).unwrap_or_else(|| panic!("case {name}: not owned"));
        assert_eq!(owned.interfaces, expected, "case: {name}");
        assert_eq!(owned.services, [key("web")].into(), "case: {name}");
    }
}

#[test]
fn this_node_owns_only_its_addresses() {
    let world = World::new()
        .service(local(svc("on-n1", &["198.51.100.201", "2001:db8:1::201"])), vec![ep("n1", true, true)])
        .service(local(svc("on-n2", &["198.51.100.202"])), vec![ep("n2", true, true)]);
    let decision = world.announcer().decide_layer2();
    assert_eq!(decision.owned.keys().copied().collect::<Vec<_>>(), vec![ip("198.51.100.201"), ip("2001:db8:1::201")]);
    assert_eq!(decision.verdicts.get(&key("on-n1")).unwrap().len(), 2);
    let from_n2 = world.clone().me("n2").announcer().decide_layer2();
    assert_eq!(from_n2.owned.keys().copied().collect::<Vec<_>>(), vec![ip("198.51.100.202")]);
    // Both speakers give the same verdicts.
    assert_eq!(from_n2.verdicts, decision.verdicts);
    // Each knows where the other's addresses are answered.
    assert_eq!(decision.elsewhere, [(ip("198.51.100.202"), "n2".to_owned())].into());
    assert_eq!(
        from_n2.elsewhere,
        [(ip("198.51.100.201"), "n1".to_owned()), (ip("2001:db8:1::201"), "n1".to_owned())].into()
    );
}

#[test]
fn an_unhealthy_self_announces_nothing_and_steps_aside() {
    let healthy = World::new().everywhere(svc("web", &[A]));
    let sick = healthy.clone().dead("n1");
    let decision = sick.announcer().decide_layer2();
    assert!(decision.owned.is_empty());
    assert_eq!(sick.l2_owner("web").unwrap(), hash_winner(&["n2", "n3"], A));
    // Where the address goes, so that a leaving speaker can hand it over.
    assert_eq!(decision.elsewhere, [(ip(A), hash_winner(&["n2", "n3"], A))].into());
    // The others, who no longer see n1, agree.
    let mut seen_from_n2 = healthy.me("n2");
    seen_from_n2.members.alive.remove("n1");
    assert_eq!(seen_from_n2.l2_owner("web").unwrap(), hash_winner(&["n2", "n3"], A));
}

#[test]
fn a_service_without_address_has_no_verdict_and_pool_is_reported() {
    let world = World::new().everywhere(svc("pending", &[])).everywhere({
        let mut s = svc("web", &[A]);
        // A stale annotation naming a pool that does not hold the address: the pool holding it is found.
        s.pools = vec!["bgp".into()];
        s
    });
    let decision = world.announcer().decide_layer2();
    assert_eq!(decision.verdicts.get(&key("pending")), Some(&vec![]));
    assert_eq!(decision.verdicts.get(&key("web")).unwrap()[0].pool.as_deref(), Some("l2"));
}

#[test]
fn deleting_inputs_updates_the_decision() {
    let world = World::new().service(local(svc("web", &[A])), vec![ep("n1", true, true)]);
    let mut announcer = world.announcer();
    assert!(announcer.decide_layer2().owned.contains_key(&ip(A)));
    announcer.delete_slice(&SliceKey::new("default", "web-abcde"));
    assert_eq!(
        announcer.decide_layer2().verdicts[&key("web")][0].outcome,
        Layer2Outcome::NotAnnounced(Reason::NoEndpoints)
    );
    announcer.apply_slice(
        SliceKey::new("default", "web-2"),
        EndpointSliceView { service: key("web"), endpoints: vec![ep("n1", true, true)] },
    );
    assert!(announcer.decide_layer2().owned.contains_key(&ip(A)));
    announcer.delete_node("n1");
    assert!(announcer.decide_layer2().owned.is_empty());
    announcer.apply_node(node("n1"));
    announcer.delete_service(&key("web"));
    let decision = announcer.decide_layer2();
    assert!(decision.owned.is_empty() && decision.verdicts.is_empty());
}

#[test]
fn reasons_read_as_sentences() {
    let reason = Reason::NoCandidate {
        nodes: [("n1".to_string(), NodeRejection::NotAlive), ("n2".to_string(), NodeRejection::Excluded)].into(),
    };
    assert_eq!(
        reason.to_string(),
        "no node may announce it: n1: its speaker is not alive; \
         n2: it is labelled node.kubernetes.io/exclude-from-external-load-balancers"
    );
    assert_eq!(Reason::NoAdvertisement { pool: "p".into() }.to_string(), "no advertisement covers pool p");
}
