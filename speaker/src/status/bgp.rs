//! ServiceBGPStatus objects: one per advertised Service and node, in the Service's namespace,
//! listing the peers this node sends the Service to.
//!
//! Decides the objects' names, labels and contents ([`desired_statuses`], [`status_object`],
//! pure) and writes them: server-side apply with field manager `ferrolb-speaker`, deleting this
//! node's objects that are no longer advertised. It does not decide what is advertised (the
//! announcer does) or the session state (the sessions report it; [`super::peers`] writes it).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ferrolb_crds::{BGPStatus, ServiceBGPStatus};
use ferrolb_kube::list::each_page;
use ferrolb_kube::resync::{self, Resync};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::peers::write_peer_condition;
use crate::announcer::{BgpDecision, BgpOutcome, ServiceKey};
use crate::bgp::report::SessionReport;

/// The field manager of everything the speaker applies.
pub const FIELD_MANAGER: &str = ferrolb_kube::names::SPEAKER;
use ferrolb_crds::shortened;
pub use ferrolb_crds::{NODE_LABEL, SERVICE_NAME_LABEL, SERVICE_NAMESPACE_LABEL, label_value};

/// The ServiceBGPStatus objects of one node, by Service: the peers (sorted) each is sent to.
/// Everything else in an object (its name, labels, node) follows from the node and the Service,
/// so only this is kept: at 10,000 Services, whole objects would cost megabytes.
pub type Statuses = BTreeMap<ServiceKey, Vec<String>>;

/// How long to wait before trying failed writes again.
const RETRY: Duration = Duration::from_secs(1);

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

/// Writes this node's ServiceBGPStatus objects as decisions change, and the BGPPeer session
/// conditions the sessions report, until the report channel closes. What failed (a list, a
/// write, a delete, a condition) is tried again after [`RETRY`], without waiting for a change;
/// every [`resync::PERIOD`] the objects are listed again and what drifted is repaired.
pub(crate) async fn run(
    client: Client,
    node: String,
    owner: Option<OwnerReference>,
    mut reports: mpsc::UnboundedReceiver<SessionReport>,
    mut decision: watch::Receiver<Arc<BgpDecision>>,
) {
    // What the API holds; None until this node's objects have been listed.
    let mut written: Option<Statuses> = None;
    // The latest report per peer whose condition could not be written.
    let mut unwritten: BTreeMap<String, SessionReport> = BTreeMap::new();
    let mut decision_open = true;
    let mut resync = Resync::new(resync::PERIOD);
    loop {
        let desired = desired_statuses(&decision.borrow_and_update());
        if written.is_none() {
            written = existing(&client, &node).await;
        }
        let mut behind = written.is_none();
        if let Some(previous) = written.take() {
            let now = write_statuses(&client, &node, owner.as_ref(), &previous, &desired).await;
            behind |= now != desired;
            written = Some(now);
        }
        for (peer, report) in std::mem::take(&mut unwritten) {
            if write_peer_condition(&client, &node, &report).await.is_err() {
                unwritten.insert(peer, report);
            }
        }
        behind |= !unwritten.is_empty();
        tokio::select! {
            report = reports.recv() => match report {
                Some(report) => {
                    if write_peer_condition(&client, &node, &report).await.is_err() {
                        unwritten.insert(report.peer.clone(), report);
                    }
                }
                None => return,
            },
            changed = decision.changed(), if decision_open => {
                decision_open = changed.is_ok();
                // Let a burst of decisions settle.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            () = tokio::time::sleep(RETRY), if behind => {}
            // List this node's objects again: what vanished or was changed is rewritten, what
            // it does not know is deleted.
            () = resync.tick() => written = None,
        }
    }
}

/// This node's ServiceBGPStatus objects already in the API (from an earlier run); None when they
/// could not be listed. One that is not exactly as this version would write it is listed without
/// peers, so it is rewritten (or deleted); one under another name than this version gives it is
/// deleted now.
async fn existing(client: &Client, node: &str) -> Option<Statuses> {
    let api: Api<ServiceBGPStatus> = Api::all(client.clone());
    let params = ListParams::default().labels(&format!("{NODE_LABEL}={}", label_value(node)));
    let mut out = Statuses::new();
    let mut misnamed = Vec::new();
    let listed = each_page(&api, &params, |object| {
        let Some(status) = object.status.as_ref().filter(|s| s.node == node) else { return };
        let service = ServiceKey::new(status.service_namespace.clone(), status.service_name.clone());
        let (name, labels, wanted) = status_object(node, &service, &status.peers);
        if object.name_any() != name || object.namespace().as_deref() != Some(&*service.namespace) {
            misnamed.push((object.namespace().unwrap_or_default(), object.name_any()));
            return;
        }
        let exact = object.labels() == &labels && *status == wanted;
        out.insert(service, if exact { status.peers.clone() } else { Vec::new() });
    })
    .await;
    if let Err(error) = listed {
        tracing::warn!(%error, %node, "listing this node's ServiceBGPStatus objects failed; retrying");
        return None;
    }
    for (namespace, name) in misnamed {
        delete(client, &namespace, &name).await;
    }
    Some(out)
}

/// Deletes one object; false when that failed (a missing object is deleted already).
async fn delete(client: &Client, namespace: &str, name: &str) -> bool {
    let api: Api<ServiceBGPStatus> = Api::namespaced(client.clone(), namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => true,
        Err(kube::Error::Api(status)) if status.code == 404 => true,
        Err(error) => {
            tracing::warn!(%error, %namespace, %name, "deleting ServiceBGPStatus failed; retrying");
            false
        }
    }
}

/// Applies what changed, deletes what is no longer wanted; returns what the API now holds: a
/// failed write is left out and a failed delete kept, so the next round tries them again.
async fn write_statuses(
    client: &Client,
    node: &str,
    owner: Option<&OwnerReference>,
    previous: &Statuses,
    desired: &Statuses,
) -> Statuses {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut written = Statuses::new();
    for (service, peers) in previous.iter().filter(|(service, _)| !desired.contains_key(*service)) {
        if !delete(client, &service.namespace, &object_name(&service.name, node)).await {
            written.insert(service.clone(), peers.clone());
        }
    }
    for (service, peers) in desired {
        if previous.get(service) == Some(peers) {
            written.insert(service.clone(), peers.clone());
            continue;
        }
        let (name, labels, status) = status_object(node, service, peers);
        let api: Api<ServiceBGPStatus> = Api::namespaced(client.clone(), &service.namespace);
        let body = json!({
            "apiVersion": "ferrolb.io/v1beta1",
            "kind": "ServiceBGPStatus",
            "metadata": {"name": name, "namespace": &*service.namespace, "labels": labels, "ownerReferences": owner.into_iter().collect::<Vec<_>>()},
            "spec": {},
        });
        let status = json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "ServiceBGPStatus", "status": status});
        let result = match api.patch(&name, &params, &Patch::Apply(&body)).await {
            Ok(_) => api.patch_status(&name, &params, &Patch::Apply(&status)).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(_) => {
                written.insert(service.clone(), peers.clone());
            }
            Err(error) => {
                tracing::warn!(%error, service = %service, %name, "writing ServiceBGPStatus failed; retrying")
            }
        }
    }
    written
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
}
