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
