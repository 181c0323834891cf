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

use crate::config::Layer2Advertisement;
use crate::selectors::{any_matches, matches};

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
    /// The addresses another node answers for, with that node: where an address this node
    /// stops answering for goes (the speaker hands it over only when it goes somewhere).
    pub elsewhere: BTreeMap<IpAddr, String>,
    /// Every Service's verdicts, one per address (none: the Service has no address yet).
    pub verdicts: BTreeMap<ServiceKey, Vec<Layer2Verdict>>,
}

/// A node as this decision sees it, looked up once rather than per address.
struct NodeInfo<'a> {
    name: &'a str,
    labels: &'a BTreeMap<String, String>,
    /// Alive, known, not excluded, network available: what holds whatever the Service.
    standing: Result<(), NodeRejection>,
}

/// One Service wanting an address, once its pool, advertisements and endpoints check out.
struct Claim<'a> {
    address: IpAddr,
    /// Position of the Service in the decision's Service list.
    service: usize,
    /// Position of the address among the Service's verdicts.
    slot: usize,
    advertisements: Vec<usize>,
    endpoints: &'a Endpoints<'a>,
}

/// Decides Layer2 for every Service known to `index`; `endpoints` are theirs, in the same order.
pub(crate) fn decide(index: &Announcer, endpoints: &[Endpoints<'_>]) -> Layer2Decision {
    let advertisements = &index.config.l2_advertisements;
    let services: Vec<&ServiceView> = index.services.values().collect();
    let nodes: Vec<NodeInfo<'_>> = index
        .nodes
        .values()
        .map(|node| NodeInfo {
            name: &node.name,
            labels: &node.labels,
            standing: if index.members.is_alive(&node.name, &index.me) {
                node_fit(&index.nodes, &node.name)
            } else {
                Err(NodeRejection::NotAlive)
            },
        })
        .collect();
    let mut verdicts: Vec<Vec<Layer2Verdict>> = Vec::with_capacity(services.len());
    let mut claims: Vec<Claim<'_>> = Vec::with_capacity(services.len());
    for ((s, service), endpoints) in services.iter().enumerate().zip(endpoints) {
        let mut mine = if index.reasons { Vec::with_capacity(service.addresses.len()) } else { Vec::new() };
        for &address in &service.addresses {
            let pool = pool_of(&index.config, service, address);
            let precheck = pool.ok_or(Reason::NoPool { address }).and_then(|pool| {
                matching(index.l2_by_pool.get(pool), advertisements, pool, service, |a: &Layer2Advertisement| {
                    (a.name.as_str(), a.service_selectors.as_slice())
                })
            });
            let reason = match precheck {
                Err(reason) => reason,
                Ok(_) if !endpoints.any => Reason::NoEndpoints,
                Ok(matched) => {
                    claims.push(Claim { address, service: s, slot: mine.len(), advertisements: matched, endpoints });
                    // Replaced once the address is decided, below; until then it reads "no node
                    // may announce it", which is what an undecided claim means.
                    Reason::NoCandidate { nodes: BTreeMap::new() }
                }
            };
            // Without reasons no verdict is kept; the claim's slot then points at nothing,
            // which deciding the address tolerates.
            if index.reasons {
                let outcome = Layer2Outcome::NotAnnounced(reason);
                mine.push(Layer2Verdict { address, pool: pool.map(String::from), outcome });
            }
        }
        verdicts.push(mine);
    }
    // Services sharing an address are decided together; the sort is stable, so they stay in
    // Service order.
    claims.sort_by_key(|c| c.address);
    let mut owned = BTreeMap::new();
    let mut elsewhere = BTreeMap::new();
    let mut fits = Vec::new();
    for group in claims.chunk_by(|a, b| a.address == b.address) {
        let at = Address { index, services: &services, nodes: &nodes };
        let Some(first) = group.first() else { continue };
        match at.decide(group, &mut fits, &mut verdicts) {
            Some(Owner::Me(announcement)) => {
                owned.insert(first.address, announcement);
            }
            Some(Owner::Other(node)) => {
                elsewhere.insert(first.address, node);
            }
            None => {}
        }
    }
    let verdicts =
        if index.reasons { services.iter().map(|s| s.key.clone()).zip(verdicts).collect() } else { BTreeMap::new() };
    Layer2Decision { owned, elsewhere, verdicts }
}

/// Who answers for one address.
enum Owner {
    /// This node, and how.
    Me(Layer2Announcement),
    /// Another node, by name.
    Other(String),
}

/// What deciding one address needs to see.
struct Address<'i, 'a> {
    index: &'i Announcer,
    services: &'i [&'a ServiceView],
    nodes: &'i [NodeInfo<'a>],
}

impl Address<'_, '_> {
    /// Whether `node` is a candidate for `claim`, or why not.
    fn fit(&self, node: &NodeInfo<'_>, claim: &Claim<'_>) -> Result<(), NodeRejection> {
        node.standing?;
        let advertisements = &self.index.config.l2_advertisements;
        let mut matched = claim.advertisements.iter().filter_map(|i| advertisements.get(*i));
        if !matched.any(|a| any_matches(&a.node_selectors, node.labels)) {
            return Err(NodeRejection::NotSelected);
        }
        // The endpoint rule comes last, so that a node's own faults are reported first.
        let policy = self.services.get(claim.service).map(|s| s.traffic_policy).unwrap_or_default();
        local_rule(policy, claim.endpoints, node.name)
    }

    /// Decides the owner of one address for the Services claiming it, writes their verdicts,
    /// and returns its owner: what this node announces for it, or the other node's name.
    fn decide(
        &self,
        claims: &[Claim<'_>],
        fits: &mut Vec<Result<(), NodeRejection>>,
        verdicts: &mut [Vec<Layer2Verdict>],
    ) -> Option<Owner> {
        let address = claims.first()?.address;
        let advertisements = &self.index.config.l2_advertisements;
        let mut union: Vec<usize> = claims.iter().flat_map(|c| c.advertisements.iter().copied()).collect();
        union.sort_unstable();
        union.dedup();
        // fits[n * k + c]: whether node n may serve claim c.
        let k = claims.len();
        fits.clear();
        fits.extend(self.nodes.iter().flat_map(|node| claims.iter().map(|claim| self.fit(node, claim))));
        let fit = |n: usize, c: usize| fits.get(n * k + c).copied().unwrap_or(Err(NodeRejection::UnknownNode));
        // Rank: (Services served, preferred weight, rendezvous score), highest wins.
        let mut best: Option<((usize, i64, u64), usize)> = None;
        for (n, node) in self.nodes.iter().enumerate() {
            let served = (0..k).filter(|c| fit(n, *c).is_ok()).count();
            if served == 0 {
                continue;
            }
            let weight: i64 = union
                .iter()
                .filter_map(|i| advertisements.get(*i))
                .flat_map(|a| &a.preferred)
                .filter(|(_, selector)| matches(selector, node.labels))
                .map(|(weight, _)| i64::from(*weight))
                .sum();
            let rank = (served, weight, rendezvous::score(node.name, address));
            if best.is_none_or(|(top, _)| rank > top) {
                best = Some((rank, n));
            }
        }
        let owner = best.and_then(|((_, weight, _), n)| Some((weight, n, self.nodes.get(n)?)));
        let mut served_here = BTreeSet::new();
        let mut interfaces: Option<BTreeSet<String>> = Some(BTreeSet::new());
        for (c, claim) in claims.iter().enumerate() {
            let outcome = match owner {
                None => Layer2Outcome::NotAnnounced(self.no_candidate(&fit, c)),
                Some((weight, n, node)) => match fit(n, c) {
                    Ok(()) => {
                        if let Some(service) = self.services.get(claim.service) {
                            served_here.insert(service.key.clone());
                        }
                        let matched: Vec<_> =
                            claim.advertisements.iter().filter_map(|i| advertisements.get(*i)).collect();
                        for a in matched.iter().filter(|a| any_matches(&a.node_selectors, node.labels)) {
                            match (&mut interfaces, a.interfaces.is_empty()) {
                                (Some(_), true) => interfaces = None,
                                (Some(set), false) => set.extend(a.interfaces.iter().cloned()),
                                (None, _) => {}
                            }
                        }
                        let candidates = (0..self.nodes.len()).filter(|m| fit(*m, c).is_ok());
                        Layer2Outcome::Announced(Ownership {
                            owner: node.name.to_string(),
                            weight,
                            candidates: candidates
                                .filter_map(|m| self.nodes.get(m))
                                .map(|m| m.name.to_string())
                                .collect(),
                            advertisements: matched.iter().map(|a| a.name.clone()).collect(),
                        })
                    }
                    Err(rejection) if (0..self.nodes.len()).any(|m| fit(m, c).is_ok()) => {
                        Layer2Outcome::NotAnnounced(Reason::OwnerCannotServe {
                            owner: node.name.to_string(),
                            rejection,
                        })
                    }
                    Err(_) => Layer2Outcome::NotAnnounced(self.no_candidate(&fit, c)),
                },
            };
            if let Some(verdict) = verdicts.get_mut(claim.service).and_then(|v| v.get_mut(claim.slot)) {
                verdict.outcome = outcome;
            }
        }
        let (_, _, owner) = owner?;
        if owner.name != self.index.me {
            return Some(Owner::Other(owner.name.to_string()));
        }
        if !self.index.members.self_healthy {
            return None;
        }
        let interfaces = match interfaces {
            Some(set) if !set.is_empty() => Interfaces::Only(set),
            _ => Interfaces::All,
        };
        Some(Owner::Me(Layer2Announcement { interfaces, services: served_here }))
    }

    /// Why no node may serve claim `c`: each known node's rejection, and each live member
    /// without a Node object.
    fn no_candidate(&self, fit: &impl Fn(usize, usize) -> Result<(), NodeRejection>, c: usize) -> Reason {
        let mut rejected: BTreeMap<String, NodeRejection> = BTreeMap::new();
        for (n, node) in self.nodes.iter().enumerate() {
            if let Err(rejection) = fit(n, c) {
                rejected.insert(node.name.to_string(), rejection);
            }
        }
        for alive in self.index.members.alive.iter().filter(|a| !self.index.nodes.contains_key(*a)) {
            rejected.insert(alive.clone(), NodeRejection::UnknownNode);
        }
        Reason::NoCandidate { nodes: rejected }
    }
}
