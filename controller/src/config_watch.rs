//! The kube edge of configuration: watches the configuration kinds and basic-auth Secrets
//! (ferrolb-kube's configuration watch), rebuilds the Config on every change (core decides),
//! writes each object's Accepted condition and records Events (config_status decides which
//! and words them). It decides nothing itself. A write that fails is retried by the resync
//! clock, on a backoff: the next pass finds the condition still unwritten.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ferrolb_core::config::{Config, ObjectRef, Verdicts};
use ferrolb_kube::config_watch::{self, ConfigStores, Header, Listing, Secrets};
use ferrolb_kube::events::Publisher;
use ferrolb_kube::names::CONTROLLER;
use ferrolb_kube::pace::Pace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use tokio::sync::watch;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::config_status::{Update, Verdict, update};
use crate::metrics::{ErrorLabels, Health, ObjectLabels};

/// How long to gather further changes before rebuilding, and the most a burst may delay it.
const QUIET: Duration = Duration::from_millis(50);
const AT_MOST: Duration = Duration::from_millis(500);

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
    /// How often everything is looked at again (failed writes are retried sooner).
    pub resync: Duration,
}

/// Watches configuration until `shutdown` fires, publishing each new Config, and (while
/// leading) writing each object's Accepted condition.
pub async fn run(client: Client, mut ctx: Context, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut pace = Pace::new(QUIET, AT_MOST, ctx.resync, ());
    let stores = config_watch::start(&client, Secrets::BasicAuth, &ctx.own_namespace, pace.triggers(), |_| Some(()));
    // A new leader writes whatever its predecessor left undone.
    pace.follow(ctx.leading.clone(), ());
    let recorder = Publisher::new(client.clone(), CONTROLLER);
    while pace.next(&mut shutdown).await.is_some() {
        // Judge nothing before every kind is listed (a missing pool would look refused). Never
        // wait for that here: the watches only progress while `triggers` is polled, and their
        // initial lists end with a trigger that brings us back.
        if !stores.ready() {
            continue;
        }
        ctx.health.ready.store(true, Ordering::Relaxed);
        let leading = *ctx.leading.borrow_and_update();
        if ctx.health.metrics.leader.get() != i64::from(leading) {
            info!(leading, "leadership changed");
        }
        ctx.health.metrics.leader.set(i64::from(leading));
        let started = std::time::Instant::now();
        let (config, failed) = reconcile(&client, &recorder, &stores, &ctx, leading).await;
        ctx.health.metrics.reconcile_duration.observe(started.elapsed().as_secs_f64());
        if failed == 0 {
            pace.succeeded();
        } else {
            pace.failed();
        }
        debug!(leading, took = ?started.elapsed(), "configuration rebuilt");
        ctx.configs.send_replace(config);
    }
    Ok(())
}

/// Rebuilds the Config, counts the objects, and (while leading) writes every Accepted
/// condition that does not say its verdict yet. Returns the Config and how many writes failed.
async fn reconcile(
    client: &Client,
    recorder: &Publisher,
    stores: &ConfigStores,
    ctx: &Context,
    leading: bool,
) -> (Config, usize) {
    let (config, verdicts) = stores.decoded().validate();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let mut failed = 0;
    for listing in stores.listings() {
        count(ctx, &listing, &verdicts);
        if !leading {
            continue;
        }
        let api = Api::<DynamicObject>::all_with(client.clone(), &listing.resource);
        for object in &listing.objects {
            let reference = ObjectRef::new(listing.kind, object.name.clone());
            let verdict = Verdict { problems: verdicts.problems(&reference), warnings: verdicts.warnings(&reference) };
            let Some(change) = update(&verdict, object.generation, &object.conditions, &now) else { continue };
            let span = info_span!("config_status", kind = %listing.kind, object = %object.name);
            if write(&api, recorder, ctx, object, change).instrument(span).await.is_err() {
                failed += 1;
            }
        }
    }
    (config, failed)
}

/// ferrolb_config_objects{kind,accepted} for one kind.
fn count(ctx: &Context, listing: &Listing, verdicts: &Verdicts) {
    let objects = &listing.objects;
    let refused =
        objects.iter().filter(|o| !verdicts.problems(&ObjectRef::new(listing.kind, o.name.clone())).is_empty()).count();
    for (accepted, count) in [("true", objects.len() - refused), ("false", refused)] {
        let labels = ObjectLabels { kind: listing.kind.to_string(), accepted: accepted.into() };
        ctx.health.metrics.config_objects.get_or_create(&labels).set(i64::try_from(count).unwrap_or(i64::MAX));
    }
}

/// Writes one object's Accepted condition, then its Event (only once the condition is
/// written: a retried write records its Event once).
async fn write(
    api: &Api<DynamicObject>,
    recorder: &Publisher,
    ctx: &Context,
    object: &Header,
    change: Update,
) -> Result<(), kube::Error> {
    let patch = change.patch(&object.conditions, object.resource_version.as_deref());
    if let Err(error) = api.patch_status(&object.name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        ctx.health.metrics.errors.get_or_create(&ErrorLabels { reason: "StatusWrite".into() }).inc();
        warn!(%error, "writing the Accepted condition failed; retrying");
        return Err(error);
    }
    let c = &change.condition;
    info!(accepted = %c.status, reason = %c.reason, message = %c.message, "status written");
    if let Some(event) = &change.event
        && let Err(error) = recorder.publish(event, &object.reference).await
    {
        warn!(%error, reason = %event.reason, "recording an Event failed");
    }
    Ok(())
}
