//! The Announcement section: who announces the Service's addresses by Layer2 and by BGP, from
//! the speakers' status objects and the announcer's rules, or why nobody does. Each case builds
//! the cluster as objects and checks the lines (and next steps) a user reads.

use std::net::IpAddr;

use ferrolb_cli::explain::{Announcing, Observed, Topic};
use ferrolb_core::announcer::rendezvous::score;
use ferrolb_crds::{ServiceBGPStatus, ServiceL2Status};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};

use super::fixtures::*;

const NODES: [&str; 3] = ["node1", "node2", "node3"];
const L2_IP: &str = "198.51.100.200";
const BGP_IP: &str = "203.0.113.5";

fn node(name: &str, ready: bool, labels: Value) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
    }))
    .expect("a valid object")
}

fn ready_nodes() -> Vec<Node> {
    NODES.iter().map(|n| node(n, true, json!({}))).collect()
}

/// An EndpointSlice of Service default/web with one ready endpoint on each of `nodes`.
fn slice(nodes: &[&str]) -> EndpointSlice {
    let endpoints: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"addresses": [format!("10.0.0.{}", i + 1)], "nodeName": n, "conditions": {"ready": true}}))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": "web-abcde", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": endpoints,
    }))
    .expect("a valid object")
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "ferrolb.io/v1beta1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn l2_advertisement(spec: Value) -> Value {
    object("L2Advertisement", "l2", spec)
}

fn bgp_advertisement(spec: Value) -> Value {
    object("BGPAdvertisement", "bgp", spec)
}

fn peer(name: &str, address: &str, extra: Value, conditions: Value) -> Value {
    let mut spec = json!({"myASN": 64600, "peerASN": 64512, "peerAddress": address});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    let mut peer = object("BGPPeer", name, spec);
    peer["status"] = json!({"conditions": conditions});
    peer
}

fn two_peers() -> Vec<Value> {
    vec![
        peer("router-v4", "198.51.100.1", json!({}), json!([])),
        // Dual-stack: it carries the IPv4 Service too.
        peer("router-v6", "2001:db8:1::1", json!({"dualStackAddressFamily": true}), json!([])),
    ]
}

fn l2_status(node: &str) -> ServiceL2Status {
    serde_json::from_value(json!({
        "apiVersion": "ferrolb.io/v1beta1", "kind": "ServiceL2Status",
        "metadata": {"name": format!("l2-web-{node}"), "namespace": "default"},
        "spec": {},
        "status": {"node": node, "serviceName": "web", "serviceNamespace": "default", "interfaces": [{"name": "eth0"}]},
    }))
    .expect("a valid object")
}

fn bgp_status(node: &str, peers: &[&str]) -> ServiceBGPStatus {
    serde_json::from_value(json!({
        "apiVersion": "ferrolb.io/v1beta1", "kind": "ServiceBGPStatus",
        "metadata": {"name": format!("web-{node}"), "namespace": "default"},
        "spec": {},
        "status": {"node": node, "serviceName": "web", "serviceNamespace": "default", "peers": peers},
    }))
    .expect("a valid object")
}

/// The node that ranks first for `ip` among `nodes` by the rendezvous hash alone.
fn hashed_owner(ip: &str, nodes: &[&str]) -> String {
    let ip: IpAddr = ip.parse().expect("an address");
    nodes.iter().max_by_key(|n| score(n, ip)).expect("some node").to_string()
}

fn some_other(node: &str) -> String {
    NODES.iter().find(|n| **n != node).expect("some node").to_string()
}

/// Everything read, empty: three Ready nodes, no configuration besides the pools, no status.
fn announcing() -> Announcing {
    Announcing {
        l2_advertisements: Ok(Vec::new()),
        bgp_advertisements: Ok(Vec::new()),
        peers: Ok(Vec::new()),
        bfd_profiles: Ok(Vec::new()),
        communities: Ok(Vec::new()),
        nodes: Ok(ready_nodes()),
        slices: Ok(vec![slice(&NODES)]),
        l2_statuses: Ok(Vec::new()),
        bgp_statuses: Ok(Vec::new()),
    }
}

fn l2_service() -> Svc {
    svc("default", "web").assigned(&[L2_IP], "lab-l2", "198.51.100.200 from IPAddressPool lab-l2: first pool")
}

fn bgp_service() -> Svc {
    svc("default", "web").assigned(&[BGP_IP], "lab-bgp", "203.0.113.5 from IPAddressPool lab-bgp: first pool")
}

/// A Layer2 cluster: web with an address of lab-l2, covered by L2Advertisement l2.
fn l2_cluster(service: Svc, l2_spec: Value, change: impl FnOnce(&mut Announcing)) -> Observed {
    let mut observed = cluster(service, lab_pools());
    observed.announcing = announcing();
    observed.announcing.l2_advertisements = Ok(vec![l2_advertisement(l2_spec)]);
    change(&mut observed.announcing);
    observed
}

/// A BGP cluster: web with an address of lab-bgp, BGPAdvertisement bgp, two peers.
fn bgp_cluster(service: Svc, bgp_spec: Value, change: impl FnOnce(&mut Announcing)) -> Observed {
    let mut observed = cluster(service, lab_pools());
    observed.announcing = announcing();
    observed.announcing.bgp_advertisements = Ok(vec![bgp_advertisement(bgp_spec)]);
    observed.announcing.peers = Ok(two_peers());
    change(&mut observed.announcing);
    observed
}

fn l2_pool() -> Value {
    json!({"ipAddressPools": ["lab-l2"]})
}

fn bgp_pool() -> Value {
    json!({"ipAddressPools": ["lab-bgp"]})
}

struct Case {
    name: &'static str,
    observed: Observed,
    /// Each entry: some Announcement line contains every part.
    lines: Vec<Vec<String>>,
    /// Each entry: some next step contains every part.
    steps: Vec<Vec<String>>,
    /// No Announcement line contains any of these.
    absent: Vec<&'static str>,
}

fn parts(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn cases() -> Vec<Case> {
    let owner = hashed_owner(L2_IP, &NODES);
    let other = some_other(&owner);
    let owner12 = hashed_owner(L2_IP, &["node1", "node2"]);
    let ranking = format!("By the rules, {owner} ranks first among node1, node2, node3 (L2Advertisement l2).");
    let established = json!([
        {"type": "node1/BGPSessionEstablished", "status": "True", "reason": "Established", "message": "", "lastTransitionTime": "2025-05-01T10:00:00Z"},
        {"type": "node2/BGPSessionEstablished", "status": "True", "reason": "Established", "message": "", "lastTransitionTime": "2025-05-01T10:00:00Z"},
        {"type": "node3/BGPSessionEstablished", "status": "False", "reason": "Active", "message": "connection refused", "lastTransitionTime": "2025-05-01T10:00:00Z"},
    ]);
    vec![
        Case {
            name: "the owner by the rules matches its ServiceL2Status",
            observed: l2_cluster(l2_service(), l2_pool(), |a| a.l2_statuses = Ok(vec![l2_status(&owner)])),
            lines: vec![
                vec![
                    format!(
                        "Layer2: {L2_IP} is announced by {owner} (ServiceL2Status l2-web-{owner}, interfaces: eth0)."
                    ),
                    ranking.clone(),
                ],
                parts(&["Ready Nodes (node1, node2, node3) as live speakers"]),
            ],
            steps: vec![],
            absent: vec!["but by the rules", "BGP"],
        },
        Case {
            name: "a ServiceL2Status naming another Ready node: both said, and what it likely means",
            observed: l2_cluster(l2_service(), l2_pool(), |a| a.l2_statuses = Ok(vec![l2_status(&other)])),
            lines: vec![vec![
                format!(
                    "ServiceL2Status l2-web-{other} says {other} announces {L2_IP}, but by the rules {owner} should."
                ),
                ranking.clone(),
                format!("{other}'s speaker cannot reach {owner}'s"),
                "status lags a change".to_owned(),
            ]],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "a ServiceL2Status naming a node that is not Ready",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.nodes = Ok(NODES.iter().map(|n| node(n, *n != "node3", json!({}))).collect());
                a.l2_statuses = Ok(vec![l2_status("node3")]);
            }),
            lines: vec![
                vec![
                    format!(
                        "ServiceL2Status l2-web-node3 says node3 announces {L2_IP}, but by the rules {owner12} should."
                    ),
                    "node3 is not Ready".to_owned(),
                ],
                parts(&["Not candidates: node3 (not Ready)"]),
            ],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "no ServiceL2Status while the rules give an owner",
            observed: l2_cluster(l2_service(), l2_pool(), |_| {}),
            lines: vec![vec![
                format!("Layer2: no ServiceL2Status says who announces {L2_IP}. {ranking}"),
                format!("{owner}'s speaker may be down or not caught up yet"),
            ]],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "two ServiceL2Status objects: the owner's, and one the rules do not back",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.l2_statuses = Ok(vec![l2_status(&owner), l2_status(&other)]);
            }),
            lines: vec![
                vec![format!("Layer2: {L2_IP} is announced by {owner} (ServiceL2Status l2-web-{owner}")],
                vec![format!(
                    "ServiceL2Status l2-web-{other} says {other} announces the Service too, though by the rules it \
                     owns none of its addresses"
                )],
            ],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "no advertisement of either mode covers the pool",
            observed: l2_cluster(l2_service(), json!({"ipAddressPools": ["lab-bgp"]}), |_| {}),
            lines: vec![parts(&[
                "Nothing announces 198.51.100.200: no L2Advertisement and no BGPAdvertisement covers pool lab-l2.",
            ])],
            steps: vec![parts(&["Create an L2Advertisement listing pool lab-l2", "or a BGPAdvertisement"])],
            absent: vec!["Layer2:", "BGP:"],
        },
        Case {
            name: "the L2Advertisement's serviceSelectors exclude the Service",
            observed: l2_cluster(
                l2_service(),
                json!({"ipAddressPools": ["lab-l2"], "serviceSelectors": [{"matchLabels": {"tier": "front"}}]}),
                |_| {},
            ),
            lines: vec![parts(&[
                "Layer2: 198.51.100.200 is not announced: the serviceSelectors of the advertisements covering pool \
                 lab-l2 (l2) do not select the Service.",
            ])],
            steps: vec![parts(&["Give Service default/web labels that the serviceSelectors of L2Advertisement l2"])],
            absent: vec![],
        },
        Case {
            name: "no endpoint at all",
            observed: l2_cluster(l2_service(), l2_pool(), |a| a.slices = Ok(vec![slice(&[])])),
            lines: vec![parts(&[
                "Layer2: 198.51.100.200 is not announced: the Service has no ready or serving endpoint.",
            ])],
            steps: vec![parts(&[
                "Check the Service's Pods",
                "kubectl get endpointslices -n default -l kubernetes.io/service-name=web",
            ])],
            absent: vec![],
        },
        Case {
            name: "externalTrafficPolicy Local with an endpoint on node2 only: node2 owns it",
            observed: l2_cluster(l2_service().external_traffic_policy("Local"), l2_pool(), |a| {
                a.slices = Ok(vec![slice(&["node2"])]);
                a.l2_statuses = Ok(vec![l2_status("node2")]);
            }),
            lines: vec![parts(&[
                "Layer2: 198.51.100.200 is announced by node2",
                "By the rules, node2 ranks first among node2 (L2Advertisement l2).",
                "Not candidates: node1 (no ready endpoint runs there, externalTrafficPolicy: Local), node3 (no ready \
                 endpoint runs there",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "a node labelled exclude-from-external-load-balancers is left out",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                let excluded = json!({"node.kubernetes.io/exclude-from-external-load-balancers": ""});
                a.nodes = Ok(vec![node("node1", true, excluded), node("node2", true, json!({}))]);
            }),
            lines: vec![parts(&[
                "among node2 (L2Advertisement l2)",
                "Not candidates: node1 (labelled node.kubernetes.io/exclude-from-external-load-balancers)",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "every node excluded: nobody announces, and the label is the step",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                let excluded = json!({"node.kubernetes.io/exclude-from-external-load-balancers": "true"});
                a.nodes = Ok(NODES.iter().map(|n| node(n, true, excluded.clone())).collect());
            }),
            lines: vec![parts(&[
                "Layer2: 198.51.100.200 is not announced: no node may announce it (node1, node2, node3: it is \
                 labelled node.kubernetes.io/exclude-from-external-load-balancers).",
            ])],
            steps: vec![parts(&[
                "Remove the label node.kubernetes.io/exclude-from-external-load-balancers from node1, node2, node3",
            ])],
            absent: vec![],
        },
        Case {
            name: "nodeSelectors that select no node",
            observed: l2_cluster(
                l2_service(),
                json!({"ipAddressPools": ["lab-l2"], "nodeSelectors": [{"matchLabels": {"edge": "yes"}}]}),
                |_| {},
            ),
            lines: vec![parts(&["no matching advertisement's nodeSelectors select it"])],
            steps: vec![parts(&["Widen the nodeSelectors of the L2Advertisements that cover the pool"])],
            absent: vec![],
        },
        Case {
            name: "no node Ready: the speakers count as gone",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.nodes = Ok(NODES.iter().map(|n| node(n, false, json!({}))).collect());
            }),
            lines: vec![
                parts(&["no node may announce it (node1, node2, node3: its speaker is not alive)"]),
                parts(&["Ready Nodes (none) as live speakers"]),
            ],
            steps: vec![parts(&["Check node1, node2, node3: not Ready"])],
            absent: vec![],
        },
        Case {
            name: "a preferred node wins, with its weight said",
            observed: l2_cluster(
                l2_service(),
                json!({"ipAddressPools": ["lab-l2"], "preferredNodeSelectors": [
                    {"weight": 50, "preference": {"matchLabels": {"kubernetes.io/hostname": other}}}]}),
                |a| {
                    a.nodes = Ok(NODES.iter().map(|n| node(n, true, json!({"kubernetes.io/hostname": n}))).collect());
                },
            ),
            lines: vec![vec![format!(
                "By the rules, {other} ranks first among node1, node2, node3 (L2Advertisement l2, preferred weight 50)."
            )]],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "a ServiceL2Status while the rules say nobody should announce",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.slices = Ok(vec![slice(&[])]);
                a.l2_statuses = Ok(vec![l2_status("node1")]);
            }),
            lines: vec![parts(&[
                "is not announced: the Service has no ready or serving endpoint.",
                "Yet ServiceL2Status l2-web-node1 says node1 announces it",
            ])],
            steps: vec![parts(&["Check the Service's Pods"])],
            absent: vec![],
        },
        Case {
            name: "a ServiceL2Status left over for a pool only BGP covers",
            observed: bgp_cluster(l2_service(), json!({"ipAddressPools": ["lab-l2"]}), |a| {
                a.l2_statuses = Ok(vec![l2_status("node1")])
            }),
            lines: vec![parts(&[
                "Layer2: ServiceL2Status l2-web-node1 says node1 announces 198.51.100.200, though no L2Advertisement \
                 covers pool lab-l2",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP, Cluster: every node advertises to both peers, and the statuses agree",
            observed: bgp_cluster(bgp_service(), bgp_pool(), |a| {
                a.bgp_statuses = Ok(NODES.iter().map(|n| bgp_status(n, &["router-v4", "router-v6"])).collect());
            }),
            lines: vec![
                parts(&[
                    "BGP: node1, node2, node3 advertise 203.0.113.5/32 to router-v4, router-v6 (BGPAdvertisement bgp).",
                ]),
                parts(&["ServiceBGPStatus objects web-node1, web-node2, web-node3 agree with the rules."]),
                parts(&["BGP session router-v4: no speaker has reported one."]),
            ],
            steps: vec![],
            absent: vec!["Layer2", "do not:", "does not:"],
        },
        Case {
            name: "BGP: an IPv6 peer without dualStackAddressFamily does not carry an IPv4 address",
            observed: bgp_cluster(bgp_service(), bgp_pool(), |a| {
                a.peers = Ok(vec![
                    peer("router-v4", "198.51.100.1", json!({}), json!([])),
                    peer("router-v6", "2001:db8:1::1", json!({}), json!([])),
                ]);
            }),
            lines: vec![parts(&[
                "BGP: node1, node2, node3 advertise 203.0.113.5/32 to router-v4 (BGPAdvertisement bgp).",
            ])],
            steps: vec![],
            absent: vec!["to router-v4, router-v6"],
        },
        Case {
            name: "BGP, Local with endpoints on node1 and node3: node2 does not, and why",
            observed: bgp_cluster(bgp_service().external_traffic_policy("Local"), bgp_pool(), |a| {
                a.slices = Ok(vec![slice(&["node1", "node3"])]);
            }),
            lines: vec![parts(&[
                "BGP: node1, node3 advertise 203.0.113.5/32 to router-v4, router-v6 (BGPAdvertisement bgp); node2 \
                 does not: no ready endpoint runs there (externalTrafficPolicy: Local).",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP aggregation: the /24 that carries the address",
            observed: bgp_cluster(
                bgp_service(),
                json!({"ipAddressPools": ["lab-bgp"], "aggregationLength": 24, "peers": ["router-v4"]}),
                |_| {},
            ),
            lines: vec![parts(&[
                "node1, node2, node3 advertise 203.0.113.0/24 (covering 203.0.113.5) to router-v4 (BGPAdvertisement \
                 bgp).",
            ])],
            steps: vec![],
            absent: vec!["router-v6"],
        },
        Case {
            name: "BGP session states per node, and a route the router lacks",
            observed: bgp_cluster(bgp_service(), bgp_pool(), |a| {
                a.peers = Ok(vec![
                    peer("router-v4", "198.51.100.1", json!({}), established.clone()),
                    peer("router-v6", "2001:db8:1::1", json!({}), json!([])),
                ]);
            }),
            lines: vec![parts(&[
                "BGP session router-v4: established from node1, node2; node3: Active (connection refused).",
                "node3 advertises to it by the rules, but without an established session the router does not have \
                 that route.",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP sessions with BFD: the BFD state per node",
            observed: bgp_cluster(bgp_service(), bgp_pool(), |a| {
                a.peers = Ok(vec![peer(
                    "router-v4",
                    "198.51.100.1",
                    json!({}),
                    json!([
                        {"type": "node1/BGPSessionEstablished", "status": "True", "reason": "Established",
                         "message": "established with 198.51.100.1:179; BFD Up (transmit every 100ms, detection time 300ms)",
                         "lastTransitionTime": "2025-05-01T10:00:00Z"},
                        {"type": "node2/BGPSessionEstablished", "status": "False", "reason": "BFDDown",
                         "message": "closed because BFD went Down; reopens when BFD is Up; BFD Down (Control Detection Time Expired)",
                         "lastTransitionTime": "2025-05-01T10:00:00Z"},
                    ]),
                )]);
            }),
            lines: vec![parts(&[
                "BGP session router-v4: established from node1; node2: BFDDown (closed because BFD went Down; reopens \
                 when BFD is Up). BFD: node1 Up (transmit every 100ms, detection time 300ms), node2 Down \
                 (Control Detection Time Expired).",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP: a node with no ServiceBGPStatus, and a status the rules do not back",
            observed: bgp_cluster(bgp_service().external_traffic_policy("Local"), bgp_pool(), |a| {
                a.slices = Ok(vec![slice(&["node1", "node3"])]);
                a.bgp_statuses =
                    Ok(vec![bgp_status("node1", &["router-v4", "router-v6"]), bgp_status("node2", &["router-v4"])]);
            }),
            lines: vec![
                parts(&["By the rules node3 advertises the Service, but has no ServiceBGPStatus"]),
                parts(&[
                    "ServiceBGPStatus web-node2 says node2 sends the Service to router-v4, but by the rules it does \
                     not: no ready endpoint runs there (externalTrafficPolicy: Local). The status lags",
                ]),
                parts(&["ServiceBGPStatus web-node1 agrees with the rules."]),
            ],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP: a peer whose nodeSelectors leave node2 out",
            observed: bgp_cluster(bgp_service(), json!({"ipAddressPools": ["lab-bgp"], "peers": ["router-v4"]}), |a| {
                a.nodes = Ok(NODES
                    .iter()
                    .map(|n| node(n, true, json!({"rack": if *n == "node2" { "b" } else { "a" }})))
                    .collect());
                a.peers = Ok(vec![peer(
                    "router-v4",
                    "198.51.100.1",
                    json!({"nodeSelectors": [{"matchLabels": {"rack": "a"}}]}),
                    json!([]),
                )]);
            }),
            lines: vec![parts(&[
                "node1, node3 advertise 203.0.113.5/32 to router-v4",
                "node2 does not: no BGPPeer that BGPAdvertisement bgp sends to selects it and carries this address family",
            ])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "BGP: no endpoint, nothing advertised anywhere",
            observed: bgp_cluster(bgp_service(), bgp_pool(), |a| a.slices = Ok(vec![slice(&[])])),
            lines: vec![parts(&[
                "BGP: 203.0.113.5 is not advertised by any node: the Service has no ready or serving endpoint.",
            ])],
            steps: vec![parts(&["Check the Service's Pods"])],
            absent: vec![],
        },
        Case {
            name: "forbidden L2Advertisements: the status is still said, the rules are not",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.l2_advertisements = Err("not allowed to list l2advertisements.ferrolb.io: forbidden".to_owned());
                a.l2_statuses = Ok(vec![l2_status("node2")]);
            }),
            lines: vec![
                parts(&[
                    "Layer2: ServiceL2Status l2-web-node2 says node2 announces 198.51.100.200; which node should cannot \
                     be worked out here, as the L2Advertisements could not be read.",
                ]),
                parts(&["The L2Advertisements could not be read (not allowed to list l2advertisements.ferrolb.io"]),
            ],
            steps: vec![],
            absent: vec!["ranks first"],
        },
        Case {
            name: "unreadable Nodes and a missing status CRD",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.nodes = Err("not allowed to list nodes: forbidden".to_owned());
                a.l2_statuses = Err("the cluster does not know servicel2statuses.ferrolb.io".to_owned());
            }),
            lines: vec![
                parts(&["which node should cannot be worked out here, as the Nodes could not be read."]),
                parts(&["The Nodes could not be read (not allowed to list nodes: forbidden)."]),
                parts(&["The ServiceL2Status objects could not be read (the cluster does not know servicel2statuses"]),
            ],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "an L2Advertisement that cannot be read as one is refused and counts for nothing",
            observed: l2_cluster(l2_service(), l2_pool(), |a| {
                a.l2_advertisements = Ok(vec![
                    l2_advertisement(l2_pool()),
                    object("L2Advertisement", "broken", json!({"ipAddressPools": "lab-l2"})),
                ]);
            }),
            lines: vec![parts(&["L2Advertisement broken is refused", "so it counts for nothing here."])],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "dual-stack: a line per address",
            observed: l2_cluster(
                svc("default", "web").assigned(&[L2_IP, "2001:db8:1::200"], "lab-l2", "both from lab-l2"),
                l2_pool(),
                |_| {},
            ),
            lines: vec![
                parts(&["Layer2: no ServiceL2Status says who announces 198.51.100.200. By the rules"]),
                parts(&["Layer2: no ServiceL2Status says who announces 2001:db8:1::200. By the rules"]),
            ],
            steps: vec![],
            absent: vec![],
        },
        Case {
            name: "a shared address says what this check leaves out",
            observed: l2_cluster(l2_service().annotation("ferrolb.io/allow-shared-ip", "team"), l2_pool(), |_| {}),
            lines: vec![parts(&["shares its address (ferrolb.io/allow-shared-ip: team)"])],
            steps: vec![],
            absent: vec![],
        },
    ]
}

#[test]
fn each_case_says_who_announces_and_why() {
    let cases = cases();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for case in cases {
        let e = run(&case.observed);
        let lines = e.lines(Topic::Announcement);
        for want in &case.lines {
            assert!(
                lines.iter().any(|l| want.iter().all(|p| l.contains(p.as_str()))),
                "{}: no Announcement line contains all of {want:?}:\n{e}",
                case.name
            );
        }
        for want in &case.steps {
            assert!(
                e.lines(Topic::NextSteps).iter().any(|l| want.iter().all(|p| l.contains(p.as_str()))),
                "{}: no step contains all of {want:?}:\n{e}",
                case.name
            );
        }
        if case.steps.is_empty() {
            assert!(e.lines(Topic::NextSteps).is_empty(), "{}: no step expected:\n{e}", case.name);
        }
        for part in &case.absent {
            assert!(!lines.iter().any(|l| l.contains(part)), "{}: a line contains {part:?}:\n{e}", case.name);
        }
    }
}

#[test]
fn nothing_is_said_about_a_service_without_an_address_or_not_ours() {
    for service in [svc("default", "web").failed("pool gold does not exist"), l2_service().type_("ClusterIP")] {
        let mut observed = cluster(service, lab_pools());
        observed.announcing = announcing();
        observed.announcing.l2_advertisements = Ok(vec![l2_advertisement(l2_pool())]);
        let e = run(&observed);
        assert!(e.lines(Topic::Announcement).is_empty(), "{e}");
    }
}

#[test]
fn the_section_prints_after_pools_and_before_events() {
    let owner = hashed_owner(L2_IP, &NODES);
    let text = run(&l2_cluster(l2_service(), l2_pool(), |a| a.l2_statuses = Ok(vec![l2_status(&owner)]))).to_string();
    let pools = text.find("\nPools:").unwrap();
    let announcement = text.find("\nAnnouncement:\n  Layer2: 198.51.100.200 is announced by").unwrap();
    assert!(pools < announcement, "{text}");
}
