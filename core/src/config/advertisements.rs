//! L2Advertisements, and what both kinds of advertisement share: the pools they cover.
//!
//! An advertisement covers the pools it names, plus the pools its `ipAddressPoolSelectors`
//! select, or every accepted pool when it neither names nor selects any. A named pool must
//! exist and be accepted; a selector that selects nothing is not an error (the pools may come).

use std::collections::BTreeSet;

use ferrolb_crds::L2Advertisement;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::fields::{check_interface, no_repeats, selector, selector_list};
use super::validate::{Accepted, Object, Problems, record};
use super::{Layer2Advertisement, Pool, Reason, Verdicts};
use crate::selectors::matches;

/// Weights a preferred node selector may have.
const WEIGHTS: std::ops::RangeInclusive<i32> = 1..=100;

/// The names of the pools an advertisement covers, sorted; problems for names that do not
/// resolve, names given twice, and invalid selectors.
pub(super) fn covered_pools(
    names: &[String],
    selectors: &[LabelSelector],
    pools: &Accepted<Pool>,
    problems: &mut Problems,
) -> Vec<String> {
    no_repeats(problems, "spec.ipAddressPools", names, "IPAddressPool");
    selector_list(problems, "spec.ipAddressPoolSelectors", selectors);
    if names.is_empty() && selectors.is_empty() {
        return pools.accepted.keys().cloned().collect();
    }
    let mut covered = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        match pools.resolve(format!("spec.ipAddressPools[{i}]"), name) {
            Ok(pool) => covered.insert(pool.name.clone()),
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
    }
    if !selectors.is_empty() {
        let selected = pools.accepted.values().filter(|pool| selectors.iter().any(|s| matches(s, &pool.labels)));
        covered.extend(selected.map(|pool| pool.name.clone()));
    }
    covered.into_iter().collect()
}

/// Validates every L2Advertisement, recording a verdict on each; the accepted ones come back
/// in name order.
pub(super) fn validate(
    advertisements: &[L2Advertisement],
    pools: &Accepted<Pool>,
    verdicts: &mut Verdicts,
) -> Vec<Layer2Advertisement> {
    let mut accepted = Vec::new();
    for advertisement in advertisements {
        let spec = &advertisement.spec;
        let mut problems = Problems::default();
        let covered = covered_pools(&spec.ip_address_pools, &spec.ip_address_pool_selectors, pools, &mut problems);
        selector_list(&mut problems, "spec.nodeSelectors", &spec.node_selectors);
        selector_list(&mut problems, "spec.serviceSelectors", &spec.service_selectors);
        // MetalLB takes any interface name, and a name given twice once; so does FerroLB, but
        // says when a name cannot be a Linux interface's (nothing is announced on it then).
        for (i, interface) in spec.interfaces.iter().enumerate() {
            if let Err(message) = check_interface(interface) {
                let message = format!("{message}: no interface can match it, so nothing is announced through it");
                problems.warn(format!("spec.interfaces[{i}]"), Reason::InvalidField, message, None);
            }
        }
        for (i, preferred) in spec.preferred_node_selectors.iter().enumerate() {
            let field = format!("spec.preferredNodeSelectors[{i}]");
            if !WEIGHTS.contains(&preferred.weight) {
                problems.invalid(
                    format!("{field}.weight"),
                    format!("{} is not from {} to {}", preferred.weight, WEIGHTS.start(), WEIGHTS.end()),
                );
            }
            selector(&mut problems, &format!("{field}.preference"), &preferred.preference);
        }
        if problems.is_empty() {
            accepted.push(Layer2Advertisement {
                name: advertisement.name().to_owned(),
                pools: covered,
                node_selectors: spec.node_selectors.clone(),
                interfaces: spec.interfaces.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect(),
                service_selectors: spec.service_selectors.clone(),
                preferred: spec.preferred_node_selectors.iter().map(|p| (p.weight, p.preference.clone())).collect(),
            });
        }
        record(verdicts, advertisement.object_ref(), problems);
    }
    accepted.sort_by(|a, b| a.name.cmp(&b.name));
    accepted
}
