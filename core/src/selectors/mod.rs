//! Label selectors as Kubernetes defines them, and MetalLB's lists of them.
//!
//! [`matches()`] answers whether one `LabelSelector` selects a set of labels, [`any_matches`]
//! applies MetalLB's rule for a list of selectors (as in `nodeSelectors`, `serviceSelectors`),
//! and [`validate`] finds what the apiserver would refuse in a selector. Custom resources get no
//! such check from the apiserver, so configuration validation calls [`validate`] itself.

mod overlap;

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use crate::names::{NameProblem, check_label_value, check_qualified_name};

pub use overlap::{can_select_together, lists_can_select_together};

/// The operator of a `matchExpressions` requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// The label is present and its value is one of the values.
    In,
    /// The label is absent, or its value is none of the values.
    NotIn,
    /// The label is present, whatever its value.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl Operator {
    /// The operator spelled `text` (case-sensitive, as Kubernetes spells it), if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }

    /// Whether the operator needs a non-empty `values` (In, NotIn) rather than none.
    pub fn takes_values(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        })
    }
}

/// Whether `selector` selects an object with `labels`: every `matchLabels` pair and every
/// `matchExpressions` requirement must hold. An empty selector selects everything.
///
/// A requirement that Kubernetes would refuse to build (unknown operator, In/NotIn without
/// values, Exists/DoesNotExist with values) selects nothing, so an invalid selector never
/// widens a selection. Key and value syntax is not checked here; see [`validate`].
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let pairs_hold = selector.match_labels.iter().flatten().all(|(key, value)| labels.get(key) == Some(value));
    pairs_hold && selector.match_expressions.iter().flatten().all(|requirement| requirement_holds(requirement, labels))
}

/// MetalLB's reading of a list of selectors: an empty list selects everything; otherwise one
/// selector selecting the labels is enough.
pub fn any_matches(selectors: &[LabelSelector], labels: &BTreeMap<String, String>) -> bool {
    selectors.is_empty() || selectors.iter().any(|selector| matches(selector, labels))
}

fn requirement_holds(requirement: &LabelSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let Some(operator) = Operator::parse(&requirement.operator) else {
        return false;
    };
    if operator.takes_values() == values.is_empty() {
        return false;
    }
    let label = labels.get(&requirement.key);
    match operator {
        Operator::In => label.is_some_and(|value| values.contains(value)),
        Operator::NotIn => label.is_none_or(|value| !values.contains(value)),
        Operator::Exists => label.is_some(),
        Operator::DoesNotExist => label.is_none(),
    }
}

/// One thing the apiserver would refuse in a selector, at a path inside the selector such as
/// `matchExpressions[1].values`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct SelectorError {
    /// Where in the selector, e.g. `matchLabels[app]` or `matchExpressions[0].key`.
    pub path: String,
    /// What is wrong there.
    pub problem: SelectorProblem,
}

impl SelectorError {
    /// The same error with `parent` (the selector's own path, e.g. `spec.nodeSelectors[0]`)
    /// prepended to its path.
    pub fn under(mut self, parent: &str) -> Self {
        if !parent.is_empty() {
            self.path = if self.path.starts_with('[') {
                format!("{parent}{}", self.path)
            } else {
                format!("{parent}.{}", self.path)
            };
        }
        self
    }
}

/// What is wrong at a [`SelectorError`]'s path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorProblem {
    /// The operator is not one Kubernetes knows.
    #[error("operator {operator:?} is not one of In, NotIn, Exists, DoesNotExist")]
    UnknownOperator {
        /// The operator as written.
        operator: String,
    },
    /// In or NotIn with no values.
    #[error("values must not be empty when the operator is {operator}")]
    ValuesRequired {
        /// In or NotIn.
        operator: Operator,
    },
    /// Exists or DoesNotExist with values.
    #[error("values must be empty when the operator is {operator}")]
    ValuesForbidden {
        /// Exists or DoesNotExist.
        operator: Operator,
    },
    /// The label key is not a valid qualified name.
    #[error("label key {key:?} is invalid: {problem}")]
    InvalidKey {
        /// The key as written.
        key: String,
        /// Why it is invalid.
        problem: NameProblem,
    },
    /// A label value is not valid.
    #[error("label value {value:?} is invalid: {problem}")]
    InvalidValue {
        /// The value as written.
        value: String,
        /// Why it is invalid.
        problem: NameProblem,
    },
}

/// Everything the apiserver would refuse in `selector`, in the order found; empty when valid.
pub fn validate(selector: &LabelSelector) -> Vec<SelectorError> {
    let mut errors = Vec::new();
    let mut push = |path: String, problem| errors.push(SelectorError { path, problem });
    for (key, value) in selector.match_labels.iter().flatten() {
        if let Err(problem) = check_qualified_name(key) {
            push("matchLabels".to_owned(), SelectorProblem::InvalidKey { key: key.clone(), problem });
        }
        if let Err(problem) = check_label_value(value) {
            let value = value.clone();
            push(format!("matchLabels[{key}]"), SelectorProblem::InvalidValue { value, problem });
        }
    }
    for (i, requirement) in selector.match_expressions.iter().flatten().enumerate() {
        let at = |field: &str| format!("matchExpressions[{i}].{field}");
        let values = requirement.values.as_deref().unwrap_or_default();
        match Operator::parse(&requirement.operator) {
            None => push(at("operator"), SelectorProblem::UnknownOperator { operator: requirement.operator.clone() }),
            Some(operator) if operator.takes_values() && values.is_empty() => {
                push(at("values"), SelectorProblem::ValuesRequired { operator })
            }
            Some(operator) if !operator.takes_values() && !values.is_empty() => {
                push(at("values"), SelectorProblem::ValuesForbidden { operator })
            }
            Some(_) => {}
        }
        if let Err(problem) = check_qualified_name(&requirement.key) {
            let key = requirement.key.clone();
            push(at("key"), SelectorProblem::InvalidKey { key, problem });
        }
        for (j, value) in values.iter().enumerate() {
            if let Err(problem) = check_label_value(value) {
                let value = value.clone();
                push(at(&format!("values[{j}]")), SelectorProblem::InvalidValue { value, problem });
            }
        }
    }
    errors
}

/// [`validate`] over a list of selectors, each error's path starting with its index (`[2].…`).
pub fn validate_all(selectors: &[LabelSelector]) -> Vec<SelectorError> {
    selectors
        .iter()
        .enumerate()
        .flat_map(|(i, selector)| validate(selector).into_iter().map(move |error| error.under(&format!("[{i}]"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn sel(match_labels: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector {
            match_labels: (!match_labels.is_empty()).then(|| labels(match_labels)),
            match_expressions: (!exprs.is_empty()).then_some(exprs),
        }
    }

    #[test]
    fn matches_follows_kubernetes() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let none = labels(&[]);
        let cases: Vec<(&str, LabelSelector, &BTreeMap<String, String>, bool)> = vec![
            ("empty selects all", LabelSelector::default(), &web, true),
            ("empty selects unlabelled", LabelSelector::default(), &none, true),
            ("empty lists select all", sel(&[], vec![]), &web, true),
            ("matchLabels hit", sel(&[("app", "web")], vec![]), &web, true),
            ("matchLabels all needed", sel(&[("app", "web"), ("tier", "back")], vec![]), &web, false),
            ("matchLabels missing key", sel(&[("zone", "a")], vec![]), &web, false),
            ("In hit", sel(&[], vec![req("app", "In", &["db", "web"])]), &web, true),
            ("In miss", sel(&[], vec![req("app", "In", &["db"])]), &web, false),
            ("In absent", sel(&[], vec![req("zone", "In", &["a"])]), &web, false),
            ("NotIn hit", sel(&[], vec![req("app", "NotIn", &["db"])]), &web, true),
            ("NotIn miss", sel(&[], vec![req("app", "NotIn", &["web"])]), &web, false),
            ("NotIn absent", sel(&[], vec![req("zone", "NotIn", &["a"])]), &web, true),
            ("Exists hit", sel(&[], vec![req("app", "Exists", &[])]), &web, true),
            ("Exists miss", sel(&[], vec![req("zone", "Exists", &[])]), &web, false),
            ("DoesNotExist hit", sel(&[], vec![req("zone", "DoesNotExist", &[])]), &web, true),
            ("DoesNotExist miss", sel(&[], vec![req("app", "DoesNotExist", &[])]), &web, false),
            ("labels and expressions ANDed", sel(&[("app", "web")], vec![req("tier", "In", &["back"])]), &web, false),
            (
                "expressions ANDed",
                sel(&[], vec![req("app", "Exists", &[]), req("tier", "NotIn", &["back"])]),
                &web,
                true,
            ),
            ("unknown operator", sel(&[], vec![req("app", "in", &["web"])]), &web, false),
            ("NotIn without values", sel(&[], vec![req("zone", "NotIn", &[])]), &web, false),
            ("Exists with values", sel(&[], vec![req("app", "Exists", &["web"])]), &web, false),
        ];
        for (name, selector, labels, want) in cases {
            assert_eq!(matches(&selector, labels), want, "{name}");
        }
    }

    #[test]
    fn missing_values_field_reads_as_empty() {
        let mut exists = req("app", "Exists", &[]);
        exists.values = None;
        assert!(matches(&sel(&[], vec![exists]), &labels(&[("app", "x")])));
    }

    #[test]
    fn any_matches_uses_metallb_list_semantics() {
        let web = labels(&[("app", "web")]);
        let db = sel(&[("app", "db")], vec![]);
        let web_sel = sel(&[("app", "web")], vec![]);
        assert!(any_matches(&[], &web));
        assert!(!any_matches(std::slice::from_ref(&db), &web));
        assert!(any_matches(&[db, web_sel], &web));
    }

    #[test]
    fn validate_reports_paths_and_reasons() {
        let long = "v".repeat(64);
        type Case = (&'static str, LabelSelector, Vec<(&'static str, SelectorProblem)>);
        let cases: Vec<Case> = vec![
            ("empty", LabelSelector::default(), vec![]),
            (
                "valid",
                sel(
                    &[("kubernetes.io/hostname", "node-1"), ("empty", "")],
                    vec![req("zone", "In", &["a", ""]), req("x.io/y", "DoesNotExist", &[])],
                ),
                vec![],
            ),
            (
                "bad matchLabels key and value",
                sel(&[("bad key", "bad value")], vec![]),
                vec![
                    (
                        "matchLabels",
                        SelectorProblem::InvalidKey { key: "bad key".into(), problem: NameProblem::BadCharacters },
                    ),
                    (
                        "matchLabels[bad key]",
                        SelectorProblem::InvalidValue {
                            value: "bad value".into(),
                            problem: NameProblem::BadCharacters,
                        },
                    ),
                ],
            ),
            (
                "unknown operator",
                sel(&[], vec![req("app", "Equals", &["web"])]),
                vec![("matchExpressions[0].operator", SelectorProblem::UnknownOperator { operator: "Equals".into() })],
            ),
            (
                "In needs values",
                sel(&[], vec![req("app", "Exists", &[]), req("app", "In", &[])]),
                vec![("matchExpressions[1].values", SelectorProblem::ValuesRequired { operator: Operator::In })],
            ),
            (
                "DoesNotExist takes none",
                sel(&[], vec![req("app", "DoesNotExist", &["web"])]),
                vec![(
                    "matchExpressions[0].values",
                    SelectorProblem::ValuesForbidden { operator: Operator::DoesNotExist },
                )],
            ),
            (
                "bad key and value in expression",
                sel(&[], vec![req("/app", "NotIn", &["ok", long.as_str()])]),
                vec![
                    (
                        "matchExpressions[0].key",
                        SelectorProblem::InvalidKey { key: "/app".into(), problem: NameProblem::EmptyPrefix },
                    ),
                    (
                        "matchExpressions[0].values[1]",
                        SelectorProblem::InvalidValue {
                            value: long.clone(),
                            problem: NameProblem::TooLong { max: 63, len: 64 },
                        },
                    ),
                ],
            ),
        ];
        for (name, selector, want) in cases {
            let got: Vec<_> = validate(&selector).into_iter().map(|e| (e.path, e.problem)).collect();
            let want: Vec<_> = want.into_iter().map(|(p, e)| (p.to_owned(), e)).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn errors_can_be_placed_under_the_objects_field() {
        let selectors = [LabelSelector::default(), sel(&[], vec![req("app", "In", &[])])];
        let errors = validate_all(&selectors);
        assert_eq!(errors.len(), 1);
        let error = errors[0].clone().under("spec.nodeSelectors");
        assert_eq!(
            error.to_string(),
            "spec.nodeSelectors[1].matchExpressions[0].values: \
             values must not be empty when the operator is In"
        );
    }
}
