//! What a session asks the I/O layer to do.

use crate::packet::{ControlPacket, Diagnostic, State};

/// An effect for the I/O layer to carry out, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this packet to the peer now (encode it with [`ControlPacket::encode`]).
    Send(ControlPacket),
    /// The session's state changed, for this reason: report it, and act on Up and on leaving Up.
    StateChanged {
        /// The state before.
        from: State,
        /// The state now.
        to: State,
        /// Why (the local diagnostic the session now sends).
        diag: Diagnostic,
    },
}
