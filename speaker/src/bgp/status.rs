//! BGP status in the API: one ServiceBGPStatus per advertised Service and node (in the
//! Service's namespace, listing the peers this node sends the Service to), and a per-node
//! session condition on each BGPPeer.
//!
//! Decides the objects' names, labels and contents ([`desired_statuses`], [`session_condition`],
//! pure) and writes them: server-side apply with field manager `ferrolb-speaker`, deleting this
//! node's ServiceBGPStatus objects that are no longer advertised. It does not decide what is
//! advertised (the announcer does) or the session state (the sessions report it).
//!
//! BGPPeer conditions: the list is shared with the controller's Accepted condition and is not a
//! list-map in the CRD, so the speaker reads the object and writes the whole list back with its
//! own condition replaced, guarded by resourceVersion (retried on conflict).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ferrolb_crds::{BGPPeer, BGPStatus, ServiceBGPStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::session::SessionReport;
use crate::announcer::{BgpDecision, BgpOutcome, ServiceKey};
use crate::events::{self, SpeakerEvent};

/// The field manager of everything the speaker applies.
pub const FIELD_MANAGER: &str = ferrolb_kube::names::SPEAKER;
use ferrolb_crds::shortened;
pub use ferrolb_crds::{NODE_LABEL, SERVICE_NAME_LABEL, SERVICE_NAMESPACE_LABEL, SESSION_CONDITION, label_value};

/// The ServiceBGPStatus objects of one node, by Service: the peers (sorted) each is sent to.
/// Everything else in an object (its name, labels, node) follows from the node and the Service,
/// so only this is kept: at 10,000 Services, whole objects would cost megabytes.
pub type Statuses = BTreeMap<ServiceKey, Vec<String>>;

/// The name, labels and status of `node`'s ServiceBGPStatus for `service`, sent to `peers`.
pub fn status_object(
    node: &str,
    service: &ServiceKey,
    peers: &[String],
) -> (String, BTreeMap<String, String>, BGPStatus) {
    let labels = BTreeMap::from([
        (NODE_LABEL.to_string(), label_value(node)),
        (SERVICE_NAME_LABEL.to_string(), label_value(&service.name)),
        (SERVICE_NAMESPACE_LABEL.to_string(), label_value(&service.namespace)),
    ]);
    let status = BGPStatus {
        node: node.to_string(),
        service_name: service.name.to_string(),
        service_namespace: service.namespace.to_string(),
        peers: peers.to_vec(),
    };
    (object_name(&service.name, node), labels, status)
}

/// The ServiceBGPStatus name for a Service and node: `<service>-<node>`, shortened with a hash
/// past the 253 characters of a DNS subdomain.
pub fn object_name(service: &str, node: &str) -> String {
    shortened(&format!("{service}-{node}"), 253)
}

/// The ServiceBGPStatus objects this node should have: one per Service with an address
/// advertised from this node, listing the peers (sorted) that receive any of its addresses.
pub fn desired_statuses(decision: &BgpDecision) -> Statuses {
    let mut out = Statuses::new();
    for (service, verdicts) in &decision.verdicts {
        let peers: BTreeSet<&String> = verdicts
            .iter()
            .filter_map(|v| match &v.outcome {
                BgpOutcome::Advertised { peers, .. } => Some(peers.iter().map(|(peer, _)| peer)),
                BgpOutcome::NotAdvertised(_) => None,
            })
            .flatten()
            .collect();
        if !peers.is_empty() {
            out.insert(service.clone(), peers.into_iter().cloned().collect());
        }
    }
    out
}

/// The condition type of `node`'s session on a BGPPeer.
pub fn session_condition_type(node: &str) -> String {
    format!("{node}/{SESSION_CONDITION}")
}

/// `conditions` with `node`'s session condition set from `report` (others untouched). The
/// transition time stays when the status does not change. None when nothing changes.
pub fn session_condition(
    conditions: &[Condition],
    node: &str,
    report: &SessionReport,
    now: Time,
    generation: Option<i64>,
) -> Option<Vec<Condition>> {
    let kind = session_condition_type(node);
    let status = if report.established { "True" } else { "False" };
    let old = conditions.iter().find(|c| c.type_ == kind);
    if let Some(old) = old
        && old.status == status
        && old.reason == report.reason
        && old.message == report.message
    {
        return None;
    }
    let last_transition_time = match old {
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => now,
    };
    let condition = Condition {
        type_: kind.clone(),
        status: status.to_string(),
        reason: report.reason.clone(),
        message: report.message.clone(),
        last_transition_time,
        observed_generation: generation,
    };
    let mut next: Vec<Condition> = conditions.iter().filter(|c| c.type_ != kind).cloned().collect();
    next.push(condition);
    Some(next)
}

/// Writes status until the report channel closes.
pub(crate) async fn run(
    client: Client,
    node: String,
    mut reports: mpsc::UnboundedReceiver<SessionReport>,
    mut decision: watch::Receiver<Arc<BgpDecision>>,
) {
    let mut written: Option<Statuses> = None;
    let mut decision_open = true;
    loop {
        let desired = desired_statuses(&decision.borrow_and_update());
        let previous = match written.take() {
            Some(previous) => previous,
            None => existing(&client, &node).await,
        };
        written = Some(write_statuses(&client, &node, &previous, desired).await);
        tokio::select! {
            report = reports.recv() => match report {
                Some(report) => write_peer_condition(&client, &node, &report).await,
                None => return,
            },
            changed = decision.changed(), if decision_open => {
                decision_open = changed.is_ok();
                // Let a burst of decisions settle.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// This node's ServiceBGPStatus objects already in the API (from an earlier run). One that is
/// not exactly as this version would write it is listed without peers, so it is rewritten (or
/// deleted); one under another name than this version gives it is deleted now.
async fn existing(client: &Client, node: &str) -> Statuses {
    let api: Api<ServiceBGPStatus> = Api::all(client.clone());
    let params = ListParams::default().labels(&format!("{NODE_LABEL}={}", label_value(node)));
    let list = match api.list(&params).await {
        Ok(list) => list,
        Err(error) => {
            tracing::warn!(%error, "listing ServiceBGPStatus objects failed");
            return Statuses::new();
        }
    };
    let mut out = Statuses::new();
    for object in list.items {
        let Some(status) = object.status.as_ref().filter(|s| s.node == node) else { continue };
        let service = ServiceKey::new(status.service_namespace.clone(), status.service_name.clone());
        let (name, labels, wanted) = status_object(node, &service, &status.peers);
        if object.name_any() != name || object.namespace().as_deref() != Some(&*service.namespace) {
            delete(client, &object.namespace().unwrap_or_default(), &object.name_any()).await;
            continue;
        }
        let exact = object.labels() == &labels && *status == wanted;
        out.insert(service, if exact { status.peers.clone() } else { Vec::new() });
    }
    out
}

async fn delete(client: &Client, namespace: &str, name: &str) {
    let api: Api<ServiceBGPStatus> = Api::namespaced(client.clone(), namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(error) => tracing::warn!(%error, %name, "deleting ServiceBGPStatus failed"),
    }
}

/// Applies what changed, deletes what is no longer wanted; returns what the API now holds
/// (failed writes are left out so the next round retries them).
async fn write_statuses(client: &Client, node: &str, previous: &Statuses, desired: Statuses) -> Statuses {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for service in previous.keys().filter(|service| !desired.contains_key(*service)) {
        delete(client, &service.namespace, &object_name(&service.name, node)).await;
    }
    let mut written = Statuses::new();
    for (service, peers) in desired {
        if previous.get(&service) == Some(&peers) {
            written.insert(service, peers);
            continue;
        }
        let (name, labels, status) = status_object(node, &service, &peers);
        let api: Api<ServiceBGPStatus> = Api::namespaced(client.clone(), &service.namespace);
        let body = json!({
            "apiVersion": "ferrolb.io/v1beta1",
            "kind": "ServiceBGPStatus",
            "metadata": {"name": name, "namespace": &*service.namespace, "labels": labels},
            "spec": {},
        });
        let status = json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "ServiceBGPStatus", "status": status});
        let result = match api.patch(&name, &params, &Patch::Apply(&body)).await {
            Ok(_) => api.patch_status(&name, &params, &Patch::Apply(&status)).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(_) => {
                written.insert(service, peers);
            }
            Err(error) => tracing::warn!(%error, %name, "writing ServiceBGPStatus failed"),
        }
    }
    written
}

async fn write_peer_condition(client: &Client, node: &str, report: &SessionReport) {
    let api: Api<BGPPeer> = Api::all(client.clone());
    for _ in 0..3 {
        let peer = match api.get_opt(&report.peer).await {
            Ok(Some(peer)) => peer,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, peer = %report.peer, "reading BGPPeer failed");
                return;
            }
        };
        let conditions = peer.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let Some(next) = session_condition(&conditions, node, report, now, peer.metadata.generation) else { return };
        let patch = json!({
            "metadata": {"resourceVersion": peer.resource_version()},
            "status": {"conditions": next},
        });
        match api.patch_status(&report.peer, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => {
                let kind = session_condition_type(node);
                let was = conditions.iter().find(|c| c.type_ == kind).map(|c| c.status == "True");
                if was != Some(report.established) {
                    session_event(client, node, &peer, report).await;
                }
                return;
            }
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(error) => {
                tracing::warn!(%error, peer = %report.peer, "writing the BGPPeer session condition failed");
                return;
            }
        }
    }
}

/// Records a session coming up or going down on the BGPPeer.
async fn session_event(client: &Client, node: &str, peer: &BGPPeer, report: &SessionReport) {
    let (reason, warning) = if report.established { ("SessionEstablished", false) } else { ("SessionDown", true) };
    let event = SpeakerEvent {
        regarding: peer.object_ref(&()),
        reason,
        note: format!("node {node}: {}", report.message),
        action: "Peer",
        warning,
    };
    if let Err(error) = events::publish(client, node, event).await {
        tracing::warn!(%error, peer = %report.peer, "recording the session Event failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::announcer::{BgpVerdict, Prefix, Reason, ServiceKey};
    use std::net::IpAddr;

    fn advertised(address: &str, peers: &[&str]) -> BgpVerdict {
        let address: IpAddr = address.parse().unwrap();
        BgpVerdict {
            address,
            pool: Some("pool".into()),
            outcome: BgpOutcome::Advertised {
                peers: peers.iter().map(|p| (p.to_string(), Prefix::covering(address, 32))).collect(),
                advertisements: vec!["adv".into()],
            },
        }
    }

    #[test]
    fn one_status_per_advertised_service_with_its_peers() {
        let mut decision = BgpDecision::default();
        decision.verdicts.insert(
            ServiceKey::new("team-a", "web"),
            vec![advertised("203.0.113.1", &["r2", "r1"]), advertised("2001:db8::1", &["r3"])],
        );
        decision.verdicts.insert(
            ServiceKey::new("team-b", "db"),
            vec![BgpVerdict {
                address: "203.0.113.2".parse().unwrap(),
                pool: None,
                outcome: BgpOutcome::NotAdvertised(Reason::NoEndpoints),
            }],
        );
        decision.verdicts.insert(ServiceKey::new("team-c", "pending"), vec![]);
        let got = desired_statuses(&decision);
        assert_eq!(got.len(), 1);
        let web = ServiceKey::new("team-a", "web");
        assert_eq!(got[&web], vec!["r1", "r2", "r3"]);
        let (name, labels, status) = status_object("node1", &web, &got[&web]);
        assert_eq!(name, "web-node1");
        assert_eq!(status.peers, vec!["r1", "r2", "r3"]);
        assert_eq!(status.node, "node1");
        assert_eq!(status.service_namespace, "team-a");
        assert_eq!(status.service_name, "web");
        assert_eq!(labels[NODE_LABEL], "node1");
        assert_eq!(labels[SERVICE_NAME_LABEL], "web");
        assert_eq!(labels[SERVICE_NAMESPACE_LABEL], "team-a");
    }

    #[test]
    fn long_names_are_hashed_stably() {
        let long = "n".repeat(100);
        let v = label_value(&long);
        assert!(v.len() <= 63 && v.starts_with(&long[..46]));
        assert_eq!(v, label_value(&long));
        assert_ne!(v, label_value(&"m".repeat(100)));
        assert_eq!(label_value("node1"), "node1");
        assert!(object_name(&"s".repeat(63), &"n".repeat(253)).len() <= 253);
    }

    fn report(established: bool, reason: &str) -> SessionReport {
        SessionReport { peer: "r1".into(), established, reason: reason.into(), message: reason.into() }
    }

    fn time(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn session_condition_replaces_only_this_nodes() {
        let accepted = Condition {
            type_: "Accepted".into(),
            status: "True".into(),
            reason: "Valid".into(),
            message: String::new(),
            last_transition_time: time(1),
            observed_generation: Some(1),
        };
        let up = session_condition(
            std::slice::from_ref(&accepted),
            "node1",
            &report(true, "Established"),
            time(10),
            Some(1),
        )
        .unwrap();
        assert_eq!(up.len(), 2);
        assert_eq!(up[0], accepted);
        assert_eq!(up[1].type_, "node1/BGPSessionEstablished");
        assert_eq!(up[1].status, "True");
        // The same report again: nothing to write.
        assert_eq!(session_condition(&up, "node1", &report(true, "Established"), time(20), Some(1)), None);
        // Down: a new transition time; another node's condition is kept.
        let other = session_condition(&up, "node2", &report(false, "ConnectionFailed"), time(30), Some(1)).unwrap();
        let down = session_condition(&other, "node1", &report(false, "HoldTimerExpired"), time(40), Some(1)).unwrap();
        assert_eq!(down.len(), 3);
        let node1 = down.iter().find(|c| c.type_ == "node1/BGPSessionEstablished").unwrap();
        assert_eq!((node1.status.as_str(), node1.last_transition_time.clone()), ("False", time(40)));
        let node2 = down.iter().find(|c| c.type_ == "node2/BGPSessionEstablished").unwrap();
        assert_eq!(node2.reason, "ConnectionFailed");
    }
}
