//! The Layer2 lines: which node answers ARP/NDP for each address, by its ServiceL2Status and by
//! the rules, and what a disagreement likely means; or why no node does, and what to change.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ferrolb_core::announcer::{Layer2Outcome, Layer2Verdict, NodeRejection, Ownership, Reason, ServiceView};
use ferrolb_crds::ServiceL2Status;

use super::super::Listed;
use super::world::World;
use super::{Found, list, objects, steps_for};

/// A ServiceL2Status about the Service: a node saying it announces it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    /// The object's name.
    pub name: String,
    /// The node.
    pub node: String,
    /// The interfaces it answers on (none listed: all).
    pub interfaces: Vec<String>,
}

/// The ServiceL2Status objects as [`Seen`], in node order.
pub(super) fn seen(statuses: &Listed<ServiceL2Status>) -> Result<Vec<Seen>, String> {
    let statuses = statuses.as_ref().map_err(Clone::clone)?;
    let mut seen: Vec<Seen> = statuses
        .iter()
        .filter_map(|s| {
            let status = s.status.as_ref()?;
            Some(Seen {
                name: s.metadata.name.clone().unwrap_or_default(),
                node: status.node.clone(),
                interfaces: status.interfaces.iter().map(|i| i.name.clone()).collect(),
            })
        })
        .collect();
    seen.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(seen)
}

/// Writes the Layer2 lines, address by address, then what concerns the whole Service.
pub(super) struct Writer<'a> {
    world: &'a World,
    service: &'a ServiceView,
    rules: &'a Result<Vec<Layer2Verdict>, String>,
    seen: &'a Result<Vec<Seen>, String>,
    /// The owners by the rules.
    owners: BTreeSet<String>,
    /// A line already said that the statuses disagree with the rules.
    disagreed: bool,
    /// Some address was decided by the rules.
    decided: bool,
    /// Some Layer2 line was written.
    spoke: bool,
}

impl<'a> Writer<'a> {
    /// A writer for `service`, from the rules and the statuses.
    pub fn new(
        world: &'a World,
        service: &'a ServiceView,
        rules: &'a Result<Vec<Layer2Verdict>, String>,
        seen: &'a Result<Vec<Seen>, String>,
    ) -> Self {
        Writer { world, service, rules, seen, owners: BTreeSet::new(), disagreed: false, decided: false, spoke: false }
    }

    /// The statuses read, none when they could not be.
    fn seen(&self) -> &'a [Seen] {
        self.seen.as_deref().unwrap_or_default()
    }

    /// The lines on `address`, from pool `pool`.
    pub fn address(&mut self, address: IpAddr, pool: &str, found: &mut Found) {
        let seen = self.seen();
        let covering = self.world.l2_covering(pool);
        let rules = match (covering, self.rules) {
            (Some(covering), _) if covering.is_empty() => {
                if !seen.is_empty() {
                    self.spoke = true;
                    found.lines.push(format!(
                        "Layer2: {}, though no L2Advertisement covers pool {pool}: the status is left over (a speaker \
                         stopped before deleting it) or the configuration just changed.",
                        says(seen, &address.to_string())
                    ));
                }
                return;
            }
            (None, _) | (_, Err(_)) => {
                self.spoke = true;
                let missing = self.rules.as_ref().err().cloned().unwrap_or_else(|| "the L2Advertisements".to_owned());
                let said = if seen.is_empty() {
                    format!("Layer2: no ServiceL2Status says a node announces {address}")
                } else {
                    format!("Layer2: {}", says(seen, &address.to_string()))
                };
                found.lines.push(format!(
                    "{said}; which node should cannot be worked out here, as {missing} could not be read."
                ));
                return;
            }
            (Some(_), Ok(rules)) => rules,
        };
        let Some(verdict) = rules.iter().find(|v| v.address == address) else { return };
        self.spoke = true;
        self.decided = true;
        match &verdict.outcome {
            Layer2Outcome::Announced(ownership) => self.announced(address, ownership, found),
            Layer2Outcome::NotAnnounced(reason) => {
                let mut line = format!("Layer2: {address} is not announced: {}.", reason_text(reason));
                if !seen.is_empty() {
                    self.disagreed = true;
                    line.push_str(&format!(
                        " Yet {}: the status lags a change, or that speaker sees the cluster differently (an \
                         EndpointSlice or Node it has not seen yet).",
                        says(seen, "it")
                    ));
                }
                found.lines.push(line);
                found.steps.extend(steps_for(reason, self.service, "L2Advertisement"));
            }
        }
    }

    /// The lines on an address the rules give an owner.
    fn announced(&mut self, address: IpAddr, ownership: &Ownership, found: &mut Found) {
        let owner = &ownership.owner;
        self.owners.insert(owner.clone());
        let rules = self.ranking(ownership);
        let line = match self.seen {
            Err(why) => format!(
                "Layer2: by the rules {owner} announces {address}. {rules} (The ServiceL2Status objects could not be \
                 read: {why}.)"
            ),
            Ok(seen) => match seen.iter().find(|s| &s.node == owner) {
                Some(status) => {
                    let interfaces =
                        if status.interfaces.is_empty() { "all".to_owned() } else { list(&status.interfaces) };
                    format!(
                        "Layer2: {address} is announced by {owner} (ServiceL2Status {}, interfaces: {interfaces}). \
                         {rules}",
                        status.name
                    )
                }
                None if seen.is_empty() => format!(
                    "Layer2: no ServiceL2Status says who announces {address}. {rules} {owner}'s speaker may be down \
                     or not caught up yet (a Ready Node does not prove its speaker runs), or it cannot write its \
                     status."
                ),
                None => {
                    self.disagreed = true;
                    let others: Vec<&str> = seen.iter().map(|s| s.node.as_str()).collect();
                    format!(
                        "Layer2: {}, but by the rules {owner} should. {rules} {}",
                        says(seen, &address.to_string()),
                        self.likely(&others, owner)
                    )
                }
            },
        };
        found.lines.push(line);
    }

    /// "By the rules, X ranks first among ... (L2Advertisement a)." and the nodes left out.
    fn ranking(&self, ownership: &Ownership) -> String {
        let weight = match ownership.weight {
            0 => String::new(),
            weight => format!(", preferred weight {weight}"),
        };
        let mut text = format!(
            "By the rules, {} ranks first among {} ({}{weight}).",
            ownership.owner,
            list(&ownership.candidates),
            objects("L2Advertisement", &ownership.advertisements)
        );
        let left_out: Vec<String> = self
            .world
            .nodes
            .iter()
            .flatten()
            .filter(|n| !ownership.candidates.contains(&n.name))
            .map(|n| format!("{} ({})", n.name, self.world.why_not_layer2(n, &ownership.advertisements)))
            .collect();
        if !left_out.is_empty() {
            text.push_str(&format!(" Not candidates: {}.", left_out.join(", ")));
        }
        text
    }

    /// What a status naming `others` while the rules name `owner` likely means.
    fn likely(&self, others: &[&str], owner: &str) -> String {
        let not_ready: Vec<&str> = others.iter().copied().filter(|n| !self.world.ready.contains(*n)).collect();
        if !not_ready.is_empty() {
            return format!(
                "{} not Ready: its speaker may be cut off yet still answering, or gone with its status left behind \
                 (the new owner deletes it on taking over).",
                verb(&not_ready, "is", "are")
            );
        }
        format!(
            "Likely {}'s speaker cannot reach {owner}'s (a speaker ranks only the speakers it sees alive), {owner}'s \
             speaker is down though its Node is Ready, or the status lags a change (run this again in a few seconds).",
            list(others)
        )
    }

    /// What concerns the Service as a whole: statuses naming nodes that own none of its
    /// addresses, and how liveness was taken.
    pub fn finish(&mut self, found: &mut Found) {
        if self.decided && !self.disagreed && !self.owners.is_empty() {
            for status in self.seen().iter().filter(|s| !self.owners.contains(&s.node)) {
                found.lines.push(format!(
                    "Layer2: ServiceL2Status {} says {} announces the Service too, though by the rules it owns none \
                     of its addresses: a status left over, or speakers that do not see each other.",
                    status.name, status.node
                ));
            }
        }
        if self.decided {
            let ready = if self.world.ready.is_empty() { "none".to_owned() } else { list(&self.world.ready) };
            found.lines.push(format!(
                "Layer2 rules count the Ready Nodes ({ready}) as live speakers: which speakers see each other \
                 cannot be seen from outside."
            ));
        }
        if self.spoke
            && let Err(why) = self.seen
        {
            found.lines.push(format!("The ServiceL2Status objects could not be read ({why})."));
        }
    }
}

/// "ServiceL2Status l2-web-node1 says node1 announces `what`", and the others' claims.
fn says(seen: &[Seen], what: &str) -> String {
    let mut each = seen.iter().map(|s| format!("ServiceL2Status {} says {} announces {what}", s.name, s.node));
    let first = each.next().unwrap_or_default();
    let others: Vec<String> = each.collect();
    if others.is_empty() {
        return first;
    }
    format!(
        "{first}, and {} (several nodes claiming one Service: speakers that cannot reach each other)",
        others.join(", and ")
    )
}

/// `reason` in words, nodes refused for the same reason named together.
fn reason_text(reason: &Reason) -> String {
    let Reason::NoCandidate { nodes } = reason else { return reason.to_string() };
    if nodes.is_empty() {
        return reason.to_string();
    }
    let mut grouped: BTreeMap<NodeRejection, Vec<&str>> = BTreeMap::new();
    for (node, rejection) in nodes {
        grouped.entry(*rejection).or_default().push(node);
    }
    let parts: Vec<String> = grouped.iter().map(|(rejection, nodes)| format!("{}: {rejection}", list(nodes))).collect();
    format!("no node may announce it ({})", parts.join("; "))
}

/// "node1 is" / "node1, node2 are".
fn verb(nodes: &[&str], one: &str, many: &str) -> String {
    if nodes.len() == 1 { format!("{} {one}", list(nodes)) } else { format!("{} {many}", list(nodes)) }
}
