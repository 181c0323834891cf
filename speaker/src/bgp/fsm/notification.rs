//! NOTIFICATION values the state machine sends and receives, with their RFC names for logs.
//!
//! Decides which (code, subcode, data) a session error maps to (RFC 4271 section 6, RFC 6608 FSM
//! error subcodes, RFC 4486 Cease subcodes); encoding them on the wire is the codec's job.

use std::fmt;

use super::State;

/// A BGP NOTIFICATION: error code, subcode and data (RFC 4271 section 4.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode (0: unspecific).
    pub subcode: u8,
    /// Data whose meaning depends on code and subcode.
    pub data: Vec<u8>,
}

impl Notification {
    /// Error code 1: Message Header Error.
    pub const MESSAGE_HEADER_ERROR: u8 = 1;
    /// Error code 2: OPEN Message Error.
    pub const OPEN_MESSAGE_ERROR: u8 = 2;
    /// Error code 3: UPDATE Message Error.
    pub const UPDATE_MESSAGE_ERROR: u8 = 3;
    /// Error code 4: Hold Timer Expired.
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    /// Error code 5: Finite State Machine Error.
    pub const FSM_ERROR: u8 = 5;
    /// Error code 6: Cease.
    pub const CEASE: u8 = 6;
    /// Error code 7: ROUTE-REFRESH Message Error (RFC 7313).
    pub const ROUTE_REFRESH_MESSAGE_ERROR: u8 = 7;

    /// A NOTIFICATION with the given code, subcode and data.
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Self {
        Notification { code, subcode, data }
    }

    /// 2/1 Unsupported Version Number; the data names the version we support (4), as two octets.
    pub fn unsupported_version() -> Self {
        Notification::new(Self::OPEN_MESSAGE_ERROR, 1, vec![0, 4])
    }

    /// 2/2 Bad Peer AS.
    pub fn bad_peer_as() -> Self {
        Notification::new(Self::OPEN_MESSAGE_ERROR, 2, Vec::new())
    }

    /// 2/3 Bad BGP Identifier.
    pub fn bad_bgp_identifier() -> Self {
        Notification::new(Self::OPEN_MESSAGE_ERROR, 3, Vec::new())
    }

    /// 2/6 Unacceptable Hold Time.
    pub fn unacceptable_hold_time() -> Self {
        Notification::new(Self::OPEN_MESSAGE_ERROR, 6, Vec::new())
    }

    /// 4/0 Hold Timer Expired.
    pub fn hold_timer_expired() -> Self {
        Notification::new(Self::HOLD_TIMER_EXPIRED, 0, Vec::new())
    }

    /// 5/x Finite State Machine Error, with the RFC 6608 subcode of the state the unexpected
    /// message arrived in (1 OpenSent, 2 OpenConfirm, 3 Established, 0 otherwise).
    pub fn fsm_error(state: State) -> Self {
        let subcode = match state {
            State::OpenSent => 1,
            State::OpenConfirm => 2,
            State::Established => 3,
            State::Idle | State::Connect | State::Active => 0,
        };
        Notification::new(Self::FSM_ERROR, subcode, Vec::new())
    }

    /// 6/2 Cease, Administrative Shutdown (RFC 4486).
    pub fn administrative_shutdown() -> Self {
        Notification::new(Self::CEASE, 2, Vec::new())
    }

    /// 6/7 Cease, Connection Collision Resolution (RFC 4486).
    pub fn collision_resolution() -> Self {
        Notification::new(Self::CEASE, 7, Vec::new())
    }

    /// The RFC name of the error code.
    pub fn code_name(&self) -> &'static str {
        match self.code {
            Self::MESSAGE_HEADER_ERROR => "Message Header Error",
            Self::OPEN_MESSAGE_ERROR => "OPEN Message Error",
            Self::UPDATE_MESSAGE_ERROR => "UPDATE Message Error",
            Self::HOLD_TIMER_EXPIRED => "Hold Timer Expired",
            Self::FSM_ERROR => "Finite State Machine Error",
            Self::CEASE => "Cease",
            Self::ROUTE_REFRESH_MESSAGE_ERROR => "ROUTE-REFRESH Message Error",
            _ => "Unknown Error",
        }
    }

    /// The RFC name of the subcode, when it has one.
    pub fn subcode_name(&self) -> Option<&'static str> {
        let name = match (self.code, self.subcode) {
            (Self::MESSAGE_HEADER_ERROR, 1) => "Connection Not Synchronized",
            (Self::MESSAGE_HEADER_ERROR, 2) => "Bad Message Length",
            (Self::MESSAGE_HEADER_ERROR, 3) => "Bad Message Type",
            (Self::OPEN_MESSAGE_ERROR, 1) => "Unsupported Version Number",
            (Self::OPEN_MESSAGE_ERROR, 2) => "Bad Peer AS",
            (Self::OPEN_MESSAGE_ERROR, 3) => "Bad BGP Identifier",
            (Self::OPEN_MESSAGE_ERROR, 4) => "Unsupported Optional Parameter",
            (Self::OPEN_MESSAGE_ERROR, 6) => "Unacceptable Hold Time",
            (Self::OPEN_MESSAGE_ERROR, 7) => "Unsupported Capability",
            (Self::OPEN_MESSAGE_ERROR, 11) => "Role Mismatch",
            (Self::UPDATE_MESSAGE_ERROR, 1) => "Malformed Attribute List",
            (Self::UPDATE_MESSAGE_ERROR, 2) => "Unrecognized Well-known Attribute",
            (Self::UPDATE_MESSAGE_ERROR, 3) => "Missing Well-known Attribute",
            (Self::UPDATE_MESSAGE_ERROR, 4) => "Attribute Flags Error",
            (Self::UPDATE_MESSAGE_ERROR, 5) => "Attribute Length Error",
            (Self::UPDATE_MESSAGE_ERROR, 6) => "Invalid ORIGIN Attribute",
            (Self::UPDATE_MESSAGE_ERROR, 8) => "Invalid NEXT_HOP Attribute",
            (Self::UPDATE_MESSAGE_ERROR, 9) => "Optional Attribute Error",
            (Self::UPDATE_MESSAGE_ERROR, 10) => "Invalid Network Field",
            (Self::UPDATE_MESSAGE_ERROR, 11) => "Malformed AS_PATH",
            (Self::FSM_ERROR, 1) => "Unexpected Message in OpenSent State",
            (Self::FSM_ERROR, 2) => "Unexpected Message in OpenConfirm State",
            (Self::FSM_ERROR, 3) => "Unexpected Message in Established State",
            (Self::CEASE, 1) => "Maximum Number of Prefixes Reached",
            (Self::CEASE, 2) => "Administrative Shutdown",
            (Self::CEASE, 3) => "Peer De-configured",
            (Self::CEASE, 4) => "Administrative Reset",
            (Self::CEASE, 5) => "Connection Rejected",
            (Self::CEASE, 6) => "Other Configuration Change",
            (Self::CEASE, 7) => "Connection Collision Resolution",
            (Self::CEASE, 8) => "Out of Resources",
            (Self::CEASE, 9) => "Hard Reset",
            (Self::CEASE, 10) => "BFD Down",
            _ => return None,
        };
        Some(name)
    }

    /// The operator's message of a Cease Administrative Shutdown or Reset (RFC 9003): a length
    /// octet then that many octets of UTF-8. None when absent or malformed.
    pub fn shutdown_message(&self) -> Option<&str> {
        if self.code != Self::CEASE || !matches!(self.subcode, 2 | 4) {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        if text.is_empty() {
            return None;
        }
        std::str::from_utf8(text).ok()
    }
}

impl fmt::Display for Notification {
    /// `6/2 (Cease, Administrative Shutdown: "maintenance")`, for logs and status messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({}", self.code, self.subcode, self.code_name())?;
        if let Some(sub) = self.subcode_name() {
            write!(f, ", {sub}")?;
        }
        if let Some(message) = self.shutdown_message() {
            write!(f, ": {message:?}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn display_names_code_subcode_and_shutdown_message() {
        let cases = [
            (Notification::hold_timer_expired(), "4/0 (Hold Timer Expired)"),
            (Notification::bad_peer_as(), "2/2 (OPEN Message Error, Bad Peer AS)"),
            (
                Notification::new(6, 2, b"\x0bmaintenance".to_vec()),
                "6/2 (Cease, Administrative Shutdown: \"maintenance\")",
            ),
            (Notification::new(99, 1, vec![]), "99/1 (Unknown Error)"),
        ];
        for (n, text) in cases {
            assert_eq!(n.to_string(), text);
        }
    }

    #[test]
    fn shutdown_message_rejects_short_or_invalid_data() {
        let cases: [(Vec<u8>, Option<&str>); 5] = [
            (vec![], None),
            (vec![0], None),
            (vec![5, b'a', b'b'], None),
            (vec![2, 0xff, 0xfe], None),
            (vec![2, b'o', b'k', b'!'], Some("ok")),
        ];
        for (data, expected) in cases {
            assert_eq!(Notification::new(6, 2, data.clone()).shutdown_message(), expected, "{data:?}");
        }
        assert_eq!(Notification::new(6, 3, b"\x02ok".to_vec()).shutdown_message(), None);
    }
}
