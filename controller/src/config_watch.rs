//! The kube edge of configuration: watches the configuration kinds and basic-auth Secrets,
//! rebuilds the Config on every change (core decides), writes each object's Accepted
//! condition and records Events (config_status decides which). It decides nothing itself.

use std::time::Duration;

use anyhow::Context as _;
use ferrolb_core::config::{Config, Kind, ObjectRef};
use ferrolb_crds::{BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement};
use futures::stream::{BoxStream, SelectAll};
use futures::{StreamExt, future};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::{Instrument, info, info_span, warn};

use crate::config_objects::{Raw, decode};
use crate::config_status::update;

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
    triggers: &mut SelectAll<BoxStream<'static, ()>>,
) -> Watched {
    let api = Api::<DynamicObject>::all_with(client.clone(), &resource);
    let writer = Writer::new(resource.clone());
    let store = writer.as_reader();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .filter_map(move |event| {
            future::ready(match event {
                Ok(_) => Some(()),
                Err(error) => {
                    warn!(%kind, %error, "watch failed; retrying");
                    None
                }
            })
        })
        .boxed();
    triggers.push(stream);
    Watched { kind, resource, store }
}

fn values(store: &Store<DynamicObject>) -> Vec<Value> {
    store.state().iter().filter_map(|o| serde_json::to_value(o.as_ref()).ok()).collect()
}

/// Watches configuration until `shutdown` fires, publishing each new Config on `configs`.
pub async fn run(
    client: Client,
    own_namespace: String,
    configs: watch::Sender<Config>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut triggers = SelectAll::new();
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
    let reporter = Reporter { controller: MANAGER.into(), instance: std::env::var("POD_NAME").ok() };
    let recorder = Recorder::new(client.clone(), reporter);

    loop {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            next = triggers.next() => if next.is_none() { return Ok(()) },
        }
        let started = tokio::time::Instant::now();
        while started.elapsed() < MAX_DELAY {
            match tokio::time::timeout(DEBOUNCE, triggers.next()).await {
                Ok(Some(())) => continue,
                _ => break,
            }
        }
        for w in kinds.iter().chain([&secrets]) {
            w.store.wait_until_ready().await.context("a configuration watch stopped")?;
        }
        let config = reconcile(&client, &recorder, &kinds, &secrets, &own_namespace).await;
        configs.send_replace(config);
    }
}

async fn reconcile(
    client: &Client,
    recorder: &Recorder,
    kinds: &[Watched],
    secrets: &Watched,
    own_namespace: &str,
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
    let decoded = decode(&raw, own_namespace);
    let (config, mut verdicts) = Config::from_objects(&decoded.objects);
    for (object, problem) in decoded.undecodable {
        verdicts.0.entry(object).or_default().push(problem);
    }
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    for w in kinds {
        let api = Api::<DynamicObject>::all_with(client.clone(), &w.resource);
        for obj in w.store.state() {
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
                let patch = json!({"status": {"conditions": [&change.condition]}});
                match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => info!(accepted = %change.condition.status, reason = %change.condition.reason, message = %change.condition.message, "status written"),
                    Err(error) => warn!(%error, "writing status failed; retried on the next change"),
                }
                if let Some(e) = change.event {
                    let event = Event {
                        type_: if e.warning { EventType::Warning } else { EventType::Normal },
                        reason: e.reason,
                        note: Some(e.note),
                        action: "Validate".into(),
                        secondary: None,
                    };
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
