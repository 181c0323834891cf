//! The small HTTP endpoint of both programs: /metrics, /healthz and /livez (the process answers)
//! and /readyz (the watches have listed everything once). GET only, one request per connection:
//! the kubelet and Prometheus need no more.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Encodes `registry` in Prometheus' text format (empty if it cannot be encoded).
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, registry).is_err() {
        out.clear();
    }
    out
}

/// What the endpoint reports.
pub struct Health<M> {
    /// Set once the watches have listed everything.
    pub ready: AtomicBool,
    /// The metrics.
    pub metrics: M,
    /// What /metrics returns: the metrics in Prometheus' text format, encoded now.
    scrape: fn(&M) -> String,
    /// What /readyz says while not ready, e.g. "watches not synced yet".
    not_ready: &'static str,
}

impl<M> Health<M> {
    /// Not ready yet; /metrics answers `scrape(&metrics)`, /readyz `not_ready` until ready.
    pub fn new(metrics: M, scrape: fn(&M) -> String, not_ready: &'static str) -> Self {
        Health { ready: AtomicBool::new(false), metrics, scrape, not_ready }
    }

    /// The response to a request line: status, content type, body.
    pub fn respond(&self, request_line: &str) -> (u16, &'static str, String) {
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        match path {
            "/metrics" => {
                (200, "application/openmetrics-text; version=1.0.0; charset=utf-8", (self.scrape)(&self.metrics))
            }
            "/healthz" | "/livez" => (200, "text/plain", "ok\n".into()),
            "/readyz" if self.ready.load(Ordering::Relaxed) => (200, "text/plain", "ok\n".into()),
            "/readyz" => (503, "text/plain", format!("{}\n", self.not_ready)),
            _ => (404, "text/plain", "not found: try /metrics, /healthz, /readyz\n".into()),
        }
    }
}

/// Serves `health` on `addr` until the process ends.
pub async fn serve<M: Send + Sync + 'static>(addr: SocketAddr, health: Arc<Health<M>>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    loop {
        let (mut conn, _) = listener.accept().await?;
        let health = health.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let Ok(n) = conn.read(&mut buf).await else { return };
            let head = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
            let (status, content_type, body) = health.respond(head.lines().next().unwrap_or_default());
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

    fn up(value: &u32) -> String {
        format!("ferrolb_up {value}\n")
    }

    #[test]
    fn readiness_follows_the_flag() {
        let h = Health::new(1, up, "watches not synced yet");
        assert_eq!(h.respond("GET /readyz HTTP/1.1"), (503, "text/plain", "watches not synced yet\n".into()));
        h.ready.store(true, Ordering::Relaxed);
        assert_eq!(h.respond("GET /readyz HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /healthz HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /livez HTTP/1.1").0, 200);
        assert_eq!(h.respond("GET /metrics HTTP/1.1").2, "ferrolb_up 1\n");
        assert_eq!(h.respond("GET /nope HTTP/1.1").0, 404);
        assert_eq!(h.respond("").0, 404);
    }

    #[tokio::test]
    async fn answers_over_tcp() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let health = Arc::new(Health::new(1, up, "not yet"));
        tokio::spawn(serve(addr, health));
        let connect = async {
            loop {
                match tokio::net::TcpStream::connect(addr).await {
                    Ok(c) => break c,
                    Err(_) => tokio::task::yield_now().await,
                }
            }
        };
        let mut conn = tokio::time::timeout(std::time::Duration::from_secs(10), connect).await.unwrap();
        conn.write_all(b"GET /readyz HTTP/1.1\r\n\r\n").await.unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nnot yet\n"), "{response}");
    }
}
