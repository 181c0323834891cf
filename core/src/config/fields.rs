//! Checks of field shapes that several kinds share: selector lists, lists of names, interface
//! and namespace names. They re-check what the schema and its CEL rules enforce at apply time,
//! for objects stored before a CRD upgrade tightened a rule.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::validate::Problems;
use crate::selectors::{validate, validate_all};

/// Longest network interface name Linux accepts (IFNAMSIZ less the terminating NUL).
const MAX_INTERFACE: usize = 15;
/// Longest namespace name (a DNS-1123 label).
const MAX_NAMESPACE: usize = 63;

/// Adds a problem for everything the apiserver would refuse in the selector list at `field`
/// (e.g. `spec.nodeSelectors`), each at its own path such as `spec.nodeSelectors[1].matchLabels`,
/// and for what MetalLB refuses as a duplicate: a value repeated in one requirement, a
/// requirement repeated in one selector, a selector repeated in the list (values compared as
/// sets, requirements in order).
pub(super) fn selector_list(problems: &mut Problems, field: &str, selectors: &[LabelSelector]) {
    for error in validate_all(selectors) {
        let error = error.under(field);
        problems.invalid(error.path, error.problem.to_string());
    }
    let canonical: Vec<_> = selectors.iter().map(canonical_selector).collect();
    for (i, selector) in selectors.iter().enumerate() {
        let requirements = selector.match_expressions.as_deref().unwrap_or_default();
        for (j, requirement) in requirements.iter().enumerate() {
            let at = format!("{field}[{i}].matchExpressions[{j}]");
            no_repeats(problems, &format!("{at}.values"), requirement.values.as_deref().unwrap_or_default(), "value");
            if let Some(first) = canonical[i].1[..j].iter().position(|earlier| *earlier == canonical[i].1[j]) {
                problems.invalid(at, format!("repeats requirement [{first}] of the same selector"));
            }
        }
        if let Some(first) = canonical[..i].iter().position(|earlier| *earlier == canonical[i]) {
            problems.invalid(format!("{field}[{i}]"), format!("repeats selector [{first}] of the same list"));
        }
    }
}

/// A selector's labels and its requirements (key, operator, values sorted), for comparing two.
type Canonical<'a> = (Vec<(&'a str, &'a str)>, Vec<(&'a str, &'a str, Vec<&'a str>)>);

fn canonical_selector(selector: &LabelSelector) -> Canonical<'_> {
    let labels = selector.match_labels.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let requirements = selector
        .match_expressions
        .iter()
        .flatten()
        .map(|r| {
            let mut values: Vec<&str> = r.values.iter().flatten().map(String::as_str).collect();
            values.sort_unstable();
            (r.key.as_str(), r.operator.as_str(), values)
        })
        .collect();
    (labels, requirements)
}

/// Adds a problem for everything the apiserver would refuse in the one selector at `field`.
pub(super) fn selector(problems: &mut Problems, field: &str, selector: &LabelSelector) {
    for error in validate(selector) {
        let error = error.under(field);
        problems.invalid(error.path, error.problem.to_string());
    }
}

/// Adds a problem for each entry of the list at `field` that repeats an earlier one; `what`
/// says what the entries name, e.g. "IPAddressPool".
pub(super) fn no_repeats(problems: &mut Problems, field: &str, entries: &[String], what: &str) {
    let mut first_at: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let first = *first_at.entry(entry).or_insert(i);
        if first != i {
            problems
                .invalid(format!("{field}[{i}]"), format!("names {what} {entry} a second time (first at [{first}])"));
        }
    }
}

/// Checks a network interface name: 1 to 15 characters, none of them '/', ':' or whitespace.
pub(super) fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an interface name must not be empty".to_owned());
    }
    if name.len() > MAX_INTERFACE {
        return Err(format!(
            "interface name {name:?} is {} characters long; Linux allows at most {MAX_INTERFACE}",
            name.len()
        ));
    }
    if name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace()) {
        return Err(format!("interface name {name:?} must not contain '/', ':' or whitespace"));
    }
    Ok(())
}

/// Checks a namespace name: a DNS-1123 label, 1 to 63 lower case alphanumeric characters or
/// '-', starting and ending with an alphanumeric character.
pub(super) fn check_namespace(name: &str) -> Result<(), String> {
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    if name.is_empty() {
        Err("a namespace name must not be empty".to_owned())
    } else if name.len() > MAX_NAMESPACE {
        Err(format!("namespace name {name:?} is {} characters long; at most {MAX_NAMESPACE} are allowed", name.len()))
    } else if bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'-')
    {
        Ok(())
    } else {
        Err(format!(
            "namespace name {name:?} must consist of lower case alphanumeric characters or '-', and start and \
             end with an alphanumeric character"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names() {
        for ok in ["eth0", "enp0s31f6", "br-lab.100", "a", "123456789012345"] {
            assert_eq!(check_interface(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1234567890123456", "eth0:1", "a/b", "a b", "tab\t"] {
            assert!(check_interface(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn namespace_names() {
        for ok in ["default", "kube-system", "a", "0abc", &"n".repeat(63)] {
            assert_eq!(check_namespace(ok), Ok(()), "{ok}");
        }
        for bad in ["", "Default", "-a", "a-", "a.b", "a_b", &"n".repeat(64)] {
            assert!(check_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repeats_point_at_the_first_entry() {
        let mut problems = Problems::default();
        let names = ["a", "b", "a", "a"].map(String::from);
        no_repeats(&mut problems, "spec.peers", &names, "BGPPeer");
        let got: Vec<_> = problems.0.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
        assert_eq!(
            got,
            [
                ("spec.peers[2]", "names BGPPeer a a second time (first at [0])"),
                ("spec.peers[3]", "names BGPPeer a a second time (first at [0])"),
            ]
        );
    }
}
