//! What the state machine asks the session I/O layer to do, and why a session went down.

use std::fmt;
use std::time::Duration;

use super::{Negotiated, OpenParams, State, Timer};
use crate::notification::Notification;

/// An effect for the I/O layer to carry out, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to the peer. If an incoming connection is confirmed first, the I/O
    /// layer abandons this attempt.
    Connect,
    /// Close the TCP connection (or abandon the attempt) after flushing what was queued before
    /// it, such as a NOTIFICATION. Closing nothing is not an error.
    DropConnection,
    /// Send this OPEN.
    SendOpen(OpenParams),
    /// Send a KEEPALIVE.
    SendKeepalive,
    /// Send this NOTIFICATION (always followed by [`Action::DropConnection`]).
    SendNotification(Notification),
    /// (Re)start this timer to fire after the duration, replacing a running one.
    StartTimer(Timer, Duration),
    /// Cancel this timer. Only emitted for a timer that is running.
    StopTimer(Timer),
    /// The session is up with these parameters: announce routes now.
    Established(Negotiated),
    /// The connection (or the attempt) was given up: withdraw what the peer announced through
    /// it and report the reason. Exactly one follows every [`Action::Established`] before the
    /// next one; it is also emitted when a connection is abandoned before Established.
    Down(DownReason),
}

/// Why a connection or session was given up: a short [`DownReason::condition_reason`] for a
/// status condition, and a sentence (its `Display`) for the condition message and the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// ManualStop: the configuration stopped the session.
    Stopped,
    /// The TCP connection or the attempt failed, or the peer closed it.
    ConnectionFailed,
    /// The TCP connection attempt did not complete before the ConnectRetry timer.
    ConnectTimeout,
    /// Nothing came from the peer within the hold time; we sent NOTIFICATION 4/0.
    HoldTimerExpired,
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// We found an error and sent this NOTIFICATION (OPEN, header, UPDATE or FSM error).
    NotificationSent(Notification),
    /// A connection collision was resolved in favour of the other connection; we sent 6/7.
    CollisionLost,
    /// A message arrived where none can (no connection to carry it); dropped without a
    /// NOTIFICATION, as RFC 4271 section 8.2.2 asks in Connect and Active.
    UnexpectedEvent {
        /// The state it arrived in.
        state: State,
        /// The event's name ([`super::Event::name`]).
        event: &'static str,
    },
}

impl DownReason {
    /// A CamelCase reason for a Kubernetes status condition.
    pub fn condition_reason(&self) -> &'static str {
        match self {
            DownReason::Stopped => "Stopped",
            DownReason::ConnectionFailed => "ConnectionFailed",
            DownReason::ConnectTimeout => "ConnectTimeout",
            DownReason::HoldTimerExpired => "HoldTimerExpired",
            DownReason::NotificationReceived(_) => "NotificationReceived",
            DownReason::NotificationSent(_) => "NotificationSent",
            DownReason::CollisionLost => "ConnectionCollision",
            DownReason::UnexpectedEvent { .. } => "UnexpectedEvent",
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::Stopped => f.write_str("session stopped by configuration"),
            DownReason::ConnectionFailed => f.write_str("TCP connection failed or was closed"),
            DownReason::ConnectTimeout => f.write_str("TCP connection attempt timed out"),
            DownReason::HoldTimerExpired => {
                f.write_str("hold timer expired: nothing heard from the peer, sent NOTIFICATION 4/0")
            }
            DownReason::NotificationReceived(n) => write!(f, "peer sent NOTIFICATION {n}"),
            DownReason::NotificationSent(n) => write!(f, "sent NOTIFICATION {n}"),
            DownReason::CollisionLost => {
                f.write_str("connection collision resolved for the other connection, sent NOTIFICATION 6/7")
            }
            DownReason::UnexpectedEvent { state, event } => write!(f, "unexpected {event} in state {state}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_reasons_read_as_condition_and_sentence() {
        let cases = [
            (DownReason::HoldTimerExpired, "HoldTimerExpired", "hold timer expired"),
            (
                DownReason::NotificationReceived(Notification::administrative_shutdown()),
                "NotificationReceived",
                "peer sent NOTIFICATION 6/2 (Cease, Administrative Shutdown)",
            ),
            (
                DownReason::NotificationSent(Notification::bad_peer_as()),
                "NotificationSent",
                "sent NOTIFICATION 2/2 (OPEN Message Error, Bad Peer AS)",
            ),
            (
                DownReason::UnexpectedEvent { state: State::Connect, event: "KeepAliveMsg" },
                "UnexpectedEvent",
                "unexpected KeepAliveMsg in state Connect",
            ),
        ];
        for (reason, condition, text) in cases {
            assert_eq!(reason.condition_reason(), condition);
            assert!(reason.to_string().starts_with(text), "{reason}");
        }
    }
}
