//! The UDP edge of the failure detector: sends heartbeats, receives them, and publishes the view.
//!
//! One tokio task owns the socket, the send interval and the table's deadline timer. It decides
//! nothing itself: [`super::wire`] authenticates, [`super::table`] judges, and this task carries
//! datagrams and instants between them and publishes the [`MemberView`] on a `watch` channel.
//!
//! A member is identified by the node name inside its authenticated heartbeat, not by the source
//! address: a node with several addresses may send from another one than its InternalIP.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::counters::{Counters, RejectReason};
use super::table::{Change, Table, TableConfig};
use super::wire::{self, BootId, EncodeError, Heartbeat, KeyRing, MAX_DATAGRAM_LEN, Standing};

/// The UDP port speakers listen on unless configured otherwise (memberlist's, as MetalLB uses).
pub const DEFAULT_PORT: u16 = 7946;
/// How often a heartbeat goes to every member unless configured otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// The longest [`Prober::depart`] waits for its last round to be sent.
const FAREWELL_WAIT: Duration = Duration::from_millis(100);

/// How a prober runs.
#[derive(Clone, Debug)]
pub struct ProberConfig {
    /// This node's name, as the other speakers know it.
    pub node: String,
    /// Where to listen, e.g. `0.0.0.0:7946` or this node's InternalIP and [`DEFAULT_PORT`].
    pub bind: SocketAddr,
    /// This process's incarnation: a random number drawn at process start.
    pub boot: BootId,
    /// Time between two heartbeats to every member.
    pub interval: Duration,
    /// Failure detector timing.
    pub table: TableConfig,
}

impl ProberConfig {
    /// A configuration with the default interval (100 ms), silence (300 ms) and freshness window (5 s).
    pub fn new(node: impl Into<String>, bind: SocketAddr, boot: BootId) -> Self {
        Self { node: node.into(), bind, boot, interval: DEFAULT_INTERVAL, table: TableConfig::default() }
    }
}

/// Another speaker: its node name and where its prober listens.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// Its Kubernetes node name.
    pub node: String,
    /// Its InternalIP and prober port.
    pub addr: SocketAddr,
}

impl<N: Into<String>> From<(N, SocketAddr)> for Member {
    fn from((node, addr): (N, SocketAddr)) -> Self {
        Self { node: node.into(), addr }
    }
}

/// What the prober currently believes, published on every change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberView {
    /// This node's name.
    pub me: String,
    /// Alive members, this node always included; members stepping down are left out.
    pub alive: BTreeSet<String>,
    /// Members heard lately whatever their standing (stepping down or leaving too), this node
    /// included: the running speakers.
    pub heard: BTreeSet<String>,
    /// Whether this node may take part; `false` means isolated or link down: step down.
    pub healthy: bool,
    /// Incremented on every published change, starting at 0.
    pub generation: u64,
    /// When this view was published.
    pub changed_at: Instant,
}

impl MemberView {
    /// The nodes that may own addresses: [`MemberView::alive`], without this node while unhealthy.
    pub fn eligible(&self) -> BTreeSet<String> {
        let mut nodes = self.alive.clone();
        if !self.healthy {
            nodes.remove(&self.me);
        }
        nodes
    }
}

/// Why a prober could not start.
#[derive(Debug, Error)]
pub enum ProberError {
    /// The UDP socket could not be bound.
    #[error("cannot listen for member heartbeats on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: io::Error,
    },
    /// The interval is zero, or a member would be declared dead before its next heartbeat is due.
    #[error("heartbeat interval {interval:?} must be non-zero and shorter than suspect_after {suspect_after:?}")]
    Timing {
        /// The configured heartbeat interval.
        interval: Duration,
        /// The configured silence before a member is dead.
        suspect_after: Duration,
    },
    /// This node's name cannot be put in a heartbeat.
    #[error("this node's name cannot be sent in heartbeats: {0}")]
    NodeName(#[from] EncodeError),
}

/// A running prober. Dropping it stops the task and closes the socket.
#[derive(Debug)]
pub struct Prober {
    view: watch::Receiver<MemberView>,
    members: watch::Sender<Vec<Member>>,
    keys: watch::Sender<KeyRing>,
    link_up: watch::Sender<bool>,
    leaving: watch::Sender<bool>,
    /// Taken by [`Prober::depart`] and [`Prober::restart`]: the standing of the last round.
    depart: Option<oneshot::Sender<Standing>>,
    counters: Arc<Counters>,
    local_addr: SocketAddr,
    /// Taken by [`Prober::stop`].
    task: Option<JoinHandle<()>>,
}

impl Prober {
    /// Binds the socket and starts heartbeating to `members` (this node may be among them; it is
    /// skipped). Must be called within a tokio runtime.
    pub async fn start(
        config: ProberConfig,
        keys: KeyRing,
        members: impl IntoIterator<Item = Member>,
    ) -> Result<Self, ProberError> {
        let probe = Heartbeat {
            node: config.node.clone(),
            boot: config.boot,
            seq: 0,
            sent_at_ms: 0,
            standing: Standing::Member,
            reads_reports: true,
            report: None,
        };
        wire::encode(&probe, &keys)?;
        let (interval, suspect_after) = (config.interval, config.table.suspect_after);
        if interval.is_zero() || suspect_after <= interval {
            return Err(ProberError::Timing { interval, suspect_after });
        }
        let socket =
            UdpSocket::bind(config.bind).await.map_err(|source| ProberError::Bind { addr: config.bind, source })?;
        let local_addr = socket.local_addr().map_err(|source| ProberError::Bind { addr: config.bind, source })?;
        let now = Instant::now();
        let table = Table::new(config.node.clone(), config.table, now);
        let initial = MemberView {
            me: config.node.clone(),
            alive: table.alive(),
            heard: table.heard(),
            healthy: table.healthy(),
            generation: 0,
            changed_at: now,
        };
        let (view_tx, view) = watch::channel(initial);
        let (members_tx, members_rx) = watch::channel(members.into_iter().collect::<Vec<_>>());
        let (keys_tx, keys_rx) = watch::channel(keys);
        let (link_tx, link_rx) = watch::channel(true);
        let (leaving_tx, leaving_rx) = watch::channel(false);
        let (depart_tx, depart_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        counters.members_alive.store(1, Ordering::Relaxed);
        let runner = Runner {
            config,
            socket,
            table,
            addrs: BTreeMap::new(),
            seq: 0,
            view: view_tx,
            members: members_rx,
            keys: keys_rx,
            link_up: link_rx,
            leaving: leaving_rx,
            depart: depart_rx,
            departing: None,
            resend: false,
            counters: Arc::clone(&counters),
        };
        let task = tokio::spawn(runner.run());
        Ok(Self {
            view,
            members: members_tx,
            keys: keys_tx,
            link_up: link_tx,
            leaving: leaving_tx,
            depart: Some(depart_tx),
            counters,
            local_addr,
            task: Some(task),
        })
    }

    /// A receiver of the current view; `changed()` wakes on every published change.
    pub fn view(&self) -> watch::Receiver<MemberView> {
        self.view.clone()
    }

    /// Replaces the member list (e.g. after a Node was added, removed, or changed its InternalIP).
    pub fn set_members(&self, members: impl IntoIterator<Item = Member>) {
        self.members.send_replace(members.into_iter().collect());
    }

    /// Replaces the keys (after the Secret changed): the first signs, all verify.
    pub fn set_keys(&self, keys: KeyRing) {
        self.keys.send_replace(keys);
    }

    /// Reports whether this node's node-network link is up; while down, this node is unhealthy.
    pub fn set_link_up(&self, up: bool) {
        self.link_up.send_replace(up);
    }

    /// Reports whether this node is leaving on purpose (its speaker stops, or its Node is excluded).
    /// A change is sent to every member at once, not on the next round, so they re-rank without
    /// this node (or with it again) without waiting for the interval.
    pub fn set_leaving(&self, leaving: bool) {
        self.leaving.send_if_modified(|current| {
            let changed = *current != leaving;
            *current = leaving;
            changed
        });
    }

    /// The counters, shared with the running task.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The address the socket is bound to (useful when binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends every member a last heartbeat flagged leaving, then stops like [`Prober::stop`]: a planned
    /// departure, which the others neither wait `suspect_after` for nor count as a failure. Waits at most
    /// `FAREWELL_WAIT` for that round to go out.
    pub async fn depart(self) {
        self.farewell(Standing::Leaving).await;
    }

    /// Sends every member a last heartbeat flagged restarting, then stops like [`Prober::stop`]: this
    /// node keeps its addresses, and the others keep it as an owner for their restart window, until
    /// its next process speaks. Waits at most `FAREWELL_WAIT` for that round to go out.
    pub async fn restart(self) {
        self.farewell(Standing::Restarting).await;
    }

    async fn farewell(mut self, standing: Standing) {
        if let Some(depart) = self.depart.take()
            && depart.send(standing).is_ok()
            && let Some(mut task) = self.task.take()
        {
            // The task ends by itself once the round is sent; if it does not in time, stop it.
            if tokio::time::timeout(FAREWELL_WAIT, &mut task).await.is_err() {
                self.task = Some(task);
            }
        }
        self.stop().await;
    }

    /// Stops the task and waits until the socket is closed, so the port can be bound again.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            // A cancelled task's future, socket included, is dropped before its handle resolves.
            let _ = task.await;
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The prober task's state.
struct Runner {
    config: ProberConfig,
    socket: UdpSocket,
    table: Table,
    addrs: BTreeMap<String, SocketAddr>,
    seq: u64,
    view: watch::Sender<MemberView>,
    members: watch::Receiver<Vec<Member>>,
    keys: watch::Receiver<KeyRing>,
    link_up: watch::Receiver<bool>,
    leaving: watch::Receiver<bool>,
    depart: oneshot::Receiver<Standing>,
    /// The standing of the last round, sent before a planned stop.
    departing: Option<Standing>,
    /// A change altered this node's report or standing: send a round now, not at the next tick, so
    /// a member the others stopped hearing learns it at once.
    resend: bool,
    counters: Arc<Counters>,
}

impl Runner {
    async fn run(mut self) {
        self.apply_members();
        let mut send = tokio::time::interval(self.config.interval);
        send.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // One byte more than the largest heartbeat, so an oversized datagram shows as malformed.
        let mut buf = [0u8; MAX_DATAGRAM_LEN + 1];
        loop {
            let deadline = self.table.next_deadline().unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = send.tick() => self.send_round().await,
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((len, from)) => self.on_datagram(buf.get(..len).unwrap_or_default(), from),
                    Err(err) => {
                        self.counters.receive_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(error = %err, "receiving a member heartbeat failed");
                        // A persistent socket error must not spin this task on the node's CPUs.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                },
                () = tokio::time::sleep_until(deadline.into()) => {
                    let changes = self.table.tick(Instant::now());
                    self.publish(changes);
                }
                changed = self.members.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.apply_members();
                }
                changed = self.link_up.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let up = *self.link_up.borrow_and_update();
                    let changes = self.table.set_link_up(up, Instant::now());
                    self.publish(changes);
                }
                departing = &mut self.depart => {
                    if let Ok(standing) = departing {
                        self.departing = Some(standing);
                        self.send_round().await;
                    }
                    return;
                }
                changed = self.leaving.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.leaving.borrow_and_update();
                    self.send_round().await;
                }
                changed = self.keys.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.keys.borrow_and_update();
                }
            }
            if std::mem::take(&mut self.resend) {
                self.send_round().await;
            }
        }
    }

    fn apply_members(&mut self) {
        let members = self.members.borrow_and_update().clone();
        self.addrs = members.into_iter().filter(|m| m.node != self.config.node).map(|m| (m.node, m.addr)).collect();
        let changes = self.table.set_members(self.addrs.keys().cloned(), Instant::now());
        self.publish(changes);
    }

    async fn send_round(&mut self) {
        self.seq = self.seq.saturating_add(1);
        let beat = Heartbeat {
            node: self.config.node.clone(),
            boot: self.config.boot,
            seq: self.seq,
            sent_at_ms: unix_ms(),
            reads_reports: true,
            report: None,
            standing: match (self.table.healthy(), self.departing, *self.leaving.borrow()) {
                (false, _, _) => Standing::SteppingDown,
                (true, Some(last), _) => last,
                (true, None, true) => Standing::Leaving,
                (true, None, false) => Standing::Member,
            },
        };
        // Version 2 (with this node's report) to every member that reads it, version 1 to the others.
        let plain = Heartbeat { reads_reports: true, report: None, ..beat };
        let reporting = Heartbeat { report: Some(self.table.report(Instant::now())), ..plain.clone() };
        let encoded = {
            let keys = self.keys.borrow();
            wire::encode(&plain, &keys).and_then(|v1| Ok((v1, wire::encode(&reporting, &keys)?)))
        };
        let (v1, v2) = match encoded {
            Ok(both) => both,
            Err(err) => {
                // The name is checked at start and the report built from at most the member list,
                // so only reachable with more than MAX_MEMBERS members.
                tracing::error!(error = %err, "cannot encode a heartbeat");
                return;
            }
        };
        for (name, addr) in &self.addrs {
            let datagram = if self.table.reads_reports(name) { &v2 } else { &v1 };
            match self.socket.send_to(datagram, addr).await {
                Ok(_) => self.counters.heartbeats_sent.fetch_add(1, Ordering::Relaxed),
                Err(_) => self.counters.send_errors.fetch_add(1, Ordering::Relaxed),
            };
        }
    }

    fn on_datagram(&mut self, datagram: &[u8], from: SocketAddr) {
        let decoded = wire::decode(datagram, &self.keys.borrow());
        let beat = match decoded {
            Ok(beat) => beat,
            Err(err) => {
                self.counters.reject(RejectReason::from(&err));
                tracing::debug!(%from, error = %err, "dropped a member datagram");
                return;
            }
        };
        match self.table.on_heartbeat(&beat, Instant::now(), unix_ms()) {
            Ok(changes) => {
                self.counters.heartbeats_accepted.fetch_add(1, Ordering::Relaxed);
                self.publish(changes);
            }
            Err(rejection) => {
                self.counters.reject(RejectReason::from(&rejection));
                tracing::debug!(%from, error = %rejection, "dropped a member heartbeat");
            }
        }
    }

    fn publish(&mut self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        // Every change but a vouch alters what the next heartbeat says (a report bit or our standing).
        self.resend |= changes.iter().any(|c| !matches!(c, Change::Vouched(_) | Change::Unvouched(_)));
        for change in &changes {
            match change {
                Change::Dead(node) => {
                    self.counters.failures_detected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%node, "member stopped answering");
                }
                Change::Alive(node) => tracing::info!(%node, "member alive"),
                Change::SteppedDown(node) => tracing::warn!(%node, "member reports itself isolated"),
                Change::Leaving(node) => tracing::info!(%node, "member is leaving (planned)"),
                Change::Departed(node) => tracing::info!(%node, "member departed as announced"),
                Change::Restarting(node) => tracing::info!(%node, "member restarts: keeping its addresses with it"),
                Change::Removed(node) => tracing::info!(%node, "member removed"),
                Change::Healthy(true) => tracing::info!("this node hears its members again"),
                Change::Vouched(node) => {
                    tracing::info!(%node, "member not heard here but heard alive by others: keeping it alive");
                }
                Change::Unvouched(node) => tracing::warn!(%node, "member no longer heard by anyone alive"),
                Change::Healthy(false) if self.table.unheard() => {
                    self.counters.unheard.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("the members this node hears do not hear it: stepping down");
                }
                Change::Healthy(false) => tracing::warn!("this node is isolated: stepping down"),
            }
        }
        let alive = self.table.alive();
        let heard = self.table.heard();
        let healthy = self.table.healthy();
        self.counters.members_alive.store(u64::try_from(alive.len()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.view.send_if_modified(|view| {
            if view.alive == alive && view.heard == heard && view.healthy == healthy {
                return false;
            }
            view.alive = alive;
            view.heard = heard;
            view.healthy = healthy;
            view.generation = view.generation.saturating_add(1);
            view.changed_at = Instant::now();
            true
        });
    }
}

/// Our clock as Unix milliseconds (0 if it reads before 1970).
fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
