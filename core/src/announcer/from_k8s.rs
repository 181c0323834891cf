//! Kubernetes objects to the announcer's views: pure conversions, no deciding beyond "is this
//! Service FerroLB's at all".
//!
//! Whether a Service is announced, and where, is decided in [`super::layer2`] and
//! [`super::bgp`]; this module only reads fields, applying the API's documented defaults (an
//! endpoint condition that is nil reads as true). A Service is read by
//! [`crate::service::ServiceReader`], as the controller and `ferrolb explain` read it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::views::{EndpointSliceView, EndpointView, NodeView, ServiceKey, ServiceView, SliceKey};
use crate::service::ServiceReader;
// Which Services are FerroLB's, and the annotation naming their pools, live with the Service
// reader; they stay reachable here for the speaker's kube edge.
pub use crate::service::{ClassPolicy, DEFAULT_CLASS, NotServed, POOL_ANNOTATION};

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The Node label that keeps a node from announcing any load-balancer address.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// Reads a Service into a view with [`ServiceReader`], or says why FerroLB does not serve it.
/// The addresses are those the Service holds: ingress entries without an IP (hostname only) or
/// with an unparsable one are skipped, an address listed twice is held once.
pub fn service_view(svc: &Service, policy: &ClassPolicy) -> Result<ServiceView, NotServed> {
    let reader = ServiceReader::new(svc);
    let key = reader.served(policy)?;
    Ok(ServiceView {
        key,
        labels: reader.labels().clone(),
        traffic_policy: reader.traffic_policy(),
        addresses: reader.addresses(),
        pools: reader.allocated_from(),
    })
}

/// Why an EndpointSlice cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SliceError {
    /// The object has no name or namespace.
    #[error("it has no name or namespace")]
    Unnamed,
    /// It carries no `kubernetes.io/service-name` label.
    #[error("it has no {SERVICE_NAME_LABEL} label")]
    NoServiceLabel,
}

/// Reads an EndpointSlice: its own key, and the endpoints it lists for its Service.
pub fn endpoint_slice_view(slice: &EndpointSlice) -> Result<(SliceKey, EndpointSliceView), SliceError> {
    let (Some(namespace), Some(name)) = (slice.metadata.namespace.as_ref(), slice.metadata.name.as_ref()) else {
        return Err(SliceError::Unnamed);
    };
    let service = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(SERVICE_NAME_LABEL))
        .ok_or(SliceError::NoServiceLabel)?;
    let endpoints = slice
        .endpoints
        .iter()
        .flatten()
        .map(|endpoint| {
            let conditions = endpoint.conditions.as_ref();
            EndpointView {
                node: endpoint.node_name.clone(),
                ready: conditions.and_then(|c| c.ready).unwrap_or(true),
                serving: conditions.and_then(|c| c.serving).unwrap_or(true),
            }
        })
        .collect();
    Ok((
        SliceKey::new(namespace.clone(), name.clone()),
        EndpointSliceView { service: ServiceKey::new(namespace.clone(), service.clone()), endpoints },
    ))
}

/// Why a Node cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The object has no name.
    #[error("it has no name")]
    Unnamed,
}

/// Reads a Node: name, labels, the exclusion label and the NetworkUnavailable condition.
pub fn node_view(node: &Node) -> Result<NodeView, NodeError> {
    let name = node.metadata.name.clone().ok_or(NodeError::Unnamed)?;
    let labels: BTreeMap<String, String> = node.metadata.labels.clone().unwrap_or_default();
    let network_unavailable = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| conditions.iter().any(|c| c.type_ == "NetworkUnavailable" && c.status == "True"));
    Ok(NodeView { name, excluded: labels.contains_key(EXCLUDE_LABEL), labels, network_unavailable })
}
