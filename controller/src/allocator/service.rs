//! What the allocator needs to know about a Service: plain values the kube edge fills in.

use std::collections::BTreeMap;
use std::fmt;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::ServiceRequest;

/// A Service's namespace and name: the key under which the allocator knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl ServiceKey {
    /// The Service `namespace`/`name`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceKey { namespace: namespace.into(), name: name.into() }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A transport protocol of a Service port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// One port a Service exposes on its address: two Services sharing an address may not both use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port {
    /// Its protocol.
    pub protocol: Protocol,
    /// Its number.
    pub port: u16,
}

impl Port {
    /// TCP port `port`.
    pub fn tcp(port: u16) -> Self {
        Port { protocol: Protocol::Tcp, port }
    }

    /// UDP port `port`.
    pub fn udp(port: u16) -> Self {
        Port { protocol: Protocol::Udp, port }
    }

    /// SCTP port `port`.
    pub fn sctp(port: u16) -> Self {
        Port { protocol: Protocol::Sctp, port }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.protocol, self.port)
    }
}

/// Which address families a Service wants, read from `spec.ipFamilyPolicy` and `spec.ipFamilies`
/// (the first of `ipFamilies` is the primary family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpFamilies {
    /// One address of this family (SingleStack, or PreferDualStack with one family listed).
    Single(Family),
    /// Both families, the primary first, taking whichever can be had (PreferDualStack).
    PreferDual(Family),
    /// Both families, the primary first, or none at all (RequireDualStack).
    RequireDual(Family),
}

impl IpFamilies {
    /// The families wanted, the primary first.
    pub fn wanted(self) -> Vec<Family> {
        match self {
            IpFamilies::Single(family) => vec![family],
            IpFamilies::PreferDual(primary) | IpFamilies::RequireDual(primary) => vec![primary, other(primary)],
        }
    }

    /// Whether an address of `family` is wanted.
    pub fn wants(self, family: Family) -> bool {
        match self {
            IpFamilies::Single(wanted) => wanted == family,
            IpFamilies::PreferDual(_) | IpFamilies::RequireDual(_) => true,
        }
    }
}

impl Default for IpFamilies {
    fn default() -> Self {
        IpFamilies::Single(Family::V4)
    }
}

/// The family that is not `family`.
fn other(family: Family) -> Family {
    match family {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    }
}

/// A label map, shared rather than copied: the allocator keeps a copy of every Service's spec,
/// and 10,000 copies of the same namespace labels add up.
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
    /// Whether `spec.externalTrafficPolicy` is `Local`.
    pub traffic_policy_local: bool,
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
            traffic_policy_local: false,
            selector: Labels::default(),
            families: IpFamilies::default(),
        }
    }
}
