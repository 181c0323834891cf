//! Kubernetes objects to views: Services (class, type, ingress, policy, pool annotation),
//! EndpointSlices (conditions, nodeName), Nodes (exclusion label, NetworkUnavailable).

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};

use super::super::from_k8s::{NodeError, SliceError};
use super::*;
use crate::service::tests::service;

fn lb() -> Value {
    json!({"type": "LoadBalancer"})
}

fn ingress(ips: Value) -> Value {
    json!({"loadBalancer": {"ingress": ips}})
}

#[test]
fn which_services_are_ours() {
    let default = ClassPolicy::default();
    let strict = ClassPolicy { require_class: true, ..ClassPolicy::default() };
    let cases: Vec<(&str, Value, &ClassPolicy, Result<(), NotServed>)> = vec![
        ("LoadBalancer without class", lb(), &default, Ok(())),
        ("our class", json!({"type": "LoadBalancer", "loadBalancerClass": "ferrolb.io/lb"}), &default, Ok(())),
        (
            "another class",
            json!({"type": "LoadBalancer", "loadBalancerClass": "other.io/lb"}),
            &default,
            Err(NotServed::OtherClass { class: "other.io/lb".into(), ours: "ferrolb.io/lb".into() }),
        ),
        ("no class, only our class served", lb(), &strict, Err(NotServed::NoClass { ours: "ferrolb.io/lb".into() })),
        (
            "our class, only our class served",
            json!({"type": "LoadBalancer", "loadBalancerClass": "ferrolb.io/lb"}),
            &strict,
            Ok(()),
        ),
        (
            "NodePort",
            json!({"type": "NodePort"}),
            &default,
            Err(NotServed::NotLoadBalancer { type_: "NodePort".into() }),
        ),
        ("no type", json!({}), &default, Err(NotServed::NotLoadBalancer { type_: "ClusterIP".into() })),
    ];
    for (name, spec, policy, expected) in cases {
        let got = service_view(&service(spec, json!({}), json!({})), policy).map(|_| ());
        assert_eq!(got, expected, "case: {name}");
    }
    let custom = ClassPolicy { class: "example.com/lb".into(), require_class: false };
    let named = service(json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}), json!({}), json!({}));
    assert!(service_view(&named, &custom).is_ok());
    assert!(service_view(&named, &default).is_err());
    let mut unnamed = service(lb(), json!({}), json!({}));
    unnamed.metadata.name = None;
    assert_eq!(service_view(&unnamed, &default), Err(NotServed::Unnamed));
}

#[test]
fn ingress_addresses_policy_and_pools() {
    // (case, spec, status, annotations, addresses, policy, pools)
    type Case = (&'static str, Value, Value, Value, Vec<&'static str>, TrafficPolicy, Vec<&'static str>);
    let cases: Vec<Case> = vec![
        ("no status", lb(), json!({}), json!({}), vec![], TrafficPolicy::Cluster, vec![]),
        (
            "two families, pool annotation of two pools",
            lb(),
            ingress(json!([{"ip": "198.51.100.200"}, {"ip": "2001:db8:1::200"}])),
            json!({"ferrolb.io/ip-allocated-from-pool": "l2, l2v6"}),
            vec!["198.51.100.200", "2001:db8:1::200"],
            TrafficPolicy::Cluster,
            vec!["l2", "l2v6"],
        ),
        (
            "hostname-only, unparsable and duplicate entries are skipped",
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"}),
            ingress(
                json!([{"hostname": "lb.example"}, {"ip": "nonsense"}, {"ip": "203.0.113.5"}, {"ip": "203.0.113.5"}]),
            ),
            json!({"ferrolb.io/ip-allocated-from-pool": "bgp"}),
            vec!["203.0.113.5"],
            TrafficPolicy::Local,
            vec!["bgp"],
        ),
        (
            "explicit Cluster policy, empty ingress",
            json!({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster"}),
            ingress(json!([])),
            json!({"other": "x"}),
            vec![],
            TrafficPolicy::Cluster,
            vec![],
        ),
    ];
    for (name, spec, status, annotations, ips, policy, pools) in cases {
        let view = service_view(&service(spec, status, annotations), &ClassPolicy::default()).unwrap();
        assert_eq!(view.key, ServiceKey::new("shop", "web"), "case: {name}");
        assert_eq!(view.labels.get("app").map(String::as_str), Some("web"), "case: {name}");
        assert_eq!(view.addresses, ips.iter().map(|a| ip(a)).collect::<Vec<_>>(), "case: {name}");
        assert_eq!(view.traffic_policy, policy, "case: {name}");
        assert_eq!(view.pools, pools, "case: {name}");
    }
}

fn slice(labels: Value, endpoints: Value) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {"namespace": "shop", "name": "web-x1", "labels": labels},
        "addressType": "IPv4",
        "endpoints": endpoints,
    }))
    .unwrap()
}

#[test]
fn endpoint_conditions() {
    let endpoints = json!([
        {"addresses": ["10.0.0.1"], "nodeName": "n1"},
        {"addresses": ["10.0.0.2"], "nodeName": "n2", "conditions": {"ready": false, "serving": true, "terminating": true}},
        {"addresses": ["10.0.0.3"], "nodeName": "n3", "conditions": {"ready": false, "serving": false}},
        {"addresses": ["10.0.0.4"], "conditions": {"ready": true}},
        {"addresses": ["10.0.0.5"], "nodeName": "n1", "conditions": {"serving": false}},
    ]);
    let (key, view) = endpoint_slice_view(&slice(json!({"kubernetes.io/service-name": "web"}), endpoints)).unwrap();
    assert_eq!(key, SliceKey::new("shop", "web-x1"));
    assert_eq!(view.service, ServiceKey::new("shop", "web"));
    let expected = vec![
        EndpointView { node: Some("n1".into()), ready: true, serving: true },
        EndpointView { node: Some("n2".into()), ready: false, serving: true },
        EndpointView { node: Some("n3".into()), ready: false, serving: false },
        EndpointView { node: None, ready: true, serving: true },
        EndpointView { node: Some("n1".into()), ready: true, serving: false },
    ];
    assert_eq!(view.endpoints, expected);
    let no_label = slice(json!({}), json!([]));
    assert_eq!(endpoint_slice_view(&no_label), Err(SliceError::NoServiceLabel));
    let empty: EndpointSlice = serde_json::from_value(json!({
        "metadata": {"namespace": "shop", "name": "web-x2", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": null,
    }))
    .unwrap();
    assert_eq!(endpoint_slice_view(&empty).unwrap().1.endpoints, vec![]);
}

#[test]
fn node_exclusion_and_network() {
    let mk = |labels: Value, conditions: Value| -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n1", "labels": labels}, "status": {"conditions": conditions}}),
        )
        .unwrap()
    };
    let cases: Vec<(&str, Node, bool, bool)> = vec![
        ("plain", mk(json!({"zone": "a"}), json!([{"type": "Ready", "status": "True"}])), false, false),
        (
            "exclusion label, whatever its value",
            mk(json!({"node.kubernetes.io/exclude-from-external-load-balancers": ""}), json!([])),
            true,
            false,
        ),
        (
            "NetworkUnavailable True",
            mk(json!({}), json!([{"type": "NetworkUnavailable", "status": "True"}])),
            false,
            true,
        ),
        (
            "NetworkUnavailable False",
            mk(json!({}), json!([{"type": "NetworkUnavailable", "status": "False"}])),
            false,
            false,
        ),
        (
            "NetworkUnavailable Unknown",
            mk(json!({}), json!([{"type": "NetworkUnavailable", "status": "Unknown"}])),
            false,
            false,
        ),
        ("no status", serde_json::from_value(json!({"metadata": {"name": "n1"}})).unwrap(), false, false),
    ];
    for (name, node, excluded, network_unavailable) in cases {
        let view = node_view(&node).unwrap();
        assert_eq!(view.name, "n1", "case: {name}");
        assert_eq!((view.excluded, view.network_unavailable), (excluded, network_unavailable), "case: {name}");
    }
    let zoned = node_view(&mk(json!({"zone": "a"}), json!([]))).unwrap();
    assert_eq!(zoned.labels.get("zone").map(String::as_str), Some("a"));
    assert_eq!(node_view(&Node::default()), Err(NodeError::Unnamed));
}

#[test]
fn converted_objects_drive_a_decision() {
    let svc = service(
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"}),
        ingress(json!([{"ip": "198.51.100.230"}])),
        json!({"ferrolb.io/ip-allocated-from-pool": "l2"}),
    );
    let endpoints = json!([{"addresses": ["10.0.0.1"], "nodeName": "n1", "conditions": {"ready": true}}]);
    let (slice_key, slice_view) =
        endpoint_slice_view(&slice(json!({"kubernetes.io/service-name": "web"}), endpoints)).unwrap();
    let mut announcer = World::new().announcer();
    announcer.apply_service(service_view(&svc, &ClassPolicy::default()).unwrap());
    announcer.apply_slice(slice_key, slice_view);
    let decision = announcer.decide_layer2();
    assert_eq!(decision.owned[&ip("198.51.100.230")].services, [ServiceKey::new("shop", "web")].into());
}
