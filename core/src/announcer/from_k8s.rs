//! Kubernetes objects to the announcer's views: pure conversions, no deciding beyond "is this
//! Service FerroLB's at all".
//!
//! Whether a Service is announced, and where, is decided in [`super::layer2`] and
//! [`super::bgp`]; this module only reads fields, applying the API's documented defaults (an
//! endpoint condition that is nil reads as true; a Service with no externalTrafficPolicy is
//! Cluster).

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::views::{EndpointSliceView, EndpointView, NodeView, ServiceKey, ServiceView, SliceKey, TrafficPolicy};

/// FerroLB's own loadBalancerClass.
pub const DEFAULT_CLASS: &str = "ferrolb.io/lb";
/// The annotation in which the controller names the pool(s) a Service's addresses come from.
pub const POOL_ANNOTATION: &str = "ferrolb.io/ip-allocated-from-pool";
/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The Node label that keeps a node from announcing any load-balancer address.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// Which loadBalancerClass FerroLB answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPolicy {
    /// The class FerroLB serves.
    pub class: String,
    /// Serve only Services that name the class (not those without a class).
    pub require_class: bool,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        ClassPolicy { class: DEFAULT_CLASS.into(), require_class: false }
    }
}

/// Why a Service is not FerroLB's to announce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotServed {
    /// The object has no name or namespace.
    #[error("it has no name or namespace")]
    Unnamed,
    /// It is not of type LoadBalancer.
    #[error("it is of type {type_}, not LoadBalancer")]
    NotLoadBalancer {
        /// Its type (ClusterIP when unset).
        type_: String,
    },
    /// It names another loadBalancerClass.
    #[error("its loadBalancerClass is {class}, not {ours}")]
    OtherClass {
        /// The class it names.
        class: String,
        /// The class FerroLB serves.
        ours: String,
    },
    /// It names no class, and FerroLB serves only its own.
    #[error("it has no loadBalancerClass, and FerroLB serves only {ours}")]
    NoClass {
        /// The class FerroLB serves.
        ours: String,
    },
}

/// Reads a Service into a view, or says why FerroLB does not serve it. Ingress entries
/// without an IP (hostname only) or with an unparsable one are skipped; duplicates are dropped.
pub fn service_view(svc: &Service, policy: &ClassPolicy) -> Result<ServiceView, NotServed> {
    let (Some(namespace), Some(name)) = (svc.metadata.namespace.as_ref(), svc.metadata.name.as_ref()) else {
        return Err(NotServed::Unnamed);
    };
    let spec = svc.spec.as_ref();
    let type_ = spec.and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP");
    if type_ != "LoadBalancer" {
        return Err(NotServed::NotLoadBalancer { type_: type_.into() });
    }
    match spec.and_then(|s| s.load_balancer_class.as_deref()) {
        Some(class) if class != policy.class => {
            return Err(NotServed::OtherClass { class: class.into(), ours: policy.class.clone() });
        }
        None if policy.require_class => return Err(NotServed::NoClass { ours: policy.class.clone() }),
        _ => {}
    }
    let traffic_policy = match spec.and_then(|s| s.external_traffic_policy.as_deref()) {
        Some("Local") => TrafficPolicy::Local,
        _ => TrafficPolicy::Cluster,
    };
    let mut addresses: Vec<IpAddr> = Vec::new();
    let ingress = svc.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref());
    for entry in ingress.into_iter().flatten() {
        if let Some(ip) = entry.ip.as_deref().and_then(|text| text.parse::<IpAddr>().ok())
            && !addresses.contains(&ip)
        {
            addresses.push(ip);
        }
    }
    let pools = svc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(POOL_ANNOTATION))
        .map(|value| value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    Ok(ServiceView {
        key: ServiceKey::new(namespace.clone(), name.clone()),
        labels: svc.metadata.labels.clone().unwrap_or_default(),
        traffic_policy,
        addresses,
        pools,
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
