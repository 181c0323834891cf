//! Layer2: Services sharing one address land on one node, even when their candidates differ.

use super::*;

const SHARED: &str = "198.51.100.210";

fn owners(world: &World, names: &[&str]) -> Vec<Result<String, Reason>> {
    names.iter().map(|n| world.l2_owner(n)).collect()
}

#[test]
fn shared_addresses_land_together() {
    let w = World::new;
    let a = || svc("a", &[SHARED]);
    let b = || svc("b", &[SHARED]);
    // (case, world, expected owner or reason for a and b)
    type Case = (&'static str, World, Vec<Result<&'static str, Reason>>);
    let cases: Vec<Case> = vec![
        (
            "both Cluster: one owner",
            w().everywhere(a()).everywhere(b()).l2_ads(vec![{
                let mut ad = l2("l2", &["l2"]);
                ad.preferred.push((5, sel(&[("kubernetes.io/hostname", "n2")])));
                ad
            }]),
            vec![Ok("n2"), Ok("n2")],
        ),
        (
            "a Local on n3 and a Cluster: the intersection, n3",
            w().service(local(a()), vec![ep("n3", true, true)]).everywhere(b()),
            vec![Ok("n3"), Ok("n3")],
        ),
        (
            "two Local on n2 and on n2, n3: n2",
            w().service(local(a()), vec![ep("n2", true, true)])
                .service(local(b()), vec![ep("n2", true, true), ep("n3", true, true)]),
            vec![Ok("n2"), Ok("n2")],
        ),
        (
            "the intersection beats a preference outside it",
            w().service(local(a()), vec![ep("n1", true, true)]).everywhere(b()).l2_ads(vec![{
                let mut ad = l2("l2", &["l2"]);
                ad.preferred.push((100, sel(&[("kubernetes.io/hostname", "n3")])));
                ad
            }]),
            vec![Ok("n1"), Ok("n1")],
        ),
        (
            "disjoint Local endpoints: the preferred node serves its Service, the other is told why",
            w().service(local(a()), vec![ep("n2", true, true)]).service(local(b()), vec![ep("n3", true, true)]).l2_ads(
                vec![{
                    let mut ad = l2("l2", &["l2"]);
                    ad.preferred.push((1, sel(&[("kubernetes.io/hostname", "n3")])));
                    ad
                }],
            ),
            vec![
                Err(Reason::OwnerCannotServe { owner: "n3".into(), rejection: NodeRejection::NoLocalEndpoint }),
                Ok("n3"),
            ],
        ),
        (
            "one sharing Service excluded by serviceSelectors: the other is announced",
            w().everywhere(labelled(a(), "tier", "web")).everywhere(b()).l2_ads(vec![{
                let mut ad = l2("l2", &["l2"]);
                ad.service_selectors.push(sel(&[("tier", "web")]));
                ad.node_selectors.push(sel(&[("kubernetes.io/hostname", "n1")]));
                ad
            }]),
            vec![
                Ok("n1"),
                Err(Reason::ServiceSelectorsExclude { pool: "l2".into(), advertisements: vec!["l2".into()] }),
            ],
        ),
        (
            "one sharing Service without endpoints",
            w().service(local(a()), vec![ep("n2", true, true)]).service(b(), vec![]),
            vec![Ok("n2"), Err(Reason::NoEndpoints)],
        ),
    ];
    for (name, world, expected) in cases {
        let expected: Vec<Result<String, Reason>> = expected.into_iter().map(|e| e.map(String::from)).collect();
        assert_eq!(owners(&world, &["a", "b"]), expected, "case: {name}");
    }
}

#[test]
fn the_owner_lists_the_services_it_serves() {
    let world = World::new()
        .service(local(svc("a", &[SHARED])), vec![ep("n1", true, true)])
        .service(local(svc("b", &[SHARED])), vec![ep("n1", true, true), ep("n2", true, true)])
        .service(local(svc("c", &[SHARED])), vec![ep("n3", true, true)]);
    let decision = world.announcer().decide_layer2();
    let owned = decision.owned.get(&ip(SHARED)).unwrap();
    assert_eq!(owned.services, [key("a"), key("b")].into());
    assert_eq!(
        decision.verdicts[&key("c")][0].outcome,
        Layer2Outcome::NotAnnounced(Reason::OwnerCannotServe {
            owner: "n1".into(),
            rejection: NodeRejection::NoLocalEndpoint
        })
    );
}

#[test]
fn shared_addresses_agree_from_every_node() {
    let mut world = World::new();
    for i in 0..20 {
        let address = format!("198.51.100.{}", 200 + i / 2);
        let service = svc(&format!("s{i}"), &[&address]);
        world = if i % 3 == 0 {
            world.service(local(service), vec![ep(&format!("n{}", 1 + i % 3), true, true)])
        } else {
            world.everywhere(service)
        };
    }
    let mut owned_by: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for me in ["n1", "n2", "n3"] {
        let decision = world.clone().me(me).announcer().decide_layer2();
        for address in decision.owned.keys() {
            owned_by.entry(*address).or_default().push(me.into());
        }
    }
    assert_eq!(owned_by.len(), 10, "every address has an owner");
    assert!(owned_by.values().all(|nodes| nodes.len() == 1), "exactly one owner each: {owned_by:?}");
}
