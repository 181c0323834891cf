//! BGP mode at run time: one session per peer that selects this node, each sending the
//! difference between what the announcer wants the peer to carry and what it carries.
//!
//! This is the contract between the speaker's main (which owns the kube watches and the
//! announcer) and the BGP sessions. The main builds a [`BgpRuntime`] and spawns [`run`].
//!
//! Decides which sessions run: a peer named in the decision and present in the configuration
//! gets one; a peer whose [`PeerSettings`] changed is reset (Cease 6/6); a peer no longer
//! named is closed (Cease 6/3); shutdown ends each as [`super::farewell`] decides (graceful
//! restart: close without NOTIFICATION; otherwise withdraw, wait briefly, Cease 6/2). Sessions
//! whose settings did not change keep running.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;

use ferrolb_bgp::notification::{CeaseSubcode, Notification};
use ferrolb_core::config::{Config, Peer};
use tokio::sync::{mpsc, watch};

use super::metrics::BgpMetrics;
use super::report::SessionReport;
use super::session::{SessionContext, SessionHandle};
use super::settings::{PeerSettings, SettingsError};
use crate::announcer::BgpDecision;
use crate::bfd::engine::BfdEngine;
use crate::bfd::metrics::BfdMetrics;
use crate::bfd::spec::BfdSpec;
use crate::status::bgp as status;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// Everything BGP mode needs from the rest of the speaker.
pub struct BgpRuntime {
    /// This node's name (Node object), for status objects and logs.
    pub node: String,
    /// This node's addresses (Node InternalIPs): the default router ID (first IPv4), and the
    /// other family's next hop of a dual-stack session when the interface it runs over is
    /// unknown.
    pub node_addresses: Vec<IpAddr>,
    /// The validated configuration: peers (address, ASNs, timers, password, ...).
    pub config: watch::Receiver<Arc<Config>>,
    /// What the announcer wants each peer (by name) to carry from this node. A peer present
    /// with an empty set keeps its session and withdraws everything; a peer absent has no
    /// session from this node.
    pub decision: watch::Receiver<Arc<BgpDecision>>,
    /// For ServiceBGPStatus objects, BGPPeer status and Events; None runs without them.
    pub client: Option<kube::Client>,
    /// The owner of the ServiceBGPStatus objects it writes (the speaker's ClusterRole), so that
    /// an uninstall removes them; None writes them without.
    pub owner: Option<OwnerReference>,
    /// Sessions end when this turns true.
    pub shutdown: watch::Receiver<bool>,
    /// The restart time offered to peers with enableGracefulRestart, in seconds
    /// (--bgp-graceful-restart-time).
    pub graceful_restart_time: u16,
}

/// What to do with each peer's session. Pure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Peers to start a session for, with their settings.
    pub start: Vec<(String, PeerSettings)>,
    /// Peers whose session is reset (stopped with Cease 6/6, started again with new settings).
    pub restart: Vec<(String, PeerSettings)>,
    /// Peers whose session stops (Cease 6/3).
    pub stop: Vec<String>,
    /// Peers that cannot have a session, and why.
    pub errors: Vec<(String, SettingsError)>,
}

/// Which sessions start, restart and stop, given the running ones and their settings.
/// `settings` turns a peer into its settings.
pub fn plan(
    running: &BTreeMap<String, PeerSettings>,
    config: &Config,
    decision: &BgpDecision,
    settings: impl Fn(&Peer) -> Result<PeerSettings, SettingsError>,
) -> Plan {
    let mut plan = Plan::default();
    let mut wanted = Vec::new();
    for name in decision.desired.keys() {
        let Some(peer) = config.peers.get(name) else { continue };
        match settings(peer) {
            Ok(new) => {
                wanted.push(name.clone());
                match running.get(name) {
                    None => plan.start.push((name.clone(), new)),
                    Some(old) if *old != new => plan.restart.push((name.clone(), new)),
                    Some(_) => {}
                }
            }
            Err(error) => plan.errors.push((name.clone(), error)),
        }
    }
    plan.stop = running.keys().filter(|name| !wanted.contains(name)).cloned().collect();
    plan
}

/// The local IPv4 address the kernel would use towards `remote` (in `vrf`, if any), for a
/// router ID of last resort.
fn local_v4_towards(remote: SocketAddr, vrf: Option<&str>) -> Option<Ipv4Addr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    if let Some(vrf) = vrf {
        socket2::SockRef::from(&socket).bind_device(Some(vrf.as_bytes())).ok()?;
    }
    socket.connect(remote).ok()?;
    match socket.local_addr().ok()?.ip() {
        IpAddr::V4(v4) if !v4.is_unspecified() => Some(v4),
        _ => None,
    }
}

fn peer_settings(peer: &Peer, node_addresses: &[IpAddr], restart_time: u16) -> Result<PeerSettings, SettingsError> {
    let settings = match PeerSettings::from_peer(peer, node_addresses, None) {
        Err(SettingsError::NoRouterId) => {
            let local = local_v4_towards(SocketAddr::new(peer.address, peer.port), peer.vrf.as_deref());
            PeerSettings::from_peer(peer, node_addresses, local)
        }
        other => other,
    };
    settings.map(|settings| settings.with_restart_time(restart_time))
}

/// The BFD sessions wanted: one per running BGP session whose peer has a BFD profile.
pub fn bfd_wanted<'a>(sessions: impl IntoIterator<Item = &'a String>, config: &Config) -> BTreeMap<String, BfdSpec> {
    sessions
        .into_iter()
        .filter_map(|name| Some((name.clone(), config.peers.get(name).and_then(BfdSpec::from_peer)?)))
        .collect()
}

/// Runs BGP mode (and BFD for the peers that ask for it) until `shutdown`.
pub async fn run(mut runtime: BgpRuntime, metrics: BgpMetrics, bfd_metrics: BfdMetrics) -> anyhow::Result<()> {
    let mut sessions: BTreeMap<String, SessionHandle> = BTreeMap::new();
    let (bfd, bfd_task) = BfdEngine::spawn(runtime.node.clone(), bfd_metrics, runtime.shutdown.clone());
    let mut reported_errors: BTreeMap<String, String> = BTreeMap::new();
    let (reports, status_task) = match runtime.client.clone() {
        Some(client) => {
            let (tx, rx) = mpsc::unbounded_channel::<SessionReport>();
            let task = tokio::spawn(status::run(
                client,
                runtime.node.clone(),
                runtime.owner.clone(),
                rx,
                runtime.decision.clone(),
            ));
            (Some(tx), Some(task))
        }
        None => (None, None),
    };
    let (mut config_open, mut decision_open) = (true, true);
    // Peers that had a session since the process started: the first one says it restarted.
    let mut started: BTreeSet<String> = BTreeSet::new();
    let restart_time = runtime.graceful_restart_time;
    loop {
        let config = runtime.config.borrow_and_update().clone();
        let decision = runtime.decision.borrow_and_update().clone();
        let running: BTreeMap<String, PeerSettings> =
            sessions.iter().map(|(name, handle)| (name.clone(), handle.settings.clone())).collect();
        let node_addresses = runtime.node_addresses.clone();
        let plan = plan(&running, &config, &decision, |peer| peer_settings(peer, &node_addresses, restart_time));
        for (name, error) in &plan.errors {
            let text = error.to_string();
            if reported_errors.get(name) != Some(&text) {
                tracing::warn!(peer = %name, error = %text, "no BGP session with this peer");
                reported_errors.insert(name.clone(), text);
            }
        }
        reported_errors.retain(|name, _| plan.errors.iter().any(|(n, _)| n == name));
        let mut stopping = Vec::new();
        for name in &plan.stop {
            if let Some(handle) = sessions.remove(name) {
                tracing::info!(peer = %name, "BGP peer no longer configured for this node: closing");
                metrics.forget(name, &runtime.node);
                stopping.push(handle.stop(Notification::cease(CeaseSubcode::PeerDeconfigured)));
            }
        }
        for (name, _) in &plan.restart {
            if let Some(handle) = sessions.remove(name) {
                tracing::info!(peer = %name, "BGP peer settings changed: resetting the session");
                stopping.push(handle.stop(Notification::cease(CeaseSubcode::OtherConfigurationChange)));
            }
        }
        futures::future::join_all(stopping).await;
        for (name, settings) in plan.start.into_iter().chain(plan.restart) {
            let context = SessionContext {
                peer: name.clone(),
                node: runtime.node.clone(),
                node_addresses: runtime.node_addresses.clone(),
                decision: runtime.decision.clone(),
                metrics: metrics.clone(),
                reports: reports.clone(),
                bfd: Some(bfd.status(&name)),
                restarted: started.insert(name.clone()),
            };
            sessions.insert(name, SessionHandle::spawn(settings, context));
        }
        bfd.set(bfd_wanted(sessions.keys(), &config));
        tokio::select! {
            changed = runtime.config.changed(), if config_open => config_open = changed.is_ok(),
            changed = runtime.decision.changed(), if decision_open => decision_open = changed.is_ok(),
            _ = runtime.shutdown.wait_for(|stop| *stop) => break,
        }
    }
    // In parallel: each session's farewell is bounded (see super::farewell), so the whole stop is.
    let stopping = std::mem::take(&mut sessions).into_values().map(SessionHandle::shutdown);
    futures::future::join_all(stopping).await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), bfd_task).await;
    drop(reports);
    if let Some(task) = status_task {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::settings::tests::peer as configured_peer;
    use std::time::Duration;

    fn peer(name: &str, hold: u64) -> Peer {
        Peer {
            name: name.into(),
            hold_time: Some(Duration::from_secs(hold)),
            router_id: Some(Ipv4Addr::new(192, 0, 2, 2)),
            ..configured_peer()
        }
    }

    fn config(peers: &[Peer]) -> Config {
        Config { peers: peers.iter().map(|p| (p.name.clone(), p.clone())).collect(), ..Config::default() }
    }

    fn decision(names: &[&str]) -> BgpDecision {
        BgpDecision { desired: names.iter().map(|n| (n.to_string(), BTreeMap::new())).collect(), ..Default::default() }
    }

    fn settings(p: &Peer) -> PeerSettings {
        PeerSettings::from_peer(p, &[], None).unwrap()
    }

    #[test]
    fn plan_starts_keeps_restarts_and_stops() {
        let (a, b, c) = (peer("a", 9), peer("b", 9), peer("c", 9));
        let running: BTreeMap<String, PeerSettings> =
            [("a".to_string(), settings(&a)), ("b".to_string(), settings(&b)), ("gone".to_string(), settings(&c))]
                .into();
        let b_changed = peer("b", 30);
        let mut bad = peer("bad", 9);
        bad.hold_time = Some(Duration::from_secs(1));
        let cfg = config(&[a.clone(), b_changed.clone(), c.clone(), bad]);
        // "missing" is in the decision but not in the configuration: no session.
        let got = plan(&running, &cfg, &decision(&["a", "b", "c", "bad", "missing"]), |p| {
            PeerSettings::from_peer(p, &[], None)
        });
        assert_eq!(got.start, vec![("c".to_string(), settings(&c))]);
        assert_eq!(got.restart, vec![("b".to_string(), settings(&b_changed))]);
        assert_eq!(got.stop, vec!["gone".to_string()]);
        assert_eq!(got.errors.len(), 1);
        assert_eq!(got.errors[0].0, "bad");
    }
}
