//! FerroLB's speaker: decides what this node announces, and announces it (Layer2, BGP).
//!
//! Pure decisions live in [`announcer`], in ferrolb-bgp (the BGP codec, session state machine
//! and Adj-RIB-Out, driven by [`bgp`]) and in the Layer2 frame codecs; the I/O edges (raw
//! sockets, TCP sessions, member probes, the kube watches) are thin.

/// The announcer lives in ferrolb-core, shared with `ferrolb explain`; re-exported here.
pub use ferrolb_core::announcer;
pub mod bfd;
pub mod bgp;
pub mod driver;
pub mod http;
pub mod kube_edge;
pub mod layer2;
pub mod members;
pub mod metrics;
pub mod netif;
pub mod rawsock;
pub mod relay;
pub mod status;
