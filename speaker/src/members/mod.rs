//! Speakers detecting each other's failure in about 300 ms, so Layer2 ownership moves long before
//! the Node object's 40-second grace period would.
//!
//! Every speaker sends an authenticated UDP heartbeat to every other speaker every 100 ms and
//! declares a member dead after 300 ms without one; a speaker that hears none of its (two or more)
//! peers declares itself isolated and steps down. A speaker leaving on purpose (SIGTERM, its Node
//! excluded) says so in its heartbeats at once, and the others drop it from the alive set on the
//! first such heartbeat instead of waiting for its silence. Each heartbeat also reports what its
//! sender knows of every member, so a speaker the others cannot hear steps down, and a member heard
//! only through others stays alive (see [`table`]). The parts:
//! - [`wire`] (pure): the datagram layout and its HMAC-SHA256 tag under the cluster keys.
//! - [`table`] (pure): replay and freshness checks, alive/dead transitions, this node's health.
//! - [`prober`] (tokio): the socket, the timers, and the published [`MemberView`].
//! - [`counters`]: what the prober counts, for metrics.
//!
//! This module decides who is alive and whether this node is healthy; it does not decide who owns
//! an address (the announcer ranks the eligible nodes), nor where the member list and keys come from
//! (the speaker's Node and Secret watches).
//!
//! Why direct heartbeats instead of SWIM (foca): a FerroLB cluster has tens of nodes, where the
//! all-to-all cost is small and buys what SWIM gives up: a deterministic bound on detection
//! (`suspect_after` plus timer slack, no randomly chosen probe targets or indirect-probe rounds), a
//! single message type to authenticate, and a state machine that unit tests drive with instants.
//! The cost is O(n^2) datagrams: each of n nodes sends n-1 heartbeats of about 60 bytes plus the
//! name plus one byte per member, 10 times a second, so 100 nodes make 99,000 datagrams/s
//! cluster-wide, 990/s (about 0.2 MB/s) in and out of each node; 300 nodes make 2,990/s per node
//! (about 1.1 MB/s). Past a few hundred nodes, use SWIM.

pub mod counters;
pub mod prober;
pub mod table;
pub mod wire;

#[cfg(test)]
mod tests;

pub use counters::{Counters, RejectReason};
pub use prober::{DEFAULT_INTERVAL, DEFAULT_PORT, Member, MemberView, Prober, ProberConfig, ProberError};
pub use table::{Change, Rejection, Table, TableConfig};
pub use wire::{BootId, DecodeError, EncodeError, Entry, Heartbeat, KeyError, KeyRing, Report, Standing};
