//! FerroLB's pure shared domain: addresses, one validated configuration, selectors, Services.
//!
//! No I/O, no Kubernetes client, no async runtime may enter this crate: every function takes
//! values and returns values, so the controller, the speaker and the CLI agree by construction
//! and every decision here is a millisecond unit test.
//!
//! - [`addresses`]: address ranges, MetalLB pool entries, interval sets for allocation, prefixes
//!   (re-exported from `ferrolb-net`, which `ferrolb-bgp` shares).
//! - [`announcer`]: which node announces a Service's address, in Layer2 and BGP, and why (the
//!   speaker acts on it; `ferrolb explain` shows it).
//! - [`selectors`]: Kubernetes label selector semantics and validation.
//! - [`service`]: a Kubernetes Service as FerroLB reads it, in one place: whether it is ours, its
//!   key, requested and held addresses, families, ports, traffic policy.
//! - [`annotations`]: a Service's FerroLB annotations (and MetalLB's aliases), read into a request.
//! - [`config_objects`]: configuration objects as they are read, each decoded on its own; Secrets reduced.
//! - [`names`]: Kubernetes name, label key and label value syntax.

// Tests may unwrap: a panic there is a failed test. Library code may not (workspace lint).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub use ferrolb_net::addresses;
pub mod annotations;
pub mod announcer;
pub mod config;
pub mod config_objects;
pub mod names;
pub mod selectors;
pub mod service;
