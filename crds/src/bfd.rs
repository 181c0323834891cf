//! BFDProfile: fast failure detection settings for BGP sessions.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::status::ConfigStatus;

fn ms300() -> u32 {
    300
}
fn ms50() -> u32 {
    50
}
fn three() -> u32 {
    3
}
fn ttl254() -> u32 {
    254
}

/// Bidirectional Forwarding Detection settings, referenced by BGPPeers.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "BFDProfile",
    plural = "bfdprofiles",
    category = "ferrolb",
    status = "ConfigStatus",
    doc = "BFD settings for the BGP sessions of the BGPPeers that name this profile.",
    printcolumn = r#"{"name":"Passive Mode","type":"boolean","jsonPath":".spec.passiveMode"}"#,
    printcolumn = r#"{"name":"Transmit Interval","type":"integer","jsonPath":".spec.transmitInterval"}"#,
    printcolumn = r#"{"name":"Receive Interval","type":"integer","jsonPath":".spec.receiveInterval"}"#,
    printcolumn = r#"{"name":"Multiplier","type":"integer","jsonPath":".spec.detectMultiplier"}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BFDProfileSpec {
    /// Lowest interval, in milliseconds, at which this system can receive control packets (10-60000).
    #[serde(default = "ms300")]
    #[schemars(range(min = 10, max = 60000))]
    pub receive_interval: u32,
    /// Lowest interval, in milliseconds, at which this system sends control packets (10-60000).
    #[serde(default = "ms300")]
    #[schemars(range(min = 10, max = 60000))]
    pub transmit_interval: u32,
    /// How many missed packets declare the peer down (2-255).
    #[serde(default = "three")]
    #[schemars(range(min = 2, max = 255))]
    pub detect_multiplier: u32,
    /// Interval, in milliseconds, of echo packets when echo mode is on (10-60000).
    #[serde(default = "ms50")]
    #[schemars(range(min = 10, max = 60000))]
    pub echo_interval: u32,
    /// Send echo packets, looped back by the peer's forwarding plane. Not supported: a profile
    /// with echo mode on is refused (FerroLB runs asynchronous mode only).
    #[serde(default)]
    pub echo_mode: bool,
    /// Wait for the peer to start the session instead of starting it.
    #[serde(default)]
    pub passive_mode: bool,
    /// Lowest TTL accepted on incoming control packets, for multihop sessions (1-254).
    #[serde(default = "ttl254")]
    #[schemars(range(min = 1, max = 254))]
    pub minimum_ttl: u32,
}
