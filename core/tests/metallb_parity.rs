//! FerroLB's verdict agrees with MetalLB's on every configuration of `metallb_parity/cases.rs`:
//! what MetalLB refuses, FerroLB refuses on the object the rule is about, with the field and
//! reason the case names; what MetalLB accepts, FerroLB accepts (some with a warning).

// The shared builders unwrap constant inputs.
#![allow(clippy::unwrap_used)]

#[path = "metallb_parity/cases.rs"]
mod cases;
mod config_builders;

use cases::{Ferro, MetalLb, cases};
use config_builders::build;

#[test]
fn every_case_gets_metallbs_verdict() {
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let agrees = matches!(
            (case.metallb, &case.ferro),
            (MetalLb::Refuses, Ferro::Refused(..))
                | (MetalLb::Accepts, Ferro::Accepted | Ferro::Warned(_) | Ferro::NotYet(_))
        );
        assert!(agrees, "{}: the table itself disagrees with MetalLB ({})", case.name, case.rule);
        let (_, verdicts) = build(&case.objects);
        let problems = verdicts.problems(&case.judged);
        let warnings = verdicts.warnings(&case.judged);
        let got_ok = match &case.ferro {
            Ferro::Accepted => problems.is_empty() && warnings.is_empty(),
            Ferro::Warned(reason) => problems.is_empty() && warnings.iter().any(|w| w.reason == *reason),
            Ferro::Refused(field, reason) => problems.first().is_some_and(|p| p.field == *field && p.reason == *reason),
            Ferro::NotYet(field) => problems
                .first()
                .is_some_and(|p| p.field == *field && p.reason == ferrolb_core::config::Reason::NotSupported),
        };
        if !got_ok {
            failures.push(format!(
                "{} ({}): want {:?}, got problems {problems:?}, warnings {warnings:?}",
                case.name, case.rule, case.ferro
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases disagree:\n{}", failures.len(), all.len(), failures.join("\n"));
    let refused = all.iter().filter(|c| c.metallb == MetalLb::Refuses).count();
    let gaps: Vec<&str> = all.iter().filter(|c| matches!(c.ferro, Ferro::NotYet(_))).map(|c| c.name).collect();
    eprintln!(
        "{} cases agree with MetalLB ({refused} refused, {} accepted); not supported yet, refused: {gaps:?}",
        all.len(),
        all.len() - refused
    );
}

#[test]
fn every_message_names_its_field_and_reads_as_a_sentence() {
    for case in cases() {
        let (_, verdicts) = build(&case.objects);
        for problem in verdicts.problems(&case.judged).iter().chain(verdicts.warnings(&case.judged)) {
            assert!(!problem.field.is_empty() && problem.message.len() > 10, "{}: {problem:?}", case.name);
            assert!(!problem.message.ends_with('.'), "{}: messages are fragments: {}", case.name, problem.message);
        }
    }
}
