//! BGPAdvertisements: pools, peers and communities resolved, aggregation lengths that fit the
//! pools, and no two advertisements giving one route two local preferences.
//!
//! Aggregation follows MetalLB: each pool entry is split into the fewest CIDR blocks that cover
//! it exactly; an aggregation length shorter than the widest block's prefix is refused (the
//! route would claim addresses outside the pool for every address of that block). A length
//! between the widest and the narrowest block's prefix is accepted, as MetalLB accepts it, with
//! a warning: the routes of the narrow blocks' addresses also cover addresses outside the pool.
//!
//! Two advertisements conflict on localPref (an unset localPref counts as 0, as in MetalLB)
//! when they may send one route to one peer from one Node: neither has serviceSelectors, they
//! cover a common pool with the same aggregation length for its families, their peer lists
//! intersect (an empty list is every peer), and some Node is selected by both. When no Node is
//! selected by both today but one could be, the newer is accepted with a warning.

use std::collections::BTreeSet;

use ferrolb_crds::{BGPAdvertisement, BGPAdvertisementSpec};

use super::advertisements::covered_pools;
use super::communities::{Aliases, parse_community};
use super::fields::{no_repeats, selector_list};
use super::node_overlap::{NodeOverlap, node_overlap};
use super::validate::{Accepted, Object, Problems, oldest_first, record};
use super::{BgpAdvertisement, CommunityValue, Kind, NodeLabels, ObjectRef, Peer, Pool, Reason, Verdicts};
use crate::addresses::{AddressRange, Family};

/// The aggregation lengths that aggregate nothing, the only ones serviceSelectors allow.
const NO_AGGREGATION: (u8, u8) = (32, 128);

/// What validation of BGPAdvertisements reads: the accepted pools and peers, the community
/// aliases, the Nodes.
pub(super) struct Context<'a> {
    /// Accepted pools.
    pub(super) pools: &'a Accepted<Pool>,
    /// Accepted peers.
    pub(super) peers: &'a Accepted<Peer>,
    /// Community aliases.
    pub(super) aliases: &'a Aliases,
    /// The cluster's Nodes.
    pub(super) nodes: &'a [NodeLabels],
}

/// Validates every BGPAdvertisement, oldest first, recording a verdict on each; the accepted
/// ones come back in name order.
pub(super) fn validate(
    advertisements: &[BGPAdvertisement],
    context: &Context<'_>,
    verdicts: &mut Verdicts,
) -> Vec<BgpAdvertisement> {
    let Context { pools, peers, aliases, nodes } = context;
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
        if let Some(times) = spec.as_path_prepend {
            problems.invalid(
                "spec.asPathPrepend",
                format!("{times} is set, and FerroLB does not prepend AS numbers yet: remove it"),
            );
        }
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
        check_bfd_echo(&resolved, pools, peers, &mut problems);
        for earlier in &accepted {
            check_local_pref(earlier, &resolved, pools, nodes, &mut problems);
        }
        if problems.is_empty() {
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
    if v4 == Some(0) {
        // MetalLB's schema: an IPv4 aggregation length is at least 1.
        problems.invalid("spec.aggregationLength", "0 is not an IPv4 aggregation length from 1 to 32");
    }
    if !spec.service_selectors.is_empty() {
        for (field, length, none) in
            [("spec.aggregationLength", v4, NO_AGGREGATION.0), ("spec.aggregationLengthV6", v6, NO_AGGREGATION.1)]
        {
            if length.is_some_and(|length| length != none) {
                problems.invalid(
                    field,
                    format!(
                        "{} aggregates, and serviceSelectors and aggregation are mutually exclusive: with \
                         serviceSelectors, leave it at {none}",
                        length.unwrap_or_default()
                    ),
                );
            }
        }
    }
    v4.zip(v6)
}

/// A problem for each entry of `pool` whose widest CIDR block an aggregated route of length
/// `v4` or `v6` would not fit (MetalLB's rule), and a warning for each entry where only its
/// narrower blocks do not fit.
fn check_aggregation(pool: &Pool, v4: u8, v6: u8, problems: &mut Problems) {
    for range in &pool.ranges {
        let (field, length) = match range.family() {
            Family::V4 => ("spec.aggregationLength", v4),
            Family::V6 => ("spec.aggregationLengthV6", v6),
        };
        let other = ObjectRef::new(Kind::IPAddressPool, pool.name.clone());
        let blocks = range.cidr_blocks();
        let Some(&(widest, widest_len)) = blocks.iter().min_by_key(|(_, len)| *len) else { continue };
        let Some((narrowest, narrowest_len)) = most_specific_block(range) else { continue };
        if widest_len > length {
            problems.add_with(
                field,
                Reason::AggregationTooShort,
                format!(
                    "{length} is shorter than /{widest_len}, the prefix of {widest} in entry {range} of IPAddressPool \
                     {}; a /{length} route would claim addresses outside the pool",
                    pool.name
                ),
                other,
            );
        } else if narrowest_len > length {
            problems.warn(
                field,
                Reason::AggregationBeyondPool,
                format!(
                    "{length} is shorter than /{narrowest_len}, the prefix of {narrowest} in entry {range} of \
                     IPAddressPool {}: the /{length} route of an address in {narrowest} also covers addresses \
                     outside the pool (MetalLB accepts this too)",
                    pool.name
                ),
                Some(other),
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

/// The communities of `texts`, by alias or literal (an alias first, as MetalLB reads them),
/// sorted; a problem for a text given twice.
fn communities(texts: &[String], aliases: &Aliases, problems: &mut Problems) -> Vec<CommunityValue> {
    no_repeats(problems, "spec.communities", texts, "community");
    let mut values = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        let field = format!("spec.communities[{i}]");
        let value = if let Some(value) = aliases.get(text) {
            Some(value)
        } else if text.contains(':') {
            parse_community(text).map_err(|err| problems.invalid(field, err.to_string())).ok()
        } else {
            aliases.resolve(field, text).map_err(|problem| problems.push(problem)).ok()
        };
        values.extend(value);
    }
    values.into_iter().collect()
}

/// A problem when `advertisement` would send IPv6 prefixes to a peer whose BFD profile has echo
/// mode on: BFD echo works over IPv4 only (MetalLB refuses this too).
fn check_bfd_echo(
    advertisement: &BgpAdvertisement,
    pools: &Accepted<Pool>,
    peers: &Accepted<Peer>,
    problems: &mut Problems,
) {
    let Some(pool) = advertisement
        .pools
        .iter()
        .filter_map(|name| pools.accepted.get(name))
        .find(|pool| pool.ranges.iter().any(|range| range.family() == Family::V6))
    else {
        return;
    };
    let echo = peers
        .accepted
        .values()
        .filter(|peer| advertisement.peers.is_empty() || advertisement.peers.contains(&peer.name))
        .find_map(|peer| Some((peer, peer.bfd.as_ref().filter(|bfd| bfd.echo_mode)?)));
    if let Some((peer, bfd)) = echo {
        let field = if advertisement.peers.is_empty() { "spec.ipAddressPools" } else { "spec.peers" };
        problems.add_with(
            field,
            Reason::Conflict,
            format!(
                "would advertise the IPv6 addresses of IPAddressPool {} to BGPPeer {}, whose BFDProfile {} has \
                 echoMode on; BFD echo works over IPv4 only",
                pool.name, peer.name, bfd.name
            ),
            ObjectRef::new(Kind::BGPPeer, peer.name.clone()),
        );
    }
}

/// A problem (or warning) when `earlier`, accepted, and `later` may send one route to one peer
/// from one Node with two local preferences.
fn check_local_pref(
    earlier: &BgpAdvertisement,
    later: &BgpAdvertisement,
    pools: &Accepted<Pool>,
    nodes: &[NodeLabels],
    problems: &mut Problems,
) {
    let (a, b) = (earlier.local_pref.unwrap_or(0), later.local_pref.unwrap_or(0));
    if a == b || !earlier.service_selectors.is_empty() || !later.service_selectors.is_empty() {
        return;
    }
    let peers_meet = earlier.peers.is_empty()
        || later.peers.is_empty()
        || earlier.peers.iter().any(|peer| later.peers.contains(peer));
    if !peers_meet {
        return;
    }
    let common = earlier
        .pools
        .iter()
        .filter(|pool| later.pools.binary_search(pool).is_ok())
        .filter_map(|name| pools.accepted.get(name))
        .find(|pool| same_route_length(earlier, later, pool));
    let Some(pool) = common else { return };
    let other = ObjectRef::new(Kind::BGPAdvertisement, earlier.name.clone());
    let what = format!(
        "{b} differs from localPref {a} of BGPAdvertisement {}, which was created first and also advertises \
         IPAddressPool {} with the same aggregation length to some of the same peers",
        earlier.name, pool.name
    );
    match node_overlap(nodes, &earlier.node_selectors, &later.node_selectors) {
        NodeOverlap::Never => {}
        NodeOverlap::OnNode(node) => {
            problems.add_with("spec.localPref", Reason::Conflict, format!("{what} from Node {node}"), other)
        }
        NodeOverlap::Possible => problems.warn(
            "spec.localPref",
            Reason::ConflictOnFutureNode,
            format!(
                "{what}; no Node is selected by both today, but if one is, this advertisement (the newer) will be \
                 refused"
            ),
            Some(other),
        ),
    }
}

/// Whether two advertisements give `pool`'s addresses routes of one length: MetalLB's rule,
/// per family the pool has (a dual-stack pool's routes differ only when both lengths differ).
fn same_route_length(a: &BgpAdvertisement, b: &BgpAdvertisement, pool: &Pool) -> bool {
    let has = |family| pool.ranges.iter().any(|range| range.family() == family);
    let v4_same = a.aggregation_length == b.aggregation_length;
    let v6_same = a.aggregation_length_v6 == b.aggregation_length_v6;
    match (has(Family::V4), has(Family::V6)) {
        (true, true) => v4_same || v6_same,
        (true, false) => v4_same,
        (false, true) => v6_same,
        (false, false) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_block_is_the_longest_prefix() {
        let most = most_specific_block(&"198.51.100.200-198.51.100.250".parse().unwrap());
        assert_eq!(most.map(|(b, l)| (b.to_string(), l)), Some(("198.51.100.250/32".to_owned(), 32)));
    }
}
