//! IPAddressPool: the addresses FerroLB may hand to LoadBalancer Services.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::schema;

fn yes() -> bool {
    true
}

/// A pool of addresses that FerroLB assigns to LoadBalancer Services. Cluster-scoped: pools are
/// an operator's resource, not an application team's.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "IPAddressPool",
    plural = "ipaddresspools",
    category = "ferrolb",
    status = "IPAddressPoolStatus",
    doc = "A pool of addresses that FerroLB assigns to Services of type LoadBalancer.",
    printcolumn = r#"{"name":"Addresses","type":"string","jsonPath":".spec.addresses"}"#,
    printcolumn = r#"{"name":"Auto Assign","type":"boolean","jsonPath":".spec.autoAssign"}"#,
    printcolumn = r#"{"name":"Assigned IPv4","type":"integer","jsonPath":".status.assignedIPv4"}"#,
    printcolumn = r#"{"name":"Available IPv4","type":"integer","jsonPath":".status.availableIPv4"}"#,
    printcolumn = r#"{"name":"Assigned IPv6","type":"integer","jsonPath":".status.assignedIPv6"}"#,
    printcolumn = r#"{"name":"Available IPv6","type":"integer","jsonPath":".status.availableIPv6"}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct IPAddressPoolSpec {
    /// The addresses the pool hands out: CIDRs or first-last ranges, IPv4 and IPv6.
    #[schemars(schema_with = "schema::addresses")]
    pub addresses: Vec<String>,
    /// Whether Services that do not ask for this pool by name may get addresses from it. Set it
    /// to false for scarce or special addresses, handed out only on request.
    #[serde(default = "yes")]
    pub auto_assign: bool,
    /// Skip addresses ending in .0 and .255, which some old or buggy clients mishandle.
    #[serde(default, rename = "avoidBuggyIPs")]
    pub avoid_buggy_ips: bool,
    /// Restricts the pool to some namespaces or Services, and orders pools that match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_allocation: Option<ServiceAllocation>,
}

/// Which Services a pool serves, and its priority among the pools that serve them.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAllocation {
    /// Priority among the pools that match a Service: lower numbers are tried first; pools with
    /// the same priority are tried by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self >= 0").message("must be 0 or more"))]
    pub priority: Option<i32>,
    /// Namespaces whose Services may use the pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::names")]
    pub namespaces: Vec<String>,
    /// Label selectors on namespaces whose Services may use the pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub namespace_selectors: Vec<LabelSelector>,
    /// Label selectors on the Services that may use the pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub service_selectors: Vec<LabelSelector>,
}

/// What the controller reports about a pool. The counters stay empty until the controller
/// has counted them.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IPAddressPoolStatus {
    /// IPv4 addresses of the pool assigned to Services.
    #[serde(default, rename = "assignedIPv4", skip_serializing_if = "Option::is_none")]
    pub assigned_ipv4: Option<i64>,
    /// IPv6 addresses of the pool assigned to Services.
    #[serde(default, rename = "assignedIPv6", skip_serializing_if = "Option::is_none")]
    pub assigned_ipv6: Option<i64>,
    /// IPv4 addresses of the pool still free.
    #[serde(default, rename = "availableIPv4", skip_serializing_if = "Option::is_none")]
    pub available_ipv4: Option<i64>,
    /// IPv6 addresses of the pool still free (capped at the largest number the API can carry).
    #[serde(default, rename = "availableIPv6", skip_serializing_if = "Option::is_none")]
    pub available_ipv6: Option<i64>,
    /// Accepted: whether the pool is valid and in use, and if not, which field is wrong and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
