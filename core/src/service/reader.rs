//! The one reader of a Kubernetes Service: every field FerroLB reads from it, read one way for
//! the controller, the speakers and `ferrolb explain`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::class::{ClassPolicy, NotServed};
use super::families::IpFamilies;
use super::key::ServiceKey;
use super::ports::{Port, Protocol};
use super::traffic::TrafficPolicy;
use super::{ASSIGNED_CONDITION, POOL_ANNOTATION};
use crate::annotations::{self, ServiceRequest};

/// An absent map reads as this empty one, so that readers can hand out borrows.
static EMPTY: BTreeMap<String, String> = BTreeMap::new();

/// A Service, read: borrowed from the object, each field read on demand, so that a consumer pays
/// only for what it asks (the controller reads every Service on each pass, most of them not
/// FerroLB's). Decides nothing but whether FerroLB serves it ([`ServiceReader::served`]).
///
/// The API's documented defaults apply: no type is ClusterIP, no externalTrafficPolicy is
/// Cluster, no ipFamilyPolicy is SingleStack, no port protocol is TCP.
#[derive(Debug, Clone, Copy)]
pub struct ServiceReader<'a> {
    service: &'a Service,
}

impl<'a> ServiceReader<'a> {
    /// A reader of `service`.
    pub fn new(service: &'a Service) -> Self {
        ServiceReader { service }
    }

    fn spec(&self) -> Option<&'a ServiceSpec> {
        self.service.spec.as_ref()
    }

    /// Its namespace, if the object has one.
    pub fn namespace(&self) -> Option<&'a str> {
        self.service.metadata.namespace.as_deref()
    }

    /// Its name, if the object has one.
    pub fn name(&self) -> Option<&'a str> {
        self.service.metadata.name.as_deref()
    }

    /// Its key, when it has a namespace and a name (every Service the apiserver returns has).
    pub fn key(&self) -> Option<ServiceKey> {
        Some(ServiceKey::new(self.namespace()?, self.name()?))
    }

    /// Its `spec.type`: ClusterIP when unset.
    pub fn type_(&self) -> &'a str {
        self.spec().and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP")
    }

    /// Its `spec.loadBalancerClass`, if any.
    pub fn class(&self) -> Option<&'a str> {
        self.spec().and_then(|s| s.load_balancer_class.as_deref())
    }

    /// Its key when FerroLB serves it under `policy`, or why not. Type and class come first, so
    /// an unnamed object is [`NotServed::Unnamed`] only when it would otherwise be served.
    pub fn served(&self, policy: &ClassPolicy) -> Result<ServiceKey, NotServed> {
        policy.check(self.type_(), self.class())?;
        self.key().ok_or(NotServed::Unnamed)
    }

    /// Its labels (none when unset).
    pub fn labels(&self) -> &'a BTreeMap<String, String> {
        self.service.metadata.labels.as_ref().unwrap_or(&EMPTY)
    }

    /// Its annotations (none when unset).
    pub fn annotations(&self) -> &'a BTreeMap<String, String> {
        self.service.metadata.annotations.as_ref().unwrap_or(&EMPTY)
    }

    /// Its pod selector, `spec.selector` (none when unset).
    pub fn selector(&self) -> &'a BTreeMap<String, String> {
        self.spec().and_then(|s| s.selector.as_ref()).unwrap_or(&EMPTY)
    }

    /// What it asks of FerroLB: requested addresses, pool, sharing key, from its annotations
    /// (FerroLB's, or MetalLB's aliases) and `spec.loadBalancerIP`; see [`annotations::parse`].
    pub fn request(&self) -> ServiceRequest {
        annotations::parse(self.annotations(), self.spec().and_then(|s| s.load_balancer_ip.as_deref()))
    }

    /// Its `spec.ipFamilyPolicy` as written: SingleStack when unset.
    pub fn family_policy(&self) -> &'a str {
        self.spec().and_then(|s| s.ip_family_policy.as_deref()).unwrap_or("SingleStack")
    }

    /// The address families it wants, from `spec.ipFamilyPolicy` and the first of
    /// `spec.ipFamilies`.
    pub fn families(&self) -> IpFamilies {
        let primary = self.spec().and_then(|s| s.ip_families.as_ref()).and_then(|f| f.first());
        IpFamilies::from_spec(self.spec().and_then(|s| s.ip_family_policy.as_deref()), primary.map(String::as_str))
    }

    /// Its ports, protocol and number, in the order written; a number outside 0..=65535 (which
    /// the apiserver refuses) is skipped.
    pub fn ports(&self) -> Vec<Port> {
        let ports = self.spec().and_then(|s| s.ports.as_ref());
        ports
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(Port { protocol: Protocol::from_spec(p.protocol.as_deref()), port: p.port.try_into().ok()? })
            })
            .collect()
    }

    /// Its `spec.externalTrafficPolicy`.
    pub fn traffic_policy(&self) -> TrafficPolicy {
        TrafficPolicy::from_spec(self.spec().and_then(|s| s.external_traffic_policy.as_deref()))
    }

    /// The IP addresses in `status.loadBalancer.ingress`, exactly as listed: entries without an
    /// IP (hostname only) or with an unparsable one are skipped, and an address listed twice
    /// stays twice. For comparing the status with the one the controller wants to write: a
    /// status that lists an address twice differs from it, and is rewritten.
    pub fn ingress(&self) -> Vec<IpAddr> {
        let ingress =
            self.service.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref());
        ingress.into_iter().flatten().filter_map(|entry| entry.ip.as_deref()?.parse().ok()).collect()
    }

    /// The addresses the Service holds: [`ServiceReader::ingress`] in order, each address once.
    ///
    /// The one rule for an address listed twice: it is held once. It is announced and explained
    /// as one address however often the status lists it, as the allocator holds it once (one
    /// address per family; a second copy adds nothing to announce). Only the controller's
    /// "does the status need a write" compares the list as written ([`ServiceReader::ingress`]),
    /// so that it still repairs such a status.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut addresses: Vec<IpAddr> = Vec::new();
        for ip in self.ingress() {
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
        }
        addresses
    }

    /// The pools named by the controller's [`POOL_ANNOTATION`] (one, or two for dual-stack from
    /// two pools), trimmed, empty entries skipped; none when the annotation is missing.
    pub fn allocated_from(&self) -> Vec<String> {
        self.annotations()
            .get(POOL_ANNOTATION)
            .map(|value| value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }

    /// The controller's [`ASSIGNED_CONDITION`], if it wrote one.
    pub fn assigned_condition(&self) -> Option<&'a Condition> {
        let conditions = self.service.status.as_ref().and_then(|s| s.conditions.as_ref());
        conditions.into_iter().flatten().find(|c| c.type_ == ASSIGNED_CONDITION)
    }
}
