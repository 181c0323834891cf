//! The speaker's watches: the six configuration kinds, the Secrets of FerroLB's namespace (BGP
//! passwords and the member keys), Services, EndpointSlices and Nodes, each cached in a reflector
//! store, and all merged into one stream of "this source changed".
//!
//! I/O, thin: it decides nothing. Watch errors are logged and retried by the watcher's backoff;
//! the stores keep their last contents meanwhile, so the speaker goes on deciding from the last
//! known state while the API server is away.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use ferrolb_core::config::Kind;
use ferrolb_core::config_objects::Raw;
use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, Stream, StreamExt, future};
use k8s_openapi::api::core::v1::{Node, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::Value;
use tracing::warn;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A configuration kind.
    Config(Kind),
    /// A Secret in FerroLB's namespace.
    Secrets,
    /// A Service.
    Services,
    /// An EndpointSlice.
    Slices,
    /// A Node.
    Nodes,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Config(kind) => write!(f, "{kind}"),
            Source::Secrets => f.write_str("Secret"),
            Source::Services => f.write_str("Service"),
            Source::Slices => f.write_str("EndpointSlice"),
            Source::Nodes => f.write_str("Node"),
        }
    }
}

/// Every watch, merged: each item names the source that changed.
pub type Triggers = SelectAll<BoxStream<'static, Source>>;

/// The caches the watches fill.
pub struct Stores {
    /// The configuration kinds, as dynamic objects (core decodes them).
    pub config: Vec<(Kind, Store<DynamicObject>)>,
    /// Secrets of FerroLB's namespace.
    pub secrets: Store<Secret>,
    /// Services, all namespaces.
    pub services: Store<Service>,
    /// EndpointSlices, all namespaces.
    pub slices: Store<EndpointSlice>,
    /// Nodes.
    pub nodes: Store<Node>,
}

impl Stores {
    /// Whether every watch has listed once.
    pub fn ready(&self) -> bool {
        let config = self.config.iter().all(|(_, s)| s.wait_until_ready().now_or_never().is_some());
        config
            && self.secrets.wait_until_ready().now_or_never().is_some()
            && self.services.wait_until_ready().now_or_never().is_some()
            && self.slices.wait_until_ready().now_or_never().is_some()
            && self.nodes.wait_until_ready().now_or_never().is_some()
    }

    /// The configuration objects as JSON values, for core's decoder; only basic-auth Secrets can
    /// hold a BGP password.
    pub fn raw_config(&self) -> Raw {
        let by_kind = |k: Kind| {
            self.config
                .iter()
                .find(|(kind, _)| *kind == k)
                .map(|(_, store)| values(store.state().iter().map(|o| o.as_ref())))
                .unwrap_or_default()
        };
        let secrets = self.secrets.state();
        let basic_auth = secrets.iter().filter(|s| s.type_.as_deref() == Some("kubernetes.io/basic-auth"));
        Raw {
            pools: by_kind(Kind::IPAddressPool),
            l2_advertisements: by_kind(Kind::L2Advertisement),
            bgp_advertisements: by_kind(Kind::BGPAdvertisement),
            peers: by_kind(Kind::BGPPeer),
            bfd_profiles: by_kind(Kind::BFDProfile),
            communities: by_kind(Kind::Community),
            secrets: values(basic_auth.map(|s| s.as_ref())),
        }
    }
}

fn values<'a, T: serde::Serialize + 'a>(objects: impl Iterator<Item = &'a T>) -> Vec<Value> {
    objects.filter_map(|o| serde_json::to_value(o).ok()).collect()
}

fn add<S, T, E>(triggers: &mut Triggers, source: Source, stream: S)
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    E: fmt::Display,
{
    let stream = stream
        .filter_map(move |event| {
            future::ready(match event {
                Ok(_) => Some(source),
                Err(error) => {
                    warn!(kind = %source, %error, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed();
    triggers.push(stream);
}

fn watch_typed<K>(api: Api<K>, config: watcher::Config, source: Source, triggers: &mut Triggers) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .modify(|obj| {
            // managedFields are most of an object's size and nothing here reads them.
            obj.managed_fields_mut().clear();
            if let Some(annotations) = obj.meta_mut().annotations.as_mut() {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        })
        .reflect(writer);
    add(triggers, source, stream);
    store
}

fn watch_config(client: &Client, kind: Kind, resource: ApiResource, triggers: &mut Triggers) -> Store<DynamicObject> {
    let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
    let writer = Writer::new(resource);
    let store = writer.as_reader();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|obj| obj.managed_fields_mut().clear())
        .reflect(writer);
    add(triggers, Source::Config(kind), stream);
    store
}

/// Starts every watch; they progress while the returned [`Triggers`] are polled.
pub fn start(client: &Client, namespace: &str) -> (Stores, Triggers) {
    let mut triggers = Triggers::new();
    let config = vec![
        (Kind::IPAddressPool, ApiResource::erase::<IPAddressPool>(&())),
        (Kind::L2Advertisement, ApiResource::erase::<L2Advertisement>(&())),
        (Kind::BGPAdvertisement, ApiResource::erase::<BGPAdvertisement>(&())),
        (Kind::BGPPeer, ApiResource::erase::<BGPPeer>(&())),
        (Kind::BFDProfile, ApiResource::erase::<BFDProfile>(&())),
        (Kind::Community, ApiResource::erase::<Community>(&())),
    ]
    .into_iter()
    .map(|(kind, resource)| (kind, watch_config(client, kind, resource, &mut triggers)))
    .collect();
    let all = watcher::Config::default().any_semantic();
    let stores = Stores {
        config,
        secrets: watch_typed(
            Api::<Secret>::namespaced(client.clone(), namespace),
            watcher::Config::default(),
            Source::Secrets,
            &mut triggers,
        ),
        services: watch_typed(Api::<Service>::all(client.clone()), all.clone(), Source::Services, &mut triggers),
        slices: watch_typed(Api::<EndpointSlice>::all(client.clone()), all.clone(), Source::Slices, &mut triggers),
        nodes: watch_typed(Api::<Node>::all(client.clone()), all, Source::Nodes, &mut triggers),
    };
    (stores, triggers)
}

/// Changes gathered since the last rebuild, and when the rebuild is due.
#[derive(Debug, Default)]
pub struct Pending {
    /// The sources that changed.
    pub sources: BTreeSet<Source>,
    first: Option<tokio::time::Instant>,
    due: Option<tokio::time::Instant>,
}

impl Pending {
    /// Records a change at `now`: the rebuild waits `quiet` for more, but no longer than `at_most`
    /// after the first.
    pub fn add(&mut self, source: Source, now: tokio::time::Instant, quiet: Duration, at_most: Duration) {
        self.sources.insert(source);
        let first = *self.first.get_or_insert(now);
        self.due = Some((now + quiet).min(first + at_most));
    }

    /// When the rebuild is due, if anything changed.
    pub fn due(&self) -> Option<tokio::time::Instant> {
        self.due
    }

    /// Takes the gathered sources and starts over.
    pub fn take(&mut self) -> BTreeSet<Source> {
        self.first = None;
        self.due = None;
        std::mem::take(&mut self.sources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_gathered_but_never_delayed_past_the_bound() {
        let t0 = tokio::time::Instant::now();
        let (quiet, at_most) = (Duration::from_millis(5), Duration::from_millis(25));
        let mut p = Pending::default();
        assert_eq!(p.due(), None);
        p.add(Source::Services, t0, quiet, at_most);
        assert_eq!(p.due(), Some(t0 + quiet));
        p.add(Source::Nodes, t0 + Duration::from_millis(4), quiet, at_most);
        assert_eq!(p.due(), Some(t0 + Duration::from_millis(9)));
        p.add(Source::Services, t0 + Duration::from_millis(23), quiet, at_most);
        assert_eq!(p.due(), Some(t0 + at_most));
        assert_eq!(p.take(), [Source::Services, Source::Nodes].into());
        assert_eq!(p.due(), None);
        assert!(p.take().is_empty());
    }
}
