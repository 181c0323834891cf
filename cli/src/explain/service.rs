//! What `explain` reads from a Service: whether FerroLB serves it, what it asks for, and what
//! the controller wrote back (addresses, pool annotation, condition), all through
//! `ferrolb_core::service::ServiceReader`, the reader the controller and the speakers use.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::annotations::ServiceRequest;
use ferrolb_core::service::{ClassPolicy, NotServed, ServiceReader};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

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
    /// The IP addresses the Service holds: `status.loadBalancer.ingress`, each address once.
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
    /// Reads `service` with `ferrolb_core::service::ServiceReader`, as the controller and the
    /// speakers read it.
    pub(crate) fn new(service: &'a Service) -> Self {
        let reader = ServiceReader::new(service);
        let namespace = reader.namespace().unwrap_or("default").to_owned();
        let name = reader.name().unwrap_or_default();
        // Explain does not know which class the controller was started with: a class that is
        // not the default is told apart, and explained by the condition if there is one.
        let serving = match ClassPolicy::default().check(reader.type_(), reader.class()) {
            Err(NotServed::NotLoadBalancer { type_ }) => Serving::NotLoadBalancer { type_ },
            Err(NotServed::OtherClass { class, .. }) => Serving::OtherClass { class },
            Err(NotServed::NoClass { .. } | NotServed::Unnamed) | Ok(()) => Serving::Served,
        };
        ServiceFacts {
            key: format!("{namespace}/{name}"),
            namespace,
            labels: reader.labels().clone(),
            serving,
            class: reader.class().map(str::to_owned),
            ingress: reader.addresses(),
            allocated_from: reader.allocated_from(),
            condition: reader.assigned_condition(),
            generation: service.metadata.generation,
            request: reader.request(),
            family_policy: reader.family_policy().to_owned(),
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
