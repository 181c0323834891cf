//! Network interfaces this node may announce Layer2 addresses on, read from the kernel through rtnetlink,
//! and their changes.
//!
//! The deciding part is pure ([`suitable_interfaces`] over plain [`LinkFacts`] and [`AddressFacts`]): an
//! interface is suitable when it is up, is Ethernet with a nonzero MAC, is not loopback, does ARP, and is not
//! enslaved to a bond or bridge (those answer through their master). `watch` is the thin rtnetlink edge
//! that gathers the facts and delivers fresh snapshots. Which of the suitable interfaces an address is
//! answered on is the announcer's business (L2Advertisement `interfaces`), not this module's.

mod watch;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::layer2::MacAddr;

pub use watch::{NetifError, VrfError, addresses_beside, check_vrf, link_named, list_interfaces, watch_interfaces};

/// An interface suitable for answering ARP/NDP, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface name (e.g. `eth0`).
    pub name: String,
    /// Kernel interface index.
    pub index: u32,
    /// Its MAC address, which the responder answers with.
    pub mac: MacAddr,
    /// Its addresses, in the kernel's order.
    pub addresses: Vec<InterfaceAddress>,
}

/// An address configured on an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// The address.
    pub address: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
}

/// What the kernel says about one link, reduced to what the decision needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkFacts {
    /// Interface index.
    pub index: u32,
    /// Interface name, if the kernel sent one.
    pub name: Option<String>,
    /// IFF_UP.
    pub up: bool,
    /// IFF_LOOPBACK.
    pub loopback: bool,
    /// IFF_NOARP.
    pub noarp: bool,
    /// The link layer is Ethernet (ARPHRD_ETHER).
    pub ethernet: bool,
    /// Its hardware address, as the kernel sent it (any length).
    pub hardware_address: Option<Vec<u8>>,
    /// The index of the bond or bridge it is enslaved to (IFLA_MASTER).
    pub master: Option<u32>,
    /// It is a VRF device (IFLA_INFO_KIND "vrf").
    pub vrf: bool,
}

/// An address the kernel reports on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressFacts {
    /// Index of the link carrying the address.
    pub index: u32,
    /// The address.
    pub address: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
}

/// Why a link is not used for Layer2 announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsuitable {
    /// The kernel sent no name.
    NoName,
    /// Administratively down.
    Down,
    /// The loopback interface.
    Loopback,
    /// Marked NOARP (tunnels, some virtual links).
    NoArp,
    /// Not Ethernet, or no usable (6-byte, nonzero, unicast) MAC.
    NoMac,
    /// Enslaved to a bond or bridge: its master answers instead.
    Enslaved {
        /// Index of the master.
        master: u32,
    },
}

impl fmt::Display for Unsuitable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsuitable::NoName => write!(f, "the kernel reported no name"),
            Unsuitable::Down => write!(f, "it is down"),
            Unsuitable::Loopback => write!(f, "it is loopback"),
            Unsuitable::NoArp => write!(f, "it is NOARP"),
            Unsuitable::NoMac => write!(f, "it has no Ethernet MAC"),
            Unsuitable::Enslaved { master } => write!(f, "it is enslaved to interface {master}"),
        }
    }
}

/// Decides whether one link is suitable, returning its name and MAC, or why not.
pub fn judge_link(link: &LinkFacts) -> Result<(String, MacAddr), Unsuitable> {
    let name = link.name.clone().ok_or(Unsuitable::NoName)?;
    if link.loopback {
        return Err(Unsuitable::Loopback);
    }
    if !link.up {
        return Err(Unsuitable::Down);
    }
    if link.noarp {
        return Err(Unsuitable::NoArp);
    }
    if let Some(master) = link.master {
        return Err(Unsuitable::Enslaved { master });
    }
    let mac = link
        .hardware_address
        .as_deref()
        .and_then(MacAddr::from_slice)
        .filter(|mac| link.ethernet && !mac.is_zero() && !mac.is_multicast())
        .ok_or(Unsuitable::NoMac)?;
    Ok((name, mac))
}

/// The suitable interfaces among `links`, each with its addresses, sorted by name.
pub fn suitable_interfaces(links: &[LinkFacts], addresses: &[AddressFacts]) -> Vec<Interface> {
    let mut by_index: BTreeMap<u32, Vec<InterfaceAddress>> = BTreeMap::new();
    for a in addresses {
        by_index.entry(a.index).or_default().push(InterfaceAddress { address: a.address, prefix_len: a.prefix_len });
    }
    let mut out: Vec<Interface> = links
        .iter()
        .filter_map(|link| {
            let (name, mac) = judge_link(link).ok()?;
            let addresses = by_index.get(&link.index).cloned().unwrap_or_default();
            Some(Interface { name, index: link.index, mac, addresses })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.index.cmp(&b.index)));
    out
}

/// Why a named VRF cannot hold a BGP session on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VrfProblem {
    /// No link has that name.
    Missing,
    /// A link has that name, but it is not a VRF device.
    NotVrf,
}

/// The index of the VRF device `name` among `links`, or why there is none.
pub fn find_vrf(links: &[LinkFacts], name: &str) -> Result<u32, VrfProblem> {
    let link = links.iter().find(|l| l.name.as_deref() == Some(name)).ok_or(VrfProblem::Missing)?;
    if link.vrf { Ok(link.index) } else { Err(VrfProblem::NotVrf) }
}

/// The addresses of the link that carries `local` (`local` among them, in the kernel's order), or
/// None when no link carries it. Any link counts, suitable for Layer2 or not (a VRF's or a
/// bond's member too): BGP asks which addresses sit beside a session's local address.
pub fn link_addresses_of(addresses: &[AddressFacts], local: IpAddr) -> Option<Vec<IpAddr>> {
    let index = addresses.iter().find(|a| a.address == local)?.index;
    Some(addresses.iter().filter(|a| a.index == index).map(|a| a.address).collect())
}

/// A link found by name: its index, whether it is up, and its addresses in the kernel's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedLink {
    /// Kernel interface index (the scope of its link-local addresses).
    pub index: u32,
    /// IFF_UP.
    pub up: bool,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
}

/// The link called `name` among `links`, with its addresses; None when there is none. Any link
/// counts, suitable for Layer2 or not: BGP unnumbered asks for the link its peer is on.
pub fn find_link(links: &[LinkFacts], addresses: &[AddressFacts], name: &str) -> Option<NamedLink> {
    let link = links.iter().find(|l| l.name.as_deref() == Some(name))?;
    let addresses = addresses.iter().filter(|a| a.index == link.index).map(|a| a.address).collect();
    Some(NamedLink { index: link.index, up: link.up, addresses })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(index: u32, name: &str) -> LinkFacts {
        LinkFacts {
            index,
            name: Some(name.to_string()),
            up: true,
            loopback: false,
            noarp: false,
            ethernet: true,
            hardware_address: Some(vec![0x02, 0, 0, 0, 0, u8::try_from(index).unwrap()]),
            master: None,
            vrf: false,
        }
    }

    #[test]
    fn a_link_is_found_by_name_with_its_addresses() {
        let links = vec![eth(2, "eth0"), LinkFacts { up: false, ..eth(3, "eth1") }];
        let facts = |index, address: &str| AddressFacts { index, address: address.parse().unwrap(), prefix_len: 64 };
        let addresses = vec![facts(2, "fe80::2"), facts(3, "fe80::3"), facts(3, "2001:db8::3")];
        let eth1 = find_link(&links, &addresses, "eth1").unwrap();
        assert_eq!((eth1.index, eth1.up), (3, false));
        assert_eq!(eth1.addresses, vec!["fe80::3".parse::<IpAddr>().unwrap(), "2001:db8::3".parse().unwrap()]);
        assert_eq!(find_link(&links, &addresses, "eth9"), None);
    }

    #[test]
    fn a_vrf_is_found_by_name_and_kind() {
        let red = LinkFacts { vrf: true, ethernet: false, ..eth(7, "red") };
        let links = vec![eth(2, "eth0"), red, LinkFacts { master: Some(7), ..eth(8, "eth1") }];
        assert_eq!(find_vrf(&links, "red"), Ok(7));
        assert_eq!(find_vrf(&links, "blue"), Err(VrfProblem::Missing));
        assert_eq!(find_vrf(&links, "eth0"), Err(VrfProblem::NotVrf));
    }

    #[test]
    fn the_addresses_beside_a_local_address_are_those_of_its_link() {
        let at = |index, address: &str| AddressFacts { index, address: address.parse().unwrap(), prefix_len: 24 };
        let addresses = [at(1, "127.0.0.1"), at(2, "192.0.2.2"), at(3, "198.51.100.2"), at(2, "2001:db8::2")];
        let ip = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(link_addresses_of(&addresses, ip("192.0.2.2")), Some(vec![ip("192.0.2.2"), ip("2001:db8::2")]));
        assert_eq!(link_addresses_of(&addresses, ip("198.51.100.2")), Some(vec![ip("198.51.100.2")]));
        assert_eq!(link_addresses_of(&addresses, ip("203.0.113.9")), None);
    }

    #[test]
    fn judges_each_kind_of_link() {
        let cases: Vec<(&str, LinkFacts, Result<(), Unsuitable>)> = vec![
            ("plain ethernet", eth(2, "eth0"), Ok(())),
            ("no name", LinkFacts { name: None, ..eth(2, "x") }, Err(Unsuitable::NoName)),
            ("down", LinkFacts { up: false, ..eth(2, "eth0") }, Err(Unsuitable::Down)),
            (
                "loopback",
                LinkFacts { loopback: true, ethernet: false, hardware_address: Some(vec![0; 6]), ..eth(1, "lo") },
                Err(Unsuitable::Loopback),
            ),
            ("noarp", LinkFacts { noarp: true, ..eth(3, "tun0") }, Err(Unsuitable::NoArp)),
            ("bond slave", LinkFacts { master: Some(7), ..eth(4, "eth1") }, Err(Unsuitable::Enslaved { master: 7 })),
            ("no address", LinkFacts { hardware_address: None, ..eth(5, "wg0") }, Err(Unsuitable::NoMac)),
            ("zero MAC", LinkFacts { hardware_address: Some(vec![0; 6]), ..eth(5, "d0") }, Err(Unsuitable::NoMac)),
            (
                "long address",
                LinkFacts { hardware_address: Some(vec![2; 20]), ..eth(5, "ib0") },
                Err(Unsuitable::NoMac),
            ),
            ("not ethernet", LinkFacts { ethernet: false, ..eth(5, "x0") }, Err(Unsuitable::NoMac)),
            (
                "multicast MAC",
                LinkFacts { hardware_address: Some(vec![1, 0, 0, 0, 0, 1]), ..eth(5, "m0") },
                Err(Unsuitable::NoMac),
            ),
        ];
        for (what, link, want) in cases {
            assert_eq!(judge_link(&link).map(|_| ()), want, "{what}");
        }
        assert_eq!(judge_link(&eth(2, "eth0")), Ok(("eth0".to_string(), MacAddr([2, 0, 0, 0, 0, 2]))));
    }

    #[test]
    fn suitable_interfaces_carry_their_addresses_sorted_by_name() {
        let links = vec![
            eth(3, "eth1"),
            LinkFacts { loopback: true, ..eth(1, "lo") },
            eth(2, "eth0"),
            LinkFacts { master: Some(9), ..eth(4, "eth2") },
        ];
        let addresses = vec![
            AddressFacts { index: 2, address: "198.51.100.11".parse().unwrap(), prefix_len: 24 },
            AddressFacts { index: 1, address: "127.0.0.1".parse().unwrap(), prefix_len: 8 },
            AddressFacts { index: 2, address: "2001:db8:1::11".parse().unwrap(), prefix_len: 64 },
        ];
        let got = suitable_interfaces(&links, &addresses);
        let names: Vec<&str> = got.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["eth0", "eth1"]);
        assert_eq!(
            got[0].addresses,
            vec![
                InterfaceAddress { address: "198.51.100.11".parse().unwrap(), prefix_len: 24 },
                InterfaceAddress { address: "2001:db8:1::11".parse().unwrap(), prefix_len: 64 },
            ]
        );
        assert_eq!((got[1].index, got[1].mac, got[1].addresses.len()), (3, MacAddr([2, 0, 0, 0, 0, 3]), 0));
    }
}
