//! The chaos runner: a seeded stream of Service and pool operations against the lab while faults
//! are injected, with FerroLB's promises checked all the way through and after the last fault.
//!
//! - [`rng`] (pure): the seeded generator, so a seed reproduces a run.
//! - [`schedule`] (pure): which operations and faults happen when.
//! - [`invariants`] (pure): what must hold in a snapshot of the API and the network.
//! - [`run`]: carries a schedule out in a lab, takes the snapshots, probes ARP and the router, and
//!   reports.

pub mod invariants;
pub mod rng;
pub mod run;
pub mod schedule;
