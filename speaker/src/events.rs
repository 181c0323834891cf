//! Kubernetes Events the speaker records (events.k8s.io/v1): created and forgotten, named as
//! client-go names them (`name.<hex timestamp>`; this API server refuses a generateName that
//! ends in '.').

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

/// The reporting controller of every speaker Event.
pub const REPORTER: &str = "ferrolb-speaker";

/// One Event about `regarding`, from the speaker on `node`.
#[derive(Debug, Clone)]
pub struct SpeakerEvent<'a> {
    /// The object it is about.
    pub regarding: ObjectReference,
    /// CamelCase reason, e.g. `nodeAssigned`.
    pub reason: &'a str,
    /// The message, for people.
    pub note: String,
    /// What the speaker was doing, e.g. `Announce`.
    pub action: &'a str,
    /// Warning rather than Normal.
    pub warning: bool,
}

/// Records `event`. Cluster-scoped objects get their Events in `default`, as kubectl expects.
pub async fn publish(client: &Client, node: &str, event: SpeakerEvent<'_>) -> Result<(), kube::Error> {
    let namespace = event.regarding.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let name = event.regarding.name.clone().unwrap_or_default();
    let object = K8sEvent {
        metadata: ObjectMeta {
            name: Some(format!("{name}.{:x}", now_nanos())),
            namespace: Some(namespace.clone()),
            ..ObjectMeta::default()
        },
        action: Some(event.action.into()),
        reason: Some(event.reason.into()),
        note: Some(event.note),
        type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
        regarding: Some(event.regarding),
        event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        reporting_controller: Some(REPORTER.into()),
        reporting_instance: Some(format!("{REPORTER}-{node}")),
        ..K8sEvent::default()
    };
    Api::<K8sEvent>::namespaced(client.clone(), &namespace).create(&PostParams::default(), &object).await?;
    Ok(())
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}
