//! The speaker's kube edge: the watches ([`watch`]) and the pure translations between
//! Kubernetes objects and what the driver hands on ([`translate`]). The loop that ties them
//! together is the [`crate::driver`]; what the speaker writes to the API is in [`crate::status`].
//!
//! Nothing here decides who announces what (the announcer does) or how frames are sent (the
//! responder does).

pub mod translate;
pub mod watch;
