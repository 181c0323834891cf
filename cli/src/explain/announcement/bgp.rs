//! The BGP lines: which nodes advertise each address to which peers, as which prefix, and why
//! the others do not; whether the ServiceBGPStatus objects agree; and each peer's session state
//! per node, from the BGPPeers' `<node>/BGPSessionEstablished` conditions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ferrolb_core::announcer::{BgpOutcome, BgpVerdict, NodeRejection, Prefix, Reason, ServiceView};
use ferrolb_crds::ServiceBGPStatus;
use serde_json::Value;

use super::super::{Announcing, Listed};
use super::world::World;
use super::{Found, list, objects, steps_for};

use ferrolb_crds::{NODE_LABEL, SESSION_BFD_PART, SESSION_CONDITION};

/// A ServiceBGPStatus about the Service: a node saying which peers it sends it to.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    /// The object's name.
    pub name: String,
    /// The node.
    pub node: String,
    /// The peers, by name.
    pub peers: BTreeSet<String>,
}

/// The ServiceBGPStatus objects as [`Seen`].
pub(super) fn seen(statuses: &Listed<ServiceBGPStatus>) -> Result<Vec<Seen>, String> {
    let statuses = statuses.as_ref().map_err(Clone::clone)?;
    Ok(statuses
        .iter()
        .filter_map(|s| {
            let status = s.status.as_ref();
            let labelled = s.metadata.labels.as_ref().and_then(|l| l.get(NODE_LABEL)).cloned();
            let node = status.map(|st| st.node.clone()).filter(|n| !n.is_empty()).or(labelled)?;
            Some(Seen {
                name: s.metadata.name.clone().unwrap_or_default(),
                node,
                peers: status.map(|st| st.peers.iter().cloned().collect()).unwrap_or_default(),
            })
        })
        .collect())
}

/// Writes the BGP lines, address by address, then what concerns the whole Service.
pub(super) struct Writer<'a> {
    world: &'a World,
    service: &'a ServiceView,
    rules: &'a Result<Vec<(String, Vec<BgpVerdict>)>, String>,
    seen: &'a Result<Vec<Seen>, String>,
    peers: &'a Listed<Value>,
    /// By the rules: the peers each node sends some address to.
    sending: BTreeMap<String, BTreeSet<String>>,
    /// By the rules: why a node sends the first address it does not send.
    not_sending: BTreeMap<String, String>,
    /// Some address was decided by the rules.
    decided: bool,
    /// Some BGP line was written.
    spoke: bool,
}

impl<'a> Writer<'a> {
    /// A writer for `service`, from the rules, the statuses and the BGPPeers.
    pub fn new(
        world: &'a World,
        service: &'a ServiceView,
        rules: &'a Result<Vec<(String, Vec<BgpVerdict>)>, String>,
        seen: &'a Result<Vec<Seen>, String>,
        announcing: &'a Announcing,
    ) -> Self {
        Writer {
            world,
            service,
            rules,
            seen,
            peers: &announcing.peers,
            sending: BTreeMap::new(),
            not_sending: BTreeMap::new(),
            decided: false,
            spoke: false,
        }
    }

    /// The statuses read, none when they could not be.
    fn seen(&self) -> &'a [Seen] {
        self.seen.as_deref().unwrap_or_default()
    }

    /// The lines on `address`, from pool `pool`.
    pub fn address(&mut self, address: IpAddr, pool: &str, found: &mut Found) {
        let seen = self.seen();
        let rules = match (self.world.bgp_covering(pool), self.rules) {
            (Some(covering), _) if covering.is_empty() => {
                if !seen.is_empty() {
                    self.spoke = true;
                    found.lines.push(format!(
                        "BGP: {}, though no BGPAdvertisement covers pool {pool}: the status is left over or the \
                         configuration just changed.",
                        says(seen)
                    ));
                }
                return;
            }
            (None, _) | (_, Err(_)) => {
                self.spoke = true;
                let missing = self.rules.as_ref().err().cloned().unwrap_or_else(|| "the BGPAdvertisements".to_owned());
                let said = if seen.is_empty() {
                    format!("BGP: no ServiceBGPStatus says a node advertises {address}")
                } else {
                    format!("BGP: {}", says(seen))
                };
                found.lines.push(format!(
                    "{said}; which nodes should cannot be worked out here, as {missing} could not be read."
                ));
                return;
            }
            (Some(_), Ok(rules)) => rules,
        };
        self.spoke = true;
        self.decided = true;
        let outcomes: Vec<(&str, &BgpOutcome)> = rules
            .iter()
            .filter_map(|(node, verdicts)| {
                Some((node.as_str(), &verdicts.iter().find(|v| v.address == address)?.outcome))
            })
            .collect();
        if outcomes.is_empty() {
            found.lines.push(format!("BGP: no Node is known, so no node advertises {address}."));
            return;
        }
        if let Some(reason) = shared_reason(&outcomes) {
            found.lines.push(format!("BGP: {address} is not advertised by any node: {reason}."));
            found.steps.extend(steps_for(reason, self.service, "BGPAdvertisement"));
            for (node, _) in &outcomes {
                self.not_sending.entry((*node).to_owned()).or_insert_with(|| reason.to_string());
            }
            return;
        }
        let mut sending: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut not: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut rejected: BTreeMap<String, NodeRejection> = BTreeMap::new();
        for (node, outcome) in &outcomes {
            match outcome {
                BgpOutcome::Advertised { peers, advertisements } => {
                    self.sending
                        .entry((*node).to_owned())
                        .or_default()
                        .extend(peers.iter().map(|(peer, _)| peer.clone()));
                    let what = format!("{} ({})", routes(address, peers), objects("BGPAdvertisement", advertisements));
                    sending.entry(what).or_default().push(node);
                }
                BgpOutcome::NotAdvertised(reason) => {
                    if let Reason::NodeRejected { rejection, .. } = reason {
                        rejected.insert((*node).to_owned(), *rejection);
                    }
                    let why = why_not(reason);
                    self.not_sending.entry((*node).to_owned()).or_insert_with(|| why.clone());
                    not.entry(why).or_default().push(node);
                }
            }
        }
        let mut parts: Vec<String> =
            sending.iter().map(|(what, nodes)| format!("{} {what}", verb(nodes, "advertises", "advertise"))).collect();
        parts.extend(not.iter().map(|(why, nodes)| format!("{}: {why}", verb(nodes, "does not", "do not"))));
        if sending.is_empty() {
            found.lines.push(format!("BGP: no node advertises {address} ({}).", parts.join("; ")));
            let reason = Reason::NoCandidate { nodes: rejected };
            found.steps.extend(steps_for(&reason, self.service, "BGPAdvertisement"));
            for (node, outcome) in &outcomes {
                if let BgpOutcome::NotAdvertised(Reason::NoPeer { advertisements }) = outcome {
                    found.steps.push(format!(
                        "Make a BGPPeer that {} names select {node}: widen the peer's nodeSelectors, or name such a \
                         peer in spec.peers.",
                        objects("BGPAdvertisement", advertisements)
                    ));
                    break;
                }
            }
        } else {
            found.lines.push(format!("BGP: {}.", parts.join("; ")));
        }
    }

    /// What concerns the Service as a whole: whether the ServiceBGPStatus objects agree with the
    /// rules, and the sessions.
    pub fn finish(&mut self, found: &mut Found) {
        if self.decided {
            match self.seen {
                Ok(seen) => self.compare(seen, found),
                Err(why) => found.lines.push(format!("The ServiceBGPStatus objects could not be read ({why}).")),
            }
        } else if self.spoke
            && let Err(why) = self.seen
        {
            found.lines.push(format!("The ServiceBGPStatus objects could not be read ({why})."));
        }
        if self.spoke {
            found.lines.extend(self.sessions());
        }
    }

    /// Lines where the ServiceBGPStatus objects and the rules disagree, and one where they agree.
    fn compare(&self, seen: &[Seen], found: &mut Found) {
        let by_node: BTreeMap<&str, &Seen> = seen.iter().map(|s| (s.node.as_str(), s)).collect();
        let nodes: BTreeSet<&str> = self.sending.keys().map(String::as_str).chain(by_node.keys().copied()).collect();
        let mut agreeing = Vec::new();
        let mut unreported = Vec::new();
        for node in nodes {
            let not_ready = if self.world.ready.contains(node) {
                String::new()
            } else {
                format!(" {node} is not Ready: if its speaker is down, so are its sessions, and its routes are gone.")
            };
            match (self.sending.get(node), by_node.get(node)) {
                (Some(rules), Some(status)) if *rules == status.peers => {
                    agreeing.push(status.name.as_str());
                    if !not_ready.is_empty() {
                        found.lines.push(not_ready.trim_start().to_owned());
                    }
                }
                (Some(rules), Some(status)) => found.lines.push(format!(
                    "ServiceBGPStatus {} says {node} sends the Service to {}, but by the rules it sends it to {}: \
                     the status lags a change.{not_ready}",
                    status.name,
                    list(&status.peers),
                    list(rules)
                )),
                (Some(_), None) => {
                    unreported.push(node);
                    if !not_ready.is_empty() {
                        found.lines.push(not_ready.trim_start().to_owned());
                    }
                }
                (None, Some(status)) => found.lines.push(format!(
                    "ServiceBGPStatus {} says {node} sends the Service to {}, but by the rules it does not: {}. The \
                     status lags a change, or that speaker sees the cluster differently.{not_ready}",
                    status.name,
                    list(&status.peers),
                    self.not_sending.get(node).map_or("no reason known", String::as_str)
                )),
                (None, None) => {}
            }
        }
        if !unreported.is_empty() {
            let (has, its) = if unreported.len() == 1 { ("has", "its speaker") } else { ("have", "their speakers") };
            found.lines.push(format!(
                "By the rules {} the Service, but {has} no ServiceBGPStatus: {its} may be down, not caught up yet, \
                 or unable to write status.",
                verb(&unreported, "advertises", "advertise")
            ));
        }
        if !agreeing.is_empty() {
            let (noun, verb) = if agreeing.len() == 1 { ("", "agrees") } else { (" objects", "agree") };
            found.lines.push(format!("ServiceBGPStatus{noun} {} {verb} with the rules.", list(&agreeing)));
        }
    }

    /// One line per peer: from which nodes its session is established, and the others' state.
    fn sessions(&self) -> Vec<String> {
        let Ok(peers) = self.peers else { return Vec::new() };
        let wanted: BTreeSet<&str> = self.sending.values().flatten().map(String::as_str).collect();
        let mut lines = Vec::new();
        for peer in peers {
            let Some(name) = peer.pointer("/metadata/name").and_then(Value::as_str) else { continue };
            if !wanted.is_empty() && !wanted.contains(name) {
                continue;
            }
            let conditions = peer.pointer("/status/conditions").and_then(Value::as_array);
            let mut up = Vec::new();
            let mut down = Vec::new();
            let mut bfd = Vec::new();
            for condition in conditions.into_iter().flatten() {
                let Some(node) =
                    condition["type"].as_str().and_then(|t| t.strip_suffix(SESSION_CONDITION)?.strip_suffix('/'))
                else {
                    continue;
                };
                if let Some((_, state)) = condition["message"].as_str().and_then(|m| m.rsplit_once(SESSION_BFD_PART)) {
                    bfd.push(format!("{node} {state}"));
                }
                if condition["status"] == "True" {
                    up.push(node.to_owned());
                } else {
                    let reason = condition["reason"].as_str().filter(|r| !r.is_empty()).unwrap_or("down");
                    let message = condition["message"]
                        .as_str()
                        .map(|m| m.split(SESSION_BFD_PART).next().unwrap_or(m))
                        .filter(|m| !m.is_empty());
                    down.push(match message {
                        Some(message) => format!("{node}: {reason} ({message})"),
                        None => format!("{node}: {reason}"),
                    });
                }
            }
            up.sort();
            down.sort();
            let mut line = if up.is_empty() && down.is_empty() {
                format!("BGP session {name}: no speaker has reported one.")
            } else {
                let mut parts = Vec::new();
                if !up.is_empty() {
                    parts.push(format!("established from {}", list(&up)));
                }
                parts.extend(down);
                format!("BGP session {name}: {}.", parts.join("; "))
            };
            if !bfd.is_empty() {
                bfd.sort();
                line.push_str(&format!(" BFD: {}.", bfd.join(", ")));
            }
            let cut: Vec<&str> = self
                .sending
                .iter()
                .filter(|(node, peers)| peers.contains(name) && !up.contains(node))
                .map(|(node, _)| node.as_str())
                .collect();
            if !cut.is_empty() {
                line.push_str(&format!(
                    " {} it by the rules, but without an established session the router does not have {}.",
                    verb(&cut, "advertises to", "advertise to"),
                    if cut.len() == 1 { "that route" } else { "those routes" }
                ));
            }
            lines.push(line);
        }
        lines
    }
}

/// The reason every node gives, when it is about the Service rather than the nodes.
fn shared_reason<'o>(outcomes: &[(&str, &'o BgpOutcome)]) -> Option<&'o Reason> {
    let mut reasons = outcomes.iter().map(|(_, outcome)| match outcome {
        BgpOutcome::NotAdvertised(
            reason @ (Reason::NoPool { .. }
            | Reason::NoAdvertisement { .. }
            | Reason::ServiceSelectorsExclude { .. }
            | Reason::NoEndpoints),
        ) => Some(reason),
        _ => None,
    });
    let first = reasons.next()??;
    reasons.all(|r| r == Some(first)).then_some(first)
}

/// "203.0.113.5/32 to router-v4, router-v6", or per peer when the prefixes differ.
fn routes(address: IpAddr, peers: &[(String, Prefix)]) -> String {
    let prefixes: BTreeSet<&Prefix> = peers.iter().map(|(_, prefix)| prefix).collect();
    match prefixes.iter().next() {
        Some(prefix) if prefixes.len() == 1 => {
            let covers = if prefix.is_host() { String::new() } else { format!(" (covering {address})") };
            format!("{prefix}{covers} to {}", list(peers.iter().map(|(peer, _)| peer)))
        }
        _ => {
            let each: Vec<String> = peers.iter().map(|(peer, prefix)| format!("{peer} as {prefix}")).collect();
            format!("{address} to {}", each.join(", "))
        }
    }
}

/// Why one node does not advertise, in a few words.
fn why_not(reason: &Reason) -> String {
    match reason {
        Reason::NodeRejected { rejection, .. } => match rejection {
            NodeRejection::NoLocalEndpoint => "no ready endpoint runs there (externalTrafficPolicy: Local)".to_owned(),
            NodeRejection::NotSelected => "no matching BGPAdvertisement's nodeSelectors select it".to_owned(),
            other => other.to_string(),
        },
        Reason::NoPeer { advertisements } => {
            format!(
                "no BGPPeer that {} sends to selects it and carries this address family",
                objects("BGPAdvertisement", advertisements)
            )
        }
        other => other.to_string(),
    }
}

/// "ServiceBGPStatus a says node1 sends the Service to p" for each.
fn says(seen: &[Seen]) -> String {
    let each: Vec<String> = seen
        .iter()
        .map(|s| format!("ServiceBGPStatus {} says {} sends the Service to {}", s.name, s.node, list(&s.peers)))
        .collect();
    each.join("; ")
}

/// "node1 advertises" / "node1, node2 advertise".
fn verb(nodes: &[&str], one: &str, many: &str) -> String {
    if nodes.len() == 1 { format!("{} {one}", list(nodes)) } else { format!("{} {many}", list(nodes)) }
}
