//! `ferrolb-controller`: watches FerroLB's configuration and reports on it. Several replicas
//! may run; one leads (a Lease) and only it writes.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use ferrolb_controller::services::spec::ClassPolicy;
use ferrolb_controller::{config_watch, leader, member_key, metrics, service_watch};
use ferrolb_core::config::Config;
use ferrolb_kube::{logging, resync, shutdown};
use tokio::sync::watch;

/// FerroLB's controller.
#[derive(Parser)]
#[command(name = ferrolb_kube::names::CONTROLLER, version, about)]
struct Args {
    /// The namespace FerroLB runs in: its Lease, and where a passwordSecret without namespace is.
    #[arg(long, env = "POD_NAMESPACE", default_value = "ferrolb-system")]
    namespace: String,
    /// This replica's name in the leader election (default: the host name and process id).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Take part in leader election; with false, this replica always writes (one replica only!).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// The loadBalancerClass FerroLB serves (Services with no class are served too, unless
    /// --only-lb-class).
    #[arg(long, default_value = ferrolb_controller::services::spec::DEFAULT_CLASS)]
    lb_class: String,
    /// Serve only Services whose loadBalancerClass is --lb-class.
    #[arg(long)]
    only_lb_class: bool,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:7472")]
    metrics_addr: SocketAddr,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

fn identity(args: &Args) -> String {
    args.identity.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    })
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Several threads: planning and writes overlap (figures: docs/performance.md).
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(args.log_json);
    let client =
        kube::Client::try_default().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let health = Arc::new(metrics::health());
    let serving = tokio::spawn(ferrolb_kube::http::serve(args.metrics_addr, health.clone()));
    let shutdown = shutdown::on_signal();

    let me = identity(&args);
    let election =
        if args.leader_elect { Some(leader::join(client.clone(), &args.namespace, &me).await?) } else { None };
    let lease = args.leader_elect.then_some(leader::LEASE);
    tokio::spawn(member_key::run(client.clone(), args.namespace.clone(), lease));
    let leading = election.as_ref().map_or_else(leader::alone, |e| e.leading.clone());
    let (configs, config) = watch::channel(Config::default());
    tracing::info!(namespace = %args.namespace, identity = %me, leader_elect = args.leader_elect, class = %args.lb_class, "{} starting", ferrolb_kube::names::CONTROLLER);
    let services = service_watch::Context {
        class: ClassPolicy { class: args.lb_class.clone(), require_class: args.only_lb_class },
        configs: config,
        leading: leading.clone(),
        health: health.clone(),
        resync: resync::PERIOD,
    };
    let ctx = config_watch::Context {
        own_namespace: args.namespace.clone(),
        configs,
        leading,
        health,
        resync: resync::PERIOD,
    };
    let result = tokio::select! {
        r = config_watch::run(client.clone(), ctx, shutdown.clone()) => r,
        r = service_watch::run(client, services, shutdown) => r,
        r = serving => r.context("the metrics server task failed")?.context("the metrics server failed"),
    };
    if let Some(election) = election {
        election.leave().await;
    }
    result
}
