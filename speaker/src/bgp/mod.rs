//! BGP mode: the message codec (pure), the session state machine (pure), what each session
//! sends (pure [`adj_out`], [`settings`], [`glue`]) and the sessions themselves (I/O
//! [`session`], [`runtime`], [`status`]).

pub mod adj_out;
pub mod codec;
pub mod fsm;
pub mod glue;
pub mod runtime;
pub mod session;
pub mod settings;
pub mod status;
