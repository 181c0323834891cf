//! The status every FerroLB configuration object carries: its Accepted condition.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The condition type saying whether an object is valid and in use.
pub const ACCEPTED: &str = "Accepted";

/// What the controller reports about a configuration object.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigStatus {
    /// Accepted: whether the object is valid and in use, and if not, which field is wrong, why,
    /// and which other object is involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
