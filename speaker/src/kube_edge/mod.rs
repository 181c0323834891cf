//! The speaker's kube edge: the watches ([`watch`]), the decision loop that feeds the announcer
//! and hands its answers on ([`state`]), the ServiceL2Status writer ([`status`]), and the pure
//! translations between them ([`translate`]).
//!
//! Nothing here decides who announces what (the announcer does) or how frames are sent (the
//! responder does).

pub mod state;
pub mod status;
pub mod translate;
pub mod watch;
