//! The library behind the `ferrolb` command: each command's pure part, working on values, so
//! that it is tested without a cluster or a terminal. `main.rs` only reads, calls and prints.

#![warn(missing_docs)]

pub mod explain;
pub mod migrate;
pub mod yaml;
