//! Publishes Kubernetes Events (events.k8s.io/v1) without keeping them.
//!
//! kube's `Recorder` keeps every Event it published for six minutes so it can count repeats
//! into a series. At start-up FerroLB publishes one Event per Service (IPAllocated), so at
//! 10,000 Services that cache alone held tens of MiB. FerroLB only publishes on a change, so
//! series buy little: each Event is created and forgotten.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

/// A number unique to this process and time: nanoseconds since the epoch, plus a counter for
/// Events published within one tick.
fn unique() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    nanos.wrapping_add(u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)))
}

/// One Event to publish.
#[derive(Debug, Clone)]
pub struct Event {
    /// Warning rather than Normal.
    pub warning: bool,
    /// CamelCase reason, e.g. `IPAllocated`.
    pub reason: String,
    /// The message, for people.
    pub note: String,
    /// What FerroLB was doing, e.g. `Assign`.
    pub action: &'static str,
}

/// Creates Events as one controller instance.
#[derive(Clone)]
pub struct Publisher {
    client: Client,
    controller: String,
    instance: String,
}

impl Publisher {
    /// A publisher reporting as `controller` (and this Pod, when POD_NAME is set).
    pub fn new(client: Client, controller: &str) -> Self {
        let instance = std::env::var("POD_NAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
            .unwrap_or_else(|| controller.to_owned());
        Self { client, controller: controller.to_owned(), instance }
    }

    /// Publishes `event` about `regarding`. Cluster-scoped objects get their Events in
    /// `default`, as kubectl expects.
    pub async fn publish(&self, event: &Event, regarding: &ObjectReference) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
        let name = regarding.name.clone().unwrap_or_default();
        let object = K8sEvent {
            metadata: ObjectMeta {
                // kubectl's convention: the object's name, a dot, something unique.
                name: Some(format!("{name}.{:x}", unique())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            action: Some(event.action.into()),
            reason: Some(event.reason.clone()),
            note: Some(event.note.clone()),
            type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
            regarding: Some(regarding.clone()),
            event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..K8sEvent::default()
        };
        Api::<K8sEvent>::namespaced(self.client.clone(), &namespace).create(&PostParams::default(), &object).await?;
        Ok(())
    }
}
