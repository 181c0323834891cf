//! Whether two label selectors can select the same object: decided exactly, key by key, from
//! what each requirement says of that key's presence and value.
//!
//! MetalLB accepts two BGPPeers with the same address when their node selectors cannot select
//! the same node (say `matchLabels: {rack: a}` and `{rack: b}`); this is the test that tells.
//! Keys are independent of each other, and a key's value may be any string, so one key's
//! requirements are satisfiable exactly when they do not both demand and forbid the key, and,
//! when they name the values it may take, one of those is not excluded.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Operator;

/// What the requirements of two selectors say of one key.
#[derive(Debug, Default)]
struct KeyDemands<'a> {
    /// Some requirement needs the key present (a matchLabels pair, In, Exists).
    present: bool,
    /// Some requirement needs it absent (DoesNotExist).
    absent: bool,
    /// The values it may take, when some requirement names them (matchLabels, In): the
    /// intersection of all such lists.
    allowed: Option<BTreeSet<&'a str>>,
    /// Values it must not take (NotIn).
    forbidden: BTreeSet<&'a str>,
}

impl<'a> KeyDemands<'a> {
    fn allow(&mut self, values: impl IntoIterator<Item = &'a str>) {
        let values: BTreeSet<&str> = values.into_iter().collect();
        self.present = true;
        self.allowed = Some(match self.allowed.take() {
            Some(allowed) => allowed.intersection(&values).copied().collect(),
            None => values,
        });
    }

    fn satisfiable(&self) -> bool {
        if self.present && self.absent {
            return false;
        }
        match &self.allowed {
            Some(allowed) => allowed.iter().any(|value| !self.forbidden.contains(value)),
            // Absent, or present with a value nobody forbids: there is always one.
            None => true,
        }
    }
}

/// Whether some object's labels satisfy both `a` and `b`. A selector with a requirement
/// Kubernetes would refuse (see [`super::matches`]) selects nothing, so it overlaps nothing.
pub fn can_select_together(a: &LabelSelector, b: &LabelSelector) -> bool {
    let mut keys: BTreeMap<&str, KeyDemands> = BTreeMap::new();
    for selector in [a, b] {
        for (key, value) in selector.match_labels.iter().flatten() {
            keys.entry(key).or_default().allow([value.as_str()]);
        }
        for requirement in selector.match_expressions.iter().flatten() {
            let values = requirement.values.as_deref().unwrap_or_default();
            let Some(operator) = Operator::parse(&requirement.operator) else { return false };
            if operator.takes_values() == values.is_empty() {
                return false;
            }
            let demands = keys.entry(&requirement.key).or_default();
            match operator {
                Operator::In => demands.allow(values.iter().map(String::as_str)),
                Operator::NotIn => demands.forbidden.extend(values.iter().map(String::as_str)),
                Operator::Exists => demands.present = true,
                Operator::DoesNotExist => demands.absent = true,
            }
        }
    }
    keys.values().all(KeyDemands::satisfiable)
}

/// MetalLB's reading of two selector lists (an empty list selects everything; otherwise any one
/// selector of a list is enough): whether some object is selected by both lists.
pub fn lists_can_select_together(a: &[LabelSelector], b: &[LabelSelector]) -> bool {
    let everything = [LabelSelector::default()];
    let a = if a.is_empty() { &everything[..] } else { a };
    let b = if b.is_empty() { &everything[..] } else { b };
    a.iter().any(|a| b.iter().any(|b| can_select_together(a, b)))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use proptest::prelude::*;

    use super::*;
    use crate::selectors::matches;

    fn labels(pairs: &[(&str, &str)]) -> LabelSelector {
        LabelSelector {
            match_labels: Some(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
            match_expressions: None,
        }
    }

    fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn exprs(requirements: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector { match_labels: None, match_expressions: Some(requirements) }
    }

    #[test]
    fn the_cases_a_peer_author_writes() {
        let rack_a = labels(&[("rack", "a")]);
        let rack_b = labels(&[("rack", "b")]);
        assert!(!can_select_together(&rack_a, &rack_b), "one key, two values");
        assert!(can_select_together(&rack_a, &labels(&[("zone", "z1")])), "different keys");
        assert!(can_select_together(&rack_a, &LabelSelector::default()), "the empty selector selects all");
        assert!(!can_select_together(&rack_a, &exprs(vec![expr("rack", "DoesNotExist", &[])])));
        assert!(!can_select_together(&rack_a, &exprs(vec![expr("rack", "NotIn", &["a"])])));
        assert!(can_select_together(&rack_a, &exprs(vec![expr("rack", "In", &["a", "b"])])));
        assert!(!can_select_together(
            &exprs(vec![expr("rack", "In", &["a", "b"])]),
            &exprs(vec![expr("rack", "In", &["c"])])
        ));
        assert!(
            can_select_together(&exprs(vec![expr("rack", "Exists", &[])]), &exprs(vec![expr("rack", "NotIn", &["a"])])),
            "some other value"
        );
        assert!(!can_select_together(&rack_a, &exprs(vec![expr("rack", "Bogus", &[])])), "invalid selects nothing");
    }

    #[test]
    fn lists_follow_metallbs_reading() {
        let rack = |v: &str| labels(&[("rack", v)]);
        assert!(lists_can_select_together(&[], &[rack("a")]), "an empty list selects every node");
        assert!(!lists_can_select_together(&[rack("a")], &[rack("b"), rack("c")]));
        assert!(lists_can_select_together(&[rack("a"), rack("c")], &[rack("b"), rack("c")]));
    }

    const KEYS: [&str; 2] = ["k1", "k2"];
    // Selectors name values from the first two; labels may also take a third, unnamed one.
    const VALUES: [&str; 3] = ["x", "y", "z"];

    fn requirement() -> impl Strategy<Value = LabelSelectorRequirement> {
        let values = prop::collection::vec(prop::sample::select(&VALUES[..2]), 0..3);
        let operator = prop::sample::select(&["In", "NotIn", "Exists", "DoesNotExist"][..]);
        (prop::sample::select(&KEYS[..]), operator, values).prop_map(|(key, operator, values)| {
            let values = if matches!(operator, "In" | "NotIn") && values.is_empty() { vec!["x"] } else { values };
            let values = if matches!(operator, "Exists" | "DoesNotExist") { vec![] } else { values };
            expr(key, operator, &values)
        })
    }

    fn selector() -> impl Strategy<Value = LabelSelector> {
        let pairs =
            prop::collection::btree_map(prop::sample::select(&KEYS[..]), prop::sample::select(&VALUES[..2]), 0..2);
        (pairs, prop::collection::vec(requirement(), 0..3)).prop_map(|(pairs, requirements)| LabelSelector {
            match_labels: Some(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()),
            match_expressions: Some(requirements),
        })
    }

    /// Every label set over the keys, each key absent or one of the values.
    fn every_label_set() -> Vec<BTreeMap<String, String>> {
        let choices: Vec<Option<&str>> = std::iter::once(None).chain(VALUES.iter().copied().map(Some)).collect();
        let mut sets = vec![BTreeMap::new()];
        for key in KEYS {
            sets = sets
                .into_iter()
                .flat_map(|set| {
                    choices.iter().map(move |choice| {
                        let mut set = set.clone();
                        if let Some(value) = choice {
                            set.insert(key.to_owned(), (*value).to_owned());
                        }
                        set
                    })
                })
                .collect();
        }
        sets
    }

    proptest! {
        /// The exact answer agrees with trying every label set (a third value stands for all the
        /// values no selector names).
        #[test]
        fn agrees_with_trying_every_label_set(a in selector(), b in selector()) {
            let by_search = every_label_set().iter().any(|set| matches(&a, set) && matches(&b, set));
            prop_assert_eq!(can_select_together(&a, &b), by_search);
        }
    }
}
