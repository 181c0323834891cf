//! ServiceL2Status objects and `nodeAssigned` Events: what the rest of the cluster sees of this
//! node's Layer2 announcements.
//!
//! [`plan`] (pure) compares what this node last wrote with what it announces now and says what to
//! write; [`run`] is the writer task. It runs beside the decision loop and takes its wishes from a
//! `watch` channel, so a slow or absent API server never delays answering ARP: the writer only
//! ever sees the latest wish, and retries what failed.
//!
//! One object per announced Service, in the Service's namespace, named [`object_name`] and
//! labelled with the node and the Service; written with server-side apply (field manager
//! `ferrolb-speaker`); deleted when this node stops announcing the Service. On taking a Service
//! over, this node also deletes the objects other nodes left for it (a node that was cut off or
//! killed cannot delete its own), so the owner's is the only one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferrolb_crds::{InterfaceInfo, L2Status, ServiceL2Status};
use ferrolb_kube::list::each_page;
use ferrolb_kube::resync::{self, Resync};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::{Notify, watch};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::announcer::ServiceKey;
use crate::kube_edge::translate::AnnouncedService;
use ferrolb_kube::events::Event;

/// The field manager and Event reporter.
pub const MANAGER: &str = ferrolb_kube::names::SPEAKER;
use ferrolb_crds::shortened;
pub use ferrolb_crds::{NODE_LABEL, SERVICE_NAME_LABEL, SERVICE_NAMESPACE_LABEL, label_value};
/// How long to wait before retrying failed writes.
const RETRY: Duration = Duration::from_secs(1);

/// What this node announces, per Service: the writer's input.
pub type Wanted = BTreeMap<ServiceKey, AnnouncedService>;

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Create or update the object; `taken_over` when this node did not announce the Service
    /// before (an Event, and the cleanup of other nodes' objects).
    Apply {
        /// The Service.
        service: ServiceKey,
        /// What to report.
        announced: AnnouncedService,
        /// This node just started announcing it.
        taken_over: bool,
    },
    /// Delete the object: this node no longer announces the Service.
    Delete {
        /// The Service.
        service: ServiceKey,
    },
}

/// The writes that turn `written` into `wanted`, deletions first.
pub fn plan(written: &Wanted, wanted: &Wanted) -> Vec<Write> {
    let deletes =
        written.keys().filter(|k| !wanted.contains_key(*k)).map(|service| Write::Delete { service: service.clone() });
    let applies = wanted.iter().filter(|(k, a)| written.get(*k) != Some(*a)).map(|(service, announced)| Write::Apply {
        service: service.clone(),
        announced: announced.clone(),
        taken_over: !written.contains_key(service),
    });
    deletes.chain(applies).collect()
}

/// The object's name: `l2-<service>-<node>`, shortened with a hash when that would exceed the
/// 253 characters of a DNS subdomain.
pub fn object_name(service: &str, node: &str) -> String {
    shortened(&format!("l2-{service}-{node}"), 253)
}

/// The object this node writes for `service`.
pub fn object(
    node: &str,
    owner: Option<&OwnerReference>,
    service: &ServiceKey,
    announced: &AnnouncedService,
) -> serde_json::Value {
    let status = L2Status {
        node: node.to_owned(),
        service_name: service.name.to_string(),
        service_namespace: service.namespace.to_string(),
        interfaces: announced.interfaces.iter().map(|name| InterfaceInfo { name: name.clone() }).collect(),
    };
    json!({
        "apiVersion": "ferrolb.io/v1beta1",
        "kind": "ServiceL2Status",
        "metadata": {
            "name": object_name(&service.name, node),
            "namespace": &*service.namespace,
            "labels": {
                NODE_LABEL: label_value(node),
                SERVICE_NAME_LABEL: &*service.name,
                SERVICE_NAMESPACE_LABEL: label_value(&service.namespace),
            },
            "ownerReferences": owner.into_iter().collect::<Vec<_>>(),
        },
        "spec": {},
        "status": status,
    })
}

/// Repairs what this writer believes against what the API holds (`listed`, as [`list`] reads
/// it): an object that vanished or whose interfaces were changed by someone else is written again
/// (without a new takeover: this node still announces the Service), and an object this writer
/// does not know is adopted, so that the next plan deletes it or rewrites it.
pub fn resynced(written: &mut Wanted, listed: Wanted) {
    for (service, announced) in written.iter_mut() {
        if listed.get(service).is_none_or(|l| l.interfaces != announced.interfaces) {
            // Unknown addresses: the next plan rewrites it if still wanted.
            announced.addresses = Default::default();
        }
    }
    for (service, announced) in listed {
        written.entry(service).or_insert(announced);
    }
}

/// Writes ServiceL2Status objects and Events until `wanted`'s sender is gone. Every
/// [`resync::PERIOD`], and whenever `check` is notified, it lists this node's objects again and
/// repairs what drifted.
///
/// It writes nothing before the first wish: a restarted speaker finds the objects its previous
/// process kept (a restart in place) and must not delete them before it knows what it announces.
pub async fn run(
    client: Client,
    node: String,
    owner: Option<OwnerReference>,
    mut wanted: watch::Receiver<Wanted>,
    check: Arc<Notify>,
) {
    let mut written = existing(&client, &node).await;
    let mut resync = Resync::new(resync::PERIOD);
    if wanted.changed().await.is_err() {
        return;
    }
    loop {
        let target = wanted.borrow_and_update().clone();
        let mut failed = false;
        for write in plan(&written, &target) {
            match perform(&client, &node, owner.as_ref(), &write).await {
                Ok(()) => match write {
                    Write::Apply { service, announced, .. } => {
                        written.insert(service, announced);
                    }
                    Write::Delete { service } => {
                        written.remove(&service);
                    }
                },
                Err(error) => {
                    failed = true;
                    debug!(%error, "a ServiceL2Status write failed; retrying");
                }
            }
        }
        tokio::select! {
            changed = wanted.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(RETRY), if failed => {},
            () = first(resync.tick(), check.notified()) => match list(&client, &node).await {
                Ok(listed) => resynced(&mut written, listed),
                Err(error) => warn!(%error, %node, "listing this node's ServiceL2Status objects failed; resynced later"),
            },
        }
    }
}

/// Completes when either completes.
async fn first(a: impl std::future::Future<Output = ()>, b: impl std::future::Future<Output = ()>) {
    tokio::select! {
        () = a => {}
        () = b => {}
    }
}

/// The objects this node wrote before (e.g. before a restart), so that stale ones are deleted.
async fn existing(client: &Client, node: &str) -> Wanted {
    for _ in 0..3 {
        match list(client, node).await {
            Ok(listed) => return listed,
            Err(error) => {
                warn!(%error, %node, "listing this node's ServiceL2Status objects failed");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
    Wanted::new()
}

/// This node's ServiceL2Status objects in the API, by Service, with unknown addresses (the object
/// does not hold them).
async fn list(client: &Client, node: &str) -> Result<Wanted, kube::Error> {
    let api: Api<ServiceL2Status> = Api::all(client.clone());
    let params = ListParams::default().labels(&format!("{NODE_LABEL}={}", label_value(node)));
    let mut listed = Wanted::new();
    each_page(&api, &params, |object| {
        let Some(status) = object.status else { return };
        let key = ServiceKey::new(status.service_namespace, status.service_name);
        let interfaces = status.interfaces.into_iter().map(|i| i.name).collect();
        listed.insert(key, AnnouncedService { addresses: Default::default(), interfaces });
    })
    .await?;
    Ok(listed)
}

async fn perform(
    client: &Client,
    node: &str,
    owner: Option<&OwnerReference>,
    write: &Write,
) -> Result<(), kube::Error> {
    match write {
        Write::Delete { service } => {
            let api: Api<ServiceL2Status> = Api::namespaced(client.clone(), &service.namespace);
            let name = object_name(&service.name, node);
            let span = info_span!("l2status", service = %service, node);
            async {
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => info!("ServiceL2Status deleted"),
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(error) => return Err(error),
                }
                Ok(())
            }
            .instrument(span)
            .await
        }
        Write::Apply { service, announced, taken_over } => {
            let span = info_span!("l2status", service = %service, node);
            async {
                let api: Api<ServiceL2Status> = Api::namespaced(client.clone(), &service.namespace);
                let name = object_name(&service.name, node);
                let obj = object(node, owner, service, announced);
                let params = PatchParams::apply(MANAGER).force();
                api.patch(&name, &params, &Patch::Apply(&obj)).await?;
                api.patch_status(&name, &params, &Patch::Apply(&obj)).await?;
                info!(interfaces = ?announced.interfaces, "ServiceL2Status written");
                if *taken_over {
                    remove_others(&api, service, node).await;
                    if let Err(error) = node_assigned(client, node, service).await {
                        warn!(%error, "recording the nodeAssigned Event failed");
                    }
                }
                Ok(())
            }
            .instrument(span)
            .await
        }
    }
}

/// Deletes the objects other nodes wrote for `service`.
async fn remove_others(api: &Api<ServiceL2Status>, service: &ServiceKey, node: &str) {
    let params = ListParams::default().labels(&format!("{SERVICE_NAME_LABEL}={}", service.name));
    let Ok(list) = api.list(&params).await else { return };
    for other in list.items {
        let theirs = other.status.as_ref().map(|s| s.node.as_str()).unwrap_or_default();
        let same_service = other.status.as_ref().is_some_and(|s| *s.service_namespace == *service.namespace);
        if theirs != node && same_service {
            let name = other.name_any();
            // Only the object listed: if its node has written it again since (it took the Service
            // back), that newer object stays.
            let params = DeleteParams::default()
                .preconditions(Preconditions { uid: other.uid(), resource_version: other.resource_version() });
            match api.delete(&name, &params).await {
                Ok(_) => info!(previous = theirs, "removed the ServiceL2Status of the previous owner"),
                Err(error) => debug!(%error, previous = theirs, "removing a previous owner's ServiceL2Status failed"),
            }
        }
    }
}

/// Records `nodeAssigned` on the Service.
async fn node_assigned(client: &Client, node: &str, service: &ServiceKey) -> Result<(), kube::Error> {
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Service".into()),
        namespace: Some(service.namespace.to_string()),
        name: Some(service.name.to_string()),
        ..ObjectReference::default()
    };
    let note = format!("announcing from node \"{node}\" with protocol \"layer2\"");
    let event = Event { warning: false, reason: "nodeAssigned".into(), note, action: "Announce" };
    super::publisher(client, node).publish(&event, &regarding).await
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn announced(ips: &[&str], interfaces: &[&str]) -> AnnouncedService {
        AnnouncedService {
            addresses: ips.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
            interfaces: interfaces.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn plan_deletes_what_ended_and_applies_what_is_new_or_changed() {
        let (web, api, gone) =
            (ServiceKey::new("default", "web"), ServiceKey::new("team", "api"), ServiceKey::new("x", "gone"));
        let written: Wanted = [
            (web.clone(), announced(&["198.51.100.200"], &["eth0"])),
            (api.clone(), announced(&["198.51.100.201"], &["eth0"])),
            (gone.clone(), announced(&["198.51.100.202"], &["eth0"])),
        ]
        .into();
        let new = ServiceKey::new("default", "new");
        let wanted: Wanted = [
            (web.clone(), announced(&["198.51.100.200"], &["eth0"])),
            (api.clone(), announced(&["198.51.100.201"], &["eth0", "eth1"])),
            (new.clone(), announced(&["198.51.100.203"], &["eth0"])),
        ]
        .into();
        assert_eq!(
            plan(&written, &wanted),
            [
                Write::Delete { service: gone },
                Write::Apply { service: new, announced: announced(&["198.51.100.203"], &["eth0"]), taken_over: true },
                Write::Apply {
                    service: api,
                    announced: announced(&["198.51.100.201"], &["eth0", "eth1"]),
                    taken_over: false
                },
            ]
        );
        assert!(plan(&wanted, &wanted).is_empty());
    }

    #[test]
    fn a_resync_rewrites_what_vanished_or_was_changed_and_adopts_what_it_did_not_know() {
        let (kept, vanished, edited, stray) = (
            ServiceKey::new("default", "kept"),
            ServiceKey::new("default", "vanished"),
            ServiceKey::new("default", "edited"),
            ServiceKey::new("default", "stray"),
        );
        let mut written: Wanted = [
            (kept.clone(), announced(&["198.51.100.200"], &["eth0"])),
            (vanished.clone(), announced(&["198.51.100.201"], &["eth0"])),
            (edited.clone(), announced(&["198.51.100.202"], &["eth0"])),
        ]
        .into();
        let wanted = written.clone();
        let listed: Wanted = [
            (kept.clone(), announced(&[], &["eth0"])),
            (edited.clone(), announced(&[], &["eth9"])),
            (stray.clone(), announced(&[], &["eth0"])),
        ]
        .into();
        resynced(&mut written, listed);
        assert_eq!(
            plan(&written, &wanted),
            [
                Write::Delete { service: stray },
                Write::Apply {
                    service: edited,
                    announced: announced(&["198.51.100.202"], &["eth0"]),
                    taken_over: false
                },
                Write::Apply {
                    service: vanished,
                    announced: announced(&["198.51.100.201"], &["eth0"]),
                    taken_over: false
                },
            ]
        );
        resynced(&mut written, wanted.clone());
        assert!(plan(&written, &wanted).iter().all(|w| !matches!(w, Write::Apply { service, .. } if *service == kept)));
    }

    #[test]
    fn names_are_deterministic_and_fit_the_api() {
        assert_eq!(object_name("web", "node1"), "l2-web-node1");
        let long_node = "n".repeat(250);
        let a = object_name("web", &long_node);
        assert!(a.len() <= 253, "{}", a.len());
        assert_eq!(a, object_name("web", &long_node));
        assert_ne!(a, object_name("web2", &long_node));
        assert_eq!(label_value("node1"), "node1");
        assert_eq!(label_value(&long_node).len(), 63);
    }

    #[test]
    fn the_object_reports_node_service_and_interfaces() {
        let obj = object("node2", None, &ServiceKey::new("default", "web"), &announced(&["198.51.100.200"], &["eth0"]));
        assert_eq!(obj["metadata"]["name"], "l2-web-node2");
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert_eq!(obj["metadata"]["labels"][NODE_LABEL], "node2");
        assert_eq!(obj["status"]["node"], "node2");
        assert_eq!(obj["status"]["serviceName"], "web");
        assert_eq!(obj["status"]["serviceNamespace"], "default");
        assert_eq!(obj["status"]["interfaces"], json!([{"name": "eth0"}]));
        assert_eq!(obj["metadata"]["ownerReferences"], json!([]));
    }

    #[test]
    fn the_object_is_owned_by_the_speakers_cluster_role_when_known() {
        let owner = OwnerReference {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "ClusterRole".into(),
            name: "ferrolb-speaker".into(),
            uid: "u1".into(),
            ..OwnerReference::default()
        };
        let obj = object("node2", Some(&owner), &ServiceKey::new("default", "web"), &announced(&[], &["eth0"]));
        assert_eq!(obj["metadata"]["ownerReferences"][0]["kind"], "ClusterRole");
        assert_eq!(obj["metadata"]["ownerReferences"][0]["uid"], "u1");
    }
}
