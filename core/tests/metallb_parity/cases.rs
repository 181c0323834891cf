//! Configurations of the kinds MetalLB's own tests exercise (its TestParse, TestValidateFRR and
//! webhook e2e cases), written here from MetalLB's rules as ferrolb.io objects, each with the
//! verdict MetalLB v0.16.2 gives and the one FerroLB gives.
//!
//! MetalLB judges a whole configuration; FerroLB judges each object, so each case names the
//! object the rule is about (the newest one when two collide). MetalLB's rules are in its
//! `internal/config/config.go` (parsing, `For`), `validation.go` (`checkFRRPeersCompatible`,
//! `validateConfig`) and its CRD schema markers (`api/v1beta1`, `api/v1beta2`). MetalLB is
//! taken in its FRR mode, whose features (BFD, IPv6, large communities) FerroLB has; where its
//! native mode accepts more, FerroLB accepts at least what FRR mode accepts.
//!
//! Shared by `core/tests/metallb_parity.rs` (the pure verdicts) and `e2e/tests/config_status.rs`
//! (each refusal applied to a real apiserver with FerroLB's controller running).

use ferrolb_core::config::{ObjectRef, Objects, Reason};
use ferrolb_crds::DynamicAsn;

use crate::config_builders::*;
use crate::objs;

/// What MetalLB does with the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetalLb {
    /// It accepts it.
    Accepts,
    /// It refuses it.
    Refuses,
}

/// What FerroLB does with the object the case is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ferro {
    /// Accepted, with no warning.
    Accepted,
    /// Accepted, with a warning of this reason.
    Warned(Reason),
    /// Refused: this field, this reason.
    Refused(&'static str, Reason),
    /// Refused with NotSupported on this field although MetalLB accepts it: a feature FerroLB
    /// does not have yet, refused rather than accepted and ignored. Each is a known gap.
    NotYet(&'static str),
}

/// One configuration.
pub struct Case {
    /// What it is.
    pub name: &'static str,
    /// The MetalLB rule it follows, by where it lives.
    pub rule: &'static str,
    /// MetalLB's verdict.
    pub metallb: MetalLb,
    /// The objects, the one judged among them.
    pub objects: Objects,
    /// The object judged.
    pub judged: ObjectRef,
    /// FerroLB's verdict on it.
    pub ferro: Ferro,
}

use Ferro::{Accepted, NotYet, Refused, Warned};
use MetalLb::{Accepts, Refuses};
use Reason::*;

fn case(
    name: &'static str,
    rule: &'static str,
    metallb: MetalLb,
    objects: Objects,
    judged: ObjectRef,
    ferro: Ferro,
) -> Case {
    Case { name, rule, metallb, objects, judged, ferro }
}

const POOL_RULE: &str = "config.go addressPoolFromCR / ParseCIDR";
const ALLOC_RULE: &str = "config.go addressPoolServiceAllocationsFromCR";
const DUP_SELECTORS: &str = "config.go validateLabelSelectorDuplicate";
const PEER_RULE: &str = "config.go peerFromCR";
const TIMERS: &str = "config.go parseTimers";
const FRR_PEERS: &str = "validation.go checkFRRPeersCompatible / peersShareNode";
const BFD_RULE: &str = "config.go bfdProfileFromCR";
const COMMUNITY_RULE: &str = "config.go communitiesFromCrs / getCommunityValue";
const ADV_RULE: &str = "config.go bgpAdvertisementFromCR";
const AGGREGATION: &str = "config.go validateBGPAdvPerPool (lowestMask)";
const LOCAL_PREF: &str = "config.go BGPAdvertisementsHaveCompatibleLocalPref / bgpAdvertisementsOverlap";
const ECHO: &str = "validation.go validateConfig (hasBFDEcho)";
const SCHEMA: &str = "CRD schema markers";

fn on_nodes(hostnames: &[&str]) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> {
    hostnames.iter().map(|h| sel(&[("kubernetes.io/hostname", h)])).collect()
}

fn router(name: &str) -> ferrolb_crds::BGPPeer {
    peer(name, 64512, "198.51.100.1")
}

/// Every case.
pub fn cases() -> Vec<Case> {
    let mut cases = pools();
    cases.extend(peers());
    cases.extend(bfd_and_communities());
    cases.extend(advertisements());
    cases
}

fn pools() -> Vec<Case> {
    vec![
        case(
            "a pool with namespaces and selectors",
            ALLOC_RULE,
            Accepts,
            objs![pool("p", &["203.0.113.0/24"]).with(|s| {
                s.service_allocation = Some(ferrolb_crds::ServiceAllocation {
                    priority: Some(10),
                    namespaces: strings(&["a", "b"]),
                    namespace_selectors: vec![sel(&[("team", "a")])],
                    service_selectors: vec![expr("app", "In", &["web", "db"])],
                })
            })],
            pool_ref("p"),
            Accepted,
        ),
        case(
            "a namespace named twice",
            ALLOC_RULE,
            Refuses,
            objs![pool("p", &["203.0.113.0/24"]).with(|s| {
                s.service_allocation =
                    Some(ferrolb_crds::ServiceAllocation { namespaces: strings(&["a", "a"]), ..Default::default() })
            })],
            pool_ref("p"),
            Refused("spec.serviceAllocation.namespaces[1]", InvalidField),
        ),
        case(
            "one namespace selector twice",
            DUP_SELECTORS,
            Refuses,
            objs![pool("p", &["203.0.113.0/24"]).with(|s| {
                s.service_allocation = Some(ferrolb_crds::ServiceAllocation {
                    namespace_selectors: vec![sel(&[("team", "a")]), sel(&[("team", "a")])],
                    ..Default::default()
                })
            })],
            pool_ref("p"),
            Refused("spec.serviceAllocation.namespaceSelectors[1]", InvalidField),
        ),
        case(
            "one service selector twice, values in another order",
            DUP_SELECTORS,
            Refuses,
            objs![pool("p", &["203.0.113.0/24"]).with(|s| {
                s.service_allocation = Some(ferrolb_crds::ServiceAllocation {
                    service_selectors: vec![expr("app", "In", &["a", "b"]), expr("app", "In", &["b", "a"])],
                    ..Default::default()
                })
            })],
            pool_ref("p"),
            Refused("spec.serviceAllocation.serviceSelectors[1]", InvalidField),
        ),
        case(
            "a value twice in one service selector requirement",
            DUP_SELECTORS,
            Refuses,
            objs![pool("p", &["203.0.113.0/24"]).with(|s| {
                s.service_allocation = Some(ferrolb_crds::ServiceAllocation {
                    service_selectors: vec![expr("app", "In", &["a", "a"])],
                    ..Default::default()
                })
            })],
            pool_ref("p"),
            Refused("spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values[1]", InvalidField),
        ),
        case(
            "a pool with no addresses",
            POOL_RULE,
            Refuses,
            objs![pool("p", &[])],
            pool_ref("p"),
            Refused("spec.addresses", InvalidField),
        ),
        case(
            "a CIDR that is none",
            POOL_RULE,
            Refuses,
            objs![pool("p", &["203.0.113.0/33"])],
            pool_ref("p"),
            Refused("spec.addresses[0]", InvalidField),
        ),
        case(
            "a range written backwards",
            POOL_RULE,
            Refuses,
            objs![pool("p", &["203.0.113.20-203.0.113.10"])],
            pool_ref("p"),
            Refused("spec.addresses[0]", InvalidField),
        ),
        case(
            "a range from IPv6 to IPv4",
            POOL_RULE,
            Refuses,
            objs![pool("p", &["::-0.0.0.0"])],
            pool_ref("p"),
            Refused("spec.addresses[0]", InvalidField),
        ),
        case(
            "two pools overlapping",
            "config.go poolsFor (cidrsOverlap)",
            Refuses,
            objs![pool("a", &["203.0.113.0/24"]).created(1), pool("b", &["203.0.113.128/25"]).created(2)],
            pool_ref("b"),
            Refused("spec.addresses[0]", AddressesOverlap),
        ),
        case(
            "one CIDR twice in a pool",
            "config.go poolsFor (cidrsOverlap)",
            Refuses,
            objs![pool("p", &["203.0.113.0/24", "203.0.113.0/24"])],
            pool_ref("p"),
            Refused("spec.addresses[1]", AddressesOverlap),
        ),
    ]
}

fn peers() -> Vec<Case> {
    vec![
        case("a plain peer", PEER_RULE, Accepts, objs![router("r")], peer_ref("r"), Accepted),
        case(
            "a peer address that is none",
            PEER_RULE,
            Refuses,
            objs![peer("r", 64512, "1.2.3.400")],
            peer_ref("r"),
            Refused("spec.peerAddress", InvalidField),
        ),
        case(
            "myASN 0",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.my_asn = 0)],
            peer_ref("r"),
            Refused("spec.myASN", InvalidField),
        ),
        case(
            "neither peerASN nor dynamicASN",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.peer_asn = None)],
            peer_ref("r"),
            Refused("spec.peerASN", InvalidField),
        ),
        case(
            "both peerASN and dynamicASN",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.dynamic_asn = Some(DynamicAsn::External))],
            peer_ref("r"),
            Refused("spec.dynamicASN", InvalidField),
        ),
        case(
            "dynamicASN external",
            PEER_RULE,
            Accepts,
            objs![dynamic_peer("r", DynamicAsn::External, "198.51.100.1")],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "ebgpMultiHop on an iBGP peer",
            PEER_RULE,
            Refuses,
            objs![peer("r", 64600, "198.51.100.1").with(|s| s.ebgp_multi_hop = true)],
            peer_ref("r"),
            Refused("spec.ebgpMultiHop", InvalidField),
        ),
        case(
            "ebgpMultiHop with dynamicASN internal (only a fixed peerASN equal to myASN is iBGP to MetalLB)",
            PEER_RULE,
            Accepts,
            objs![dynamic_peer("r", DynamicAsn::Internal, "198.51.100.1").with(|s| s.ebgp_multi_hop = true)],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "keepaliveTime longer than holdTime",
            TIMERS,
            Refuses,
            objs![router("r").with(|s| {
                s.hold_time = Some("30s".into());
                s.keepalive_time = Some("90s".into());
            })],
            peer_ref("r"),
            Refused("spec.keepaliveTime", InvalidField),
        ),
        case(
            "holdTime 1s",
            TIMERS,
            Refuses,
            objs![router("r").with(|s| s.hold_time = Some("1s".into()))],
            peer_ref("r"),
            Refused("spec.holdTime", InvalidField),
        ),
        case(
            "holdTime 500ms (whole seconds: 0)",
            TIMERS,
            Accepts,
            objs![router("r").with(|s| s.hold_time = Some("500ms".into()))],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "holdTime 3.5s (whole seconds: 3)",
            TIMERS,
            Accepts,
            objs![router("r").with(|s| s.hold_time = Some("3.5s".into()))],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "keepaliveTime 500ms alone (hold time 1.5s)",
            TIMERS,
            Refuses,
            objs![router("r").with(|s| s.keepalive_time = Some("500ms".into()))],
            peer_ref("r"),
            Refused("spec.keepaliveTime", InvalidField),
        ),
        case(
            "holdTime alone",
            TIMERS,
            Accepts,
            objs![router("r").with(|s| s.hold_time = Some("90s".into()))],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "keepaliveTime alone",
            TIMERS,
            Accepts,
            objs![router("r").with(|s| s.keepalive_time = Some("30s".into()))],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "zero timers",
            TIMERS,
            Accepts,
            objs![router("r").with(|s| {
                s.hold_time = Some("0s".into());
                s.keepalive_time = Some("0s".into());
            })],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "connectTime 1.5s",
            SCHEMA,
            Refuses,
            objs![router("r").with(|s| s.connect_time = Some("1.5s".into()))],
            peer_ref("r"),
            Refused("spec.connectTime", InvalidField),
        ),
        case(
            "a routerID that is no address",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.router_id = Some("ASDF".into()))],
            peer_ref("r"),
            Refused("spec.routerID", InvalidField),
        ),
        case(
            "an empty node selector (every node)",
            PEER_RULE,
            Accepts,
            objs![router("r").with(|s| s.node_selectors = vec![Default::default()])],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "a node selector requirement without key",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.node_selectors = vec![expr("", "In", &["a"])])],
            peer_ref("r"),
            Refused("spec.nodeSelectors[0].matchExpressions[0].key", InvalidField),
        ),
        case(
            "a node selector requirement with an unknown operator",
            PEER_RULE,
            Refuses,
            objs![router("r").with(|s| s.node_selectors = vec![expr("rack", "Has", &["a"])])],
            peer_ref("r"),
            Refused("spec.nodeSelectors[0].matchExpressions[0].operator", InvalidField),
        ),
        case(
            "a value twice in a node selector requirement",
            DUP_SELECTORS,
            Refuses,
            objs![router("r").with(|s| s.node_selectors = vec![expr("rack", "In", &["a", "a"])])],
            peer_ref("r"),
            Refused("spec.nodeSelectors[0].matchExpressions[0].values[1]", InvalidField),
        ),
        case(
            "one node selector twice",
            DUP_SELECTORS,
            Refuses,
            objs![router("r").with(|s| s.node_selectors = on_nodes(&["node1", "node1"]))],
            peer_ref("r"),
            Refused("spec.nodeSelectors[1]", InvalidField),
        ),
        case(
            "password and passwordSecret",
            PEER_RULE,
            Refuses,
            objs![
                router("r").with(|s| {
                    s.password = Some("x".into());
                    s.password_secret = secret_ref("md5", None);
                }),
                basic_auth("md5", "y")
            ],
            peer_ref("r"),
            Refused("spec.passwordSecret", InvalidField),
        ),
        case(
            "a password Secret of another type",
            "config.go passwordFromSecretForPeer",
            Refuses,
            objs![
                router("r").with(|s| s.password_secret = secret_ref("md5", None)),
                secret(OWN_NAMESPACE, "md5", "Opaque", Some("x"))
            ],
            peer_ref("r"),
            Refused("spec.passwordSecret", SecretInvalid),
        ),
        case(
            "a password Secret without password",
            "config.go passwordFromSecretForPeer",
            Refuses,
            objs![
                router("r").with(|s| s.password_secret = secret_ref("md5", None)),
                secret(OWN_NAMESPACE, "md5", "kubernetes.io/basic-auth", None)
            ],
            peer_ref("r"),
            Refused("spec.passwordSecret", SecretInvalid),
        ),
        case(
            "a password Secret",
            "config.go passwordFromSecretForPeer",
            Accepts,
            objs![router("r").with(|s| s.password_secret = secret_ref("md5", None)), basic_auth("md5", "x")],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "a password Secret that does not exist (MetalLB: a transient error, retried)",
            "config.go passwordFromSecretForPeer",
            Refuses,
            objs![router("r").with(|s| s.password_secret = secret_ref("md5", None))],
            peer_ref("r"),
            Refused("spec.passwordSecret", ReferenceNotFound),
        ),
        case(
            "a BFD profile that does not exist (MetalLB: a transient error, retried)",
            "config.go peersFor",
            Refuses,
            objs![router("r").with(|s| s.bfd_profile = Some("fast".into()))],
            peer_ref("r"),
            Refused("spec.bfdProfile", ReferenceNotFound),
        ),
        case(
            "one address, selectors of disjoint hostnames",
            FRR_PEERS,
            Accepts,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node2"])).created(2),
                node("node1", &[]),
                node("node2", &[])
            ],
            peer_ref("b"),
            Accepted,
        ),
        case(
            "one address, one hostname",
            FRR_PEERS,
            Refuses,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node1"])).created(2),
                node("node1", &[])
            ],
            peer_ref("b"),
            Refused("spec.peerAddress", Duplicate),
        ),
        case(
            "one address, one peer on every node",
            FRR_PEERS,
            Refuses,
            objs![router("a").created(1), router("b").with(|s| s.node_selectors = on_nodes(&["node1"])).created(2)],
            peer_ref("b"),
            Refused("spec.peerAddress", Duplicate),
        ),
        case(
            "one address, three distinct hostnames",
            FRR_PEERS,
            Accepts,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node2"])).created(2),
                router("c").with(|s| s.node_selectors = on_nodes(&["node3"])).created(3),
                node("node1", &[]),
                node("node2", &[]),
                node("node3", &[])
            ],
            peer_ref("c"),
            Accepted,
        ),
        case(
            "one address, the third peer on the first's hostname",
            FRR_PEERS,
            Refuses,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node2"])).created(2),
                router("c").with(|s| s.node_selectors = on_nodes(&["node1"])).created(3),
                node("node1", &[]),
                node("node2", &[])
            ],
            peer_ref("c"),
            Refused("spec.peerAddress", Duplicate),
        ),
        case(
            "one address, two hostnames each, disjoint",
            FRR_PEERS,
            Accepts,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1", "node2"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node3", "node4"])).created(2),
                node("node1", &[]),
                node("node2", &[]),
                node("node3", &[]),
                node("node4", &[])
            ],
            peer_ref("b"),
            Accepted,
        ),
        case(
            "one address, two hostnames each, meeting on the second",
            FRR_PEERS,
            Refuses,
            objs![
                router("a").with(|s| s.node_selectors = on_nodes(&["node1", "node2"])).created(1),
                router("b").with(|s| s.node_selectors = on_nodes(&["node3", "node2"])).created(2),
                node("node1", &[]),
                node("node2", &[]),
                node("node3", &[])
            ],
            peer_ref("b"),
            Refused("spec.peerAddress", Duplicate),
        ),
        case(
            "one address, selectors that meet on no Node yet (a warning)",
            FRR_PEERS,
            Accepts,
            objs![
                router("a").with(|s| s.node_selectors = vec![sel(&[("zone", "a")])]).created(1),
                router("b").with(|s| s.node_selectors = vec![sel(&[("rack", "1")])]).created(2),
                node("node1", &[("zone", "a"), ("rack", "2")])
            ],
            peer_ref("b"),
            Warned(ConflictOnFutureNode),
        ),
        case(
            "one address in two VRFs",
            FRR_PEERS,
            Accepts,
            objs![router("a").with(|s| s.vrf = Some("red".into())).created(1), router("b").created(2)],
            peer_ref("b"),
            Accepted,
        ),
        case(
            "one address twice in one VRF",
            FRR_PEERS,
            Refuses,
            objs![
                router("a").with(|s| s.vrf = Some("red".into())).created(1),
                router("b").with(|s| s.vrf = Some("red".into())).created(2)
            ],
            peer_ref("b"),
            Refused("spec.peerAddress", Duplicate),
        ),
        case(
            "localASN on an eBGP peer",
            PEER_RULE,
            Accepts,
            objs![router("r").with(|s| s.local_asn = Some(65010))],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "dualStackAddressFamily",
            PEER_RULE,
            Accepts,
            objs![router("r").with(|s| s.dual_stack_address_family = true)],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "disableMP, deprecated (MetalLB's webhook warns that it has no effect)",
            "bgppeer_webhook.go validatePeerCreate",
            Accepts,
            objs![router("r").with(|s| s.disable_mp = true)],
            peer_ref("r"),
            Warned(DeprecatedField),
        ),
        case(
            "disableMP with dualStackAddressFamily (MetalLB: dual stack, disableMP has no effect)",
            "bgppeer_webhook.go validatePeerCreate",
            Accepts,
            objs![router("r").with(|s| {
                s.disable_mp = true;
                s.dual_stack_address_family = true;
            })],
            peer_ref("r"),
            Warned(DeprecatedField),
        ),
    ]
}

fn bfd_and_communities() -> Vec<Case> {
    let v6_pool = || pool("v6", &["2001:db8:100::/120"]);
    vec![
        case(
            "a BFD receive interval of 1 ms",
            BFD_RULE,
            Refuses,
            objs![bfd("b").with(|s| s.receive_interval = 1)],
            bfd_ref("b"),
            Refused("spec.receiveInterval", InvalidField),
        ),
        case(
            "a BFD receive interval of 60001 ms",
            BFD_RULE,
            Refuses,
            objs![bfd("b").with(|s| s.receive_interval = 60001)],
            bfd_ref("b"),
            Refused("spec.receiveInterval", InvalidField),
        ),
        // FerroLB has no echo mode: the profile itself is refused, so MetalLB's rule against
        // echo with IPv6 prefixes never gets to apply.
        case(
            "BFD echo on a peer receiving IPv6 prefixes",
            ECHO,
            Refuses,
            objs![
                v6_pool(),
                bfd("echo").with(|s| s.echo_mode = true),
                router("r").with(|s| s.bfd_profile = Some("echo".into())),
                bgp("adv", &["v6"])
            ],
            bfd_ref("echo"),
            Refused("spec.echoMode", NotSupported),
        ),
        case(
            "BFD echo on a peer receiving IPv4 prefixes",
            ECHO,
            Accepts,
            objs![
                pool("v4", &["203.0.113.0/24"]),
                bfd("echo").with(|s| s.echo_mode = true),
                router("r").with(|s| s.bfd_profile = Some("echo".into())),
                bgp("adv", &["v4"])
            ],
            bfd_ref("echo"),
            NotYet("spec.echoMode"),
        ),
        case(
            "graceful restart",
            "api/v1beta2 BGPPeer enableGracefulRestart",
            Accepts,
            objs![router("r").with(|s| s.enable_graceful_restart = true)],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "BGP unnumbered",
            "api/v1beta2 BGPPeer interface",
            Accepts,
            objs![router("r").with(|s| {
                s.peer_address = String::new();
                s.interface = Some("eth1".into());
            })],
            peer_ref("r"),
            Accepted,
        ),
        case(
            "a community value of the wrong form",
            COMMUNITY_RULE,
            Refuses,
            objs![community("c", &[("bar", "1234")])],
            community_ref("c"),
            Refused("spec.communities[0].value", InvalidField),
        ),
        case(
            "a community whose AS part is too large",
            COMMUNITY_RULE,
            Refuses,
            objs![community("c", &[("bar", "99999999:1")])],
            community_ref("c"),
            Refused("spec.communities[0].value", InvalidField),
        ),
        case(
            "a community whose number part is too large",
            COMMUNITY_RULE,
            Refuses,
            objs![community("c", &[("bar", "1:99999999")])],
            community_ref("c"),
            Refused("spec.communities[0].value", InvalidField),
        ),
        case(
            "one name in two Community objects",
            COMMUNITY_RULE,
            Refuses,
            objs![
                community("a", &[("bar", "1111:2222")]).created(1),
                community("b", &[("bar", "1111:2222")]).created(2)
            ],
            community_ref("b"),
            Refused("spec.communities[0].name", Duplicate),
        ),
        case(
            "one name twice in one Community",
            COMMUNITY_RULE,
            Refuses,
            objs![community("c", &[("bar", "1111:2222"), ("bar", "1111:3333")])],
            community_ref("c"),
            Refused("spec.communities[1].name", InvalidField),
        ),
        case(
            "large communities",
            COMMUNITY_RULE,
            Accepts,
            objs![community("c", &[("bar", "large:123:456:789"), ("baz", "1234:5678")])],
            community_ref("c"),
            Accepted,
        ),
        case(
            "a name that is itself a community value (a warning)",
            COMMUNITY_RULE,
            Accepts,
            objs![community("c", &[("65535:65281", "1:1")])],
            community_ref("c"),
            Warned(AliasShadowsValue),
        ),
    ]
}

fn advertisements() -> Vec<Case> {
    let p24 = || pool("p", &["203.0.113.0/24"]).created(1);
    let dual = || pool("p", &["203.0.113.0/24", "2001:db8:100::/120"]).created(1);
    let two_routers = || vec![router("r1").into(), peer("r2", 64513, "198.51.100.2").into()];
    let pref =
        |name: &str, value: u32, created: i64| bgp(name, &["p"]).with(|s| s.local_pref = Some(value)).created(created);
    let with = |mut items: Vec<Any>, more: Vec<Any>| {
        items.extend(more);
        objects(items)
    };
    vec![
        case(
            "a simple advertisement",
            ADV_RULE,
            Accepts,
            objs![
                p24(),
                router("r"),
                community("c", &[("bar", "64500:1")]),
                bgp("adv", &["p"]).with(|s| {
                    s.aggregation_length = 24;
                    s.local_pref = Some(100);
                    s.communities = strings(&["bar", "1234:2345", "large:1:2:3"]);
                    s.peers = strings(&["r"]);
                    s.node_selectors = on_nodes(&["node1"]);
                })
            ],
            bgp_ref("adv"),
            Accepted,
        ),
        case(
            "aggregationLength 33",
            ADV_RULE,
            Refuses,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.aggregation_length = 33)],
            bgp_ref("adv"),
            Refused("spec.aggregationLength", InvalidField),
        ),
        case(
            "aggregationLength 0",
            SCHEMA,
            Refuses,
            objs![pool("all", &["0.0.0.0/0"]), bgp("adv", &["all"]).with(|s| s.aggregation_length = 0)],
            bgp_ref("adv"),
            Refused("spec.aggregationLength", InvalidField),
        ),
        case(
            "aggregation shorter than the pool's CIDR",
            AGGREGATION,
            Refuses,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.aggregation_length = 16)],
            bgp_ref("adv"),
            Refused("spec.aggregationLength", AggregationTooShort),
        ),
        case(
            "aggregation of a range, fitting its widest block (a warning: routes cover addresses outside it)",
            AGGREGATION,
            Accepts,
            objs![pool("r", &["203.0.113.2-203.0.113.254"]), bgp("adv", &["r"]).with(|s| s.aggregation_length = 26)],
            bgp_ref("adv"),
            Warned(AggregationBeyondPool),
        ),
        case(
            "aggregation of a range, wider than its widest block",
            AGGREGATION,
            Refuses,
            objs![pool("r", &["203.0.113.2-203.0.113.254"]), bgp("adv", &["r"]).with(|s| s.aggregation_length = 24)],
            bgp_ref("adv"),
            Refused("spec.aggregationLength", AggregationTooShort),
        ),
        case(
            "two localPrefs, same peers and nodes",
            LOCAL_PREF,
            Refuses,
            objs![p24(), pref("a", 100, 1), pref("b", 200, 2)],
            bgp_ref("b"),
            Refused("spec.localPref", Conflict),
        ),
        case(
            "a localPref and none (MetalLB reads none as 0)",
            LOCAL_PREF,
            Refuses,
            objs![p24(), pref("a", 100, 1), bgp("b", &["p"]).created(2)],
            bgp_ref("b"),
            Refused("spec.localPref", Conflict),
        ),
        case(
            "two localPrefs, different aggregation lengths",
            LOCAL_PREF,
            Accepts,
            objs![p24(), pref("a", 100, 1), pref("b", 200, 2).with(|s| s.aggregation_length = 24)],
            bgp_ref("b"),
            Accepted,
        ),
        case(
            "two localPrefs on a dual-stack pool, both lengths different",
            LOCAL_PREF,
            Accepts,
            objs![
                dual(),
                pref("a", 100, 1),
                pref("b", 200, 2).with(|s| {
                    s.aggregation_length = 24;
                    s.aggregation_length_v6 = 120;
                })
            ],
            bgp_ref("b"),
            Accepted,
        ),
        case(
            "two localPrefs on a dual-stack pool, only the IPv4 length different",
            LOCAL_PREF,
            Refuses,
            objs![dual(), pref("a", 100, 1), pref("b", 200, 2).with(|s| s.aggregation_length = 24)],
            bgp_ref("b"),
            Refused("spec.localPref", Conflict),
        ),
        case(
            "two localPrefs, same peers, different nodes",
            LOCAL_PREF,
            Accepts,
            objs![
                p24(),
                pref("a", 100, 1).with(|s| s.node_selectors = on_nodes(&["node1"])),
                pref("b", 200, 2).with(|s| s.node_selectors = on_nodes(&["node2"])),
                node("node1", &[]),
                node("node2", &[])
            ],
            bgp_ref("b"),
            Accepted,
        ),
        case(
            "two localPrefs, different peers, same nodes",
            LOCAL_PREF,
            Accepts,
            with(
                two_routers(),
                vec![
                    p24().into(),
                    pref("a", 100, 1).with(|s| s.peers = strings(&["r1"])).into(),
                    pref("b", 200, 2).with(|s| s.peers = strings(&["r2"])).into(),
                ],
            ),
            bgp_ref("b"),
            Accepted,
        ),
        case(
            "two localPrefs, one for every peer",
            LOCAL_PREF,
            Refuses,
            with(
                two_routers(),
                vec![
                    p24().into(),
                    pref("a", 100, 1).with(|s| s.peers = strings(&["r1"])).into(),
                    pref("b", 200, 2).into(),
                ],
            ),
            bgp_ref("b"),
            Refused("spec.localPref", Conflict),
        ),
        case(
            "two localPrefs, one advertisement with serviceSelectors",
            LOCAL_PREF,
            Accepts,
            objs![
                p24(),
                pref("a", 100, 1),
                pref("b", 200, 2).with(|s| s.service_selectors = vec![sel(&[("app", "web")])])
            ],
            bgp_ref("b"),
            Accepted,
        ),
        case(
            "two localPrefs on nodes no Node matches both of yet (a warning)",
            LOCAL_PREF,
            Accepts,
            objs![
                p24(),
                pref("a", 100, 1).with(|s| s.node_selectors = vec![sel(&[("zone", "a")])]),
                pref("b", 200, 2).with(|s| s.node_selectors = vec![sel(&[("rack", "1")])]),
                node("node1", &[("zone", "a")])
            ],
            bgp_ref("b"),
            Warned(ConflictOnFutureNode),
        ),
        case(
            "a pool named twice in a BGP advertisement",
            ADV_RULE,
            Refuses,
            objs![p24(), bgp("adv", &["p", "p"])],
            bgp_ref("adv"),
            Refused("spec.ipAddressPools[1]", InvalidField),
        ),
        case(
            "a pool named twice in an L2 advertisement",
            "config.go l2AdvertisementFromCR",
            Refuses,
            objs![p24(), l2("adv", &["p", "p"])],
            l2_ref("adv"),
            Refused("spec.ipAddressPools[1]", InvalidField),
        ),
        case(
            "a peer named twice",
            ADV_RULE,
            Refuses,
            objs![p24(), router("r"), bgp("adv", &["p"]).with(|s| s.peers = strings(&["r", "r"]))],
            bgp_ref("adv"),
            Refused("spec.peers[1]", InvalidField),
        ),
        case(
            "a community value too large in an advertisement",
            COMMUNITY_RULE,
            Refuses,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.communities = strings(&["99999999:1"]))],
            bgp_ref("adv"),
            Refused("spec.communities[0]", InvalidField),
        ),
        case(
            "a community name no Community defines (MetalLB: a transient error, retried)",
            COMMUNITY_RULE,
            Refuses,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.communities = strings(&["nope"]))],
            bgp_ref("adv"),
            Refused("spec.communities[0]", ReferenceNotFound),
        ),
        case(
            "one community twice in an advertisement",
            ADV_RULE,
            Refuses,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.communities = strings(&["1234:2345", "1234:2345"]))],
            bgp_ref("adv"),
            Refused("spec.communities[1]", InvalidField),
        ),
        case(
            "serviceSelectors with aggregationLength 24",
            ADV_RULE,
            Refuses,
            objs![
                p24(),
                bgp("adv", &["p"]).with(|s| {
                    s.service_selectors = vec![sel(&[("app", "web")])];
                    s.aggregation_length = 24;
                })
            ],
            bgp_ref("adv"),
            Refused("spec.aggregationLength", InvalidField),
        ),
        case(
            "serviceSelectors with aggregationLengthV6 64",
            ADV_RULE,
            Refuses,
            objs![
                p24(),
                bgp("adv", &["p"]).with(|s| {
                    s.service_selectors = vec![sel(&[("app", "web")])];
                    s.aggregation_length_v6 = 64;
                })
            ],
            bgp_ref("adv"),
            Refused("spec.aggregationLengthV6", InvalidField),
        ),
        case(
            "serviceSelectors with the default lengths",
            ADV_RULE,
            Accepts,
            objs![p24(), bgp("adv", &["p"]).with(|s| s.service_selectors = vec![sel(&[("app", "web")])])],
            bgp_ref("adv"),
            Accepted,
        ),
        case(
            "one service selector twice",
            DUP_SELECTORS,
            Refuses,
            objs![
                p24(),
                bgp("adv", &["p"]).with(|s| s.service_selectors = vec![sel(&[("app", "web")]), sel(&[("app", "web")])])
            ],
            bgp_ref("adv"),
            Refused("spec.serviceSelectors[1]", InvalidField),
        ),
        case(
            "one pool selector twice in a BGP advertisement",
            DUP_SELECTORS,
            Refuses,
            objs![
                p24(),
                bgp("adv", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("a", "b")]), sel(&[("a", "b")])])
            ],
            bgp_ref("adv"),
            Refused("spec.ipAddressPoolSelectors[1]", InvalidField),
        ),
        case(
            "one requirement twice in a pool selector",
            DUP_SELECTORS,
            Refuses,
            objs![
                p24(),
                bgp("adv", &[]).with(|s| {
                    let mut twice = expr("a", "In", &["b"]);
                    if let Some(requirements) = twice.match_expressions.as_mut() {
                        requirements.push(requirements[0].clone());
                    }
                    s.ip_address_pool_selectors = vec![twice];
                })
            ],
            bgp_ref("adv"),
            Refused("spec.ipAddressPoolSelectors[0].matchExpressions[1]", InvalidField),
        ),
        case(
            "one pool selector twice in an L2 advertisement",
            DUP_SELECTORS,
            Refuses,
            objs![
                p24(),
                l2("adv", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("a", "b")]), sel(&[("a", "b")])])
            ],
            l2_ref("adv"),
            Refused("spec.ipAddressPoolSelectors[1]", InvalidField),
        ),
        case(
            "a pool selector selecting nothing",
            ADV_RULE,
            Accepts,
            objs![p24(), bgp("adv", &[]).with(|s| s.ip_address_pool_selectors = vec![sel(&[("no", "such")])])],
            bgp_ref("adv"),
            Accepted,
        ),
        case(
            "one node selector twice in an L2 advertisement",
            DUP_SELECTORS,
            Refuses,
            objs![p24(), l2("adv", &["p"]).with(|s| s.node_selectors = on_nodes(&["node1", "node1"]))],
            l2_ref("adv"),
            Refused("spec.nodeSelectors[1]", InvalidField),
        ),
        case(
            "a value twice in an L2 node selector requirement",
            DUP_SELECTORS,
            Refuses,
            objs![p24(), l2("adv", &["p"]).with(|s| s.node_selectors = vec![expr("rack", "In", &["1", "1"])])],
            l2_ref("adv"),
            Refused("spec.nodeSelectors[0].matchExpressions[0].values[1]", InvalidField),
        ),
        case(
            "interfaces",
            "config.go l2AdvertisementFromCR",
            Accepts,
            objs![p24(), l2("adv", &["p"]).with(|s| s.interfaces = strings(&["eth0", "eth1"]))],
            l2_ref("adv"),
            Accepted,
        ),
        case(
            "an interface named twice (a set to MetalLB)",
            "config.go l2AdvertisementFromCR",
            Accepts,
            objs![p24(), l2("adv", &["p"]).with(|s| s.interfaces = strings(&["eth0", "eth0"]))],
            l2_ref("adv"),
            Accepted,
        ),
    ]
}
