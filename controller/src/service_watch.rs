//! The kube edge of address assignment: watches Services and Namespaces, takes each new
//! Config from the configuration loop, asks the pure planner what every served Service should
//! have, and (while leading) writes the difference: status, pool annotation, Events, and the
//! pools' counters. It decides nothing itself: `services::plan` decides, `services::status`
//! words it.
//!
//! A Service's way: the watch ([`run`]) -> served or not (`services::spec`) -> the plan ->
//! [`status::planned`] (the write it needs, or none) -> [`apply_write`] (one patch, then its
//! Events). A write that fails is retried by the resync clock, on a backoff: the next pass
//! finds the Service still showing the old status and plans the same write again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ferrolb_core::addresses::Family;
use ferrolb_core::config::Config;
use ferrolb_crds::IPAddressPool;
use ferrolb_kube::events::Publisher;
use ferrolb_kube::names::CONTROLLER;
use ferrolb_kube::pace::Pace;
use ferrolb_kube::triggers::{self, Triggers};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::allocator::{Allocator, Labels};
use crate::metrics::{ErrorLabels, Health, PoolLabels};
use crate::services::plan::{View, plan};
use crate::services::spec::{ClassPolicy, Served, served};
use crate::services::status::{self, Current, forget_patch, has_our_marks, planned};

/// How long to gather changes that come soon after a pass before planning again, and the most a
/// burst may delay it (a change after a quiet spell is planned at once).
const QUIET: Duration = Duration::from_millis(5);
const AT_MOST: Duration = Duration::from_millis(25);
/// Service writes in flight at once.
const WRITERS: usize = 32;

/// What the Service loop needs besides the client.
pub struct Context {
    /// Which loadBalancerClass FerroLB serves.
    pub class: ClassPolicy,
    /// Each new Config, from the configuration loop.
    pub configs: watch::Receiver<Config>,
    /// Whether this replica leads (only the leader writes).
    pub leading: watch::Receiver<bool>,
    /// Readiness and metrics.
    pub health: Arc<Health>,
    /// How often everything is looked at again (failed writes are retried sooner).
    pub resync: Duration,
}

/// What brings the Service loop back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Input {
    /// A Service or Namespace changed.
    Cluster,
    /// The configuration loop published a new Config.
    Config,
    /// This replica started or stopped leading.
    Leadership,
    /// The resync clock.
    Resync,
}

fn watch_all<K>(client: &Client, triggers: &mut Triggers<Option<Input>>, slim: fn(&mut K)) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let (store, writer) = reflector::store();
    // Lists are served from the apiserver's watch cache: one response, not a page per 500.
    let stream = watcher(Api::<K>::all(client.clone()), watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(move |obj| {
            // managedFields are most of an object's size and nothing here reads them.
            obj.managed_fields_mut().clear();
            slim(obj);
        })
        .reflect(writer);
    triggers::add(triggers, K::kind(&()).to_string(), Some(Input::Cluster), stream);
    store
}

/// Drops what the planner never reads from a cached Service, so that 10,000 of them stay
/// small: kubectl's last-applied copy of the whole object, and the ClusterIP fields.
fn slim_service(svc: &mut Service) {
    if let Some(annotations) = svc.metadata.annotations.as_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    if let Some(spec) = svc.spec.as_mut() {
        spec.cluster_ip = None;
        spec.cluster_ips = None;
        spec.session_affinity = None;
        spec.session_affinity_config = None;
        spec.internal_traffic_policy = None;
    }
}

/// What this replica last wrote, per Service uid, with the resourceVersion the write was
/// based on. While the cache still shows that version, our write is not visible yet and a
/// second pass must not take the stale status for the truth; once the object has moved on
/// (our write, or anyone's), the cache shows the truth again.
type Written = HashMap<String, WrittenStatus>;

/// The resourceVersion a write was based on, and what the Service shows once it lands.
type WrittenStatus = (String, Current);

/// What to take as a Service's state: what we wrote while that write is not visible yet (the
/// cache may lag, e.g. while a watch relists), else the Service's own; and whether FerroLB
/// wrote its addresses (its condition names each one).
fn effective(written: &mut Written, svc: &Service) -> (Current, bool) {
    let uid = svc.metadata.uid.as_deref().unwrap_or_default();
    match written.get(uid) {
        Some((base, current)) if svc.metadata.resource_version.as_deref() == Some(base.as_str()) => {
            (current.clone(), true)
        }
        _ => {
            written.remove(uid);
            let current = Current::of(svc);
            let ours = current.written_by_ferrolb();
            (current, ours)
        }
    }
}

/// Assigns addresses until `shutdown` fires.
pub async fn run(client: Client, mut ctx: Context, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut pace = Pace::new(QUIET, AT_MOST, ctx.resync, Input::Resync);
    let services: Store<Service> = watch_all(&client, pace.triggers(), slim_service);
    let namespaces: Store<Namespace> = watch_all(&client, pace.triggers(), |ns| {
        ns.spec = None;
        ns.status = None;
        ns.metadata.annotations = None;
    });
    pace.follow(ctx.configs.clone(), Input::Config);
    pace.follow(ctx.leading.clone(), Input::Leadership);
    let recorder = Publisher::new(client.clone(), CONTROLLER);
    let mut written = Written::new();
    let mut counted: BTreeMap<String, [Option<i64>; 4]> = BTreeMap::new();
    let mut have_config = false;
    while let Some(changed) = pace.next(&mut shutdown).await {
        have_config |= changed.contains(&Input::Config);
        let listed = services.wait_until_ready().now_or_never().is_some()
            && namespaces.wait_until_ready().now_or_never().is_some();
        let leading = *ctx.leading.borrow_and_update();
        if !listed || !have_config || !leading {
            // A standby keeps nothing: on taking over it starts from what the statuses say.
            written.clear();
            counted.clear();
            pace.succeeded();
            continue;
        }
        let config = ctx.configs.borrow_and_update().clone();
        let took = std::time::Instant::now();
        let (alloc, mut failed) = assign(&client, &recorder, &ctx, &config, &services, &namespaces, &mut written).await;
        failed += write_pool_counts(&client, &ctx, &config, &alloc, &mut counted).await;
        if failed == 0 {
            pace.succeeded();
        } else {
            warn!(failed, "some writes failed; retrying them shortly");
            pace.failed();
        }
        debug!(took = ?took.elapsed(), services = services.state().len(), "addresses reconciled");
    }
    Ok(())
}

/// Plans every served Service and writes what changed; forgets the Services no longer served.
/// Returns the allocator (for the pools' counters) and how many writes failed.
async fn assign(
    client: &Client,
    recorder: &Publisher,
    ctx: &Context,
    config: &Config,
    services: &Store<Service>,
    namespaces: &Store<Namespace>,
    written: &mut Written,
) -> (Allocator, usize) {
    let labels: HashMap<String, Labels> = namespaces
        .state()
        .iter()
        .map(|n| (n.name_any(), Labels::new(n.metadata.labels.clone().unwrap_or_default())))
        .collect();
    let no_labels = Labels::default();
    let labels_of = |ns: &str| labels.get(ns).unwrap_or(&no_labels);
    let mut failed = 0;
    // One entry per served Service, in the same order as `views`: the planner's outcomes
    // point back here by index, so nothing is cloned into lookup maps.
    let mut records: Vec<(Arc<Service>, Current)> = Vec::new();
    let mut views = Vec::new();
    for svc in services.state() {
        match served(&svc, labels_of(svc.metadata.namespace.as_deref().unwrap_or_default()), &ctx.class) {
            Served::Ours(spec) => {
                let created = svc.metadata.creation_timestamp.as_ref().map_or(i64::MAX, |t| t.0.as_second());
                let (current, written_by_us) = effective(written, &svc);
                views.push(View { spec: *spec, created, status_ips: current.ips.clone(), written_by_us });
                records.push((svc, current));
            }
            Served::NotOurs(_) => {
                if has_our_marks(&svc) && forget(client, &svc).await.is_err() {
                    failed += 1;
                }
            }
        }
    }
    let (outcomes, alloc) = plan(&config.pools, &views);
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    // Each write is decided as the stream reaches it, so only the writes in flight are held,
    // not one per Service (thousands at a start-up).
    let changes = outcomes.into_iter().filter_map(|outcome| {
        let (svc, current) = records.get(outcome.index)?;
        let request = &views.get(outcome.index)?.spec.request;
        let change = planned(&outcome, request, current, svc.metadata.generation, &now)?;
        Some((svc.clone(), change))
    });
    // Writes go out concurrently: one round trip each, thousands at a start-up.
    let results: Vec<Option<(String, WrittenStatus)>> = futures::stream::iter(changes)
        .map(|(svc, change)| {
            let pools = change.shows.pools.clone().unwrap_or_default();
            let span = info_span!("service", service = %key(&svc), pool = %pools);
            apply_write(client, recorder, ctx, svc, change).instrument(span)
        })
        .buffer_unordered(WRITERS)
        .collect()
        .await;
    failed += results.iter().filter(|r| r.is_none()).count();
    written.extend(results.into_iter().flatten());
    (alloc, failed)
}

/// `namespace/name`, for logs.
fn key(svc: &Service) -> String {
    format!("{}/{}", svc.namespace().unwrap_or_default(), svc.name_any())
}

/// Writes one Service's change, then records its Events; returns (uid, (base resourceVersion,
/// what it shows)) when it was written.
async fn apply_write(
    client: &Client,
    recorder: &Publisher,
    ctx: &Context,
    svc: Arc<Service>,
    change: status::Write,
) -> Option<(String, WrittenStatus)> {
    let api: Api<Service> = Api::namespaced(client.clone(), &svc.namespace().unwrap_or_default());
    let pp = PatchParams::apply(CONTROLLER).force();
    if let Err(error) = api.patch_status(&svc.name_any(), &pp, &Patch::Apply(&change.patch())).await {
        ctx.health.metrics.errors.get_or_create(&ErrorLabels { reason: "ServiceStatusWrite".into() }).inc();
        warn!(%error, "writing the Service status failed; retrying");
        return None;
    }
    if let Some(c) = &change.shows.condition {
        info!(addresses = ?change.shows.ips, reason = %c.reason, message = %c.message, "status written");
    }
    for event in &change.events {
        if let Err(error) = recorder.publish(event, &svc.object_ref(&())).await {
            warn!(%error, reason = %event.reason, "recording an Event failed");
        }
    }
    let base = svc.metadata.resource_version.clone().unwrap_or_default();
    Some((svc.metadata.uid.clone().unwrap_or_default(), (base, change.shows)))
}

/// Takes FerroLB's marks off a Service it no longer serves (its class or type changed): its
/// status (ingress, condition) and its pool annotation.
async fn forget(client: &Client, svc: &Service) -> Result<(), kube::Error> {
    let span = info_span!("service", service = %key(svc));
    async {
        let api: Api<Service> = Api::namespaced(client.clone(), &svc.namespace().unwrap_or_default());
        let pp = PatchParams::apply(CONTROLLER).force();
        let empty = forget_patch();
        let result = match api.patch_status(&svc.name_any(), &pp, &Patch::Apply(&empty)).await {
            Ok(_) => api.patch(&svc.name_any(), &pp, &Patch::Apply(&empty)).await.map_err(|e| ("pool annotation", e)),
            Err(e) => Err(("status", e)),
        };
        match result {
            Ok(_) => {
                info!("no longer served: FerroLB's status and annotation removed");
                Ok(())
            }
            Err((what, error)) => {
                warn!(%error, "no longer served, but removing FerroLB's {what} failed; retrying");
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

/// Writes each pool's assigned/available counters when they change, and the metrics. Returns
/// how many writes failed.
async fn write_pool_counts(
    client: &Client,
    ctx: &Context,
    config: &Config,
    alloc: &Allocator,
    counted: &mut BTreeMap<String, [Option<i64>; 4]>,
) -> usize {
    let api: Api<IPAddressPool> = Api::all(client.clone());
    let mut failed = 0;
    for name in config.pools.keys() {
        let Some(usage) = alloc.usage(name) else { continue };
        for (family, u) in [(Family::V4, usage.v4), (Family::V6, usage.v6)] {
            let labels = PoolLabels { pool: name.clone(), family: family.to_string().to_lowercase() };
            ctx.health.metrics.addresses.get_or_create(&labels).set(u.assigned.saturating_add(u.available));
            ctx.health.metrics.addresses_in_use.get_or_create(&labels).set(u.assigned);
        }
        let counts =
            [Some(usage.v4.assigned), Some(usage.v6.assigned), Some(usage.v4.available), Some(usage.v6.available)];
        if counted.get(name) == Some(&counts) {
            continue;
        }
        let patch = json!({"status": {"assignedIPv4": usage.v4.assigned, "assignedIPv6": usage.v6.assigned,
            "availableIPv4": usage.v4.available, "availableIPv6": usage.v6.available}});
        match api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => {
                counted.insert(name.clone(), counts);
            }
            Err(error) => {
                failed += 1;
                warn!(pool = %name, %error, "writing the pool's address counters failed; retrying");
            }
        }
    }
    failed
}
