//! One BFD session in asynchronous mode (RFC 5880 section 6), sans-I/O.
//!
//! A [`Session`] takes decoded packets ([`Session::on_packet`]), the passing of time
//! ([`Session::on_timer`]) and operator requests ([`Session::set_config`], [`Session::admin_down`],
//! [`Session::admin_up`]), each with the current time as an argument, and returns [`Action`]s. It
//! never reads a clock, touches a socket or draws randomness: the jitter of its transmit intervals
//! comes from a seed given to [`Session::new`].
//!
//! The contract with the I/O layer:
//! - Feed one session's events in order, from one task; carry out the actions in order.
//! - [`Action::Send`]: encode and send to the peer from the session's source port, TTL 255.
//! - Keep one timer per session at [`Session::next_deadline`] and call [`Session::on_timer`] when it
//!   fires; recompute the deadline after every call (`None`: no timer). A late or early call is
//!   harmless: the session does what is due at the time given.
//! - [`Action::StateChanged`] to [`crate::packet::State::Up`] means the path works; a change from Up
//!   means it failed (the diagnostic says how).
//!
//! What it implements: the three-way handshake and the state machine of section 6.2, AdminDown
//! both ways, slow start (at least one second advertised until Up, section 6.8.3), the interval
//! negotiation and jitter of section 6.8.7, the detection time of section 6.8.4, Poll Sequences on
//! every change of the advertised intervals (with the section 6.8.3 rules on what waits for the
//! Final), the Passive role, a peer asking for no packets (Required Min RX 0) and a peer in Demand
//! mode. Not implemented: our own Demand mode, the Echo function, authentication.
//!
//! Choices the RFC leaves open: an AdminDown session keeps sending AdminDown at the slow-start
//! interval until it is brought up; a passive session also falls silent again when a detection
//! timeout makes it forget the peer's discriminator.

mod action;
mod config;
mod machine;

#[cfg(test)]
mod tests;

pub use action::Action;
pub use config::{ConfigError, SessionConfig};
pub use machine::{SLOW_START_TX, Session};
