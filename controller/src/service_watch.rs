//! The kube edge of address assignment: watches Services and Namespaces, takes each new
//! Config from the configuration loop, asks the pure planner what every served Service should
//! have, and (while leading) writes the difference: status, pool annotation, Events, and the
//! pools' counters. It decides nothing itself.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::RequestSource;
use ferrolb_core::config::Config;
use ferrolb_crds::IPAddressPool;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::allocator::{Allocator, Labels};
use crate::config_watch::MANAGER;
use crate::events::{Event, Publisher};
use crate::http::Health;
use crate::metrics::{ErrorLabels, PoolLabels};
use crate::services::plan::{View, plan};
use crate::services::spec::{ClassPolicy, Served, served, status_ips};
use crate::services::status::{CONDITION, Current, POOL_ANNOTATION, desired, write};
use crate::triggers::{self, Triggers};

const DEBOUNCE: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_millis(25);
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
}

fn watch_all<K>(client: &Client, triggers: &mut Triggers, slim: fn(&mut K)) -> Store<K>
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
    triggers::add(triggers, K::kind(&()).to_string(), stream);
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

/// What a Service shows, as far as FerroLB is concerned.
fn shown(svc: &Service) -> Current {
    Current {
        ips: status_ips(svc),
        pools: svc.annotations().get(POOL_ANNOTATION).cloned(),
        condition: our_condition(svc),
    }
}

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
            let current = shown(svc);
            let ours = current.written_by_ferrolb();
            (current, ours)
        }
    }
}

/// Assigns addresses until `shutdown` fires.
pub async fn run(client: Client, mut ctx: Context, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut triggers = Triggers::new();
    let services: Store<Service> = watch_all(&client, &mut triggers, slim_service);
    let namespaces: Store<Namespace> = watch_all(&client, &mut triggers, |ns| {
        ns.spec = None;
        ns.status = None;
        ns.metadata.annotations = None;
    });
    let recorder = Publisher::new(client.clone(), MANAGER);
    let mut written = Written::new();
    let mut counted: BTreeMap<String, [Option<i64>; 4]> = BTreeMap::new();
    let mut have_config = false;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            next = triggers.next() => if next.is_none() { return Ok(()) },
            changed = ctx.configs.changed() => { if changed.is_err() { return Ok(()) } have_config = true; },
            changed = ctx.leading.changed() => if changed.is_err() { return Ok(()) },
        }
        triggers::settle(&mut triggers, DEBOUNCE, MAX_DELAY).await;
        let listed = services.wait_until_ready().now_or_never().is_some()
            && namespaces.wait_until_ready().now_or_never().is_some();
        let leading = *ctx.leading.borrow_and_update();
        if !listed || !have_config || !leading {
            // A standby keeps nothing: on taking over it starts from what the statuses say.
            written.clear();
            counted.clear();
            continue;
        }
        let config = ctx.configs.borrow_and_update().clone();
        let took = std::time::Instant::now();
        let alloc = assign(&client, &recorder, &ctx, &config, &services, &namespaces, &mut written).await;
        write_pool_counts(&client, &ctx, &config, &alloc, &mut counted).await;
        debug!(took = ?took.elapsed(), services = services.state().len(), "addresses reconciled");
    }
}

async fn assign(
    client: &Client,
    recorder: &Publisher,
    ctx: &Context,
    config: &Config,
    services: &Store<Service>,
    namespaces: &Store<Namespace>,
    written: &mut Written,
) -> Allocator {
    let labels: HashMap<String, Labels> = namespaces
        .state()
        .iter()
        .map(|n| (n.name_any(), Labels::new(n.metadata.labels.clone().unwrap_or_default())))
        .collect();
    let no_labels = Labels::default();
    let labels_of = |ns: &str| labels.get(ns).unwrap_or(&no_labels);
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
                if has_our_condition(&svc) {
                    forget(client, &svc).await;
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
        let source = request.requested_from.map(|s| match s {
            RequestSource::Annotation(key) => key,
            RequestSource::LoadBalancerIp => "spec.loadBalancerIP",
        });
        let aliases: Vec<String> = request.aliases.iter().map(ToString::to_string).collect();
        let want = desired(&outcome, source);
        let not_kept: Vec<String> = outcome
            .not_kept
            .iter()
            .map(|(ip, why)| format!("{ip}, which its status held, is not kept: {why}"))
            .collect();
        let change = write(&want, current, svc.metadata.generation, &aliases, &not_kept, &now)?;
        Some((svc.clone(), change, want.pools.unwrap_or_default()))
    });
    // Writes go out concurrently: one round trip each, thousands at a start-up.
    let results: Vec<Option<(String, WrittenStatus)>> = futures::stream::iter(changes)
        .map(|(svc, change, pools)| {
            let span = info_span!("service", service = %format!("{}/{}", svc.namespace().unwrap_or_default(), svc.name_any()), pool = %pools);
            apply_write(client, recorder, ctx, svc, change).instrument(span)
        })
        .buffer_unordered(WRITERS)
        .collect()
        .await;
    written.extend(results.into_iter().flatten());
    alloc
}

fn our_condition(svc: &Service) -> Option<Condition> {
    svc.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == CONDITION).cloned()
}

fn has_our_condition(svc: &Service) -> bool {
    our_condition(svc).is_some() || svc.annotations().contains_key(POOL_ANNOTATION)
}

/// Writes one Service's change; returns (uid, (base resourceVersion, what it shows)) when it
/// was written.
async fn apply_write(
    client: &Client,
    recorder: &Publisher,
    ctx: &Context,
    svc: Arc<Service>,
    change: crate::services::status::Write,
) -> Option<(String, WrittenStatus)> {
    let name = svc.name_any();
    let api: Api<Service> = Api::namespaced(client.clone(), &svc.namespace().unwrap_or_default());
    let pp = PatchParams::apply(MANAGER).force();
    let shows = &change.shows;
    let ingress: Vec<_> = shows.ips.iter().map(|ip| json!({"ip": ip.to_string(), "ipMode": "VIP"})).collect();
    // The status subresource takes metadata too: one request writes the annotation, the
    // ingress and the condition. Leaving the annotation out removes it (we own it).
    let annotations = shows.pools.as_ref().map_or_else(|| json!({}), |p| json!({POOL_ANNOTATION: p}));
    let patch = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"annotations": annotations},
        "status": {"loadBalancer": {"ingress": ingress}, "conditions": [&shows.condition]}});
    match api.patch_status(&name, &pp, &Patch::Apply(&patch)).await {
        Ok(_) => {
            if let Some(c) = &shows.condition {
                info!(addresses = ?shows.ips, reason = %c.reason, message = %c.message, "status written");
            }
        }
        Err(error) => {
            ctx.health.metrics.errors.get_or_create(&ErrorLabels { reason: "ServiceStatusWrite".into() }).inc();
            warn!(%error, "writing the Service status failed; retried on the next change");
            return None;
        }
    }
    for e in change.events {
        let event = Event { warning: e.warning, reason: e.reason, note: e.note, action: "Assign" };
        if let Err(error) = recorder.publish(&event, &svc.object_ref(&())).await {
            warn!(%error, "recording an Event failed");
        }
    }
    let base = svc.metadata.resource_version.clone().unwrap_or_default();
    Some((svc.metadata.uid.clone().unwrap_or_default(), (base, change.shows)))
}

/// Takes FerroLB's marks off a Service it no longer serves (its class or type changed).
async fn forget(client: &Client, svc: &Service) {
    let api: Api<Service> = Api::namespaced(client.clone(), &svc.namespace().unwrap_or_default());
    let pp = PatchParams::apply(MANAGER).force();
    // Applying nothing under our field manager removes every field it owned.
    let empty = json!({"apiVersion": "v1", "kind": "Service"});
    let _ = api.patch_status(&svc.name_any(), &pp, &Patch::Apply(&empty)).await;
    let _ = api.patch(&svc.name_any(), &pp, &Patch::Apply(&empty)).await;
    info!(service = %format!("{}/{}", svc.namespace().unwrap_or_default(), svc.name_any()), "no longer served: FerroLB's status and annotation removed");
}

/// Writes each pool's assigned/available counters when they change, and the metrics.
async fn write_pool_counts(
    client: &Client,
    ctx: &Context,
    config: &Config,
    alloc: &Allocator,
    counted: &mut BTreeMap<String, [Option<i64>; 4]>,
) {
    let api: Api<IPAddressPool> = Api::all(client.clone());
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
            Err(error) => warn!(pool = %name, %error, "writing the pool's counters failed"),
        }
    }
}
