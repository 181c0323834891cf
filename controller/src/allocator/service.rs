//! What the allocator needs to know about a Service: plain values, read from the Service by
//! `ferrolb_core::service::ServiceReader` (in `services::spec`), or built directly in tests.

use std::collections::BTreeMap;

use ferrolb_core::annotations::ServiceRequest;
// The key, ports and families are read and named as everywhere else in FerroLB.
pub use ferrolb_core::service::{IpFamilies, Port, Protocol, ServiceKey, TrafficPolicy};

/// A label map, shared rather than copied: the allocator keeps a copy of every Service's spec,
/// and every Service of a namespace carries the same namespace labels.
pub type Labels = std::sync::Arc<BTreeMap<String, String>>;

/// A LoadBalancer Service as the allocator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Its namespace and name.
    pub key: ServiceKey,
    /// The labels of its namespace (for pools' `namespaceSelectors`), shared by every Service
    /// of the namespace.
    pub namespace_labels: Labels,
    /// Its own labels (for pools' `serviceSelectors`).
    pub labels: Labels,
    /// What its annotations ask for: addresses, a pool, a sharing key.
    pub request: ServiceRequest,
    /// Its ports.
    pub ports: Vec<Port>,
    /// Its `spec.externalTrafficPolicy`.
    pub traffic_policy: TrafficPolicy,
    /// Its pod selector (`spec.selector`).
    pub selector: Labels,
    /// The address families it wants.
    pub families: IpFamilies,
}

impl ServiceSpec {
    /// A Service with no labels, no request, no ports, wanting one IPv4 address.
    pub fn new(key: ServiceKey) -> Self {
        ServiceSpec {
            key,
            namespace_labels: Labels::default(),
            labels: Labels::default(),
            request: ServiceRequest::default(),
            ports: Vec::new(),
            traffic_policy: TrafficPolicy::Cluster,
            selector: Labels::default(),
            families: IpFamilies::default(),
        }
    }
}
