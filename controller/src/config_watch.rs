//! The kube edge of configuration: watches the configuration kinds and basic-auth Secrets,
//! rebuilds the Config on every change (core decides), writes each object's Accepted
//! condition and records Events (config_status decides which). It decides nothing itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ferrolb_core::config::{Config, Kind, ObjectRef};
use ferrolb_core::config_objects::{Raw, decode};
use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::config_status::update;
use crate::events::{Event, Publisher};
use crate::http::Health;
use crate::metrics::{ErrorLabels, ObjectLabels};
use crate::triggers::{self, Triggers};

/// The field manager and Event reporter name.
pub const MANAGER: &str = "ferrolb-controller";
/// How long to gather further changes before rebuilding, and the most a burst may delay it.
const DEBOUNCE: Duration = Duration::from_millis(50);
const MAX_DELAY: Duration = Duration::from_millis(500);

struct Watched {
    kind: Kind,
    resource: ApiResource,
    store: Store<DynamicObject>,
}

fn watch(
    client: &Client,
    kind: Kind,
    resource: ApiResource,
    config: watcher::Config,
    triggers: &mut Triggers,
) -> Watched {
    let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
    let writer = Writer::new(resource.clone());
    let store = writer.as_reader();
    let stream = watcher(api, config)
        .default_backoff()
        // managedFields are most of an object's size and nothing here reads them.
        .modify(|obj| obj.managed_fields_mut().clear())
        .reflect(writer);
    triggers::add(triggers, kind, stream);
    Watched { kind, resource, store }
}

fn values(store: &Store<DynamicObject>) -> Vec<Value> {
    store.state().iter().filter_map(|o| serde_json::to_value(o.as_ref()).ok()).collect()
}

/// What the configuration loop needs besides the client.
pub struct Context {
    /// The namespace FerroLB runs in.
    pub own_namespace: String,
    /// Where each new Config is published.
    pub configs: watch::Sender<Config>,
    /// Whether this replica leads (only the leader writes).
    pub leading: watch::Receiver<bool>,
    /// Readiness and metrics.
    pub health: Arc<Health>,
}

/// Watches configuration until `shutdown` fires, publishing each new Config, and (while
/// leading) writing each object's Accepted condition.
pub async fn run(client: Client, mut ctx: Context, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut triggers = Triggers::new();
    let all = watcher::Config::default();
    let kinds = vec![
        watch(&client, Kind::IPAddressPool, ApiResource::erase::<IPAddressPool>(&()), all.clone(), &mut triggers),
        watch(&client, Kind::L2Advertisement, ApiResource::erase::<L2Advertisement>(&()), all.clone(), &mut triggers),
        watch(&client, Kind::BGPAdvertisement, ApiResource::erase::<BGPAdvertisement>(&()), all.clone(), &mut triggers),
        watch(&client, Kind::BGPPeer, ApiResource::erase::<BGPPeer>(&()), all.clone(), &mut triggers),
        watch(&client, Kind::BFDProfile, ApiResource::erase::<BFDProfile>(&()), all.clone(), &mut triggers),
        watch(&client, Kind::Community, ApiResource::erase::<Community>(&()), all.clone(), &mut triggers),
    ];
    // Only basic-auth Secrets can hold a BGP password.
    let secrets = watch(
        &client,
        Kind::Secret,
        ApiResource::erase::<Secret>(&()),
        all.fields("type=kubernetes.io/basic-auth"),
        &mut triggers,
    );
    let recorder = Publisher::new(client.clone(), MANAGER);

    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            next = triggers.next() => if next.is_none() { return Ok(()) },
            // A new leader writes whatever its predecessor left undone.
            changed = ctx.leading.changed() => if changed.is_err() { return Ok(()) },
        }
        triggers::settle(&mut triggers, DEBOUNCE, MAX_DELAY).await;
        // Judge nothing before every kind is listed (a missing pool would look refused). Never
        // wait for that here: the watches only progress while `triggers` is polled, and their
        // initial lists end with a trigger that brings us back.
        let listed = kinds.iter().chain([&secrets]).all(|w| w.store.wait_until_ready().now_or_never().is_some());
        if !listed {
            continue;
        }
        ctx.health.ready.store(true, Ordering::Relaxed);
        let leading = *ctx.leading.borrow_and_update();
        if ctx.health.metrics.leader.get() != i64::from(leading) {
            info!(leading, "leadership changed");
        }
        ctx.health.metrics.leader.set(i64::from(leading));
        let started = std::time::Instant::now();
        let config = reconcile(&client, &recorder, &kinds, &secrets, &ctx, leading).await;
        ctx.health.metrics.reconcile_duration.observe(started.elapsed().as_secs_f64());
        debug!(leading, took = ?started.elapsed(), "configuration rebuilt");
        ctx.configs.send_replace(config);
    }
}

async fn reconcile(
    client: &Client,
    recorder: &Publisher,
    kinds: &[Watched],
    secrets: &Watched,
    ctx: &Context,
    leading: bool,
) -> Config {
    let by_kind = |k: Kind| kinds.iter().find(|w| w.kind == k).map(|w| values(&w.store)).unwrap_or_default();
    let raw = Raw {
        pools: by_kind(Kind::IPAddressPool),
        l2_advertisements: by_kind(Kind::L2Advertisement),
        bgp_advertisements: by_kind(Kind::BGPAdvertisement),
        peers: by_kind(Kind::BGPPeer),
        bfd_profiles: by_kind(Kind::BFDProfile),
        communities: by_kind(Kind::Community),
        secrets: values(&secrets.store),
    };
    let decoded = decode(&raw, &ctx.own_namespace);
    let (config, mut verdicts) = Config::from_objects(&decoded.objects);
    for (object, problem) in decoded.undecodable {
        verdicts.0.entry(object).or_default().push(problem);
    }
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    for w in kinds {
        let objects = w.store.state();
        let refused =
            objects.iter().filter(|o| !verdicts.problems(&ObjectRef::new(w.kind, o.name_any())).is_empty()).count();
        for (accepted, count) in [("true", objects.len() - refused), ("false", refused)] {
            let labels = ObjectLabels { kind: w.kind.to_string(), accepted: accepted.into() };
            ctx.health.metrics.config_objects.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        if !leading {
            continue;
        }
        let api = Api::<DynamicObject>::all_with(client.clone(), &w.resource);
        for obj in objects {
            let name = obj.name_any();
            let object = ObjectRef::new(w.kind, name.clone());
            let existing: Vec<Condition> = obj
                .data
                .pointer("/status/conditions")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default();
            let Some(change) = update(verdicts.problems(&object), obj.metadata.generation, &existing, &now) else {
                continue;
            };
            let span = info_span!("config_status", kind = %w.kind, object = %name);
            async {
                // Keep the conditions others own (the speakers' per-node BGP session states):
                // a merge patch replaces the whole list, so send it whole, guarded by the
                // resourceVersion it was read at.
                let mut conditions: Vec<&Condition> = existing.iter().filter(|c| c.type_ != change.condition.type_).collect();
                conditions.push(&change.condition);
                let patch = json!({"metadata": {"resourceVersion": obj.metadata.resource_version},
                    "status": {"conditions": conditions}});
                match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => info!(accepted = %change.condition.status, reason = %change.condition.reason, message = %change.condition.message, "status written"),
                    Err(error) => {
                        ctx.health.metrics.errors.get_or_create(&ErrorLabels { reason: "StatusWrite".into() }).inc();
                        warn!(%error, "writing status failed; retried on the next change")
                    }
                }
                if let Some(e) = change.event {
                    let event = Event { warning: e.warning, reason: e.reason, note: e.note, action: "Validate" };
                    if let Err(error) = recorder.publish(&event, &obj.object_ref(&w.resource)).await {
                        warn!(%error, "recording an Event failed");
                    }
                }
            }
            .instrument(span)
            .await;
        }
    }
    config
}
