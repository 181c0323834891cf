//! The reader, case by case: each field of a Service read from JSON as the apiserver returns it.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};

use super::*;
use crate::addresses::Family;
use crate::annotations::{AliasUse, RequestSource};

/// The Service shop/web (label app=web) with this spec, status and annotations; the
/// announcer's conversion tests build theirs here too.
pub(crate) fn service(spec: Value, status: Value, annotations: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"namespace": "shop", "name": "web", "labels": {"app": "web"}, "annotations": annotations},
        "spec": spec,
        "status": status,
    }))
    .unwrap()
}

fn with_spec(spec: Value) -> Service {
    service(spec, json!({}), json!({}))
}

fn ips(texts: &[&str]) -> Vec<IpAddr> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

#[test]
fn served_by_type_class_and_name() {
    let default = ClassPolicy::default();
    let strict = ClassPolicy { require_class: true, ..ClassPolicy::default() };
    let custom = ClassPolicy { class: "example.com/lb".into(), require_class: false };
    let not_lb = |t: &str| Err(NotServed::NotLoadBalancer { type_: t.into() });
    let cases: Vec<(&str, Value, &ClassPolicy, Result<(), NotServed>)> = vec![
        ("LoadBalancer without class", json!({"type": "LoadBalancer"}), &default, Ok(())),
        ("our class", json!({"type": "LoadBalancer", "loadBalancerClass": "ferrolb.io/lb"}), &default, Ok(())),
        (
            "another class",
            json!({"type": "LoadBalancer", "loadBalancerClass": "other.io/lb"}),
            &default,
            Err(NotServed::OtherClass { class: "other.io/lb".into(), ours: "ferrolb.io/lb".into() }),
        ),
        (
            "no class, strict",
            json!({"type": "LoadBalancer"}),
            &strict,
            Err(NotServed::NoClass { ours: "ferrolb.io/lb".into() }),
        ),
        ("our class, strict", json!({"type": "LoadBalancer", "loadBalancerClass": "ferrolb.io/lb"}), &strict, Ok(())),
        ("a custom class", json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}), &custom, Ok(())),
        ("NodePort", json!({"type": "NodePort"}), &default, not_lb("NodePort")),
        ("no type", json!({}), &default, not_lb("ClusterIP")),
        ("no spec", Value::Null, &default, not_lb("ClusterIP")),
    ];
    for (name, spec, policy, expected) in cases {
        let svc = with_spec(spec);
        let got = ServiceReader::new(&svc).served(policy);
        assert_eq!(got, expected.map(|()| ServiceKey::new("shop", "web")), "case: {name}");
    }
    let mut unnamed = with_spec(json!({"type": "LoadBalancer"}));
    unnamed.metadata.name = None;
    assert_eq!(ServiceReader::new(&unnamed).served(&default), Err(NotServed::Unnamed));
    assert_eq!(ServiceReader::new(&unnamed).key(), None);
    unnamed.spec = None;
    assert_eq!(ServiceReader::new(&unnamed).served(&default).map(|_| ()), not_lb("ClusterIP"), "type first, then name");
}

#[test]
fn ingress_as_written_and_addresses_held_once() {
    // (case, ingress, ingress(), addresses())
    let cases: Vec<(&str, Value, Vec<&str>, Vec<&str>)> = vec![
        ("no status", json!({}), vec![], vec![]),
        ("empty ingress", json!({"loadBalancer": {"ingress": []}}), vec![], vec![]),
        (
            "two families, in order",
            json!({"loadBalancer": {"ingress": [{"ip": "2001:db8:1::200"}, {"ip": "198.51.100.200"}]}}),
            vec!["2001:db8:1::200", "198.51.100.200"],
            vec!["2001:db8:1::200", "198.51.100.200"],
        ),
        (
            "hostname-only and unparsable entries are skipped",
            json!({"loadBalancer": {"ingress": [{"hostname": "lb.example"}, {"ip": "nonsense"}, {"ip": "203.0.113.5"}]}}),
            vec!["203.0.113.5"],
            vec!["203.0.113.5"],
        ),
        (
            "an address listed twice is held once, but ingress keeps both",
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}, {"ip": "203.0.113.6"}, {"ip": "203.0.113.5"}]}}),
            vec!["203.0.113.5", "203.0.113.6", "203.0.113.5"],
            vec!["203.0.113.5", "203.0.113.6"],
        ),
    ];
    for (name, status, ingress, addresses) in cases {
        let svc = service(json!({"type": "LoadBalancer"}), status, json!({}));
        let reader = ServiceReader::new(&svc);
        assert_eq!(reader.ingress(), ips(&ingress), "case: {name}");
        assert_eq!(reader.addresses(), ips(&addresses), "case: {name}");
    }
}

#[test]
fn families_and_family_policy() {
    // (case, spec, families(), family_policy())
    let cases: Vec<(&str, Value, IpFamilies, &str)> = vec![
        ("unset", json!({}), IpFamilies::Single(Family::V4), "SingleStack"),
        ("IPv6 single stack", json!({"ipFamilies": ["IPv6"]}), IpFamilies::Single(Family::V6), "SingleStack"),
        (
            "prefer dual, IPv4 first",
            json!({"ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv4", "IPv6"]}),
            IpFamilies::PreferDual(Family::V4),
            "PreferDualStack",
        ),
        (
            "require dual, IPv6 first",
            json!({"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"]}),
            IpFamilies::RequireDual(Family::V6),
            "RequireDualStack",
        ),
        (
            "require dual, no families listed",
            json!({"ipFamilyPolicy": "RequireDualStack"}),
            IpFamilies::RequireDual(Family::V4),
            "RequireDualStack",
        ),
        ("unknown policy reads as single", json!({"ipFamilyPolicy": "Odd"}), IpFamilies::Single(Family::V4), "Odd"),
    ];
    for (name, spec, families, policy) in cases {
        let svc = with_spec(spec);
        let reader = ServiceReader::new(&svc);
        assert_eq!(reader.families(), families, "case: {name}");
        assert_eq!(reader.family_policy(), policy, "case: {name}");
    }
}

#[test]
fn ports_and_traffic_policy() {
    // (case, spec, ports(), traffic_policy())
    let cases: Vec<(&str, Value, Vec<Port>, TrafficPolicy)> = vec![
        ("nothing", json!({}), vec![], TrafficPolicy::Cluster),
        (
            "protocols default to TCP, order kept",
            json!({"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}, {"port": 9, "protocol": "SCTP"}, {"port": 443, "protocol": "TCP"}]}),
            vec![Port::tcp(80), Port::udp(53), Port::sctp(9), Port::tcp(443)],
            TrafficPolicy::Cluster,
        ),
        (
            "a port out of range is skipped",
            json!({"ports": [{"port": 70000}, {"port": 8080}]}),
            vec![Port::tcp(8080)],
            TrafficPolicy::Cluster,
        ),
        ("Local", json!({"externalTrafficPolicy": "Local"}), vec![], TrafficPolicy::Local),
        ("explicit Cluster", json!({"externalTrafficPolicy": "Cluster"}), vec![], TrafficPolicy::Cluster),
    ];
    for (name, spec, ports, policy) in cases {
        let svc = with_spec(spec);
        let reader = ServiceReader::new(&svc);
        assert_eq!(reader.ports(), ports, "case: {name}");
        assert_eq!(reader.traffic_policy(), policy, "case: {name}");
    }
}

#[test]
fn request_pool_annotation_labels_and_selector() {
    let svc = service(
        json!({"type": "LoadBalancer", "loadBalancerIP": "203.0.113.9", "selector": {"app": "web"}}),
        json!({}),
        json!({
            "metallb.universe.tf/address-pool": "lab",
            "ferrolb.io/allow-shared-ip": "k",
            "ferrolb.io/ip-allocated-from-pool": "l2, ,l2v6",
        }),
    );
    let reader = ServiceReader::new(&svc);
    let request = reader.request();
    assert_eq!(request.pool.as_ref().map(|p| p.as_str()), Some("lab"), "MetalLB's alias is read");
    assert_eq!(
        request.aliases,
        [AliasUse { alias: "metallb.universe.tf/address-pool", canonical: "ferrolb.io/address-pool" }]
    );
    assert_eq!(request.requested, ips(&["203.0.113.9"]));
    assert_eq!(request.requested_from, Some(RequestSource::LoadBalancerIp));
    assert_eq!(request.sharing_key.as_ref().map(|k| k.as_str()), Some("k"));
    assert_eq!(reader.allocated_from(), ["l2", "l2v6"]);
    assert_eq!(reader.labels().get("app").map(String::as_str), Some("web"));
    assert_eq!(reader.selector().get("app").map(String::as_str), Some("web"));

    let bare: Service = serde_json::from_value(json!({"metadata": {"namespace": "shop", "name": "web"}})).unwrap();
    let reader = ServiceReader::new(&bare);
    assert!(reader.labels().is_empty() && reader.selector().is_empty() && reader.annotations().is_empty());
    assert_eq!(reader.request(), crate::annotations::ServiceRequest::default());
    assert!(reader.allocated_from().is_empty());
    assert_eq!(reader.class(), None);
}

#[test]
fn the_controllers_condition_is_found_by_type() {
    let condition = |type_: &str| json!({"type": type_, "status": "True", "reason": "r", "message": "m", "lastTransitionTime": "2026-01-01T00:00:00Z"});
    let svc = service(
        json!({"type": "LoadBalancer"}),
        json!({"conditions": [condition("other.io/Thing"), condition(ASSIGNED_CONDITION)]}),
        json!({}),
    );
    assert_eq!(ServiceReader::new(&svc).assigned_condition().map(|c| c.type_.as_str()), Some(ASSIGNED_CONDITION));
    let none = with_spec(json!({}));
    assert!(ServiceReader::new(&none).assigned_condition().is_none());
}
