//! Community: names for BGP communities, to use in BGPAdvertisements.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::status::ConfigStatus;

/// Names for BGP community values, so that advertisements can say `no-export` instead of
/// `65535:65281`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "Community",
    plural = "communities",
    category = "ferrolb",
    status = "ConfigStatus",
    doc = "Names for BGP community values, used by BGPAdvertisements.",
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct CommunitySpec {
    /// The aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    #[x_kube(validation = kube::core::Rule::new("self.all(a, self.exists_one(b, b.name == a.name))").message("each name may be defined once"))]
    pub communities: Vec<CommunityAlias>,
}

/// One name for one community value.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommunityAlias {
    /// The name, used in BGPAdvertisement.spec.communities (any text; one defined in two places
    /// is refused; one that is itself a community value takes that value's place).
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// The community it stands for.
    #[schemars(schema_with = "schema::community_value")]
    pub value: String,
}
