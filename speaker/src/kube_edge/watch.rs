//! The speaker's watches: the six configuration kinds and the Secrets of FerroLB's namespace (BGP
//! passwords and the member keys), through ferrolb-kube's configuration watch, and Nodes, each
//! cached in a reflector store; and Services and EndpointSlices, read into the announcer's small
//! views as they arrive and not kept. All are merged into one stream of [`Update`]s.
//!
//! Why two ways: a cluster has a handful of configuration objects and Nodes, but may have tens of
//! thousands of Services and EndpointSlices. A full `Service` or `EndpointSlice` object costs
//! kilobytes in memory; the view the announcer needs costs a few hundred bytes, and the announcer
//! already keeps it. Caching the objects as well cost the speaker most of its memory at scale:
//! at 10,000 Services its RSS went from 140 MiB to 67 MiB when the caches went (the rest of the
//! way to under 40 MiB is in docs/bgp.md).
//!
//! I/O, thin: it decides nothing. Watch errors are logged and retried by the watcher's backoff;
//! the stores and the announcer keep their last contents meanwhile, so the speaker goes on
//! deciding from the last known state while the API server is away. A relist (after a watch
//! expired) arrives as one [`Delta::Relisted`], so the announcer never sees a half-listed state.

use std::fmt;

use ferrolb_core::announcer::{ClassPolicy, EndpointSliceView, ServiceKey, ServiceView, SliceKey};
use ferrolb_core::announcer::{endpoint_slice_view, service_view};
use ferrolb_core::config::Kind;
use ferrolb_kube::config_watch::{self, ConfigStores, Secrets};
use ferrolb_kube::resync;
use ferrolb_kube::triggers::{self, Triggers};
use futures::{FutureExt, StreamExt, future};
use k8s_openapi::api::core::v1::{Node, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
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
    /// The periodic resync: nothing changed, look again.
    Resync,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Config(kind) => write!(f, "{kind}"),
            Source::Secrets => f.write_str("Secret"),
            Source::Services => f.write_str("Service"),
            Source::Slices => f.write_str("EndpointSlice"),
            Source::Nodes => f.write_str("Node"),
            Source::Resync => f.write_str("resync"),
        }
    }
}

/// A change to a kind read into views: the objects themselves are not kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta<K, V> {
    /// An object was added or changed, and reads as this view.
    Apply(K, V),
    /// An object was deleted, or no longer concerns FerroLB (e.g. a Service that stopped being
    /// of type LoadBalancer).
    Remove(K),
    /// The watch (re)listed: these are all the objects there are.
    Relisted(Vec<(K, V)>),
}

/// What one watch reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A cached kind changed: read it from [`Stores`].
    Changed(Source),
    /// Services FerroLB serves, as the announcer's views.
    Services(Delta<ServiceKey, ServiceView>),
    /// EndpointSlices, as the announcer's views.
    Slices(Delta<SliceKey, EndpointSliceView>),
}

impl Update {
    /// The source it came from.
    pub fn source(&self) -> Source {
        match self {
            Update::Changed(source) => *source,
            Update::Services(_) => Source::Services,
            Update::Slices(_) => Source::Slices,
        }
    }
}

/// The caches the watches fill.
pub struct Stores {
    /// The configuration kinds and the Secrets of FerroLB's namespace, decoded one by one.
    pub config: ConfigStores,
    /// Secrets of FerroLB's namespace (the member keys are among them): the configuration
    /// watch's store.
    pub secrets: Store<Secret>,
    /// Nodes.
    pub nodes: Store<Node>,
}

impl Stores {
    /// Whether every cached watch has listed once.
    pub fn ready(&self) -> bool {
        self.config.ready() && self.nodes.wait_until_ready().now_or_never().is_some()
    }
}

fn watch_typed<K>(api: Api<K>, config: watcher::Config, source: Source, triggers: &mut Triggers<Update>) -> Store<K>
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
    triggers::add(triggers, source, Update::Changed(source), stream);
    store
}

/// Watches a kind that is read into views and not cached. `read` names an object and reads its
/// view, `None` when it does not concern FerroLB (it is then removed); unnamed objects are
/// skipped. `wrap` makes the delta an [`Update`].
fn watch_views<K, Key, V>(
    api: Api<K>,
    config: watcher::Config,
    source: Source,
    read: impl Fn(&K) -> Option<(Key, Option<V>)> + Send + 'static,
    wrap: fn(Delta<Key, V>) -> Update,
    triggers: &mut Triggers<Update>,
) where
    K: Resource<DynamicType = ()> + Clone + fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    Key: Send + 'static,
    V: Send + 'static,
{
    let mut deltas = Deltas::default();
    let stream = watcher(api, config)
        .default_backoff()
        .filter_map(move |event| {
            let delta = match event {
                Ok(event) => deltas.on(read_event(event, &read)),
                Err(error) => {
                    warn!(kind = %source, %error, "watch failed; retrying");
                    None
                }
            };
            future::ready(delta.map(wrap))
        })
        .boxed();
    triggers.push(stream);
}

fn read_event<K, R>(event: watcher::Event<K>, read: impl Fn(&K) -> R) -> watcher::Event<R> {
    match event {
        watcher::Event::Apply(obj) => watcher::Event::Apply(read(&obj)),
        watcher::Event::Delete(obj) => watcher::Event::Delete(read(&obj)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(obj) => watcher::Event::InitApply(read(&obj)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

/// Turns watch events, already read (`None`: unnamed; `Some((key, None))`: not FerroLB's),
/// into [`Delta`]s: a listing is gathered until it is complete.
struct Deltas<Key, V> {
    listing: Option<Vec<(Key, V)>>,
}

impl<Key, V> Default for Deltas<Key, V> {
    fn default() -> Self {
        Deltas { listing: None }
    }
}

impl<Key, V> Deltas<Key, V> {
    fn on(&mut self, event: watcher::Event<Option<(Key, Option<V>)>>) -> Option<Delta<Key, V>> {
        match event {
            watcher::Event::Init => {
                self.listing = Some(Vec::new());
                None
            }
            watcher::Event::InitApply(read) => {
                if let (Some(listed), Some((key, Some(view)))) = (self.listing.as_mut(), read) {
                    listed.push((key, view));
                }
                None
            }
            watcher::Event::InitDone => Some(Delta::Relisted(self.listing.take().unwrap_or_default())),
            watcher::Event::Apply(read) => read.map(|(key, view)| match view {
                Some(view) => Delta::Apply(key, view),
                None => Delta::Remove(key),
            }),
            watcher::Event::Delete(read) => read.map(|(key, _)| Delta::Remove(key)),
        }
    }
}

/// A Service's key, and its view when FerroLB serves it.
fn read_service(svc: &Service, class: &ClassPolicy) -> Option<(ServiceKey, Option<ServiceView>)> {
    let key = ServiceKey::new(svc.metadata.namespace.clone()?, svc.metadata.name.clone()?);
    Some((key, service_view(svc, class).ok()))
}

/// An EndpointSlice's key, and its view when it names its Service.
fn read_slice(slice: &EndpointSlice) -> Option<(SliceKey, Option<EndpointSliceView>)> {
    let key = SliceKey::new(slice.metadata.namespace.clone()?, slice.metadata.name.clone()?);
    Some((key, endpoint_slice_view(slice).ok().map(|(_, view)| view)))
}

/// Starts every watch, and the resync clock (every [`resync::PERIOD`], a [`Source::Resync`]);
/// they progress while the returned [`Triggers`] are polled. Services are
/// read with `class`: those FerroLB does not serve never reach the announcer.
pub fn start(client: &Client, namespace: &str, class: &ClassPolicy) -> (Stores, Triggers<Update>) {
    let mut triggers = Triggers::new();
    let config =
        config_watch::start(client, Secrets::Namespace(namespace.to_owned()), namespace, &mut triggers, |kind| {
            Update::Changed(if kind == Kind::Secret { Source::Secrets } else { Source::Config(kind) })
        });
    let all = watcher::Config::default().any_semantic();
    let class = class.clone();
    watch_views(
        Api::<Service>::all(client.clone()),
        all.clone(),
        Source::Services,
        move |svc| read_service(svc, &class),
        Update::Services,
        &mut triggers,
    );
    watch_views(
        Api::<EndpointSlice>::all(client.clone()),
        all.clone(),
        Source::Slices,
        read_slice,
        Update::Slices,
        &mut triggers,
    );
    triggers.push(resync::ticks(resync::PERIOD).map(|()| Update::Changed(Source::Resync)).boxed());
    let stores = Stores {
        secrets: config.secrets().clone(),
        config,
        nodes: watch_typed(Api::<Node>::all(client.clone()), all, Source::Nodes, &mut triggers),
    };
    (stores, triggers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_arrives_whole_and_changes_one_by_one() {
        use watcher::Event::*;
        let mut d: Deltas<&str, u32> = Deltas::default();
        assert_eq!(d.on(Init), None);
        assert_eq!(d.on(InitApply(Some(("a", Some(1))))), None);
        // Not FerroLB's, or unnamed: not listed.
        assert_eq!(d.on(InitApply(Some(("b", None)))), None);
        assert_eq!(d.on(InitApply(None)), None);
        assert_eq!(d.on(InitApply(Some(("c", Some(3))))), None);
        assert_eq!(d.on(InitDone), Some(Delta::Relisted(vec![("a", 1), ("c", 3)])));
        assert_eq!(d.on(Apply(Some(("a", Some(2))))), Some(Delta::Apply("a", 2)));
        // A Service that stops being FerroLB's is removed; an unnamed object is ignored.
        assert_eq!(d.on(Apply(Some(("c", None)))), Some(Delta::Remove("c")));
        assert_eq!(d.on(Apply(None)), None);
        assert_eq!(d.on(Delete(Some(("a", Some(2))))), Some(Delta::Remove("a")));
        // A relist starts from nothing.
        assert_eq!(d.on(Init), None);
        assert_eq!(d.on(InitDone), Some(Delta::Relisted(vec![])));
    }
}
