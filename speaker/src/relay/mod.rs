//! Keeping connections alive across a move: strays are relayed to the node that has them.
//!
//! When a Service address moves between nodes (a Layer2 handover, or a router that rehashes its
//! ECMP flows when a node's routes come or go), the TCP connections open at that instant send
//! their next segments to a node that has never seen them. Its conntrack picks them up in the
//! middle, the proxy sends them to a backend that knows nothing of them, and the client's
//! connection is reset. Neither the router nor the client can be told otherwise, so the node
//! that receives such a *stray* hands it to the node that has the connection: it copies the
//! segment to every peer on its link (nftables `dup`, the original IP packet re-sent to the
//! peer's MAC) and drops it. The peer whose conntrack has the connection forwards it as it always
//! did; every other peer drops the copy, recognising a relayed stray by its source MAC (a peer's),
//! so a copy is never relayed again.
//!
//! A stray is a TCP segment to a Service address, without SYN, in conntrack state new or invalid,
//! matched after conntrack and before NAT (priority mangle, -150) in FerroLB's own tables
//! (`ip ferrolb`, `ip6 ferrolb`), which the speaker replaces atomically whenever the Service
//! addresses or the peers change ([`nft`]). The peers are the other nodes whose speakers are
//! alive (so only nodes that guard against relayed strays receive them), reached on the link the
//! kernel's neighbour table says. Relaying is limited to [`nft::RATE_PER_SECOND`] packets a second
//! per node, so a flood of stray segments is not multiplied inside the cluster.
//!
//! The decisions are pure ([`ruleset`], [`nft`]); this module is the netlink edge.

pub mod metrics;
pub mod nft;
pub mod ruleset;

use std::collections::BTreeSet;
use std::io;
use std::time::Duration;

use futures::TryStreamExt;
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::layer2::MacAddr;
pub use metrics::RelayMetrics;
pub use ruleset::{Neighbour, Ruleset, Wanted};

/// How often the neighbour table is read again when nothing else changed (a peer's MAC that
/// changed, or a peer resolved late).
const REREAD: Duration = Duration::from_secs(5);
/// How long changes are gathered before the tables are written again: a burst of Services is one
/// transaction, not one per decision.
const GATHER: Duration = Duration::from_millis(50);

/// Why the relay's tables could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The netfilter netlink socket.
    #[error("netfilter netlink socket: {0}")]
    Socket(#[source] io::Error),
    /// The kernel refused the transaction.
    #[error("the kernel refused FerroLB's nftables tables: {0}")]
    Refused(#[source] io::Error),
    /// Not every message was acknowledged.
    #[error("the kernel acknowledged {got} of {wanted} nftables messages")]
    Unacknowledged {
        /// Acknowledged.
        got: usize,
        /// Sent.
        wanted: usize,
    },
    /// The neighbour table could not be read.
    #[error("reading the neighbour table: {0}")]
    Neighbours(String),
}

/// Sends one batch and waits for every acknowledgement.
fn send(encoded: &nft::Encoded) -> Result<(), RelayError> {
    let mut socket = Socket::new(NETLINK_NETFILTER).map_err(RelayError::Socket)?;
    socket.bind(&SocketAddr::new(0, 0)).map_err(RelayError::Socket)?;
    // A ruleset with thousands of addresses is one sendmsg; raise the buffer past the default
    // (the speaker has CAP_NET_ADMIN, which SO_SNDBUFFORCE needs; without it the default stays).
    let want = encoded.bytes.len().saturating_mul(2).max(1 << 20);
    let _ = nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::SndBufForce, &want);
    let _ = nix::sys::socket::setsockopt(
        &socket,
        nix::sys::socket::sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(2, 0),
    );
    socket.send(&encoded.bytes, 0).map_err(RelayError::Socket)?;
    let mut waiting: BTreeSet<u32> = encoded.acked.iter().copied().collect();
    let wanted = waiting.len();
    let mut buf = vec![0u8; 64 * 1024];
    while !waiting.is_empty() {
        let n = match socket.recv(&mut &mut buf[..], 0) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(RelayError::Unacknowledged { got: wanted - waiting.len(), wanted });
            }
            Err(e) => return Err(RelayError::Socket(e)),
        };
        for reply in nft::replies(&buf[..n]) {
            if let Some(errno) = reply.error {
                return Err(RelayError::Refused(io::Error::from_raw_os_error(errno)));
            }
            waiting.remove(&reply.seq);
        }
    }
    Ok(())
}

/// Replaces FerroLB's tables with `ruleset`.
pub fn install(ruleset: &Ruleset) -> Result<(), RelayError> {
    send(&nft::replace(ruleset, 1))
}

/// Removes FerroLB's tables (when the speaker stops for good).
pub fn remove() -> Result<(), RelayError> {
    send(&nft::remove(1))
}

/// The kernel's neighbour table (IPv4 and IPv6), without entries that failed to resolve, over
/// `handle`'s rtnetlink connection (opened on first use, and again after it failed).
async fn neighbours(handle: &mut Option<rtnetlink::Handle>) -> Result<Vec<Neighbour>, RelayError> {
    let netlink = |e: &dyn std::fmt::Display| RelayError::Neighbours(e.to_string());
    let current = match handle.take() {
        Some(current) => current,
        None => {
            let (connection, opened, _) = rtnetlink::new_connection().map_err(|e| netlink(&e))?;
            tokio::spawn(connection);
            opened
        }
    };
    let messages: Vec<NeighbourMessage> =
        current.neighbours().get().execute().try_collect().await.map_err(|e| netlink(&e))?;
    *handle = Some(current);
    Ok(messages.iter().filter_map(neighbour).collect())
}

/// One neighbour entry, when it holds a usable MAC.
fn neighbour(message: &NeighbourMessage) -> Option<Neighbour> {
    if matches!(message.header.state, NeighbourState::Incomplete | NeighbourState::Failed | NeighbourState::None) {
        return None;
    }
    let mut ip = None;
    let mut mac = None;
    for attribute in &message.attributes {
        match attribute {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => ip = Some((*v4).into()),
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => ip = Some((*v6).into()),
            NeighbourAttribute::LinkLayerAddress(bytes) => {
                mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(MacAddr)
            }
            _ => {}
        }
    }
    Some(Neighbour { ip: ip?, mac: mac?, ifindex: message.header.ifindex })
}

/// Plans the tables for `wanted` and writes them unless they are `installed` already; the
/// ruleset written, if any.
async fn sync(
    handle: &mut Option<rtnetlink::Handle>,
    wanted: &Wanted,
    installed: Option<&Ruleset>,
) -> Result<Option<Ruleset>, RelayError> {
    let ruleset = Ruleset::plan(wanted, &neighbours(handle).await?);
    if installed == Some(&ruleset) {
        return Ok(None);
    }
    let to_install = ruleset.clone();
    tokio::task::spawn_blocking(move || install(&to_install))
        .await
        .map_err(|e| RelayError::Socket(io::Error::other(e)))??;
    Ok(Some(ruleset))
}

/// Keeps FerroLB's tables matching what the driver wants, until `wanted` closes; then leaves them
/// as they are (a restarting speaker's successor replaces them; a speaker stopping for good calls
/// [`remove`]).
pub async fn run(mut wanted: watch::Receiver<Wanted>, metrics: RelayMetrics) {
    let mut handle = None;
    let mut installed: Option<Ruleset> = None;
    let mut last_problem: Option<String> = None;
    loop {
        let now = wanted.borrow_and_update().clone();
        match sync(&mut handle, &now, installed.as_ref()).await {
            Ok(written) => {
                if let Some(ruleset) = written {
                    info!(
                        addresses = ruleset.v4.vips.len() + ruleset.v6.vips.len(),
                        targets = ruleset.v4.targets.len() + ruleset.v6.targets.len(),
                        "relaying strays: nftables tables ferrolb written"
                    );
                    metrics.written(&ruleset);
                    installed = Some(ruleset);
                }
                last_problem = None;
            }
            Err(error) => {
                metrics.failed();
                let problem = error.to_string();
                if last_problem.as_ref() != Some(&problem) {
                    warn!(%problem, "cannot relay strays: connections open when an address moves may be reset");
                }
                installed = None;
                last_problem = Some(problem);
            }
        }
        tokio::select! {
            changed = wanted.changed() => {
                if changed.is_err() {
                    debug!("relay: the driver is gone");
                    return;
                }
                tokio::time::sleep(GATHER).await;
            },
            () = tokio::time::sleep(REREAD) => {}
        }
    }
}
