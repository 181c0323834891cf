//! FerroLB's Kubernetes edge, shared by the controller and the speaker. It decides nothing: it
//! watches, gathers, publishes and serves, and the programs' pure modules decide.
//!
//! - [`config_watch`]: the six configuration kinds and the Secrets, each object decoded on its
//!   own ([`object`]), read as one `Decoded` for `ferrolb_core::config::Config::from_objects`.
//! - [`triggers`]: watch streams merged into one stream of "look again".
//! - [`debounce`]: a burst of changes gathered into one rebuild.
//! - [`resync`]: the periodic resync, and the sooner retry after a failed write.
//! - [`pace`]: the three together: what brings a program's loop back for another pass.
//! - [`events`]: Kubernetes Events, created and forgotten.
//! - [`http`]: /metrics, /healthz and /readyz.
//! - [`list`]: listing many objects page by page.
//! - [`logging`], [`shutdown`]: process set-up.
//! - [`names`]: the field manager and Event reporter names.
//! - [`owner`]: what owns the objects the programs create (their ClusterRoles).

// Tests may unwrap: a panic there is a failed test. Library code may not (workspace lint).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config_watch;
pub mod debounce;
pub mod events;
pub mod http;
pub mod list;
pub mod logging;
pub mod names;
pub mod object;
pub mod owner;
pub mod pace;
pub mod resync;
pub mod shutdown;
pub mod triggers;
