//! One validated configuration from FerroLB's objects, and a verdict on each object.
//!
//! [`Config::from_objects`] takes every configuration object (and the Secrets they reference)
//! and returns the [`Config`] the controller and speakers act on, plus, per object, either
//! accepted or the problems that keep it out, each naming the field, the reason and any other
//! object involved. An invalid object is left out; every valid object keeps working. When two
//! objects collide, the one created later is refused, so an object that works never stops
//! working because a newer one collides with it.
//!
//! The work is split by kind: `validate` (order of evaluation, what every kind shares),
//! `communities`, `bfd`, `pools`, `peers`, `advertisements` (L2, and the pools an advertisement
//! covers), `bgp_advertisements` (aggregation, localPref conflicts); `duration` reads Go
//! durations and `fields` checks field shapes several kinds share.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::addresses::AddressRange;

mod advertisements;
mod bfd;
mod bgp_advertisements;
mod communities;
mod duration;
mod fields;
mod node_overlap;
mod peers;
mod pools;
mod validate;

pub use communities::{CommunityError, CommunityProblem, parse_community};
pub use duration::{DurationError, DurationProblem, parse_go_duration};
// One definition, shared with the BGP state machine, which checks the peer's OPEN against it.
pub use ferrolb_net::PeerAsn;

/// The kinds of configuration object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// IPAddressPool.
    IPAddressPool,
    /// L2Advertisement.
    L2Advertisement,
    /// BGPAdvertisement.
    BGPAdvertisement,
    /// BGPPeer.
    BGPPeer,
    /// BFDProfile.
    BFDProfile,
    /// Community.
    Community,
    /// A Secret (only ever the *other* object of a problem).
    Secret,
    /// A Node (only ever the *other* object of a problem).
    Node,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A configuration object, by kind and name (all FerroLB configuration kinds are
/// cluster-scoped; a Secret's name is written `namespace/name`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to `kind`/`name`.
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Self { kind, name: name.into() }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// Why an object is refused: the condition reason, in CamelCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A field's value is invalid on its own (what CEL would refuse, checked again here).
    InvalidField,
    /// Its addresses overlap those of another pool (or of another entry of the same pool).
    AddressesOverlap,
    /// It names an object that does not exist or is not accepted.
    ReferenceNotFound,
    /// A referenced Secret is unusable (wrong type, no password key).
    SecretInvalid,
    /// It defines what another object already defines (a peer, a community name).
    Duplicate,
    /// It contradicts another object (e.g. two localPrefs for one pool, peer and node).
    Conflict,
    /// A field FerroLB does not implement yet: refused rather than accepted and ignored.
    NotSupported,
    /// An aggregation length shorter than a selected pool's own prefix.
    AggregationTooShort,
    /// A warning, not a refusal: an aggregated route also covers addresses outside the pool
    /// (MetalLB accepts this; so does FerroLB, and says so).
    AggregationBeyondPool,
    /// A warning, not a refusal: two objects that would conflict on a node no Node is today;
    /// when such a Node appears, the newer object is refused.
    ConflictOnFutureNode,
    /// A warning, not a refusal: a field MetalLB deprecated, accepted as MetalLB accepts it, and
    /// without effect (BGPPeer disableMP).
    DeprecatedField,
    /// A warning, not a refusal: a Community name that is also a literal community value, so
    /// advertisements writing that value get the alias's value instead (as in MetalLB).
    AliasShadowsValue,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One reason an object is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field at fault, e.g. `spec.addresses[1]` or `spec.passwordSecret`.
    pub field: String,
    /// The condition reason.
    pub reason: Reason,
    /// What is wrong, as a sentence fragment a user can act on, e.g. "203.0.113.128/25
    /// overlaps 203.0.113.0/24 of IPAddressPool a, which was created first".
    pub message: String,
    /// The other object involved, if any.
    pub other: Option<ObjectRef>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A referenced Secret, reduced to what the configuration needs (pure: the kube edge reads
/// the Secret and fills this in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretData {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its `type`, e.g. `kubernetes.io/basic-auth`.
    pub type_: String,
    /// The value of its `password` key, if it has one (as UTF-8).
    pub password: Option<String>,
}

/// Everything the configuration is made of.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// IPAddressPools.
    pub pools: Vec<IPAddressPool>,
    /// L2Advertisements.
    pub l2_advertisements: Vec<L2Advertisement>,
    /// BGPAdvertisements.
    pub bgp_advertisements: Vec<BGPAdvertisement>,
    /// BGPPeers.
    pub peers: Vec<BGPPeer>,
    /// BFDProfiles.
    pub bfd_profiles: Vec<BFDProfile>,
    /// Communities.
    pub communities: Vec<Community>,
    /// The Secrets BGPPeers reference (others may be included; they are ignored).
    pub secrets: Vec<SecretData>,
    /// The namespace FerroLB runs in: where a passwordSecret without namespace is looked up.
    pub own_namespace: String,
    /// The cluster's Nodes, by their labels: two peers or advertisements conflict only when a
    /// Node is selected by both (as MetalLB decides).
    pub nodes: Vec<NodeLabels>,
}

/// A Node, reduced to what validation needs: its name and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeLabels {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// A validated pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// Its labels (for ipAddressPoolSelectors).
    pub labels: BTreeMap<String, String>,
    /// Its addresses, one range per entry, in the order written.
    pub ranges: Vec<AddressRange>,
    /// Whether Services that do not ask for it may get addresses from it.
    pub auto_assign: bool,
    /// Skip .0 and .255.
    pub avoid_buggy_ips: bool,
    /// Restriction and priority, if any.
    pub allocation: Option<Allocation>,
}

/// A pool's serviceAllocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Lower is tried first; None sorts after every number.
    pub priority: Option<i32>,
    /// Namespaces allowed by name (empty: no restriction by name).
    pub namespaces: Vec<String>,
    /// Namespaces allowed by labels.
    pub namespace_selectors: Vec<LabelSelector>,
    /// Services allowed by labels.
    pub service_selectors: Vec<LabelSelector>,
}

/// A validated L2Advertisement, its pools resolved to names.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer2Advertisement {
    /// Its name.
    pub name: String,
    /// The pools it covers (named, selected, or all when neither is given).
    pub pools: Vec<String>,
    /// Nodes that may announce (empty: all).
    pub node_selectors: Vec<LabelSelector>,
    /// Interfaces to announce on (empty: all suitable).
    pub interfaces: Vec<String>,
    /// Services covered (empty: all).
    pub service_selectors: Vec<LabelSelector>,
    /// Weighted node preferences.
    pub preferred: Vec<(i32, LabelSelector)>,
}

/// A BGP community value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommunityValue {
    /// RFC 1997 community: two 16-bit halves.
    Standard(u16, u16),
    /// RFC 8092 large community.
    Large(u32, u32, u32),
}

/// A validated BGPAdvertisement, its pools, peers and community aliases resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BgpAdvertisement {
    /// Its name.
    pub name: String,
    /// The pools it covers.
    pub pools: Vec<String>,
    /// IPv4 prefix length announced.
    pub aggregation_length: u8,
    /// IPv6 prefix length announced.
    pub aggregation_length_v6: u8,
    /// LOCAL_PREF, for iBGP peers.
    pub local_pref: Option<u32>,
    /// Communities, aliases resolved, sorted and deduplicated.
    pub communities: Vec<CommunityValue>,
    /// Peers it goes to (empty: every peer).
    pub peers: Vec<String>,
    /// Nodes that advertise (empty: all).
    pub node_selectors: Vec<LabelSelector>,
    /// Services covered (empty: all).
    pub service_selectors: Vec<LabelSelector>,
}

/// Validated BFD settings (milliseconds and counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bfd {
    /// The profile's name.
    pub name: String,
    /// Receive interval.
    pub receive_interval_ms: u32,
    /// Transmit interval.
    pub transmit_interval_ms: u32,
    /// Detect multiplier.
    pub detect_multiplier: u32,
    /// Echo interval.
    pub echo_interval_ms: u32,
    /// Echo mode.
    pub echo_mode: bool,
    /// Passive mode.
    pub passive_mode: bool,
    /// Minimum TTL.
    pub minimum_ttl: u32,
}

/// A validated BGPPeer, password and BFD profile resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// Its name.
    pub name: String,
    /// Local AS.
    pub my_asn: u32,
    /// Peer AS.
    pub peer_asn: PeerAsn,
    /// The AS presented to the peer instead of `my_asn` (localASN), if set: the OPEN's AS and
    /// the AS_PATH of routes sent carry it.
    pub local_asn: Option<u32>,
    /// Peer address; `::` for an interface peer, whose address is found on the link.
    pub address: IpAddr,
    /// The interface of a BGP unnumbered peer (`interface`): the session runs to the router at
    /// the other end of it, over IPv6 link-local addresses, and carries IPv4 and IPv6 routes
    /// (IPv4 ones with an IPv6 next hop, RFC 8950). None: the peer is at `address`.
    pub interface: Option<String>,
    /// Source address, if set.
    pub source_address: Option<IpAddr>,
    /// Peer TCP port.
    pub port: u16,
    /// Proposed hold time (None: the speaker's default, 90 s).
    pub hold_time: Option<Duration>,
    /// Keepalive interval (None: a third of the negotiated hold time).
    pub keepalive_time: Option<Duration>,
    /// Connect retry interval (None: the speaker's default).
    pub connect_time: Option<Duration>,
    /// Router ID, if set.
    pub router_id: Option<std::net::Ipv4Addr>,
    /// Nodes that peer (empty: all).
    pub node_selectors: Vec<LabelSelector>,
    /// The TCP MD5 password, from `password` or the Secret.
    pub password: Option<String>,
    /// BFD settings, if a profile is named.
    pub bfd: Option<Bfd>,
    /// eBGP multihop.
    pub ebgp_multi_hop: bool,
    /// VRF, if any.
    pub vrf: Option<String>,
    /// dualStackAddressFamily: the session carries both IPv4 and IPv6 routes; otherwise only
    /// those of its own family (the peer address's).
    pub dual_stack: bool,
    /// enableGracefulRestart: the session advertises graceful restart (RFC 4724), and a speaker
    /// that stops closes it without a NOTIFICATION, so the router keeps its routes (as stale)
    /// until the speaker is back.
    pub graceful_restart: bool,
}

impl Peer {
    /// A peer `name` at `address` (port 179) for local AS `my_asn`, with every optional setting
    /// absent: what a BGPPeer with only the required fields reads as.
    pub fn new(name: impl Into<String>, my_asn: u32, peer_asn: PeerAsn, address: IpAddr) -> Self {
        Peer {
            name: name.into(),
            my_asn,
            peer_asn,
            local_asn: None,
            address,
            interface: None,
            source_address: None,
            port: 179,
            hold_time: None,
            keepalive_time: None,
            connect_time: None,
            router_id: None,
            node_selectors: Vec::new(),
            password: None,
            bfd: None,
            ebgp_multi_hop: false,
            vrf: None,
            dual_stack: false,
            graceful_restart: false,
        }
    }

    /// A BGP unnumbered peer on `interface` (port 179), as [`Peer::new`] otherwise.
    pub fn on_interface(name: impl Into<String>, my_asn: u32, peer_asn: PeerAsn, interface: impl Into<String>) -> Self {
        Peer {
            interface: Some(interface.into()),
            ..Peer::new(name, my_asn, peer_asn, IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
        }
    }

    /// The families the session carries, (IPv4, IPv6): both for an interface peer and with
    /// dualStackAddressFamily, else the peer address's own.
    pub fn families(&self) -> (bool, bool) {
        let both = self.dual_stack || self.interface.is_some();
        (both || self.address.is_ipv4(), both || self.address.is_ipv6())
    }

    /// Where the session goes, for messages: the address, or "interface NAME".
    pub fn target(&self) -> String {
        match &self.interface {
            Some(interface) => format!("interface {interface}"),
            None => self.address.to_string(),
        }
    }

    /// The AS this session presents to the peer: localASN when set, else myASN.
    pub fn session_asn(&self) -> u32 {
        self.local_asn.unwrap_or(self.my_asn)
    }
}

/// The validated configuration: only accepted objects, references resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Pools by name.
    pub pools: BTreeMap<String, Pool>,
    /// Layer2 advertisements, by name order.
    pub l2_advertisements: Vec<Layer2Advertisement>,
    /// BGP advertisements, by name order.
    pub bgp_advertisements: Vec<BgpAdvertisement>,
    /// Peers by name.
    pub peers: BTreeMap<String, Peer>,
    /// BFD profiles by name.
    pub bfd_profiles: BTreeMap<String, Bfd>,
    /// Community aliases by name.
    pub communities: BTreeMap<String, CommunityValue>,
}

/// The outcome for every object given: accepted, or refused with its problems; and, for an
/// accepted object, what it is accepted despite (warnings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdicts {
    /// Every object judged, with the problems that refuse it (none: accepted).
    pub problems: BTreeMap<ObjectRef, Vec<Problem>>,
    /// Warnings on objects: accepted as MetalLB accepts them, with something the user should know.
    pub warnings: BTreeMap<ObjectRef, Vec<Problem>>,
}

impl Verdicts {
    /// The problems of one object; empty when it is accepted (or unknown).
    pub fn problems(&self, object: &ObjectRef) -> &[Problem] {
        self.problems.get(object).map(Vec::as_slice).unwrap_or_default()
    }

    /// The warnings on one object.
    pub fn warnings(&self, object: &ObjectRef) -> &[Problem] {
        self.warnings.get(object).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether the object is accepted.
    pub fn accepted(&self, object: &ObjectRef) -> bool {
        self.problems.contains_key(object) && self.problems(object).is_empty()
    }
}

impl Config {
    /// Builds the configuration from every object, and the verdict on each.
    pub fn from_objects(objects: &Objects) -> (Config, Verdicts) {
        validate::build(objects)
    }
}
