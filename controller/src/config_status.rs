//! What the Accepted condition of a configuration object should say, whether that calls for an
//! Event, and the patch that writes it: a pure decision from the verdict and the condition the
//! object already has.
//!
//! A refused object reads `Accepted=False` with the first problem's reason. An object accepted
//! with warnings (what MetalLB accepts and FerroLB thinks the user should know) reads
//! `Accepted=True` with the first warning's reason and the warnings as the message, and gets a
//! Warning Event when they change.

use ferrolb_core::config::Problem;
use ferrolb_crds::ACCEPTED;
use ferrolb_kube::events::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::json;

/// Longest condition message written; longer ones are cut (the API allows 32 KiB, people read less).
const MAX_MESSAGE: usize = 1024;
/// The action of the Events about configuration objects.
const ACTION: &str = "Validate";

/// A status change to write: the new Accepted condition, and maybe an Event.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The whole new Accepted condition.
    pub condition: Condition,
    /// The Event to record, if the change deserves one.
    pub event: Option<Event>,
}

impl Update {
    /// The merge patch of the object's status: its conditions whole, ours replaced and the ones
    /// others own kept (the speakers' per-node BGP session states), since a merge patch
    /// replaces the whole list; guarded by the `resource_version` `existing` was read at.
    pub fn patch(&self, existing: &[Condition], resource_version: Option<&str>) -> serde_json::Value {
        let mut conditions: Vec<&Condition> = existing.iter().filter(|c| c.type_ != self.condition.type_).collect();
        conditions.push(&self.condition);
        json!({"metadata": {"resourceVersion": resource_version}, "status": {"conditions": conditions}})
    }
}

/// What validation said of one object.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verdict<'a> {
    /// What refuses it (none: accepted).
    pub problems: &'a [Problem],
    /// What it is accepted despite.
    pub warnings: &'a [Problem],
}

/// The condition message for a verdict.
pub fn message(verdict: &Verdict<'_>) -> String {
    match (verdict.problems, verdict.warnings) {
        ([], []) => "valid and in use".into(),
        ([], warnings) => format!("valid and in use, with warnings: {}", listed(warnings)),
        (problems, _) => listed(problems),
    }
}

/// The problems, each naming its other object once, joined and cut to [`MAX_MESSAGE`].
fn listed(problems: &[Problem]) -> String {
    let mut text = problems
        .iter()
        .map(|p| match &p.other {
            Some(other) if !p.message.contains(&other.to_string()) => format!("{p} ({other})"),
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if text.len() > MAX_MESSAGE {
        let cut = (0..=MAX_MESSAGE).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.truncate(cut);
        text.push_str(" ...");
    }
    text
}

/// The update an object needs so that its Accepted condition tells `verdict`, or None when it
/// already does. `existing` are the object's current conditions.
pub fn update(verdict: &Verdict<'_>, generation: Option<i64>, existing: &[Condition], now: &Time) -> Option<Update> {
    let accepted = verdict.problems.is_empty();
    let status = if accepted { "True" } else { "False" };
    let reason = verdict
        .problems
        .first()
        .or(verdict.warnings.first())
        .map_or_else(|| ACCEPTED.to_owned(), |p| p.reason.to_string());
    let warned = accepted && !verdict.warnings.is_empty();
    let message = message(verdict);
    let current = existing.iter().find(|c| c.type_ == ACCEPTED);
    if let Some(c) = current
        && c.status == status
        && c.reason == reason
        && c.message == message
        && c.observed_generation == generation
    {
        return None;
    }
    let transition = match current {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now.clone(),
    };
    let changed_meaning = current.is_none_or(|c| c.status != status || c.message != message);
    let event = match (accepted, current) {
        // Refused, or accepted with warnings: a Warning Event whenever what it says changes.
        _ if (!accepted || warned) && changed_meaning => {
            Some(Event { warning: true, reason: reason.clone(), note: message.clone(), action: ACTION })
        }
        (true, Some(c)) if c.status == "False" => Some(Event {
            warning: false,
            reason: ACCEPTED.into(),
            note: "the object is valid again and in use".into(),
            action: ACTION,
        }),
        _ => None,
    };
    Some(Update {
        condition: Condition {
            type_: ACCEPTED.into(),
            status: status.into(),
            reason,
            message,
            observed_generation: generation,
            last_transition_time: transition,
        },
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrolb_core::config::{Kind, ObjectRef, Reason};

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).expect("valid time"))
    }

    fn refused(problems: &[Problem]) -> Verdict<'_> {
        Verdict { problems, warnings: &[] }
    }

    fn overlap() -> Problem {
        Problem {
            field: "spec.addresses[0]".into(),
            reason: Reason::AddressesOverlap,
            message: "203.0.113.0/25 overlaps 203.0.113.0/24 of IPAddressPool a, which was created first".into(),
            other: Some(ObjectRef::new(Kind::IPAddressPool, "a")),
        }
    }

    #[test]
    fn a_new_valid_object_is_accepted_quietly() {
        let u = update(&Verdict::default(), Some(1), &[], &at(10)).expect("an update");
        assert_eq!((u.condition.status.as_str(), u.condition.reason.as_str()), ("True", "Accepted"));
        assert_eq!(u.condition.observed_generation, Some(1));
        assert_eq!(u.event, None);
    }

    #[test]
    fn a_refused_object_says_why_and_gets_a_warning() {
        let u = update(&refused(&[overlap()]), Some(2), &[], &at(10)).expect("an update");
        assert_eq!(u.condition.status, "False");
        assert_eq!(u.condition.reason, "AddressesOverlap");
        assert!(u.condition.message.starts_with("spec.addresses[0]: 203.0.113.0/25 overlaps"));
        let e = u.event.expect("an event");
        assert!(e.warning);
        assert_eq!(e.reason, "AddressesOverlap");
    }

    #[test]
    fn an_object_accepted_with_a_warning_says_so_and_gets_a_warning_event_once() {
        let beyond = Problem {
            field: "spec.aggregationLength".into(),
            reason: Reason::AggregationBeyondPool,
            message: "26 is shorter than /31".into(),
            other: None,
        };
        let warned = Verdict { problems: &[], warnings: std::slice::from_ref(&beyond) };
        let u = update(&warned, Some(1), &[], &at(10)).expect("an update");
        assert_eq!((u.condition.status.as_str(), u.condition.reason.as_str()), ("True", "AggregationBeyondPool"));
        assert!(u.condition.message.starts_with("valid and in use, with warnings: spec.aggregationLength: 26"));
        let e = u.event.expect("an event");
        assert!(e.warning);
        assert_eq!(e.reason, "AggregationBeyondPool");
        assert_eq!(update(&warned, Some(1), std::slice::from_ref(&u.condition), &at(20)), None, "said once");
        let clean = update(&Verdict::default(), Some(2), &[u.condition], &at(30)).expect("an update");
        assert_eq!((clean.condition.reason.as_str(), clean.event), ("Accepted", None));
    }

    #[test]
    fn nothing_to_write_when_the_condition_already_says_it() {
        let first = update(&refused(&[overlap()]), Some(2), &[], &at(10)).expect("an update");
        assert_eq!(update(&refused(&[overlap()]), Some(2), std::slice::from_ref(&first.condition), &at(20)), None);
    }

    #[test]
    fn a_new_generation_with_the_same_verdict_keeps_the_transition_time_and_stays_quiet() {
        let first = update(&refused(&[overlap()]), Some(2), &[], &at(10)).expect("an update");
        let again = update(&refused(&[overlap()]), Some(3), &[first.condition], &at(20)).expect("an update");
        assert_eq!(again.condition.last_transition_time, at(10));
        assert_eq!(again.event, None);
    }

    #[test]
    fn a_fixed_object_flips_back_with_a_normal_event() {
        let refused = update(&refused(&[overlap()]), Some(2), &[], &at(10)).expect("an update");
        let fixed = update(&Verdict::default(), Some(3), &[refused.condition], &at(20)).expect("an update");
        assert_eq!(fixed.condition.status, "True");
        assert_eq!(fixed.condition.last_transition_time, at(20));
        let e = fixed.event.expect("an event");
        assert!(!e.warning);
        assert_eq!(e.reason, "Accepted");
    }

    #[test]
    fn the_patch_keeps_the_conditions_others_own_and_guards_the_version() {
        let session = Condition {
            type_: "BGPSessionEstablished/node1".into(),
            status: "True".into(),
            reason: "Established".into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: at(1),
        };
        let old = update(&Verdict::default(), Some(1), &[], &at(1)).expect("an update").condition;
        let u = update(&refused(&[overlap()]), Some(2), &[session.clone(), old], &at(10)).expect("an update");
        let patch = u.patch(&[session, u.condition.clone()], Some("42"));
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        let conditions = patch["status"]["conditions"].as_array().expect("a list");
        assert_eq!(conditions.len(), 2);
        assert_eq!(conditions[0]["type"], "BGPSessionEstablished/node1");
        assert_eq!((&conditions[1]["type"], &conditions[1]["status"]), (&json!("Accepted"), &json!("False")));
    }

    #[test]
    fn the_other_object_is_named_once() {
        let mut p = overlap();
        assert!(!message(&refused(std::slice::from_ref(&p))).contains("(IPAddressPool a)"), "already in the message");
        p.message = "overlaps another pool".into();
        assert!(message(&refused(&[p])).ends_with("(IPAddressPool a)"));
    }

    #[test]
    fn long_messages_are_cut() {
        let many: Vec<Problem> = (0..100).map(|_| overlap()).collect();
        let m = message(&refused(&many));
        assert!(m.len() <= MAX_MESSAGE + 4 && m.ends_with(" ..."));
    }
}
