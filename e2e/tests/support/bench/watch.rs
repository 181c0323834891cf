//! When the benchmark's Services were first seen and when their addresses were, read off one
//! watch on the `bench` namespace, as a user's `kubectl get svc -w` would see them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::runtime::watcher;

use crate::ingress;

/// The benchmark's namespace.
pub const NAMESPACE: &str = "bench";

/// One Service's story on the watch.
#[derive(Debug, Clone)]
pub struct Seen {
    pub name: String,
    /// The first event carrying the object (its ADDED).
    pub added: Instant,
    /// The first event showing ingress addresses, and which.
    pub ingress: Option<(Instant, Vec<IpAddr>)>,
}

/// A running watch; stops when dropped.
pub struct Timeline {
    seen: Arc<Mutex<HashMap<String, Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Timeline {
    /// Starts watching; returns once the watch has listed what exists (so nothing created
    /// after this returns is missed).
    pub async fn start(client: kube::Client) -> Result<Timeline, String> {
        let seen: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
        let record = seen.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let api: Api<Service> = Api::namespaced(client, NAMESPACE);
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
            while let Some(event) = stream.next().await {
                let now = Instant::now();
                let objects = match event {
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    Ok(watcher::Event::Apply(svc) | watcher::Event::InitApply(svc)) => svc,
                    _ => continue,
                };
                let Some(uid) = objects.metadata.uid.clone() else { continue };
                let ips = ingress(&objects);
                if let Ok(mut seen) = record.lock() {
                    let entry = seen.entry(uid).or_insert_with(|| Seen {
                        name: objects.metadata.name.clone().unwrap_or_default(),
                        added: now,
                        ingress: None,
                    });
                    if entry.ingress.is_none() && !ips.is_empty() {
                        entry.ingress = Some((now, ips));
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), ready_rx)
            .await
            .map_err(|_| "the Service watch did not list within 30 s".to_owned())?
            .map_err(|_| "the Service watch ended".to_owned())?;
        Ok(Timeline { seen, task })
    }

    /// The story of the newest Service called `name`.
    pub fn get(&self, name: &str) -> Option<Seen> {
        let seen = self.seen.lock().ok()?;
        seen.values().filter(|s| s.name == name).max_by_key(|s| s.added).cloned()
    }

    /// Waits until the newest Service called `name` has addresses; returns its story.
    pub async fn wait_ingress(&self, name: &str, timeout: Duration) -> Option<Seen> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(seen) = self.get(name).filter(|s| s.ingress.is_some()) {
                return Some(seen);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Every Service seen whose name starts with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .map(|s| s.values().filter(|s| s.name.starts_with(prefix)).cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for Timeline {
    fn drop(&mut self) {
        self.task.abort();
    }
}
