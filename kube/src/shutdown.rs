//! Graceful shutdown: SIGTERM (Kubernetes stopping the Pod) or Ctrl-C turns a `watch` flag to
//! true, which every loop selects on.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::{info, warn};

/// A flag that turns true on SIGTERM or Ctrl-C. Must be called inside a tokio runtime.
pub fn on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(error) => {
                // Dropping the sender would read as a shutdown: keep it, and wait for Ctrl-C.
                warn!(%error, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}
