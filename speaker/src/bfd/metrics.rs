//! BFD's Prometheus metrics: `ferrolb_bfd_session_up{peer,node}`, control packets received and
//! sent, sessions going down, and packets dropped by reason.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    reason: String,
}

/// BFD metrics, registered once in the speaker's registry (prefix `ferrolb`).
#[derive(Clone, Default, Debug)]
pub struct BfdMetrics {
    session_up: Family<PeerLabels, Gauge>,
    received: Family<PeerLabels, Counter>,
    sent: Family<PeerLabels, Counter>,
    down_events: Family<PeerLabels, Counter>,
    dropped: Family<DropLabels, Counter>,
}

impl BfdMetrics {
    /// Creates the metric families and registers them.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register("bfd_session_up", "1 when the BFD session with the peer is Up", metrics.session_up.clone());
        registry.register(
            "bfd_control_packets_received",
            "BFD control packets received and accepted by a session",
            metrics.received.clone(),
        );
        registry.register("bfd_control_packets_sent", "BFD control packets sent", metrics.sent.clone());
        registry.register(
            "bfd_session_down_events",
            "Times the BFD session with the peer left Up",
            metrics.down_events.clone(),
        );
        registry.register(
            "bfd_dropped_packets",
            "BFD packets dropped before reaching a session, by reason",
            metrics.dropped.clone(),
        );
        metrics
    }

    fn labels(peer: &str, node: &str) -> PeerLabels {
        PeerLabels { peer: peer.to_owned(), node: node.to_owned() }
    }

    pub(crate) fn session_up(&self, peer: &str, node: &str, up: bool) {
        self.session_up.get_or_create(&Self::labels(peer, node)).set(i64::from(up));
    }

    pub(crate) fn received(&self, peer: &str, node: &str) {
        self.received.get_or_create(&Self::labels(peer, node)).inc();
    }

    pub(crate) fn sent(&self, peer: &str, node: &str) {
        self.sent.get_or_create(&Self::labels(peer, node)).inc();
    }

    pub(crate) fn went_down(&self, peer: &str, node: &str) {
        self.down_events.get_or_create(&Self::labels(peer, node)).inc();
    }

    pub(crate) fn dropped(&self, reason: &str) {
        self.dropped.get_or_create(&DropLabels { reason: reason.to_owned() }).inc();
    }

    /// Drops the peer's gauge: this node no longer runs BFD with it.
    pub(crate) fn forget(&self, peer: &str, node: &str) {
        self.session_up.remove(&Self::labels(peer, node));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_with_labels() {
        let mut registry = Registry::with_prefix("ferrolb");
        let m = BfdMetrics::register(&mut registry);
        m.session_up("router", "node1", true);
        m.received("router", "node1");
        m.sent("router", "node1");
        m.sent("router", "node1");
        m.went_down("router", "node1");
        m.dropped("bad_version");
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
        for line in [
            "ferrolb_bfd_session_up{peer=\"router\",node=\"node1\"} 1",
            "ferrolb_bfd_control_packets_received_total{peer=\"router\",node=\"node1\"} 1",
            "ferrolb_bfd_control_packets_sent_total{peer=\"router\",node=\"node1\"} 2",
            "ferrolb_bfd_session_down_events_total{peer=\"router\",node=\"node1\"} 1",
            "ferrolb_bfd_dropped_packets_total{reason=\"bad_version\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
    }
}
