//! BFD (RFC 5880 asynchronous mode; RFC 5881 single hop, RFC 5883 multihop) for BGP peers
//! with a BFDProfile, on ferrolb-bfd (the pure packet codec, session state machine and
//! demultiplexer).
//!
//! [`spec`] (pure) turns a configured peer into the session it wants; [`engine`] is the one
//! task that owns every BFD session of this node, its sockets ([`socket`]) and its timers, and
//! publishes each peer's state on a watch channel the peer's BGP session follows: when BFD
//! goes Down the BGP session closes with Cease 10 ("BFD Down", RFC 9384) and stays closed until
//! BFD is Up again. [`metrics`] are the `ferrolb_bfd_*` families.
//!
//! Dependencies point one way: `engine` -> `spec`, `socket`, `metrics`; `crate::bgp` -> `engine`.

pub mod engine;
pub mod metrics;
pub mod socket;
pub mod spec;
