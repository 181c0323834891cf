//! The speaker's kube edge: the watches ([`watch`]), the ServiceL2Status writer ([`status`]),
//! and the pure translations between Kubernetes objects and what the driver hands on
//! ([`translate`]). The loop that ties them together is the [`crate::driver`].
//!
//! Nothing here decides who announces what (the announcer does) or how frames are sent (the
//! responder does).

pub mod status;
pub mod translate;
pub mod watch;
