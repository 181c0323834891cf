//! BFD's UDP sockets: listeners on the well-known ports that report each datagram's TTL (hop
//! limit), and per-session senders from an ephemeral source port with TTL 255.
//!
//! RFC 5881 (section 4) sends from a source port in 49152-65535 with TTL 255 and requires 255
//! on reception for single hop (the GTSM check that keeps off-link packets out); RFC 5883
//! multihop checks the TTL against a configured minimum. The TTL comes from the IP_TTL /
//! IPV6_HOPLIMIT ancillary data, asked for with IP_RECVTTL / IPV6_RECVHOPLIMIT.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};

use ferrolb_bfd::ttl::{SEND_TTL, SOURCE_PORTS};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Internetwork control (CS6), as routers mark their control traffic.
const TOS_CS6: u32 = 0xc0;

/// One datagram as received.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Its length in the buffer.
    pub len: usize,
    /// Who sent it.
    pub from: SocketAddr,
    /// Its TTL (hop limit); None when the kernel did not say.
    pub ttl: Option<u8>,
}

fn udp(v6: bool, vrf: Option<&str>) -> io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if v6 {
        socket.set_only_v6(true)?;
    }
    if let Some(vrf) = vrf {
        socket.bind_device(Some(vrf.as_bytes()))?;
    }
    socket.set_nonblocking(true)?;
    Ok(socket)
}

fn unspecified(v6: bool) -> IpAddr {
    if v6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) }
}

/// A listener on `port` (3784 or 4784) for one family, in `vrf` when given, that reports TTLs.
pub fn listener(v6: bool, port: u16, vrf: Option<&str>) -> io::Result<UdpSocket> {
    let socket = udp(v6, vrf)?;
    socket.set_reuse_address(true)?;
    if v6 {
        setsockopt(&socket, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from)?;
    } else {
        setsockopt(&socket, sockopt::Ipv4RecvTtl, &true).map_err(io::Error::from)?;
    }
    socket.bind(&SocketAddr::new(unspecified(v6), port).into())?;
    UdpSocket::from_std(socket.into())
}

/// A sender towards `remote`: bound to `local` (or any address) and a free source port from
/// 49152-65535, starting at `first` (a random pick spreads sessions), TTL 255.
pub fn sender(local: Option<IpAddr>, remote: IpAddr, vrf: Option<&str>, first: u16) -> io::Result<UdpSocket> {
    let v6 = remote.is_ipv6();
    let socket = udp(v6, vrf)?;
    if v6 {
        socket.set_unicast_hops_v6(SEND_TTL.into())?;
        socket.set_tclass_v6(TOS_CS6)?;
    } else {
        socket.set_ttl_v4(SEND_TTL.into())?;
        socket.set_tos_v4(TOS_CS6)?;
    }
    let address = local.unwrap_or_else(|| unspecified(v6));
    let span = u32::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
    let start = u32::from(first.saturating_sub(*SOURCE_PORTS.start())) % span;
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no free BFD source port");
    for step in 0..span {
        let offset = u16::try_from((start + step) % span).unwrap_or(0);
        let port = SOURCE_PORTS.start() + offset;
        match socket.bind(&SocketAddr::new(address, port).into()) {
            Ok(()) => return UdpSocket::from_std(socket.into()),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last = error,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}

/// Receives one datagram into `buf`, with its TTL.
pub async fn receive(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Received> {
    socket.async_io(Interest::READABLE, || receive_now(socket_fd(socket), buf)).await
}

fn socket_fd(socket: &UdpSocket) -> BorrowedFd<'_> {
    use std::os::fd::AsFd;
    socket.as_fd()
}

fn receive_now(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Received> {
    let mut space = nix::cmsg_space!(libc::c_int);
    let mut iov = [IoSliceMut::new(buf)];
    let message = recvmsg::<SockaddrStorage>(fd.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty())
        .map_err(io::Error::from)?;
    let mut ttl = None;
    for cmsg in message.cmsgs().map_err(io::Error::from)? {
        match cmsg {
            ControlMessageOwned::Ipv4Ttl(value) | ControlMessageOwned::Ipv6HopLimit(value) => {
                ttl = u8::try_from(value).ok();
            }
            _ => {}
        }
    }
    let from = message
        .address
        .and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| SocketAddr::from(std::net::SocketAddrV4::from(*v4)))
                .or_else(|| a.as_sockaddr_in6().map(|v6| SocketAddr::from(std::net::SocketAddrV6::from(*v6))))
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a datagram without a source address"))?;
    Ok(Received { len: message.bytes, from, ttl })
}
