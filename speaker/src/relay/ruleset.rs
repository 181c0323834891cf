//! What the relay installs, worked out from what the driver wants and the kernel's neighbour table
//! (pure).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::announcer::{BgpDecision, Layer2Decision};
use crate::layer2::MacAddr;

/// What the driver asks of the relay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Wanted {
    /// Every Service address FerroLB serves (strays to them are relayed).
    pub vips: BTreeSet<IpAddr>,
    /// The other nodes whose speakers are alive, by their addresses: the relay's targets, and the
    /// sources whose relayed strays are dropped here.
    pub peers: BTreeSet<IpAddr>,
}

impl Wanted {
    /// What a decision asks of the relay: every Service address in it (owned here or elsewhere,
    /// in Layer2 or BGP), and as peers the addresses of the other nodes whose speakers are heard,
    /// leaving or not (a node handing its addresses over still has their connections).
    /// `heard` is `None` without heartbeats: only running speakers guard against relayed strays,
    /// so only they may get them, and without heartbeats nobody is known to run.
    pub fn from_decision(
        layer2: &Layer2Decision,
        bgp: &BgpDecision,
        me: &str,
        heard: Option<&BTreeSet<String>>,
        node_ips: &BTreeMap<String, Vec<IpAddr>>,
    ) -> Wanted {
        let mut vips: BTreeSet<IpAddr> = layer2.owned.keys().chain(layer2.elsewhere.keys()).copied().collect();
        vips.extend(bgp.verdicts.values().flatten().map(|v| v.address));
        let peers = heard
            .into_iter()
            .flatten()
            .filter(|n| n.as_str() != me)
            .filter_map(|n| node_ips.get(n))
            .flatten()
            .copied()
            .collect();
        Wanted { vips, peers }
    }
}

/// An entry of the kernel's neighbour table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's address.
    pub ip: IpAddr,
    /// Its MAC address.
    pub mac: MacAddr,
    /// The interface it was seen on.
    pub ifindex: u32,
}

/// Where a stray goes: a peer's address on the interface it is reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The peer's address.
    pub ip: IpAddr,
    /// The interface index.
    pub ifindex: u32,
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (nftables family `ip`).
    V4,
    /// IPv6 (nftables family `ip6`).
    V6,
}

/// One family's table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyRules {
    /// The Service addresses of the family.
    pub vips: Vec<IpAddr>,
    /// The MACs of every peer (either family): a stray from one of them was relayed, and is never
    /// relayed again.
    pub peer_macs: BTreeSet<MacAddr>,
    /// The peers strays are copied to.
    pub targets: Vec<Target>,
}

/// Both families' tables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Family `ip`.
    pub v4: FamilyRules,
    /// Family `ip6`.
    pub v6: FamilyRules,
}

impl Ruleset {
    /// The ruleset for `wanted`, given the neighbour table.
    ///
    /// A peer is a target only once the kernel knows its MAC on a link (it is on the same
    /// segment, and talks to this node, as its heartbeats do), because the MAC is also what marks
    /// the strays it relays here. A node never relays a stray that came from one of its targets,
    /// so relayed strays are not relayed again. Peers not yet resolved are left out until they are
    /// (the caller reads the table again every few seconds).
    pub fn plan(wanted: &Wanted, neighbours: &[Neighbour]) -> Ruleset {
        let known: BTreeMap<IpAddr, &Neighbour> = neighbours
            .iter()
            .filter(|n| !n.mac.is_zero() && !n.mac.is_multicast() && n.ifindex != 0)
            .map(|n| (n.ip, n))
            .collect();
        let resolved: Vec<&Neighbour> = wanted.peers.iter().filter_map(|ip| known.get(ip).copied()).collect();
        let peer_macs: BTreeSet<MacAddr> = resolved.iter().map(|n| n.mac).collect();
        let family = |v4: bool| FamilyRules {
            vips: wanted.vips.iter().filter(|ip| ip.is_ipv4() == v4).copied().collect(),
            peer_macs: peer_macs.clone(),
            targets: resolved
                .iter()
                .filter(|n| n.ip.is_ipv4() == v4)
                .map(|n| Target { ip: n.ip, ifindex: n.ifindex })
                .collect(),
        };
        Ruleset { v4: family(true), v6: family(false) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn neighbour(s: &str, last: u8, ifindex: u32) -> Neighbour {
        Neighbour { ip: ip(s), mac: MacAddr([2, 0, 0, 0, 0, last]), ifindex }
    }

    #[test]
    fn resolved_peers_are_targets_in_their_family_and_every_peer_mac_guards_both() {
        let wanted = Wanted {
            vips: [ip("203.0.113.10"), ip("2001:db8:f::1")].into(),
            peers: [ip("198.51.100.12"), ip("2001:db8:1::13"), ip("198.51.100.14")].into(),
        };
        let neighbours = [
            neighbour("198.51.100.12", 2, 5),
            neighbour("2001:db8:1::13", 3, 5),
            // Not a peer (the router): neither a target nor a guard.
            neighbour("198.51.100.1", 9, 5),
        ];
        let r = Ruleset::plan(&wanted, &neighbours);
        assert_eq!(r.v4.vips, vec![ip("203.0.113.10")]);
        assert_eq!(r.v6.vips, vec![ip("2001:db8:f::1")]);
        assert_eq!(r.v4.targets, vec![Target { ip: ip("198.51.100.12"), ifindex: 5 }]);
        assert_eq!(r.v6.targets, vec![Target { ip: ip("2001:db8:1::13"), ifindex: 5 }]);
        let macs: BTreeSet<MacAddr> = [MacAddr([2, 0, 0, 0, 0, 2]), MacAddr([2, 0, 0, 0, 0, 3])].into();
        assert_eq!(r.v4.peer_macs, macs);
        assert_eq!(r.v6.peer_macs, macs);
    }

    #[test]
    fn unresolved_or_odd_neighbours_are_left_out() {
        let wanted =
            Wanted { vips: [ip("203.0.113.10")].into(), peers: [ip("198.51.100.12"), ip("198.51.100.13")].into() };
        let neighbours = [
            Neighbour { ip: ip("198.51.100.12"), mac: MacAddr::ZERO, ifindex: 5 },
            Neighbour { ip: ip("198.51.100.13"), mac: MacAddr::BROADCAST, ifindex: 5 },
        ];
        let r = Ruleset::plan(&wanted, &neighbours);
        assert!(r.v4.targets.is_empty() && r.v4.peer_macs.is_empty());
        assert_eq!(r.v4.vips.len(), 1, "the guard still covers the Service addresses");
    }

    #[test]
    fn a_decision_wants_every_service_address_and_the_heard_peers_but_this_node() {
        use crate::announcer::{BgpOutcome, BgpVerdict, Interfaces, Layer2Announcement, Reason, ServiceKey};
        let mut layer2 = Layer2Decision::default();
        layer2.owned.insert(
            ip("198.51.100.210"),
            Layer2Announcement { interfaces: Interfaces::All, services: BTreeSet::new() },
        );
        layer2.elsewhere.insert(ip("198.51.100.211"), "node2".into());
        let mut bgp = BgpDecision::default();
        let outcome = BgpOutcome::NotAdvertised(Reason::NoPool { address: ip("203.0.113.10") });
        let verdict = BgpVerdict { address: ip("203.0.113.10"), pool: None, outcome };
        bgp.verdicts.insert(ServiceKey::new("default", "web"), vec![verdict]);
        let node_ips: BTreeMap<String, Vec<IpAddr>> = [
            ("node1".to_owned(), vec![ip("198.51.100.11")]),
            ("node2".to_owned(), vec![ip("198.51.100.12"), ip("2001:db8:1::12")]),
            ("node3".to_owned(), vec![ip("198.51.100.13")]),
        ]
        .into();
        let heard: BTreeSet<String> = ["node1".to_owned(), "node2".to_owned()].into();
        let wanted = Wanted::from_decision(&layer2, &bgp, "node1", Some(&heard), &node_ips);
        assert_eq!(wanted.vips, [ip("198.51.100.210"), ip("198.51.100.211"), ip("203.0.113.10")].into());
        assert_eq!(wanted.peers, [ip("198.51.100.12"), ip("2001:db8:1::12")].into(), "node3 is not heard");
        let without = Wanted::from_decision(&layer2, &bgp, "node1", None, &node_ips);
        assert!(without.peers.is_empty(), "no heartbeats, no peers");
        assert_eq!(without.vips, wanted.vips);
    }

    #[test]
    fn nothing_wanted_is_an_empty_ruleset() {
        assert_eq!(Ruleset::plan(&Wanted::default(), &[neighbour("198.51.100.12", 2, 5)]), Ruleset::default());
    }
}
