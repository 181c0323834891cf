//! The lab's topology and address plan, as values: which hosts exist, in which network
//! namespace, with which addresses and routes. Pure: nothing here touches the system.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The router's autonomous system number.
pub const ROUTER_ASN: u32 = 64512;
/// The nodes' autonomous system number (every node shares it).
pub const NODE_ASN: u32 = 64600;
/// TCP port of each node's kube-proxy stand-in (the HTTP server answering its node name).
pub const STANDIN_PORT: u16 = 80;
/// The apiserver's port inside the cp namespace.
pub const APISERVER_PORT: u16 = 6443;
/// Address pools the nodes accept traffic for, like kube-proxy does for LB addresses.
/// BGP pools: 203.0.113.0/24 and 2001:db8:100::/120. Layer2 pools lie on the node
/// segment, 198.51.100.200-250 and 2001:db8:1::200-2ff; the local routes below cover them.
pub const ACCEPTED_PREFIXES: [&str; 4] =
    ["203.0.113.0/24", "2001:db8:100::/120", "198.51.100.192/26", "2001:db8:1::200/120"];
/// ClusterIP ranges, dual-stack. Documentation ranges: no kube-proxy runs, so nothing in
/// the lab routes to them; they only fill `spec.clusterIPs`.
pub const SERVICE_CIDRS: &str = "192.0.2.128/25,2001:db8:ffff::/112";
/// Most nodes a lab may have: node addresses run from .11 and must stay below .99 (l2client).
pub const MAX_NODES: u8 = 50;

/// A lab's name: the per-run prefix of everything the lab creates on the machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabName(String);

impl LabName {
    /// Accepts 1-20 characters of lowercase letters, digits and '-', starting with a letter.
    pub fn new(name: &str) -> Result<Self, PlanError> {
        let ok = (1..=20).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(name.to_owned())) } else { Err(PlanError::BadName(name.to_owned())) }
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LabName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The lab name does not fit the rule.
    #[error("lab name {0:?} is not valid: use 1-20 lowercase letters, digits or '-', starting with a letter")]
    BadName(String),
    /// Too few or too many nodes.
    #[error("a lab has 1 to {MAX_NODES} nodes, not {0}")]
    NodeCount(u8),
}

/// What a host is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs kube-apiserver with etcd, and the FerroLB controller.
    ControlPlane,
    /// A Kubernetes node: speaker and kube-proxy stand-in. Numbered from 1.
    Node(u8),
    /// The network's router (FRR or BIRD), between client and node segment.
    Router,
    /// A client beyond the router.
    Client,
    /// A client on the node segment, for Layer2 tests.
    L2Client,
}

/// One interface of a host, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Name inside the host's namespace.
    pub name: &'static str,
    /// IPv4 address with prefix length.
    pub v4: (Ipv4Addr, u8),
    /// IPv6 address with prefix length.
    pub v6: (Ipv6Addr, u8),
}

/// One host of the lab: a network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Short name users type: cp, node1, router, client, l2client.
    pub name: String,
    /// What it is for.
    pub role: Role,
    /// The network namespace's name on the machine.
    pub netns: String,
    /// Its interfaces; the first is the one users mean by "its address".
    pub interfaces: Vec<Interface>,
    /// Default gateways (IPv4, IPv6), if any.
    pub gateway: Option<(Ipv4Addr, Ipv6Addr)>,
}

impl Host {
    /// The host's main IPv4 address.
    pub fn v4(&self) -> Ipv4Addr {
        self.interfaces[0].v4.0
    }

    /// The host's main IPv6 address.
    pub fn v6(&self) -> Ipv6Addr {
        self.interfaces[0].v6.0
    }

    /// Whether the host is a Kubernetes node.
    pub fn is_node(&self) -> bool {
        matches!(self.role, Role::Node(_))
    }
}

/// The whole lab, as it should be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The lab's name.
    pub name: LabName,
    /// Every host; the bridge namespace is not a host.
    pub hosts: Vec<Host>,
}

fn v4(d: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, d)
}

/// 2001:db8:1::NN where NN reads like the IPv4 host part (node1 = .11 = ::11).
fn v6(d: u8) -> Ipv6Addr {
    let decimal_looking = u16::from_str_radix(&d.to_string(), 16).unwrap_or(u16::from(d));
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, decimal_looking)
}

fn segment(d: u8) -> Interface {
    Interface { name: "eth0", v4: (v4(d), 24), v6: (v6(d), 64) }
}

impl Plan {
    /// Plans a lab of `nodes` nodes.
    pub fn new(name: LabName, nodes: u8) -> Result<Self, PlanError> {
        if !(1..=MAX_NODES).contains(&nodes) {
            return Err(PlanError::NodeCount(nodes));
        }
        let ns = |host: &str| format!("flb-{name}-{host}");
        let gw = Some((v4(1), v6(1)));
        let mut hosts = vec![
            Host {
                name: "router".into(),
                role: Role::Router,
                netns: ns("router"),
                interfaces: vec![
                    segment(1),
                    Interface {
                        name: "eth1",
                        v4: (Ipv4Addr::new(192, 0, 2, 1), 24),
                        v6: (Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 1), 64),
                    },
                ],
                gateway: None,
            },
            Host {
                name: "client".into(),
                role: Role::Client,
                netns: ns("client"),
                interfaces: vec![Interface {
                    name: "eth0",
                    v4: (Ipv4Addr::new(192, 0, 2, 10), 24),
                    v6: (Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 0x10), 64),
                }],
                gateway: Some((Ipv4Addr::new(192, 0, 2, 1), Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 1))),
            },
            Host {
                name: "cp".into(),
                role: Role::ControlPlane,
                netns: ns("cp"),
                interfaces: vec![segment(2)],
                gateway: gw,
            },
        ];
        for i in 1..=nodes {
            let host = format!("node{i}");
            hosts.push(Host {
                netns: ns(&host),
                name: host,
                role: Role::Node(i),
                interfaces: vec![segment(10 + i)],
                gateway: gw,
            });
        }
        hosts.push(Host {
            name: "l2client".into(),
            role: Role::L2Client,
            netns: ns("l2client"),
            interfaces: vec![segment(99)],
            gateway: gw,
        });
        Ok(Self { name, hosts })
    }

    /// The namespace holding the node segment's bridge.
    pub fn bridge_netns(&self) -> String {
        format!("flb-{}-lab", self.name)
    }

    /// Every namespace of the lab, bridge first.
    pub fn namespaces(&self) -> Vec<String> {
        std::iter::once(self.bridge_netns()).chain(self.hosts.iter().map(|h| h.netns.clone())).collect()
    }

    /// A host by its short name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The Kubernetes nodes.
    pub fn nodes(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(|h| h.is_node())
    }

    /// The apiserver's address as seen from inside the lab.
    pub fn apiserver(&self) -> IpAddr {
        IpAddr::V4(v4(2))
    }

    /// `ip -batch` lines that build the bridge namespace: the bridge and one port per
    /// host on the segment; the far ends land in the hosts' namespaces as eth0.
    pub fn bridge_batch(&self) -> Vec<String> {
        let mut lines = vec!["link set lo up".to_owned(), "link add br0 type bridge".to_owned()];
        for h in self.hosts.iter().filter(|h| h.role != Role::Client) {
            let port = format!("p-{}", h.name);
            lines.push(format!("link add {port} type veth peer name eth0 netns {}", h.netns));
            lines.push(format!("link set {port} master br0"));
            lines.push(format!("link set {port} up"));
        }
        lines.push("link set br0 up".to_owned());
        lines
    }

    /// `ip -batch` lines run in the router's namespace before the hosts are configured:
    /// the router-client link.
    pub fn router_link_batch(&self) -> Vec<String> {
        let client = self.host("client").map(|h| h.netns.clone()).unwrap_or_default();
        vec![format!("link add eth1 type veth peer name eth0 netns {client}")]
    }

    /// `ip -batch` lines that configure one host: addresses (without DAD, so they are usable
    /// at once), links up, default routes, and on nodes the local routes that make them accept
    /// LB traffic the way kube-proxy does.
    pub fn host_batch(&self, host: &Host) -> Vec<String> {
        let mut lines = vec!["link set lo up".to_owned()];
        for i in &host.interfaces {
            lines.push(format!("address add {}/{} dev {}", i.v4.0, i.v4.1, i.name));
            lines.push(format!("address add {}/{} dev {} nodad", i.v6.0, i.v6.1, i.name));
            lines.push(format!("link set {} up", i.name));
        }
        if let Some((g4, g6)) = host.gateway {
            lines.push(format!("route add default via {g4}"));
            lines.push(format!("route add ::/0 via {g6}"));
        }
        if host.is_node() {
            for p in ACCEPTED_PREFIXES {
                lines.push(format!("route add local {p} dev lo"));
            }
        }
        lines
    }

    /// sysctl settings for a host. Nodes must not answer ARP for the pool addresses they
    /// accept (only the speaker may), as kube-proxy's IPVS mode with strictARP; the router
    /// forwards.
    pub fn host_sysctls(&self, host: &Host) -> Vec<&'static str> {
        match host.role {
            Role::Router => vec!["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
            Role::Node(_) => vec![
                "net.ipv4.conf.all.arp_ignore=1",
                "net.ipv4.conf.all.arp_announce=2",
                "net.ipv4.conf.default.arp_ignore=1",
                "net.ipv4.conf.default.arp_announce=2",
                "net.ipv6.conf.all.accept_ra=0",
            ],
            _ => vec!["net.ipv6.conf.all.accept_ra=0"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(nodes: u8) -> Plan {
        Plan::new(LabName::new("t1").expect("valid name"), nodes).expect("valid plan")
    }

    #[test]
    fn names_are_checked() {
        assert!(LabName::new("demo").is_ok());
        assert!(LabName::new("a-1").is_ok());
        for bad in ["", "Demo", "1abc", "a_b", "a b", "abcdefghijklmnopqrstu"] {
            assert_eq!(LabName::new(bad), Err(PlanError::BadName(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn node_count_is_bounded() {
        let name = LabName::new("x").expect("valid");
        assert_eq!(Plan::new(name.clone(), 0), Err(PlanError::NodeCount(0)));
        assert_eq!(Plan::new(name, MAX_NODES + 1), Err(PlanError::NodeCount(MAX_NODES + 1)));
    }

    #[test]
    fn follows_the_address_plan() {
        let p = plan(3);
        let names: Vec<_> = p.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["router", "client", "cp", "node1", "node2", "node3", "l2client"]);
        let node2 = p.host("node2").expect("node2");
        assert_eq!(node2.v4(), Ipv4Addr::new(198, 51, 100, 12));
        assert_eq!(node2.v6().to_string(), "2001:db8:1::12");
        assert_eq!(node2.netns, "flb-t1-node2");
        assert_eq!(p.host("cp").expect("cp").v4().to_string(), "198.51.100.2");
        assert_eq!(p.host("l2client").expect("l2").v6().to_string(), "2001:db8:1::99");
        assert_eq!(p.host("client").expect("client").v4().to_string(), "192.0.2.10");
        assert_eq!(p.apiserver().to_string(), "198.51.100.2");
        assert_eq!(p.namespaces().len(), 8);
    }

    #[test]
    fn the_fiftieth_node_stays_clear_of_l2client() {
        let p = plan(MAX_NODES);
        let last = p.host("node50").expect("node50");
        assert_eq!(last.v4(), Ipv4Addr::new(198, 51, 100, 60));
        assert_eq!(last.v6().to_string(), "2001:db8:1::60");
    }

    #[test]
    fn nodes_accept_pool_traffic_but_other_hosts_do_not() {
        let p = plan(1);
        let node = p.host_batch(p.host("node1").expect("node1"));
        assert!(node.contains(&"route add local 203.0.113.0/24 dev lo".to_owned()));
        assert!(node.contains(&"route add local 2001:db8:1::200/120 dev lo".to_owned()));
        let client = p.host_batch(p.host("l2client").expect("l2client"));
        assert!(!client.iter().any(|l| l.contains("local")));
    }

    #[test]
    fn nodes_stay_silent_for_arp_on_pool_addresses() {
        let p = plan(1);
        let s = p.host_sysctls(p.host("node1").expect("node1"));
        assert!(s.contains(&"net.ipv4.conf.all.arp_ignore=1"));
        assert!(s.contains(&"net.ipv4.conf.all.arp_announce=2"));
        assert!(p.host_sysctls(p.host("router").expect("router")).contains(&"net.ipv4.ip_forward=1"));
    }

    #[test]
    fn every_segment_host_gets_a_bridge_port_but_the_client_does_not() {
        let p = plan(2);
        let b = p.bridge_batch();
        for h in ["router", "cp", "node1", "node2", "l2client"] {
            assert!(b.iter().any(|l| l.starts_with(&format!("link add p-{h} "))), "{h}");
        }
        assert!(!b.iter().any(|l| l.contains("p-client ")));
    }
}
