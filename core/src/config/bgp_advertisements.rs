//! BGPAdvertisements: pools, peers and communities resolved, aggregation lengths that fit the
//! pools, and no two advertisements giving one route two local preferences.
//!
//! Aggregation follows MetalLB: each pool entry is split into the fewest CIDR blocks that cover
//! it exactly, and every block's prefix must be at most the aggregation length, or the
//! aggregated route would claim addresses outside the pool.
//!
//! Two advertisements conflict on localPref when both set it to different values and they may
//! send one route to one peer from one node: they cover a common pool, their peer lists
//! intersect (an empty list is every peer), and their node selector lists may both select one
//! node. Selector lists are taken as disjoint only when every pair of selectors requires
//! different `matchLabels` values for one key; anything subtler is taken as a possible overlap.

use std::collections::BTreeSet;

use ferrolb_crds::{BGPAdvertisement, BGPAdvertisementSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::advertisements::covered_pools;
use super::communities::{Aliases, check_alias_name, parse_community};
use super::fields::{no_repeats, selector_list};
use super::validate::{Accepted, Object, Problems, oldest_first, record};
use super::{BgpAdvertisement, CommunityValue, Kind, ObjectRef, Peer, Pool, Reason, Verdicts};
use crate::addresses::{AddressRange, Family};

/// Validates every BGPAdvertisement, oldest first, recording a verdict on each; the accepted
/// ones come back in name order.
pub(super) fn validate(
    advertisements: &[BGPAdvertisement],
    pools: &Accepted<Pool>,
    peers: &Accepted<Peer>,
    aliases: &Aliases,
    verdicts: &mut Verdicts,
) -> Vec<BgpAdvertisement> {
    let mut accepted: Vec<BgpAdvertisement> = Vec::new();
    for advertisement in oldest_first(advertisements) {
        let spec = &advertisement.spec;
        let mut problems = Problems::default();
        let covered = covered_pools(&spec.ip_address_pools, &spec.ip_address_pool_selectors, pools, &mut problems);
        let lengths = aggregation_lengths(spec, &mut problems);
        if let Some((v4, v6)) = lengths {
            for pool in covered.iter().filter_map(|name| pools.accepted.get(name)) {
                check_aggregation(pool, v4, v6, &mut problems);
            }
        }
        let communities = communities(&spec.communities, aliases, &mut problems);
        no_repeats(&mut problems, "spec.peers", &spec.peers, "BGPPeer");
        for (i, name) in spec.peers.iter().enumerate() {
            if let Err(problem) = peers.resolve(format!("spec.peers[{i}]"), name) {
                problems.push(problem);
            }
        }
        selector_list(&mut problems, "spec.nodeSelectors", &spec.node_selectors);
        selector_list(&mut problems, "spec.serviceSelectors", &spec.service_selectors);
        let Some((aggregation_length, aggregation_length_v6)) = lengths.filter(|_| problems.is_empty()) else {
            record(verdicts, advertisement.object_ref(), problems);
            continue;
        };
        let resolved = BgpAdvertisement {
            name: advertisement.name().to_owned(),
            pools: covered,
            aggregation_length,
            aggregation_length_v6,
            local_pref: spec.local_pref,
            communities,
            peers: spec.peers.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect(),
            node_selectors: spec.node_selectors.clone(),
            service_selectors: spec.service_selectors.clone(),
        };
        if let Some((earlier, pool)) = accepted.iter().find_map(|earlier| local_pref_conflict(earlier, &resolved)) {
            problems.add_with(
                "spec.localPref",
                Reason::Conflict,
                format!(
                    "{} differs from localPref {} of BGPAdvertisement {}, which was created first and also \
                     advertises IPAddressPool {pool} to some of the same peers from some of the same nodes",
                    resolved.local_pref.unwrap_or_default(),
                    earlier.local_pref.unwrap_or_default(),
                    earlier.name
                ),
                ObjectRef::new(Kind::BGPAdvertisement, earlier.name.clone()),
            );
        } else {
            accepted.push(resolved);
        }
        record(verdicts, advertisement.object_ref(), problems);
    }
    accepted.sort_by(|a, b| a.name.cmp(&b.name));
    accepted
}

/// The aggregation lengths, if both are in range for their family.
fn aggregation_lengths(spec: &BGPAdvertisementSpec, problems: &mut Problems) -> Option<(u8, u8)> {
    let mut length = |field: &str, value: i32, family: Family| {
        let length = u8::try_from(value).ok().filter(|length| *length <= family.bits());
        if length.is_none() {
            problems.invalid(field, format!("{value} is not a {family} prefix length from 0 to {}", family.bits()));
        }
        length
    };
    let v4 = length("spec.aggregationLength", spec.aggregation_length, Family::V4);
    let v6 = length("spec.aggregationLengthV6", spec.aggregation_length_v6, Family::V6);
    v4.zip(v6)
}

/// A problem for each entry of `pool` whose addresses an aggregated route of length `v4` or
/// `v6` would not fit.
fn check_aggregation(pool: &Pool, v4: u8, v6: u8, problems: &mut Problems) {
    for range in &pool.ranges {
        let (field, length) = match range.family() {
            Family::V4 => ("spec.aggregationLength", v4),
            Family::V6 => ("spec.aggregationLengthV6", v6),
        };
        let Some((block, prefix_len)) = most_specific_block(range) else { continue };
        if prefix_len > length {
            problems.add_with(
                field,
                Reason::AggregationTooShort,
                format!(
                    "{length} is shorter than /{prefix_len}, the prefix of {block} in entry {range} of IPAddressPool \
                     {}; a /{length} route would claim addresses outside the pool",
                    pool.name
                ),
                ObjectRef::new(Kind::IPAddressPool, pool.name.clone()),
            );
        }
    }
}

/// The first of the fewest CIDR blocks covering `range` exactly whose prefix is the longest,
/// with that prefix length.
pub(super) fn most_specific_block(range: &AddressRange) -> Option<(AddressRange, u8)> {
    let mut most: Option<(AddressRange, u8)> = None;
    for (block, prefix_len) in range.cidr_blocks() {
        if most.is_none_or(|(_, longest)| prefix_len > longest) {
            most = Some((block, prefix_len));
        }
    }
    most
}

/// The communities of `texts`, literal or by alias, sorted and deduplicated.
fn communities(texts: &[String], aliases: &Aliases, problems: &mut Problems) -> Vec<CommunityValue> {
    let mut values = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        let field = format!("spec.communities[{i}]");
        let value = if text.contains(':') {
            parse_community(text).map_err(|err| problems.invalid(field, err.to_string())).ok()
        } else if let Err(message) = check_alias_name(text) {
            problems.invalid(field, message);
            None
        } else {
            aliases.resolve(field, text).map_err(|problem| problems.push(problem)).ok()
        };
        values.extend(value);
    }
    values.into_iter().collect()
}

/// The first pool for which `earlier` and `later` give one route two local preferences, with
/// `earlier`, if any.
fn local_pref_conflict<'a>(
    earlier: &'a BgpAdvertisement,
    later: &BgpAdvertisement,
) -> Option<(&'a BgpAdvertisement, String)> {
    let (Some(a), Some(b)) = (earlier.local_pref, later.local_pref) else { return None };
    let peers_meet = earlier.peers.is_empty()
        || later.peers.is_empty()
        || earlier.peers.iter().any(|peer| later.peers.contains(peer));
    if a == b || !peers_meet || !may_share_a_node(&earlier.node_selectors, &later.node_selectors) {
        return None;
    }
    let common = earlier.pools.iter().find(|pool| later.pools.binary_search(pool).is_ok())?;
    Some((earlier, common.clone()))
}

/// Whether some node could be selected by both lists (an empty list selects every node).
pub(super) fn may_share_a_node(a: &[LabelSelector], b: &[LabelSelector]) -> bool {
    a.is_empty() || b.is_empty() || !a.iter().all(|x| b.iter().all(|y| exclusive(x, y)))
}

/// Whether two selectors require different `matchLabels` values for one key, so that no node
/// matches both.
fn exclusive(a: &LabelSelector, b: &LabelSelector) -> bool {
    let (Some(a), Some(b)) = (&a.match_labels, &b.match_labels) else { return false };
    a.iter().any(|(key, value)| b.get(key).is_some_and(|other| other != value))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_most_specific_block_is_the_longest_prefix() {
        let most = most_specific_block(&"198.51.100.200-198.51.100.250".parse().unwrap());
        assert_eq!(most.map(|(b, l)| (b.to_string(), l)), Some(("198.51.100.250/32".to_owned(), 32)));
    }

    fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
        let labels: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        LabelSelector { match_labels: Some(labels), match_expressions: None }
    }

    #[test]
    fn node_selector_lists_overlap_unless_labels_exclude_each_other() {
        let zone_a = [sel(&[("zone", "a")])];
        let zone_b = [sel(&[("zone", "b")])];
        let rack_1 = [sel(&[("rack", "1")])];
        let zone_a_or_b = [sel(&[("zone", "a")]), sel(&[("zone", "b")])];
        assert!(may_share_a_node(&[], &zone_a));
        assert!(may_share_a_node(&zone_a, &zone_a));
        assert!(!may_share_a_node(&zone_a, &zone_b));
        assert!(may_share_a_node(&zone_a, &rack_1));
        assert!(may_share_a_node(&zone_a_or_b, &zone_b));
        assert!(!may_share_a_node(&[sel(&[("zone", "a"), ("rack", "1")])], &[sel(&[("zone", "b"), ("rack", "1")])]));
        assert!(may_share_a_node(&[LabelSelector::default()], &zone_b));
    }
}
