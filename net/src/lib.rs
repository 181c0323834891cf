//! FerroLB's network value types: the words the configuration and the protocols both speak in.
//!
//! Values only: no I/O, no decisions about Services or nodes, no dependency on anything of ours.
//! It sits below `ferrolb-core` (configuration, announcer) and `ferrolb-bgp` (codec, state
//! machine), so that both use one `Family`, one `Prefix` and one `PeerAsn` while the BGP crate
//! stays free of the CRD types and `kube` that core brings.
//!
//! - [`addresses`]: address families, inclusive ranges, MetalLB pool entries, interval sets,
//!   prefixes.
//! - [`asn`]: which AS number a BGP peer must have.

// Tests may unwrap: a panic there is a failed test. Library code may not (workspace lint).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod addresses;
pub mod asn;

pub use addresses::{Family, Prefix, PrefixLengthError};
pub use asn::PeerAsn;
