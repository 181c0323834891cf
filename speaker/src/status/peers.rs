//! The BGPPeer session conditions: one condition per node on each BGPPeer (`<node>/BGPSessionEstablished`),
//! and an Event when a node's session comes up or goes down.
//!
//! The conditions list is shared with the controller's Accepted condition and is not a list-map in
//! the CRD, so the speaker reads the object and writes the whole list back with its own condition
//! replaced, guarded by resourceVersion (retried on conflict). [`session_condition`] (pure) says
//! what the list becomes.

use ferrolb_crds::{BGPPeer, SESSION_CONDITION};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use crate::bgp::report::SessionReport;
use crate::events::{self, SpeakerEvent};

/// The condition type of `node`'s session on a BGPPeer.
pub fn session_condition_type(node: &str) -> String {
    format!("{node}/{SESSION_CONDITION}")
}

/// `conditions` with `node`'s session condition set from `report` (others untouched). The
/// transition time stays when the status does not change. None when nothing changes.
pub fn session_condition(
    conditions: &[Condition],
    node: &str,
    report: &SessionReport,
    now: Time,
    generation: Option<i64>,
) -> Option<Vec<Condition>> {
    let kind = session_condition_type(node);
    let status = if report.established { "True" } else { "False" };
    let old = conditions.iter().find(|c| c.type_ == kind);
    if let Some(old) = old
        && old.status == status
        && old.reason == report.reason
        && old.message == report.message
    {
        return None;
    }
    let last_transition_time = match old {
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => now,
    };
    let condition = Condition {
        type_: kind.clone(),
        status: status.to_string(),
        reason: report.reason.clone(),
        message: report.message.clone(),
        last_transition_time,
        observed_generation: generation,
    };
    let mut next: Vec<Condition> = conditions.iter().filter(|c| c.type_ != kind).cloned().collect();
    next.push(condition);
    Some(next)
}

/// Writes `node`'s session condition on the BGPPeer `report` names, and an Event when the session
/// came up or went down. Done when the condition is written, already says so, or the BGPPeer is
/// gone; an error (logged with the peer) when the caller should try again.
pub(crate) async fn write_peer_condition(client: &Client, node: &str, report: &SessionReport) -> Result<(), Unwritten> {
    let api: Api<BGPPeer> = Api::all(client.clone());
    for _ in 0..3 {
        let peer = match api.get_opt(&report.peer).await {
            Ok(Some(peer)) => peer,
            Ok(None) => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, peer = %report.peer, %node, "reading BGPPeer failed; retrying");
                return Err(Unwritten);
            }
        };
        let conditions = peer.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let Some(next) = session_condition(&conditions, node, report, now, peer.metadata.generation) else {
            return Ok(());
        };
        let patch = json!({
            "metadata": {"resourceVersion": peer.resource_version()},
            "status": {"conditions": next},
        });
        match api.patch_status(&report.peer, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => {
                let kind = session_condition_type(node);
                let was = conditions.iter().find(|c| c.type_ == kind).map(|c| c.status == "True");
                if was != Some(report.established) {
                    session_event(client, node, &peer, report).await;
                }
                return Ok(());
            }
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(error) => {
                tracing::warn!(%error, peer = %report.peer, %node, "writing the BGPPeer session condition failed; retrying");
                return Err(Unwritten);
            }
        }
    }
    tracing::warn!(peer = %report.peer, %node, "the BGPPeer session condition conflicted three times; retrying");
    Err(Unwritten)
}

/// A session condition that is not written yet (why was logged where it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unwritten;

/// Records a session coming up or going down on the BGPPeer.
async fn session_event(client: &Client, node: &str, peer: &BGPPeer, report: &SessionReport) {
    let (reason, warning) = if report.established { ("SessionEstablished", false) } else { ("SessionDown", true) };
    let event = SpeakerEvent {
        regarding: peer.object_ref(&()),
        reason,
        note: format!("node {node}: {}", report.message),
        action: "Peer",
        warning,
    };
    if let Err(error) = events::publish(client, node, event).await {
        tracing::warn!(%error, peer = %report.peer, "recording the session Event failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(established: bool, reason: &str) -> SessionReport {
        SessionReport { peer: "r1".into(), established, reason: reason.into(), message: reason.into() }
    }

    fn time(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn session_condition_replaces_only_this_nodes() {
        let accepted = Condition {
            type_: "Accepted".into(),
            status: "True".into(),
            reason: "Valid".into(),
            message: String::new(),
            last_transition_time: time(1),
            observed_generation: Some(1),
        };
        let up = session_condition(
            std::slice::from_ref(&accepted),
            "node1",
            &report(true, "Established"),
            time(10),
            Some(1),
        )
        .unwrap();
        assert_eq!(up.len(), 2);
        assert_eq!(up[0], accepted);
        assert_eq!(up[1].type_, "node1/BGPSessionEstablished");
        assert_eq!(up[1].status, "True");
        // The same report again: nothing to write.
        assert_eq!(session_condition(&up, "node1", &report(true, "Established"), time(20), Some(1)), None);
        // Down: a new transition time; another node's condition is kept.
        let other = session_condition(&up, "node2", &report(false, "ConnectionFailed"), time(30), Some(1)).unwrap();
        let down = session_condition(&other, "node1", &report(false, "HoldTimerExpired"), time(40), Some(1)).unwrap();
        assert_eq!(down.len(), 3);
        let node1 = down.iter().find(|c| c.type_ == "node1/BGPSessionEstablished").unwrap();
        assert_eq!((node1.status.as_str(), node1.last_transition_time.clone()), ("False", time(40)));
        let node2 = down.iter().find(|c| c.type_ == "node2/BGPSessionEstablished").unwrap();
        assert_eq!(node2.reason, "ConnectionFailed");
    }
}
