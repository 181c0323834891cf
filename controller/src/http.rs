//! What the controller serves on /metrics, /healthz and /readyz (ferrolb-kube's server): its
//! metrics, and ready once the configuration watches have synced.

use ferrolb_kube::http::Scrape;

use crate::metrics::Metrics;

/// The controller's readiness flag and metrics.
pub type Health = ferrolb_kube::http::Health<Metrics>;

/// Not ready yet, with no metrics recorded.
pub fn health() -> Health {
    Health::new(Metrics::default(), "configuration not synced yet")
}

impl Scrape for Metrics {
    fn scrape(&self) -> String {
        self.encode()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn readiness_follows_the_flag() {
        let h = health();
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 503);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").2, "configuration not synced yet\n");
        h.ready.store(true, Ordering::Relaxed);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /healthz HTTP/1.1").0, 200);
        assert!(h.respond("GET /metrics HTTP/1.1").2.contains("ferrolb_controller_leader"));
        assert_eq!(h.respond("GET /nope HTTP/1.1").0, 404);
    }
}
