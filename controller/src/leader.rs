//! Leader election on a coordination.k8s.io Lease (kube-lease-manager): only the leader
//! writes. The lease is short so that a standby takes over within about three seconds of the
//! leader's death, and it is released on shutdown so that a rolling update hands over at once.

use anyhow::Context as _;
use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The Lease's name: the controller's.
pub const LEASE: &str = ferrolb_kube::names::CONTROLLER;
/// How long a lease lasts without renewal, in seconds.
pub const DURATION_SECS: u64 = 2;
/// How long before expiry the holder renews (and the clock skew tolerated), in seconds.
pub const GRACE_SECS: u64 = 1;

/// A running election: whether we lead, and the task that keeps the lease.
pub struct Election {
    /// True while this replica holds the lease.
    pub leading: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

/// Joins the election for the Lease in `namespace` as `identity`.
pub async fn join(client: Client, namespace: &str, identity: &str) -> anyhow::Result<Election> {
    let manager = LeaseManagerBuilder::new(client, LEASE)
        .with_namespace(namespace)
        .with_identity(identity)
        .with_duration(DURATION_SECS)
        .with_grace(GRACE_SECS)
        .build()
        .await
        .with_context(|| format!("preparing Lease {namespace}/{LEASE}"))?;
    let (leading, task) = manager.watch().await;
    Ok(Election { leading, task })
}

impl Election {
    /// Stops taking part, and releases the lease if held.
    pub async fn leave(self) {
        drop(self.leading);
        match self.task.await {
            Ok(Ok(manager)) => {
                if let Err(error) = manager.release().await {
                    tracing::warn!(%error, "releasing the lease failed; it expires by itself");
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, "the election task failed"),
            Err(error) => tracing::warn!(%error, "the election task panicked"),
        }
    }
}

/// An election of one, for `--leader-elect=false`: always leading.
pub fn alone() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(true);
    // Keep the sender alive for the life of the process.
    std::mem::forget(tx);
    rx
}
