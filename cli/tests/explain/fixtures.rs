//! Builders for the objects `explain` reads: Services as the controller leaves them, pools with
//! their status, Events. No cluster.

use std::collections::BTreeMap;

use ferrolb_cli::explain::{Announcing, Explanation, Observed, Topic, explain};
use ferrolb_crds::{IPAddressPool, IPAddressPoolSpec, IPAddressPoolStatus, ServiceAllocation};
use k8s_openapi::api::core::v1::{
    Event, LoadBalancerIngress, LoadBalancerStatus, ObjectReference, Service, ServiceSpec, ServiceStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

pub const CONDITION: &str = "ferrolb.io/AddressAssigned";

pub fn time(text: &str) -> Time {
    Time(text.parse::<Timestamp>().expect("a valid timestamp"))
}

/// A Service of type LoadBalancer with no class, as it is before the controller answers.
pub fn svc(namespace: &str, name: &str) -> Svc {
    Svc(Service {
        metadata: ObjectMeta {
            namespace: Some(namespace.to_owned()),
            name: Some(name.to_owned()),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(ServiceSpec { type_: Some("LoadBalancer".to_owned()), ..Default::default() }),
        status: None,
    })
}

#[derive(Clone)]
pub struct Svc(pub Service);

impl Svc {
    fn spec(&mut self) -> &mut ServiceSpec {
        self.0.spec.get_or_insert_with(Default::default)
    }

    fn status(&mut self) -> &mut ServiceStatus {
        self.0.status.get_or_insert_with(Default::default)
    }

    pub fn type_(mut self, type_: &str) -> Self {
        self.spec().type_ = Some(type_.to_owned());
        self
    }

    pub fn class(mut self, class: &str) -> Self {
        self.spec().load_balancer_class = Some(class.to_owned());
        self
    }

    pub fn policy(mut self, policy: &str) -> Self {
        self.spec().ip_family_policy = Some(policy.to_owned());
        self
    }

    pub fn external_traffic_policy(mut self, policy: &str) -> Self {
        self.spec().external_traffic_policy = Some(policy.to_owned());
        self
    }

    pub fn load_balancer_ip(mut self, ip: &str) -> Self {
        self.spec().load_balancer_ip = Some(ip.to_owned());
        self
    }

    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.metadata.labels.get_or_insert_with(BTreeMap::new).insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn generation(mut self, generation: i64) -> Self {
        self.0.metadata.generation = Some(generation);
        self
    }

    pub fn ingress(mut self, ips: &[&str]) -> Self {
        let ingress = ips
            .iter()
            .map(|ip| LoadBalancerIngress {
                ip: Some((*ip).to_owned()),
                ip_mode: Some("VIP".to_owned()),
                ..Default::default()
            })
            .collect();
        self.status().load_balancer = Some(LoadBalancerStatus { ingress: Some(ingress) });
        self
    }

    /// What the controller writes on success: ingress, pool annotation, True condition.
    pub fn assigned(self, ips: &[&str], pools: &str, message: &str) -> Self {
        self.ingress(ips).annotation("ferrolb.io/ip-allocated-from-pool", pools).condition(
            "True",
            "IPAllocated",
            message,
        )
    }

    /// What the controller writes on failure: a False condition.
    pub fn failed(self, message: &str) -> Self {
        self.condition("False", "AllocationFailed", message)
    }

    pub fn condition(mut self, status: &str, reason: &str, message: &str) -> Self {
        let generation = self.0.metadata.generation;
        self.status().conditions.get_or_insert_with(Vec::new).push(Condition {
            type_: CONDITION.to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
            observed_generation: generation,
            last_transition_time: time("2025-05-01T10:00:00Z"),
        });
        self
    }
}

/// An accepted pool with `addresses`, autoAssign, no serviceAllocation, no counters.
pub fn pool(name: &str, addresses: &[&str]) -> Pool {
    let mut pool = IPAddressPool::new(
        name,
        IPAddressPoolSpec {
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            auto_assign: true,
            avoid_buggy_ips: false,
            service_allocation: None,
        },
    );
    pool.status = Some(IPAddressPoolStatus::default());
    Pool(pool).accepted()
}

pub struct Pool(pub IPAddressPool);

impl Pool {
    fn status(&mut self) -> &mut IPAddressPoolStatus {
        self.0.status.get_or_insert_with(Default::default)
    }

    fn allocation(&mut self) -> &mut ServiceAllocation {
        self.0.spec.service_allocation.get_or_insert_with(Default::default)
    }

    fn accepted_condition(mut self, status: &str, reason: &str, message: &str) -> Self {
        let conditions = &mut self.status().conditions;
        conditions.retain(|c| c.type_ != "Accepted");
        conditions.push(Condition {
            type_: "Accepted".to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
            observed_generation: Some(1),
            last_transition_time: time("2025-05-01T09:00:00Z"),
        });
        self
    }

    pub fn accepted(self) -> Self {
        self.accepted_condition("True", "Accepted", "")
    }

    pub fn refused(self, reason: &str, message: &str) -> Self {
        self.accepted_condition("False", reason, message)
    }

    pub fn unreported(mut self) -> Self {
        self.status().conditions.clear();
        self
    }

    pub fn auto_assign(mut self, auto_assign: bool) -> Self {
        self.0.spec.auto_assign = auto_assign;
        self
    }

    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.allocation().namespaces = namespaces.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    pub fn namespace_selector(mut self, key: &str, value: &str) -> Self {
        self.allocation().namespace_selectors.push(selector(key, value));
        self
    }

    pub fn service_selector(mut self, key: &str, value: &str) -> Self {
        self.allocation().service_selectors.push(selector(key, value));
        self
    }

    pub fn priority(mut self, priority: i32) -> Self {
        self.allocation().priority = Some(priority);
        self
    }

    pub fn ipv4(mut self, assigned: i64, available: i64) -> Self {
        let status = self.status();
        status.assigned_ipv4 = Some(assigned);
        status.available_ipv4 = Some(available);
        self
    }
}

fn selector(key: &str, value: &str) -> LabelSelector {
    LabelSelector { match_labels: Some([(key.to_owned(), value.to_owned())].into()), match_expressions: None }
}

/// An Event about Service `name`, at `at`.
pub fn event(name: &str, type_: &str, reason: &str, message: &str, at: &str) -> Event {
    Event {
        involved_object: ObjectReference {
            kind: Some("Service".to_owned()),
            name: Some(name.to_owned()),
            ..Default::default()
        },
        type_: Some(type_.to_owned()),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_timestamp: Some(time(at)),
        reporting_component: Some("ferrolb-controller".to_owned()),
        ..Default::default()
    }
}

/// The cluster: one Service, these pools, no Events, namespace labels unknown.
pub fn cluster(service: Svc, pools: Vec<Pool>) -> Observed {
    Observed {
        service: service.0,
        pools: Ok(pools.into_iter().map(|p| p.0).collect()),
        events: Vec::new(),
        namespace_labels: None,
        announcing: Announcing::unread("not read in this test"),
    }
}

/// `explain` on `observed`, printed on failure so a failing test shows the whole answer.
pub fn run(observed: &Observed) -> Explanation {
    let explanation = explain(observed);
    println!("{explanation}");
    explanation
}

/// Whether some line of `topic` contains every one of `parts`.
#[track_caller]
pub fn assert_line(explanation: &Explanation, topic: Topic, parts: &[&str]) {
    let lines = explanation.lines(topic);
    assert!(
        lines.iter().any(|line| parts.iter().all(|part| line.contains(part))),
        "no {topic:?} line contains all of {parts:?}; the explanation:\n{explanation}"
    );
}

/// Whether no line of `topic` contains `part`.
#[track_caller]
pub fn assert_no_line(explanation: &Explanation, topic: Topic, part: &str) {
    assert!(
        !explanation.lines(topic).iter().any(|line| line.contains(part)),
        "a {topic:?} line contains {part:?}; the explanation:\n{explanation}"
    );
}

/// The two lab pools: BGP and Layer2, both families.
pub fn lab_pools() -> Vec<Pool> {
    vec![
        pool("lab-bgp", &["203.0.113.0/24", "2001:db8:100::/120"]),
        pool("lab-l2", &["198.51.100.200-198.51.100.250", "2001:db8:1::200-2001:db8:1::2ff"]),
    ]
}
