//! A Service's `spec.externalTrafficPolicy`: which nodes may carry its traffic.

/// A Service's spec.externalTrafficPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TrafficPolicy {
    /// Any node forwards to any endpoint (the Kubernetes default).
    #[default]
    Cluster,
    /// A node forwards only to endpoints on itself: only nodes with one may announce.
    Local,
}

impl TrafficPolicy {
    /// The policy `spec.externalTrafficPolicy` names; Cluster when unset or unknown.
    pub fn from_spec(policy: Option<&str>) -> Self {
        if policy == Some("Local") { TrafficPolicy::Local } else { TrafficPolicy::Cluster }
    }
}
