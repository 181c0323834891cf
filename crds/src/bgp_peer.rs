//! BGPPeer: a BGP router the speakers hold sessions with.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema;
use crate::status::ConfigStatus;

fn port179() -> u16 {
    179
}

/// A BGP router that the speakers on the selected nodes peer with.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "ferrolb.io",
    version = "v1beta1",
    kind = "BGPPeer",
    plural = "bgppeers",
    category = "ferrolb",
    status = "ConfigStatus",
    doc = "A BGP router that the speakers on the selected nodes hold sessions with.",
    printcolumn = r#"{"name":"Address","type":"string","jsonPath":".spec.peerAddress"}"#,
    printcolumn = r#"{"name":"ASN","type":"integer","jsonPath":".spec.myASN"}"#,
    printcolumn = r#"{"name":"Peer ASN","type":"integer","jsonPath":".spec.peerASN"}"#,
    printcolumn = r#"{"name":"Dynamic ASN","type":"string","jsonPath":".spec.dynamicASN","priority":1}"#,
    printcolumn = r#"{"name":"Port","type":"integer","jsonPath":".spec.peerPort","priority":1}"#,
    printcolumn = r#"{"name":"BFD Profile","type":"string","jsonPath":".spec.bfdProfile","priority":1}"#,
    printcolumn = r#"{"name":"Multi Hops","type":"boolean","jsonPath":".spec.ebgpMultiHop","priority":1}"#,
    printcolumn = r#"{"name":"Accepted","type":"string","jsonPath":".status.conditions[?(@.type==\"Accepted\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("has(self.peerASN) != has(self.dynamicASN)")
        .message("set exactly one of peerASN and dynamicASN"),
    validation = Rule::new("has(self.peerAddress) != has(self.interface)")
        .message("set exactly one of peerAddress and interface"),
    validation = Rule::new("!(has(self.password) && has(self.passwordSecret))")
        .message("password and passwordSecret are mutually exclusive: set one"),
    validation = Rule::new("!has(self.keepaliveTime) || !has(self.holdTime) || duration(self.keepaliveTime) <= duration(self.holdTime)")
        .message("keepaliveTime must not be longer than holdTime")
        .field_path(".keepaliveTime"),
    validation = Rule::new("!has(self.sourceAddress) || !has(self.peerAddress) || !isIP(self.sourceAddress) || !isIP(self.peerAddress) || ip(self.sourceAddress).family() == ip(self.peerAddress).family()")
        .message("sourceAddress and peerAddress must be of the same address family")
        .field_path(".sourceAddress"),
    validation = Rule::new("!self.ebgpMultiHop || !has(self.peerASN) || self.peerASN != self.myASN")
        .message("ebgpMultiHop applies to eBGP only, and this peer is iBGP (its ASN is myASN)")
        .field_path(".ebgpMultiHop"),
)]
#[serde(rename_all = "camelCase")]
pub struct BGPPeerSpec {
    /// The AS number the speakers use for this session (1-4294967295).
    #[serde(rename = "myASN")]
    #[schemars(range(min = 1, max = 4294967295u32))]
    pub my_asn: u32,
    /// The peer's AS number. Set this or dynamicASN.
    #[serde(default, rename = "peerASN", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4294967295u32))]
    pub peer_asn: Option<u32>,
    /// The AS number this session presents to the peer instead of myASN (FRR's `local-as ASN
    /// no-prepend replace-as`): the OPEN's AS (and 4-octet AS capability), and the AS_PATH of
    /// the routes sent, carry it instead of myASN. eBGP only (peerASN differs from myASN, or
    /// dynamicASN external), and it must differ from myASN.
    #[serde(default, rename = "localASN", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4294967295u32))]
    pub local_asn: Option<u32>,
    /// Accept whatever AS number the peer has, as long as the session is of this kind. Set this
    /// or peerASN.
    #[serde(default, rename = "dynamicASN", skip_serializing_if = "Option::is_none")]
    pub dynamic_asn: Option<DynamicAsn>,
    /// The peer's address, IPv4 or IPv6. Set this or interface.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[x_kube(validation = Rule::new("isIP(self)").message("must be an IPv4 or IPv6 address"))]
    #[schemars(length(max = 64))]
    pub peer_address: String,
    /// BGP unnumbered: peer over this node interface with the router's link-local address
    /// instead of peerAddress. The router is found from its IPv6 Router Advertisements on the
    /// interface; the session carries IPv4 routes (with an IPv6 next hop, RFC 8950) and IPv6
    /// routes. Not with sourceAddress or bfdProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15))]
    pub interface: Option<String>,
    /// The local address to connect from; by default the kernel chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("isIP(self)").message("must be an IPv4 or IPv6 address"))]
    #[schemars(length(max = 64))]
    pub source_address: Option<String>,
    /// The peer's TCP port.
    #[serde(default = "port179")]
    #[schemars(range(min = 1, max = 65535))]
    pub peer_port: u16,
    /// Hold time to propose: 0s (no keepalives) or at least 3s, e.g. 90s.
    /// Read in whole seconds (under 1s is 0s); without it, three times keepaliveTime, or 90s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::duration")]
    #[x_kube(validation = Rule::new("duration(self) < duration('1s') || duration(self) >= duration('3s')").message("must be under 1s (0: no keepalives) or at least 3s"))]
    pub hold_time: Option<String>,
    /// Interval between keepalives (e.g. 30s); by default a third of the negotiated hold time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::duration")]
    pub keepalive_time: Option<String>,
    /// How long to wait between connection attempts (1s to 65535s), fixed, as FRR's `timers
    /// connect`; a connection attempt is also given up after this long. Without it, 5s doubling
    /// to 120s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::duration")]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1s') && duration(self) <= duration('65535s')").message("must be between 1s and 65535s"))]
    #[x_kube(validation = Rule::new("duration(self).getMilliseconds() % 1000 == 0").message("must be a whole number of seconds"))]
    pub connect_time: Option<String>,
    /// BGP router ID (an IPv4 address); by default the node's IPv4 address.
    #[serde(default, rename = "routerID", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("isIP(self) && ip(self).family() == 4").message("must be an IPv4 address"))]
    #[schemars(length(max = 64))]
    pub router_id: Option<String>,
    /// Nodes whose speakers peer with this router; with none, every node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::selectors")]
    pub node_selectors: Vec<LabelSelector>,
    /// TCP MD5 password, in clear. Prefer passwordSecret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 80))]
    pub password: Option<String>,
    /// A Secret of type kubernetes.io/basic-auth whose `password` key holds the TCP MD5 password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<SecretReference>,
    /// Name of the BFDProfile for this session; none means no BFD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub bfd_profile: Option<String>,
    /// The peer is more than one hop away (eBGP multihop).
    #[serde(default, rename = "ebgpMultiHop")]
    pub ebgp_multi_hop: bool,
    /// Graceful restart (RFC 4724): the session advertises it, with the restart time of the
    /// speaker's --bgp-graceful-restart-time (default 120s), and a speaker that stops (SIGTERM)
    /// closes the session without a NOTIFICATION, so a router that supports it keeps this node's
    /// routes (marked stale) until the speaker is back and sends End-of-RIB. Without it, a
    /// stopping speaker withdraws its routes before closing. Cannot be changed after creation.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("is immutable: delete and recreate the BGPPeer to change it"))]
    pub enable_graceful_restart: bool,
    /// Carry both IPv4 and IPv6 routes over this session: offer both unicast families in the
    /// OPEN, and send routes of the other family than the session's with a next hop of that
    /// family (the node's address of it on the session's interface). Without it, a session
    /// carries only its own family (an IPv4 peer gets IPv4 routes only), as in MetalLB.
    #[serde(default)]
    pub dual_stack_address_family: bool,
    /// Deprecated, as in MetalLB, and without effect: a session carries only its own address
    /// family unless dualStackAddressFamily is set. Accepted with a warning.
    #[serde(default, rename = "disableMP")]
    pub disable_mp: bool,
    /// The VRF device on the node to hold the session in: the speaker's socket is bound to it
    /// (SO_BINDTODEVICE), so the route to the peer and the source address are the VRF's. On a
    /// node without that VRF the session does not start, and the node's session condition says
    /// so (reason VRFNotFound). Empty: the default VRF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15))]
    pub vrf: Option<String>,
}

/// Which kind of session to accept when the peer's AS number is not fixed.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DynamicAsn {
    /// The peer's AS number equals myASN (iBGP).
    Internal,
    /// The peer's AS number differs from myASN (eBGP).
    External,
}

/// A reference to a Secret.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SecretReference {
    /// The Secret's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Its namespace; by default the namespace FerroLB runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub namespace: Option<String>,
}
