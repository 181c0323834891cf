//! Services FerroLB leaves alone: not of type LoadBalancer, or of another loadBalancerClass.

use ferrolb_core::annotations::Annotation;

use super::contract::FERROLB_CLASS;
use super::{Explanation, Facts, Topic, Verdict};

/// The Service is not of type LoadBalancer.
pub(crate) fn not_load_balancer(facts: &Facts<'_>, type_: &str) -> Explanation {
    let service = &facts.service;
    let mut explanation = Explanation::new(
        Verdict::NotServed,
        format!(
            "FerroLB does not serve Service {}: it is of type {type_}, and FerroLB gives addresses only to \
             Services of type LoadBalancer.",
            service.key
        ),
    );
    let asks = !service.asks_nothing() || service.request.sharing_key.is_some();
    if asks {
        let keys: Vec<&str> = Annotation::ALL.iter().map(|a| a.key()).collect();
        explanation.add(
            Topic::Why,
            [format!(
                "Its FerroLB annotations ({} and their MetalLB spellings) take effect only on a Service of type \
                 LoadBalancer.",
                keys.join(", ")
            )],
        );
    }
    explanation.add(
        Topic::NextSteps,
        [format!(
            "To give it an external address, set spec.type: LoadBalancer (kubectl patch service -n {} {} -p \
             '{{\"spec\":{{\"type\":\"LoadBalancer\"}}}}').",
            service.namespace,
            service.key.split_once('/').map_or("", |(_, name)| name)
        )],
    );
    explanation
}

/// The Service has another loadBalancerClass, and the controller wrote nothing on it.
pub(crate) fn other_class(facts: &Facts<'_>, class: &str) -> Explanation {
    let service = &facts.service;
    let mut explanation = Explanation::new(
        Verdict::NotServed,
        format!(
            "FerroLB leaves Service {} alone: its spec.loadBalancerClass is {class:?}, and FerroLB serves only \
             Services with no class or with the class {FERROLB_CLASS}.",
            service.key
        ),
    );
    let mut why = vec![format!(
        "A load balancer implementation that handles class {class:?} is expected to give it an address; FerroLB \
         neither assigns nor announces one."
    )];
    if !service.ingress.is_empty() {
        why.push(format!(
            "Its status.loadBalancer.ingress lists {}, written by that implementation, not by FerroLB.",
            service.ingress_text()
        ));
    }
    why.push(format!(
        "A ferrolb-controller started with class {class:?} would serve it, but none has written its condition on \
         this Service."
    ));
    explanation.add(Topic::Why, why);
    explanation.add(
        Topic::NextSteps,
        [
            format!(
                "To have FerroLB serve it, re-create the Service with no spec.loadBalancerClass or with \
                 {FERROLB_CLASS} (the field cannot be changed on an existing LoadBalancer Service)."
            ),
            format!("Or check that the implementation serving class {class:?} is installed and running."),
        ],
    );
    explanation
}
