//! Whether two objects' node selectors meet: on a Node of today, only on a Node that could
//! come, or never.
//!
//! MetalLB refuses two objects that collide (two BGPPeers for one address, two localPrefs for
//! one route) when some Node of the cluster is selected by both, and accepts them otherwise.
//! FerroLB decides the same, and tells the second case apart: selectors that no Node satisfies
//! together today but some Node could (a warning, since labelling a Node later turns it into a
//! refusal) from selectors that can never select one Node (decided exactly, see
//! [`crate::selectors::lists_can_select_together`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::NodeLabels;
use crate::selectors::{any_matches, lists_can_select_together};

/// Where two node selector lists meet (an empty list selects every Node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NodeOverlap<'a> {
    /// This Node, the first by name, is selected by both.
    OnNode(&'a str),
    /// No Node is selected by both today, but a Node with the right labels would be.
    Possible,
    /// No Node can be selected by both.
    Never,
}

/// Where `a` and `b` meet among `nodes`.
pub(super) fn node_overlap<'a>(nodes: &'a [NodeLabels], a: &[LabelSelector], b: &[LabelSelector]) -> NodeOverlap<'a> {
    if !lists_can_select_together(a, b) {
        return NodeOverlap::Never;
    }
    let shared = nodes
        .iter()
        .filter(|node| any_matches(a, &node.labels) && any_matches(b, &node.labels))
        .map(|node| node.name.as_str())
        .min();
    shared.map_or(NodeOverlap::Possible, NodeOverlap::OnNode)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn node(name: &str, labels: &[(&str, &str)]) -> NodeLabels {
        let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        NodeLabels { name: name.into(), labels }
    }

    fn sel(key: &str, value: &str) -> LabelSelector {
        LabelSelector { match_labels: Some([(key.to_owned(), value.to_owned())].into()), match_expressions: None }
    }

    #[test]
    fn today_possible_never() {
        let nodes = [node("n2", &[("zone", "a"), ("rack", "1")]), node("n1", &[("zone", "a"), ("rack", "1")])];
        assert_eq!(node_overlap(&nodes, &[sel("zone", "a")], &[sel("rack", "1")]), NodeOverlap::OnNode("n1"));
        assert_eq!(node_overlap(&nodes, &[sel("zone", "b")], &[sel("rack", "1")]), NodeOverlap::Possible);
        assert_eq!(node_overlap(&nodes, &[sel("zone", "a")], &[sel("zone", "b")]), NodeOverlap::Never);
        assert_eq!(node_overlap(&[], &[], &[]), NodeOverlap::Possible, "no Node yet");
        assert_eq!(node_overlap(&nodes, &[], &[]), NodeOverlap::OnNode("n1"));
    }
}
