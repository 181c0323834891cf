//! FerroLB's recent Events on the Service, newest last, one line each.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::contract::{ALLOCATED, ALLOCATION_FAILED, ANNOTATION_ALIAS};

/// How many Events are shown.
const SHOWN: usize = 5;

/// Lines for FerroLB's Events among `events` (by reason or reporter), the last [`SHOWN`] by time:
/// `2025-05-01T10:00:00Z Warning AllocationFailed (x3): message`.
pub(crate) fn lines(events: &[Event]) -> Vec<String> {
    let mut ours: Vec<(Option<Timestamp>, &Event)> =
        events.iter().filter(|event| is_ferrolb(event)).map(|event| (when(event), event)).collect();
    ours.sort_by_key(|(time, _)| *time);
    let skip = ours.len().saturating_sub(SHOWN);
    ours.into_iter()
        .skip(skip)
        .map(|(time, event)| {
            let time = time.map_or_else(|| "(no time)".to_owned(), |t| t.to_string());
            let type_ = event.type_.as_deref().unwrap_or("Normal");
            let reason = event.reason.as_deref().unwrap_or("");
            let count = match event.series.as_ref().and_then(|s| s.count).or(event.count) {
                Some(count) if count > 1 => format!(" (x{count})"),
                _ => String::new(),
            };
            let message = event.message.as_deref().unwrap_or("").trim_end();
            format!("{time} {type_} {reason}{count}: {message}")
        })
        .collect()
}

/// Whether FerroLB reported `event`: one of its reasons, or a reporter named ferrolb-something.
fn is_ferrolb(event: &Event) -> bool {
    let reason = event.reason.as_deref().unwrap_or("");
    let reporters = [event.reporting_component.as_deref(), event.source.as_ref().and_then(|s| s.component.as_deref())];
    [ALLOCATED, ALLOCATION_FAILED, ANNOTATION_ALIAS].contains(&reason)
        || reporters.into_iter().flatten().any(|reporter| reporter.contains("ferrolb"))
}

/// When `event` last happened, as well as it says.
fn when(event: &Event) -> Option<Timestamp> {
    let series = event.series.as_ref().and_then(|s| s.last_observed_time.as_ref()).map(|t| t.0);
    series
        .or_else(|| event.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}
