//! What FerroLB writes on a Service it serves: status.loadBalancer.ingress, the pool
//! annotation, a condition saying how the address was chosen or precisely why there is none,
//! and Events when that changes. Every text FerroLB shows on a Service is composed here, and
//! the patches that write it.

use std::net::IpAddr;

use ferrolb_core::annotations::ServiceRequest;
use ferrolb_core::service::ServiceReader;
use ferrolb_kube::events::Event;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use serde_json::{Value, json};

use super::plan::Outcome;
use super::spec::status_ips;

/// The action of the Events about Services.
const ACTION: &str = "Assign";

/// The annotation naming the pool(s) a Service's addresses come from (the speakers read it).
pub use ferrolb_core::announcer::from_k8s::POOL_ANNOTATION;
/// The Service condition type FerroLB owns.
pub use ferrolb_core::service::ASSIGNED_CONDITION as CONDITION;

/// What a Service should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// status.loadBalancer.ingress, primary family first.
    pub ips: Vec<IpAddr>,
    /// The pool annotation's value ("a", or "a,b" when two pools serve the two families).
    pub pools: Option<String>,
    /// Whether it has its addresses.
    pub assigned: bool,
    /// The condition reason.
    pub reason: &'static str,
    /// The condition message.
    pub message: String,
}

/// What a Service shows now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Current {
    /// Its ingress addresses.
    pub ips: Vec<IpAddr>,
    /// Its pool annotation.
    pub pools: Option<String>,
    /// Its FerroLB condition.
    pub condition: Option<Condition>,
}

impl Current {
    /// What `svc` shows now, as far as FerroLB is concerned.
    pub fn of(svc: &Service) -> Current {
        Current {
            ips: status_ips(svc),
            pools: svc.annotations().get(POOL_ANNOTATION).cloned(),
            condition: our_condition(svc),
        }
    }

    /// Whether FerroLB put these addresses there: its condition is True and names each one.
    /// An address written into a status by hand does not pass, and loses a dispute.
    pub fn written_by_ferrolb(&self) -> bool {
        self.condition.as_ref().is_some_and(|c| {
            c.status == "True"
                && self.ips.iter().all(|ip| c.message.split([' ', ',', ':']).any(|w| w == ip.to_string()))
        })
    }
}

/// The write a Service needs: everything FerroLB shows on it, applied at once (server-side
/// apply on the status subresource carries the annotation too, so one request does it), and
/// the Events to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// What the Service shows once the write lands: ingress, pool annotation, condition.
    pub shows: Current,
    /// Events to record.
    pub events: Vec<Event>,
}

impl Write {
    /// The server-side apply of the status subresource that writes it. The status subresource
    /// takes metadata too: one request writes the annotation, the ingress and the condition.
    /// Leaving the annotation out removes it (FerroLB owns it).
    pub fn patch(&self) -> Value {
        let shows = &self.shows;
        let ingress: Vec<_> = shows.ips.iter().map(|ip| json!({"ip": ip.to_string(), "ipMode": "VIP"})).collect();
        let annotations = shows.pools.as_ref().map_or_else(|| json!({}), |p| json!({POOL_ANNOTATION: p}));
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"annotations": annotations},
            "status": {"loadBalancer": {"ingress": ingress}, "conditions": [&shows.condition]}})
    }
}

/// FerroLB's condition on `svc`, if it has one.
fn our_condition(svc: &Service) -> Option<Condition> {
    ServiceReader::new(svc).assigned_condition().cloned()
}

/// Whether `svc` carries FerroLB's marks: its condition or its pool annotation.
pub fn has_our_marks(svc: &Service) -> bool {
    our_condition(svc).is_some() || svc.annotations().contains_key(POOL_ANNOTATION)
}

/// The server-side apply that takes FerroLB's marks off a Service it no longer serves, sent to
/// the object and to its status: applying nothing under our field manager removes every field
/// it owned.
pub fn forget_patch() -> Value {
    json!({"apiVersion": "v1", "kind": "Service"})
}

/// The write a planned Service needs, or None when it already shows its outcome: the outcome
/// read with the Service's `request` (where requested addresses came from, which MetalLB
/// spellings were read) into its condition and Events.
pub fn planned(
    outcome: &Outcome,
    request: &ServiceRequest,
    current: &Current,
    generation: Option<i64>,
    now: &Time,
) -> Option<Write> {
    let source = request.requested_from.map(|s| s.to_string());
    let aliases: Vec<String> = request.aliases.iter().map(ToString::to_string).collect();
    let not_kept: Vec<String> =
        outcome.not_kept.iter().map(|(ip, why)| format!("{ip}, which its status held, is not kept: {why}")).collect();
    write(&desired(outcome, source.as_deref()), current, generation, &aliases, &not_kept, now)
}

/// What an outcome means for the Service. `source` names the annotation (or field) the
/// requested addresses came from, for the message.
pub fn desired(outcome: &Outcome, source: Option<&str>) -> Desired {
    match &outcome.result {
        Ok(applied) => {
            let mut pools: Vec<String> = applied.assigned.iter().map(|a| a.pool.as_str().to_owned()).collect();
            pools.dedup();
            let addresses = applied.ips().iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ");
            let mut message = if pools.len() == 1 {
                format!("{addresses} from IPAddressPool {}: {}", pools[0], outcome.why.describe(source))
            } else {
                let parts: Vec<String> =
                    applied.assigned.iter().map(|a| format!("{} from IPAddressPool {}", a.ip, a.pool)).collect();
                format!("{}: {}", parts.join(", "), outcome.why.describe(source))
            };
            for (family, why) in &applied.missing {
                message.push_str(&format!("; no {family} address: {why}"));
            }
            Desired { ips: applied.ips(), pools: Some(pools.join(",")), assigned: true, reason: "IPAllocated", message }
        }
        Err(refused) => Desired {
            ips: Vec::new(),
            pools: None,
            assigned: false,
            reason: "AllocationFailed",
            message: refused.to_string(),
        },
    }
}

/// The write that takes the Service from `current` to `desired`, or None when it already
/// shows it. `generation` is the Service's metadata.generation, recorded as the condition's
/// observedGeneration. `aliases` are notes about MetalLB annotation spellings read, recorded as
/// Events when the verdict changes.
pub fn write(
    desired: &Desired,
    current: &Current,
    generation: Option<i64>,
    aliases: &[String],
    not_kept: &[String],
    now: &Time,
) -> Option<Write> {
    let status = if desired.assigned { "True" } else { "False" };
    let same_verdict = current
        .condition
        .as_ref()
        .is_some_and(|c| c.status == status && c.reason == desired.reason && c.message == desired.message);
    let same_generation = current.condition.as_ref().is_some_and(|c| c.observed_generation == generation);
    if same_verdict && same_generation && current.ips == desired.ips && current.pools == desired.pools {
        return None;
    }
    let transition = match &current.condition {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now.clone(),
    };
    let condition = Condition {
        type_: CONDITION.into(),
        status: status.into(),
        reason: desired.reason.into(),
        message: desired.message.clone(),
        observed_generation: generation,
        last_transition_time: transition,
    };
    let mut events: Vec<Event> = not_kept
        .iter()
        .map(|n| Event { warning: true, reason: "AddressNotKept".into(), note: n.clone(), action: ACTION })
        .collect();
    if !same_verdict {
        events.push(Event {
            warning: !desired.assigned,
            reason: desired.reason.into(),
            note: desired.message.clone(),
            action: ACTION,
        });
        events.extend(aliases.iter().map(|a| Event {
            warning: false,
            reason: "AnnotationAlias".into(),
            note: a.clone(),
            action: ACTION,
        }));
    }
    let shows = Current { ips: desired.ips.clone(), pools: desired.pools.clone(), condition: Some(condition) };
    Some(Write { shows, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocator::{Applied, Assignment, Refused, ServiceKey};
    use crate::services::plan::Why;
    use ferrolb_core::addresses::Family;
    use ferrolb_core::annotations::PoolName;

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).expect("a time"))
    }

    fn assigned(ips: &[(&str, &str)], why: Why) -> Outcome {
        let assigned = ips
            .iter()
            .map(|(ip, pool)| Assignment { ip: ip.parse().expect("ip"), pool: PoolName::new(*pool).expect("pool") })
            .collect();
        Outcome {
            index: 0,
            key: ServiceKey::new("ns", "web"),
            result: Ok(Applied { assigned, missing: vec![] }),
            why,
            not_kept: vec![],
        }
    }

    #[test]
    fn an_assigned_service_says_where_its_address_comes_from_and_why() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        assert_eq!(d.ips, vec!["203.0.113.5".parse::<IpAddr>().expect("ip")]);
        assert_eq!(d.pools.as_deref(), Some("lab"));
        assert_eq!(d.message, "203.0.113.5 from IPAddressPool lab: first autoAssign pool with a free address");
        let w = write(&d, &Current::default(), Some(3), &[], &[], &at(1)).expect("a write");
        let c = w.shows.condition.expect("a condition");
        assert_eq!((w.shows.ips.len(), c.status.as_str(), c.reason.as_str()), (1, "True", "IPAllocated"));
        assert_eq!(c.observed_generation, Some(3));
        assert_eq!(w.shows.pools, Some("lab".into()));
        assert_eq!(w.events.len(), 1);
        assert!(!w.events[0].warning);
    }

    #[test]
    fn two_pools_and_a_missing_family_are_spelled_out() {
        let mut o = assigned(&[("203.0.113.5", "v4"), ("2001:db8:100::5", "v6")], Why::Requested);
        let d = desired(&o, Some("metallb.universe.tf/loadBalancerIPs"));
        assert_eq!(d.pools.as_deref(), Some("v4,v6"));
        assert!(d.message.starts_with("203.0.113.5 from IPAddressPool v4, 2001:db8:100::5 from IPAddressPool v6: requested by metallb.universe.tf/loadBalancerIPs"), "{}", d.message);
        if let Ok(a) = o.result.as_mut() {
            a.assigned.truncate(1);
            a.missing.push((Family::V6, Refused::FamilyUnavailable { family: Family::V6 }));
        }
        assert!(desired(&o, None).message.contains("; no IPv6 address: "));
    }

    #[test]
    fn a_refused_service_gets_no_address_and_a_warning() {
        let o = Outcome {
            index: 0,
            key: ServiceKey::new("ns", "web"),
            result: Err(Refused::FamilyUnavailable { family: Family::V4 }),
            why: Why::AutoAssign,
            not_kept: vec![],
        };
        let d = desired(&o, None);
        let current =
            Current { ips: vec!["203.0.113.5".parse().expect("ip")], pools: Some("lab".into()), condition: None };
        let w = write(
            &d,
            &current,
            None,
            &["metallb.universe.tf/address-pool is read as ferrolb.io/address-pool".into()],
            &["203.0.113.5, which its status held, is not kept: x".into()],
            &at(1),
        )
        .expect("a write");
        let c = w.shows.condition.clone().expect("a condition");
        assert!(w.shows.ips.is_empty());
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", "AllocationFailed"));
        assert_eq!(w.shows.pools, None);
        assert_eq!(w.events[0].reason, "AddressNotKept");
        assert!(w.events[1].warning);
        assert_eq!(w.events[2].reason, "AnnotationAlias");
    }

    #[test]
    fn only_addresses_named_by_our_condition_count_as_ours() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        let ours = write(&d, &Current::default(), None, &[], &[], &at(1)).expect("a write").shows;
        assert!(ours.written_by_ferrolb());
        let by_hand = Current { ips: vec!["203.0.113.50".parse().expect("ip")], ..ours.clone() };
        assert!(!by_hand.written_by_ferrolb());
        assert!(!Current { condition: None, ..ours }.written_by_ferrolb());
    }

    #[test]
    fn nothing_is_written_twice() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        let first = write(&d, &Current::default(), Some(1), &[], &[], &at(1)).expect("a write");
        assert_eq!(write(&d, &first.shows, Some(1), &[], &[], &at(2)), None);
    }

    #[test]
    fn a_new_generation_is_acknowledged_without_a_new_event_or_transition() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        let first = write(&d, &Current::default(), Some(1), &[], &[], &at(1)).expect("a write");
        let second = write(&d, &first.shows, Some(2), &[], &[], &at(2)).expect("a write");
        let c = second.shows.condition.expect("a condition");
        assert_eq!(c.observed_generation, Some(2));
        assert_eq!(c.last_transition_time, at(1));
        assert!(second.events.is_empty());
    }

    #[test]
    fn a_planned_service_is_told_where_its_request_came_from_and_what_was_not_kept() {
        use ferrolb_core::annotations::{AliasUse, RequestSource};
        let mut o = assigned(&[("203.0.113.5", "lab")], Why::Requested);
        o.not_kept.push(("203.0.113.9".parse().expect("ip"), Refused::FamilyUnavailable { family: Family::V4 }));
        let request = ServiceRequest {
            requested_from: Some(RequestSource::LoadBalancerIp),
            aliases: vec![AliasUse { alias: "metallb.universe.tf/address-pool", canonical: "ferrolb.io/address-pool" }],
            ..ServiceRequest::default()
        };
        let w = planned(&o, &request, &Current::default(), Some(1), &at(1)).expect("a write");
        let c = w.shows.condition.clone().expect("a condition");
        assert!(c.message.ends_with(": requested by spec.loadBalancerIP"), "{}", c.message);
        let reasons: Vec<&str> = w.events.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["AddressNotKept", "IPAllocated", "AnnotationAlias"]);
        assert!(
            w.events[0].note.starts_with("203.0.113.9, which its status held, is not kept: "),
            "{}",
            w.events[0].note
        );
        assert_eq!(w.events[2].note, "metallb.universe.tf/address-pool is read as ferrolb.io/address-pool");
        assert!(w.events.iter().all(|e| e.action == "Assign"));
    }

    #[test]
    fn the_patch_writes_ingress_annotation_and_condition_at_once() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        let w = write(&d, &Current::default(), Some(1), &[], &[], &at(1)).expect("a write");
        let patch = w.patch();
        assert_eq!(patch["metadata"]["annotations"][POOL_ANNOTATION], "lab");
        assert_eq!(patch["status"]["loadBalancer"]["ingress"], json!([{"ip": "203.0.113.5", "ipMode": "VIP"}]));
        assert_eq!(patch["status"]["conditions"][0]["type"], CONDITION);
        let refused = Write { shows: Current::default(), events: vec![] }.patch();
        assert_eq!(refused["metadata"]["annotations"], json!({}), "leaving it out removes it");
        assert_eq!(forget_patch(), json!({"apiVersion": "v1", "kind": "Service"}));
    }

    #[test]
    fn what_a_service_shows_is_read_back_with_its_marks() {
        let d = desired(&assigned(&[("203.0.113.5", "lab")], Why::AutoAssign), None);
        let w = write(&d, &Current::default(), Some(1), &[], &[], &at(1)).expect("a write");
        let svc: Service = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "annotations": {POOL_ANNOTATION: "lab"}},
            "status": w.patch()["status"].clone(),
        }))
        .expect("a Service");
        assert_eq!(Current::of(&svc), w.shows);
        assert!(has_our_marks(&svc));
        assert!(!has_our_marks(&Service::default()));
    }
}
