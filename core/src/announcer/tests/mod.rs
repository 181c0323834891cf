//! The announcer's tests: builders for a small world (three nodes, a few pools), then one
//! file a concern.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::config::{BgpAdvertisement, CommunityValue, Config, Layer2Advertisement, Peer, PeerAsn, Pool};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::*;

mod bgp;
mod conversions;
mod layer2;
mod properties;
mod sharing;

pub(super) fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A selector with these matchLabels.
pub(super) fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        match_labels: Some(pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()),
        match_expressions: None,
    }
}

pub(super) fn pool(name: &str, ranges: &[&str]) -> Pool {
    Pool {
        name: name.into(),
        labels: BTreeMap::new(),
        ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
        auto_assign: true,
        avoid_buggy_ips: false,
        allocation: None,
    }
}

pub(super) fn l2(name: &str, pools: &[&str]) -> Layer2Advertisement {
    Layer2Advertisement {
        name: name.into(),
        pools: pools.iter().map(|p| (*p).to_string()).collect(),
        node_selectors: vec![],
        interfaces: vec![],
        service_selectors: vec![],
        preferred: vec![],
    }
}

pub(super) fn bgp_adv(name: &str, pools: &[&str]) -> BgpAdvertisement {
    BgpAdvertisement {
        name: name.into(),
        pools: pools.iter().map(|p| (*p).to_string()).collect(),
        aggregation_length: 32,
        aggregation_length_v6: 128,
        local_pref: None,
        communities: vec![],
        peers: vec![],
        node_selectors: vec![],
        service_selectors: vec![],
    }
}

pub(super) fn peer(name: &str) -> Peer {
    Peer::new(name, 64600, PeerAsn::Fixed(64512), ip("198.51.100.1"))
}

pub(super) fn community(a: u16, b: u16) -> CommunityValue {
    CommunityValue::Standard(a, b)
}

pub(super) fn node(name: &str) -> NodeView {
    let labels = [("kubernetes.io/hostname".to_string(), name.to_string())].into();
    NodeView { name: name.into(), labels, excluded: false, network_unavailable: false }
}

pub(super) fn key(name: &str) -> ServiceKey {
    ServiceKey::new("default", name)
}

/// A Cluster-policy Service with these addresses and no annotation.
pub(super) fn svc(name: &str, addresses: &[&str]) -> ServiceView {
    ServiceView {
        key: key(name),
        labels: BTreeMap::new(),
        traffic_policy: TrafficPolicy::Cluster,
        addresses: addresses.iter().map(|a| ip(a)).collect(),
        pools: vec![],
    }
}

pub(super) fn local(mut service: ServiceView) -> ServiceView {
    service.traffic_policy = TrafficPolicy::Local;
    service
}

pub(super) fn labelled(mut service: ServiceView, k: &str, v: &str) -> ServiceView {
    service.labels.insert(k.into(), v.into());
    service
}

/// An endpoint on `node` with these conditions.
pub(super) fn ep(node: &str, ready: bool, serving: bool) -> EndpointView {
    EndpointView { node: Some(node.into()), ready, serving }
}

/// A small world: nodes n1..n3 alive, this node n1 healthy; pools `l2` (198.51.100.200-250),
/// `l2v6` (2001:db8:1::200-2ff), `bgp` (203.0.113.0/24), `bgp6` (2001:db8:100::/120) and
/// `bare` (192.0.2.0/24, which nothing advertises); one L2Advertisement `l2` for the two
/// Layer2 pools; no BGP advertisement or peer.
#[derive(Clone)]
pub(super) struct World {
    pub me: String,
    pub config: Config,
    pub services: Vec<ServiceView>,
    pub slices: Vec<(SliceKey, EndpointSliceView)>,
    pub nodes: Vec<NodeView>,
    pub members: Members,
}

impl World {
    pub fn new() -> Self {
        let mut config = Config::default();
        for p in [
            pool("l2", &["198.51.100.200-198.51.100.250"]),
            pool("l2v6", &["2001:db8:1::200-2001:db8:1::2ff"]),
            pool("bgp", &["203.0.113.0/24"]),
            pool("bgp6", &["2001:db8:100::/120"]),
            pool("bare", &["192.0.2.0/24"]),
        ] {
            config.pools.insert(p.name.clone(), p);
        }
        config.l2_advertisements.push(l2("l2", &["l2", "l2v6"]));
        World {
            me: "n1".into(),
            config,
            services: vec![],
            slices: vec![],
            nodes: vec![node("n1"), node("n2"), node("n3")],
            members: Members { alive: ["n1", "n2", "n3"].map(String::from).into(), self_healthy: true },
        }
    }

    /// Adds a Service and one slice with these endpoints.
    pub fn service(mut self, service: ServiceView, endpoints: Vec<EndpointView>) -> Self {
        let slice = SliceKey::new(&*service.key.namespace, format!("{}-abcde", service.key.name));
        self.slices.push((slice, EndpointSliceView { service: service.key.clone(), endpoints }));
        self.services.push(service);
        self
    }

    /// Adds a Service with a ready endpoint on every node.
    pub fn everywhere(self, service: ServiceView) -> Self {
        self.service(service, vec![ep("n1", true, true), ep("n2", true, true), ep("n3", true, true)])
    }

    pub fn l2_ads(mut self, ads: Vec<Layer2Advertisement>) -> Self {
        self.config.l2_advertisements = ads;
        self
    }

    pub fn bgp(mut self, ads: Vec<BgpAdvertisement>, peers: Vec<Peer>) -> Self {
        self.config.bgp_advertisements = ads;
        self.config.peers = peers.into_iter().map(|p| (p.name.clone(), p)).collect();
        self
    }

    pub fn node_mut(mut self, name: &str, change: impl FnOnce(&mut NodeView)) -> Self {
        let node = self.nodes.iter_mut().find(|n| n.name == name).unwrap();
        change(node);
        self
    }

    pub fn dead(mut self, name: &str) -> Self {
        self.members.alive.remove(name);
        if name == self.me {
            self.members.self_healthy = false;
        }
        self
    }

    pub fn me(mut self, name: &str) -> Self {
        self.me = name.into();
        self
    }

    pub fn announcer(&self) -> Announcer {
        let mut announcer = Announcer::new(self.me.clone());
        announcer.set_config(self.config.clone());
        announcer.reset_services(self.services.clone());
        announcer.reset_slices(self.slices.clone());
        announcer.reset_nodes(self.nodes.clone());
        announcer.set_members(self.members.clone());
        announcer
    }

    /// The Layer2 outcome for the first address of Service `name`.
    pub fn l2_outcome(&self, name: &str) -> Layer2Outcome {
        let decision = self.announcer().decide_layer2();
        decision.verdicts.get(&key(name)).unwrap().first().unwrap().outcome.clone()
    }

    /// The owner of the first address of Service `name`, or the reason there is none.
    pub fn l2_owner(&self, name: &str) -> Result<String, Reason> {
        match self.l2_outcome(name) {
            Layer2Outcome::Announced(ownership) => Ok(ownership.owner),
            Layer2Outcome::NotAnnounced(reason) => Err(reason),
        }
    }
}

pub(super) fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(String::from).collect()
}
