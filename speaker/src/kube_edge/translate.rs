//! Pure translations between what the watches and the kernel report and what the announcer, the
//! responder, the member prober and the status writer take.
//!
//! Decides only shapes and small facts read from objects (a Node's InternalIPs, the member keys in
//! a Secret, whether the node-network link is up); who owns what is the announcer's decision.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use k8s_openapi::api::core::v1::{Node, Secret};

use crate::announcer::{Interfaces, Layer2Decision, ServiceKey};
use crate::layer2::owned::{InterfaceSelector, OwnedAddress, OwnedAddresses};
use crate::members::{KeyError, KeyRing, Member};
use crate::netif::Interface;

/// The addresses the responder answers for, from the Layer2 decision.
pub fn owned_addresses(decision: &Layer2Decision) -> OwnedAddresses {
    decision
        .owned
        .iter()
        .map(|(ip, announcement)| {
            let interfaces = match &announcement.interfaces {
                Interfaces::All => InterfaceSelector::All,
                Interfaces::Only(names) => InterfaceSelector::Named(names.clone()),
            };
            (*ip, OwnedAddress { interfaces, releasing: false })
        })
        .collect()
}

/// What this node announces for one Service, as its ServiceL2Status reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnouncedService {
    /// The Service's addresses this node answers for.
    pub addresses: BTreeSet<IpAddr>,
    /// The interfaces it answers on (names; every suitable interface when the advertisement
    /// names none).
    pub interfaces: BTreeSet<String>,
}

/// The Services this node announces, with their addresses and interfaces. `suitable` are the
/// interfaces the responder runs on, which stand for [`Interfaces::All`].
pub fn announced_services(decision: &Layer2Decision, suitable: &[Interface]) -> BTreeMap<ServiceKey, AnnouncedService> {
    let mut out: BTreeMap<ServiceKey, AnnouncedService> = BTreeMap::new();
    for (ip, announcement) in &decision.owned {
        let names: Vec<String> = match &announcement.interfaces {
            Interfaces::All => suitable.iter().map(|i| i.name.clone()).collect(),
            Interfaces::Only(names) => names.iter().cloned().collect(),
        };
        for service in &announcement.services {
            let entry = out.entry(service.clone()).or_default();
            entry.addresses.insert(*ip);
            entry.interfaces.extend(names.iter().cloned());
        }
    }
    out
}

/// A Node's InternalIP addresses, in the order the Node lists them; unparsable ones are skipped.
pub fn internal_ips(node: &Node) -> Vec<IpAddr> {
    node.status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .filter(|a| a.type_ == "InternalIP")
        .filter_map(|a| a.address.parse().ok())
        .collect()
}

/// The address the prober listens on: the unspecified address of the family of this node's first
/// InternalIP (IPv4 when it has none), at `port`.
pub fn member_bind(own_ips: &[IpAddr], port: u16) -> SocketAddr {
    match own_ips.first() {
        Some(IpAddr::V6(_)) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)),
        _ => SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port)),
    }
}

/// The prober's members: every Node with an InternalIP of the family `bind` listens on, at `port`.
pub fn members<'a>(nodes: impl IntoIterator<Item = &'a Node>, bind: SocketAddr, port: u16) -> Vec<Member> {
    let mut out: Vec<Member> = nodes
        .into_iter()
        .filter_map(|node| {
            let name = node.metadata.name.clone()?;
            let ip = internal_ips(node).into_iter().find(|ip| ip.is_ipv4() == bind.is_ipv4())?;
            Some(Member { node: name, addr: SocketAddr::new(ip, port) })
        })
        .collect();
    out.sort();
    out
}

/// Why the member keys could not be read from the Secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    /// The Secret has no such data key.
    #[error("the Secret has no data key {0:?}")]
    Missing(String),
    /// The key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The member keys in a Secret: `key` signs and verifies; every other data key whose name starts
/// with `key` (e.g. `secretkey-old`), in name order, only verifies (for rotation).
pub fn member_keys(secret: &Secret, key: &str) -> Result<KeyRing, KeysError> {
    let data = secret.data.as_ref();
    let first = data.and_then(|d| d.get(key)).ok_or_else(|| KeysError::Missing(key.to_owned()))?;
    let others = data
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.as_str() != key && name.starts_with(key))
        .map(|(_, value)| value);
    Ok(KeyRing::new(std::iter::once(first).chain(others).map(|v| v.0.as_slice()))?)
}

/// Whether this node's link on the node network is up: some suitable (so up) interface carries
/// one of the node's InternalIPs. Unknown InternalIPs count as up.
pub fn link_up(interfaces: &[Interface], node_ips: &[IpAddr]) -> bool {
    node_ips.is_empty() || interfaces.iter().any(|i| i.addresses.iter().any(|a| node_ips.contains(&a.address)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::{NodeAddress, NodeStatus};

    use super::*;
    use crate::announcer::Layer2Announcement;
    use crate::layer2::MacAddr;
    use crate::netif::InterfaceAddress;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn node(name: &str, ips: &[&str]) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.status = Some(NodeStatus {
            addresses: Some(
                ips.iter()
                    .map(|a| NodeAddress { type_: "InternalIP".into(), address: (*a).into() })
                    .chain([NodeAddress { type_: "Hostname".into(), address: name.into() }])
                    .collect(),
            ),
            ..NodeStatus::default()
        });
        n
    }

    fn iface(name: &str, ips: &[&str]) -> Interface {
        Interface {
            name: name.into(),
            index: 2,
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            addresses: ips.iter().map(|a| InterfaceAddress { address: ip(a), prefix_len: 24 }).collect(),
        }
    }

    fn decision() -> Layer2Decision {
        let web = ServiceKey::new("default", "web");
        let api = ServiceKey::new("team", "api");
        let mut d = Layer2Decision::default();
        d.owned.insert(
            ip("198.51.100.200"),
            Layer2Announcement { interfaces: Interfaces::All, services: [web.clone(), api.clone()].into() },
        );
        d.owned.insert(
            ip("2001:db8:1::200"),
            Layer2Announcement { interfaces: Interfaces::Only(["eth1".to_owned()].into()), services: [web].into() },
        );
        d
    }

    #[test]
    fn owned_addresses_keep_the_interface_choice() {
        let owned = owned_addresses(&decision());
        assert_eq!(owned.len(), 2);
        assert_eq!(owned[&ip("198.51.100.200")].interfaces, InterfaceSelector::All);
        assert_eq!(owned[&ip("2001:db8:1::200")].interfaces, InterfaceSelector::Named(["eth1".to_owned()].into()));
    }

    #[test]
    fn announced_services_gather_addresses_and_interfaces_per_service() {
        let announced = announced_services(&decision(), &[iface("eth0", &[])]);
        let web = &announced[&ServiceKey::new("default", "web")];
        assert_eq!(web.addresses, [ip("198.51.100.200"), ip("2001:db8:1::200")].into());
        assert_eq!(web.interfaces, ["eth0".to_owned(), "eth1".to_owned()].into());
        let api = &announced[&ServiceKey::new("team", "api")];
        assert_eq!(api.addresses, [ip("198.51.100.200")].into());
        assert_eq!(api.interfaces, ["eth0".to_owned()].into());
        assert_eq!(announced.len(), 2);
    }

    #[test]
    fn members_use_the_bind_family_and_skip_nodes_without_one() {
        let nodes = [
            node("node2", &["198.51.100.12", "2001:db8:1::12"]),
            node("node1", &["2001:db8:1::11", "198.51.100.11"]),
            node("v6only", &["2001:db8:1::13"]),
            node("garbage", &["not-an-ip"]),
        ];
        let bind = member_bind(&internal_ips(&nodes[0]), 7946);
        assert_eq!(bind, "0.0.0.0:7946".parse().unwrap());
        let m = members(&nodes, bind, 7946);
        let got: Vec<(String, String)> = m.iter().map(|m| (m.node.clone(), m.addr.to_string())).collect();
        assert_eq!(
            got,
            [
                ("node1".to_owned(), "198.51.100.11:7946".to_owned()),
                ("node2".to_owned(), "198.51.100.12:7946".to_owned())
            ]
        );
        let bind6 = member_bind(&[ip("2001:db8:1::13")], 7946);
        assert_eq!(members(&nodes, bind6, 7946).len(), 3);
    }

    #[test]
    fn keys_come_from_the_named_data_key() {
        let mut secret = Secret::default();
        assert_eq!(member_keys(&secret, "secretkey").unwrap_err(), KeysError::Missing("secretkey".into()));
        let mut data = BTreeMap::new();
        data.insert("secretkey".to_owned(), ByteString(b"short".to_vec()));
        secret.data = Some(data.clone());
        assert!(matches!(member_keys(&secret, "secretkey"), Err(KeysError::Key(KeyError::TooShort { .. }))));
        data.insert("secretkey".to_owned(), ByteString(vec![7; 32]));
        data.insert("secretkey-old".to_owned(), ByteString(vec![8; 32]));
        data.insert("other".to_owned(), ByteString(vec![9; 32]));
        secret.data = Some(data);
        assert_eq!(member_keys(&secret, "secretkey").unwrap().len(), 2);
    }

    #[test]
    fn the_link_is_up_while_an_up_interface_carries_a_node_address() {
        let node_ips = [ip("198.51.100.11"), ip("2001:db8:1::11")];
        assert!(link_up(&[iface("eth0", &["198.51.100.11"])], &node_ips));
        assert!(!link_up(&[iface("eth1", &["192.0.2.5"])], &node_ips));
        assert!(!link_up(&[], &node_ips));
        assert!(link_up(&[], &[]));
    }
}
