//! One session's state machine: [`Session::step`] turns an event into actions.
//!
//! Decides every transition of RFC 4271 section 8.2.2 for the events in [`Event`]; it sends,
//! connects and sleeps nothing itself.

use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::deadlines::Deadlines;
use super::negotiate::{local_open, negotiate};
use super::{
    Action, ConfigError, DownReason, Event, Negotiated, OPEN_SENT_HOLD_TIME, OpenParams, SessionConfig, State, Timer,
};
use crate::notification::Notification;

/// A BGP session with one peer over one connection at a time, without I/O.
#[derive(Debug, Clone)]
pub struct Session {
    config: SessionConfig,
    local_open: OpenParams,
    state: State,
    deadlines: Deadlines<Instant>,
    backoff: Backoff,
    /// Started and not stopped: after a failure, restart by itself once the delay has passed.
    auto_restart: bool,
    connect_retry_counter: u32,
    peer_open: Option<OpenParams>,
    negotiated: Option<Negotiated>,
    established_at: Option<Instant>,
}

/// Where the session goes when it gives up a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Idle; with the automatic restart delay armed unless stopped or told not to.
    Idle { restart: bool },
    /// Active: listen, and (unless passive) retry after the backoff delay.
    Active,
}

impl Session {
    /// A session in Idle with these settings; nothing happens until [`Event::ManualStart`].
    pub fn new(config: SessionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let local_open = local_open(&config)?;
        Ok(Session {
            backoff: Backoff::new(config.connect_retry, config.jitter_seed),
            config,
            local_open,
            state: State::Idle,
            deadlines: Deadlines::default(),
            auto_restart: false,
            connect_retry_counter: 0,
            peer_open: None,
            negotiated: None,
            established_at: None,
        })
    }

    /// Feeds one event in at time `now` and returns what to do, in order.
    ///
    /// A timer expiry for a timer that is not running (stopped or restarted after the expiry
    /// was queued) is stale and ignored; `now` only dates the deadlines and Established.
    pub fn step(&mut self, now: Instant, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(timer) = event.timer()
            && !self.deadlines.stop(timer)
        {
            return out;
        }
        match self.state {
            State::Idle => self.idle(now, event, &mut out),
            State::Connect | State::Active => self.connecting(now, event, &mut out),
            State::OpenSent => self.open_sent(now, event, &mut out),
            State::OpenConfirm => self.open_confirm(now, event, &mut out),
            State::Established => self.established(now, event, &mut out),
        }
        out
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The settings it runs with.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The OPEN this session sends.
    pub fn local_open(&self) -> &OpenParams {
        &self.local_open
    }

    /// The peer's accepted OPEN, in OpenConfirm and Established.
    pub fn peer_open(&self) -> Option<&OpenParams> {
        self.peer_open.as_ref()
    }

    /// What was negotiated, in OpenConfirm and Established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// When the session reached Established, while it is.
    pub fn established_since(&self) -> Option<Instant> {
        self.established_at
    }

    /// Failed attempts since the last ManualStart or ManualStop (RFC 4271's ConnectRetryCounter).
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// When the timer fires, if it is running.
    pub fn deadline(&self, timer: Timer) -> Option<Instant> {
        self.deadlines.get(timer)
    }

    /// The running timer that fires first, as the state machine armed it. The I/O layer keeps
    /// its own timers from the actions (see [`Deadlines::apply`]); this is their reference.
    pub fn next_deadline(&self) -> Option<(Timer, Instant)> {
        self.deadlines.next()
    }

    fn idle(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::ManualStart => {
                self.backoff.reset();
                self.connect_retry_counter = 0;
                self.auto_restart = true;
                self.begin(now, out);
            }
            Event::AutomaticStart => {
                self.auto_restart = true;
                self.begin(now, out);
            }
            // Only running in Idle as the automatic restart delay.
            Event::ConnectRetryTimerExpires => self.begin(now, out),
            // Idle refuses connections.
            Event::TcpConnectionConfirmed | Event::TcpCrAcked => out.push(Action::DropConnection),
            Event::ManualStop => {
                self.auto_restart = false;
                self.connect_retry_counter = 0;
                self.stop_timer(Timer::ConnectRetry, out);
            }
            _ => {}
        }
    }

    /// Connect and Active: no BGP message can arrive yet.
    fn connecting(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::ManualStop => self.stop(None, out),
            Event::ConnectRetryTimerExpires if self.state == State::Connect => {
                // The attempt timed out: abandon it and try again at once (RFC 4271 8.2.2).
                out.push(Action::DropConnection);
                out.push(Action::Down(DownReason::ConnectTimeout));
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
                out.push(Action::Connect);
                let delay = self.backoff.failure();
                self.start_timer(now, Timer::ConnectRetry, delay, out);
            }
            Event::ConnectRetryTimerExpires => {
                out.push(Action::Connect);
                let delay = self.backoff.attempt();
                self.start_timer(now, Timer::ConnectRetry, delay, out);
                self.state = State::Connect;
            }
            Event::TcpConnectionConfirmed | Event::TcpCrAcked => {
                self.stop_timer(Timer::ConnectRetry, out);
                out.push(Action::SendOpen(self.local_open.clone()));
                self.start_timer(now, Timer::Hold, OPEN_SENT_HOLD_TIME, out);
                self.state = State::OpenSent;
            }
            // Like FRR, a failed attempt waits in Active (still accepting the peer's connection)
            // rather than in Idle.
            Event::TcpConnectionFails if self.state == State::Connect => {
                self.give_up(now, None, DownReason::ConnectionFailed, Then::Active, out)
            }
            Event::TcpConnectionFails => {
                self.give_up(now, None, DownReason::ConnectionFailed, Then::Idle { restart: true }, out)
            }
            Event::BgpOpen(_)
            | Event::BgpHeaderErr(_)
            | Event::BgpOpenMsgErr(_)
            | Event::OpenCollisionDump
            | Event::NotifMsg(_)
            | Event::KeepAliveMsg
            | Event::UpdateMsg
            | Event::UpdateMsgErr { .. } => {
                let reason = DownReason::UnexpectedEvent { state: self.state, event: event.name() };
                self.give_up(now, None, reason, Then::Idle { restart: true }, out);
            }
            Event::ManualStart | Event::AutomaticStart | Event::HoldTimerExpires | Event::KeepaliveTimerExpires => {}
        }
    }

    fn open_sent(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::BgpOpen(peer) => match negotiate(&self.config, &self.local_open, &peer) {
                Ok(negotiated) => {
                    out.push(Action::SendKeepalive);
                    match negotiated.keepalive {
                        Some(keepalive) => {
                            self.start_timer(now, Timer::Hold, negotiated.hold_time, out);
                            self.start_timer(now, Timer::Keepalive, keepalive, out);
                        }
                        // Hold time zero: no hold timer and no keepalives.
                        None => self.stop_timer(Timer::Hold, out),
                    }
                    self.peer_open = Some(peer);
                    self.negotiated = Some(negotiated);
                    self.state = State::OpenConfirm;
                }
                Err(notification) => self.fail(now, notification, out),
            },
            Event::BgpHeaderErr(notification) | Event::BgpOpenMsgErr(notification) => self.fail(now, notification, out),
            Event::TcpConnectionFails => self.give_up(now, None, DownReason::ConnectionFailed, Then::Active, out),
            Event::KeepAliveMsg | Event::UpdateMsg | Event::UpdateMsgErr { .. } => {
                self.fail(now, Notification::fsm_error(State::OpenSent), out)
            }
            other => self.connected_common(now, other, out),
        }
    }

    fn open_confirm(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::KeepAliveMsg => {
                let Some(negotiated) = self.negotiated.clone() else {
                    // OpenConfirm is only entered with a negotiation; without one, refuse.
                    return self.fail(now, Notification::fsm_error(State::OpenConfirm), out);
                };
                if !negotiated.hold_time.is_zero() {
                    self.start_timer(now, Timer::Hold, negotiated.hold_time, out);
                }
                self.backoff.reset();
                self.established_at = Some(now);
                self.state = State::Established;
                out.push(Action::Established(negotiated));
            }
            Event::BgpHeaderErr(notification) | Event::BgpOpenMsgErr(notification) => self.fail(now, notification, out),
            Event::TcpConnectionFails => {
                self.give_up(now, None, DownReason::ConnectionFailed, Then::Idle { restart: true }, out)
            }
            Event::BgpOpen(_) | Event::UpdateMsg | Event::UpdateMsgErr { .. } => {
                self.fail(now, Notification::fsm_error(State::OpenConfirm), out)
            }
            other => self.connected_common(now, other, out),
        }
    }

    fn established(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::KeepAliveMsg | Event::UpdateMsg | Event::UpdateMsgErr { session_reset: false, .. } => {
                self.restart_hold(now, out)
            }
            Event::UpdateMsgErr { notification, session_reset: true } => self.fail(now, notification, out),
            // Header errors are message errors in any state (RFC 4271 6.1).
            Event::BgpHeaderErr(notification) => self.fail(now, notification, out),
            Event::TcpConnectionFails => {
                self.give_up(now, None, DownReason::ConnectionFailed, Then::Idle { restart: true }, out)
            }
            Event::BgpOpen(_) | Event::BgpOpenMsgErr(_) => {
                self.fail(now, Notification::fsm_error(State::Established), out)
            }
            other => self.connected_common(now, other, out),
        }
    }

    /// Events handled alike in OpenSent, OpenConfirm and Established.
    fn connected_common(&mut self, now: Instant, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::ManualStop => self.stop(Some(Notification::administrative_shutdown()), out),
            Event::HoldTimerExpires => self.give_up(
                now,
                Some(Notification::hold_timer_expired()),
                DownReason::HoldTimerExpired,
                Then::Idle { restart: true },
                out,
            ),
            Event::KeepaliveTimerExpires => {
                out.push(Action::SendKeepalive);
                if let Some(keepalive) = self.negotiated.as_ref().and_then(|n| n.keepalive) {
                    self.start_timer(now, Timer::Keepalive, keepalive, out);
                }
            }
            Event::NotifMsg(notification) => self.give_up(
                now,
                None,
                DownReason::NotificationReceived(notification),
                Then::Idle { restart: true },
                out,
            ),
            // The surviving connection carries on; this one does not come back by itself.
            Event::OpenCollisionDump => self.give_up(
                now,
                Some(Notification::collision_resolution()),
                DownReason::CollisionLost,
                Then::Idle { restart: false },
                out,
            ),
            // A second connection is the I/O layer's to track (collision); stale starts are no-ops.
            _ => {}
        }
    }

    /// Leaves Idle: dial (with the attempt timeout), or just listen when passive.
    fn begin(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.config.passive {
            self.stop_timer(Timer::ConnectRetry, out);
            self.state = State::Active;
        } else {
            out.push(Action::Connect);
            let delay = self.backoff.attempt();
            self.start_timer(now, Timer::ConnectRetry, delay, out);
            self.state = State::Connect;
        }
    }

    /// ManualStop: give up whatever there is, and stay down.
    fn stop(&mut self, notification: Option<Notification>, out: &mut Vec<Action>) {
        self.auto_restart = false;
        self.abandon(notification, DownReason::Stopped, out);
        self.state = State::Idle;
        self.connect_retry_counter = 0;
    }

    /// An error we detected: send its NOTIFICATION, close, and wait in Idle.
    fn fail(&mut self, now: Instant, notification: Notification, out: &mut Vec<Action>) {
        let reason = DownReason::NotificationSent(notification.clone());
        self.give_up(now, Some(notification), reason, Then::Idle { restart: true }, out);
    }

    /// Gives up the connection (or the attempt) after a failure and moves to `then`.
    fn give_up(
        &mut self,
        now: Instant,
        notification: Option<Notification>,
        reason: DownReason,
        then: Then,
        out: &mut Vec<Action>,
    ) {
        self.abandon(notification, reason, out);
        self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
        let retry = match then {
            Then::Active => {
                self.state = State::Active;
                !self.config.passive
            }
            Then::Idle { restart } => {
                self.state = State::Idle;
                restart && self.auto_restart
            }
        };
        if retry {
            let delay = self.backoff.failure();
            self.start_timer(now, Timer::ConnectRetry, delay, out);
        }
    }

    /// Sends the NOTIFICATION if any, closes, stops every timer and reports Down.
    fn abandon(&mut self, notification: Option<Notification>, reason: DownReason, out: &mut Vec<Action>) {
        if let Some(notification) = notification {
            out.push(Action::SendNotification(notification));
        }
        out.push(Action::DropConnection);
        for timer in Timer::ALL {
            self.stop_timer(timer, out);
        }
        out.push(Action::Down(reason));
        self.peer_open = None;
        self.negotiated = None;
        self.established_at = None;
    }

    fn restart_hold(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(hold) = self.negotiated.as_ref().map(|n| n.hold_time).filter(|h| !h.is_zero()) {
            self.start_timer(now, Timer::Hold, hold, out);
        }
    }

    fn start_timer(&mut self, now: Instant, timer: Timer, delay: Duration, out: &mut Vec<Action>) {
        // Delays are bounded by validation (a day at most), so the sum cannot overflow in practice.
        self.deadlines.start(timer, now.checked_add(delay).unwrap_or(now));
        out.push(Action::StartTimer(timer, delay));
    }

    fn stop_timer(&mut self, timer: Timer, out: &mut Vec<Action>) {
        if self.deadlines.stop(timer) {
            out.push(Action::StopTimer(timer));
        }
    }
}
