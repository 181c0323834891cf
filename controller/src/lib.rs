//! FerroLB's controller: it gives LoadBalancer Services their addresses, and tells each
//! configuration object whether it is in use.
//!
//! Address assignment: [`service_watch`] (the kube edge) feeds every Service to the pure
//! [`services`] steps (`spec`: is it ours and what does it ask, read with
//! `ferrolb_core::service::ServiceReader`; `plan`: every Service's addresses, from the
//! [`allocator`]; `status`: what to write) and writes what they return.
//!
//! Configuration: [`config_watch`] (the kube edge) builds one Config with `ferrolb-core` and
//! writes each object's Accepted condition and Events, as [`config_status`] decides.

pub mod allocator;
pub mod config_status;
pub mod config_watch;
pub mod leader;
pub mod member_key;
pub mod metrics;
pub mod service_watch;
pub mod services;
