//! FerroLB's BGP protocol, pure: no sockets, no clocks, no async runtime, no Kubernetes.
//!
//! - [`codec`]: BGP messages to and from bytes; every malformed input decodes to a typed error
//!   carrying the NOTIFICATION to answer it with (start at [`codec::decode`] and
//!   [`codec::Message::encode`]).
//! - [`fsm`]: one session's state machine (RFC 4271 section 8), sans-I/O: events in, actions out,
//!   including which timers the I/O layer arms and stops (start at [`fsm::Session::step`]).
//! - [`adj_out`]: what a session has sent its peer and the UPDATEs that bring the peer to the
//!   desired routes.
//! - [`notification`]: the one NOTIFICATION type the codec and the state machine share.
//!
//! The speaker's session task owns the socket and the timers and carries out the actions.

pub mod adj_out;
pub mod codec;
pub mod fsm;
pub mod notification;
pub mod wire;

pub use notification::Notification;
