//! The six session states of RFC 4271 section 8.2.2.

use std::fmt;

use crate::notification::FsmSubcode;

/// Where a BGP session is in its life (RFC 4271 section 8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Not trying: stopped, or waiting out the automatic restart delay.
    Idle,
    /// An outgoing TCP connection attempt is in progress.
    Connect,
    /// Listening for the peer's connection (passive, or waiting before the next attempt).
    Active,
    /// Connected, our OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs exchanged and accepted, waiting for the peer's first KEEPALIVE.
    OpenConfirm,
    /// The session is up: UPDATEs may flow.
    Established,
}

impl State {
    /// The RFC's name of the state, for logs and status fields.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl From<State> for FsmSubcode {
    /// The RFC 6608 subcode for an unexpected message in this state (Unspecified outside OpenSent,
    /// OpenConfirm and Established).
    fn from(state: State) -> Self {
        match state {
            State::OpenSent => FsmSubcode::UnexpectedInOpenSent,
            State::OpenConfirm => FsmSubcode::UnexpectedInOpenConfirm,
            State::Established => FsmSubcode::UnexpectedInEstablished,
            State::Idle | State::Connect | State::Active => FsmSubcode::Unspecified,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::Notification;

    #[test]
    fn fsm_error_subcodes_follow_rfc_6608() {
        let cases = [
            (State::OpenSent, 1),
            (State::OpenConfirm, 2),
            (State::Established, 3),
            (State::Idle, 0),
            (State::Connect, 0),
            (State::Active, 0),
        ];
        for (state, subcode) in cases {
            assert_eq!(Notification::fsm_error(state), Notification::new(5, subcode, vec![]), "{state}");
        }
    }
}
