//! BGP: which prefixes this node advertises to each peer, with which attributes.
//!
//! Unlike Layer2 there is no single owner: every node that may advertise a Service's address
//! does, and the routers spread traffic (ECMP). For each address of each Service:
//!
//! 1. its pool must be covered by BGPAdvertisements whose serviceSelectors select the Service
//!    (the *matching* advertisements), and it must have an endpoint that counts anywhere
//!    (see [`super::candidates::Endpoints`]); otherwise it is withdrawn everywhere;
//! 2. this node must have a Node object, not be excluded, have its network available and, for
//!    externalTrafficPolicy Local, run an endpoint that counts. Speaker liveness plays no part:
//!    a dead node's sessions drop and its routes with them;
//! 3. each matching advertisement whose nodeSelectors select this node sends the prefix (the
//!    address masked to aggregationLength, or aggregationLengthV6) to the peers it names (all
//!    configured peers when it names none) whose own nodeSelectors select this node and whose
//!    session carries the address's family: a peer's own family (its peerAddress's), or both
//!    with dualStackAddressFamily, as in MetalLB.
//!
//! When several advertisements (for one or several Services) give the same prefix to the same
//! peer, the route carries the union of their communities and the highest LOCAL_PREF any of
//! them sets (none if none does). LOCAL_PREF is kept in the desired route whatever the
//! session type: it only means something on iBGP, and the session drops it for eBGP peers.
//!
//! What this module does not do: open sessions, or diff desired sets against what was sent.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

pub use crate::addresses::Prefix;
use crate::config::{BgpAdvertisement, CommunityValue, Peer};
use crate::selectors::any_matches;

use super::Announcer;
use super::candidates::{Endpoints, local_rule, matching, node_fit, pool_of};
use super::reasons::{NodeRejection, Reason};
use super::views::ServiceKey;

/// The path attributes FerroLB sets on a route.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteAttributes {
    /// LOCAL_PREF (meaningful for iBGP only; the session leaves it out for eBGP).
    pub local_pref: Option<u32>,
    /// Communities, standard and large.
    pub communities: BTreeSet<CommunityValue>,
}

impl RouteAttributes {
    /// Merges another advertisement's attributes for the same prefix and peer: union of
    /// communities, highest LOCAL_PREF.
    pub fn merge(&mut self, other: &RouteAttributes) {
        self.local_pref = self.local_pref.max(other.local_pref);
        self.communities.extend(other.communities.iter().copied());
    }
}

/// The BGP outcome for one address of a Service, from this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BgpOutcome {
    /// This node advertises it: to each of these peers, as this prefix.
    Advertised {
        /// Each peer (by name, sorted, no duplicates) with the prefix carrying the address. A
        /// sorted vector, not a map: one is kept per Service address, and a map's nodes cost
        /// more (figures: docs/performance.md).
        peers: Vec<(String, Prefix)>,
        /// The matching BGPAdvertisements selecting this node, by name.
        advertisements: Vec<String>,
    },
    /// This node does not advertise it.
    NotAdvertised(Reason),
}

/// The BGP verdict on one address of a Service, from this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpVerdict {
    /// The address.
    pub address: IpAddr,
    /// Its pool, when known.
    pub pool: Option<String>,
    /// Where this node advertises it, or why not.
    pub outcome: BgpOutcome,
}

/// The BGP decision for this node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BgpDecision {
    /// For every configured peer whose nodeSelectors select this node (and only those), the
    /// routes it should carry from this node; an empty set means "withdraw everything".
    pub desired: BTreeMap<String, BTreeMap<Prefix, RouteAttributes>>,
    /// Every Service's verdicts, one per address (none: the Service has no address yet).
    pub verdicts: BTreeMap<ServiceKey, Vec<BgpVerdict>>,
}

/// A BGPAdvertisement as this node applies it, worked out once per decision.
struct Plan<'a> {
    advertisement: &'a BgpAdvertisement,
    /// Its nodeSelectors select this node.
    selects_me: bool,
    /// The peers it sends to, as positions among this node's peers.
    peers: Vec<usize>,
    attributes: RouteAttributes,
}

/// Decides BGP for this node over every Service known to `index`; `endpoints` are theirs, in
/// the same order.
pub(crate) fn decide(index: &Announcer, endpoints: &[Endpoints<'_>]) -> BgpDecision {
    let config = &index.config;
    let me = index.me.as_str();
    let my_labels = index.nodes.get(me).map(|n| &n.labels);
    // Peers this node talks to, in name order, each with its desired routes, and the families
    // their sessions carry (IPv4, IPv6), in the same order.
    let mine: Vec<&Peer> = config
        .peers
        .values()
        .filter(|peer| my_labels.is_some_and(|labels| any_matches(&peer.node_selectors, labels)))
        .collect();
    let families: Vec<(bool, bool)> = mine.iter().map(|peer| peer.families()).collect();
    let mut desired: Vec<(&str, BTreeMap<Prefix, RouteAttributes>)> =
        mine.iter().map(|peer| (peer.name.as_str(), BTreeMap::new())).collect();
    let plans: Vec<Plan<'_>> = config
        .bgp_advertisements
        .iter()
        .map(|advertisement| Plan {
            advertisement,
            selects_me: my_labels.is_some_and(|labels| any_matches(&advertisement.node_selectors, labels)),
            peers: (0..desired.len())
                .filter(|p| {
                    desired.get(*p).is_some_and(|(name, _)| {
                        advertisement.peers.is_empty() || advertisement.peers.iter().any(|named| named == name)
                    })
                })
                .collect(),
            attributes: RouteAttributes {
                local_pref: advertisement.local_pref,
                communities: advertisement.communities.iter().copied().collect(),
            },
        })
        .collect();
    let my_standing = node_fit(&index.nodes, me);
    let mut verdicts = Vec::with_capacity(index.services.len());
    for (service, endpoints) in index.services.values().zip(endpoints) {
        let mut mine = Vec::with_capacity(service.addresses.len());
        for &address in &service.addresses {
            let pool = pool_of(config, service, address);
            let outcome = pool
                .ok_or(Reason::NoPool { address })
                .and_then(|pool| {
                    let advertisements = &config.bgp_advertisements;
                    matching(index.bgp_by_pool.get(pool), advertisements, pool, service, |a: &BgpAdvertisement| {
                        (a.name.as_str(), a.service_selectors.as_slice())
                    })
                })
                .and_then(|matched| {
                    if !endpoints.any {
                        return Err(Reason::NoEndpoints);
                    }
                    let rejected = |rejection| Reason::NodeRejected { node: me.to_string(), rejection };
                    my_standing.map_err(rejected)?;
                    let selecting: Vec<&Plan<'_>> =
                        matched.iter().filter_map(|i| plans.get(*i)).filter(|plan| plan.selects_me).collect();
                    if selecting.is_empty() {
                        return Err(rejected(NodeRejection::NotSelected));
                    }
                    local_rule(service.traffic_policy, endpoints, me).map_err(rejected)?;
                    Ok(selecting)
                });
            let outcome = match outcome {
                Err(reason) => BgpOutcome::NotAdvertised(reason),
                Ok(selecting) => advertise(&mut desired, &families, address, &selecting),
            };
            if index.reasons || matches!(outcome, BgpOutcome::Advertised { .. }) {
                mine.push(BgpVerdict { address, pool: pool.map(String::from), outcome });
            }
        }
        if index.reasons || !mine.is_empty() {
            verdicts.push((service.key.clone(), mine));
        }
    }
    BgpDecision {
        desired: desired.into_iter().map(|(peer, routes)| (peer.to_string(), routes)).collect(),
        verdicts: verdicts.into_iter().collect(),
    }
}

/// Adds `address` to the desired sets of the peers the `plans` send it to whose sessions carry
/// its family (`families`: IPv4, IPv6 per peer, in `desired`'s order).
fn advertise(
    desired: &mut [(&str, BTreeMap<Prefix, RouteAttributes>)],
    families: &[(bool, bool)],
    address: IpAddr,
    plans: &[&Plan<'_>],
) -> BgpOutcome {
    let mut peers: Vec<(String, Prefix)> = Vec::new();
    for plan in plans {
        let length = match address {
            IpAddr::V4(_) => plan.advertisement.aggregation_length,
            IpAddr::V6(_) => plan.advertisement.aggregation_length_v6,
        };
        let prefix = Prefix::covering(address, length);
        for &position in &plan.peers {
            let carried = families.get(position).is_some_and(|(v4, v6)| if address.is_ipv4() { *v4 } else { *v6 });
            if !carried {
                continue;
            }
            let Some((peer, routes)) = desired.get_mut(position) else { continue };
            match routes.entry(prefix) {
                Entry::Occupied(mut existing) => existing.get_mut().merge(&plan.attributes),
                Entry::Vacant(vacant) => {
                    vacant.insert(plan.attributes.clone());
                }
            }
            // Two advertisements may aggregate differently: the verdict shows the shortest.
            match peers.binary_search_by(|(name, _)| name.as_str().cmp(peer)) {
                Ok(i) => {
                    if let Some((_, p)) = peers.get_mut(i)
                        && prefix.prefix_len() < p.prefix_len()
                    {
                        *p = prefix;
                    }
                }
                Err(i) => peers.insert(i, ((*peer).to_string(), prefix)),
            }
        }
    }
    peers.shrink_to_fit();
    let advertisements = plans.iter().map(|plan| plan.advertisement.name.clone()).collect();
    if peers.is_empty() {
        return BgpOutcome::NotAdvertised(Reason::NoPeer { advertisements });
    }
    BgpOutcome::Advertised { peers, advertisements }
}
