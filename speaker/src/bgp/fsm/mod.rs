//! The BGP session state machine (RFC 4271 section 8), sans-I/O.
//!
//! [`Session::step`] takes an [`Event`] and the current time and returns [`Action`]s; it never
//! touches a socket, a clock or a random source. It decides transitions, OPEN acceptance
//! ([`negotiate`]), hold and keepalive times, the ConnectRetry backoff and which NOTIFICATION
//! answers an error. It does not decode messages (the codec does; the integrator maps decoded
//! messages to [`Event`]s), handle UPDATE contents or routes, or own the second connection of a
//! collision ([`collision`] only decides which connection loses).
//!
//! The contract with the session I/O layer:
//! - Feed every event of one session, in order, from one task. Carry out actions in order.
//! - Timers: [`Action::StartTimer`] (re)starts one timer of that kind, [`Action::StopTimer`]
//!   cancels it; when it fires feed [`Timer::expiry_event`]. Alternatively sleep until
//!   [`Session::next_deadline`]. An expiry of a timer that is no longer running is ignored.
//! - [`Action::DropConnection`] closes after flushing a queued NOTIFICATION; closing nothing is
//!   fine. [`Action::Connect`] dials; if it fails feed [`Event::TcpConnectionFails`].
//! - [`Action::Established`] means announce; [`Action::Down`] means withdraw and report.
//! - ROUTE-REFRESH messages in Established are the integrator's; before that feed
//!   [`Event::UpdateMsg`] (an unexpected message).
//! - Collision: an incoming connection while this session is past Active gets its own
//!   passive [`Session`] (ManualStart, then [`Event::TcpConnectionConfirmed`]); when one of
//!   them accepts an OPEN, [`collision::connection_to_close`] names the loser, whose session
//!   gets [`Event::OpenCollisionDump`] (it then stays Idle).
//!
//! Departures from the RFC text, on purpose: a failed outgoing attempt waits in Active (still
//! accepting the peer) instead of Idle; after a failure while started, Idle arms the
//! ConnectRetry timer as the automatic restart delay; a passive session never dials; the
//! ConnectRetry delay backs off (see [`RetryBackoff`]).

mod action;
mod backoff;
pub mod collision;
mod config;
mod event;
pub mod negotiate;
mod notification;
mod open;
mod session;
mod state;

#[cfg(test)]
mod tests;

pub use action::{Action, DownReason};
pub use config::{
    ConfigError, DEFAULT_HOLD_TIME, MAX_CONNECT_RETRY, OPEN_SENT_HOLD_TIME, PeerAsn, RetryBackoff, SessionConfig,
};
pub use event::{Event, Timer};
pub use notification::Notification;
pub use open::{Negotiated, OpenParams};
pub use session::Session;
pub use state::State;
