//! BGPAdvertisement: which pools are advertised by BGP, to which peers, from which nodes, and how.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::status::ConfigStatus;

fn len32() -> i32 {
    32
}
fn len128() -> i32 {
    128
}

/// Advertises the addresses of some pools to BGP peers. With no pool named or selected, it
/// covers every pool; with no peer named, every peer.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "BGPAdvertisement",
    plural = "bgpadvertisements",
    category = "ferrolb",
    status = "ConfigStatus",
    doc = "Advertises the addresses of some pools to BGP peers, with a prefix length, local preference and communities.",
    printcolumn = r#"{"name":"IPAddressPools","type":"string","jsonPath":".spec.ipAddressPools"}"#,
    printcolumn = r#"{"name":"IPAddressPool Selectors","type":"string","jsonPath":".spec.ipAddressPoolSelectors","priority":1}"#,
    printcolumn = r#"{"name":"Peers","type":"string","jsonPath":".spec.peers"}"#,
    printcolumn = r#"{"name":"Node Selectors","type":"string","jsonPath":".spec.nodeSelectors","priority":1}"#,
    printcolumn = r#"{"name":"Aggregation Length","type":"integer","jsonPath":".spec.aggregationLength","priority":1}"#,
    printcolumn = r#"{"name":"LocalPref","type":"integer","jsonPath":".spec.localPref","priority":1}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = kube::core::Rule::new("!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || (self.aggregationLength == 32 && self.aggregationLengthV6 == 128)")
        .message("serviceSelectors and aggregation are mutually exclusive: with serviceSelectors, leave aggregationLength at 32 and aggregationLengthV6 at 128"),
)]
#[serde(rename_all = "camelCase")]
pub struct BGPAdvertisementSpec {
    /// Prefix length of the IPv4 routes advertised (1-32): 32 advertises each address; shorter
    /// lengths aggregate addresses into one route. May not be shorter than a pool's own prefix.
    #[serde(default = "len32")]
    #[schemars(range(min = 1, max = 32))]
    pub aggregation_length: i32,
    /// Prefix length of the IPv6 routes advertised (0-128).
    #[serde(default = "len128", rename = "aggregationLengthV6")]
    #[schemars(range(min = 0, max = 128))]
    pub aggregation_length_v6: i32,
    /// Not supported yet, and refused: MetalLB supports it with its frr-k8s backend only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("false").message("is not supported by FerroLB yet (MetalLB supports it with its frr-k8s backend only): remove it"))]
    pub as_path_prepend: Option<i32>,
    /// LOCAL_PREF attribute of the routes; sent to iBGP peers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 4294967295u32))]
    pub local_pref: Option<u32>,
    /// BGP communities of the routes: 65535:65282, large:64512:1:2, or a Community alias name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::communities")]
    pub communities: Vec<String>,
    /// Pools advertised, by name. With neither this nor ipAddressPoolSelectors, every pool.
    #[serde(default, rename = "ipAddressPools", skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::names")]
    pub ip_address_pools: Vec<String>,
    /// Pools advertised, by label selector.
    #[serde(default, rename = "ipAddressPoolSelectors", skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub ip_address_pool_selectors: Vec<LabelSelector>,
    /// Nodes that advertise; with none, every node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub node_selectors: Vec<LabelSelector>,
    /// BGPPeers (by name) that receive the routes; with none, every peer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::names")]
    pub peers: Vec<String>,
    /// Services whose addresses this advertisement covers, by label selector; with none, every
    /// Service with an address from the selected pools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub service_selectors: Vec<LabelSelector>,
}
