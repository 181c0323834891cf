//! The two implementations as the benchmark drives them: how each lab is started, and the same
//! configuration written in each one's API group (the kinds and field names are the same; MetalLB
//! reads its objects only in its own namespace and serves BGPPeer as v1beta2).

use ferrolb_lab::Lb;

use super::results::{FERROLB, FERROLB_BFD, METALLB, METALLB_TUNED};

/// Addresses the benchmark's pools hand out (documentation ranges, on the lab's segments).
/// Layer2: on the node segment, where l2client asks for them.
const L2_POOL: &str = "[198.51.100.200-198.51.100.250]";
/// BGP: announced to the router.
const BGP_POOL: &str = "[203.0.113.0/24]";
/// Bursts: IPv6 (the lab's IPv4 ClusterIP range fits about 125 Services), never auto-assigned,
/// not advertised: only the allocation is measured.
const BURST_POOL: &str = "['2001:db8:300::/112']";
/// The scale scenario's pool: IPv6 on the node segment, announced in Layer2.
const SCALE_POOL: &str = "['2001:db8:1::1:0/112']";

/// One of the compared load balancers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    Ferrolb,
    Metallb,
    /// MetalLB with memberlist tuned for fast failure detection ([`TUNED_MEMBERLIST`]).
    MetallbTuned,
    /// FerroLB with BFD (100 ms x 3) on its BGP session, which MetalLB's native mode lacks.
    FerrolbBfd,
}

/// The memberlist timings of the tuned MetalLB variant, in the form of its
/// `metallb-memberlist-config` ConfigMap (every field required). Against memberlist's LAN
/// defaults (probe every 1 s, 500 ms timeout, suspicion 4 x probe interval, gossip every
/// 200 ms, push-pull every 30 s, gossip to the dead for 30 s), it probes every 200 ms with a
/// 100 ms timeout, suspects for 2 x the interval, gossips every 50 ms and pushes state every
/// 5 s: about the cadence of FerroLB's own heartbeats (100 ms, dead after 300 ms).
pub const TUNED_MEMBERLIST: &str = r#"{"TCPTimeout": "10s", "IndirectChecks": 3, "RetransmitMult": 4,
 "SuspicionMult": 2, "SuspicionMaxTimeoutMult": 6, "PushPullInterval": "5s", "ProbeTimeout": "100ms",
 "ProbeInterval": "200ms", "DisableTcpPings": false, "AwarenessMaxMultiplier": 8, "GossipNodes": 3,
 "GossipInterval": "50ms", "GossipToTheDeadTime": "5s", "GossipVerifyIncoming": true,
 "GossipVerifyOutgoing": true, "EnableCompression": true, "HandoffQueueDepth": 1024,
 "UDPBufferSize": 1400, "QueueCheckInterval": "30s"}"#;

impl Implementation {
    /// Both, in the report's order.
    pub const BOTH: [Implementation; 2] = [Implementation::Ferrolb, Implementation::Metallb];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ferrolb => FERROLB,
            Self::Metallb => METALLB,
            Self::MetallbTuned => METALLB_TUNED,
            Self::FerrolbBfd => FERROLB_BFD,
        }
    }

    /// The memberlist configuration its speakers get, if not the defaults.
    pub fn memberlist(self) -> Option<String> {
        (self == Self::MetallbTuned).then(|| TUNED_MEMBERLIST.to_owned())
    }

    /// What the lab calls it.
    pub fn lb(self) -> Lb {
        match self {
            Self::Ferrolb | Self::FerrolbBfd => Lb::Ferrolb,
            Self::Metallb | Self::MetallbTuned => Lb::Metallb,
        }
    }

    /// The lab process of its controller.
    pub fn controller(self) -> &'static str {
        match self {
            Self::Ferrolb | Self::FerrolbBfd => "ferrolb-controller",
            Self::Metallb | Self::MetallbTuned => "metallb-controller",
        }
    }

    /// The lab process of the speaker on `node`.
    pub fn speaker(self, node: &str) -> String {
        match self {
            Self::Ferrolb | Self::FerrolbBfd => format!("ferrolb-speaker-{node}"),
            Self::Metallb | Self::MetallbTuned => format!("metallb-speaker-{node}"),
        }
    }

    /// Where its configuration objects live.
    fn namespace(self) -> &'static str {
        match self {
            Self::Ferrolb | Self::FerrolbBfd => "ferrolb-system",
            Self::Metallb | Self::MetallbTuned => "metallb-system",
        }
    }

    /// The apiVersion of a configuration kind.
    fn api_version(self, kind: &str) -> &'static str {
        match (self, kind) {
            (Self::Ferrolb | Self::FerrolbBfd, _) => "ferrolb.io/v1beta1",
            (Self::Metallb | Self::MetallbTuned, "BGPPeer") => "metallb.io/v1beta2",
            (Self::Metallb | Self::MetallbTuned, _) => "metallb.io/v1beta1",
        }
    }

    /// One configuration object as YAML (`spec` in flow style).
    fn object(self, kind: &str, name: &str, spec: &str) -> String {
        format!(
            "apiVersion: {}\nkind: {kind}\nmetadata: {{name: {name}, namespace: {}}}\nspec: {spec}\n",
            self.api_version(kind),
            self.namespace()
        )
    }

    /// The pools every lab has: `burst` (IPv6, assigned on request only) and `scale` (IPv6,
    /// announced in Layer2, assigned on request only).
    fn common(self) -> Vec<String> {
        vec![
            self.object("IPAddressPool", "burst", &format!("{{addresses: {BURST_POOL}, autoAssign: false}}")),
            self.object("IPAddressPool", "scale", &format!("{{addresses: {SCALE_POOL}, autoAssign: false}}")),
            self.object("L2Advertisement", "scale", "{ipAddressPools: [scale]}"),
        ]
    }

    /// The Layer2 lab's configuration: the pool `l2` on the node segment, announced.
    pub fn layer2_config(self) -> String {
        let mut docs = vec![
            self.object("IPAddressPool", "l2", &format!("{{addresses: {L2_POOL}}}")),
            self.object("L2Advertisement", "l2", "{ipAddressPools: [l2]}"),
        ];
        docs.extend(self.common());
        docs.join("---\n")
    }

    /// The BGP lab's configuration: the pool `bgp` announced to the router over IPv4, with the
    /// same timers for both: hold 3 s, keepalive 1 s. MetalLB's native mode refuses
    /// `keepaliveTime` ("has keepalive-time set on native bgp mode") and sends keepalives at a
    /// third of the hold time, which is 1 s here too.
    pub fn bgp_config(self) -> String {
        let timers = match self {
            Self::Ferrolb => "holdTime: 3s, keepaliveTime: 1s",
            Self::FerrolbBfd => "holdTime: 3s, keepaliveTime: 1s, bfdProfile: fast",
            Self::Metallb | Self::MetallbTuned => "holdTime: 3s",
        };
        let mut docs = vec![];
        if self == Self::FerrolbBfd {
            docs.push(self.object(
                "BFDProfile",
                "fast",
                "{receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3}",
            ));
        }
        docs.extend([
            self.object(
                "BGPPeer",
                "router",
                &format!("{{myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, {timers}}}"),
            ),
            self.object("IPAddressPool", "bgp", &format!("{{addresses: {BGP_POOL}}}")),
            self.object("BGPAdvertisement", "bgp", "{ipAddressPools: [bgp]}"),
        ]);
        docs.extend(self.common());
        docs.join("---\n")
    }
}

/// The annotation both read to pick a pool.
pub const POOL_ANNOTATION: &str = "metallb.universe.tf/address-pool";
/// The annotation both read to ask for an address.
pub const ADDRESS_ANNOTATION: &str = "metallb.universe.tf/loadBalancerIPs";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tuned_memberlist_sets_every_field_metallb_requires() {
        let config: serde_json::Value = serde_json::from_str(TUNED_MEMBERLIST).unwrap_or_default();
        let fields = config.as_object().map(|o| o.len()).unwrap_or_default();
        assert_eq!(fields, 19, "MetalLB refuses a memberlist file that leaves a field out");
        assert_eq!(config["ProbeInterval"], "200ms");
    }

    #[test]
    fn the_bfd_variant_adds_a_profile_and_names_it_on_the_peer() {
        let c = Implementation::FerrolbBfd.bgp_config();
        assert!(c.contains("kind: BFDProfile\nmetadata: {name: fast, namespace: ferrolb-system}"), "{c}");
        assert!(c.contains("keepaliveTime: 1s, bfdProfile: fast}"), "{c}");
        assert!(!Implementation::Ferrolb.bgp_config().contains("BFD"));
    }

    #[test]
    fn both_configurations_say_the_same_in_each_ones_group_and_namespace() {
        let (f, m) = (Implementation::Ferrolb.bgp_config(), Implementation::Metallb.bgp_config());
        assert_eq!(f.matches("kind:").count(), m.matches("kind:").count());
        assert!(f.contains("apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer") && f.contains("namespace: ferrolb-system"));
        assert!(m.contains("apiVersion: metallb.io/v1beta2\nkind: BGPPeer") && m.contains("namespace: metallb-system"));
        let spec = |text: &str| text.lines().filter(|l| l.starts_with("spec:")).map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(spec(&f.replace(", keepaliveTime: 1s", "")), spec(&m), "the same specs but the keepalive");
        assert_eq!(spec(&Implementation::Ferrolb.layer2_config()), spec(&Implementation::Metallb.layer2_config()));
    }
}
