//! The task that runs every BFD session of this node: it reconciles the sessions with the peers
//! that want one, reads the listeners, demultiplexes each packet to its session (by our
//! discriminator, else by the sender's address), checks its TTL, and carries out what the state
//! machines say: packets to send, states to publish.
//!
//! The BGP runtime says which sessions it wants ([`BfdEngine::set`]); each peer's BGP session
//! follows its state on a watch channel ([`BfdEngine::status`]), None while the peer has no BFD.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use ferrolb_bfd::DropReason;
use ferrolb_bfd::demux::{Demux, Path, PeerKey};
use ferrolb_bfd::packet::{self, ControlPacket, State};
use ferrolb_bfd::session::{Action, Session};
use ferrolb_bfd::ttl::Hops;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use super::metrics::BfdMetrics;
use super::socket;
use super::spec::{BfdSpec, BfdStatus};

/// Datagrams queued between the listeners and the engine before new ones are dropped.
const QUEUE: usize = 1024;
/// Longer than any BFD control packet we accept (24 bytes without authentication).
const BUFFER: usize = 128;

type Statuses = Arc<Mutex<BTreeMap<String, watch::Sender<Option<BfdStatus>>>>>;

/// The handle of the BFD task.
#[derive(Clone)]
pub struct BfdEngine {
    wanted: mpsc::UnboundedSender<BTreeMap<String, BfdSpec>>,
    statuses: Statuses,
}

impl BfdEngine {
    /// Starts the task for `node`; it sends AdminDown on every session and ends at `shutdown`.
    pub fn spawn(node: String, metrics: BfdMetrics, shutdown: watch::Receiver<bool>) -> (BfdEngine, JoinHandle<()>) {
        let (wanted, wanted_rx) = mpsc::unbounded_channel();
        let statuses = Statuses::default();
        let (datagrams, datagrams_rx) = mpsc::channel(QUEUE);
        let engine = Engine {
            node,
            metrics,
            statuses: statuses.clone(),
            sessions: BTreeMap::new(),
            demux: Demux::new(seed()),
            listeners: BTreeMap::new(),
            datagrams,
        };
        let task = tokio::spawn(engine.run(wanted_rx, datagrams_rx, shutdown).in_current_span());
        (BfdEngine { wanted, statuses }, task)
    }

    /// The state of `peer`'s session, None while it has none. The channel lives as long as the
    /// engine, so a BGP session started before its BFD session still hears of it.
    pub fn status(&self, peer: &str) -> watch::Receiver<Option<BfdStatus>> {
        let mut statuses = self.statuses.lock().unwrap_or_else(PoisonError::into_inner);
        statuses.entry(peer.to_owned()).or_insert_with(|| watch::channel(None).0).subscribe()
    }

    /// The sessions to run, by peer: others stop (with AdminDown), changed ones adapt.
    pub fn set(&self, wanted: BTreeMap<String, BfdSpec>) {
        let _ = self.wanted.send(wanted);
    }
}

/// A per-process random seed (for discriminators, jitter and source ports).
fn seed() -> u64 {
    RandomState::new().hash_one(std::process::id())
}

/// Which listener a datagram came in on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ListenerKey {
    v6: bool,
    port: u16,
    vrf: Option<String>,
}

struct Datagram {
    listener: ListenerKey,
    bytes: [u8; BUFFER],
    received: socket::Received,
}

/// How the demultiplexer knows a session's peer: its address, and for single hop the VRF's
/// interface index (0 outside any VRF: the listeners are per VRF, so a packet's VRF is known,
/// not its interface); for multihop no local address (the listeners do not report the
/// destination), so two multihop sessions to one address in two VRFs cannot both run.
fn peer_key(remote: IpAddr, hops: Hops, vrf_index: u32) -> PeerKey {
    let path = match hops {
        Hops::Single => Path::SingleHop { interface: vrf_index },
        Hops::Multi { .. } => Path::MultiHop {
            local: if remote.is_ipv6() { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) },
        },
    };
    PeerKey { peer: remote, path }
}

/// The interface index of VRF device `vrf`; 0 for none (or one that does not exist: its
/// sockets fail to bind anyway).
fn vrf_index(vrf: Option<&str>) -> u32 {
    vrf.and_then(|name| nix::net::if_::if_nametoindex(name).ok()).unwrap_or(0)
}

struct Running {
    spec: BfdSpec,
    discriminator: u32,
    session: Session,
    /// Up -> Down transitions not caused by the router's AdminDown.
    failures: u64,
    sender: UdpSocket,
    published: Option<BfdStatus>,
}

struct Engine {
    node: String,
    metrics: BfdMetrics,
    statuses: Statuses,
    sessions: BTreeMap<String, Running>,
    demux: Demux<String>,
    listeners: BTreeMap<ListenerKey, JoinHandle<()>>,
    datagrams: mpsc::Sender<Datagram>,
}

impl Engine {
    async fn run(
        mut self,
        mut wanted: mpsc::UnboundedReceiver<BTreeMap<String, BfdSpec>>,
        mut datagrams: mpsc::Receiver<Datagram>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let deadline = self.sessions.values().filter_map(|r| r.session.next_deadline()).min();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                next = wanted.recv() => match next {
                    Some(next) => self.reconcile(next),
                    None => break,
                },
                Some(datagram) = datagrams.recv() => self.receive(&datagram),
                () = sleep => self.tick(),
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        self.reconcile(BTreeMap::new());
    }

    fn reconcile(&mut self, wanted: BTreeMap<String, BfdSpec>) {
        let now = std::time::Instant::now();
        let gone: Vec<String> = self
            .sessions
            .iter()
            .filter(|(name, running)| wanted.get(*name).is_none_or(|spec| !spec.same_path(&running.spec)))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.stop(&name, now);
        }
        for (name, spec) in wanted {
            if let Some(running) = self.sessions.get_mut(&name) {
                if running.spec != spec {
                    tracing::info!(peer = %name, "BFD parameters changed: starting a poll sequence");
                    match running.session.set_config(now, spec.config) {
                        Ok(actions) => {
                            running.spec = spec;
                            self.act(&name, actions);
                        }
                        Err(error) => tracing::warn!(peer = %name, %error, "BFD parameters refused; keeping the old"),
                    }
                }
                continue;
            }
            self.start(name, spec, now);
        }
        self.reconcile_listeners();
    }

    fn start(&mut self, name: String, spec: BfdSpec, now: std::time::Instant) {
        let key = peer_key(spec.remote, spec.hops, vrf_index(spec.vrf.as_deref()));
        let discriminator = match self.demux.insert(key, name.clone()) {
            Ok(discriminator) => discriminator,
            Err(error) => {
                tracing::warn!(peer = %name, %error, "no BFD with this peer: another BGPPeer has the same address");
                return;
            }
        };
        let first = u16::try_from(seed() % 16_384).unwrap_or(0) + 49_152;
        let started = socket::sender(spec.local, spec.remote, spec.vrf.as_deref(), first)
            .map_err(|e| e.to_string())
            .and_then(|sender| {
                Ok((sender, Session::new(discriminator, spec.config, now, seed()).map_err(|e| e.to_string())?))
            });
        let (sender, mut session) = match started {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(peer = %name, %error, "cannot start BFD with this peer");
                self.demux.remove(discriminator);
                return;
            }
        };
        tracing::info!(peer = %name, remote = %spec.remote, hops = ?spec.hops, "BFD session starting");
        let first = session.on_timer(now);
        self.sessions
            .insert(name.clone(), Running { spec, discriminator, session, sender, failures: 0, published: None });
        self.metrics.session_up(&name, &self.node, false);
        self.act(&name, first);
    }

    fn stop(&mut self, name: &str, now: std::time::Instant) {
        let Some(mut running) = self.sessions.remove(name) else { return };
        tracing::info!(peer = %name, "BFD session stopping (AdminDown)");
        for action in running.session.admin_down(now) {
            if let Action::Send(packet) = action {
                send(&running, &packet);
            }
        }
        self.demux.remove(running.discriminator);
        self.metrics.forget(name, &self.node);
        if let Some(status) = self.statuses.lock().unwrap_or_else(PoisonError::into_inner).get(name) {
            status.send_replace(None);
        }
    }

    /// One listener per family, port and VRF that some session uses; others close.
    fn reconcile_listeners(&mut self) {
        let needed: BTreeSet<ListenerKey> = self
            .sessions
            .values()
            .map(|r| ListenerKey { v6: r.spec.remote.is_ipv6(), port: r.spec.hops.port(), vrf: r.spec.vrf.clone() })
            .collect();
        self.listeners.retain(|key, task| {
            let keep = needed.contains(key);
            if !keep {
                task.abort();
            }
            keep
        });
        for key in needed {
            if self.listeners.contains_key(&key) {
                continue;
            }
            match socket::listener(key.v6, key.port, key.vrf.as_deref()) {
                Ok(listener) => {
                    let task = tokio::spawn(listen(listener, key.clone(), self.datagrams.clone()).in_current_span());
                    self.listeners.insert(key, task);
                }
                Err(error) => {
                    tracing::warn!(port = key.port, v6 = key.v6, vrf = ?key.vrf, %error, "cannot listen for BFD")
                }
            }
        }
    }

    fn receive(&mut self, datagram: &Datagram) {
        let bytes = datagram.bytes.get(..datagram.received.len).unwrap_or_default();
        let packet = match packet::decode(bytes) {
            Ok(packet) => packet,
            Err(reason) => return self.drop_packet(reason, datagram),
        };
        let from = datagram.received.from.ip();
        let hops = if datagram.listener.port == ferrolb_bfd::ttl::PORT_MULTI_HOP {
            Hops::Multi { minimum_ttl: u8::MAX }
        } else {
            Hops::Single
        };
        let key = peer_key(from, hops, vrf_index(datagram.listener.vrf.as_deref()));
        let name = match self.demux.lookup(&packet, &key) {
            Ok(name) => name.clone(),
            Err(reason) => return self.drop_packet(reason, datagram),
        };
        let Some(running) = self.sessions.get_mut(&name) else {
            return self.drop_packet(DropReason::UnknownDiscriminator, datagram);
        };
        let path_ok = running.spec.hops.port() == datagram.listener.port
            && running.spec.vrf == datagram.listener.vrf
            && running.spec.remote == from;
        if !path_ok {
            return self.drop_packet(DropReason::UnknownPeer, datagram);
        }
        if !datagram.received.ttl.is_some_and(|ttl| running.spec.hops.accepts_ttl(ttl)) {
            return self.drop_packet(DropReason::Ttl, datagram);
        }
        match running.session.on_packet(std::time::Instant::now(), &packet) {
            Ok(actions) => {
                self.metrics.received(&name, &self.node);
                self.act(&name, actions);
            }
            Err(reason) => self.drop_packet(reason, datagram),
        }
    }

    fn drop_packet(&self, reason: DropReason, datagram: &Datagram) {
        tracing::debug!(from = %datagram.received.from, ttl = ?datagram.received.ttl, reason = reason.as_str(), "BFD packet dropped");
        self.metrics.dropped(reason.as_str());
    }

    fn tick(&mut self) {
        let now = std::time::Instant::now();
        let due: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, running)| running.session.next_deadline().is_some_and(|at| at <= now))
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            if let Some(running) = self.sessions.get_mut(&name) {
                let actions = running.session.on_timer(now);
                self.act(&name, actions);
            }
        }
    }

    fn act(&mut self, name: &str, actions: Vec<Action>) {
        let Some(running) = self.sessions.get_mut(name) else { return };
        for action in actions {
            match action {
                Action::Send(packet) => {
                    if send(running, &packet) {
                        self.metrics.sent(name, &self.node);
                    }
                }
                Action::StateChanged { from, to, diag } => {
                    tracing::info!(peer = %name, ?from, ?to, ?diag, "BFD session state changed");
                    self.metrics.session_up(name, &self.node, to == State::Up);
                    if from == State::Up && to != State::Up {
                        self.metrics.went_down(name, &self.node);
                        if running.session.remote_state() != State::AdminDown {
                            running.failures += 1;
                        }
                    }
                }
            }
        }
        self.publish(name);
    }

    /// Publishes the session's state when it differs from what was published.
    fn publish(&mut self, name: &str) {
        let Some(running) = self.sessions.get_mut(name) else { return };
        let status = BfdStatus::of(&running.session, running.failures);
        if running.published.as_ref() == Some(&status) {
            return;
        }
        running.published = Some(status.clone());
        let mut statuses = self.statuses.lock().unwrap_or_else(PoisonError::into_inner);
        statuses.entry(name.to_owned()).or_insert_with(|| watch::channel(None).0).send_replace(Some(status));
    }
}

/// Sends `packet` to the session's peer; false when the kernel would not take it.
fn send(running: &Running, packet: &ControlPacket) -> bool {
    let to = SocketAddr::new(running.spec.remote, running.spec.hops.port());
    match running.sender.try_send_to(&packet.encode(), to) {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(remote = %to, %error, "BFD packet not sent");
            false
        }
    }
}

/// Reads `listener` and queues what arrives (dropping when the engine is behind).
async fn listen(listener: UdpSocket, key: ListenerKey, datagrams: mpsc::Sender<Datagram>) {
    let mut bytes = [0u8; BUFFER];
    loop {
        match socket::receive(&listener, &mut bytes).await {
            Ok(received) => {
                let datagram = Datagram { listener: key.clone(), bytes, received };
                if datagrams.try_send(datagram).is_err() && datagrams.is_closed() {
                    return;
                }
            }
            Err(error) => {
                tracing::debug!(port = key.port, %error, "BFD receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}
