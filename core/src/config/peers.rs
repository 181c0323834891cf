//! BGPPeers: each checked alone, its BFDProfile and password Secret resolved, and no two peers
//! for one session (same address, port and VRF) on one Node. Two peers with one address whose
//! node selectors select no common Node are two sessions from different Nodes, as in MetalLB.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ferrolb_crds::{BGPPeer, BGPPeerSpec, DynamicAsn, SecretReference};

use super::duration::parse_go_duration;
use super::fields::{check_interface, selector_list};
use super::node_overlap::{NodeOverlap, node_overlap};
use super::validate::{Accepted, Object, Problems, oldest_first, record};
use super::{Bfd, Kind, NodeLabels, ObjectRef, Peer, PeerAsn, Reason, SecretData, Verdicts};

/// The Secret type a password Secret must have.
const BASIC_AUTH: &str = "kubernetes.io/basic-auth";
/// Longest TCP MD5 key Linux accepts.
const MAX_PASSWORD: usize = 80;
/// Shortest non-zero hold time (RFC 4271). The OPEN message carries whole seconds, so a hold
/// time under 1 s is 0 (no keepalives), as MetalLB reads it.
const MIN_HOLD: Duration = Duration::from_secs(3);
/// Connect retry intervals allowed.
const MIN_CONNECT: Duration = Duration::from_secs(1);
const MAX_CONNECT: Duration = Duration::from_secs(65535);

/// The Secrets given, by namespace and name, and where a reference without namespace looks.
#[derive(Debug)]
pub(super) struct Secrets<'a> {
    by_name: BTreeMap<(&'a str, &'a str), &'a SecretData>,
    own_namespace: &'a str,
}

impl<'a> Secrets<'a> {
    /// Indexes `secrets`; references without a namespace look in `own_namespace`.
    pub(super) fn index(secrets: &'a [SecretData], own_namespace: &'a str) -> Self {
        let by_name = secrets.iter().map(|s| ((s.namespace.as_str(), s.name.as_str()), s)).collect();
        Secrets { by_name, own_namespace }
    }

    /// The password the Secret referenced holds, or the problem with it.
    fn password(&self, reference: &SecretReference, problems: &mut Problems) -> Option<String> {
        let namespace = reference.namespace.as_deref().filter(|ns| !ns.is_empty()).unwrap_or(self.own_namespace);
        let full = format!("{namespace}/{}", reference.name);
        let other = ObjectRef::new(Kind::Secret, full.clone());
        let field = "spec.passwordSecret";
        let Some(secret) = self.by_name.get(&(namespace, reference.name.as_str())) else {
            problems.add_with(
                field,
                Reason::ReferenceNotFound,
                // The controller reads only basic-auth Secrets, so "missing" may also mean
                // "of another type": say both.
                format!("names Secret {full}, which does not exist as a Secret of type {BASIC_AUTH}"),
                other,
            );
            return None;
        };
        if secret.type_ != BASIC_AUTH {
            let message = format!("Secret {full} is of type {}; it must be of type {BASIC_AUTH}", secret.type_);
            problems.add_with(field, Reason::SecretInvalid, message, other);
            return None;
        }
        if secret.password.is_none() {
            problems.add_with(field, Reason::SecretInvalid, format!("Secret {full} has no password key"), other);
        }
        secret.password.clone()
    }
}

/// What makes two peers one session: where (the address, or "interface NAME"), port, VRF.
type SessionKey = (String, u16, String);

/// Validates every BGPPeer, oldest first, recording a verdict on each.
pub(super) fn validate(
    peers: &[BGPPeer],
    bfd_profiles: &Accepted<Bfd>,
    secrets: &Secrets<'_>,
    nodes: &[NodeLabels],
    verdicts: &mut Verdicts,
) -> Accepted<Peer> {
    let mut accepted: Accepted<Peer> = Accepted::new(peers);
    // The accepted peers of each session, oldest first.
    let mut sessions: BTreeMap<SessionKey, Vec<String>> = BTreeMap::new();
    for peer in oldest_first(peers) {
        let mut problems = Problems::default();
        let resolved = resolve(peer, bfd_profiles, secrets, &mut problems);
        let session = resolved.as_ref().map(|p| (p.target(), p.port, p.vrf.clone().unwrap_or_default()));
        if let (Some(resolved), Some(key)) = (&resolved, &session) {
            for first in sessions.get(key).into_iter().flatten() {
                let Some(earlier) = accepted.accepted.get(first) else { continue };
                same_session(resolved, earlier, key, nodes, &mut problems);
            }
        }
        if let (Some(resolved), Some(session)) = (resolved, session)
            && problems.is_empty()
        {
            sessions.entry(session).or_default().push(resolved.name.clone());
            accepted.accepted.insert(resolved.name.clone(), resolved);
        }
        record(verdicts, peer.object_ref(), problems);
    }
    accepted
}

/// The problem (or warning) of `peer` when `earlier`, accepted, is a peer of the same session
/// `key`: one Node cannot hold both sessions.
fn same_session(peer: &Peer, earlier: &Peer, key: &SessionKey, nodes: &[NodeLabels], problems: &mut Problems) {
    let (address, port, vrf) = key;
    let vrf = if vrf.is_empty() { String::new() } else { format!(" in VRF {vrf}") };
    let other = ObjectRef::new(Kind::BGPPeer, earlier.name.clone());
    let first = &earlier.name;
    match node_overlap(nodes, &peer.node_selectors, &earlier.node_selectors) {
        NodeOverlap::Never => {}
        NodeOverlap::OnNode(node) => problems.add_with(
            "spec.peerAddress",
            Reason::Duplicate,
            format!(
                "BGPPeer {first}, which was created first, already peers with {address} port {port}{vrf} from Node \
                 {node}, which both select"
            ),
            other,
        ),
        NodeOverlap::Possible => problems.warn(
            "spec.nodeSelectors",
            Reason::ConflictOnFutureNode,
            format!(
                "BGPPeer {first} also peers with {address} port {port}{vrf}; no Node is selected by both today, \
                 but if one is, this peer (the newer) will be refused"
            ),
            Some(other),
        ),
    }
}

/// The peer as far as it can be read, references resolved; None when its ASN or address
/// cannot be read. Everything wrong with it goes to `problems`.
fn resolve(
    peer: &BGPPeer,
    bfd_profiles: &Accepted<Bfd>,
    secrets: &Secrets<'_>,
    problems: &mut Problems,
) -> Option<Peer> {
    let spec = &peer.spec;
    if spec.my_asn == 0 {
        problems.invalid("spec.myASN", "0 is not an AS number; it must be from 1 to 4294967295");
    }
    let peer_asn = peer_asn(spec, problems);
    let (address, interface) = match peer_address(spec, problems) {
        Some(Target::Address(address)) => (Some(address), None),
        Some(Target::Interface(name)) => (Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), Some(name)),
        None => (None, None),
    };
    let source_address = spec.source_address.as_deref().and_then(|text| ip(problems, "spec.sourceAddress", text));
    if let (Some(interface), Some(source)) = (&interface, source_address) {
        problems.invalid(
            "spec.sourceAddress",
            format!(
                "{source} cannot be the source of a session over interface {interface} (BGP unnumbered): it runs \
                 between the link-local addresses of the link; leave sourceAddress out"
            ),
        );
    } else if let (Some(address), Some(source)) = (address, source_address)
        && address.is_ipv4() != source.is_ipv4()
    {
        problems.invalid(
            "spec.sourceAddress",
            format!("{source} and peerAddress {address} are not of the same address family"),
        );
    }
    if spec.peer_port == 0 {
        problems.invalid("spec.peerPort", "0 is not a TCP port; it must be from 1 to 65535");
    }
    let (hold_time, keepalive_time, connect_time) = timers(spec, problems);
    let router_id = spec.router_id.as_deref().and_then(|text| match text.parse::<Ipv4Addr>() {
        Ok(id) => Some(id),
        Err(_) => {
            problems.invalid("spec.routerID", format!("{text:?} is not an IPv4 address"));
            None
        }
    });
    selector_list(problems, "spec.nodeSelectors", &spec.node_selectors);
    if let Some(password) = &spec.password
        && password.len() > MAX_PASSWORD
    {
        problems
            .invalid("spec.password", format!("is {} bytes long; at most {MAX_PASSWORD} are allowed", password.len()));
    }
    let vrf = spec.vrf.clone().filter(|vrf| !vrf.is_empty());
    if let Some(Err(message)) = vrf.as_deref().map(check_interface) {
        problems.invalid("spec.vrf", message);
    }
    // As MetalLB: a fixed peerASN equal to myASN; with dynamicASN the kind of session is only
    // known once the peer's OPEN arrives (and an iBGP session is multihop anyway).
    let internal = matches!(peer_asn, Some(PeerAsn::Fixed(asn)) if asn == spec.my_asn);
    let local_asn = local_asn(spec, peer_asn, problems);
    if spec.ebgp_multi_hop && internal {
        problems
            .invalid("spec.ebgpMultiHop", "applies to eBGP only, and this session is iBGP (the peer's ASN is myASN)");
    }
    if spec.disable_mp {
        let message = if spec.dual_stack_address_family {
            "is deprecated and has no effect (as in MetalLB): dualStackAddressFamily is set, so this session \
             carries both IPv4 and IPv6 routes"
        } else {
            "is deprecated and has no effect (as in MetalLB): a session carries only its own address family \
             unless dualStackAddressFamily is set"
        };
        problems.warn("spec.disableMP", Reason::DeprecatedField, message, None);
    }
    if interface.is_some() && spec.bfd_profile.as_deref().is_some_and(|name| !name.is_empty()) {
        problems.add(
            "spec.bfdProfile",
            Reason::NotSupported,
            "BFD with interface (BGP unnumbered) is not supported yet: leave bfdProfile out, or use peerAddress",
        );
    }
    // Refused above for an interface peer: its profile is not looked up too.
    let bfd = spec.bfd_profile.as_deref().filter(|name| !name.is_empty() && interface.is_none()).and_then(|name| {
        bfd_profiles.resolve("spec.bfdProfile", name).map_err(|problem| problems.push(problem)).ok().cloned()
    });
    let password = match (&spec.password, &spec.password_secret) {
        (Some(_), Some(_)) => {
            problems.invalid("spec.passwordSecret", "password and passwordSecret are mutually exclusive: set one");
            None
        }
        (Some(password), None) => Some(password.clone()),
        (None, Some(reference)) => secrets.password(reference, problems),
        (None, None) => None,
    };
    Some(Peer {
        name: peer.name().to_owned(),
        my_asn: spec.my_asn,
        peer_asn: peer_asn?,
        local_asn,
        address: address?,
        interface,
        source_address,
        port: spec.peer_port,
        hold_time,
        keepalive_time,
        connect_time,
        router_id,
        node_selectors: spec.node_selectors.clone(),
        password: password.filter(|password| !password.is_empty()),
        bfd,
        ebgp_multi_hop: spec.ebgp_multi_hop,
        vrf,
        dual_stack: spec.dual_stack_address_family,
        graceful_restart: spec.enable_graceful_restart,
    })
}

/// The peer's ASN: exactly one of peerASN and dynamicASN.
fn peer_asn(spec: &BGPPeerSpec, problems: &mut Problems) -> Option<PeerAsn> {
    match (spec.peer_asn, spec.dynamic_asn) {
        (Some(0), None) => {
            problems.invalid("spec.peerASN", "0 is not an AS number; it must be from 1 to 4294967295");
            None
        }
        (Some(asn), None) => Some(PeerAsn::Fixed(asn)),
        (None, Some(DynamicAsn::Internal)) => Some(PeerAsn::DynamicInternal),
        (None, Some(DynamicAsn::External)) => Some(PeerAsn::DynamicExternal),
        (None, None) => {
            problems.invalid("spec.peerASN", "set exactly one of peerASN and dynamicASN; neither is set");
            None
        }
        (Some(_), Some(_)) => {
            problems.invalid("spec.dynamicASN", "set exactly one of peerASN and dynamicASN, not both");
            None
        }
    }
}

/// localASN, checked as FRR checks `neighbor X local-as ASN` (what MetalLB renders it to): not
/// 0, not myASN, and on eBGP sessions only.
fn local_asn(spec: &BGPPeerSpec, peer_asn: Option<PeerAsn>, problems: &mut Problems) -> Option<u32> {
    let local = spec.local_asn?;
    let field = "spec.localASN";
    if local == 0 {
        problems.invalid(field, "0 is not an AS number; it must be from 1 to 4294967295");
    } else if local == spec.my_asn {
        problems.invalid(field, format!("{local} is myASN; leave localASN out, or give another AS number"));
    } else {
        match peer_asn {
            Some(PeerAsn::Fixed(asn)) if asn == spec.my_asn => problems
                .invalid(field, "applies to eBGP sessions only, and this session is iBGP (the peer's ASN is myASN)"),
            Some(PeerAsn::DynamicInternal) => {
                problems.invalid(field, "applies to eBGP sessions only, and this session is iBGP (dynamicASN internal)")
            }
            _ => return Some(local),
        }
    }
    None
}

/// Where a peer is: at an address, or at the other end of an interface (BGP unnumbered).
enum Target {
    Address(IpAddr),
    Interface(String),
}

/// The peer's address or interface (BGP unnumbered): exactly one of the two must be set, as in
/// MetalLB.
fn peer_address(spec: &BGPPeerSpec, problems: &mut Problems) -> Option<Target> {
    let interface = spec.interface.as_deref().filter(|name| !name.is_empty());
    let valid_interface = interface.filter(|name| match check_interface(name) {
        Ok(()) => true,
        Err(message) => {
            problems.invalid("spec.interface", message);
            false
        }
    });
    match (spec.peer_address.is_empty(), interface) {
        (true, None) => {
            problems.invalid("spec.peerAddress", "set exactly one of peerAddress and interface; neither is set");
            None
        }
        (true, Some(_)) => valid_interface.map(|name| Target::Interface(name.to_owned())),
        (false, interface) => {
            if interface.is_some() {
                problems.invalid("spec.interface", "set exactly one of peerAddress and interface, not both");
            }
            ip(problems, "spec.peerAddress", &spec.peer_address).map(Target::Address)
        }
    }
}

/// An IP address, as Go's `net.ParseIP` reads it (IPv4-mapped IPv6 addresses are IPv4).
fn ip(problems: &mut Problems, field: &str, text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>() {
        Ok(ip) => Some(ip.to_canonical()),
        Err(_) => {
            problems.invalid(field, format!("{text:?} is not an IPv4 or IPv6 address"));
            None
        }
    }
}

/// Hold time, keepalive time and connect time, each parsed and in range.
fn timers(spec: &BGPPeerSpec, problems: &mut Problems) -> (Option<Duration>, Option<Duration>, Option<Duration>) {
    let mut duration = |field: &str, text: &Option<String>| {
        text.as_deref()
            .and_then(|text| parse_go_duration(text).map_err(|err| problems.invalid(field, err.to_string())).ok())
    };
    let hold = duration("spec.holdTime", &spec.hold_time);
    let keepalive = duration("spec.keepaliveTime", &spec.keepalive_time);
    let connect = duration("spec.connectTime", &spec.connect_time);
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    // As MetalLB: a keepalive time alone asks for a hold time three times as long.
    let (hold, hold_field) = match (hold, keepalive) {
        (None, Some(keepalive)) => (Some(keepalive * 3), "spec.keepaliveTime"),
        _ => (hold, "spec.holdTime"),
    };
    let whole_seconds = hold.map(|hold| Duration::from_secs(hold.as_secs()));
    if let Some(hold) = whole_seconds
        && !hold.is_zero()
        && hold < MIN_HOLD
    {
        let message = if spec.hold_time.is_some() {
            format!("{} is neither under 1s (0: no keepalives) nor at least 3s", text(&spec.hold_time))
        } else {
            format!(
                "{} without holdTime asks for a hold time of three times as much, {}s, which is neither under 1s \
                 (0: no keepalives) nor at least 3s",
                text(&spec.keepalive_time),
                hold.as_secs()
            )
        };
        problems.invalid(hold_field, message);
    }
    if let (Some(hold), Some(keepalive)) = (hold, keepalive)
        && keepalive > hold
    {
        let message = format!("{} is longer than holdTime {}", text(&spec.keepalive_time), text(&spec.hold_time));
        problems.invalid("spec.keepaliveTime", message);
    }
    if let Some(connect) = connect
        && !(MIN_CONNECT..=MAX_CONNECT).contains(&connect)
    {
        problems.invalid("spec.connectTime", format!("{} is not between 1s and 65535s", text(&spec.connect_time)));
    } else if let Some(connect) = connect
        && connect.subsec_nanos() != 0
    {
        problems.invalid("spec.connectTime", format!("{} is not a whole number of seconds", text(&spec.connect_time)));
    }
    (whole_seconds, keepalive, connect)
}
