//! L2Advertisement: which pools are announced by Layer2 (ARP/NDP), from which nodes and interfaces.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::status::ConfigStatus;

/// Announces the addresses of some pools on the node network by answering ARP (IPv4) and NDP
/// (IPv6). With no pool named or selected, it covers every pool.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "L2Advertisement",
    plural = "l2advertisements",
    category = "ferrolb",
    status = "ConfigStatus",
    doc = "Announces the addresses of some pools by Layer2 (ARP and NDP) from some nodes.",
    printcolumn = r#"{"name":"IPAddressPools","type":"string","jsonPath":".spec.ipAddressPools"}"#,
    printcolumn = r#"{"name":"IPAddressPool Selectors","type":"string","jsonPath":".spec.ipAddressPoolSelectors","priority":1}"#,
    printcolumn = r#"{"name":"Interfaces","type":"string","jsonPath":".spec.interfaces"}"#,
    printcolumn = r#"{"name":"Node Selectors","type":"string","jsonPath":".spec.nodeSelectors","priority":1}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct L2AdvertisementSpec {
    /// Pools announced, by name. With neither this nor ipAddressPoolSelectors, every pool.
    #[serde(default, rename = "ipAddressPools", skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::names")]
    pub ip_address_pools: Vec<String>,
    /// Pools announced, by label selector.
    #[serde(default, rename = "ipAddressPoolSelectors", skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub ip_address_pool_selectors: Vec<LabelSelector>,
    /// Nodes that may announce; with none, every node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub node_selectors: Vec<LabelSelector>,
    /// Interfaces to answer on (names, at most 15 characters). With none, every up interface
    /// that can do ARP and is not part of a bond or bridge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::interfaces")]
    pub interfaces: Vec<String>,
    /// Services whose addresses this advertisement covers, by label selector; with none, every
    /// Service with an address from the selected pools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub service_selectors: Vec<LabelSelector>,
    /// Nodes to prefer as the announcing node, with weights; a FerroLB addition. Among the
    /// eligible nodes, those with the highest total weight of matching preferences win.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub preferred_node_selectors: Vec<PreferredNodeSelector>,
}

/// A weighted preference for some nodes.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PreferredNodeSelector {
    /// Weight of this preference, 1 to 100.
    #[schemars(range(min = 1, max = 100))]
    pub weight: i32,
    /// The nodes preferred.
    pub preference: LabelSelector,
}
