//! Who announces the Service's addresses, by Layer2 and by BGP, and why; or why nobody does.
//!
//! Two sources, said side by side: what the speakers wrote (ServiceL2Status, ServiceBGPStatus,
//! the BGPPeers' session conditions) and what the rules say (`ferrolb_core::announcer`, run on
//! this Service alone by `world`). When they disagree, both are said, with what that likely
//! means. `layer2` and `bgp` write the lines of each mode.
//!
//! What it does not see: the speakers' own view of which speakers are alive (Ready Nodes stand
//! for it), Secrets, and other Services sharing the address (which may move its Layer2 owner).

mod bgp;
mod layer2;
mod world;

use std::collections::BTreeMap;

use ferrolb_core::announcer::{ClassPolicy, NodeRejection, Reason, ServiceView, service_view};
use ferrolb_core::config::Kind;
use ferrolb_core::service::ServiceReader;
use ferrolb_crds::IPAddressPool;
use k8s_openapi::api::core::v1::Service;

use super::Announcing;
use world::World;

/// The Announcement section's lines, and next steps for the user.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Who announces what, and why.
    pub lines: Vec<String>,
    /// What to change, when nobody announces an address and the reason says what.
    pub steps: Vec<String>,
}

/// Explains who announces the addresses of `service`; nothing when FerroLB does not serve it
/// or it has no address.
pub(crate) fn explain(service: &Service, pools: Result<&[IPAddressPool], &str>, announcing: &Announcing) -> Found {
    let Ok(view) = service_view(service, &ClassPolicy::default()) else { return Found::default() };
    if view.addresses.is_empty() {
        return Found::default();
    }
    let mut found = Found::default();
    let mut preamble = Vec::new();
    let world = World::read(pools, announcing, &view, &mut preamble);
    let layer2 = world.layer2();
    let bgp = world.bgp();
    let l2_seen = layer2::seen(&announcing.l2_statuses);
    let bgp_seen = bgp::seen(&announcing.bgp_statuses);
    let mut l2 = layer2::Writer::new(&world, &view, &layer2, &l2_seen);
    let mut routed = bgp::Writer::new(&world, &view, &bgp, &bgp_seen, announcing);

    for &address in &view.addresses {
        if world.config.is_some() && world.pool_of(address).is_none() {
            found.lines.push(format!(
                "{address} lies in no configured IPAddressPool, so no speaker announces it; the controller gives \
                 the Service an address from a pool instead."
            ));
            continue;
        }
        let pool = world.pool_of(address).unwrap_or_default();
        if nothing_covers(&world, pool) && l2_seen.as_ref().is_ok_and(Vec::is_empty) && bgp_unreported(&bgp_seen) {
            found.lines.push(format!(
                "Nothing announces {address}: no L2Advertisement and no BGPAdvertisement covers pool {pool}."
            ));
            found.steps.push(format!(
                "Create an L2Advertisement listing pool {pool} in spec.ipAddressPools (Layer2: a node answers ARP/NDP \
                 for the address), or a BGPAdvertisement listing it and a BGPPeer (BGP: nodes advertise it to your \
                 routers)."
            ));
            continue;
        }
        l2.address(address, pool, &mut found);
        routed.address(address, pool, &mut found);
    }
    l2.finish(&mut found);
    routed.finish(&mut found);
    found.lines.extend(refusals(&world));
    found.lines.extend(preamble);
    if let Some(key) = sharing_key(service) {
        found.lines.push(format!(
            "The Service shares its address (ferrolb.io/allow-shared-ip: {key}): in Layer2 the owner is decided \
             together with the other Services on the address, which this check leaves out."
        ));
    }
    found
}

/// Neither mode's advertisements cover `pool` (both read).
fn nothing_covers(world: &World, pool: &str) -> bool {
    world.l2_covering(pool).is_some_and(|a| a.is_empty()) && world.bgp_covering(pool).is_some_and(|a| a.is_empty())
}

/// No ServiceBGPStatus was read for the Service.
fn bgp_unreported<T>(seen: &Result<Vec<T>, String>) -> bool {
    seen.as_ref().is_ok_and(Vec::is_empty)
}

/// A line for each L2Advertisement, BGPAdvertisement or BGPPeer FerroLB refuses: it counts for
/// nothing, here as in the speakers.
fn refusals(world: &World) -> Vec<String> {
    let kinds = [Kind::L2Advertisement, Kind::BGPAdvertisement, Kind::BGPPeer];
    let refused = world.verdicts.problems.keys().filter(|object| kinds.contains(&object.kind));
    refused
        .filter_map(|object| {
            let why = world.refusal(object.kind, &object.name)?;
            Some(format!("{} {} is refused ({why}), so it counts for nothing here.", object.kind, object.name))
        })
        .collect()
}

/// Next steps for `reason`, when it suggests one; `kind` names the mode's advertisements.
fn steps_for(reason: &Reason, service: &ServiceView, kind: &str) -> Vec<String> {
    match reason {
        Reason::ServiceSelectorsExclude { pool, advertisements } => vec![format!(
            "Give Service {} labels that the serviceSelectors of {} select, or widen those selectors (they cover \
             pool {pool}).",
            service.key,
            objects(kind, advertisements)
        )],
        Reason::NoEndpoints => vec![format!(
            "Check the Service's Pods: none is ready or serving (kubectl get endpointslices -n {} -l \
             kubernetes.io/service-name={}). An address is announced only while a Pod serves it.",
            service.key.namespace, service.key.name
        )],
        Reason::NoCandidate { nodes } => {
            let mut grouped: BTreeMap<NodeRejection, Vec<&str>> = BTreeMap::new();
            for (node, rejection) in nodes {
                grouped.entry(*rejection).or_default().push(node);
            }
            grouped.iter().filter_map(|(rejection, nodes)| rejection_step(*rejection, nodes, kind)).collect()
        }
        _ => Vec::new(),
    }
}

/// What to change so that `nodes`, refused for `rejection`, may announce.
fn rejection_step(rejection: NodeRejection, nodes: &[&str], kind: &str) -> Option<String> {
    let nodes = list(nodes);
    Some(match rejection {
        NodeRejection::Excluded => format!(
            "Remove the label node.kubernetes.io/exclude-from-external-load-balancers from {nodes}, if they should \
             announce the Service."
        ),
        NodeRejection::NotSelected => {
            format!("Widen the nodeSelectors of the {kind}s that cover the pool: they select none of {nodes}.")
        }
        NodeRejection::NoLocalEndpoint => "Run a Pod of the Service on a node that may announce it (with \
             externalTrafficPolicy: Local only nodes running a ready endpoint may), or use externalTrafficPolicy: \
             Cluster."
            .to_owned(),
        NodeRejection::NotAlive => format!(
            "Check {nodes}: not Ready, so their speakers count as gone (kubectl get nodes, and the speaker Pods)."
        ),
        NodeRejection::NetworkUnavailable => format!("Fix the network of {nodes}: NetworkUnavailable is True."),
        NodeRejection::UnknownNode => return None,
    })
}

/// The Service's sharing key, if it asks to share its address.
fn sharing_key(service: &Service) -> Option<String> {
    ServiceReader::new(service).request().sharing_key.map(|k| k.to_string())
}

/// Names joined by ", ".
fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names.into_iter().map(|n| n.as_ref().to_owned()).collect::<Vec<_>>().join(", ")
}

/// "L2Advertisement a" or "L2Advertisements a, b".
fn objects(kind: &str, names: &[String]) -> String {
    match names {
        [one] => format!("{kind} {one}"),
        _ => format!("{kind}s {}", list(names)),
    }
}
