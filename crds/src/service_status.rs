//! ServiceL2Status and ServiceBGPStatus: who announces a Service, visible in the Service's own
//! namespace so the team that owns it can see it without access to FerroLB's configuration.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

// The contract between the speakers that write these objects (and BGPPeer session conditions)
// and the tools that read them (`ferrolb explain`): one definition for both sides.

/// Label on ServiceL2Status and ServiceBGPStatus: the node whose speaker wrote the object
/// (hashed when the name does not fit a label value).
pub const NODE_LABEL: &str = "ferrolb.io/node";
/// Label on ServiceL2Status and ServiceBGPStatus: the Service's name.
pub const SERVICE_NAME_LABEL: &str = "ferrolb.io/service-name";
/// Label on ServiceL2Status and ServiceBGPStatus: the Service's namespace.
pub const SERVICE_NAMESPACE_LABEL: &str = "ferrolb.io/service-namespace";
/// A node's BGP session condition on a BGPPeer has the type `<node>/BGPSessionEstablished`
/// (the node goes in the DNS-subdomain prefix, so long node names still make a valid type).
pub const SESSION_CONDITION: &str = "BGPSessionEstablished";
/// In a session condition's message, what precedes the BFD state when the peer has BFD
/// ("established with 198.51.100.1:179; BFD Up (...)").
pub const SESSION_BFD_PART: &str = "; BFD ";

/// The value the status labels carry for `value` (a node, Service or namespace name): itself
/// when it fits a label value (63 characters), else shortened as [`shortened`] does.
pub fn label_value(value: &str) -> String {
    shortened(value, 63)
}

/// `name` itself when it has at most `max` characters (and `max` leaves room for a hash), else
/// a readable prefix, `-` and a 16-digit FNV-1a hash of the whole name, `max` characters in
/// all: stable across versions and platforms (unlike std's hasher), distinct for distinct names.
pub fn shortened(name: &str, max: usize) -> String {
    if name.len() <= max || max < 18 {
        return name.to_owned();
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let prefix: String = name.chars().take(max - 17).collect();
    format!("{}-{hash:016x}", prefix.trim_end_matches(['-', '.', '_']))
}

/// No desired state: these objects only report.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "ServiceL2Status",
    plural = "servicel2statuses",
    namespaced,
    category = "ferrolb",
    status = "L2Status",
    doc = "Which node announces a Service's addresses by Layer2, and on which interfaces. Written by the speaker.",
    printcolumn = r#"{"name":"Allocated Node","type":"string","jsonPath":".status.node"}"#,
    printcolumn = r#"{"name":"Service Name","type":"string","jsonPath":".status.serviceName"}"#,
    printcolumn = r#"{"name":"Service Namespace","type":"string","jsonPath":".status.serviceNamespace"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
pub struct ServiceL2StatusSpec {}

/// Where a Service is announced by Layer2.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct L2Status {
    /// The node answering ARP/NDP for the Service's addresses.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// The Service's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_name: String,
    /// The Service's namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_namespace: String,
    /// The interfaces the node answers on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<InterfaceInfo>,
}

/// One network interface.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct InterfaceInfo {
    /// Its name.
    pub name: String,
}

/// No desired state: these objects only report.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "ServiceBGPStatus",
    plural = "servicebgpstatuses",
    namespaced,
    category = "ferrolb",
    status = "BGPStatus",
    doc = "Which peers a node advertises a Service's addresses to. Written by the speaker, one per node.",
    printcolumn = r#"{"name":"Node","type":"string","jsonPath":".status.node"}"#,
    printcolumn = r#"{"name":"Service Name","type":"string","jsonPath":".status.serviceName"}"#,
    printcolumn = r#"{"name":"Service Namespace","type":"string","jsonPath":".status.serviceNamespace"}"#,
    printcolumn = r#"{"name":"Peers","type":"string","jsonPath":".status.peers"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
pub struct ServiceBGPStatusSpec {}

/// Where a Service is advertised by BGP, from one node.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BGPStatus {
    /// The advertising node.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// The Service's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_name: String,
    /// The Service's namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_namespace: String,
    /// The BGPPeers (by name) that receive the Service's addresses from this node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_stably_and_readably() {
        assert_eq!(label_value("node1"), "node1");
        let long = "n".repeat(100);
        let v = label_value(&long);
        assert_eq!(v.len(), 63);
        assert!(v.starts_with(&long[..46]), "{v}");
        assert_eq!(v, label_value(&long));
        assert_ne!(v, label_value(&"m".repeat(100)));
        assert_ne!(v, label_value(&"n".repeat(101)));
        let name = shortened(&"s".repeat(300), 253);
        assert!(name.len() <= 253, "{}", name.len());
        assert_eq!(shortened("l2-web-node1", 253), "l2-web-node1");
    }
}
