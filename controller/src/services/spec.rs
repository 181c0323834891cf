//! Whether FerroLB serves a Service, and what it asks for: the allocator's input, read with
//! `ferrolb_core::service::ServiceReader`, the reader the speakers and `ferrolb explain` use too.

use std::net::IpAddr;

use ferrolb_core::service::ServiceReader;
use k8s_openapi::api::core::v1::Service;

use crate::allocator::{Labels, ServiceSpec};

// One definition of the class policy for the controller, the speakers and explain.
pub use ferrolb_core::service::{ClassPolicy, DEFAULT_CLASS, NotServed};

/// Whether FerroLB serves a Service.
#[derive(Debug, Clone, PartialEq)]
pub enum Served {
    /// Not FerroLB's, and why.
    NotOurs(NotServed),
    /// FerroLB's, asking for this.
    Ours(Box<ServiceSpec>),
}

/// The addresses in a Service's status.loadBalancer.ingress, as listed: an address listed twice
/// stays twice, so that such a status differs from the one the controller writes and is
/// rewritten (see `ServiceReader::ingress`).
pub fn status_ips(svc: &Service) -> Vec<IpAddr> {
    ServiceReader::new(svc).ingress()
}

/// Reads a Service: whether FerroLB serves it and, if so, its request.
pub fn served(svc: &Service, namespace_labels: &Labels, policy: &ClassPolicy) -> Served {
    let reader = ServiceReader::new(svc);
    let key = match reader.served(policy) {
        Ok(key) => key,
        Err(why) => return Served::NotOurs(why),
    };
    Served::Ours(Box::new(ServiceSpec {
        key,
        namespace_labels: namespace_labels.clone(),
        labels: Labels::new(reader.labels().clone()),
        request: reader.request(),
        ports: reader.ports(),
        traffic_policy: reader.traffic_policy(),
        selector: Labels::new(reader.selector().clone()),
        families: reader.families(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocator::{IpFamilies, Port, ServiceKey, TrafficPolicy};
    use ferrolb_core::addresses::Family;
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
            matches!(served(&cluster_ip, &Labels::default(), &policy), Served::NotOurs(w) if w.to_string().contains("ClusterIP"))
        );
        let other = svc(json!({"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}));
        assert!(
            matches!(served(&other, &Labels::default(), &policy), Served::NotOurs(w) if w.to_string().contains("example.com/lb"))
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
        assert_eq!(s.traffic_policy, TrafficPolicy::Local);
        assert_eq!(s.selector.get("app").map(String::as_str), Some("web"));
        assert_eq!(s.request.pool.as_ref().map(|p| p.as_str()), Some("lab"), "MetalLB's alias is read");
        assert_eq!(s.key, ServiceKey::new("demo", "web"));
    }

    #[test]
    fn single_stack_by_default() {
        assert_eq!(ours(&svc(json!({"type": "LoadBalancer"}))).families, IpFamilies::Single(Family::V4));
    }

    #[test]
    fn the_status_is_compared_as_listed() {
        let mut s = svc(json!({"type": "LoadBalancer"}));
        s.status = serde_json::from_value(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}, {"hostname": "x"}, {"ip": "203.0.113.5"}]}}),
        )
        .expect("a status");
        let ip: IpAddr = "203.0.113.5".parse().expect("an ip");
        assert_eq!(status_ips(&s), [ip, ip], "a repeated address stays, so the status is rewritten");
    }
}
