//! The verdict on each configuration object, rule by rule: one table row per case, naming the
//! object judged and its exact problems (field, reason, other object), or none when accepted.

// Test helpers may unwrap: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

mod config_builders;

use config_builders::*;
use ferrolb_core::config::{ObjectRef, Objects, Reason::*};
use ferrolb_crds::DynamicAsn;

/// One row: what is given, which object is judged, and its problems (none: accepted).
struct Case {
    name: &'static str,
    objects: Objects,
    judged: ObjectRef,
    want: Vec<Want>,
}

fn case(name: &'static str, objects: Objects, judged: ObjectRef, want: Vec<Want>) -> Case {
    Case { name, objects, judged, want }
}

fn accepted() -> Vec<Want> {
    vec![]
}

fn run(cases: Vec<Case>) {
    for Case { name, objects, judged, want } in cases {
        let (_, verdicts) = build(&objects);
        assert!(verdicts.problems.contains_key(&judged), "{name}: {judged} has a verdict");
        assert_eq!(problems_of(&verdicts, &judged), want, "{name}: {:?}", verdicts.problems(&judged));
        assert_eq!(verdicts.accepted(&judged), want.is_empty(), "{name}");
    }
}

fn pool_cases() -> Vec<Case> {
    let web = pool("web", &["203.0.113.0/24"]);
    vec![
        case("a CIDR pool", objs![web.clone()], pool_ref("web"), accepted()),
        case(
            "ranges of both families, host bits set",
            objs![pool("p", &["198.51.100.200-198.51.100.250", "2001:db8:1::200-2001:db8:1::2ff", "192.0.2.7/24"])],
            pool_ref("p"),
            accepted(),
        ),
        case(
            "an entry that is no address",
            objs![pool("p", &["203.0.113.0/24", "nonsense"])],
            pool_ref("p"),
            vec![problem("spec.addresses[1]", InvalidField)],
        ),
        case(
            "an IPv6 range backwards, which CEL cannot see",
            objs![pool("p", &["2001:db8::9-2001:db8::1"])],
            pool_ref("p"),
            vec![problem("spec.addresses[0]", InvalidField)],
        ),
        case(
            "a range of two families",
            objs![pool("p", &["198.51.100.1-2001:db8::1"])],
            pool_ref("p"),
            vec![problem("spec.addresses[0]", InvalidField)],
        ),
        case("no addresses", objs![pool("p", &[])], pool_ref("p"), vec![problem("spec.addresses", InvalidField)]),
        case(
            "two entries of one pool overlapping",
            objs![pool("p", &["203.0.113.0/24", "198.51.100.0/24", "203.0.113.100-203.0.113.200"])],
            pool_ref("p"),
            vec![problem("spec.addresses[2]", AddressesOverlap)],
        ),
        case(
            "a pool overlapping an older pool",
            objs![web.clone().created(1), pool("late", &["203.0.113.128/25"]).created(2)],
            pool_ref("late"),
            vec![problem_with("spec.addresses[0]", AddressesOverlap, pool_ref("web"))],
        ),
        case(
            "the older pool of an overlap stays",
            objs![web.clone().created(1), pool("late", &["203.0.113.128/25"]).created(2)],
            pool_ref("web"),
            accepted(),
        ),
        case(
            "the older pool wins even when listed second",
            objs![pool("late", &["203.0.113.128/25"]).created(2), web.clone().created(1)],
            pool_ref("late"),
            vec![problem_with("spec.addresses[0]", AddressesOverlap, pool_ref("web"))],
        ),
        case(
            "each overlapping entry is named",
            objs![
                web.clone().created(1),
                pool("v6", &["2001:db8:100::/120"]).created(2),
                pool("late", &["192.0.2.0/24", "203.0.113.7/32", "2001:db8:100::80-2001:db8:100::1ff"]).created(3)
            ],
            pool_ref("late"),
            vec![
                problem_with("spec.addresses[1]", AddressesOverlap, pool_ref("web")),
                problem_with("spec.addresses[2]", AddressesOverlap, pool_ref("v6")),
            ],
        ),
        case(
            "adjacent pools do not overlap",
            objs![web.clone().created(1), pool("next", &["203.0.114.0/24", "203.0.112.255/32"]).created(2)],
            pool_ref("next"),
            accepted(),
        ),
        case(
            "the whole IPv6 space does not overlap IPv4",
            objs![web.clone().created(1), pool("all6", &["::/0"]).created(2)],
            pool_ref("all6"),
            accepted(),
        ),
        case(
            "a refused pool blocks no later pool",
            objs![
                pool("broken", &["203.0.113.0/24", "nonsense"]).created(1),
                pool("late", &["203.0.113.0/25"]).created(2)
            ],
            pool_ref("late"),
            accepted(),
        ),
        case(
            "equal creation times: the name decides",
            objs![pool("b", &["203.0.113.0/25"]).created(5), pool("a", &["203.0.113.0/24"]).created(5)],
            pool_ref("b"),
            vec![problem_with("spec.addresses[0]", AddressesOverlap, pool_ref("a"))],
        ),
        case(
            "no creation time counts as newest",
            objs![pool("a", &["203.0.113.0/25"]), pool("z", &["203.0.113.0/24"]).created(9)],
            pool_ref("a"),
            vec![problem_with("spec.addresses[0]", AddressesOverlap, pool_ref("z"))],
        ),
        case(
            "a negative priority",
            objs![web.clone().with(|s| s.service_allocation = Some(allocation(|a| a.priority = Some(-1))))],
            pool_ref("web"),
            vec![problem("spec.serviceAllocation.priority", InvalidField)],
        ),
        case(
            "a namespace that is no name, and one given twice",
            objs![web.clone().with(|s| {
                s.service_allocation = Some(allocation(|a| a.namespaces = strings(&["Bad_NS", "ok", "ok"])))
            })],
            pool_ref("web"),
            vec![
                problem("spec.serviceAllocation.namespaces[0]", InvalidField),
                problem("spec.serviceAllocation.namespaces[2]", InvalidField),
            ],
        ),
        case(
            "allocation selectors are checked",
            objs![web.clone().with(|s| {
                s.service_allocation = Some(allocation(|a| {
                    a.namespace_selectors = vec![sel(&[]), expr("team", "In", &[])];
                    a.service_selectors = vec![sel(&[("bad key", "x")])];
                }))
            })],
            pool_ref("web"),
            vec![
                problem("spec.serviceAllocation.namespaceSelectors[1].matchExpressions[0].values", InvalidField),
                problem("spec.serviceAllocation.serviceSelectors[0].matchLabels", InvalidField),
            ],
        ),
        case(
            "a valid allocation",
            objs![web.with(|s| {
                s.service_allocation = Some(allocation(|a| {
                    a.priority = Some(0);
                    a.namespaces = strings(&["default"]);
                    a.service_selectors = vec![expr("app", "Exists", &[])];
                }))
            })],
            pool_ref("web"),
            accepted(),
        ),
    ]
}

fn allocation(change: impl FnOnce(&mut ferrolb_crds::ServiceAllocation)) -> ferrolb_crds::ServiceAllocation {
    let mut allocation = ferrolb_crds::ServiceAllocation::default();
    change(&mut allocation);
    allocation
}

fn community_cases() -> Vec<Case> {
    vec![
        case(
            "aliases of both forms",
            objs![community("c", &[("no-export", "65535:65281"), ("mine", "large:64512:1:2")])],
            community_ref("c"),
            accepted(),
        ),
        case(
            "a value that is no community",
            objs![community("c", &[("ok", "1:2"), ("bad", "65536:1")])],
            community_ref("c"),
            vec![problem("spec.communities[1].value", InvalidField)],
        ),
        case(
            "a large community out of range",
            objs![community("c", &[("big", "large:1:4294967296:0")])],
            community_ref("c"),
            vec![problem("spec.communities[0].value", InvalidField)],
        ),
        case(
            "a name longer than an advertisement's entry may be",
            objs![community("c", &[(&"n".repeat(65), "1:2")])],
            community_ref("c"),
            vec![problem("spec.communities[0].name", InvalidField)],
        ),
        case(
            "one name twice in one object",
            objs![community("c", &[("a", "1:2"), ("a", "1:2")])],
            community_ref("c"),
            vec![problem("spec.communities[1].name", InvalidField)],
        ),
        case(
            "a newer object giving a name another value",
            objs![
                community("new", &[("other", "1:1"), ("no-export", "65535:65282")]).created(2),
                community("old", &[("no-export", "65535:65281")]).created(1)
            ],
            community_ref("new"),
            vec![problem_with("spec.communities[1].name", Duplicate, community_ref("old"))],
        ),
        case(
            "the older definition stays",
            objs![
                community("new", &[("no-export", "65535:65282")]).created(2),
                community("old", &[("no-export", "65535:65281")]).created(1)
            ],
            community_ref("old"),
            accepted(),
        ),
        case(
            "one name with one value in two objects (MetalLB: each name is defined once)",
            objs![
                community("a", &[("no-export", "65535:65281")]).created(1),
                community("b", &[("no-export", "65535:065281")]).created(2)
            ],
            community_ref("b"),
            vec![problem_with("spec.communities[0].name", Duplicate, community_ref("a"))],
        ),
    ]
}

fn bfd_cases() -> Vec<Case> {
    vec![
        case("the defaults", objs![bfd("fast")], bfd_ref("fast"), accepted()),
        case(
            "the edges of every range",
            objs![bfd("edge").with(|s| {
                s.receive_interval = 10;
                s.transmit_interval = 60000;
                s.echo_interval = 10;
                s.detect_multiplier = 255;
                s.minimum_ttl = 1;
            })],
            bfd_ref("edge"),
            accepted(),
        ),
        case(
            "intervals out of range",
            objs![bfd("b").with(|s| {
                s.receive_interval = 9;
                s.transmit_interval = 60001;
                s.echo_interval = 0;
            })],
            bfd_ref("b"),
            vec![
                problem("spec.receiveInterval", InvalidField),
                problem("spec.transmitInterval", InvalidField),
                problem("spec.echoInterval", InvalidField),
            ],
        ),
        case(
            "echo mode, which FerroLB does not run",
            objs![bfd("echo").with(|s| s.echo_mode = true)],
            bfd_ref("echo"),
            vec![problem("spec.echoMode", NotSupported)],
        ),
        case(
            "multiplier and TTL out of range",
            objs![bfd("b").with(|s| {
                s.detect_multiplier = 1;
                s.minimum_ttl = 255;
            })],
            bfd_ref("b"),
            vec![problem("spec.detectMultiplier", InvalidField), problem("spec.minimumTtl", InvalidField)],
        ),
    ]
}

fn peer_cases() -> Vec<Case> {
    let router = || peer("router", 64512, "198.51.100.1");
    vec![
        case("an eBGP peer", objs![router()], peer_ref("router"), accepted()),
        case(
            "neither peerASN nor dynamicASN",
            objs![router().with(|s| s.peer_asn = None)],
            peer_ref("router"),
            vec![problem("spec.peerASN", InvalidField)],
        ),
        case(
            "both peerASN and dynamicASN",
            objs![router().with(|s| s.dynamic_asn = Some(DynamicAsn::External))],
            peer_ref("router"),
            vec![problem("spec.dynamicASN", InvalidField)],
        ),
        case(
            "AS numbers of 0",
            objs![router().with(|s| {
                s.my_asn = 0;
                s.peer_asn = Some(0);
            })],
            peer_ref("router"),
            vec![problem("spec.myASN", InvalidField), problem("spec.peerASN", InvalidField)],
        ),
        case(
            "both password and passwordSecret",
            objs![
                router().with(|s| {
                    s.password = Some("clear".into());
                    s.password_secret = secret_ref("md5", None);
                }),
                basic_auth("md5", "hidden")
            ],
            peer_ref("router"),
            vec![problem("spec.passwordSecret", InvalidField)],
        ),
        case(
            "timers that Go reads, and a connect time under 1s",
            objs![router().with(|s| {
                s.hold_time = Some("1m30s".into());
                s.keepalive_time = Some("30s".into());
                s.connect_time = Some("500ms".into());
            })],
            peer_ref("router"),
            vec![problem("spec.connectTime", InvalidField)],
        ),
        case(
            "a hold time of 0s and a connect time of 65535s",
            objs![router().with(|s| {
                s.hold_time = Some("0s".into());
                s.connect_time = Some("65535s".into());
            })],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "a hold time without unit",
            objs![router().with(|s| s.hold_time = Some("90".into()))],
            peer_ref("router"),
            vec![problem("spec.holdTime", InvalidField)],
        ),
        case(
            "a hold time under 3s",
            objs![router().with(|s| s.hold_time = Some("2s".into()))],
            peer_ref("router"),
            vec![problem("spec.holdTime", InvalidField)],
        ),
        case(
            "a keepalive longer than the hold time",
            objs![router().with(|s| {
                s.hold_time = Some("9s".into());
                s.keepalive_time = Some("10s".into());
            })],
            peer_ref("router"),
            vec![problem("spec.keepaliveTime", InvalidField)],
        ),
        case(
            "a connect time past 65535s",
            objs![router().with(|s| s.connect_time = Some("18h13m".into()))],
            peer_ref("router"),
            vec![problem("spec.connectTime", InvalidField)],
        ),
        case(
            "a router ID that is IPv6",
            objs![router().with(|s| s.router_id = Some("2001:db8::1".into()))],
            peer_ref("router"),
            vec![problem("spec.routerID", InvalidField)],
        ),
        case(
            "a peer address that is none",
            objs![router().with(|s| s.peer_address = "router.example".into())],
            peer_ref("router"),
            vec![problem("spec.peerAddress", InvalidField)],
        ),
        case(
            "a source address of the other family",
            objs![router().with(|s| s.source_address = Some("2001:db8::11".into()))],
            peer_ref("router"),
            vec![problem("spec.sourceAddress", InvalidField)],
        ),
        case(
            "port 0",
            objs![router().with(|s| s.peer_port = 0)],
            peer_ref("router"),
            vec![problem("spec.peerPort", InvalidField)],
        ),
        case(
            "ebgpMultiHop with peerASN equal to myASN",
            objs![router().with(|s| {
                s.peer_asn = Some(64600);
                s.ebgp_multi_hop = true;
            })],
            peer_ref("router"),
            vec![problem("spec.ebgpMultiHop", InvalidField)],
        ),
        case(
            "ebgpMultiHop with dynamicASN internal (accepted, as MetalLB accepts it)",
            objs![dynamic_peer("router", DynamicAsn::Internal, "198.51.100.1").with(|s| s.ebgp_multi_hop = true)],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "ebgpMultiHop on eBGP",
            objs![dynamic_peer("router", DynamicAsn::External, "198.51.100.1").with(|s| s.ebgp_multi_hop = true)],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "localASN on eBGP",
            objs![router().with(|s| s.local_asn = Some(4_200_000_001))],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "localASN with dynamicASN external",
            objs![dynamic_peer("router", DynamicAsn::External, "198.51.100.1").with(|s| s.local_asn = Some(65001))],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "localASN of 0",
            objs![router().with(|s| s.local_asn = Some(0))],
            peer_ref("router"),
            vec![problem("spec.localASN", InvalidField)],
        ),
        case(
            "localASN equal to myASN",
            objs![router().with(|s| s.local_asn = Some(64600))],
            peer_ref("router"),
            vec![problem("spec.localASN", InvalidField)],
        ),
        case(
            "localASN on iBGP (peerASN is myASN)",
            objs![router().with(|s| {
                s.peer_asn = Some(64600);
                s.local_asn = Some(65001);
            })],
            peer_ref("router"),
            vec![problem("spec.localASN", InvalidField)],
        ),
        case(
            "localASN on iBGP (dynamicASN internal)",
            objs![dynamic_peer("router", DynamicAsn::Internal, "198.51.100.1").with(|s| s.local_asn = Some(65001))],
            peer_ref("router"),
            vec![problem("spec.localASN", InvalidField)],
        ),
        case(
            "interface (BGP unnumbered) with sourceAddress",
            objs![router().with(|s| {
                s.peer_address = String::new();
                s.interface = Some("eth1".into());
                s.source_address = Some("198.51.100.11".into());
            })],
            peer_ref("router"),
            vec![problem("spec.sourceAddress", InvalidField)],
        ),
        case(
            "interface (BGP unnumbered) with an invalid name",
            objs![router().with(|s| {
                s.peer_address = String::new();
                s.interface = Some("eth 1".into());
            })],
            peer_ref("router"),
            vec![problem("spec.interface", InvalidField)],
        ),
        case(
            "both interface and peerAddress",
            objs![router().with(|s| s.interface = Some("eth1".into()))],
            peer_ref("router"),
            vec![problem("spec.interface", InvalidField)],
        ),
        case(
            "neither interface nor peerAddress",
            objs![router().with(|s| s.peer_address = String::new())],
            peer_ref("router"),
            vec![problem("spec.peerAddress", InvalidField)],
        ),
        case(
            "an invalid node selector and VRF",
            objs![router().with(|s| {
                s.node_selectors = vec![sel(&[("zone", "a")]), expr("zone", "Maybe", &["a"])];
                s.vrf = Some("red/blue".into());
            })],
            peer_ref("router"),
            vec![
                problem("spec.nodeSelectors[1].matchExpressions[0].operator", InvalidField),
                problem("spec.vrf", InvalidField),
            ],
        ),
        case(
            "a BFD profile that does not exist",
            objs![router().with(|s| s.bfd_profile = Some("fast".into()))],
            peer_ref("router"),
            vec![problem_with("spec.bfdProfile", ReferenceNotFound, bfd_ref("fast"))],
        ),
        case(
            "a BFD profile that is refused",
            objs![router().with(|s| s.bfd_profile = Some("fast".into())), bfd("fast").with(|s| s.minimum_ttl = 0)],
            peer_ref("router"),
            vec![problem_with("spec.bfdProfile", ReferenceNotFound, bfd_ref("fast"))],
        ),
        case(
            "a password Secret that does not exist",
            objs![router().with(|s| s.password_secret = secret_ref("md5", None)), basic_auth("other", "x")],
            peer_ref("router"),
            vec![problem_with("spec.passwordSecret", ReferenceNotFound, secret_object("ferrolb-system/md5"))],
        ),
        case(
            "a password Secret in another namespace, looked up in FerroLB's",
            objs![router().with(|s| s.password_secret = secret_ref("md5", None)), {
                secret("default", "md5", "kubernetes.io/basic-auth", Some("x"))
            }],
            peer_ref("router"),
            vec![problem_with("spec.passwordSecret", ReferenceNotFound, secret_object("ferrolb-system/md5"))],
        ),
        case(
            "a password Secret in the namespace named",
            objs![router().with(|s| s.password_secret = secret_ref("md5", Some("net"))), {
                secret("net", "md5", "kubernetes.io/basic-auth", Some("x"))
            }],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "a password Secret of the wrong type",
            objs![router().with(|s| s.password_secret = secret_ref("md5", None)), {
                secret(OWN_NAMESPACE, "md5", "Opaque", Some("x"))
            }],
            peer_ref("router"),
            vec![problem_with("spec.passwordSecret", SecretInvalid, secret_object("ferrolb-system/md5"))],
        ),
        case(
            "a password Secret without password",
            objs![router().with(|s| s.password_secret = secret_ref("md5", None)), {
                secret(OWN_NAMESPACE, "md5", "kubernetes.io/basic-auth", None)
            }],
            peer_ref("router"),
            vec![problem_with("spec.passwordSecret", SecretInvalid, secret_object("ferrolb-system/md5"))],
        ),
        case(
            "a second peer for one session",
            objs![router().created(1), peer("again", 64513, "198.51.100.1").created(2)],
            peer_ref("again"),
            vec![problem_with("spec.peerAddress", Duplicate, peer_ref("router"))],
        ),
        case(
            "the first peer of a session stays",
            objs![peer("again", 64513, "198.51.100.1").created(2), router().created(1)],
            peer_ref("router"),
            accepted(),
        ),
        case(
            "one address on another port",
            objs![router().created(1), peer("other", 64513, "198.51.100.1").with(|s| s.peer_port = 1179).created(2)],
            peer_ref("other"),
            accepted(),
        ),
        case(
            "one address in another VRF",
            objs![router().created(1), peer("red", 64513, "198.51.100.1").with(|s| s.vrf = Some("red".into()))],
            peer_ref("red"),
            accepted(),
        ),
    ]
}

fn l2_cases() -> Vec<Case> {
    let pools =
        || vec![pool("a", &["198.51.100.200/29"]).labels(&[("tier", "gold")]), pool("b", &["2001:db8:1::/120"])];
    let with = |extra: ferrolb_crds::L2Advertisement| {
        let mut objects = objects(pools().into_iter().map(Any::from).collect());
        objects.l2_advertisements.push(extra);
        objects
    };
    vec![
        case("every pool", with(l2("all", &[])), l2_ref("all"), accepted()),
        case("pools by name", with(l2("ab", &["a", "b"])), l2_ref("ab"), accepted()),
        case(
            "a pool that does not exist",
            with(l2("x", &["a", "gone"])),
            l2_ref("x"),
            vec![problem_with("spec.ipAddressPools[1]", ReferenceNotFound, pool_ref("gone"))],
        ),
        case(
            "a pool that is refused",
            objs![l2("x", &["broken"]), pool("broken", &["nonsense"])],
            l2_ref("x"),
            vec![problem_with("spec.ipAddressPools[0]", ReferenceNotFound, pool_ref("broken"))],
        ),
        case(
            "a pool named twice",
            with(l2("x", &["a", "b", "a"])),
            l2_ref("x"),
            vec![problem("spec.ipAddressPools[2]", InvalidField)],
        ),
        case(
            "a pool selector that selects nothing",
            with(l2("x", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("tier", "silver")])])),
            l2_ref("x"),
            accepted(),
        ),
        case(
            "an invalid pool selector",
            with(l2("x", &[]).with(|s| s.ip_address_pool_selectors = vec![expr("tier", "Has", &[])])),
            l2_ref("x"),
            vec![problem("spec.ipAddressPoolSelectors[0].matchExpressions[0].operator", InvalidField)],
        ),
        case(
            "interfaces",
            with(l2("x", &[]).with(|s| s.interfaces = strings(&["eth0", "br-lab.100", "enp0s31f6"]))),
            l2_ref("x"),
            accepted(),
        ),
        case(
            "interface names no interface has, and a repeated one, are accepted as MetalLB accepts them \
             (with warnings)",
            with(l2("x", &[]).with(|s| s.interfaces = strings(&["eth0:1", "a-very-long-name0", "eth0", "", "eth0"]))),
            l2_ref("x"),
            accepted(),
        ),
        case(
            "node and service selectors are checked",
            with(l2("x", &[]).with(|s| {
                s.node_selectors = vec![sel(&[("kubernetes.io/hostname", "-node")])];
                s.service_selectors = vec![expr("app", "Exists", &["web"])];
            })),
            l2_ref("x"),
            vec![
                problem("spec.nodeSelectors[0].matchLabels[kubernetes.io/hostname]", InvalidField),
                problem("spec.serviceSelectors[0].matchExpressions[0].values", InvalidField),
            ],
        ),
        case(
            "preferred nodes with weights 1 and 100",
            with(
                l2("x", &[])
                    .with(|s| s.preferred_node_selectors = vec![preferred(1, sel(&[])), preferred(100, sel(&[]))]),
            ),
            l2_ref("x"),
            accepted(),
        ),
        case(
            "preferred node weights out of range",
            with(
                l2("x", &[])
                    .with(|s| s.preferred_node_selectors = vec![preferred(0, sel(&[])), preferred(101, sel(&[]))]),
            ),
            l2_ref("x"),
            vec![
                problem("spec.preferredNodeSelectors[0].weight", InvalidField),
                problem("spec.preferredNodeSelectors[1].weight", InvalidField),
            ],
        ),
        case(
            "an invalid preference",
            with(l2("x", &[]).with(|s| s.preferred_node_selectors = vec![preferred(5, sel(&[("a/b/c", "x")]))])),
            l2_ref("x"),
            vec![problem("spec.preferredNodeSelectors[0].preference.matchLabels", InvalidField)],
        ),
    ]
}

fn preferred(
    weight: i32,
    preference: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
) -> ferrolb_crds::PreferredNodeSelector {
    ferrolb_crds::PreferredNodeSelector { weight, preference }
}

fn bgp_cases() -> Vec<Case> {
    let base = || -> Vec<Any> {
        vec![
            pool("web", &["203.0.113.0/24"]).labels(&[("bgp", "yes")]).into(),
            pool("range", &["198.51.100.200-198.51.100.250"]).into(),
            pool("v6", &["2001:db8:100::/120"]).labels(&[("bgp", "yes")]).into(),
            peer("router", 64512, "198.51.100.1").into(),
            peer("backup", 64512, "198.51.100.2").into(),
            community("names", &[("no-export", "65535:65281")]).into(),
        ]
    };
    let with = |extra: Vec<Any>| {
        let mut items = base();
        items.extend(extra);
        objects(items)
    };
    let one = |adv: ferrolb_crds::BGPAdvertisement| with(vec![adv.into()]);
    let pref = |name: &str, local_pref: u32| bgp(name, &[]).with(|s| s.local_pref = Some(local_pref));
    vec![
        case("every pool to every peer", one(bgp("all", &[])), bgp_ref("all"), accepted()),
        case(
            "peers by name",
            one(bgp("x", &["web"]).with(|s| s.peers = strings(&["router", "backup"]))),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "a peer that does not exist",
            one(bgp("x", &["web"]).with(|s| s.peers = strings(&["router", "gone"]))),
            bgp_ref("x"),
            vec![problem_with("spec.peers[1]", ReferenceNotFound, peer_ref("gone"))],
        ),
        case(
            "a peer that is refused",
            with(vec![bgp("x", &["web"]).with(|s| s.peers = strings(&["bad"])).into(), peer("bad", 0, "x").into()]),
            bgp_ref("x"),
            vec![problem_with("spec.peers[0]", ReferenceNotFound, peer_ref("bad"))],
        ),
        case(
            "a peer named twice",
            one(bgp("x", &["web"]).with(|s| s.peers = strings(&["router", "router"]))),
            bgp_ref("x"),
            vec![problem("spec.peers[1]", InvalidField)],
        ),
        case(
            "a pool that does not exist",
            one(bgp("x", &["gone"])),
            bgp_ref("x"),
            vec![problem_with("spec.ipAddressPools[0]", ReferenceNotFound, pool_ref("gone"))],
        ),
        case(
            "communities literal and by name",
            one(bgp("x", &["web"]).with(|s| s.communities = strings(&["no-export", "64512:1", "large:1:2:3"]))),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "a literal community out of range",
            one(bgp("x", &["web"]).with(|s| s.communities = strings(&["64512:1", "70000:1"]))),
            bgp_ref("x"),
            vec![problem("spec.communities[1]", InvalidField)],
        ),
        case(
            "a community name no Community defines",
            one(bgp("x", &["web"]).with(|s| s.communities = strings(&["blackhole"]))),
            bgp_ref("x"),
            vec![problem("spec.communities[0]", ReferenceNotFound)],
        ),
        case(
            "a community name only a refused Community defines",
            with(vec![
                bgp("x", &["web"]).with(|s| s.communities = strings(&["blackhole"])).into(),
                community("broken", &[("blackhole", "65535:666"), ("bad", "x")]).into(),
            ]),
            bgp_ref("x"),
            vec![problem_with("spec.communities[0]", ReferenceNotFound, community_ref("broken"))],
        ),
        case(
            "a community that is neither value nor defined name (any text may name one, as in MetalLB)",
            one(bgp("x", &["web"]).with(|s| s.communities = strings(&["no export"]))),
            bgp_ref("x"),
            vec![problem("spec.communities[0]", ReferenceNotFound)],
        ),
        case(
            "aggregation to the pool's own prefix",
            one(bgp("x", &["web", "v6"]).with(|s| {
                s.aggregation_length = 24;
                s.aggregation_length_v6 = 120;
            })),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "aggregation shorter than a CIDR pool",
            one(bgp("x", &["web"]).with(|s| s.aggregation_length = 16)),
            bgp_ref("x"),
            vec![problem_with("spec.aggregationLength", AggregationTooShort, pool_ref("web"))],
        ),
        case(
            "aggregation shorter than a range's most specific block but not its widest (accepted with a \
             warning, as MetalLB accepts it)",
            one(bgp("x", &["range"]).with(|s| s.aggregation_length = 31)),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "IPv6 aggregation shorter than the pool",
            one(bgp("x", &[]).with(|s| s.aggregation_length_v6 = 64)),
            bgp_ref("x"),
            vec![problem_with("spec.aggregationLengthV6", AggregationTooShort, pool_ref("v6"))],
        ),
        case(
            "a short IPv4 aggregation over IPv6 pools only",
            one(bgp("x", &["v6"]).with(|s| s.aggregation_length = 8)),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "aggregation checked on selected pools",
            one(bgp("x", &[]).with(|s| {
                s.ip_address_pool_selectors = vec![sel(&[("bgp", "yes")])];
                s.aggregation_length = 24;
            })),
            bgp_ref("x"),
            accepted(),
        ),
        case(
            "aggregation lengths out of range",
            one(bgp("x", &["web"]).with(|s| {
                s.aggregation_length = 33;
                s.aggregation_length_v6 = -1;
            })),
            bgp_ref("x"),
            vec![problem("spec.aggregationLength", InvalidField), problem("spec.aggregationLengthV6", InvalidField)],
        ),
        case(
            "node and service selectors are checked",
            one(bgp("x", &[]).with(|s| {
                s.node_selectors = vec![expr("zone", "In", &[])];
                s.service_selectors = vec![sel(&[("app", "web app")])];
            })),
            bgp_ref("x"),
            vec![
                problem("spec.nodeSelectors[0].matchExpressions[0].values", InvalidField),
                problem("spec.serviceSelectors[0].matchLabels[app]", InvalidField),
            ],
        ),
        case(
            "two localPrefs for every pool, peer and node",
            with(vec![pref("first", 100).created(1).into(), pref("second", 200).created(2).into()]),
            bgp_ref("second"),
            vec![problem_with("spec.localPref", Conflict, bgp_ref("first"))],
        ),
        case(
            "the first localPref stays, whatever the order given",
            with(vec![pref("second", 200).created(2).into(), pref("first", 100).created(1).into()]),
            bgp_ref("first"),
            accepted(),
        ),
        case(
            "one localPref twice",
            with(vec![pref("first", 100).created(1).into(), pref("second", 100).created(2).into()]),
            bgp_ref("second"),
            accepted(),
        ),
        case(
            "localPref on one of two (MetalLB: an unset localPref is 0, which differs)",
            with(vec![pref("first", 100).created(1).into(), bgp("second", &[]).created(2).into()]),
            bgp_ref("second"),
            vec![problem_with("spec.localPref", Conflict, bgp_ref("first"))],
        ),
        case(
            "two localPrefs for different pools",
            with(vec![
                pref("first", 100).with(|s| s.ip_address_pools = strings(&["web"])).created(1).into(),
                pref("second", 200).with(|s| s.ip_address_pools = strings(&["range", "v6"])).created(2).into(),
            ]),
            bgp_ref("second"),
            accepted(),
        ),
        case(
            "two localPrefs for a pool named and a pool selected",
            with(vec![
                pref("first", 100).with(|s| s.ip_address_pools = strings(&["v6"])).created(1).into(),
                pref("second", 200)
                    .with(|s| s.ip_address_pool_selectors = vec![sel(&[("bgp", "yes")])])
                    .created(2)
                    .into(),
            ]),
            bgp_ref("second"),
            vec![problem_with("spec.localPref", Conflict, bgp_ref("first"))],
        ),
        case(
            "two localPrefs for different peers",
            with(vec![
                pref("first", 100).with(|s| s.peers = strings(&["router"])).created(1).into(),
                pref("second", 200).with(|s| s.peers = strings(&["backup"])).created(2).into(),
            ]),
            bgp_ref("second"),
            accepted(),
        ),
        case(
            "two localPrefs, one for every peer",
            with(vec![
                pref("first", 100).with(|s| s.peers = strings(&["router"])).created(1).into(),
                pref("second", 200).created(2).into(),
            ]),
            bgp_ref("second"),
            vec![problem_with("spec.localPref", Conflict, bgp_ref("first"))],
        ),
        case(
            "two localPrefs for nodes of different zones",
            with(vec![
                pref("first", 100).with(|s| s.node_selectors = vec![sel(&[("zone", "a")])]).created(1).into(),
                pref("second", 200).with(|s| s.node_selectors = vec![sel(&[("zone", "b")])]).created(2).into(),
            ]),
            bgp_ref("second"),
            accepted(),
        ),
        case(
            "two localPrefs for a zone and a rack, which meet on a Node",
            with(vec![
                pref("first", 100).with(|s| s.node_selectors = vec![sel(&[("zone", "a")])]).created(1).into(),
                pref("second", 200).with(|s| s.node_selectors = vec![sel(&[("rack", "1")])]).created(2).into(),
                node("n1", &[("zone", "a"), ("rack", "1")]).into(),
            ]),
            bgp_ref("second"),
            vec![problem_with("spec.localPref", Conflict, bgp_ref("first"))],
        ),
        case(
            "two localPrefs for a zone and a rack, which no Node has together yet (a warning, as MetalLB \
             accepts it)",
            with(vec![
                pref("first", 100).with(|s| s.node_selectors = vec![sel(&[("zone", "a")])]).created(1).into(),
                pref("second", 200).with(|s| s.node_selectors = vec![sel(&[("rack", "1")])]).created(2).into(),
                node("n1", &[("zone", "a"), ("rack", "2")]).into(),
            ]),
            bgp_ref("second"),
            accepted(),
        ),
        case(
            "a refused advertisement conflicts with nothing",
            with(vec![
                pref("first", 100).with(|s| s.peers = strings(&["gone"])).created(1).into(),
                pref("second", 200).created(2).into(),
            ]),
            bgp_ref("second"),
            accepted(),
        ),
    ]
}

#[test]
fn pools() {
    run(pool_cases());
}

#[test]
fn communities() {
    run(community_cases());
}

#[test]
fn bfd_profiles() {
    run(bfd_cases());
}

#[test]
fn peers() {
    run(peer_cases());
}

#[test]
fn l2_advertisements() {
    run(l2_cases());
}

#[test]
fn bgp_advertisements() {
    run(bgp_cases());
}

#[test]
fn the_tables_hold_at_least_sixty_cases() {
    let tables = [pool_cases(), community_cases(), bfd_cases(), peer_cases(), l2_cases(), bgp_cases()];
    let count: usize = tables.iter().map(Vec::len).sum();
    assert!(count >= 60, "{count} cases");
}

#[test]
fn unsupported_peer_fields_say_so_on_the_condition() {
    let objects = objs![peer("bfd", 64512, "").with(|s| {
        s.interface = Some("eth1".into());
        s.bfd_profile = Some("fast".into());
    })];
    let (config, verdicts) = build(&objects);
    assert!(config.peers.is_empty(), "a refused peer has no session");
    let problems = verdicts.problems(&peer_ref("bfd"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].to_string().starts_with("spec.bfdProfile: BFD with interface"), "{}", problems[0]);
}

#[test]
fn graceful_restart_is_carried_to_the_peer() {
    let objects = objs![
        peer("gr", 64512, "198.51.100.1").with(|s| s.enable_graceful_restart = true),
        peer("plain", 64512, "198.51.100.2"),
    ];
    let (config, verdicts) = build(&objects);
    assert!(verdicts.problems(&peer_ref("gr")).is_empty(), "{:?}", verdicts.problems(&peer_ref("gr")));
    assert!(config.peers["gr"].graceful_restart);
    assert!(!config.peers["plain"].graceful_restart);
}

#[test]
fn an_interface_peer_is_bgp_unnumbered() {
    let objects = objs![
        peer("unnumbered", 64512, "").with(|s| s.interface = Some("eth1".into())),
        peer("other-link", 64512, "").with(|s| s.interface = Some("eth2".into())),
    ];
    let (config, verdicts) = build(&objects);
    assert!(verdicts.problems(&peer_ref("unnumbered")).is_empty());
    assert!(verdicts.problems(&peer_ref("other-link")).is_empty(), "two links are two sessions");
    let unnumbered = &config.peers["unnumbered"];
    assert_eq!(unnumbered.interface.as_deref(), Some("eth1"));
    assert_eq!(unnumbered.families(), (true, true), "an unnumbered session carries both families");
    assert_eq!(unnumbered.target(), "interface eth1");

    let objects = objs![peer("bfd", 64512, "").with(|s| {
        s.interface = Some("eth1".into());
        s.bfd_profile = Some("fast".into());
    })];
    let (config, verdicts) = build(&objects);
    assert!(config.peers.is_empty());
    let problems = verdicts.problems(&peer_ref("bfd"));
    assert!(problems.iter().any(|p| p.reason == NotSupported && p.field == "spec.bfdProfile"), "{problems:?}");
}
