//! FerroLB's BFD protocol (RFC 5880 asynchronous mode, RFC 5881 single hop, RFC 5883 multihop),
//! pure: no sockets, no clocks, no random sources, no async runtime.
//!
//! - [`packet`]: the BFD Control packet to and from its 24 octets; [`packet::decode`] applies every
//!   reception check of RFC 5880 section 6.8.6 that the packet alone can answer.
//! - [`demux`]: which session a received packet belongs to (by Your Discriminator, or by the peer
//!   and the path while the peer does not know ours yet), and unique local discriminators.
//! - [`session`]: one session's state machine, sans-I/O: packets and timer ticks in, packets to send
//!   and state changes out, the time always passed in (start at [`session::Session`]).
//! - [`ttl`]: the UDP ports and the TTL / hop limit rules of RFC 5881 and 5883.
//! - [`DropReason`]: why a received packet was discarded, with a stable label for a metric.
//!
//! The I/O layer owns the UDP sockets and one timer per session: it decodes a datagram, checks its
//! TTL ([`ttl::Hops::check_ttl`]), finds the session ([`demux::Demux::lookup`]), feeds it
//! ([`session::Session::on_packet`]) and sends what comes back; it calls
//! [`session::Session::on_timer`] at [`session::Session::next_deadline`].

pub mod demux;
mod drop_reason;
pub mod packet;
pub mod session;
pub mod ttl;
mod xorshift;

pub use drop_reason::DropReason;
