//! Whether FerroLB serves a Service, and what it asks for, read from the Service object.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations;
use k8s_openapi::api::core::v1::Service;

use crate::allocator::{IpFamilies, Labels, Port, Protocol, ServiceKey, ServiceSpec};

// One definition of the class policy for the controller, the speakers and explain.
pub use ferrolb_core::announcer::from_k8s::{ClassPolicy, DEFAULT_CLASS};

/// Whether FerroLB serves a Service.
#[derive(Debug, Clone, PartialEq)]
pub enum Served {
    /// Not FerroLB's, and why.
    NotOurs(String),
    /// FerroLB's, asking for this.
    Ours(Box<ServiceSpec>),
}

/// The addresses in a Service's status.loadBalancer.ingress.
pub fn status_ips(svc: &Service) -> Vec<IpAddr> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|ingress| ingress.iter().filter_map(|i| i.ip.as_deref()?.parse().ok()).collect())
        .unwrap_or_default()
}

fn family(name: &str) -> Family {
    if name == "IPv6" { Family::V6 } else { Family::V4 }
}

/// Reads a Service: whether FerroLB serves it and, if so, its request.
pub fn served(svc: &Service, namespace_labels: &Labels, policy: &ClassPolicy) -> Served {
    let Some(spec) = svc.spec.as_ref() else { return Served::NotOurs("it has no spec".into()) };
    if spec.type_.as_deref() != Some("LoadBalancer") {
        return Served::NotOurs(format!(
            "it is of type {}, not LoadBalancer",
            spec.type_.as_deref().unwrap_or("ClusterIP")
        ));
    }
    match spec.load_balancer_class.as_deref() {
        Some(class) if class != policy.class => {
            return Served::NotOurs(format!("its loadBalancerClass is {class}, not {}", policy.class));
        }
        None if policy.require_class => {
            return Served::NotOurs(format!("it has no loadBalancerClass, and FerroLB serves only {}", policy.class));
        }
        _ => {}
    }
    let key = ServiceKey::new(
        svc.metadata.namespace.clone().unwrap_or_default(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    let no_annotations = BTreeMap::new();
    let annotations = svc.metadata.annotations.as_ref().unwrap_or(&no_annotations);
    let primary = spec.ip_families.as_ref().and_then(|f| f.first()).map_or(Family::V4, |f| family(f));
    let families = match spec.ip_family_policy.as_deref() {
        Some("PreferDualStack") => IpFamilies::PreferDual(primary),
        Some("RequireDualStack") => IpFamilies::RequireDual(primary),
        _ => IpFamilies::Single(primary),
    };
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            let protocol = match p.protocol.as_deref() {
                Some("UDP") => Protocol::Udp,
                Some("SCTP") => Protocol::Sctp,
                _ => Protocol::Tcp,
            };
            Some(Port { protocol, port: u16::try_from(p.port).ok()? })
        })
        .collect();
    Served::Ours(Box::new(ServiceSpec {
        key,
        namespace_labels: namespace_labels.clone(),
        labels: Labels::new(svc.metadata.labels.clone().unwrap_or_default()),
        request: annotations::parse(annotations, spec.load_balancer_ip.as_deref()),
        ports,
        traffic_policy_local: spec.external_traffic_policy.as_deref() == Some("Local"),
        selector: Labels::new(spec.selector.clone().unwrap_or_default()),
        families,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(spec: serde_json::Value) -> Service {
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "demo",
            "annotations": {"metallb.universe.tf/address-pool": "lab"}}, "spec": spec}))
        .expect("a Service")
    }

    fn ours(s: &Service) -> ServiceSpec {
        match served(s, &Labels::default(), &ClassPolicy::default()) {
            Served::Ours(spec) => *spec,
            Served::NotOurs(why) => panic!("not ours: {why}"),
        }
    }

    #[test]
    fn only_load_balancers_of_our_class_are_served() {
        let policy = ClassPolicy::default();
        let cluster_ip = svc(json!({"type": "ClusterIP"}));
        assert!(
            matches!(served(&cluster_ip, &Labels::default(), &policy), Served::NotOurs(w) if w.contains("ClusterIP"))
        );
        let other = svc(json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}));
        assert!(
            matches!(served(&other, &Labels::default(), &policy), Served::NotOurs(w) if w.contains("example.com/lb"))
        );
        let classless = svc(json!({"type": "LoadBalancer"}));
        assert!(matches!(served(&classless, &Labels::default(), &policy), Served::Ours(_)));
        let strict = ClassPolicy { require_class: true, ..ClassPolicy::default() };
        assert!(matches!(served(&classless, &Labels::default(), &strict), Served::NotOurs(_)));
        let named = svc(json!({"type": "LoadBalancer", "loadBalancerClass": "ferrolb.io/lb"}));
        assert!(matches!(served(&named, &Labels::default(), &strict), Served::Ours(_)));
    }

    #[test]
    fn reads_families_ports_policy_and_annotations() {
        let s = ours(&svc(
            json!({"type": "LoadBalancer", "ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"],
            "externalTrafficPolicy": "Local", "selector": {"app": "web"},
            "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}),
        ));
        assert_eq!(s.families, IpFamilies::RequireDual(Family::V6));
        assert_eq!(s.ports, vec![Port::tcp(80), Port::udp(53)]);
        assert!(s.traffic_policy_local);
        assert_eq!(s.selector.get("app").map(String::as_str), Some("web"));
        assert_eq!(s.request.pool.as_ref().map(|p| p.as_str()), Some("lab"), "MetalLB's alias is read");
        assert_eq!(s.key, ServiceKey::new("demo", "web"));
    }

    #[test]
    fn single_stack_by_default() {
        assert_eq!(ours(&svc(json!({"type": "LoadBalancer"}))).families, IpFamilies::Single(Family::V4));
    }
}
