//! BGP mode on ferrolb-bgp (the pure codec, session state machine and Adj-RIB-Out): the pure
//! mapping between the announcer, the codec and the state machine ([`glue`], [`settings`]), and
//! the I/O: one task per session that owns its socket and timers ([`session`], [`timers`]), the
//! sessions' life cycle ([`runtime`]), and how a session ends when the speaker stops
//! ([`farewell`]). What the API shows of them is written by
//! [`crate::status::bgp`] and [`crate::status::peers`], from the [`report`]s sessions send.
//!
//! Dependencies point one way: `runtime` -> `session` -> `glue`, `settings`, `timers`;
//! `session` -> `farewell`, `unnumbered` (BGP unnumbered's router discovery); `runtime` -> `crate::status`; `session` and `crate::status` -> `report`; `session` and
//! `runtime` -> `metrics`.

pub mod farewell;
pub mod glue;
pub mod metrics;
pub mod report;
pub mod runtime;
pub mod session;
pub mod settings;
pub mod timers;
pub mod unnumbered;
