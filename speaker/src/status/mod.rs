//! Every write the speaker makes to the API, in one place: what the rest of the cluster sees of
//! this node's announcements.
//!
//! - [`layer2`]: one ServiceL2Status per Service this node answers for, and the `nodeAssigned`
//!   Event when it takes a Service over.
//! - [`bgp`]: one ServiceBGPStatus per Service this node advertises, listing the peers.
//! - [`peers`]: this node's session condition on each BGPPeer, and an Event when a session comes
//!   up or goes down.
//!
//! Each writer runs beside the driver and takes the latest wish from a `watch` channel, so a slow
//! or absent API server never delays an announcement; what failed is retried.

pub mod bgp;
pub mod layer2;
pub mod peers;
