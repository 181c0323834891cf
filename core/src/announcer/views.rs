//! The announcer's inputs as plain values: what it needs to know of a Service, its endpoints, a
//! Node and the live speakers, and nothing more.
//!
//! These are filled in from Kubernetes objects by [`super::from_k8s`] (a Service through
//! [`crate::service::ServiceReader`]), or built directly in tests. They decide nothing themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

// The announcer's Services are keyed and read as everywhere else in FerroLB.
pub use crate::service::{ServiceKey, TrafficPolicy};

/// What the announcer knows of a Service FerroLB serves (type LoadBalancer, our class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    /// Its namespace and name.
    pub key: ServiceKey,
    /// Its labels (for serviceSelectors).
    pub labels: BTreeMap<String, String>,
    /// Its externalTrafficPolicy.
    pub traffic_policy: TrafficPolicy,
    /// The addresses the Service holds: status.loadBalancer.ingress[].ip, in order, each once
    /// (see [`crate::service::ServiceReader::addresses`]).
    pub addresses: Vec<IpAddr>,
    /// The pools named by the controller's `ferrolb.io/ip-allocated-from-pool` annotation
    /// (one, or two for dual-stack from two pools); empty when the annotation is missing.
    pub pools: Vec<String>,
}

/// One endpoint of a Service, as an EndpointSlice lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointView {
    /// The node it runs on, if the slice says.
    pub node: Option<String>,
    /// conditions.ready (nil read as true).
    pub ready: bool,
    /// conditions.serving (nil read as true).
    pub serving: bool,
}

/// The endpoints one EndpointSlice lists for one Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSliceView {
    /// The Service it belongs to (label `kubernetes.io/service-name`, in the slice's namespace).
    pub service: ServiceKey,
    /// Its endpoints.
    pub endpoints: Vec<EndpointView>,
}

/// An EndpointSlice's own namespace and name: a Service may have several slices.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SliceKey {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl SliceKey {
    /// The slice `namespace`/`name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        SliceKey { namespace: namespace.into(), name: name.into() }
    }
}

/// What the announcer knows of a Node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// Its name.
    pub name: String,
    /// Its labels (for nodeSelectors and preferred selectors).
    pub labels: BTreeMap<String, String>,
    /// It carries `node.kubernetes.io/exclude-from-external-load-balancers`.
    pub excluded: bool,
    /// Its NetworkUnavailable condition is True.
    pub network_unavailable: bool,
}

/// Which speakers are alive, as the member prober sees them from this node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    /// Names of the nodes whose speakers answer. Whether this node's own name is in it does
    /// not matter: this node counts as alive exactly when `self_healthy`.
    pub alive: BTreeSet<String>,
    /// Whether this node itself is healthy (not cut off from the others). An unhealthy node
    /// announces nothing in Layer2 and leaves itself out of every ranking, as the others
    /// (who see it dead) do.
    pub self_healthy: bool,
}

impl Members {
    /// Whether `node` counts as alive, from the point of view of `me`.
    pub fn is_alive(&self, node: &str, me: &str) -> bool {
        if node == me { self.self_healthy } else { self.alive.contains(node) }
    }
}
