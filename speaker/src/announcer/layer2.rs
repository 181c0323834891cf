//! Layer2: which node answers ARP/NDP for each address, and so what this node announces.
//!
//! Per address, every speaker computes the same owner from the same inputs, without talking:
//!
//! 1. Each Service on the address must have its address's pool covered by an L2Advertisement
//!    whose serviceSelectors select it (its *matching* advertisements), and an endpoint that
//!    counts (see [`super::candidates::Endpoints`]).
//! 2. A node is a *candidate for a Service* when its speaker is alive (this node: when it is
//!    healthy), it has a Node object, is not excluded, its network is available, a matching
//!    advertisement's nodeSelectors select it (empty selects all), and, for
//!    externalTrafficPolicy Local, it runs an endpoint that counts.
//! 3. Services sharing an address may have different candidates. The owner is decided once per
//!    address, over the union of their candidates, by the highest of, in order:
//!    - how many of the sharing Services the node is a candidate for (so when their candidate
//!      sets intersect, the owner is in the intersection and serves them all);
//!    - its preferred weight: the sum of the weights of the `preferred` entries, over every
//!      advertisement matching at least one of the Services (each advertisement counted once),
//!      whose selector selects the node;
//!    - its rendezvous score for the address ([`super::rendezvous::score`]).
//!
//!    Each criterion depends on the node and the address alone, so a node leaving moves only
//!    the addresses it owned, and a node joining takes only those where it now ranks first.
//! 4. The owner announces on the union of the interfaces of the matching advertisements that
//!    select it; if one of those lists none, it announces on every suitable interface.
//!
//! What this module does not do: send frames, pick interfaces by kind, or notice that the
//! owner changed (the responder diffs [`Layer2Decision::owned`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ferrolb_core::config::Layer2Advertisement;
use ferrolb_core::selectors::{any_matches, matches};

use super::Announcer;
use super::candidates::{Endpoints, local_rule, matching, node_fit, pool_of};
use super::reasons::{NodeRejection, Reason};
use super::rendezvous;
use super::views::{ServiceKey, ServiceView};

/// Where an owned address is announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interfaces {
    /// On every suitable interface.
    All,
    /// Only on these.
    Only(BTreeSet<String>),
}

/// An address this node owns in Layer2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer2Announcement {
    /// The interfaces to answer on.
    pub interfaces: Interfaces,
    /// The Services on the address that this node serves.
    pub services: BTreeSet<ServiceKey>,
}

/// Who announces one Service address, and why that node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// The owner.
    pub owner: String,
    /// The owner's preferred weight for the address.
    pub weight: i64,
    /// Every candidate for this Service, by name (the owner ranked first among them).
    pub candidates: Vec<String>,
    /// The matching L2Advertisements, by name.
    pub advertisements: Vec<String>,
}

/// The Layer2 outcome for one address of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer2Outcome {
    /// A node announces it.
    Announced(Ownership),
    /// No node announces it (for this Service).
    NotAnnounced(Reason),
}

/// The Layer2 verdict on one address of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer2Verdict {
    /// The address.
    pub address: IpAddr,
    /// Its pool, when known.
    pub pool: Option<String>,
    /// Who announces it, or why nobody.
    pub outcome: Layer2Outcome,
}

/// The Layer2 decision, as seen from this node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layer2Decision {
    /// The addresses this node answers for. Empty when this node is unhealthy.
    pub owned: BTreeMap<IpAddr, Layer2Announcement>,
    /// Every Service's verdicts, one per address (none: the Service has no address yet).
    pub verdicts: BTreeMap<ServiceKey, Vec<Layer2Verdict>>,
}

/// One Service wanting an address, once its pool, advertisements and endpoints check out.
struct Claim<'a> {
    service: &'a ServiceView,
    advertisements: Vec<usize>,
    endpoints: Endpoints,
    /// Where its verdict goes in `verdicts[service]`.
    slot: usize,
}

/// Decides Layer2 for every Service known to `index`.
pub(crate) fn decide(index: &Announcer) -> Layer2Decision {
    let mut decision = Layer2Decision::default();
    let mut claims: BTreeMap<IpAddr, Vec<Claim<'_>>> = BTreeMap::new();
    let advertisements = &index.config.l2_advertisements;
    for service in index.services.values() {
        let mut verdicts = Vec::with_capacity(service.addresses.len());
        let mut endpoints: Option<Endpoints> = None;
        for &address in &service.addresses {
            let pool = pool_of(&index.config, service, address);
            let precheck = pool.ok_or(Reason::NoPool { address }).and_then(|pool| {
                matching(index.l2_by_pool.get(pool), advertisements, pool, service, |a: &Layer2Advertisement| {
                    (a.name.as_str(), a.service_selectors.as_slice())
                })
            });
            let endpoints = endpoints.get_or_insert_with(|| index.slices.endpoints(&service.key));
            let outcome = match precheck {
                Err(reason) => Some(reason),
                Ok(_) if !endpoints.any => Some(Reason::NoEndpoints),
                Ok(matched) => {
                    let slot = verdicts.len();
                    let claim = Claim { service, advertisements: matched, endpoints: endpoints.clone(), slot };
                    claims.entry(address).or_default().push(claim);
                    None
                }
            };
            verdicts.push(Layer2Verdict {
                address,
                pool: pool.map(String::from),
                // Placeholder for claims; replaced once the address is decided below.
                outcome: Layer2Outcome::NotAnnounced(outcome.unwrap_or(Reason::NoEndpoints)),
            });
        }
        decision.verdicts.insert(service.key.clone(), verdicts);
    }
    for (address, claims) in &claims {
        decide_address(index, *address, claims, &mut decision);
    }
    decision
}

/// Whether `node` is a candidate for `claim`, or why not.
fn fit(index: &Announcer, node: &str, claim: &Claim<'_>) -> Result<(), NodeRejection> {
    if !index.members.is_alive(node, &index.me) {
        return Err(NodeRejection::NotAlive);
    }
    // The endpoint rule is checked last, so that a node's own faults are reported first.
    node_fit(&index.nodes, node)?;
    let labels = index.nodes.get(node).map(|n| &n.labels).ok_or(NodeRejection::UnknownNode)?;
    let mut advertisements = claim.advertisements.iter().filter_map(|i| index.config.l2_advertisements.get(*i));
    if !advertisements.any(|a| any_matches(&a.node_selectors, labels)) {
        return Err(NodeRejection::NotSelected);
    }
    local_rule(claim.service.traffic_policy, &claim.endpoints, node)
}

fn decide_address(index: &Announcer, address: IpAddr, claims: &[Claim<'_>], decision: &mut Layer2Decision) {
    let advertisements = &index.config.l2_advertisements;
    let union: BTreeSet<usize> = claims.iter().flat_map(|c| c.advertisements.iter().copied()).collect();
    // Rank: (Services served, preferred weight, rendezvous score), highest wins.
    let mut best: Option<((usize, i64, u64), &str)> = None;
    let mut fits: Vec<Vec<Result<(), NodeRejection>>> = Vec::with_capacity(index.nodes.len());
    for node in index.nodes.values() {
        let node_fits: Vec<Result<(), NodeRejection>> = claims.iter().map(|c| fit(index, &node.name, c)).collect();
        let served = node_fits.iter().filter(|f| f.is_ok()).count();
        if served > 0 {
            let weight: i64 = union
                .iter()
                .filter_map(|i| advertisements.get(*i))
                .flat_map(|a| &a.preferred)
                .filter(|(_, selector)| matches(selector, &node.labels))
                .map(|(weight, _)| i64::from(*weight))
                .sum();
            let rank = (served, weight, rendezvous::score(&node.name, address));
            if best.is_none_or(|(top, _)| rank > top) {
                best = Some((rank, node.name.as_str()));
            }
        }
        fits.push(node_fits);
    }
    let names: Vec<&str> = index.nodes.keys().map(String::as_str).collect();
    let Some(((_, weight, _), owner)) = best else {
        for (c, claim) in claims.iter().enumerate() {
            set_outcome(decision, claim, Layer2Outcome::NotAnnounced(no_candidate(index, &names, &fits, c)));
        }
        return;
    };
    let owner_at = names.iter().position(|n| *n == owner);
    let mut served_here = BTreeSet::new();
    let mut interfaces: Option<BTreeSet<String>> = Some(BTreeSet::new());
    for (c, claim) in claims.iter().enumerate() {
        let candidates: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(n, _)| fits.get(*n).and_then(|f| f.get(c)).is_some_and(Result::is_ok))
            .map(|(_, name)| (*name).to_string())
            .collect();
        let owner_fit = owner_at.and_then(|n| fits.get(n)).and_then(|f| f.get(c)).cloned();
        let outcome = match owner_fit {
            Some(Ok(())) => {
                served_here.insert(claim.service.key.clone());
                let owner_labels = index.nodes.get(owner).map(|n| &n.labels);
                for a in claim.advertisements.iter().filter_map(|i| advertisements.get(*i)) {
                    if owner_labels.is_some_and(|labels| any_matches(&a.node_selectors, labels)) {
                        match (&mut interfaces, a.interfaces.is_empty()) {
                            (Some(_), true) => interfaces = None,
                            (Some(set), false) => set.extend(a.interfaces.iter().cloned()),
                            (None, _) => {}
                        }
                    }
                }
                let names = claim.advertisements.iter().filter_map(|i| advertisements.get(*i));
                Layer2Outcome::Announced(Ownership {
                    owner: owner.to_string(),
                    weight,
                    candidates,
                    advertisements: names.map(|a| a.name.clone()).collect(),
                })
            }
            Some(Err(rejection)) if !candidates.is_empty() => {
                Layer2Outcome::NotAnnounced(Reason::OwnerCannotServe { owner: owner.to_string(), rejection })
            }
            _ => Layer2Outcome::NotAnnounced(no_candidate(index, &names, &fits, c)),
        };
        set_outcome(decision, claim, outcome);
    }
    if owner == index.me && index.members.self_healthy {
        let interfaces = match interfaces {
            None => Interfaces::All,
            Some(set) if set.is_empty() => Interfaces::All,
            Some(set) => Interfaces::Only(set),
        };
        decision.owned.insert(address, Layer2Announcement { interfaces, services: served_here });
    }
}

/// Why no node may serve claim `c`: each known node's rejection, and each live member
/// without a Node object.
fn no_candidate(index: &Announcer, names: &[&str], fits: &[Vec<Result<(), NodeRejection>>], c: usize) -> Reason {
    let mut rejected: BTreeMap<String, NodeRejection> = BTreeMap::new();
    for (n, name) in names.iter().enumerate() {
        if let Some(Err(rejection)) = fits.get(n).and_then(|f| f.get(c)) {
            rejected.insert((*name).to_string(), *rejection);
        }
    }
    for alive in index.members.alive.iter().filter(|a| !index.nodes.contains_key(*a)) {
        rejected.insert(alive.clone(), NodeRejection::UnknownNode);
    }
    Reason::NoCandidate { nodes: rejected }
}

fn set_outcome(decision: &mut Layer2Decision, claim: &Claim<'_>, outcome: Layer2Outcome) {
    if let Some(verdict) = decision.verdicts.get_mut(&claim.service.key).and_then(|v| v.get_mut(claim.slot)) {
        verdict.outcome = outcome;
    }
}
