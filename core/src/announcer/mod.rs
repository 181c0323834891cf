//! Which Service addresses this node announces, in Layer2 and in BGP, to which peers, with
//! which attributes, and why (or why not). Pure: no I/O, no clock, no randomness.
//!
//! [`Announcer`] is an index in the linkerd style: the kube edge feeds it views of Services,
//! EndpointSlices and Nodes (converted by [`from_k8s`]), the validated [`Config`] and the live
//! members, through `apply_*` / `delete_*` / `reset_*` / `set_*` calls; [`Announcer::decide`]
//! then answers from the current state, every speaker reaching the same Layer2 owners without
//! talking. The rules are in [`layer2`] and [`bgp`]; what both share (pools, advertisements,
//! endpoints, node fitness) in `candidates`; the stable ranking hash in [`rendezvous`]; the
//! words for "why not" in [`reasons`].
//!
//! What it does not do: watch anything, send frames or UPDATEs, or remember what it answered
//! last time (callers diff two decisions).

use std::collections::BTreeMap;

use crate::config::Config;

pub mod bgp;
mod candidates;
pub mod from_k8s;
pub mod layer2;
pub mod reasons;
pub mod rendezvous;
pub mod views;

#[cfg(test)]
mod tests;

pub use bgp::{BgpDecision, BgpOutcome, BgpVerdict, Prefix, RouteAttributes};
pub use from_k8s::{ClassPolicy, NotServed, endpoint_slice_view, node_view, service_view};
pub use layer2::{Interfaces, Layer2Announcement, Layer2Decision, Layer2Outcome, Layer2Verdict, Ownership};
pub use reasons::{NodeRejection, Reason};
pub use views::{EndpointSliceView, EndpointView, Members, NodeView, ServiceKey, ServiceView, SliceKey, TrafficPolicy};

use candidates::{ByPool, SlicesByService};
pub use candidates::{Endpoints, pool_of};

/// Everything this node announces, and a verdict on every Service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Layer2: the addresses this node owns, and every Service's owner or why none.
    pub layer2: Layer2Decision,
    /// BGP: the routes this node sends each peer, and every Service's peers or why none.
    pub bgp: BgpDecision,
}

/// The announcer's index: the current inputs, from which [`Announcer::decide`] answers.
#[derive(Debug, Clone)]
pub struct Announcer {
    pub(crate) me: String,
    pub(crate) config: Config,
    pub(crate) l2_by_pool: ByPool,
    pub(crate) bgp_by_pool: ByPool,
    pub(crate) services: BTreeMap<ServiceKey, ServiceView>,
    pub(crate) slices: SlicesByService,
    pub(crate) nodes: BTreeMap<String, NodeView>,
    pub(crate) members: Members,
    pub(crate) reasons: bool,
}

impl Announcer {
    /// An empty index for the node named `me`: no configuration, no Services, no Nodes, and
    /// no live member (this node counts as unhealthy until [`Announcer::set_members`] says).
    pub fn new(me: impl Into<String>) -> Self {
        Announcer {
            me: me.into(),
            config: Config::default(),
            l2_by_pool: ByPool::default(),
            bgp_by_pool: ByPool::default(),
            services: BTreeMap::new(),
            slices: SlicesByService::default(),
            nodes: BTreeMap::new(),
            members: Members::default(),
            reasons: true,
        }
    }

    /// Whether decisions carry a verdict for every address, with the reason when it is not
    /// announced (the default, what `ferrolb explain` shows), or only the BGP verdicts of
    /// addresses this node advertises and no Layer2 verdicts. The speaker reads nothing else,
    /// and at scale the reasons are most of a decision's allocations (figures:
    /// docs/performance.md).
    /// What is announced (owned addresses, desired routes) is the same either way.
    pub fn keep_reasons(&mut self, keep: bool) {
        self.reasons = keep;
    }

    /// This node's name.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: Config) {
        self.l2_by_pool = ByPool::new(config.l2_advertisements.iter().map(|a| a.pools.as_slice()));
        self.bgp_by_pool = ByPool::new(config.bgp_advertisements.iter().map(|a| a.pools.as_slice()));
        self.config = config;
    }

    /// Replaces the set of live members and this node's health.
    pub fn set_members(&mut self, members: Members) {
        self.members = members;
    }

    /// Adds or replaces a Service (one FerroLB serves; see [`from_k8s::service_view`]).
    pub fn apply_service(&mut self, service: ServiceView) {
        self.services.insert(service.key.clone(), service);
    }

    /// Removes a Service (deleted, or no longer FerroLB's).
    pub fn delete_service(&mut self, key: &ServiceKey) {
        self.services.remove(key);
    }

    /// Replaces every Service.
    pub fn reset_services(&mut self, services: impl IntoIterator<Item = ServiceView>) {
        self.services = services.into_iter().map(|s| (s.key.clone(), s)).collect();
    }

    /// Adds or replaces an EndpointSlice.
    pub fn apply_slice(&mut self, key: SliceKey, slice: EndpointSliceView) {
        self.slices.apply(key, slice);
    }

    /// Removes an EndpointSlice.
    pub fn delete_slice(&mut self, key: &SliceKey) {
        self.slices.delete(key);
    }

    /// Replaces every EndpointSlice.
    pub fn reset_slices(&mut self, slices: impl IntoIterator<Item = (SliceKey, EndpointSliceView)>) {
        self.slices.reset(slices);
    }

    /// Adds or replaces a Node.
    pub fn apply_node(&mut self, node: NodeView) {
        self.nodes.insert(node.name.clone(), node);
    }

    /// Removes a Node.
    pub fn delete_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Replaces every Node.
    pub fn reset_nodes(&mut self, nodes: impl IntoIterator<Item = NodeView>) {
        self.nodes = nodes.into_iter().map(|n| (n.name.clone(), n)).collect();
    }

    /// Decides Layer2 and BGP from the current inputs.
    pub fn decide(&self) -> Decision {
        let endpoints = self.endpoints();
        Decision { layer2: layer2::decide(self, &endpoints), bgp: bgp::decide(self, &endpoints) }
    }

    /// Decides Layer2 only.
    pub fn decide_layer2(&self) -> Layer2Decision {
        layer2::decide(self, &self.endpoints())
    }

    /// Decides BGP only.
    pub fn decide_bgp(&self) -> BgpDecision {
        bgp::decide(self, &self.endpoints())
    }

    /// The endpoints that count of every Service, in Service order.
    fn endpoints(&self) -> Vec<Endpoints<'_>> {
        self.services.keys().map(|key| self.slices.endpoints(key)).collect()
    }
}
