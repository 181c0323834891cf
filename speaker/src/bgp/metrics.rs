//! BGP mode's Prometheus metrics: sessions up, UPDATEs and prefixes sent, NOTIFICATIONs by code.
//!
//! A handle that every session holds a clone of; registered once in the speaker's registry,
//! whose prefix `ferrolb` makes the names `ferrolb_bgp_*`.

use ferrolb_bgp::adj_out::SyncStats;
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
struct NotificationLabels {
    code: String,
    subcode: String,
    direction: String,
}

/// BGP metrics, registered once in the speaker's registry.
#[derive(Clone, Default, Debug)]
pub struct BgpMetrics {
    session_up: Family<PeerLabels, Gauge>,
    updates: Family<PeerLabels, Counter>,
    announced: Family<PeerLabels, Counter>,
    notifications: Family<NotificationLabels, Counter>,
}

impl BgpMetrics {
    /// Creates the metric families and registers them.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "bgp_session_up",
            "1 when the BGP session with the peer is Established",
            metrics.session_up.clone(),
        );
        registry.register("bgp_updates", "UPDATE messages sent", metrics.updates.clone());
        registry.register(
            "bgp_announced_prefixes",
            "Prefixes announced in UPDATE messages (each announcement counts)",
            metrics.announced.clone(),
        );
        registry.register(
            "bgp_notifications",
            "NOTIFICATION messages by code, subcode and direction (sent, received)",
            metrics.notifications.clone(),
        );
        metrics
    }

    pub(crate) fn session_up(&self, peer: &str, node: &str, up: bool) {
        let labels = PeerLabels { peer: peer.to_string(), node: node.to_string() };
        self.session_up.get_or_create(&labels).set(i64::from(up));
    }

    pub(crate) fn updates(&self, peer: &str, node: &str, stats: SyncStats) {
        let labels = PeerLabels { peer: peer.to_string(), node: node.to_string() };
        self.updates.get_or_create(&labels).inc_by(u64::try_from(stats.updates).unwrap_or(u64::MAX));
        self.announced.get_or_create(&labels).inc_by(u64::try_from(stats.announced).unwrap_or(u64::MAX));
    }

    pub(crate) fn notification(&self, code: u8, subcode: u8, direction: &str) {
        let labels = NotificationLabels {
            code: code.to_string(),
            subcode: subcode.to_string(),
            direction: direction.to_string(),
        };
        self.notifications.get_or_create(&labels).inc();
    }

    /// Drops the peer's session gauge: this node no longer has a session with it.
    pub(crate) fn forget(&self, peer: &str, node: &str) {
        let labels = PeerLabels { peer: peer.to_string(), node: node.to_string() };
        self.session_up.remove(&labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_with_labels() {
        // As the speaker registers them (speaker/src/metrics.rs): under the prefix ferrolb.
        let mut registry = Registry::with_prefix("ferrolb");
        let m = BgpMetrics::register(&mut registry);
        m.session_up("router", "node1", true);
        m.updates("router", "node1", SyncStats { updates: 2, announced: 5, withdrawn: 0 });
        m.notification(6, 3, "sent");
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("ferrolb_bgp_session_up{peer=\"router\",node=\"node1\"} 1"), "{text}");
        assert!(text.contains("ferrolb_bgp_updates_total{peer=\"router\",node=\"node1\"} 2"), "{text}");
        assert!(text.contains("ferrolb_bgp_announced_prefixes_total{peer=\"router\",node=\"node1\"} 5"), "{text}");
        assert!(
            text.contains("ferrolb_bgp_notifications_total{code=\"6\",subcode=\"3\",direction=\"sent\"} 1"),
            "{text}"
        );
        assert!(!text.contains("ferrolb_ferrolb_"), "{text}");
    }
}
