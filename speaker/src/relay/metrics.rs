//! What the stray relay exports: whether its tables are written, and what they cover.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::Ruleset;

/// Labels of the table-write counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriteLabels {
    /// `ok`, or `failed` (the log says why).
    pub outcome: String,
}

/// The relay's metrics.
#[derive(Clone, Debug, Default)]
pub struct RelayMetrics {
    writes: Family<WriteLabels, Counter>,
    addresses: Gauge,
    targets: Gauge,
}

impl RelayMetrics {
    /// Creates the metric families and registers them.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        for outcome in ["ok", "failed"] {
            let _ = metrics.writes.get_or_create(&WriteLabels { outcome: outcome.to_owned() });
        }
        registry.register(
            "relay_table_writes",
            "Times the stray relay wrote its nftables tables (ok), or could not (failed: connections open when an \
             address moves may be reset)",
            metrics.writes.clone(),
        );
        registry.register(
            "relay_addresses",
            "Service addresses whose stray segments the relay's tables cover (0 when they are not written)",
            metrics.addresses.clone(),
        );
        registry.register(
            "relay_targets",
            "Peers (addresses, both families) stray segments are copied to (0 when the tables are not written)",
            metrics.targets.clone(),
        );
        metrics
    }

    pub(crate) fn written(&self, ruleset: &Ruleset) {
        self.writes.get_or_create(&WriteLabels { outcome: "ok".to_owned() }).inc();
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.addresses.set(count(ruleset.v4.vips.len() + ruleset.v6.vips.len()));
        self.targets.set(count(ruleset.v4.targets.len() + ruleset.v6.targets.len()));
    }

    pub(crate) fn failed(&self) {
        self.writes.get_or_create(&WriteLabels { outcome: "failed".to_owned() }).inc();
        self.addresses.set(0);
        self.targets.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_coverage_are_exported() {
        let mut registry = Registry::with_prefix("ferrolb");
        let metrics = RelayMetrics::register(&mut registry);
        let mut ruleset = Ruleset::default();
        ruleset.v4.vips = vec!["203.0.113.10".parse().unwrap(), "203.0.113.11".parse().unwrap()];
        ruleset.v4.targets = vec![super::super::ruleset::Target { ip: "198.51.100.12".parse().unwrap(), ifindex: 2 }];
        metrics.written(&ruleset);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("ferrolb_relay_table_writes_total{outcome=\"ok\"} 1"), "{text}");
        assert!(text.contains("ferrolb_relay_table_writes_total{outcome=\"failed\"} 0"), "{text}");
        assert!(text.contains("ferrolb_relay_addresses 2"), "{text}");
        assert!(text.contains("ferrolb_relay_targets 1"), "{text}");
        metrics.failed();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("ferrolb_relay_table_writes_total{outcome=\"failed\"} 1"), "{text}");
        assert!(text.contains("ferrolb_relay_addresses 0"), "{text}");
    }
}
