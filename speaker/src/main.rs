//! `ferrolb-speaker`: runs on every node; decides what this node announces and announces it
//! (Layer2: ARP/NDP answers and gratuitous announcements; BGP: sessions to routers).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use ferrolb_core::config::Config;
use ferrolb_kube::{logging, shutdown};
use ferrolb_speaker::announcer::{BgpDecision, ClassPolicy, from_k8s::DEFAULT_CLASS};
use ferrolb_speaker::bgp::runtime::{self, BgpRuntime};
use ferrolb_speaker::bgp::settings::parse_restart_time;
use ferrolb_speaker::driver;
use ferrolb_speaker::layer2::responder::Layer2Responder;
use ferrolb_speaker::layer2::schedule::parse_refresh;
use ferrolb_speaker::members::DEFAULT_PORT;
use ferrolb_speaker::status::layer2 as l2_status;
use ferrolb_speaker::{http, netif, relay};
use tokio::sync::watch;
use tracing::{Instrument, info, info_span, warn};

/// FerroLB's speaker.
#[derive(Parser)]
#[command(name = ferrolb_kube::names::SPEAKER, version, about)]
struct Args {
    /// This node's name (the Node object), e.g. from the Pod's spec.nodeName.
    #[arg(long, env = "FERROLB_NODE_NAME")]
    node_name: String,
    /// The namespace FerroLB runs in: the member Secret, and BGP password Secrets.
    #[arg(long, env = "POD_NAMESPACE", default_value = "ferrolb-system")]
    namespace: String,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:7473")]
    metrics_addr: SocketAddr,
    /// UDP port of the member heartbeats, on every node.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    members_port: u16,
    /// The Secret (in --namespace) holding the key that authenticates member heartbeats.
    #[arg(long, default_value = ferrolb_kube::names::MEMBER_SECRET)]
    memberlist_secret: String,
    /// The data key of that Secret.
    #[arg(long, default_value = ferrolb_kube::names::MEMBER_KEY)]
    memberlist_key: String,
    /// The loadBalancerClass FerroLB serves (Services with no class are served too, unless
    /// --only-lb-class).
    #[arg(long, default_value = DEFAULT_CLASS)]
    lb_class: String,
    /// Serve only Services whose loadBalancerClass is --lb-class.
    #[arg(long)]
    only_lb_class: bool,
    /// Layer2: announce every owned address again (gratuitous ARP, unsolicited Neighbor Advertisement) at
    /// this interval, e.g. 30s, so switches never age the owner's MAC out; 0 or off (the default) announces
    /// an address only when this node gains it. At least 1s.
    #[arg(long, env = "FERROLB_GRATUITOUS_REFRESH", value_parser = parse_refresh, default_value = "off")]
    gratuitous_refresh: ::std::option::Option<Duration>,
    /// Layer2: when this speaker stops on a node that stays in service (a pod restart, an upgrade),
    /// it keeps its addresses and the other speakers keep them with it for this long, waiting for
    /// the next process, instead of moving them away and back (each move resets the connections open
    /// at that moment). 0 or off: every stop hands the addresses over. At least 1s. Set it the same on
    /// every node, longer than a speaker pod takes to restart.
    #[arg(long, env = "FERROLB_LAYER2_RESTART_WINDOW", value_parser = parse_refresh, default_value = "15s")]
    layer2_restart_window: ::std::option::Option<Duration>,
    /// BGP: the restart time offered to peers with enableGracefulRestart, e.g. 120s (FRR's
    /// default): how long a router keeps this node's routes after the speaker stops, waiting for
    /// it to come back. Whole seconds from 1s to 4095s.
    #[arg(long, env = "FERROLB_BGP_GRACEFUL_RESTART_TIME", value_parser = parse_restart_time, default_value = "120s")]
    bgp_graceful_restart_time: u16,
    /// Keep connections alive when their address moves: a TCP segment that reaches this node for a
    /// connection it does not know (the address moved here, or the router rehashed) is copied to the
    /// other nodes' speakers, and the one that has the connection forwards it (nftables tables
    /// `ip ferrolb` and `ip6 ferrolb`). false: such segments take the proxy's usual way, which
    /// resets those connections.
    #[arg(long, env = "FERROLB_RELAY_STRAYS", default_value_t = true, action = clap::ArgAction::Set)]
    relay_strays: bool,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: answering a frame is microseconds of work, and one thread keeps the footprint small.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(args.log_json);
    let span = info_span!("speaker", node = %args.node_name);
    run(args).instrument(span).await
}

async fn run(args: Args) -> anyhow::Result<()> {
    let client =
        kube::Client::try_default().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let shutdown = shutdown::on_signal();

    // Layer2: the responder follows the interfaces netif reports.
    let mut responder = Layer2Responder::new().with_gratuitous_refresh(args.gratuitous_refresh);
    let layer2 = responder.handle();
    let heard = responder.take_heard();
    let health = Arc::new(http::health(responder.counters()));
    let (interfaces_tx, interfaces) = watch::channel(Vec::new());
    tokio::spawn(async move {
        if let Err(error) = netif::watch_interfaces(interfaces_tx).await {
            warn!(%error, "watching network interfaces failed; the interface set is frozen");
        }
    });
    tokio::spawn(responder.run(interfaces.clone()).in_current_span());
    tokio::spawn(ferrolb_kube::http::serve(args.metrics_addr, health.clone()).in_current_span());

    // BGP: starts once this node's addresses are known (its router ID and next hop).
    let (bgp_config, bgp_config_rx) = watch::channel(Arc::new(Config::default()));
    let (bgp_decision, bgp_decision_rx) = watch::channel(Arc::new(BgpDecision::default()));
    let (node_addresses, mut node_addresses_rx) = watch::channel(Vec::<IpAddr>::new());
    // What the speaker writes is owned by its ClusterRole, so that an uninstall removes it.
    let owner = ferrolb_kube::owner::cluster_role(&client, ferrolb_kube::names::SPEAKER).await;
    let bgp = {
        let (node, client, shutdown, owner) = (args.node_name.clone(), client.clone(), shutdown.clone(), owner.clone());
        let graceful_restart_time = args.bgp_graceful_restart_time;
        let (metrics, bfd_metrics) = (health.metrics.bgp.clone(), health.metrics.bfd.clone());
        tokio::spawn(
            async move {
                let Ok(addresses) = node_addresses_rx.wait_for(|a| !a.is_empty()).await.map(|a| a.clone()) else {
                    return;
                };
                let runtime = BgpRuntime {
                    node,
                    node_addresses: addresses,
                    config: bgp_config_rx,
                    decision: bgp_decision_rx,
                    client: Some(client),
                    owner,
                    shutdown,
                    graceful_restart_time,
                };
                if let Err(error) = runtime::run(runtime, metrics, bfd_metrics).await {
                    warn!(%error, "BGP mode stopped");
                }
            }
            .in_current_span(),
        )
    };

    // Status objects, written beside the decisions, never in their way.
    let (status_tx, status_rx) = watch::channel(l2_status::Wanted::new());
    let status_check = std::sync::Arc::new(tokio::sync::Notify::new());
    let writer = tokio::spawn(
        l2_status::run(client.clone(), args.node_name.clone(), owner, status_rx, status_check.clone())
            .in_current_span(),
    );

    // Connections across moves: the relay follows what the loop wants.
    let relay_tx = args.relay_strays.then(|| {
        let (tx, rx) = watch::channel(relay::Wanted::default());
        tokio::spawn(relay::run(rx, health.metrics.relay.clone()).in_current_span());
        tx
    });

    info!(namespace = %args.namespace, class = %args.lb_class, members_port = args.members_port, gratuitous_refresh = ?args.gratuitous_refresh, restart_window = ?args.layer2_restart_window, relay_strays = args.relay_strays, "{} starting", ferrolb_kube::names::SPEAKER);
    let settings = driver::Settings {
        node: args.node_name.clone(),
        namespace: args.namespace.clone(),
        members_port: args.members_port,
        memberlist_secret: args.memberlist_secret.clone(),
        memberlist_key: args.memberlist_key.clone(),
        class: ClassPolicy { class: args.lb_class.clone(), require_class: args.only_lb_class },
        restart_window: args.layer2_restart_window,
    };
    let outputs = driver::Outputs {
        layer2,
        heard,
        interfaces,
        health,
        bgp_config,
        bgp_decision,
        node_addresses,
        status: status_tx,
        status_check,
        relay: relay_tx,
    };
    let exit = driver::run(client, settings, outputs, shutdown).await;
    if args.relay_strays && exit == driver::Exit::Stopped {
        // Stopped for good: take FerroLB's tables away (a restarting speaker leaves them to the next).
        match tokio::task::spawn_blocking(relay::remove).await {
            Ok(Ok(())) => info!("nftables tables ferrolb removed"),
            Ok(Err(error)) => warn!(%error, "the nftables tables ferrolb could not be removed"),
            Err(error) => warn!(%error, "the nftables tables ferrolb could not be removed"),
        }
    }
    // The loop asked the writer to delete this node's status objects; give it a moment.
    if tokio::time::timeout(Duration::from_secs(2), writer).await.is_err() {
        warn!("the ServiceL2Status objects could not all be deleted in time");
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), bgp).await;
    info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(["ferrolb-speaker", "--node-name", "node1"].iter().chain(extra))
    }

    #[test]
    fn the_flags_are_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn the_layer2_restart_window_is_15s_by_default_and_0_turns_it_off() {
        assert_eq!(parse(&[]).unwrap().layer2_restart_window, Some(Duration::from_secs(15)));
        assert_eq!(
            parse(&["--layer2-restart-window=1m"]).unwrap().layer2_restart_window,
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse(&["--layer2-restart-window=0"]).unwrap().layer2_restart_window, None);
        assert!(parse(&["--layer2-restart-window=100ms"]).is_err());
    }

    #[test]
    fn bgp_graceful_restart_time_is_frrs_by_default() {
        assert_eq!(parse(&[]).unwrap().bgp_graceful_restart_time, 120);
        assert_eq!(parse(&["--bgp-graceful-restart-time=30s"]).unwrap().bgp_graceful_restart_time, 30);
        assert!(parse(&["--bgp-graceful-restart-time=0s"]).is_err());
    }

    #[test]
    fn gratuitous_refresh_is_off_by_default_and_takes_a_duration() {
        assert_eq!(parse(&[]).unwrap().gratuitous_refresh, None);
        assert_eq!(parse(&["--gratuitous-refresh", "30s"]).unwrap().gratuitous_refresh, Some(Duration::from_secs(30)));
        assert_eq!(parse(&["--gratuitous-refresh=2m"]).unwrap().gratuitous_refresh, Some(Duration::from_secs(120)));
        assert_eq!(parse(&["--gratuitous-refresh=0"]).unwrap().gratuitous_refresh, None);
        assert_eq!(parse(&["--gratuitous-refresh=off"]).unwrap().gratuitous_refresh, None);
        for bad in ["100ms", "30", "soon", "-5s"] {
            assert!(parse(&["--gratuitous-refresh", bad]).is_err(), "{bad}");
        }
    }
}
