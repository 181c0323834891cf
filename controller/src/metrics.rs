//! The controller's Prometheus metrics (prometheus-client), registered once, and what its
//! health endpoint (ferrolb-kube's) serves.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The controller's readiness flag and metrics.
pub type Health = ferrolb_kube::http::Health<Metrics>;

/// Not ready until the configuration watches have synced; no metrics recorded yet.
pub fn health() -> Health {
    Health::new(Metrics::default(), Metrics::encode, "configuration not synced yet")
}

/// Labels of per-pool address counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// The pool's name.
    pub pool: String,
    /// ipv4 or ipv6.
    pub family: String,
}

/// Labels of configuration object counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    /// The object's kind.
    pub kind: String,
    /// "true" or "false".
    pub accepted: String,
}

/// Labels of errors.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Why.
    pub reason: String,
}

/// Every metric the controller exports.
pub struct Metrics {
    /// The registry they are encoded from.
    pub registry: Registry,
    /// ferrolb_allocator_addresses_total{pool,family}.
    pub addresses: Family<PoolLabels, Gauge>,
    /// ferrolb_allocator_addresses_in_use_total{pool,family}.
    pub addresses_in_use: Family<PoolLabels, Gauge>,
    /// ferrolb_config_objects{kind,accepted}.
    pub config_objects: Family<ObjectLabels, Gauge>,
    /// ferrolb_reconcile_duration_seconds.
    pub reconcile_duration: Histogram,
    /// ferrolb_reconcile_errors_total{reason}.
    pub errors: Family<ErrorLabels, Counter>,
    /// ferrolb_controller_leader: 1 while this replica leads.
    pub leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ferrolb");
        let addresses = Family::<PoolLabels, Gauge>::default();
        let addresses_in_use = Family::<PoolLabels, Gauge>::default();
        let config_objects = Family::<ObjectLabels, Gauge>::default();
        let reconcile_duration = Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]);
        let errors = Family::<ErrorLabels, Counter>::default();
        let leader = Gauge::default();
        registry.register("allocator_addresses_total", "Addresses in a pool, per family", addresses.clone());
        registry.register(
            "allocator_addresses_in_use_total",
            "Addresses of a pool assigned to Services, per family",
            addresses_in_use.clone(),
        );
        registry.register("config_objects", "Configuration objects, by kind and acceptance", config_objects.clone());
        registry.register(
            "reconcile_duration_seconds",
            "Time to rebuild and apply one configuration",
            reconcile_duration.clone(),
        );
        registry.register("reconcile_errors", "Errors while reconciling, by reason", errors.clone());
        registry.register("controller_leader", "1 while this replica is the leader", leader.clone());
        Self { registry, addresses, addresses_in_use, config_objects, reconcile_duration, errors, leader }
    }
}

impl Metrics {
    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        ferrolb_kube::http::encode(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_the_flag_and_metrics_are_served() {
        let h = health();
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 503);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").2, "configuration not synced yet\n");
        h.ready.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /healthz HTTP/1.1").0, 200);
        assert!(h.respond("GET /metrics HTTP/1.1").2.contains("ferrolb_controller_leader"));
        assert_eq!(h.respond("GET /nope HTTP/1.1").0, 404);
    }

    #[test]
    fn families_carry_their_names_and_labels() {
        let m = Metrics::default();
        m.addresses.get_or_create(&PoolLabels { pool: "a".into(), family: "ipv4".into() }).set(256);
        m.errors.get_or_create(&ErrorLabels { reason: "StatusWrite".into() }).inc();
        let text = m.encode();
        assert!(text.contains(r#"ferrolb_allocator_addresses_total{pool="a",family="ipv4"} 256"#), "{text}");
        assert!(text.contains(r#"ferrolb_reconcile_errors_total{reason="StatusWrite"} 1"#), "{text}");
        assert!(text.contains("ferrolb_controller_leader 0"), "{text}");
    }
}
