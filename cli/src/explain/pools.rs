//! What `explain` needs to know of an IPAddressPool: its addresses, whether the controller
//! accepted it, which Services its serviceAllocation admits, and its counters.
//!
//! Admission follows the controller's rule (MetalLB's): a pool without serviceAllocation admits
//! every Service; with one, the Service's namespace must be listed by name or selected by labels
//! (when neither is given, any namespace will do) and its labels must match one service
//! selector (when none is given, any Service will do).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ferrolb_core::addresses::{AddressRange, Family, parse_pool_entry};
use ferrolb_core::selectors::{any_matches, matches};
use ferrolb_crds::{ACCEPTED, IPAddressPool, ServiceAllocation};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether the controller accepted a pool, as its `Accepted` condition says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Acceptance {
    /// `Accepted` is True.
    Accepted,
    /// `Accepted` is False (or Unknown), with the controller's reason and message.
    Refused {
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// No `Accepted` condition: the controller has not validated the pool (yet).
    NotReported,
}

/// Whether a pool serves a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// It does.
    Admits,
    /// It does not: what stands in the way, and why, in words.
    Refuses(Obstacle, String),
    /// It may or may not: the namespace's labels could not be read.
    Unknown(String),
}

/// What keeps a pool from serving a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Obstacle {
    /// The controller did not accept the pool.
    NotAccepted,
    /// The pool has autoAssign: false (only for automatic assignment).
    NotAutoAssign,
    /// The serviceAllocation admits other namespaces.
    Namespace,
    /// The serviceAllocation admits Services with other labels.
    ServiceLabels,
}

/// The Service as a pool's serviceAllocation sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The Service's namespace.
    pub namespace: &'a str,
    /// The namespace's labels, when they could be read.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
    /// The Service's labels.
    pub labels: &'a BTreeMap<String, String>,
}

/// One pool, as `explain` reads it.
#[derive(Debug, Clone)]
pub(crate) struct PoolFacts {
    /// Its name.
    pub name: String,
    /// `spec.addresses` as written.
    pub addresses: Vec<String>,
    /// The entries that parse, as ranges.
    pub ranges: Vec<AddressRange>,
    /// `spec.autoAssign`.
    pub auto_assign: bool,
    /// `spec.serviceAllocation`.
    pub allocation: Option<ServiceAllocation>,
    /// Its `Accepted` condition.
    pub acceptance: Acceptance,
    /// Counters from its status: (assigned, available) for IPv4 then IPv6, when reported.
    counters: [(Option<i64>, Option<i64>); 2],
}

impl PoolFacts {
    /// Reads `pool`.
    pub(crate) fn new(pool: &IPAddressPool) -> Self {
        let name = pool.metadata.name.clone().unwrap_or_default();
        let ranges = pool.spec.addresses.iter().filter_map(|entry| parse_pool_entry(entry).ok()).map(|e| e.range);
        let status = pool.status.clone().unwrap_or_default();
        let acceptance = match status.conditions.iter().find(|c| c.type_ == ACCEPTED) {
            None => Acceptance::NotReported,
            Some(c) if c.status == "True" => Acceptance::Accepted,
            Some(c) => Acceptance::Refused { reason: c.reason.clone(), message: c.message.clone() },
        };
        PoolFacts {
            name,
            addresses: pool.spec.addresses.clone(),
            ranges: ranges.collect(),
            auto_assign: pool.spec.auto_assign,
            allocation: pool.spec.service_allocation.clone(),
            acceptance,
            counters: [(status.assigned_ipv4, status.available_ipv4), (status.assigned_ipv6, status.available_ipv6)],
        }
    }

    /// Whether one of the pool's entries holds `ip`.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(ip))
    }

    /// Whether the pool has addresses of `family`.
    pub(crate) fn has_family(&self, family: Family) -> bool {
        self.ranges.iter().any(|range| range.family() == family)
    }

    /// Whether the controller accepted the pool.
    pub(crate) fn accepted(&self) -> bool {
        self.acceptance == Acceptance::Accepted
    }

    /// The pool's addresses, as written: "203.0.113.0/24, 2001:db8:100::/120".
    pub(crate) fn addresses_text(&self) -> String {
        if self.addresses.is_empty() { "no addresses".to_owned() } else { self.addresses.join(", ") }
    }

    /// "Pool lab-bgp is Accepted", or why not, as a sentence.
    pub(crate) fn acceptance_sentence(&self) -> String {
        match &self.acceptance {
            Acceptance::Accepted => format!("Pool {} is Accepted.", self.name),
            Acceptance::Refused { reason, message } => {
                format!("Pool {} is not Accepted ({reason}): {message}", self.name)
            }
            Acceptance::NotReported => {
                format!("Pool {} has no Accepted condition: the controller has not validated it yet.", self.name)
            }
        }
    }

    /// The counters the controller reported, e.g. "IPv4: 3 assigned, 253 available", if any.
    pub(crate) fn counters_text(&self) -> Option<String> {
        let parts: Vec<String> = [Family::V4, Family::V6]
            .into_iter()
            .zip(self.counters)
            .filter(|(family, _)| self.has_family(*family))
            .filter_map(|(family, counts)| match counts {
                (None, None) => None,
                (assigned, available) => {
                    let number = |n: Option<i64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
                    Some(format!("{family}: {} assigned, {} available", number(assigned), number(available)))
                }
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Whether the pool's serviceAllocation admits `candidate` (a pool without one admits all).
    pub(crate) fn admits(&self, candidate: Candidate<'_>) -> Admission {
        let Some(allocation) = &self.allocation else {
            return Admission::Admits;
        };
        let by_name = allocation.namespaces.iter().any(|ns| ns == candidate.namespace);
        let any_namespace = allocation.namespaces.is_empty() && allocation.namespace_selectors.is_empty();
        let namespace = if any_namespace || by_name {
            Some(true)
        } else if allocation.namespace_selectors.is_empty() {
            Some(false)
        } else {
            candidate.namespace_labels.map(|labels| allocation.namespace_selectors.iter().any(|s| matches(s, labels)))
        };
        let service = any_matches(&allocation.service_selectors, candidate.labels);
        let namespaces = namespace_restriction(allocation).unwrap_or_default();
        match (namespace, service) {
            (Some(false), _) => Admission::Refuses(
                Obstacle::Namespace,
                format!("its serviceAllocation admits only {namespaces}, not namespace {}", candidate.namespace),
            ),
            (_, false) => Admission::Refuses(
                Obstacle::ServiceLabels,
                format!(
                    "its serviceAllocation admits only Services labelled {}, and this Service's labels match none",
                    selectors_text(&allocation.service_selectors)
                ),
            ),
            (None, true) => Admission::Unknown(format!(
                "its serviceAllocation admits only {namespaces}; whether namespace {} matches is unknown \
                 (its labels could not be read)",
                candidate.namespace
            )),
            (Some(true), true) => Admission::Admits,
        }
    }

    /// Whether the controller would draw from this pool for `candidate` when it asks for no
    /// address and names no pool: accepted, autoAssign, and admitted by serviceAllocation. The
    /// reason when it would not.
    pub(crate) fn automatic_for(&self, candidate: Candidate<'_>) -> Admission {
        match &self.acceptance {
            Acceptance::Accepted => {}
            Acceptance::Refused { message, .. } => {
                return Admission::Refuses(Obstacle::NotAccepted, format!("it is not Accepted: {message}"));
            }
            Acceptance::NotReported => {
                let why = "the controller has not validated it yet (no Accepted condition)".to_owned();
                return Admission::Refuses(Obstacle::NotAccepted, why);
            }
        }
        if !self.auto_assign {
            return Admission::Refuses(
                Obstacle::NotAutoAssign,
                format!(
                    "autoAssign is false: only Services that name it in {} get its addresses",
                    ferrolb_core::annotations::Annotation::AddressPool.key()
                ),
            );
        }
        self.admits(candidate)
    }

    /// The serviceAllocation's restriction in words, e.g. "namespaces team-b, team-c", if it
    /// restricts anything.
    pub(crate) fn restriction_text(&self) -> Option<String> {
        let allocation = self.allocation.as_ref()?;
        let mut parts: Vec<String> = namespace_restriction(allocation).into_iter().collect();
        if !allocation.service_selectors.is_empty() {
            parts.push(format!("Services labelled {}", selectors_text(&allocation.service_selectors)));
        }
        if let Some(priority) = allocation.priority {
            parts.push(format!("priority {priority}"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// "namespaces team-b, team-c or namespaces labelled env=prod", if the allocation restricts
/// namespaces.
fn namespace_restriction(allocation: &ServiceAllocation) -> Option<String> {
    let mut parts = Vec::new();
    if !allocation.namespaces.is_empty() {
        parts.push(format!("namespaces {}", allocation.namespaces.join(", ")));
    }
    if !allocation.namespace_selectors.is_empty() {
        parts.push(format!("namespaces labelled {}", selectors_text(&allocation.namespace_selectors)));
    }
    (!parts.is_empty()).then(|| parts.join(" or "))
}

/// Selectors written as kubectl writes them, alternatives joined by " or ".
pub(crate) fn selectors_text(selectors: &[LabelSelector]) -> String {
    selectors.iter().map(selector_text).collect::<Vec<_>>().join(" or ")
}

/// One selector as kubectl writes it: `env=prod,tier in (a,b),!legacy`; `{}` selects everything.
fn selector_text(selector: &LabelSelector) -> String {
    let pairs = selector.match_labels.iter().flatten().map(|(key, value)| format!("{key}={value}"));
    let expressions = selector.match_expressions.iter().flatten().map(|r| {
        let values = r.values.as_deref().unwrap_or_default().join(",");
        match r.operator.as_str() {
            "In" => format!("{} in ({values})", r.key),
            "NotIn" => format!("{} notin ({values})", r.key),
            "Exists" => r.key.clone(),
            "DoesNotExist" => format!("!{}", r.key),
            other => format!("{} {other} ({values})", r.key),
        }
    });
    let text = pairs.chain(expressions).collect::<Vec<_>>().join(",");
    if text.is_empty() { "{} (anything)".to_owned() } else { text }
}

/// Every pool, in name order, and lookups on them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pools(Vec<PoolFacts>);

impl Pools {
    /// Reads `pools`, sorted by name.
    pub(crate) fn new(pools: &[IPAddressPool]) -> Self {
        let mut list: Vec<PoolFacts> = pools.iter().map(PoolFacts::new).collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Pools(list)
    }

    /// The pool named `name`.
    pub(crate) fn named(&self, name: &str) -> Option<&PoolFacts> {
        self.0.iter().find(|pool| pool.name == name)
    }

    /// The pools holding `ip` (one, unless pools overlap).
    pub(crate) fn holding(&self, ip: IpAddr) -> Vec<&PoolFacts> {
        self.0.iter().filter(|pool| pool.contains(ip)).collect()
    }

    /// Every pool, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PoolFacts> {
        self.0.iter()
    }

    /// Whether there is no pool.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names of all pools, comma-separated.
    pub(crate) fn names(&self) -> String {
        self.0.iter().map(|pool| pool.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The pools whose name appears as a word in `text`, e.g. in a condition's message.
    pub(crate) fn mentioned_in(&self, text: &str) -> Vec<&PoolFacts> {
        let words: Vec<&str> =
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')).map(trim_dots).collect();
        self.0.iter().filter(|pool| words.contains(&pool.name.as_str())).collect()
    }
}

/// A word without the sentence's trailing or leading dots.
fn trim_dots(word: &str) -> &str {
    word.trim_matches('.')
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn facts(allocation: Option<ServiceAllocation>) -> PoolFacts {
        let mut pool = IPAddressPool::new(
            "p",
            ferrolb_crds::IPAddressPoolSpec {
                addresses: vec!["203.0.113.0/24".to_owned(), "bad".to_owned()],
                auto_assign: true,
                avoid_buggy_ips: false,
                service_allocation: allocation,
            },
        );
        pool.status = None;
        PoolFacts::new(&pool)
    }

    fn selector(key: &str, value: &str) -> LabelSelector {
        LabelSelector { match_labels: Some([(key.to_owned(), value.to_owned())].into()), match_expressions: None }
    }

    #[test]
    fn selectors_are_written_as_kubectl_writes_them() {
        let requirement = |key: &str, operator: &str, values: &[&str]| LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        };
        let selector = LabelSelector {
            match_labels: Some(labels(&[("env", "prod")])),
            match_expressions: Some(vec![
                requirement("tier", "In", &["a", "b"]),
                requirement("zone", "NotIn", &["x"]),
                requirement("gpu", "Exists", &[]),
                requirement("legacy", "DoesNotExist", &[]),
            ]),
        };
        assert_eq!(selector_text(&selector), "env=prod,tier in (a,b),zone notin (x),gpu,!legacy");
        assert_eq!(selector_text(&LabelSelector::default()), "{} (anything)");
        assert_eq!(selectors_text(&[selector_with("a"), selector_with("b")]), "k=a or k=b");

        fn selector_with(value: &str) -> LabelSelector {
            LabelSelector { match_labels: Some([("k".to_owned(), value.to_owned())].into()), match_expressions: None }
        }
    }

    #[test]
    fn admission_follows_the_controllers_rule() {
        let service = labels(&[("app", "web")]);
        let dev = labels(&[("env", "dev")]);
        let prod = labels(&[("env", "prod")]);
        fn candidate<'a>(
            namespace_labels: Option<&'a BTreeMap<String, String>>,
            labels: &'a BTreeMap<String, String>,
        ) -> Candidate<'a> {
            Candidate { namespace: "a", namespace_labels, labels }
        }

        assert_eq!(facts(None).admits(candidate(None, &service)), Admission::Admits);
        let only_b = facts(Some(ServiceAllocation { namespaces: vec!["b".into()], ..Default::default() }));
        assert!(matches!(only_b.admits(candidate(None, &service)), Admission::Refuses(Obstacle::Namespace, _)));
        let by_name_or_label = facts(Some(ServiceAllocation {
            namespaces: vec!["b".into()],
            namespace_selectors: vec![selector("env", "prod")],
            ..Default::default()
        }));
        assert!(matches!(by_name_or_label.admits(candidate(None, &service)), Admission::Unknown(_)));
        assert!(matches!(
            by_name_or_label.admits(candidate(Some(&dev), &service)),
            Admission::Refuses(Obstacle::Namespace, _)
        ));
        assert_eq!(by_name_or_label.admits(candidate(Some(&prod), &service)), Admission::Admits);
        let by_service =
            facts(Some(ServiceAllocation { service_selectors: vec![selector("app", "db")], ..Default::default() }));
        assert!(matches!(by_service.admits(candidate(None, &service)), Admission::Refuses(Obstacle::ServiceLabels, _)));
        let priority_only = facts(Some(ServiceAllocation { priority: Some(1), ..Default::default() }));
        assert_eq!(priority_only.admits(candidate(None, &service)), Admission::Admits);
        assert_eq!(priority_only.restriction_text().as_deref(), Some("priority 1"));
    }

    #[test]
    fn a_pool_without_accepted_condition_or_autoassign_serves_no_one_automatically() {
        let service = BTreeMap::new();
        let candidate = Candidate { namespace: "a", namespace_labels: None, labels: &service };
        let pool = facts(None);
        assert_eq!(pool.acceptance, Acceptance::NotReported);
        assert!(matches!(pool.automatic_for(candidate), Admission::Refuses(Obstacle::NotAccepted, _)));
        let mut pool = pool;
        pool.acceptance = Acceptance::Accepted;
        assert_eq!(pool.automatic_for(candidate), Admission::Admits);
        pool.auto_assign = false;
        assert!(matches!(pool.automatic_for(candidate), Admission::Refuses(Obstacle::NotAutoAssign, _)));
    }

    #[test]
    fn entries_that_do_not_parse_are_kept_as_written_but_hold_nothing() {
        let pool = facts(None);
        assert_eq!(pool.addresses_text(), "203.0.113.0/24, bad");
        assert!(pool.contains("203.0.113.7".parse().unwrap()));
        assert!(!pool.contains("192.0.2.1".parse().unwrap()));
        assert!(pool.has_family(Family::V4) && !pool.has_family(Family::V6));
    }

    #[test]
    fn pools_are_found_by_whole_name_in_a_message() {
        let pool = |name: &str| {
            let mut p = facts(None);
            p.name = name.to_owned();
            p
        };
        let pools = Pools(vec![pool("lab"), pool("lab-bgp"), pool("v6")]);
        let found: Vec<&str> = pools
            .mentioned_in("IPAddressPool lab-bgp has no free IPv4 address.")
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(found, ["lab-bgp"]);
        let found: Vec<&str> =
            pools.mentioned_in("out of addresses: lab, v6.").iter().map(|p| p.name.as_str()).collect();
        assert_eq!(found, ["lab", "v6"]);
    }
}
