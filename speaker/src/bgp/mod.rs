//! BGP mode: the message codec (pure), the session state machine (pure) and sessions (I/O).

pub mod codec;
pub mod fsm;
pub mod runtime;
