//! The addresses this node owns in Layer2 mode, the interfaces each may be answered on, and how a
//! received frame is answered on one interface.
//!
//! Pure. It decides, for one interface: which owned addresses apply there, whether a received ARP request
//! or Neighbor Solicitation gets an answer (and its bytes), and the frames that announce a gained address.
//! It does not decide ownership (the announcer does) nor touch sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::ethernet::MacAddr;
use super::{arp, ndp};

/// Where an owned address may be answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InterfaceSelector {
    /// On every interface the responder runs on (an L2Advertisement with no `interfaces`).
    #[default]
    All,
    /// Only on the interfaces with these names.
    Named(BTreeSet<String>),
}

impl InterfaceSelector {
    /// True when `interface` is selected.
    pub fn allows(&self, interface: &str) -> bool {
        match self {
            InterfaceSelector::All => true,
            InterfaceSelector::Named(names) => names.contains(interface),
        }
    }
}

/// An address this node owns, as the speaker hands it to the responder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnedAddress {
    /// The interfaces the address may be answered and announced on.
    pub interfaces: InterfaceSelector,
    /// Being handed over to its new owner (see [`super::release`]): still answered, no longer
    /// announced, and the responder listens for the new owner's announcement of it.
    pub releasing: bool,
}

/// All addresses this node owns in Layer2 mode.
pub type OwnedAddresses = BTreeMap<IpAddr, OwnedAddress>;

/// The owned addresses that apply on `interface` (answered there), those being handed over included.
pub fn owned_on(owned: &OwnedAddresses, interface: &str) -> BTreeSet<IpAddr> {
    owned.iter().filter(|(_, o)| o.interfaces.allows(interface)).map(|(ip, _)| *ip).collect()
}

/// The owned addresses announced on `interface`: [`owned_on`] without those being handed over.
pub fn announced_on(owned: &OwnedAddresses, interface: &str) -> BTreeSet<IpAddr> {
    owned.iter().filter(|(_, o)| !o.releasing && o.interfaces.allows(interface)).map(|(ip, _)| *ip).collect()
}

/// Another node's announcement, read off the wire: `ip` is at `mac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    /// The address announced.
    pub ip: IpAddr,
    /// The MAC it is announced at.
    pub mac: MacAddr,
}

/// Reads a frame from the ARP socket as another node's gratuitous ARP (request or reply, sender and
/// target address the same), if it is one and not sent by `our_mac`.
pub fn announcement_in_arp(frame: &[u8], our_mac: MacAddr) -> Option<Announcement> {
    let packet = arp::parse(frame).ok()?;
    let foreign = packet.eth_source != our_mac && packet.sender_mac != our_mac;
    (foreign && packet.is_gratuitous() && !packet.sender_ip.is_unspecified())
        .then_some(Announcement { ip: IpAddr::V4(packet.sender_ip), mac: packet.sender_mac })
}

/// Reads a frame from the IPv6 socket as another node's Neighbor Advertisement that overrides caches
/// (an unsolicited one, or an answer), if it is one and does not advertise `our_mac`.
pub fn announcement_in_ndp(frame: &[u8], our_mac: MacAddr) -> Option<Announcement> {
    let na = ndp::parse_advertisement(frame).ok()?;
    let mac = na.target_link_layer?;
    (na.override_flag && mac != our_mac && na.eth_source != our_mac)
        .then_some(Announcement { ip: IpAddr::V6(na.target), mac })
}

/// What a received frame means for the responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Malformed, not a request, gratuitous, or sent by ourselves: nothing to count or answer.
    Ignore,
    /// A request for `target`; `answer` is the frame to send when the target is ours here.
    Request {
        /// The address asked about.
        target: IpAddr,
        /// The reply frame, or `None` when the address is not ours on this interface.
        answer: Option<Vec<u8>>,
    },
}

/// Reacts to a frame received on the ARP socket of an interface whose MAC is `our_mac`.
pub fn react_to_arp(frame: &[u8], our_mac: MacAddr, owned_here: &BTreeSet<IpAddr>) -> Reaction {
    let Ok(packet) = arp::parse(frame) else { return Reaction::Ignore };
    // Another node's announcement is not a question, and our own frames are not either.
    if packet.operation != arp::Operation::Request || packet.is_gratuitous() || packet.eth_source == our_mac {
        return Reaction::Ignore;
    }
    let target = IpAddr::V4(packet.target_ip);
    let answer = if owned_here.contains(&target) { arp::build_reply(&packet, our_mac) } else { None };
    Reaction::Request { target, answer }
}

/// Reacts to a frame received on the IPv6 socket of an interface whose MAC is `our_mac`.
pub fn react_to_ndp(frame: &[u8], our_mac: MacAddr, owned_here: &BTreeSet<IpAddr>) -> Reaction {
    let Ok(ns) = ndp::parse_solicitation(frame) else { return Reaction::Ignore };
    if ns.eth_source == our_mac {
        return Reaction::Ignore;
    }
    let target = IpAddr::V6(ns.target);
    let answer =
        owned_here.contains(&target).then(|| ndp::encode_advertisement(&ndp::answer_solicitation(&ns, our_mac)));
    Reaction::Request { target, answer }
}

/// The frames that announce `ip` at `our_mac`: a gratuitous ARP request and reply for IPv4, an unsolicited
/// Neighbor Advertisement for IPv6.
pub fn announcements(ip: IpAddr, our_mac: MacAddr) -> Vec<Vec<u8>> {
    match ip {
        IpAddr::V4(v4) => vec![arp::build_gratuitous_request(our_mac, v4), arp::build_gratuitous_reply(our_mac, v4)],
        IpAddr::V6(v6) => vec![ndp::encode_advertisement(&ndp::unsolicited_advertisement(v6, our_mac))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    const PEER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x99]);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn arp_request(from: MacAddr, sender: &str, target: &str) -> Vec<u8> {
        let (IpAddr::V4(sender_ip), IpAddr::V4(target_ip)) = (ip(sender), ip(target)) else { panic!("v4") };
        arp::encode(&arp::ArpPacket {
            eth_destination: MacAddr::BROADCAST,
            eth_source: from,
            operation: arp::Operation::Request,
            sender_mac: from,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        })
    }

    fn solicitation(from: MacAddr, source: &str, target: &str) -> Vec<u8> {
        let (IpAddr::V6(source), IpAddr::V6(target)) = (ip(source), ip(target)) else { panic!("v6") };
        ndp::encode_solicitation(&ndp::NeighborSolicitation {
            eth_source: from,
            eth_destination: ndp::multicast_mac(ndp::solicited_node_multicast(target)),
            source,
            destination: ndp::solicited_node_multicast(target),
            target,
            source_link_layer: (!source.is_unspecified()).then_some(from),
        })
    }

    #[test]
    fn addresses_apply_only_on_their_interfaces() {
        let owned: OwnedAddresses = [
            (ip("198.51.100.200"), OwnedAddress { interfaces: InterfaceSelector::All, releasing: false }),
            (
                ip("198.51.100.201"),
                OwnedAddress { interfaces: InterfaceSelector::Named(["eth1".to_string()].into()), releasing: false },
            ),
            (
                ip("2001:db8:1::200"),
                OwnedAddress { interfaces: InterfaceSelector::Named(BTreeSet::new()), releasing: false },
            ),
            (ip("198.51.100.202"), OwnedAddress { interfaces: InterfaceSelector::All, releasing: true }),
        ]
        .into();
        assert_eq!(owned_on(&owned, "eth0"), [ip("198.51.100.200"), ip("198.51.100.202")].into());
        assert_eq!(owned_on(&owned, "eth1"), [ip("198.51.100.200"), ip("198.51.100.201"), ip("198.51.100.202")].into());
        assert_eq!(
            announced_on(&owned, "eth0"),
            [ip("198.51.100.200")].into(),
            "one being handed over is not announced"
        );
        assert_eq!(announced_on(&owned, "eth1"), [ip("198.51.100.200"), ip("198.51.100.201")].into());
    }

    #[test]
    fn another_nodes_gratuitous_arp_is_an_announcement_and_ours_or_a_question_is_not() {
        let v4 = Ipv4Addr::new(198, 51, 100, 200);
        let heard = Some(Announcement { ip: ip("198.51.100.200"), mac: PEER });
        assert_eq!(announcement_in_arp(&arp::build_gratuitous_request(PEER, v4), OURS), heard);
        assert_eq!(announcement_in_arp(&arp::build_gratuitous_reply(PEER, v4), OURS), heard);
        assert_eq!(announcement_in_arp(&arp::build_gratuitous_request(OURS, v4), OURS), None, "our own");
        assert_eq!(announcement_in_arp(&arp_request(PEER, "198.51.100.99", "198.51.100.200"), OURS), None);
        assert_eq!(announcement_in_arp(&arp_request(PEER, "0.0.0.0", "0.0.0.0"), OURS), None);
        assert_eq!(announcement_in_arp(&[1, 2, 3], OURS), None);
    }

    #[test]
    fn another_nodes_unsolicited_advertisement_is_an_announcement_and_ours_or_a_question_is_not() {
        let target = ip_v6("2001:db8:1::200");
        let heard = Some(Announcement { ip: ip("2001:db8:1::200"), mac: PEER });
        let theirs = ndp::encode_advertisement(&ndp::unsolicited_advertisement(target, PEER));
        assert_eq!(announcement_in_ndp(&theirs, OURS), heard);
        let ours = ndp::encode_advertisement(&ndp::unsolicited_advertisement(target, OURS));
        assert_eq!(announcement_in_ndp(&ours, OURS), None);
        let mut no_override = ndp::unsolicited_advertisement(target, PEER);
        no_override.override_flag = false;
        assert_eq!(announcement_in_ndp(&ndp::encode_advertisement(&no_override), OURS), None);
        assert_eq!(announcement_in_ndp(&solicitation(PEER, "2001:db8:1::99", "2001:db8:1::200"), OURS), None);
    }

    #[test]
    fn arp_requests_are_answered_only_for_owned_addresses() {
        let owned = [ip("198.51.100.200")].into();
        let cases = [
            ("owned", arp_request(PEER, "198.51.100.99", "198.51.100.200"), true, Some("198.51.100.200")),
            ("probe", arp_request(PEER, "0.0.0.0", "198.51.100.200"), true, Some("198.51.100.200")),
            ("not owned", arp_request(PEER, "198.51.100.99", "198.51.100.201"), false, Some("198.51.100.201")),
            ("gratuitous", arp_request(PEER, "198.51.100.200", "198.51.100.200"), false, None),
            ("our own", arp_request(OURS, "198.51.100.99", "198.51.100.200"), false, None),
            ("a reply", arp::build_gratuitous_reply(PEER, Ipv4Addr::new(198, 51, 100, 200)), false, None),
            ("garbage", vec![1, 2, 3], false, None),
        ];
        for (name, frame, answered, target) in cases {
            let reaction = react_to_arp(&frame, OURS, &owned);
            match (&reaction, target) {
                (Reaction::Ignore, None) => {}
                (Reaction::Request { target: t, answer }, Some(want)) => {
                    assert_eq!(*t, ip(want), "{name}");
                    assert_eq!(answer.is_some(), answered, "{name}");
                    if let Some(bytes) = answer {
                        let reply = arp::parse(bytes).unwrap();
                        assert_eq!(
                            (reply.operation, reply.sender_mac, reply.eth_destination),
                            (arp::Operation::Reply, OURS, PEER),
                            "{name}"
                        );
                        assert_eq!(IpAddr::V4(reply.sender_ip), ip(want), "{name}");
                    }
                }
                _ => panic!("{name}: {reaction:?}"),
            }
        }
    }

    #[test]
    fn solicitations_are_answered_only_for_owned_addresses() {
        let owned = [ip("2001:db8:1::200")].into();
        let Reaction::Request { answer: Some(bytes), .. } =
            react_to_ndp(&solicitation(PEER, "2001:db8:1::99", "2001:db8:1::200"), OURS, &owned)
        else {
            panic!("no answer")
        };
        let na = ndp::parse_advertisement(&bytes).unwrap();
        assert_eq!((na.eth_destination, na.destination, na.solicited), (PEER, ip_v6("2001:db8:1::99"), true));

        let Reaction::Request { answer: Some(bytes), .. } =
            react_to_ndp(&solicitation(PEER, "::", "2001:db8:1::200"), OURS, &owned)
        else {
            panic!("no answer to DAD")
        };
        assert_eq!(ndp::parse_advertisement(&bytes).unwrap().destination, ndp::ALL_NODES);

        assert_eq!(
            react_to_ndp(&solicitation(PEER, "2001:db8:1::99", "2001:db8:1::201"), OURS, &owned),
            Reaction::Request { target: ip("2001:db8:1::201"), answer: None }
        );
        assert_eq!(
            react_to_ndp(&solicitation(OURS, "2001:db8:1::99", "2001:db8:1::200"), OURS, &owned),
            Reaction::Ignore
        );
    }

    fn ip_v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// A Neighbor Unreachability Detection probe as Linux sends it: unicast to the target address itself and
    /// to the MAC the solicitor has cached for it, usually without a source link-layer address option.
    fn unicast_nud(to_mac: MacAddr, source: &str, target: &str, with_option: bool) -> Vec<u8> {
        ndp::encode_solicitation(&ndp::NeighborSolicitation {
            eth_source: PEER,
            eth_destination: to_mac,
            source: ip_v6(source),
            destination: ip_v6(target),
            target: ip_v6(target),
            source_link_layer: with_option.then_some(PEER),
        })
    }

    /// The advertisement a reaction answers with, parsed back.
    fn answered(reaction: Reaction) -> ndp::NeighborAdvertisement {
        match reaction {
            Reaction::Request { answer: Some(bytes), .. } => ndp::parse_advertisement(&bytes).unwrap(),
            other => panic!("no answer: {other:?}"),
        }
    }

    #[test]
    fn unicast_nud_gets_a_unicast_solicited_advertisement() {
        let owned = [ip("2001:db8:1::200")].into();
        for with_option in [false, true] {
            let na = answered(react_to_ndp(
                &unicast_nud(OURS, "2001:db8:1::99", "2001:db8:1::200", with_option),
                OURS,
                &owned,
            ));
            assert_eq!(
                na,
                ndp::NeighborAdvertisement {
                    eth_destination: PEER,
                    eth_source: OURS,
                    source: ip_v6("2001:db8:1::200"),
                    destination: ip_v6("2001:db8:1::99"),
                    router: false,
                    solicited: true,
                    override_flag: true,
                    target: ip_v6("2001:db8:1::200"),
                    target_link_layer: Some(OURS),
                },
                "source link-layer option: {with_option}"
            );
        }
        // From a link-local solicitor (what Linux uses when it has one on the link), too.
        let na = answered(react_to_ndp(&unicast_nud(OURS, "fe80::99", "2001:db8:1::200", false), OURS, &owned));
        assert_eq!((na.destination, na.eth_destination, na.solicited), (ip_v6("fe80::99"), PEER, true));
        // A probe for an address we do not own is counted, not answered.
        assert_eq!(
            react_to_ndp(&unicast_nud(OURS, "2001:db8:1::99", "2001:db8:1::201", false), OURS, &owned),
            Reaction::Request { target: ip("2001:db8:1::201"), answer: None }
        );
    }

    #[test]
    fn a_probe_to_a_stale_mac_is_answered_with_ours() {
        // After a failover a client probes the old owner's MAC; if such a frame reaches us (a promiscuous
        // interface), the address is ours now and the answer carries our MAC, to the client.
        let owned = [ip("2001:db8:1::200")].into();
        let old_owner = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
        let na =
            answered(react_to_ndp(&unicast_nud(old_owner, "2001:db8:1::99", "2001:db8:1::200", false), OURS, &owned));
        assert_eq!((na.eth_source, na.eth_destination, na.target_link_layer), (OURS, PEER, Some(OURS)));
    }

    #[test]
    fn a_unicast_arp_probe_is_answered_like_a_broadcast_one() {
        // IPv4's counterpart of NUD: Linux re-validates a stale entry with an ARP request unicast to the
        // cached MAC (and target MAC filled in).
        let owned = [ip("198.51.100.200")].into();
        let probe = arp::encode(&arp::ArpPacket {
            eth_destination: OURS,
            eth_source: PEER,
            operation: arp::Operation::Request,
            sender_mac: PEER,
            sender_ip: Ipv4Addr::new(198, 51, 100, 99),
            target_mac: OURS,
            target_ip: Ipv4Addr::new(198, 51, 100, 200),
        });
        let Reaction::Request { answer: Some(bytes), .. } = react_to_arp(&probe, OURS, &owned) else {
            panic!("unicast ARP probe not answered")
        };
        let reply = arp::parse(&bytes).unwrap();
        assert_eq!(
            (reply.operation, reply.eth_destination, reply.sender_mac, reply.target_ip),
            (arp::Operation::Reply, PEER, OURS, Ipv4Addr::new(198, 51, 100, 99))
        );
    }

    #[test]
    fn every_owned_address_is_answered_not_only_the_first() {
        // Several owned IPv6 addresses on one interface, two of them sharing a solicited-node group
        // (same low 24 bits), and an IPv4 address beside them.
        let owned: BTreeSet<IpAddr> =
            [ip("198.51.100.200"), ip("2001:db8:1::200"), ip("2001:db8:1::2ff"), ip("2001:db8:2::200")].into();
        for target in ["2001:db8:1::200", "2001:db8:1::2ff", "2001:db8:2::200"] {
            let multicast = answered(react_to_ndp(&solicitation(PEER, "2001:db8:1::99", target), OURS, &owned));
            assert_eq!((multicast.target, multicast.destination), (ip_v6(target), ip_v6("2001:db8:1::99")), "{target}");
            let unicast = answered(react_to_ndp(&unicast_nud(OURS, "2001:db8:1::99", target, false), OURS, &owned));
            assert_eq!((unicast.target, unicast.solicited), (ip_v6(target), true), "{target}");
        }
        let v4 = react_to_arp(&arp_request(PEER, "198.51.100.99", "198.51.100.200"), OURS, &owned);
        assert!(matches!(v4, Reaction::Request { answer: Some(_), .. }));
    }

    #[test]
    fn announcements_per_family() {
        let v4 = announcements(ip("198.51.100.200"), OURS);
        assert_eq!(v4.len(), 2);
        let kinds: Vec<arp::Operation> = v4.iter().map(|f| arp::parse(f).unwrap().operation).collect();
        assert_eq!(kinds, vec![arp::Operation::Request, arp::Operation::Reply]);
        let v6 = announcements(ip("2001:db8:1::200"), OURS);
        let na = ndp::parse_advertisement(&v6[0]).unwrap();
        assert_eq!((v6.len(), na.solicited, na.override_flag, na.target_link_layer), (1, false, true, Some(OURS)));
    }
}
