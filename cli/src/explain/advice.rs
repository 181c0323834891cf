//! Why a Service (or one of its families) has no address, checked against the pools, and what
//! to change.
//!
//! The controller's message is the reason and is shown as written. The advice does not depend on
//! its exact wording: what can be checked from the objects (a named pool that does not exist or
//! is not accepted, a requested address outside every pool, no pool for the namespace) is
//! checked; only what cannot be (exhaustion, an address in use, sharing refused, a missing
//! family) is recognised from words in the message.

use std::net::IpAddr;

use ferrolb_core::addresses::Family;
use ferrolb_core::annotations::Annotation;

use super::pools::{Admission, Obstacle, PoolFacts, Pools};
use super::{Facts, key_used};

/// Findings (facts that explain the reason) and next steps, most likely first.
#[derive(Debug, Default)]
pub(crate) struct Advice {
    /// Facts about the pools and the request that bear on the reason.
    pub findings: Vec<String>,
    /// What to change.
    pub steps: Vec<String>,
}

impl Advice {
    fn finding(&mut self, line: String) {
        if !self.findings.contains(&line) {
            self.findings.push(line);
        }
    }

    fn step(&mut self, line: String) {
        if !self.steps.contains(&line) {
            self.steps.push(line);
        }
    }
}

/// Advice for `reason`, the controller's message on why the Service (or its `family`, when
/// only one is missing) has no address; `reason` is empty when the controller has said nothing.
/// When nothing specific is found and the Service asks for nothing in particular, the findings
/// say which pools may serve it.
pub(crate) fn advise(facts: &Facts<'_>, reason: &str, family: Option<Family>) -> Advice {
    let mut advice = Advice::default();
    for problem in &facts.service.request.problems {
        advice.step(format!("Correct the Service: {problem}."));
    }
    match &facts.pools {
        Ok(pools) => {
            named_pool(facts, pools, &mut advice);
            requested_addresses(facts, pools, &mut advice);
            from_message(facts, pools, reason, family, &mut advice);
            no_pool_for_service(facts, pools, reason, &mut advice);
            if advice.steps.is_empty() && facts.service.asks_nothing() {
                survey(facts, pools, &mut advice);
            }
        }
        Err(_) => {
            advice.findings.extend(facts.pools_unreadable());
            from_message(facts, &Pools::default(), reason, family, &mut advice);
        }
    }
    advice
}

/// The pool the Service names: missing, not accepted, or not admitting it.
fn named_pool(facts: &Facts<'_>, pools: &Pools, advice: &mut Advice) {
    let Some(name) = &facts.service.request.pool else {
        return;
    };
    let key = key_used(&facts.service.request, Annotation::AddressPool);
    let Some(pool) = pools.named(name.as_str()) else {
        advice.finding(format!("Pool {name}, named by {key}, does not exist."));
        advice.finding(existing_pools(pools));
        advice.step(format!("Name an existing pool in {key}, or create IPAddressPool {name}."));
        return;
    };
    if !pool.accepted() {
        advice.finding(pool.acceptance_sentence());
        advice.step(format!(
            "Fix IPAddressPool {name} as its Accepted condition says (kubectl describe ipaddresspool {name}), or \
             name another pool in {key}."
        ));
    }
    match pool.admits(facts.candidate()) {
        Admission::Admits => {}
        Admission::Refuses(_, why) | Admission::Unknown(why) => {
            advice.finding(format!("Pool {name}, named by {key}, may not serve this Service: {why}."));
            advice.step(format!(
                "Change the serviceAllocation of pool {name} to admit this Service, or name another pool in {key}."
            ));
        }
    }
}

/// The addresses the Service asks for: in no pool, in a pool that is not accepted or does not
/// admit it, or outside the pool it names.
fn requested_addresses(facts: &Facts<'_>, pools: &Pools, advice: &mut Advice) {
    let request = &facts.service.request;
    let Some(source) = request.requested_from else {
        return;
    };
    let mut outside = Vec::new();
    for &ip in &request.requested {
        let holding = pools.holding(ip);
        let Some(pool) = holding.first() else {
            outside.push(ip);
            continue;
        };
        if let Some(named) = &request.pool
            && !holding.iter().any(|p| p.name == named.as_str())
        {
            advice.finding(format!(
                "{ip}, asked for in {source}, is in pool {}, not in pool {named}, which the Service names.",
                pool.name
            ));
            advice.step(format!("Ask for an address of pool {named}, or name pool {} instead.", pool.name));
        }
        if !pool.accepted() {
            advice.finding(format!("{ip}, asked for in {source}, is in pool {}.", pool.name));
            advice.finding(pool.acceptance_sentence());
            advice.step(format!(
                "Fix IPAddressPool {} as its Accepted condition says (kubectl describe ipaddresspool {}).",
                pool.name, pool.name
            ));
        }
        if let Admission::Refuses(_, why) = pool.admits(facts.candidate()) {
            advice.finding(format!(
                "{ip}, asked for in {source}, is in pool {}, which may not serve it: {why}.",
                pool.name
            ));
            advice.step(format!(
                "Ask for an address of a pool that serves namespace {}, or change the serviceAllocation of pool {}.",
                facts.service.namespace, pool.name
            ));
        }
    }
    if outside.is_empty() {
        return;
    }
    let listed = outside.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(" and ");
    let verb = if outside.len() == 1 { "is" } else { "are" };
    advice.finding(format!("{listed}, asked for in {source}, {verb} in no IPAddressPool."));
    advice.findings.extend(pool_ranges(pools));
    advice.step(format!(
        "Ask for an address inside one of the pools in {source}, or add {listed} to a pool's spec.addresses."
    ));
}

/// What only the message can tell: exhaustion, an address in use, sharing refused, a family
/// missing everywhere.
fn from_message(facts: &Facts<'_>, pools: &Pools, reason: &str, family: Option<Family>, advice: &mut Advice) {
    let lower = reason.to_lowercase();
    let sharing_key = key_used(&facts.service.request, Annotation::AllowSharedIp);
    let mentioned = pools.mentioned_in(reason);
    if ["no free", "out of", "exhausted"].iter().any(|word| lower.contains(word)) {
        let family = family.or_else(|| family_in(&lower));
        let relevant = if mentioned.is_empty() { automatic_pools(facts, pools) } else { mentioned.clone() };
        for pool in &relevant {
            advice.finding(pool_summary(pool));
        }
        let names = names(&relevant);
        let family = family.map_or_else(String::new, |f| format!("{f} "));
        if names.is_empty() {
            advice.step(format!("Add {family}addresses to a pool that serves this Service."));
        } else {
            advice.step(format!(
                "Add {family}addresses to the spec.addresses of {names}, or create another pool that serves this \
                 Service."
            ));
        }
        advice.step(
            "Or free addresses: delete LoadBalancer Services that no longer need theirs, or change their type \
             (kubectl get services -A shows which hold an EXTERNAL-IP)."
                .to_owned(),
        );
    }
    if lower.contains("in use") {
        advice.step(format!(
            "Ask for another address; or, if the two Services may share it, give both the same {sharing_key} value \
             (their ports must not overlap, and with externalTrafficPolicy: Local their pod selectors must be the \
             same)."
        ));
    } else if ["sharing key", "already used", "pod selector"].iter().any(|word| lower.contains(word)) {
        advice.step(format!(
            "Services share an address only with the same {sharing_key} value, no (protocol, port) in common, and, \
             with externalTrafficPolicy: Local, the same pod selector: change the ports, the key or the selector, \
             or ask for another address."
        ));
    }
    if lower.contains("avoidbuggyips") {
        let pools = names(&mentioned);
        let pools = if pools.is_empty() { "the pool".to_owned() } else { pools };
        advice.step(format!(
            "Ask for an address that does not end in .0 or .255, or set avoidBuggyIPs: false on {pools}."
        ));
    }
    if lower.contains("asks for specific addresses") {
        let key = key_used(&facts.service.request, Annotation::LoadBalancerIps);
        advice.step(format!(
            "List one address of each family the Service needs in {key}, or set spec.ipFamilyPolicy to SingleStack \
             or PreferDualStack (it is {}).",
            facts.service.family_policy
        ));
    }
    if let Some(family) = lacking_family(&lower) {
        let with: Vec<&PoolFacts> = pools.iter().filter(|p| p.has_family(family)).collect();
        if with.is_empty() {
            advice.finding(format!("No IPAddressPool has {family} addresses."));
        } else {
            advice.finding(format!("Pools with {family} addresses: {}.", names(&with)));
        }
        advice.step(format!(
            "Add {family} addresses to a pool that serves this Service, or set spec.ipFamilyPolicy (and \
             spec.ipFamilies) so that the Service does not need an {family} address."
        ));
    }
}

/// When the Service asks for nothing in particular and no pool will serve it automatically:
/// each pool and why not.
fn no_pool_for_service(facts: &Facts<'_>, pools: &Pools, reason: &str, advice: &mut Advice) {
    let service = &facts.service;
    if !service.asks_nothing() {
        return;
    }
    let lower = reason.to_lowercase();
    let said = ["namespace", "no pool", "no ipaddresspool"].iter().any(|word| lower.contains(word));
    if !said && !automatic_pools(facts, pools).is_empty() {
        return;
    }
    if pools.is_empty() {
        advice.finding("There is no IPAddressPool at all.".to_owned());
        advice.step(
            "Create an IPAddressPool with the addresses FerroLB may hand out (see config/samples in FerroLB's \
             repository)."
                .to_owned(),
        );
        return;
    }
    let blocked = survey(facts, pools, advice);
    let blocked_by = |wanted: Obstacle| -> Vec<&PoolFacts> {
        blocked.iter().filter(|(obstacle, _)| *obstacle == wanted).map(|(_, pool)| *pool).collect()
    };
    let key = key_used(&service.request, Annotation::AddressPool);
    let by_namespace = blocked_by(Obstacle::Namespace);
    if !by_namespace.is_empty() {
        advice.step(format!(
            "Add namespace {} to the serviceAllocation.namespaces of {} (or label the namespace to match its \
             namespaceSelectors), or create a pool for it.",
            service.namespace,
            names(&by_namespace)
        ));
    }
    let by_labels = blocked_by(Obstacle::ServiceLabels);
    if !by_labels.is_empty() {
        advice.step(format!(
            "Label the Service to match the serviceAllocation.serviceSelectors of {}, or change them.",
            names(&by_labels)
        ));
    }
    let not_auto = blocked_by(Obstacle::NotAutoAssign);
    if !not_auto.is_empty() {
        advice
            .step(format!("Or name {} in the Service's {key} annotation.", names(&not_auto).replace(" and ", " or ")));
    }
    for pool in blocked_by(Obstacle::NotAccepted) {
        advice.step(format!(
            "Fix IPAddressPool {} as its Accepted condition says (kubectl describe ipaddresspool {}).",
            pool.name, pool.name
        ));
    }
}

/// One finding per pool: whether it serves the Service automatically, and if not, why. Returns
/// the pools that do not, with what stands in the way.
fn survey<'p>(facts: &Facts<'_>, pools: &'p Pools, advice: &mut Advice) -> Vec<(Obstacle, &'p PoolFacts)> {
    let mut blocked = Vec::new();
    for pool in pools.iter() {
        match pool.automatic_for(facts.candidate()) {
            Admission::Admits => {
                advice.finding(format!("Pool {} ({}) may serve it.", pool.name, pool.addresses_text()));
            }
            Admission::Refuses(obstacle, why) => {
                blocked.push((obstacle, pool));
                advice.finding(format!("Pool {} does not serve it automatically: {why}.", pool.name));
            }
            Admission::Unknown(why) => {
                blocked.push((Obstacle::Namespace, pool));
                advice.finding(format!("Pool {} may not serve it automatically: {why}.", pool.name));
            }
        }
    }
    blocked
}

/// The accepted autoAssign pools that admit the Service: where it gets an address when it asks
/// for nothing in particular.
fn automatic_pools<'p>(facts: &Facts<'_>, pools: &'p Pools) -> Vec<&'p PoolFacts> {
    pools.iter().filter(|pool| pool.automatic_for(facts.candidate()) == Admission::Admits).collect()
}

/// "Pool lab-bgp (203.0.113.0/24): IPv4: 256 assigned, 0 available."
fn pool_summary(pool: &PoolFacts) -> String {
    match pool.counters_text() {
        Some(counters) => format!("Pool {} ({}): {counters}.", pool.name, pool.addresses_text()),
        None => format!("Pool {} ({}).", pool.name, pool.addresses_text()),
    }
}

/// One line per pool with its addresses, or a line saying there is none.
fn pool_ranges(pools: &Pools) -> Vec<String> {
    if pools.is_empty() {
        return vec!["There is no IPAddressPool at all.".to_owned()];
    }
    pools.iter().map(|pool| format!("Pool {} holds {}.", pool.name, pool.addresses_text())).collect()
}

/// "Existing pools: a, b." or "There is no IPAddressPool at all."
fn existing_pools(pools: &Pools) -> String {
    if pools.is_empty() {
        "There is no IPAddressPool at all.".to_owned()
    } else {
        format!("Existing pools: {}.", pools.names())
    }
}

/// "pool a", "pools a and b", "pools a, b and c".
fn names(pools: &[&PoolFacts]) -> String {
    let names: Vec<&str> = pools.iter().map(|pool| pool.name.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!("pool {one}"),
        [rest @ .., last] => format!("pools {} and {last}", rest.join(", ")),
    }
}

/// The family a lower-cased message speaks of, if one.
fn family_in(lower: &str) -> Option<Family> {
    match (lower.contains("ipv4"), lower.contains("ipv6")) {
        (true, false) => Some(Family::V4),
        (false, true) => Some(Family::V6),
        _ => None,
    }
}

/// The family a lower-cased message says is missing from the pools ("has no IPv6 addresses",
/// "no pool that may serve this Service has IPv6 addresses"), not merely exhausted.
fn lacking_family(lower: &str) -> Option<Family> {
    if lower.contains("free") {
        return None;
    }
    [Family::V4, Family::V6].into_iter().find(|family| {
        let plural = format!("{} addresses", family.to_string().to_lowercase());
        lower.contains(&format!("has no {plural}")) || lower.contains(&format!("has {plural}"))
    })
}
