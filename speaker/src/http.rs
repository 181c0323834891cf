//! The speaker's small HTTP endpoint: /metrics, /healthz (the process answers) and /readyz (the
//! watches have listed everything once). GET only, one request per connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::metrics::Metrics;

/// What the endpoint reports.
pub struct Health {
    /// Set once the watches have listed everything.
    pub ready: AtomicBool,
    /// The metrics.
    pub metrics: Metrics,
}

/// The response to a request line: status, content type, body.
pub fn respond(request_line: &str, health: &Health) -> (u16, &'static str, String) {
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    match path {
        "/metrics" => (200, "application/openmetrics-text; version=1.0.0; charset=utf-8", health.metrics.encode()),
        "/healthz" | "/livez" => (200, "text/plain", "ok\n".into()),
        "/readyz" if health.ready.load(Ordering::Relaxed) => (200, "text/plain", "ok\n".into()),
        "/readyz" => (503, "text/plain", "watches not synced yet\n".into()),
        _ => (404, "text/plain", "not found: try /metrics, /healthz, /readyz\n".into()),
    }
}

/// Serves until the process ends.
pub async fn serve(addr: SocketAddr, health: Arc<Health>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    loop {
        let (mut conn, _) = listener.accept().await?;
        let health = health.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let Ok(n) = conn.read(&mut buf).await else { return };
            let head = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
            let (status, content_type, body) = respond(head.lines().next().unwrap_or_default(), &health);
            let reason = match status {
                200 => "OK",
                404 => "Not Found",
                _ => "Service Unavailable",
            };
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(response.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer2::counters::Layer2Counters;

    #[test]
    fn readiness_follows_the_flag() {
        let h = Health { ready: AtomicBool::new(false), metrics: Metrics::new(Layer2Counters::default()) };
        assert_eq!(respond("GET /readyz HTTP/1.1", &h).0, 503);
        h.ready.store(true, Ordering::Relaxed);
        assert_eq!(respond("GET /readyz HTTP/1.1", &h).0, 200);
        assert_eq!(respond("GET /healthz HTTP/1.1", &h).0, 200);
        assert!(respond("GET /metrics HTTP/1.1", &h).2.contains("ferrolb_members_alive"));
        assert_eq!(respond("GET /nope HTTP/1.1", &h).0, 404);
    }
}
