//! Layer2 mode: this node answers ARP (IPv4) and Neighbor Solicitations (IPv6) for the addresses it owns,
//! on the interfaces each address may be announced on, and announces an address it gains with gratuitous
//! ARP and unsolicited Neighbor Advertisements.
//!
//! Pure parts: [`ethernet`], [`arp`], [`icmpv6`], [`ndp`] (frame codecs), [`schedule`] (when to repeat
//! announcements), [`owned`] (which addresses are answered on which interface, and which frames are other
//! nodes' announcements) and [`release`] (how long an address given up on purpose is still answered: until
//! its new owner announces it). I/O parts: [`crate::rawsock`]
//! (AF_PACKET sockets, the only `unsafe` in the crate), [`responder`] (one tokio task per interface) and
//! [`counters`] (what it counted, for metrics).
//!
//! Why hand-written codecs on AF_PACKET, with socket2 and libc, rather than pnet or etherparse: we need four
//! fixed-layout messages (ARP request/reply, NS, NA) and one checksum, a few hundred lines that we can test
//! byte for byte and fuzz; pnet would bring a large, macro-generated dependency tree whose last release is
//! from 2024 for a fraction of it, and etherparse does not cover ARP or Neighbor Discovery options, so we
//! would write the interesting half anyway. socket2 already gives the socket, BPF filter, multicast and
//! nonblocking calls safely; libc fills the few gaps (binding to an ifindex, packet membership), all kept in
//! [`crate::rawsock`]. This module does not decide which addresses this node owns: the announcer does, and hands
//! the result over through [`responder::Layer2Handle::set_owned`].

pub mod arp;
pub mod counters;
pub mod ethernet;
pub mod icmpv6;
pub mod ndp;
pub mod owned;
pub mod release;
pub mod responder;
pub mod schedule;

pub use ethernet::MacAddr;
