//! Services that have their address: from which pool, why that pool, what the pool's state is,
//! and, under PreferDualStack, why one family is missing.

use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::Annotation;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::advice::advise;
use super::contract::missing_family_marker;
use super::pending::{class_line, stale_line};
use super::pools::{Admission, PoolFacts};
use super::{Explanation, Facts, Topic, Verdict, key_used};

/// The controller's condition is True.
pub(crate) fn explain(facts: &Facts<'_>, condition: &Condition) -> Explanation {
    let service = &facts.service;
    let (message, missing) = split_missing_family(condition.message.trim());
    let sources: Vec<(IpAddr, Option<String>)> = service.ingress.iter().map(|&ip| (ip, pool_of(facts, ip))).collect();
    let headline = if sources.is_empty() {
        format!(
            "Service {} is assigned an address by FerroLB, but its status.loadBalancer.ingress is still empty: {}.",
            service.key,
            message.trim_end_matches('.')
        )
    } else {
        format!("Service {} has {}.", service.key, origin_text(&sources))
    };
    let mut explanation = Explanation::new(Verdict::Assigned, headline);

    let mut why = vec![format!("FerroLB says: {}.", message.trim_end_matches('.'))];
    why.push(choice_line(facts, &sources));
    if let Some((family, reason)) = &missing {
        why.push(format!(
            "It has no {family} address, though its ipFamilyPolicy is {}: {}.",
            service.family_policy,
            reason.trim_end_matches('.')
        ));
    }
    why.push(sharing_line(facts));
    why.extend(class_line(facts));
    why.extend(stale_line(facts));
    why.extend(drift_lines(facts, &sources));
    explanation.add(Topic::Why, why);

    if let Some((family, reason)) = &missing {
        let advice = advise(facts, reason, Some(*family));
        explanation.add(Topic::NextSteps, advice.steps);
        explanation.add(Topic::Pools, advice.findings);
    }
    explanation.add(Topic::Pools, pool_lines(facts, &sources));
    explanation.add(Topic::Pools, facts.pools_unreadable());

    explanation
}

/// The message without its `; no IPv6 address: <reason>` tail, and that tail's family and
/// reason.
fn split_missing_family(message: &str) -> (&str, Option<(Family, String)>) {
    for family in [Family::V6, Family::V4] {
        if let Some((main, reason)) = message.split_once(&missing_family_marker(family)) {
            return (main, Some((family, reason.to_owned())));
        }
    }
    (message, None)
}

/// The pool `ip` came from: the annotated pool that holds it, else the only annotated pool, else
/// the pool that holds it.
fn pool_of(facts: &Facts<'_>, ip: IpAddr) -> Option<String> {
    let annotated = &facts.service.allocated_from;
    let holding: Vec<String> = match &facts.pools {
        Ok(pools) => pools.holding(ip).into_iter().map(|pool| pool.name.clone()).collect(),
        Err(_) => Vec::new(),
    };
    let only_annotated = match annotated.as_slice() {
        [only] => Some(only),
        _ => None,
    };
    annotated.iter().find(|name| holding.contains(name)).or(only_annotated).or_else(|| holding.first()).cloned()
}

/// "203.0.113.5 from IPAddressPool lab-bgp", or one phrase per address when pools differ.
fn origin_text(sources: &[(IpAddr, Option<String>)]) -> String {
    let ips = sources.iter().map(|(ip, _)| ip.to_string()).collect::<Vec<_>>().join(" and ");
    let phrase = |pool: &Option<String>| match pool {
        Some(pool) => format!("from IPAddressPool {pool}"),
        None => "from a pool FerroLB does not name".to_owned(),
    };
    match sources {
        [(_, first), rest @ ..] if rest.iter().all(|(_, pool)| pool == first) => format!("{ips} {}", phrase(first)),
        _ => sources.iter().map(|(ip, pool)| format!("{ip} {}", phrase(pool))).collect::<Vec<_>>().join(" and "),
    }
}

/// How the pool was chosen, read from what the Service asks for.
fn choice_line(facts: &Facts<'_>, sources: &[(IpAddr, Option<String>)]) -> String {
    let request = &facts.service.request;
    if let Some(source) = request.requested_from {
        let ips = request.requested.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(" and ");
        return format!("The Service asks for {ips} in {source}; the pool is the one that holds it.");
    }
    if let Some(pool) = &request.pool {
        let key = key_used(request, Annotation::AddressPool);
        return format!("The Service names pool {pool} in {key}.");
    }
    let selecting = sources.iter().filter_map(|(_, pool)| pool.as_deref()).find_map(|name| {
        let pool = facts.pools.as_ref().ok()?.named(name)?;
        let restriction = pool.restriction_text()?;
        (pool.admits(facts.candidate()) == Admission::Admits).then_some((name, restriction))
    });
    match selecting {
        Some((name, restriction)) => format!(
            "The Service asks for no address and names no pool; pool {name}'s serviceAllocation ({restriction}) \
             admits it, and such pools are tried before the pools without one."
        ),
        None => "The Service asks for no address and names no pool, so FerroLB took an autoAssign pool: those whose \
                 serviceAllocation admits the Service first (lower priority first, then by name), then the others \
                 by name."
            .to_owned(),
    }
}

/// Whether other Services may share the address.
fn sharing_line(facts: &Facts<'_>) -> String {
    let request = &facts.service.request;
    let key = key_used(request, Annotation::AllowSharedIp);
    match &request.sharing_key {
        Some(sharing) => format!(
            "Sharing key {:?} ({key}): other Services with the same key may use the same address, as long as \
             their ports do not overlap.",
            sharing.as_str()
        ),
        None => format!("No sharing key ({key}): no other Service may use the same address."),
    }
}

/// Addresses whose pool no longer exists or no longer holds them.
fn drift_lines(facts: &Facts<'_>, sources: &[(IpAddr, Option<String>)]) -> Vec<String> {
    let Ok(pools) = &facts.pools else {
        return Vec::new();
    };
    sources
        .iter()
        .filter_map(|(ip, pool)| {
            let Some(name) = pool else {
                return Some(format!(
                    "{ip} is in no IPAddressPool: the controller should move the Service to an address of a pool."
                ));
            };
            match pools.named(name) {
                None => Some(format!(
                    "Pool {name} no longer exists: the controller should move the Service to another pool."
                )),
                Some(pool) if !pool.contains(*ip) => Some(format!(
                    "{ip} is no longer in pool {name} ({}): the controller should move the Service to an address \
                     of a pool.",
                    pool.addresses_text()
                )),
                Some(_) => None,
            }
        })
        .collect()
}

/// For each pool used: accepted or not, addresses and counters, restriction.
fn pool_lines(facts: &Facts<'_>, sources: &[(IpAddr, Option<String>)]) -> Vec<String> {
    let Ok(pools) = &facts.pools else {
        return Vec::new();
    };
    let mut used: Vec<&PoolFacts> = Vec::new();
    for name in sources.iter().filter_map(|(_, pool)| pool.as_deref()) {
        if let Some(pool) = pools.named(name)
            && !used.iter().any(|p| p.name == pool.name)
        {
            used.push(pool);
        }
    }
    let mut lines = Vec::new();
    for pool in used {
        lines.push(pool.acceptance_sentence());
        let counters = pool.counters_text().map_or_else(String::new, |c| format!("; {c}"));
        lines.push(format!("Pool {} holds {}{counters}.", pool.name, pool.addresses_text()));
        if let Some(restriction) = pool.restriction_text() {
            lines.push(format!("Pool {}'s serviceAllocation: {restriction}.", pool.name));
        }
        if !pool.auto_assign {
            lines.push(format!(
                "Pool {} has autoAssign: false: only Services that name it or ask for one of its addresses get \
                 its addresses.",
                pool.name
            ));
        }
    }
    lines
}
