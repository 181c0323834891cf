//! The speaker's Events (`nodeAssigned`, BGP session changes), published with ferrolb-kube's
//! publisher as `ferrolb-speaker`: created and forgotten, named as client-go names them.

use ferrolb_kube::events::{Event, Publisher};
use ferrolb_kube::names::SPEAKER;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;

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
    pub action: &'static str,
    /// Warning rather than Normal.
    pub warning: bool,
}

/// Records `event`. Cluster-scoped objects get their Events in `default`, as kubectl expects.
/// The reporting instance is this Pod (POD_NAME) or host; the node is named in the note.
pub async fn publish(client: &Client, _node: &str, event: SpeakerEvent<'_>) -> Result<(), kube::Error> {
    let SpeakerEvent { regarding, reason, note, action, warning } = event;
    let event = Event { warning, reason: reason.to_owned(), note, action };
    Publisher::new(client.clone(), SPEAKER).publish(&event, &regarding).await
}
