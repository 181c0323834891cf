//! The side-by-side benchmark of FerroLB and MetalLB (`ferrolb-bench`, docs/benchmarks.md): the
//! same scenarios against each in fresh labs, alternating, with one harness.
//!
//! Start at [`run`] (the order of labs and scenarios), then [`scenarios`] (what is measured and
//! how), [`implementation`] (the configuration each gets) and [`results`] (the report).

pub mod implementation;
pub mod results;
pub mod run;
pub mod scenarios;
pub mod svg;
pub mod watch;
