//! BGP mode at run time: one session per peer that selects this node, each sending the
//! difference between what the announcer wants the peer to carry and what it carries.
//!
//! This is the contract between the speaker's main (which owns the kube watches and the
//! announcer) and the BGP sessions. The main builds a [`BgpRuntime`] and spawns [`run`].

use std::net::IpAddr;
use std::sync::Arc;

use ferrolb_core::config::Config;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::announcer::BgpDecision;

/// Everything BGP mode needs from the rest of the speaker.
pub struct BgpRuntime {
    /// This node's name (Node object), for status objects and logs.
    pub node: String,
    /// This node's addresses (Node InternalIPs): the default router ID (first IPv4) and the
    /// IPv6 next hop when a session runs over IPv4.
    pub node_addresses: Vec<IpAddr>,
    /// The validated configuration: peers (address, ASNs, timers, password, ...).
    pub config: watch::Receiver<Arc<Config>>,
    /// What the announcer wants each peer (by name) to carry from this node. A peer present
    /// with an empty set keeps its session and withdraws everything; a peer absent has no
    /// session from this node.
    pub decision: watch::Receiver<Arc<BgpDecision>>,
    /// For ServiceBGPStatus objects, BGPPeer status and Events; None runs without them.
    pub client: Option<kube::Client>,
    /// Sessions end when this turns true.
    pub shutdown: watch::Receiver<bool>,
}

/// BGP metrics, registered once in the speaker's registry.
#[derive(Clone, Default)]
pub struct BgpMetrics {}

impl BgpMetrics {
    /// Creates the metric families and registers them.
    pub fn register(_registry: &mut Registry) -> Self {
        Self::default()
    }
}

/// Runs BGP mode until `shutdown`.
pub async fn run(mut runtime: BgpRuntime, _metrics: BgpMetrics) -> anyhow::Result<()> {
    tracing::warn!(node = %runtime.node, "BGP mode is not implemented yet");
    let _ = runtime.shutdown.wait_for(|stop| *stop).await;
    Ok(())
}
