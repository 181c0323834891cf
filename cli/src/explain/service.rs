//! What `explain` reads from a Service: whether FerroLB serves it, what it asks for (through
//! `ferrolb_core::annotations::parse`, exactly as the controller reads it), and what the
//! controller wrote back (addresses, pool annotation, condition).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::annotations::{ServiceRequest, parse};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::contract::{ADDRESS_ASSIGNED, ALLOCATED_FROM_POOL, FERROLB_CLASS};

/// Whether FerroLB serves the Service, by its type and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Serving {
    /// Not of type LoadBalancer: no load balancer serves it.
    NotLoadBalancer {
        /// Its `spec.type` (ClusterIP when unset).
        type_: String,
    },
    /// Of type LoadBalancer, with a class that is not FerroLB's default.
    OtherClass {
        /// Its `spec.loadBalancerClass`.
        class: String,
    },
    /// Of type LoadBalancer with no class, or FerroLB's class.
    Served,
}

/// A Service as `explain` reads it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceFacts<'a> {
    /// `namespace/name`.
    pub key: String,
    /// Its namespace.
    pub namespace: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its type and class.
    pub serving: Serving,
    /// Its `spec.loadBalancerClass`, if any.
    pub class: Option<String>,
    /// The IP addresses in `status.loadBalancer.ingress`.
    pub ingress: Vec<IpAddr>,
    /// The pools in the `ferrolb.io/ip-allocated-from-pool` annotation.
    pub allocated_from: Vec<String>,
    /// The controller's `ferrolb.io/AddressAssigned` condition, if it wrote one.
    pub condition: Option<&'a Condition>,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// What its annotations and `spec.loadBalancerIP` ask for.
    pub request: ServiceRequest,
    /// Its `spec.ipFamilyPolicy` (SingleStack when unset).
    pub family_policy: String,
}

impl<'a> ServiceFacts<'a> {
    /// Reads `service`.
    pub(crate) fn new(service: &'a Service) -> Self {
        let meta = &service.metadata;
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".to_owned());
        let name = meta.name.clone().unwrap_or_default();
        let spec = service.spec.clone().unwrap_or_default();
        let class = spec.load_balancer_class.clone();
        let type_ = spec.type_.clone().unwrap_or_else(|| "ClusterIP".to_owned());
        let serving = match &class {
            _ if type_ != "LoadBalancer" => Serving::NotLoadBalancer { type_ },
            Some(class) if class != FERROLB_CLASS => Serving::OtherClass { class: class.clone() },
            _ => Serving::Served,
        };
        let status = service.status.as_ref();
        let ingress = status
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ip.as_deref()?.parse().ok())
            .collect();
        let condition =
            status.and_then(|s| s.conditions.as_ref()).into_iter().flatten().find(|c| c.type_ == ADDRESS_ASSIGNED);
        let annotations = meta.annotations.clone().unwrap_or_default();
        let allocated_from = annotations
            .get(ALLOCATED_FROM_POOL)
            .map(|pools| pools.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        ServiceFacts {
            key: format!("{namespace}/{name}"),
            namespace,
            labels: meta.labels.clone().unwrap_or_default(),
            serving,
            class,
            ingress,
            allocated_from,
            condition,
            generation: meta.generation,
            request: parse(&annotations, spec.load_balancer_ip.as_deref()),
            family_policy: spec.ip_family_policy.unwrap_or_else(|| "SingleStack".to_owned()),
        }
    }

    /// Whether the Service asks for nothing in particular: no address, no pool.
    pub(crate) fn asks_nothing(&self) -> bool {
        self.request.requested.is_empty() && self.request.requested_from.is_none() && self.request.pool.is_none()
    }

    /// The addresses in `ingress`, comma-separated.
    pub(crate) fn ingress_text(&self) -> String {
        self.ingress.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
    }

    /// When the condition speaks of an older generation of the Service, the two generations.
    pub(crate) fn stale_condition(&self) -> Option<(i64, i64)> {
        let seen = self.condition?.observed_generation?;
        let current = self.generation?;
        (seen < current).then_some((seen, current))
    }
}
