//! The configuration watch both programs run: the six configuration kinds (IPAddressPool,
//! L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile, Community), the Secrets that can
//! hold BGP passwords, and the Nodes' labels (two peers or advertisements collide only on a
//! Node both select), each kept in a reflector store. A Node wakes the watch only when its
//! labels change, appear or go, not on every status update.
//!
//! Each object is decoded on its own as it arrives ([`Object`]), so one that does not fit the
//! types is refused alone, with the problem ferrolb-core words, instead of failing the watch.
//! Which Secrets are watched differs by program ([`Secrets`]): the controller validates peers'
//! passwordSecrets in any namespace; the speaker reads its own namespace, where its member key
//! lives too.

use std::collections::HashMap;

use ferrolb_core::config::{Kind, NodeLabels, ObjectRef, Objects, Problem};
use ferrolb_core::config_objects::{Decoded, secret_data, undecodable};
use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use futures::{FutureExt, StreamExt, future};
use k8s_openapi::api::core::v1::{Node, ObjectReference, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ApiResource, PartialObjectMeta};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::object::Object;
use crate::triggers::{self, Triggers};

/// The Secret type that can hold a BGP password.
const BASIC_AUTH: &str = "kubernetes.io/basic-auth";

/// Which Secrets to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secrets {
    /// Basic-auth Secrets in every namespace (the controller: a passwordSecret may name any).
    BasicAuth,
    /// Every Secret of one namespace (the speaker: BGP passwords and its member key).
    Namespace(String),
}

/// The stores the configuration watch fills.
#[derive(Clone)]
pub struct ConfigStores {
    pools: Store<Object<IPAddressPool>>,
    l2_advertisements: Store<Object<L2Advertisement>>,
    bgp_advertisements: Store<Object<BGPAdvertisement>>,
    peers: Store<Object<BGPPeer>>,
    bfd_profiles: Store<Object<BFDProfile>>,
    communities: Store<Object<Community>>,
    secrets: Store<Secret>,
    nodes: Store<PartialObjectMeta<Node>>,
    own_namespace: String,
}

/// What a status writer needs of a configuration object, whatever its kind and whether or not
/// it decoded.
#[derive(Debug, Clone)]
pub struct Header {
    /// Its name.
    pub name: String,
    /// Its metadata.generation.
    pub generation: Option<i64>,
    /// The resourceVersion it was read at.
    pub resource_version: Option<String>,
    /// Its status conditions.
    pub conditions: Vec<Condition>,
    /// A reference to it, for Events.
    pub reference: ObjectReference,
}

/// Every object of one configuration kind.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The kind.
    pub kind: Kind,
    /// Its API resource (for status writes).
    pub resource: ApiResource,
    /// Its objects.
    pub objects: Vec<Header>,
}

/// Starts the configuration watch; it progresses while `triggers` is polled, each change
/// yielding `item(kind)` (`Kind::Secret` for a Secret). `own_namespace` is where a
/// passwordSecret without namespace is looked up.
pub fn start<T: Clone + Send + 'static>(
    client: &Client,
    secrets: Secrets,
    own_namespace: &str,
    triggers: &mut Triggers<T>,
    item: impl Fn(Kind) -> T,
) -> ConfigStores {
    let (secrets_api, secrets_config) = match secrets {
        // Only basic-auth Secrets can hold a BGP password.
        Secrets::BasicAuth => {
            (Api::<Secret>::all(client.clone()), watcher::Config::default().fields(&format!("type={BASIC_AUTH}")))
        }
        Secrets::Namespace(ns) => (Api::<Secret>::namespaced(client.clone(), &ns), watcher::Config::default()),
    };
    let (secrets, writer) = reflector::store();
    let stream = watcher(secrets_api, secrets_config)
        .default_backoff()
        .modify(|secret| {
            // Most of an object's size, and nothing here reads them.
            secret.managed_fields_mut().clear();
            secret.annotations_mut().remove("kubectl.kubernetes.io/last-applied-configuration");
        })
        .reflect(writer);
    triggers::add(triggers, Kind::Secret, item(Kind::Secret), stream);
    let nodes = watch_node_labels(client, triggers, item(Kind::Node));
    ConfigStores {
        pools: watch_kind(client, Kind::IPAddressPool, triggers, &item),
        l2_advertisements: watch_kind(client, Kind::L2Advertisement, triggers, &item),
        bgp_advertisements: watch_kind(client, Kind::BGPAdvertisement, triggers, &item),
        peers: watch_kind(client, Kind::BGPPeer, triggers, &item),
        bfd_profiles: watch_kind(client, Kind::BFDProfile, triggers, &item),
        communities: watch_kind(client, Kind::Community, triggers, &item),
        secrets,
        nodes,
        own_namespace: own_namespace.to_owned(),
    }
}

/// Watches the Nodes' metadata; only a change of some Node's labels (or the Node appearing or
/// going) wakes `triggers`.
fn watch_node_labels<T: Clone + Send + 'static>(
    client: &Client,
    triggers: &mut Triggers<T>,
    item: T,
) -> Store<PartialObjectMeta<Node>> {
    let (store, writer) = reflector::store();
    let mut seen: HashMap<String, Option<std::collections::BTreeMap<String, String>>> = HashMap::new();
    let stream = watcher(Api::<PartialObjectMeta<Node>>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .modify(|node| node.managed_fields_mut().clear())
        .reflect(writer)
        .filter(move |event| {
            future::ready(match event {
                Ok(watcher::Event::Apply(node)) => {
                    seen.insert(node.name_any(), node.metadata.labels.clone()).as_ref() != Some(&node.metadata.labels)
                }
                Ok(watcher::Event::Delete(node)) => {
                    seen.remove(&node.name_any());
                    true
                }
                Ok(watcher::Event::InitApply(node)) => {
                    seen.insert(node.name_any(), node.metadata.labels.clone());
                    false
                }
                Ok(watcher::Event::Init) => {
                    seen.clear();
                    false
                }
                Ok(watcher::Event::InitDone) | Err(_) => true,
            })
        });
    triggers::add(triggers, Kind::Node, item, stream);
    store
}

fn watch_kind<K, T>(
    client: &Client,
    kind: Kind,
    triggers: &mut Triggers<T>,
    item: impl Fn(Kind) -> T,
) -> Store<Object<K>>
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + DeserializeOwned + Send + Sync + 'static,
    T: Clone + Send + 'static,
{
    let (store, writer) = reflector::store();
    let stream =
        watcher(Api::<Object<K>>::all(client.clone()), watcher::Config::default()).default_backoff().reflect(writer);
    triggers::add(triggers, kind, item(kind), stream);
    store
}

/// The objects of `store` that decoded; each one that did not adds its problem to `refused`.
fn parsed<K: Resource<DynamicType = ()> + Clone>(
    kind: Kind,
    store: &Store<Object<K>>,
    refused: &mut Vec<(ObjectRef, Problem)>,
) -> Vec<K> {
    let objects = store.state();
    let mut out = Vec::with_capacity(objects.len());
    for object in objects {
        match &object.parsed {
            Ok(parsed) => out.push(parsed.clone()),
            Err(error) => refused.push(undecodable(kind, &object.name_any(), error)),
        }
    }
    out
}

fn listing<K: Resource<DynamicType = ()> + Clone>(kind: Kind, store: &Store<Object<K>>) -> Listing {
    let objects = store
        .state()
        .iter()
        .map(|o| Header {
            name: o.name_any(),
            generation: o.metadata.generation,
            resource_version: o.metadata.resource_version.clone(),
            conditions: o.conditions.clone(),
            reference: o.object_ref(&()),
        })
        .collect();
    Listing { kind, resource: ApiResource::erase::<K>(&()), objects }
}

fn listed<K: Resource + Clone + 'static>(store: &Store<K>) -> bool
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    // Never waits: the watches only progress while their triggers are polled.
    store.wait_until_ready().now_or_never().is_some()
}

impl ConfigStores {
    /// Whether every watch has listed once. Judge nothing before: a pool not yet listed would
    /// look missing.
    pub fn ready(&self) -> bool {
        listed(&self.pools)
            && listed(&self.l2_advertisements)
            && listed(&self.bgp_advertisements)
            && listed(&self.peers)
            && listed(&self.bfd_profiles)
            && listed(&self.communities)
            && listed(&self.secrets)
            && listed(&self.nodes)
    }

    /// Every object as read now, for `Config::from_objects`; basic-auth Secrets only.
    pub fn decoded(&self) -> Decoded {
        let mut refused = Vec::new();
        let secrets = self.secrets.state();
        let objects = Objects {
            pools: parsed(Kind::IPAddressPool, &self.pools, &mut refused),
            l2_advertisements: parsed(Kind::L2Advertisement, &self.l2_advertisements, &mut refused),
            bgp_advertisements: parsed(Kind::BGPAdvertisement, &self.bgp_advertisements, &mut refused),
            peers: parsed(Kind::BGPPeer, &self.peers, &mut refused),
            bfd_profiles: parsed(Kind::BFDProfile, &self.bfd_profiles, &mut refused),
            communities: parsed(Kind::Community, &self.communities, &mut refused),
            secrets: secrets
                .iter()
                .filter(|s| s.type_.as_deref() == Some(BASIC_AUTH))
                .filter_map(|s| secret_data(s))
                .collect(),
            own_namespace: self.own_namespace.clone(),
            nodes: self
                .nodes
                .state()
                .iter()
                .map(|node| NodeLabels {
                    name: node.name_any(),
                    labels: node.metadata.labels.clone().unwrap_or_default(),
                })
                .collect(),
        };
        Decoded { objects, undecodable: refused }
    }

    /// The watched Secrets (the speaker reads its member key among them).
    pub fn secrets(&self) -> &Store<Secret> {
        &self.secrets
    }

    /// Every configuration object, by kind, as its status writer sees it.
    pub fn listings(&self) -> Vec<Listing> {
        vec![
            listing(Kind::IPAddressPool, &self.pools),
            listing(Kind::L2Advertisement, &self.l2_advertisements),
            listing(Kind::BGPAdvertisement, &self.bgp_advertisements),
            listing(Kind::BGPPeer, &self.peers),
            listing(Kind::BFDProfile, &self.bfd_profiles),
            listing(Kind::Community, &self.communities),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::store::Writer;
    use serde_json::json;

    fn filled<K>(objects: Vec<K>) -> Store<K>
    where
        K: Resource<DynamicType = ()> + Clone + 'static,
    {
        let mut writer = Writer::<K>::default();
        writer.apply_watcher_event(&watcher::Event::Init);
        for o in objects {
            writer.apply_watcher_event(&watcher::Event::InitApply(o));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        writer.as_reader()
    }

    fn stores(pools: Vec<Object<IPAddressPool>>, secrets: Vec<Secret>) -> ConfigStores {
        ConfigStores {
            pools: filled(pools),
            l2_advertisements: filled(vec![]),
            bgp_advertisements: filled(vec![]),
            peers: filled(vec![]),
            bfd_profiles: filled(vec![]),
            communities: filled(vec![]),
            secrets: filled(secrets),
            nodes: filled(vec![]),
            own_namespace: "ferrolb-system".into(),
        }
    }

    fn pool(value: serde_json::Value) -> Object<IPAddressPool> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_broken_object_is_refused_alone() {
        let good = pool(json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "good", "managedFields": [{"manager": "kubectl"}]},
            "spec": {"addresses": ["203.0.113.0/24"]}}));
        let bad = pool(json!({"apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": "bad", "generation": 2},
            "spec": {"addresses": "203.0.113.0/24"},
            "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                                       "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}));
        assert!(good.metadata.managed_fields.is_none(), "managedFields are dropped");
        let s = stores(vec![good, bad], vec![]);
        assert!(s.ready());
        let d = s.decoded();
        assert_eq!(d.objects.pools.len(), 1);
        assert_eq!(d.undecodable.len(), 1);
        assert_eq!(d.undecodable[0].0, ObjectRef::new(Kind::IPAddressPool, "bad"));
        assert!(
            d.undecodable[0].1.message.contains("cannot be read as a IPAddressPool"),
            "{}",
            d.undecodable[0].1.message
        );
        // The undecodable one still has what its status writer needs.
        let pools = s.listings().into_iter().find(|l| l.kind == Kind::IPAddressPool).unwrap();
        let bad = pools.objects.iter().find(|h| h.name == "bad").unwrap();
        assert_eq!((bad.generation, bad.conditions.len()), (Some(2), 1));
        assert_eq!(bad.reference.kind.as_deref(), Some("IPAddressPool"));
        assert_eq!(pools.resource.plural, "ipaddresspools");
    }

    #[test]
    fn only_basic_auth_secrets_count_and_their_bytes_are_used_as_they_arrive() {
        let secret = |name: &str, type_: &str| -> Secret {
            serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ferrolb-system"}, "type": type_,
                                          "data": {"password": "czNjcjN0"}}))
            .unwrap()
        };
        let s = stores(vec![], vec![secret("peer", BASIC_AUTH), secret("ferrolb-memberlist", "Opaque")]);
        let secrets = s.decoded().objects.secrets;
        assert_eq!(secrets.len(), 1);
        assert_eq!((secrets[0].name.as_str(), secrets[0].password.as_deref()), ("peer", Some("s3cr3t")));
        assert_eq!(s.secrets().state().len(), 2, "the member key stays readable");
    }
}
