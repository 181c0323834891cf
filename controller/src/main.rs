//! `ferrolb-controller`: watches FerroLB's configuration and reports on it.

use anyhow::Context as _;
use clap::Parser;
use ferrolb_core::config::Config;
use tokio::sync::watch;

/// FerroLB's controller.
#[derive(Parser)]
#[command(name = "ferrolb-controller", version, about)]
struct Args {
    /// The namespace FerroLB runs in: where a BGPPeer's passwordSecret without namespace is.
    #[arg(long, env = "POD_NAMESPACE", default_value = "ferrolb-system")]
    namespace: String,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if args.log_json {
        logs.json().init()
    } else {
        logs.init()
    }

    let client =
        kube::Client::try_default().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let (shutdown_tx, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    });
    let (configs, _config) = watch::channel(Config::default());
    tracing::info!(namespace = %args.namespace, "ferrolb-controller starting: validating configuration");
    ferrolb_controller::config_watch::run(client, args.namespace, configs, shutdown).await
}
