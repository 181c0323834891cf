//! Publishes Kubernetes Events (events.k8s.io/v1) without keeping them, named as client-go
//! names them: `<object name>.<hex unique>` (this API server refuses a generateName that ends
//! in '.').
//!
//! kube's `Recorder` keeps every Event it published for six minutes so it can count repeats
//! into a series. At start-up the controller publishes one Event per Service (IPAllocated), so at
//! 10,000 Services that cache alone held tens of MiB. FerroLB only publishes on a change, so
//! series buy little: each Event is created and forgotten.

use std::sync::OnceLock;
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

/// This process's reportingInstance: the Pod's name (POD_NAME), else the host name; None when
/// neither is known.
fn instance() -> Option<&'static str> {
    static INSTANCE: OnceLock<Option<String>> = OnceLock::new();
    INSTANCE
        .get_or_init(|| {
            std::env::var("POD_NAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
        })
        .as_deref()
}

/// One Event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A publisher reporting as `controller` (see [`crate::names`]), from this Pod (POD_NAME) or
    /// host.
    pub fn new(client: Client, controller: &str) -> Self {
        let instance = instance().unwrap_or(controller).to_owned();
        Self { client, controller: controller.to_owned(), instance }
    }

    /// Publishes `event` about `regarding`. Cluster-scoped objects get their Events in
    /// `default`, as kubectl expects.
    pub async fn publish(&self, event: &Event, regarding: &ObjectReference) -> Result<(), kube::Error> {
        let object = build(&self.controller, &self.instance, event, regarding);
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        Api::<K8sEvent>::namespaced(self.client.clone(), &namespace).create(&PostParams::default(), &object).await?;
        Ok(())
    }
}

/// The Event object: in the namespace of `regarding` (`default` for cluster-scoped objects).
fn build(controller: &str, instance: &str, event: &Event, regarding: &ObjectReference) -> K8sEvent {
    let namespace = regarding.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into());
    let name = regarding.name.clone().unwrap_or_default();
    K8sEvent {
        metadata: ObjectMeta {
            name: Some(format!("{name}.{:x}", unique())),
            namespace: Some(namespace),
            ..ObjectMeta::default()
        },
        action: Some(event.action.into()),
        reason: Some(event.reason.clone()),
        note: Some(event.note.clone()),
        type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
        regarding: Some(regarding.clone()),
        event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        reporting_controller: Some(controller.to_owned()),
        reporting_instance: Some(instance.to_owned()),
        ..K8sEvent::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Service".into()),
            namespace: Some("team".into()),
            name: Some("web".into()),
            ..ObjectReference::default()
        }
    }

    #[test]
    fn events_are_named_as_client_go_names_them_and_say_who_reports() {
        let event =
            Event { warning: true, reason: "AllocationFailed".into(), note: "no pool".into(), action: "Assign" };
        let a = build("ferrolb-controller", "ferrolb-controller-0", &event, &service());
        let b = build("ferrolb-controller", "ferrolb-controller-0", &event, &service());
        let name = a.metadata.name.clone().unwrap();
        let (object, hex) = name.split_once('.').unwrap();
        assert_eq!(object, "web");
        assert!(!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        assert_ne!(a.metadata.name, b.metadata.name, "two Events in one tick get two names");
        assert_eq!(a.metadata.namespace.as_deref(), Some("team"));
        assert_eq!(a.type_.as_deref(), Some("Warning"));
        assert_eq!(
            (a.reason.as_deref(), a.note.as_deref(), a.action.as_deref()),
            (Some("AllocationFailed"), Some("no pool"), Some("Assign"))
        );
        assert_eq!(a.reporting_controller.as_deref(), Some("ferrolb-controller"));
        assert_eq!(a.reporting_instance.as_deref(), Some("ferrolb-controller-0"));
    }

    #[test]
    fn cluster_scoped_objects_get_their_events_in_default() {
        let pool = ObjectReference { namespace: None, name: Some("lab".into()), ..ObjectReference::default() };
        let event = Event { warning: false, reason: "Accepted".into(), note: "ok".into(), action: "Validate" };
        let e = build("ferrolb-controller", "x", &event, &pool);
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(e.type_.as_deref(), Some("Normal"));
    }
}
