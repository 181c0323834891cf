//! AF_PACKET sockets bound to one interface and one ethertype, usable from tokio, and the multicast
//! memberships Neighbor Discovery needs. The only module of the crate with `unsafe`: socket2 has no safe way
//! to bind a packet socket to an ifindex or to add a packet-level membership, so those two setsockopt/bind
//! calls (and `setns`, for tests and the lab) go through libc here.
//!
//! Decides nothing: it sends the frames it is given and hands back the frames the kernel filter lets through.
//!
//! Multicast: solicitations for an address go to its solicited-node group (ff02::1:ffXX:XXXX, MAC
//! 33:33:ff:XX:XX:XX), which the kernel only lets in when someone joined it. We join it twice, on purpose:
//! - [`PacketSocket::add_multicast_mac`] (PACKET_ADD_MEMBERSHIP, PACKET_MR_MULTICAST) programs the NIC's MAC
//!   filter even when IPv6 is disabled on the interface, and lasts exactly as long as the socket;
//! - [`Ipv6GroupMember::join`] (IPV6_ADD_MEMBERSHIP on an AF_INET6 socket) makes the kernel send MLD
//!   reports and answer MLD queries, without which a switch doing MLD snooping never forwards the
//!   solicitations to this port. It fails when IPv6 is disabled on the interface; the responder logs that.

use std::io::{self, Read};
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::{Domain, Protocol, SockFilter, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::layer2::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV6, MacAddr};

/// Receive buffer of a [`PacketSocket`], in bytes (the kernel doubles it for its bookkeeping): at about 800
/// bytes of buffer per queued request frame, some 2,600 frames, a quarter second of a 10,000/s flood.
const RECEIVE_BUFFER: libc::c_int = 1 << 20;

/// The ethertype a [`PacketSocket`] receives, with a kernel filter for the messages the responder wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtherProtocol {
    /// ARP; the filter passes ARP requests only.
    Arp,
    /// IPv6; the filter passes ICMPv6 Neighbor Solicitations and Advertisements (no extension headers) only.
    Ipv6NeighborDiscovery,
}

impl EtherProtocol {
    fn ethertype(self) -> u16 {
        match self {
            EtherProtocol::Arp => ETHERTYPE_ARP,
            EtherProtocol::Ipv6NeighborDiscovery => ETHERTYPE_IPV6,
        }
    }

    /// Classic BPF over the Ethernet frame: offsets are from its first byte.
    fn filter(self) -> Vec<SockFilter> {
        const LDH_ABS: u16 = 0x28;
        const LDB_ABS: u16 = 0x30;
        const JEQ_K: u16 = 0x15;
        const RET_K: u16 = 0x06;
        const ACCEPT: u32 = 0x0004_0000;
        match self {
            EtherProtocol::Arp => vec![
                SockFilter::new(LDH_ABS, 0, 0, 12),
                SockFilter::new(JEQ_K, 0, 3, u32::from(ETHERTYPE_ARP)),
                SockFilter::new(LDH_ABS, 0, 0, 20), // ARP operation
                SockFilter::new(JEQ_K, 0, 1, 1),    // request
                SockFilter::new(RET_K, 0, 0, ACCEPT),
                SockFilter::new(RET_K, 0, 0, 0),
            ],
            EtherProtocol::Ipv6NeighborDiscovery => vec![
                SockFilter::new(LDH_ABS, 0, 0, 12),
                SockFilter::new(JEQ_K, 0, 6, u32::from(ETHERTYPE_IPV6)),
                SockFilter::new(LDB_ABS, 0, 0, 20), // next header
                SockFilter::new(JEQ_K, 0, 4, 58),   // ICMPv6
                SockFilter::new(LDB_ABS, 0, 0, 54), // ICMPv6 type
                SockFilter::new(JEQ_K, 1, 0, 135),  // Neighbor Solicitation: accept
                SockFilter::new(JEQ_K, 0, 1, 136),  // Neighbor Advertisement: accept, else drop
                SockFilter::new(RET_K, 0, 0, ACCEPT),
                SockFilter::new(RET_K, 0, 0, 0),
            ],
        }
    }
}

/// A nonblocking AF_PACKET/SOCK_RAW socket bound to one interface and one ethertype; frames are whole
/// Ethernet frames, sent and received as they are on the wire (without FCS).
#[derive(Debug)]
pub struct PacketSocket {
    io: AsyncFd<Socket>,
    ifindex: u32,
}

impl PacketSocket {
    /// Opens the socket on `ifindex`; must be called inside a tokio runtime (it registers with its reactor).
    ///
    /// The socket is created with protocol 0 (it receives nothing), gets its filter and PACKET_IGNORE_OUTGOING,
    /// and only then is bound to the ethertype and interface, so no frame from another interface or of
    /// another kind is ever queued on it.
    pub fn open(ifindex: u32, protocol: EtherProtocol) -> io::Result<PacketSocket> {
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0)))?;
        socket.set_nonblocking(true)?;
        socket.set_cloexec(true)?;
        socket.attach_filter(&protocol.filter())?;
        // Our own frames would come back to us on this socket otherwise; kernels before 4.20 lack the
        // option, and the responder also drops frames from its own MAC, so a failure here is not fatal.
        let _ = set_int_option(&socket, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1);
        // Room for a burst: under a flood of requests (most for addresses we do not own) a pause of the
        // process must not make the kernel drop the requests we do answer. SO_RCVBUFFORCE passes
        // net.core.rmem_max with CAP_NET_ADMIN (the speaker has it); else take what SO_RCVBUF allows.
        if set_int_option(&socket, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RECEIVE_BUFFER).is_err() {
            let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER as usize);
        }
        bind_packet(&socket, ifindex, protocol.ethertype())?;
        // SAFETY: `socket` owns its descriptor and moves into the AsyncFd, which owns it from then on; nothing
        // closes or replaces the descriptor while it is registered (it is closed when the AsyncFd drops).
        let io = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE | Interest::WRITABLE) }?;
        Ok(PacketSocket { io, ifindex })
    }

    /// The interface index the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Waits for the next frame and copies it into `buf`; returns its length (truncated to `buf.len()`).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |socket| {
                let mut reader: &Socket = socket;
                reader.read(buf)
            })
            .await
    }

    /// Sends one whole Ethernet frame on the bound interface.
    pub async fn send(&self, frame: &[u8]) -> io::Result<()> {
        let sent = self.io.async_io(Interest::WRITABLE, |socket| socket.send(frame)).await?;
        if sent != frame.len() {
            return Err(io::Error::other(format!("sent {sent} of {} bytes", frame.len())));
        }
        Ok(())
    }

    /// Lets frames sent to the multicast `mac` in on this interface for as long as the socket lives
    /// (PACKET_ADD_MEMBERSHIP; the kernel counts repeated additions).
    pub fn add_multicast_mac(&self, mac: MacAddr) -> io::Result<()> {
        self.membership(libc::PACKET_ADD_MEMBERSHIP, mac)
    }

    /// Undoes one [`PacketSocket::add_multicast_mac`].
    pub fn drop_multicast_mac(&self, mac: MacAddr) -> io::Result<()> {
        self.membership(libc::PACKET_DROP_MEMBERSHIP, mac)
    }

    fn membership(&self, option: libc::c_int, mac: MacAddr) -> io::Result<()> {
        let ifindex = libc::c_int::try_from(self.ifindex).map_err(io::Error::other)?;
        let mut address = [0u8; 8];
        address[..6].copy_from_slice(&mac.0);
        let request = libc::packet_mreq {
            mr_ifindex: ifindex,
            mr_type: libc::PACKET_MR_MULTICAST as libc::c_ushort,
            mr_alen: 6,
            mr_address: address,
        };
        set_option(self.io.get_ref(), libc::SOL_PACKET, option, &request)
    }
}

/// An AF_INET6 datagram socket used only to hold IPv6 multicast memberships, so that the kernel sends MLD
/// for the solicited-node groups of our addresses. Memberships end when it is dropped.
#[derive(Debug)]
pub struct Ipv6GroupMember {
    socket: Socket,
    ifindex: u32,
}

impl Ipv6GroupMember {
    /// Opens the socket for memberships on `ifindex`.
    pub fn open(ifindex: u32) -> io::Result<Ipv6GroupMember> {
        let socket = Socket::new(Domain::IPV6, Type::DGRAM, None)?;
        socket.set_cloexec(true)?;
        Ok(Ipv6GroupMember { socket, ifindex })
    }

    /// Joins `group` on the interface (IPV6_ADD_MEMBERSHIP).
    pub fn join(&self, group: Ipv6Addr) -> io::Result<()> {
        self.socket.join_multicast_v6(&group, self.ifindex)
    }

    /// Leaves `group` on the interface (IPV6_DROP_MEMBERSHIP).
    pub fn leave(&self, group: Ipv6Addr) -> io::Result<()> {
        self.socket.leave_multicast_v6(&group, self.ifindex)
    }
}

/// Moves the calling thread into the network namespace `ns` (an open /run/netns/NAME or /proc/PID/ns/net).
///
/// Only for tests and the lab: the speaker itself runs in the host's namespace. Sockets opened afterwards
/// on this thread, and threads it spawns afterwards, live in `ns`.
pub fn enter_network_namespace(ns: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns takes a file descriptor and a flag; `ns` is a live descriptor borrowed for the call, and
    // the call changes only this thread's namespace, touching no memory of ours.
    let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn bind_packet(socket: &Socket, ifindex: u32, ethertype: u16) -> io::Result<()> {
    let ifindex = libc::c_int::try_from(ifindex).map_err(io::Error::other)?;
    let address = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: ethertype.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr_ll>()).map_err(io::Error::other)?;
    // SAFETY: `address` is a fully initialised sockaddr_ll that outlives the call, `len` is its exact size,
    // and the descriptor belongs to `socket`, which is alive for the call.
    let rc = unsafe { libc::bind(socket.as_raw_fd(), (&raw const address).cast::<libc::sockaddr>(), len) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn set_int_option(socket: &Socket, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    set_option(socket, level, name, &value)
}

/// setsockopt with a plain-old-data value `T` (a C struct or integer of the size the option expects).
fn set_option<T: Copy>(socket: &Socket, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    let len = libc::socklen_t::try_from(std::mem::size_of::<T>()).map_err(io::Error::other)?;
    // SAFETY: `value` points to an initialised `T` of `len` bytes that outlives the call; the kernel only reads
    // it. Callers pass the C type the option is documented to take (c_int, packet_mreq).
    let rc = unsafe { libc::setsockopt(socket.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}
