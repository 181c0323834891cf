//! What a session tells the status writer when its state changes: a value sent over a channel,
//! so that the session task and the status writer do not depend on each other.

/// A session's state as reported to status writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The peer's name.
    pub peer: String,
    /// Whether the session is Established.
    pub established: bool,
    /// A CamelCase reason (Established, or [`ferrolb_bgp::fsm::DownReason::condition_reason`]).
    pub reason: String,
    /// A sentence for humans.
    pub message: String,
}
