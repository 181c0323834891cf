//! BGP unnumbered: finding the router at the other end of a BGPPeer's `interface`, and being
//! found by it, with IPv6 Router Advertisements (RFC 4861).
//!
//! A router peering over an interface (FRR's `neighbor IFACE interface`) sends Router
//! Advertisements on it, and learns its neighbor's link-local address from the ones it receives
//! (FRR's zebra, rtadv): until it has received one from us it refuses our connection ("not
//! configured"). So on the interface the speaker sends Router Advertisements with Router
//! Lifetime 0, which no host takes for a default router (RFC 4861 section 6.3.4), at start, every
//! [`RA_INTERVAL`] and in answer to Router Solicitations; it sends one Router Solicitation at
//! start so that the router answers at once; and the link-local source of the Router
//! Advertisements it receives is the router to connect to.
//!
//! The messages and the choice of router are pure ([`router_advertisement`],
//! [`router_solicitation`], [`parse`], [`choose`]); [`Discovery`] is the thin raw-socket edge.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::watch;

use crate::netif::{self, NetifError};

/// ICMPv6 type of a Router Solicitation.
pub const TYPE_ROUTER_SOLICITATION: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const TYPE_ROUTER_ADVERTISEMENT: u8 = 134;
/// How often the speaker advertises itself on the interface.
pub const RA_INTERVAL: Duration = Duration::from_secs(10);
/// How long a router may go unheard before an advertisement from another one replaces it.
pub const ROUTER_STALE: Duration = Duration::from_secs(90);
/// How long to wait before trying again when the interface is missing or the socket fails.
const RETRY: Duration = Duration::from_secs(5);
/// All-nodes multicast: where Router Advertisements go.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers multicast: where Router Solicitations go.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// A Router Advertisement with Router Lifetime 0 and nothing else (no flags, no options,
/// reachable time and retransmission timer unspecified). The checksum is left 0: the kernel
/// computes it on ICMPv6 raw sockets.
pub fn router_advertisement() -> [u8; 16] {
    let mut message = [0u8; 16];
    message[0] = TYPE_ROUTER_ADVERTISEMENT;
    message
}

/// A Router Solicitation without options (the checksum is the kernel's, as above).
pub fn router_solicitation() -> [u8; 8] {
    let mut message = [0u8; 8];
    message[0] = TYPE_ROUTER_SOLICITATION;
    message
}

/// A router discovery message received on the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterMessage {
    /// A Router Advertisement from a router, with its Router Lifetime in seconds.
    Advertisement {
        /// Router Lifetime (0: not a default router; still a router).
        lifetime: u16,
    },
    /// A Router Solicitation: someone wants routers to advertise now.
    Solicitation,
}

/// What an ICMPv6 message (as a raw ICMPv6 socket returns it: from the type on) received from
/// `source` is, for router discovery; None for anything else or anything malformed. As RFC 4861
/// section 6.1 asks: code 0, at least the fixed part, and for Router Advertisements a link-local
/// source.
pub fn parse(message: &[u8], source: Ipv6Addr) -> Option<RouterMessage> {
    match message {
        [TYPE_ROUTER_ADVERTISEMENT, 0, _, _, _, _, high, low, rest @ ..]
            if rest.len() >= 8 && source.is_unicast_link_local() =>
        {
            Some(RouterMessage::Advertisement { lifetime: u16::from_be_bytes([*high, *low]) })
        }
        [TYPE_ROUTER_SOLICITATION, 0, _, _, _, _, _, _, ..] => Some(RouterMessage::Solicitation),
        _ => None,
    }
}

/// The router a session goes to, and when it was last heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// Its link-local address.
    pub address: Ipv6Addr,
    /// When its last Router Advertisement arrived.
    pub at: Instant,
}

/// The router after an advertisement from `source` at `now`: the current one stays (heard
/// again when it is the source) unless it has been silent for [`ROUTER_STALE`]; so one router
/// on a point-to-point link is found at once, and two on a shared link do not take turns.
pub fn choose(current: Option<Heard>, source: Ipv6Addr, now: Instant) -> Heard {
    match current {
        Some(current) if current.address != source && now.saturating_duration_since(current.at) < ROUTER_STALE => {
            current
        }
        _ => Heard { address: source, at: now },
    }
}

/// The router at the other end of an interface: its link-local address and the interface's
/// index (the address's scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkRouter {
    /// Its link-local address.
    pub address: Ipv6Addr,
    /// The interface's index.
    pub index: u32,
}

impl LinkRouter {
    /// Its address and `port`, scoped to the interface.
    pub fn socket_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::V6(SocketAddrV6::new(self.address, port, 0, self.index))
    }
}

/// What a session says while no router has been heard on its interface.
pub fn router_not_found(interface: &str) -> String {
    format!(
        "no Router Advertisement heard on {interface}: the router at its other end is not known yet (it must have \
         IPv6 on the link and send Router Advertisements, as FRR does for `neighbor {interface} interface`)"
    )
}

/// Why router discovery is not running on an interface.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// No interface has that name.
    #[error("interface {0} does not exist on this node")]
    NoSuchInterface(String),
    /// The interface could not be looked up.
    #[error(transparent)]
    Netif(#[from] NetifError),
    /// The ICMPv6 socket failed.
    #[error("ICMPv6 socket on {interface}: {source}")]
    Socket {
        /// The interface.
        interface: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
}

/// Router discovery on one interface, running until dropped.
pub struct Discovery {
    router: watch::Receiver<Option<LinkRouter>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Discovery {
    /// Starts advertising on `interface` and listening for its router; `peer` names the BGPPeer
    /// in logs.
    pub fn spawn(interface: String, peer: String) -> Discovery {
        let (tx, router) = watch::channel(None);
        let task = tokio::spawn(run(interface, peer, tx));
        Discovery { router, task }
    }

    /// The router as known now, and its changes.
    pub fn router(&self) -> watch::Receiver<Option<LinkRouter>> {
        self.router.clone()
    }
}

/// Waits until a router is known; pending forever when discovery has ended (it only ends when
/// dropped, with the session).
pub async fn known_router(mut router: watch::Receiver<Option<LinkRouter>>) -> LinkRouter {
    let known = router.wait_for(Option::is_some).await.ok().and_then(|known| *known);
    match known {
        Some(router) => router,
        None => std::future::pending().await,
    }
}

async fn run(interface: String, peer: String, tx: watch::Sender<Option<LinkRouter>>) {
    let mut said: Option<String> = None;
    loop {
        let Err(error) = advertise_and_listen(&interface, &peer, &tx).await;
        let text = error.to_string();
        if said.as_ref() != Some(&text) {
            tracing::warn!(%peer, %interface, error = %text, "BGP unnumbered: cannot look for the router; retrying");
            said = Some(text);
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Opens the ICMPv6 socket on the interface and runs until it fails.
async fn advertise_and_listen(
    interface: &str,
    peer: &str,
    tx: &watch::Sender<Option<LinkRouter>>,
) -> Result<std::convert::Infallible, DiscoveryError> {
    let link = netif::link_named(interface).await?.ok_or_else(|| DiscoveryError::NoSuchInterface(interface.into()))?;
    let socket_error = |source| DiscoveryError::Socket { interface: interface.to_owned(), source };
    let socket = open(interface, link.index).map_err(socket_error)?;
    // Our own addresses, so that our advertisements (should the kernel loop one back) are not
    // taken for the router's.
    let own: Vec<Ipv6Addr> = link
        .addresses
        .iter()
        .filter_map(|a| match a {
            std::net::IpAddr::V6(v6) => Some(*v6),
            std::net::IpAddr::V4(_) => None,
        })
        .collect();
    let all_nodes = SocketAddrV6::new(ALL_NODES, 0, 0, link.index);
    let all_routers = SocketAddrV6::new(ALL_ROUTERS, 0, 0, link.index);
    socket.send_to(&router_solicitation(), all_routers).await.map_err(socket_error)?;
    let mut tick = tokio::time::interval(RA_INTERVAL);
    let mut heard: Option<Heard> = None;
    let mut buf = [0u8; 1500];
    loop {
        tokio::select! {
            _ = tick.tick() => {
                socket.send_to(&router_advertisement(), all_nodes).await.map_err(socket_error)?;
            }
            received = socket.recv_from(&mut buf) => {
                let (len, from) = received.map_err(socket_error)?;
                let SocketAddr::V6(from) = from else { continue };
                if own.contains(from.ip()) {
                    continue;
                }
                match parse(buf.get(..len).unwrap_or_default(), *from.ip()) {
                    Some(RouterMessage::Advertisement { .. }) => {
                        let now = Instant::now();
                        let next = choose(heard, *from.ip(), now);
                        if heard.map(|h| h.address) != Some(next.address) {
                            tracing::info!(%peer, %interface, router = %next.address, "BGP unnumbered: router found");
                        }
                        heard = Some(next);
                        let router = LinkRouter { address: next.address, index: link.index };
                        tx.send_if_modified(|current| {
                            let changed = *current != Some(router);
                            *current = Some(router);
                            changed
                        });
                    }
                    Some(RouterMessage::Solicitation) => {
                        socket.send_to(&router_advertisement(), all_nodes).await.map_err(socket_error)?;
                    }
                    None => {}
                }
            }
        }
    }
}

/// An ICMPv6 raw socket on the interface: bound to it, multicast out of it with hop limit 255
/// (RFC 4861 requires it of Neighbor Discovery), without looping our own multicast back, and a
/// member of all-routers so that Router Solicitations reach it.
fn open(interface: &str, index: u32) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    socket.bind_device(Some(interface.as_bytes()))?;
    socket.set_multicast_if_v6(index)?;
    socket.set_multicast_hops_v6(255)?;
    socket.set_unicast_hops_v6(255)?;
    socket.set_multicast_loop_v6(false)?;
    socket.join_multicast_v6(&ALL_ROUTERS, index)?;
    socket.set_nonblocking(true)?;
    // recvfrom and sendto on a raw socket are what a UDP socket does with its descriptor.
    UdpSocket::from_std(std::net::UdpSocket::from(socket))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn messages_are_byte_exact() {
        assert_eq!(router_advertisement(), [134, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(router_solicitation(), [133, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn parse_table() {
        // Shaped as FRR 8.4's advertisement on an unnumbered interface (tcpdump: hop limit 64,
        // lifetime 30 s, source link-layer address option); the checksum is not checked here.
        let frr = [
            0x86, 0x00, 0x3a, 0x5e, 0x40, 0x00, 0x00, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01, 0x5a, 0x06, 0x9c, 0xce,
            0x19, 0x46,
        ];
        let cases: Vec<(&str, Vec<u8>, Ipv6Addr, Option<RouterMessage>)> = vec![
            (
                "FRR's RA",
                frr.to_vec(),
                ll("fe80::5806:9cff:fece:1946"),
                Some(RouterMessage::Advertisement { lifetime: 30 }),
            ),
            (
                "ours",
                router_advertisement().to_vec(),
                ll("fe80::2"),
                Some(RouterMessage::Advertisement { lifetime: 0 }),
            ),
            ("RA from a global address", frr.to_vec(), ll("2001:db8::1"), None),
            ("RA cut short", frr[..15].to_vec(), ll("fe80::1"), None),
            ("RA with code 1", [&[134, 1], &frr[2..]].concat(), ll("fe80::1"), None),
            ("RS", router_solicitation().to_vec(), ll("fe80::1"), Some(RouterMessage::Solicitation)),
            ("RS from ::", router_solicitation().to_vec(), Ipv6Addr::UNSPECIFIED, Some(RouterMessage::Solicitation)),
            ("RS cut short", router_solicitation()[..7].to_vec(), ll("fe80::1"), None),
            ("echo request", vec![128, 0, 0, 0, 0, 1, 0, 1], ll("fe80::1"), None),
            ("nothing", vec![], ll("fe80::1"), None),
        ];
        for (name, message, source, expected) in cases {
            assert_eq!(parse(&message, source), expected, "{name}");
        }
    }

    #[test]
    fn the_router_stays_until_it_goes_stale() {
        let t0 = Instant::now();
        let first = choose(None, ll("fe80::1"), t0);
        assert_eq!(first, Heard { address: ll("fe80::1"), at: t0 });
        let later = t0 + Duration::from_secs(30);
        assert_eq!(choose(Some(first), ll("fe80::9"), later), first, "another router does not take over");
        assert_eq!(choose(Some(first), ll("fe80::1"), later), Heard { address: ll("fe80::1"), at: later });
        let stale = t0 + ROUTER_STALE;
        assert_eq!(choose(Some(first), ll("fe80::9"), stale), Heard { address: ll("fe80::9"), at: stale });
    }

    #[test]
    fn the_router_is_scoped_to_the_interface() {
        let router = LinkRouter { address: ll("fe80::1"), index: 7 };
        assert_eq!(router.socket_addr(179).to_string(), "[fe80::1%7]:179");
    }
}
