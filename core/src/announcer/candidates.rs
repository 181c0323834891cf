//! The rules Layer2 and BGP share: which pool an address is from, which advertisements cover
//! it and select the Service, which endpoints count, and whether a node may announce at all.
//!
//! Nothing here picks an owner or a peer; [`super::layer2`] and [`super::bgp`] do.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::config::Config;
use crate::selectors::any_matches;

use super::reasons::{NodeRejection, Reason};
use super::views::{EndpointSliceView, EndpointView, NodeView, ServiceKey, ServiceView, SliceKey, TrafficPolicy};

/// The endpoints of a Service that count, reduced to where they run.
///
/// Rule: if any endpoint anywhere is ready, only ready endpoints count; otherwise serving ones
/// do (terminating Pods still answering), as kube-proxy falls back. The rule is global, not per
/// node, so that while ready endpoints exist somewhere no node is chosen for Local traffic only
/// because it runs a terminating Pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints<'a> {
    /// Some endpoint counts (whether or not its node is known).
    pub any: bool,
    /// The nodes running an endpoint that counts, sorted, without duplicates.
    pub nodes: Vec<&'a str>,
}

impl<'a> Endpoints<'a> {
    /// Sums up the slices of one Service.
    pub fn of(slices: impl Iterator<Item = &'a [EndpointView]> + Clone) -> Self {
        let any_ready = slices.clone().flatten().any(|e| e.ready);
        let counts = |ready: bool, serving: bool| if any_ready { ready } else { serving };
        let mut summary = Endpoints::default();
        for endpoint in slices.flatten().filter(|e| counts(e.ready, e.serving)) {
            summary.any = true;
            if let Some(node) = &endpoint.node {
                summary.nodes.push(node.as_str());
            }
        }
        summary.nodes.sort_unstable();
        summary.nodes.dedup();
        summary
    }
}

/// Advertisements of one mode, by the pools they cover, so that a Service's address finds its
/// advertisements without scanning all of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ByPool(HashMap<String, Vec<usize>>);

impl ByPool {
    /// Indexes advertisements given as (position, pools covered).
    pub fn new<'a>(advertisements: impl Iterator<Item = &'a [String]>) -> Self {
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (position, pools) in advertisements.enumerate() {
            for pool in pools {
                let entry = index.entry(pool.clone()).or_default();
                if !entry.contains(&position) {
                    entry.push(position);
                }
            }
        }
        ByPool(index)
    }

    /// Positions of the advertisements covering `pool`, in configuration order.
    pub fn get(&self, pool: &str) -> &[usize] {
        self.0.get(pool).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The pool an address of `service` comes from: the pool the controller's annotation names
/// and that contains it; failing that (no annotation, a stale one), the configured pool that
/// contains it (pools do not overlap, so there is at most one).
pub fn pool_of<'c>(config: &'c Config, service: &ServiceView, address: IpAddr) -> Option<&'c str> {
    for name in &service.pools {
        if let Some((name, pool)) = config.pools.get_key_value(name.as_str())
            && pool.ranges.iter().any(|r| r.contains(address))
        {
            return Some(name.as_str());
        }
    }
    config.pools.iter().find(|(_, pool)| pool.ranges.iter().any(|r| r.contains(address))).map(|(name, _)| name.as_str())
}

/// The advertisements (positions) covering `pool` whose serviceSelectors select `service`, or
/// why there are none.
pub(crate) fn matching<'a, A>(
    covering: &[usize],
    all: &'a [A],
    pool: &str,
    service: &ServiceView,
    name_and_selectors: impl Fn(&'a A) -> (&'a str, &'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector]),
) -> Result<Vec<usize>, Reason> {
    if covering.is_empty() {
        return Err(Reason::NoAdvertisement { pool: pool.into() });
    }
    let selected: Vec<usize> = covering
        .iter()
        .copied()
        .filter(|i| all.get(*i).is_some_and(|a| any_matches(name_and_selectors(a).1, &service.labels)))
        .collect();
    if selected.is_empty() {
        let advertisements =
            covering.iter().filter_map(|i| all.get(*i)).map(|a| name_and_selectors(a).0.into()).collect();
        return Err(Reason::ServiceSelectorsExclude { pool: pool.into(), advertisements });
    }
    Ok(selected)
}

/// Whether `node` may announce at all, on its own merits: it has a Node object, is not
/// excluded, and its network is available. Liveness, nodeSelectors and the endpoint rule are
/// checked by the caller, which knows the mode and the Service.
pub(crate) fn node_fit(nodes: &BTreeMap<String, NodeView>, name: &str) -> Result<(), NodeRejection> {
    let node = nodes.get(name).ok_or(NodeRejection::UnknownNode)?;
    if node.excluded {
        return Err(NodeRejection::Excluded);
    }
    if node.network_unavailable {
        return Err(NodeRejection::NetworkUnavailable);
    }
    Ok(())
}

/// The externalTrafficPolicy rule: with Local, `node` must run an endpoint that counts.
pub(crate) fn local_rule(policy: TrafficPolicy, endpoints: &Endpoints<'_>, node: &str) -> Result<(), NodeRejection> {
    if policy == TrafficPolicy::Local && endpoints.nodes.binary_search(&node).is_err() {
        return Err(NodeRejection::NoLocalEndpoint);
    }
    Ok(())
}

/// All the slices of each Service, kept so that one slice can be replaced or removed.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlicesByService {
    /// A Service's slices by name (a slice lives in its Service's namespace), with their
    /// endpoints, in no particular order: a Service has one to a few, so a vector is both the
    /// fastest and the smallest home (a BTreeMap leaf costs over a kilobyte each).
    by_service: HashMap<ServiceKey, Vec<(String, Vec<EndpointView>)>>,
    /// The Service of each slice.
    owner: HashMap<SliceKey, ServiceKey>,
}

impl SlicesByService {
    /// Adds or replaces a slice (it may have moved to another Service).
    pub fn apply(&mut self, key: SliceKey, slice: EndpointSliceView) {
        let EndpointSliceView { service, endpoints } = slice;
        if self.owner.get(&key) == Some(&service)
            && let Some(entry) =
                self.by_service.get_mut(&service).and_then(|s| s.iter_mut().find(|(name, _)| *name == key.name))
        {
            entry.1 = endpoints;
            return;
        }
        self.delete(&key);
        let slices = self.by_service.entry(service.clone()).or_default();
        slices.push((key.name.clone(), endpoints));
        slices.shrink_to_fit();
        self.owner.insert(key, service);
    }

    /// Removes a slice.
    pub fn delete(&mut self, key: &SliceKey) {
        if let Some(service) = self.owner.remove(key)
            && let Some(slices) = self.by_service.get_mut(&service)
        {
            slices.retain(|(name, _)| *name != key.name);
            if slices.is_empty() {
                self.by_service.remove(&service);
            }
        }
    }

    /// Replaces every slice.
    pub fn reset(&mut self, slices: impl IntoIterator<Item = (SliceKey, EndpointSliceView)>) {
        *self = SlicesByService::default();
        for (key, slice) in slices {
            self.apply(key, slice);
        }
    }

    /// The endpoints of `service` that count.
    pub fn endpoints(&self, service: &ServiceKey) -> Endpoints<'_> {
        match self.by_service.get(service) {
            Some(slices) => Endpoints::of(slices.iter().map(|(_, endpoints)| endpoints.as_slice())),
            None => Endpoints::default(),
        }
    }
}
