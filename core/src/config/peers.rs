//! BGPPeers: each checked alone, its BFDProfile and password Secret resolved, and no two peers
//! for one session (same address, port and VRF).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ferrolb_crds::{BGPPeer, BGPPeerSpec, DynamicAsn, SecretReference};

use super::duration::parse_go_duration;
use super::fields::{check_interface, selector_list};
use super::validate::{Accepted, Object, Problems, oldest_first, record};
use super::{Bfd, Kind, ObjectRef, Peer, PeerAsn, Reason, SecretData, Verdicts};

/// The Secret type a password Secret must have.
const BASIC_AUTH: &str = "kubernetes.io/basic-auth";
/// Longest TCP MD5 key Linux accepts.
const MAX_PASSWORD: usize = 80;
/// Shortest non-zero hold time (RFC 4271).
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

/// What makes two peers one session.
type SessionKey = (IpAddr, u16, String);

/// Validates every BGPPeer, oldest first, recording a verdict on each.
pub(super) fn validate(
    peers: &[BGPPeer],
    bfd_profiles: &Accepted<Bfd>,
    secrets: &Secrets<'_>,
    verdicts: &mut Verdicts,
) -> Accepted<Peer> {
    let mut accepted = Accepted::new(peers);
    let mut sessions: BTreeMap<SessionKey, String> = BTreeMap::new();
    for peer in oldest_first(peers) {
        let mut problems = Problems::default();
        let resolved = resolve(peer, bfd_profiles, secrets, &mut problems);
        let session = resolved.as_ref().map(|p| (p.address, p.port, p.vrf.clone().unwrap_or_default()));
        if let Some(((address, port, vrf), first)) = session.as_ref().and_then(|key| Some((key, sessions.get(key)?))) {
            let vrf = if vrf.is_empty() { String::new() } else { format!(" in VRF {vrf}") };
            problems.add_with(
                "spec.peerAddress",
                Reason::Duplicate,
                format!("BGPPeer {first}, which was created first, already peers with {address} port {port}{vrf}"),
                ObjectRef::new(Kind::BGPPeer, first.clone()),
            );
        }
        if let (Some(resolved), Some(session)) = (resolved, session)
            && problems.is_empty()
        {
            sessions.insert(session, resolved.name.clone());
            accepted.accepted.insert(resolved.name.clone(), resolved);
        }
        record(verdicts, peer.object_ref(), problems);
    }
    accepted
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
    let address = ip(problems, "spec.peerAddress", &spec.peer_address);
    let source_address = spec.source_address.as_deref().and_then(|text| ip(problems, "spec.sourceAddress", text));
    if let (Some(address), Some(source)) = (address, source_address)
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
    let internal = match peer_asn {
        Some(PeerAsn::Fixed(asn)) => asn == spec.my_asn,
        Some(PeerAsn::DynamicInternal) => true,
        _ => false,
    };
    if spec.ebgp_multi_hop && internal {
        problems
            .invalid("spec.ebgpMultiHop", "applies to eBGP only, and this session is iBGP (the peer's ASN is myASN)");
    }
    let bfd = spec.bfd_profile.as_deref().filter(|name| !name.is_empty()).and_then(|name| {
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
        address: address?,
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
        graceful_restart: spec.enable_graceful_restart,
        vrf,
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
    if let Some(hold) = hold
        && !hold.is_zero()
        && hold < MIN_HOLD
    {
        problems.invalid(
            "spec.holdTime",
            format!("{} is neither 0s (no keepalives) nor at least 3s", text(&spec.hold_time)),
        );
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
    }
    (hold, keepalive, connect)
}
