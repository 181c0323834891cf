//! What the speaker serves on /metrics, /healthz and /readyz (ferrolb-kube's server): its
//! metrics, and ready once the watches have listed everything.

use crate::layer2::counters::Layer2Counters;
use crate::metrics::Metrics;

/// The speaker's readiness flag and metrics.
pub type Health = ferrolb_kube::http::Health<Metrics>;

/// Not ready yet; Layer2 counts come from `layer2`.
pub fn health(layer2: Layer2Counters) -> Health {
    Health::new(Metrics::new(layer2), Metrics::encode, "watches not synced yet")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn readiness_follows_the_flag() {
        let h = health(Layer2Counters::default());
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 503);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").2, "watches not synced yet\n");
        h.ready.store(true, Ordering::Relaxed);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /healthz HTTP/1.1").0, 200);
        assert!(h.respond("GET /metrics HTTP/1.1").2.contains("ferrolb_members_alive"));
        assert_eq!(h.respond("GET /nope HTTP/1.1").0, 404);
    }
}
