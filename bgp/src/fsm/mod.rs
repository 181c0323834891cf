//! The BGP session state machine (RFC 4271 section 8), sans-I/O.
//!
//! [`Session::step`] takes an [`Event`] and the current time and returns [`Action`]s; it never
//! touches a socket, a clock or a random source. It decides transitions, OPEN acceptance
//! ([`negotiate`]), hold and keepalive times, the ConnectRetry backoff, which timers run and which
//! NOTIFICATION answers an error. It does not decode messages (the codec does; the integrator maps
//! decoded messages to [`Event`]s) or handle UPDATE contents or routes.
//!
//! The contract with the session I/O layer:
//! - Feed every event of one session, in order, from one task. Carry out actions in order.
//! - Timers: the I/O layer owns them and runs exactly what the actions say. [`Action::StartTimer`]
//!   (re)starts the one timer of that kind, [`Action::StopTimer`] cancels it; when one fires, feed
//!   [`Timer::expiry_event`] (it is then no longer running). An expiry of a timer that is no longer
//!   running (one that raced a stop or restart) is ignored. [`Session::deadline`] shows the same
//!   timers as the FSM armed them, for tests and logs.
//! - [`Action::DropConnection`] closes after flushing a queued NOTIFICATION; closing nothing is
//!   fine. [`Action::Connect`] dials; if it fails feed [`Event::TcpConnectionFails`].
//! - [`Action::Established`] means announce; [`Action::Down`] means withdraw and report.
//! - ROUTE-REFRESH messages in Established are the integrator's; before that feed
//!   [`Event::UpdateMsg`] (an unexpected message).
//! - Connection collisions (RFC 4271 section 6.8) are not resolved here: FerroLB only dials out.
//!   [`Event::OpenCollisionDump`] remains for an integrator that accepts connections and resolves
//!   them itself.
//!
//! Departures from the RFC text, on purpose: a failed outgoing attempt waits in Active (still
//! accepting the peer) instead of Idle; after a failure while started, Idle arms the
//! ConnectRetry timer as the automatic restart delay; a passive session never dials; the
//! ConnectRetry delay backs off (see [`RetryBackoff`]).

mod action;
mod backoff;
mod config;
mod deadlines;
mod event;
pub mod negotiate;
mod open;
mod session;
mod state;

#[cfg(test)]
mod tests;

pub use action::{Action, DownReason};
pub use config::{
    ConfigError, DEFAULT_HOLD_TIME, DEFAULT_RESTART_TIME, MAX_CONNECT_RETRY, MAX_RESTART_TIME, OPEN_SENT_HOLD_TIME,
    PeerAsn, RetryBackoff, SessionConfig,
};
pub use deadlines::Deadlines;
pub use event::{Event, Timer};
pub use open::{Negotiated, OpenParams};
pub use session::Session;
pub use state::State;
