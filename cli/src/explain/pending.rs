//! Services FerroLB serves that have no address: the controller said why (a False condition), or
//! it has said nothing yet.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::advice::advise;
use super::contract::{ALLOCATION_FAILED, FERROLB_CLASS, INSTALL_NAMESPACE};
use super::pools::Acceptance;
use super::service::Serving;
use super::{Explanation, Facts, Topic, Verdict};

/// The controller wrote a condition that is not True.
pub(crate) fn refused(facts: &Facts<'_>, condition: &Condition) -> Explanation {
    let service = &facts.service;
    let message = condition.message.trim().trim_end_matches('.');
    let mut explanation =
        Explanation::new(Verdict::Pending, format!("Service {} has no address from FerroLB: {message}.", service.key));
    let mut why = vec![match condition.reason.as_str() {
        ALLOCATION_FAILED => format!(
            "The controller could not assign an address ({ALLOCATION_FAILED}, since {}).",
            condition.last_transition_time.0
        ),
        reason => format!(
            "The controller's condition is {} with reason {reason} (since {}).",
            condition.status, condition.last_transition_time.0
        ),
    }];
    why.extend(class_line(facts));
    why.extend(stale_line(facts));
    if !service.ingress.is_empty() {
        why.push(format!(
            "Its status.loadBalancer.ingress still lists {}; FerroLB does not stand behind it.",
            service.ingress_text()
        ));
    }
    let mut advice = advise(facts, message, None);
    if advice.steps.is_empty() {
        let (namespace, name) = service.key.split_once('/').unwrap_or_default();
        advice.steps.push(format!(
            "The controller's message above is the reason; kubectl describe service -n {namespace} {name} shows its \
             Events, and the controller's log tells more."
        ));
    }
    explanation.add(Topic::Why, why);
    explanation.add(Topic::NextSteps, advice.steps);
    explanation.add(Topic::Pools, advice.findings);
    explanation
}

/// FerroLB should serve the Service, but the controller wrote no condition on it.
pub(crate) fn not_handled(facts: &Facts<'_>) -> Explanation {
    let service = &facts.service;
    let mut explanation = Explanation::new(
        Verdict::NotHandled,
        format!(
            "Service {} has not been handled by FerroLB: ferrolb-controller has written no condition on it.",
            service.key
        ),
    );
    let class = match &service.class {
        None => "no loadBalancerClass".to_owned(),
        Some(class) => format!("the class {class}"),
    };
    let mut why = vec![format!(
        "It is of type LoadBalancer with {class}, so a running ferrolb-controller answers within a second, with \
         an address or a reason."
    )];
    if !service.ingress.is_empty() {
        why.push(format!(
            "Its status.loadBalancer.ingress lists {} nonetheless: another load balancer implementation (or an old \
             FerroLB) may have written it.",
            service.ingress_text()
        ));
    }
    if let Ok(pools) = &facts.pools
        && !pools.is_empty()
        && pools.iter().all(|pool| pool.acceptance == Acceptance::NotReported)
    {
        why.push(
            "No IPAddressPool has an Accepted condition either: the controller has not run against this cluster, or \
             cannot write status."
                .to_owned(),
        );
    }
    explanation.add(Topic::Why, why);
    let mut steps = vec![
        format!(
            "Check that ferrolb-controller is running: kubectl get pods -n {INSTALL_NAMESPACE} (and read its logs: \
             kubectl logs -n {INSTALL_NAMESPACE} <controller pod>)."
        ),
        "If it was just created, run this again in a few seconds.".to_owned(),
    ];
    let advice = advise(facts, "", None);
    if facts.pools.is_err() {
        steps.push("Check that FerroLB's CRDs are installed: kubectl get crd ipaddresspools.ferrolb.io.".to_owned());
    }
    steps.extend(advice.steps);
    explanation.add(Topic::NextSteps, steps);
    explanation.add(Topic::Pools, advice.findings);
    explanation
}

/// For a class other than FerroLB's default that the controller answered anyway: why.
pub(crate) fn class_line(facts: &Facts<'_>) -> Option<String> {
    match (&facts.service.serving, &facts.service.class) {
        (Serving::OtherClass { class }, _) => Some(format!(
            "Its spec.loadBalancerClass is {class:?}, not {FERROLB_CLASS}: the ferrolb-controller answering it was \
             started with that class name."
        )),
        _ => None,
    }
}

/// When the controller has not yet seen the Service's latest change.
pub(crate) fn stale_line(facts: &Facts<'_>) -> Option<String> {
    facts.service.stale_condition().map(|(seen, current)| {
        format!(
            "The condition is about generation {seen} of the Service, which is now at generation {current}: the \
             controller has not handled the latest change yet (run this again in a moment)."
        )
    })
}
