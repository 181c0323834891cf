//! Small builders for configuration objects, shared by the config tests: each object is one
//! line, e.g. `pool("a", &["203.0.113.0/24"]).created(1)`.

// Each test crate uses a different part of the builders.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ferrolb_core::config::{Config, Kind, NodeLabels, ObjectRef, Objects, Reason, SecretData, Verdicts};
use ferrolb_crds::{
    BFDProfile, BFDProfileSpec, BGPAdvertisement, BGPAdvertisementSpec, BGPPeer, BGPPeerSpec, Community,
    CommunityAlias, CommunitySpec, DynamicAsn, IPAddressPool, IPAddressPoolSpec, L2Advertisement, L2AdvertisementSpec,
    SecretReference,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

/// The namespace FerroLB runs in, in these tests.
pub const OWN_NAMESPACE: &str = "ferrolb-system";

/// What every built object can be given: a creation time, labels, a changed spec.
pub trait Built: Sized {
    /// The object's spec type.
    type Spec;
    /// Its metadata and spec.
    fn parts(&mut self) -> (&mut ObjectMeta, &mut Self::Spec);

    /// Created `secs` seconds after the epoch.
    fn created(mut self, secs: i64) -> Self {
        self.parts().0.creation_timestamp = Some(Time(Timestamp::from_second(secs).unwrap()));
        self
    }

    /// With these labels.
    fn labels(mut self, pairs: &[(&str, &str)]) -> Self {
        self.parts().0.labels = Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        self
    }

    /// With its spec changed by `change`.
    fn with(mut self, change: impl FnOnce(&mut Self::Spec)) -> Self {
        change(self.parts().1);
        self
    }
}

macro_rules! built {
    ($type:ty, $spec:ty) => {
        impl Built for $type {
            type Spec = $spec;
            fn parts(&mut self) -> (&mut ObjectMeta, &mut $spec) {
                (&mut self.metadata, &mut self.spec)
            }
        }
    };
}

built!(IPAddressPool, IPAddressPoolSpec);
built!(L2Advertisement, L2AdvertisementSpec);
built!(BGPAdvertisement, BGPAdvertisementSpec);
built!(BGPPeer, BGPPeerSpec);
built!(BFDProfile, BFDProfileSpec);
built!(Community, CommunitySpec);

/// Strings from string slices.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A pool with these entries, defaults otherwise.
pub fn pool(name: &str, addresses: &[&str]) -> IPAddressPool {
    IPAddressPool::new(
        name,
        IPAddressPoolSpec {
            addresses: strings(addresses),
            auto_assign: true,
            avoid_buggy_ips: false,
            service_allocation: None,
        },
    )
}

/// An L2Advertisement naming these pools (none: every pool).
pub fn l2(name: &str, pools: &[&str]) -> L2Advertisement {
    L2Advertisement::new(name, L2AdvertisementSpec { ip_address_pools: strings(pools), ..Default::default() })
}

/// A BGPAdvertisement naming these pools (none: every pool), defaults otherwise.
pub fn bgp(name: &str, pools: &[&str]) -> BGPAdvertisement {
    BGPAdvertisement::new(
        name,
        BGPAdvertisementSpec {
            aggregation_length: 32,
            aggregation_length_v6: 128,
            as_path_prepend: None,
            local_pref: None,
            communities: vec![],
            ip_address_pools: strings(pools),
            ip_address_pool_selectors: vec![],
            node_selectors: vec![],
            peers: vec![],
            service_selectors: vec![],
        },
    )
}

/// An eBGP peer from AS 64600 to AS `peer_asn` at `address`, defaults otherwise.
pub fn peer(name: &str, peer_asn: u32, address: &str) -> BGPPeer {
    BGPPeer::new(
        name,
        BGPPeerSpec {
            my_asn: 64600,
            peer_asn: Some(peer_asn),
            local_asn: None,
            dynamic_asn: None,
            peer_address: address.to_owned(),
            interface: None,
            source_address: None,
            peer_port: 179,
            hold_time: None,
            keepalive_time: None,
            connect_time: None,
            router_id: None,
            node_selectors: vec![],
            password: None,
            password_secret: None,
            bfd_profile: None,
            ebgp_multi_hop: false,
            enable_graceful_restart: false,
            dual_stack_address_family: false,
            disable_mp: false,
            vrf: None,
        },
    )
}

/// A peer with a dynamic ASN.
pub fn dynamic_peer(name: &str, kind: DynamicAsn, address: &str) -> BGPPeer {
    peer(name, 1, address).with(|s| {
        s.peer_asn = None;
        s.dynamic_asn = Some(kind);
    })
}

/// A reference to a Secret, in `namespace` or (None) FerroLB's own.
pub fn secret_ref(name: &str, namespace: Option<&str>) -> Option<SecretReference> {
    Some(SecretReference { name: name.to_owned(), namespace: namespace.map(str::to_owned) })
}

/// A BFDProfile with the defaults of the CRD.
pub fn bfd(name: &str) -> BFDProfile {
    BFDProfile::new(
        name,
        BFDProfileSpec {
            receive_interval: 300,
            transmit_interval: 300,
            detect_multiplier: 3,
            echo_interval: 50,
            echo_mode: false,
            passive_mode: false,
            minimum_ttl: 254,
        },
    )
}

/// A Community defining these (name, value) aliases.
pub fn community(name: &str, aliases: &[(&str, &str)]) -> Community {
    let communities =
        aliases.iter().map(|(n, v)| CommunityAlias { name: n.to_string(), value: v.to_string() }).collect();
    Community::new(name, CommunitySpec { communities })
}

/// A Secret of `type_` in `namespace`, with a password if given.
pub fn secret(namespace: &str, name: &str, type_: &str, password: Option<&str>) -> SecretData {
    SecretData {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        type_: type_.to_owned(),
        password: password.map(str::to_owned),
    }
}

/// A basic-auth Secret in FerroLB's namespace holding `password`.
pub fn basic_auth(name: &str, password: &str) -> SecretData {
    secret(OWN_NAMESPACE, name, "kubernetes.io/basic-auth", Some(password))
}

/// A selector by labels.
pub fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()),
        match_expressions: None,
    }
}

/// A selector by one expression.
pub fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelector {
    LabelSelector {
        match_labels: None,
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: Some(strings(values)),
        }]),
    }
}

/// Any object the configuration takes.
pub enum Any {
    Pool(IPAddressPool),
    L2(L2Advertisement),
    Bgp(BGPAdvertisement),
    Peer(BGPPeer),
    Bfd(BFDProfile),
    Community(Community),
    Secret(SecretData),
    Node(NodeLabels),
}

macro_rules! any {
    ($type:ty, $variant:ident) => {
        impl From<$type> for Any {
            fn from(object: $type) -> Self {
                Any::$variant(object)
            }
        }
    };
}

any!(IPAddressPool, Pool);
any!(L2Advertisement, L2);
any!(BGPAdvertisement, Bgp);
any!(BGPPeer, Peer);
any!(BFDProfile, Bfd);
any!(Community, Community);
any!(SecretData, Secret);
any!(NodeLabels, Node);

/// A Node with its hostname label and these labels.
pub fn node(name: &str, labels: &[(&str, &str)]) -> NodeLabels {
    let mut all: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.insert("kubernetes.io/hostname".into(), name.into());
    NodeLabels { name: name.into(), labels: all }
}

/// The objects given, in order, with FerroLB running in [`OWN_NAMESPACE`], on a cluster of the
/// Nodes given, or of one Node `node1` when none is.
pub fn objects(items: Vec<Any>) -> Objects {
    let mut objects = Objects { own_namespace: OWN_NAMESPACE.to_owned(), ..Default::default() };
    for item in items {
        match item {
            Any::Node(o) => objects.nodes.push(o),
            Any::Pool(o) => objects.pools.push(o),
            Any::L2(o) => objects.l2_advertisements.push(o),
            Any::Bgp(o) => objects.bgp_advertisements.push(o),
            Any::Peer(o) => objects.peers.push(o),
            Any::Bfd(o) => objects.bfd_profiles.push(o),
            Any::Community(o) => objects.communities.push(o),
            Any::Secret(o) => objects.secrets.push(o),
        }
    }
    if objects.nodes.is_empty() {
        objects.nodes.push(node("node1", &[]));
    }
    objects
}

/// `objs![a, b, c]`: the objects a, b and c.
#[macro_export]
macro_rules! objs {
    ($($item:expr),* $(,)?) => {
        $crate::config_builders::objects(vec![$($crate::config_builders::Any::from($item)),*])
    };
}

/// References, by kind.
pub fn pool_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::IPAddressPool, name)
}
pub fn l2_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::L2Advertisement, name)
}
pub fn bgp_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::BGPAdvertisement, name)
}
pub fn peer_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::BGPPeer, name)
}
pub fn bfd_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::BFDProfile, name)
}
pub fn community_ref(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::Community, name)
}
pub fn secret_object(name: &str) -> ObjectRef {
    ObjectRef::new(Kind::Secret, name)
}

/// Every configuration object of `objects`, by reference.
pub fn all_refs(objects: &Objects) -> Vec<ObjectRef> {
    let name = |meta: &ObjectMeta| meta.name.clone().unwrap_or_default();
    let mut refs = Vec::new();
    refs.extend(objects.pools.iter().map(|o| ObjectRef::new(Kind::IPAddressPool, name(&o.metadata))));
    refs.extend(objects.l2_advertisements.iter().map(|o| ObjectRef::new(Kind::L2Advertisement, name(&o.metadata))));
    refs.extend(objects.bgp_advertisements.iter().map(|o| ObjectRef::new(Kind::BGPAdvertisement, name(&o.metadata))));
    refs.extend(objects.peers.iter().map(|o| ObjectRef::new(Kind::BGPPeer, name(&o.metadata))));
    refs.extend(objects.bfd_profiles.iter().map(|o| ObjectRef::new(Kind::BFDProfile, name(&o.metadata))));
    refs.extend(objects.communities.iter().map(|o| ObjectRef::new(Kind::Community, name(&o.metadata))));
    refs
}

/// Builds the configuration, checking that every object given got a verdict and nothing else did.
pub fn build(objects: &Objects) -> (Config, Verdicts) {
    let (config, verdicts) = Config::from_objects(objects);
    let mut given = all_refs(objects);
    given.sort();
    let judged: Vec<ObjectRef> = verdicts.problems.keys().cloned().collect();
    assert_eq!(judged, given, "every object given, and only those, gets a verdict");
    (config, verdicts)
}

/// One problem, as the tables state it: field, reason and other object.
pub type Want = (String, Reason, Option<ObjectRef>);

/// A problem with no other object.
pub fn problem(field: &str, reason: Reason) -> Want {
    (field.to_owned(), reason, None)
}

/// A problem involving `other`.
pub fn problem_with(field: &str, reason: Reason, other: ObjectRef) -> Want {
    (field.to_owned(), reason, Some(other))
}

/// The problems of `object`, as the tables state them.
pub fn problems_of(verdicts: &Verdicts, object: &ObjectRef) -> Vec<Want> {
    verdicts.problems(object).iter().map(|p| (p.field.clone(), p.reason, p.other.clone())).collect()
}

/// The messages of the problems of `object`.
pub fn messages_of(verdicts: &Verdicts, object: &ObjectRef) -> Vec<String> {
    verdicts.problems(object).iter().map(|p| p.message.clone()).collect()
}
