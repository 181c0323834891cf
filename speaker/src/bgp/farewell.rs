//! How a session ends when the speaker stops (SIGTERM): the planned ways out. Pure.
//!
//! Decides, from what the session negotiated and what it announces, whether the speaker leaves
//! as a restart (graceful restart: close without NOTIFICATION, the router keeps the routes) or
//! for good (withdraw everything, give the router a moment, then Cease). It does not write or
//! close anything (the session does).

use std::time::Duration;

use ferrolb_bgp::fsm::Negotiated;

/// How long a stopping speaker waits, once its withdrawals are written, before it closes the
/// session: time for the router to take the routes out of its ECMP groups and its forwarding
/// table while the session is still up. Short, so that the whole SIGTERM path stays well under
/// the usual 3 s before SIGKILL (and Kubernetes' 30 s grace period).
pub const WITHDRAW_GRACE: Duration = Duration::from_secs(1);

/// How one session ends when the speaker stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Farewell {
    /// Graceful restart was negotiated (both OPENs carried the capability): close the TCP
    /// connection without a NOTIFICATION. The router keeps this node's routes, marked stale, for
    /// the restart time, and keeps forwarding to the node, whose data plane (kube-proxy) does not
    /// stop with the speaker. The next speaker sends its routes and End-of-RIB, and the router
    /// drops only the stale routes it did not send again (RFC 4724).
    Restart,
    /// Withdraw every route, wait `grace` so that the router moves the flows to the other nodes
    /// while the session is still up, then close with Cease, Administrative Shutdown (6/2).
    WithdrawThenCease {
        /// The wait between the withdrawals and the Cease.
        grace: Duration,
    },
    /// Close with Cease 6/2 at once: the session is not established, or announces nothing.
    Cease,
}

/// How a session ends when the speaker stops: `established` is what it negotiated when it is
/// Established (None otherwise), `announced` how many routes the peer holds from it.
pub fn farewell(established: Option<&Negotiated>, announced: usize) -> Farewell {
    match established {
        Some(negotiated) if negotiated.graceful_restart => Farewell::Restart,
        Some(_) if announced > 0 => Farewell::WithdrawThenCease { grace: WITHDRAW_GRACE },
        _ => Farewell::Cease,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiated(graceful_restart: bool) -> Negotiated {
        Negotiated { graceful_restart, ..crate::bgp::glue::tests::negotiated(false) }
    }

    #[test]
    fn the_way_out_depends_on_graceful_restart_and_on_what_is_announced() {
        let (with, without) = (negotiated(true), negotiated(false));
        let withdraw = Farewell::WithdrawThenCease { grace: WITHDRAW_GRACE };
        let cases = [
            ("graceful restart negotiated, routes held", Some(&with), 3, Farewell::Restart),
            ("graceful restart negotiated, nothing held", Some(&with), 0, Farewell::Restart),
            ("no graceful restart, routes held", Some(&without), 3, withdraw),
            ("no graceful restart, nothing held", Some(&without), 0, Farewell::Cease),
            ("not established", None, 0, Farewell::Cease),
        ];
        for (name, established, announced, expected) in cases {
            assert_eq!(farewell(established, announced), expected, "{name}");
        }
    }
}
