//! What the session I/O layer feeds into the state machine, and the timers it runs for it.

use std::fmt;

use super::OpenParams;
use crate::notification::Notification;

/// The three timers of a session. The I/O layer keeps at most one running timer of each kind:
/// [`super::Action::StartTimer`] (re)starts it, [`super::Action::StopTimer`] cancels it, and when it
/// fires the I/O layer feeds [`Timer::expiry_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// Connection attempt timeout and the wait before the next attempt (with backoff). In
    /// Idle it is the delay before the automatic restart (RFC 4271's IdleHoldTimer).
    ConnectRetry,
    /// Time allowed between two messages from the peer.
    Hold,
    /// When to send our next KEEPALIVE.
    Keepalive,
}

impl Timer {
    /// Every timer, in the order [`super::Deadlines::next`] breaks ties.
    pub const ALL: [Timer; 3] = [Timer::ConnectRetry, Timer::Hold, Timer::Keepalive];

    /// The event to feed when this timer fires.
    pub fn expiry_event(self) -> Event {
        match self {
            Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
            Timer::Hold => Event::HoldTimerExpires,
            Timer::Keepalive => Event::KeepaliveTimerExpires,
        }
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timer::ConnectRetry => "ConnectRetry",
            Timer::Hold => "Hold",
            Timer::Keepalive => "Keepalive",
        })
    }
}

/// An input to the state machine (RFC 4271 section 8.1, the events this speaker uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The operator (configuration) starts the session. Resets the retry backoff.
    ManualStart,
    /// The operator (configuration) stops the session: Cease 6/2 if a session is open.
    ManualStop,
    /// An automatic (re)start; unlike [`Event::ManualStart`] it keeps the retry backoff.
    AutomaticStart,
    /// The ConnectRetry timer fired.
    ConnectRetryTimerExpires,
    /// The Hold timer fired.
    HoldTimerExpires,
    /// The Keepalive timer fired.
    KeepaliveTimerExpires,
    /// The peer's incoming TCP connection was accepted.
    TcpConnectionConfirmed,
    /// Our outgoing TCP connection completed.
    TcpCrAcked,
    /// The TCP connection (or the attempt) failed or was closed by the peer.
    TcpConnectionFails,
    /// A well-formed OPEN arrived (the codec resolved the 4-octet AS and capabilities).
    BgpOpen(OpenParams),
    /// A message header was malformed; carries the NOTIFICATION to send (1/x).
    BgpHeaderErr(Notification),
    /// An OPEN was malformed; carries the NOTIFICATION to send (2/x).
    BgpOpenMsgErr(Notification),
    /// The I/O layer resolved a connection collision against this connection (RFC 4271 6.8):
    /// send Cease 6/7 and close. FerroLB's speaker only dials out, so it never feeds this.
    OpenCollisionDump,
    /// The peer sent a NOTIFICATION.
    NotifMsg(Notification),
    /// The peer sent a KEEPALIVE.
    KeepAliveMsg,
    /// The peer sent a well-formed UPDATE (its content is not the state machine's business).
    UpdateMsg,
    /// An UPDATE was malformed (RFC 7606). The session is reset only when `session_reset` says
    /// so; otherwise the caller treats it as withdraw or discards the attribute, and the message
    /// still counts as received.
    UpdateMsgErr {
        /// The NOTIFICATION to send if the session is reset (3/x).
        notification: Notification,
        /// Whether RFC 7606 asks for a session reset.
        session_reset: bool,
    },
}

impl Event {
    /// The event's name, for logs and [`super::DownReason::UnexpectedEvent`].
    pub fn name(&self) -> &'static str {
        match self {
            Event::ManualStart => "ManualStart",
            Event::ManualStop => "ManualStop",
            Event::AutomaticStart => "AutomaticStart",
            Event::ConnectRetryTimerExpires => "ConnectRetryTimerExpires",
            Event::HoldTimerExpires => "HoldTimerExpires",
            Event::KeepaliveTimerExpires => "KeepaliveTimerExpires",
            Event::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Event::TcpCrAcked => "TcpCrAcked",
            Event::TcpConnectionFails => "TcpConnectionFails",
            Event::BgpOpen(_) => "BgpOpen",
            Event::BgpHeaderErr(_) => "BgpHeaderErr",
            Event::BgpOpenMsgErr(_) => "BgpOpenMsgErr",
            Event::OpenCollisionDump => "OpenCollisionDump",
            Event::NotifMsg(_) => "NotifMsg",
            Event::KeepAliveMsg => "KeepAliveMsg",
            Event::UpdateMsg => "UpdateMsg",
            Event::UpdateMsgErr { .. } => "UpdateMsgErr",
        }
    }

    /// The timer whose expiry this event reports, if it is one.
    pub fn timer(&self) -> Option<Timer> {
        match self {
            Event::ConnectRetryTimerExpires => Some(Timer::ConnectRetry),
            Event::HoldTimerExpires => Some(Timer::Hold),
            Event::KeepaliveTimerExpires => Some(Timer::Keepalive),
            _ => None,
        }
    }
}
