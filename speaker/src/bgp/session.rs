//! One BGP session's I/O: a tokio task per peer that dials, runs the state machine, reads and
//! writes messages and keeps the peer's routes in step with the announcer's decision.
//!
//! Decides nothing itself: the FSM decides transitions and timers, [`super::glue`] what bytes
//! mean, [`ferrolb_bgp::adj_out`] what to send. This file carries out their actions: TCP connect
//! (source address, TTL, MD5), writes, reads with the streaming decoder, and the timers, which the
//! task owns ([`super::timers`]) and arms and stops exactly as the FSM's actions say. When the
//! speaker stops, it leaves as [`super::farewell`] decides.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use ferrolb_bgp::adj_out::{AdjOut, PathContext, Routes, SyncStats};
use ferrolb_bgp::codec::{self, Family, Message, decode};
use ferrolb_bgp::fsm::{Action, DownReason, Event, Session, State};
use ferrolb_bgp::notification::{CeaseSubcode, Notification};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

use super::farewell::{Farewell, farewell};
use super::glue;
use super::metrics::BgpMetrics;
use super::report::SessionReport;
use super::settings::PeerSettings;
use super::timers::Timers;
use super::unnumbered::{self, Discovery, known_router};
use crate::announcer::BgpDecision;
use crate::bfd::spec::BfdStatus;
use crate::rawsock::tcp_md5::set_tcp_md5;

/// What a running session needs besides its settings.
pub(crate) struct SessionContext {
    /// The peer's name (key of the decision's desired map).
    pub peer: String,
    /// This node's name, for metric labels.
    pub node: String,
    /// This node's addresses, for next hops.
    pub node_addresses: Vec<IpAddr>,
    /// The announcer's decision.
    pub decision: watch::Receiver<Arc<BgpDecision>>,
    /// Metrics.
    pub metrics: BgpMetrics,
    /// Where session state changes go (for status); None: nowhere.
    pub reports: Option<mpsc::UnboundedSender<SessionReport>>,
    /// The peer's BFD state (None inside: the peer has no BFD); None: never any BFD.
    pub bfd: Option<watch::Receiver<Option<BfdStatus>>>,
    /// This is the peer's first session since the speaker process started: its OPENs carry the
    /// graceful restart Restart State flag until it is Established.
    pub restarted: bool,
}

/// Why a session is asked to stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The configuration changed: close with this Cease at once.
    Cease(Notification),
    /// The speaker is stopping: leave as [`farewell`] decides (graceful restart, or withdraw
    /// first and then Cease 6/2).
    Shutdown,
}

/// A running session: dropping it does not stop the task; call [`SessionHandle::stop`].
pub(crate) struct SessionHandle {
    /// The settings it runs with.
    pub settings: PeerSettings,
    stop: Option<oneshot::Sender<Stop>>,
    task: tokio::task::JoinHandle<()>,
}

impl SessionHandle {
    /// Starts the session task.
    pub fn spawn(settings: PeerSettings, context: SessionContext) -> SessionHandle {
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(Runner::new(settings.clone(), context).run(stop_rx));
        SessionHandle { settings, stop: Some(stop_tx), task }
    }

    /// Asks the session to close with `cease` (sent if a connection is open) and waits for it.
    pub async fn stop(self, cease: Notification) {
        self.end(Stop::Cease(cease)).await;
    }

    /// The speaker is stopping: asks the session to leave as [`farewell`] decides, and waits.
    pub async fn shutdown(self) {
        self.end(Stop::Shutdown).await;
    }

    async fn end(mut self, why: Stop) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(why);
        }
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

/// How often a session whose VRF does not exist looks for it again.
const VRF_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

type Connecting = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

struct Runner {
    settings: PeerSettings,
    context: SessionContext,
    conn: Option<TcpStream>,
    connecting: Option<Connecting>,
    input: Vec<u8>,
    adj_out: AdjOut,
    path: Option<PathContext>,
    /// The timers the FSM armed.
    timers: Timers,
    /// The Cease to send instead of 6/2 when stopping.
    stopping: Option<Notification>,
    pending: VecDeque<Event>,
    /// The peer sent a ROUTE-REFRESH in Established.
    refresh_requested: bool,
    /// BFD: the session is closed because BFD went Down, until it is Up again.
    held_by_bfd: bool,
    /// BFD failures seen so far (see [`BfdStatus::failures`]).
    bfd_failures: u64,
    /// The last session state reported: established, reason, message (without BFD's part).
    reported: Option<(bool, String, String)>,
    /// BGP unnumbered: router discovery on the peer's interface, for as long as the session runs.
    discovery: Option<Discovery>,
}

/// Opens the TCP connection to `remote` as the settings say: VRF, TTL, MD5 key, source address.
async fn connect(settings: PeerSettings, remote: SocketAddr) -> io::Result<TcpStream> {
    let socket = if remote.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    let sock = socket2::SockRef::from(&socket);
    if let Some(vrf) = &settings.vrf {
        // In the VRF: the route to the peer and the source address come from its table.
        sock.bind_device(Some(vrf.as_bytes()))?;
    }
    if remote.is_ipv4() {
        sock.set_ttl_v4(settings.ttl)?;
        // Internetwork control (CS6), as routers mark BGP.
        sock.set_tos_v4(0xc0)?;
    } else {
        sock.set_unicast_hops_v6(settings.ttl)?;
    }
    if let Some(password) = &settings.password {
        set_tcp_md5(socket.as_fd(), remote.ip(), password.as_bytes())?;
    }
    if let Some(source) = settings.source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(remote).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn read_some(conn: &mut Option<TcpStream>, buf: &mut Vec<u8>) -> io::Result<usize> {
    match conn {
        Some(stream) => stream.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

async fn bfd_changed(bfd: &mut Option<watch::Receiver<Option<BfdStatus>>>) -> bool {
    match bfd {
        Some(bfd) => bfd.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

async fn connected(connecting: &mut Option<Connecting>) -> io::Result<TcpStream> {
    match connecting {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

impl Runner {
    fn new(settings: PeerSettings, context: SessionContext) -> Runner {
        Runner {
            settings,
            context,
            conn: None,
            connecting: None,
            input: Vec::with_capacity(codec::MAX_MESSAGE_LEN * 2),
            adj_out: AdjOut::default(),
            path: None,
            timers: Timers::default(),
            stopping: None,
            pending: VecDeque::new(),
            refresh_requested: false,
            held_by_bfd: false,
            bfd_failures: 0,
            reported: None,
            discovery: None,
        }
    }

    async fn run(mut self, mut stop: oneshot::Receiver<Stop>) {
        let mut fsm = match Session::new(self.settings.session.clone()) {
            Ok(fsm) => fsm,
            Err(error) => {
                tracing::error!(peer = %self.context.peer, %error, "BGP session cannot start");
                return;
            }
        };
        self.metrics_up(false);
        if let Some(vrf) = self.settings.vrf.clone()
            && !self.wait_for_vrf(&vrf, &mut stop).await
        {
            return;
        }
        if let Some(interface) = self.settings.interface.clone() {
            self.discovery = Some(Discovery::spawn(interface, self.context.peer.clone()));
        }
        // A session (re)started while BFD is down after a failure starts held.
        if !self.on_bfd() {
            self.pending.push_back(Event::ManualStart);
        }
        let mut stop_open = true;
        let mut decision_open = true;
        loop {
            while let Some(event) = self.pending.pop_front() {
                let actions = fsm.step(Instant::now(), event);
                for action in actions {
                    self.act(action).await;
                }
            }
            if std::mem::take(&mut self.refresh_requested)
                && let Some(path) = self.path.clone()
            {
                let mut out = Vec::new();
                let stats = self.adj_out.resend(&path, &mut out);
                self.flush_updates(stats, &out).await;
                continue;
            }
            if self.stopping.is_some() && fsm.state() == State::Idle {
                return;
            }
            tokio::select! {
                timer = self.timers.expired() => self.pending.push_back(timer.expiry_event()),
                result = connected(&mut self.connecting) => {
                    self.connecting = None;
                    match result {
                        Ok(stream) => {
                            self.conn = Some(stream);
                            self.input.clear();
                            self.pending.push_back(Event::TcpCrAcked);
                        }
                        Err(error) => {
                            tracing::debug!(peer = %self.context.peer, %error, "BGP connect failed");
                            self.pending.push_back(Event::TcpConnectionFails);
                        }
                    }
                }
                result = read_some(&mut self.conn, &mut self.input) => match result {
                    Ok(0) | Err(_) => {
                        self.conn = None;
                        self.pending.push_back(Event::TcpConnectionFails);
                    }
                    Ok(_) => self.decode_input(fsm.state()),
                },
                changed = self.context.decision.changed(), if decision_open => {
                    if changed.is_err() {
                        decision_open = false;
                    } else if fsm.state() == State::Established {
                        self.sync().await;
                    }
                }
                open = bfd_changed(&mut self.context.bfd) => {
                    if open {
                        self.on_bfd();
                    } else {
                        self.context.bfd = None;
                    }
                }
                why = &mut stop, if stop_open => {
                    stop_open = false;
                    let cease = match why.unwrap_or_else(|_| Stop::Cease(Notification::administrative_shutdown())) {
                        Stop::Cease(cease) => cease,
                        Stop::Shutdown => {
                            let established = fsm.negotiated().filter(|_| fsm.state() == State::Established);
                            match farewell(established, self.adj_out.sent().len()) {
                                Farewell::Restart => return self.leave_for_restart().await,
                                Farewell::WithdrawThenCease { grace } => self.withdraw_all(grace).await,
                                Farewell::Cease => {}
                            }
                            Notification::administrative_shutdown()
                        }
                    };
                    self.stopping = Some(cease);
                    self.pending.push_back(Event::ManualStop);
                }
            }
        }
    }

    /// Follows BFD: a failure (Up -> Down, not the router's AdminDown) closes the session with
    /// Cease 10 (RFC 9384) and holds it closed; Up again reopens it. A BFD session that never
    /// came Up holds nothing back, so a router without BFD for this node still gets its BGP
    /// session; nor does one the router took down on purpose (AdminDown, RFC 5882 section 3.2).
    /// Returns whether the session is held.
    fn on_bfd(&mut self) -> bool {
        let Some(bfd) = &mut self.context.bfd else { return false };
        let status = bfd.borrow_and_update().clone();
        let failures = status.as_ref().map_or(0, |s| s.failures);
        let new_failure = failures > std::mem::replace(&mut self.bfd_failures, failures);
        match &status {
            Some(status) if status.failed() && new_failure => {
                if !self.held_by_bfd {
                    tracing::warn!(peer = %self.context.peer, bfd = %status, "BFD Down: closing the BGP session (Cease, BFD Down)");
                    self.held_by_bfd = true;
                    self.pending.push_back(Event::ManualStop);
                }
            }
            // Failed before, still not Up: stay held.
            Some(status) if status.failed() => {}
            // Up, or down on the router's purpose, or no BFD any more: nothing holds the session.
            _ => {
                if std::mem::take(&mut self.held_by_bfd) {
                    tracing::info!(peer = %self.context.peer, "BFD no longer Down: reopening the BGP session");
                    self.pending.push_back(Event::ManualStart);
                }
            }
        }
        if let Some((established, reason, message)) = self.reported.clone() {
            self.report(established, &reason, message);
        }
        self.held_by_bfd
    }

    /// Waits until the VRF device `vrf` exists (checking every [`VRF_RETRY`]), reporting once
    /// why the session does not start meanwhile. False: stopped while waiting.
    async fn wait_for_vrf(&mut self, vrf: &str, stop: &mut oneshot::Receiver<Stop>) -> bool {
        let mut said = None;
        loop {
            let error = match crate::netif::check_vrf(vrf).await {
                Ok(_) => return true,
                Err(error) => error.to_string(),
            };
            if said.as_ref() != Some(&error) {
                tracing::warn!(peer = %self.context.peer, %error, "BGP session not started");
                self.report(false, "VRFNotFound", format!("{error}: the session does not start until it does"));
                said = Some(error);
            }
            tokio::select! {
                () = tokio::time::sleep(VRF_RETRY) => {}
                _ = &mut *stop => return false,
            }
        }
    }

    /// Turns the buffered input into events; stops at the first one that resets the session.
    fn decode_input(&mut self, state: State) {
        let mut offset = 0;
        loop {
            let rest = self.input.get(offset..).unwrap_or_default();
            match decode(rest) {
                Ok(None) => break,
                Ok(Some((message, len))) => {
                    offset = offset.saturating_add(len);
                    if let Message::Notification(n) = &message {
                        self.context.metrics.notification(n.code, n.subcode, "received");
                    }
                    if let (Message::RouteRefresh(_), State::Established) = (&message, state) {
                        self.pending.push_back(Event::UpdateMsg);
                        // Answered after the events: resend everything we announce.
                        self.refresh_requested = true;
                        continue;
                    }
                    self.pending.push_back(glue::message_event(message));
                }
                Err(error) => {
                    tracing::warn!(peer = %self.context.peer, %error, "malformed BGP message");
                    let (event, skip) = glue::decode_error_event(&error);
                    self.pending.push_back(event);
                    match skip {
                        Some(len) => offset = offset.saturating_add(len),
                        None => {
                            offset = self.input.len();
                            break;
                        }
                    }
                }
            }
        }
        self.input.drain(..offset.min(self.input.len()));
    }

    async fn write(&mut self, bytes: &[u8]) {
        let Some(stream) = &mut self.conn else { return };
        if let Err(error) = stream.write_all(bytes).await {
            tracing::debug!(peer = %self.context.peer, %error, "BGP write failed");
            self.conn = None;
            self.pending.push_back(Event::TcpConnectionFails);
        }
    }

    async fn send(&mut self, message: &Message) {
        match message.to_bytes() {
            Ok(bytes) => self.write(&bytes).await,
            Err(error) => tracing::error!(peer = %self.context.peer, %error, "cannot encode BGP message"),
        }
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::Connect => {
                self.conn = None;
                let settings = self.settings.clone();
                self.connecting = Some(match &self.discovery {
                    // BGP unnumbered: to the router found on the interface, once it is found (the
                    // ConnectRetry timer bounds the wait as it bounds any attempt).
                    Some(discovery) => {
                        let router = discovery.router();
                        Box::pin(async move {
                            let remote = known_router(router).await.socket_addr(settings.remote.port());
                            connect(settings, remote).await
                        })
                    }
                    None => Box::pin(connect(settings.clone(), settings.remote)),
                });
            }
            Action::DropConnection => {
                self.connecting = None;
                if let Some(mut stream) = self.conn.take() {
                    let _ = stream.shutdown().await;
                }
            }
            Action::SendOpen(params) => {
                let open = glue::open_message(&params, self.context.restarted);
                self.send(&Message::Open(open)).await;
            }
            Action::SendKeepalive => self.send(&Message::Keepalive).await,
            Action::SendNotification(mut n) => {
                if n == Notification::administrative_shutdown() {
                    if let Some(cease) = &self.stopping {
                        n = cease.clone();
                    } else if self.held_by_bfd {
                        n = Notification::cease(CeaseSubcode::BfdDown);
                    }
                }
                self.context.metrics.notification(n.code, n.subcode, "sent");
                self.send(&Message::Notification(n)).await;
            }
            timer @ (Action::StartTimer(..) | Action::StopTimer(_)) => {
                self.timers.apply(&timer);
            }
            Action::Established(negotiated) => {
                let local = self.conn.as_ref().and_then(|c| c.local_addr().ok());
                let Some(local) = local else { return };
                let remote = self.conn.as_ref().and_then(|c| c.peer_addr().ok()).unwrap_or(self.settings.remote);
                let offered = (self.settings.session.ipv4_unicast, self.settings.session.ipv6_unicast);
                // A dual-stack session's other family goes out with a next hop from the same
                // interface as the connection's local address; an unnumbered one's from its
                // interface.
                let beside = if let Some(interface) = &self.settings.interface {
                    match crate::netif::link_named(interface).await {
                        Ok(link) => link.map(|link| link.addresses),
                        Err(error) => {
                            tracing::warn!(peer = %self.context.peer, %error, "cannot read the node's addresses");
                            None
                        }
                    }
                } else if offered.0 && offered.1 {
                    crate::netif::addresses_beside(local.ip()).await.unwrap_or_else(|error| {
                        tracing::warn!(peer = %self.context.peer, %error, "cannot read the node's addresses");
                        None
                    })
                } else {
                    None
                };
                let path = glue::path_context(
                    &negotiated,
                    self.settings.session.local_asn,
                    local,
                    &self.context.node_addresses,
                    beside.as_deref(),
                );
                let remote = match &self.settings.interface {
                    Some(interface) => format!("{} on {interface}", remote.ip()),
                    None => remote.to_string(),
                };
                tracing::info!(peer = %self.context.peer, %remote, "BGP session established");
                let mut message = format!("established with {remote}");
                for left_out in glue::families_left_out(offered, &path, local) {
                    tracing::warn!(peer = %self.context.peer, "{left_out}");
                    message.push_str("; ");
                    message.push_str(&left_out);
                }
                self.path = Some(path);
                // Restarted no more: a later connection is a new session, not a restart.
                self.context.restarted = false;
                self.adj_out.clear();
                self.metrics_up(true);
                self.report(true, "Established", message);
                self.sync().await;
                for family in [Family::V4, Family::V6] {
                    let negotiated_family = match family {
                        Family::V4 => negotiated.ipv4_unicast,
                        Family::V6 => negotiated.ipv6_unicast,
                    };
                    if negotiated_family {
                        self.send(&Message::EndOfRib(family)).await;
                    }
                }
            }
            Action::Down(reason) => self.down(&reason),
        }
    }

    fn down(&mut self, reason: &DownReason) {
        if self.path.take().is_some() {
            tracing::info!(peer = %self.context.peer, %reason, "BGP session down");
        } else {
            tracing::debug!(peer = %self.context.peer, %reason, "BGP connection given up");
        }
        self.adj_out.clear();
        self.metrics_up(false);
        let router_unknown = self.discovery.as_ref().is_some_and(|d| d.router().borrow().is_none());
        if self.held_by_bfd {
            self.report(false, "BFDDown", "closed because BFD went Down; reopens when BFD is Up".into());
        } else if let (true, Some(interface)) = (router_unknown, self.settings.interface.clone()) {
            self.report(false, "RouterNotFound", unnumbered::router_not_found(&interface));
        } else {
            self.report(false, reason.condition_reason(), reason.to_string());
        }
    }

    /// Graceful restart: closes the connection without a NOTIFICATION, so that the router keeps
    /// the routes (stale) and keeps forwarding until the next speaker is back.
    async fn leave_for_restart(&mut self) {
        tracing::info!(
            peer = %self.context.peer,
            routes = self.adj_out.sent().len(),
            "speaker stopping: closing the BGP session without NOTIFICATION (graceful restart), the router keeps the routes"
        );
        self.connecting = None;
        if let Some(mut stream) = self.conn.take() {
            let _ = stream.shutdown().await;
        }
        self.metrics_up(false);
    }

    /// Withdraws every route the peer holds from us, then waits `grace` with the session up, so
    /// that the router moves the flows elsewhere before the Cease closes it.
    async fn withdraw_all(&mut self, grace: std::time::Duration) {
        let Some(path) = self.path.clone() else { return };
        let routes = self.adj_out.sent().len();
        let mut out = Vec::new();
        let stats = self.adj_out.sync(&Routes::new(), &path, &mut out);
        self.flush_updates(stats, &out).await;
        // A connection lost while writing has nothing left to wait for.
        if self.conn.is_some() {
            tracing::info!(peer = %self.context.peer, routes, ?grace, "speaker stopping: routes withdrawn, closing after the grace");
            tokio::time::sleep(grace).await;
        }
    }

    /// Sends the difference between the decision and what the peer holds.
    async fn sync(&mut self) {
        let Some(path) = self.path.clone() else { return };
        let desired = self
            .context
            .decision
            .borrow_and_update()
            .desired
            .get(&self.context.peer)
            .map(glue::routes)
            .unwrap_or_default();
        let mut out = Vec::new();
        let stats = self.adj_out.sync(&desired, &path, &mut out);
        self.flush_updates(stats, &out).await;
    }

    async fn flush_updates(&mut self, stats: Result<SyncStats, codec::EncodeError>, out: &[u8]) {
        match stats {
            Ok(stats) => {
                self.context.metrics.updates(&self.context.peer, &self.context.node, stats);
                tracing::debug!(peer = %self.context.peer, ?stats, "BGP routes sent");
            }
            Err(error) => tracing::error!(peer = %self.context.peer, %error, "cannot encode BGP UPDATE"),
        }
        if !out.is_empty() {
            self.write(out).await;
        }
    }

    fn metrics_up(&self, up: bool) {
        self.context.metrics.session_up(&self.context.peer, &self.context.node, up);
    }

    /// Reports the session's state, with BFD's when the peer has BFD.
    fn report(&mut self, established: bool, reason: &str, message: String) {
        self.reported = Some((established, reason.to_owned(), message.clone()));
        let bfd = self.context.bfd.as_ref().and_then(|bfd| bfd.borrow().as_ref().map(ToString::to_string));
        let message = match bfd {
            Some(bfd) => format!("{message}{}{}", ferrolb_crds::SESSION_BFD_PART, bfd.trim_start_matches("BFD ")),
            None => message,
        };
        if let Some(reports) = &self.context.reports {
            let _ = reports.send(SessionReport {
                peer: self.context.peer.clone(),
                established,
                reason: reason.to_string(),
                message,
            });
        }
    }
}

#[cfg(test)]
mod stop_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::announcer::{Prefix, RouteAttributes};
    use crate::bgp::settings::PeerSettings;
    use crate::bgp::settings::tests::peer as configured_peer;
    use ferrolb_bgp::codec::Open;
    use ferrolb_bgp::notification::CeaseSubcode;
    use ferrolb_core::config::Peer;
    use std::net::Ipv4Addr;
    use std::time::Duration;
    use tokio::net::TcpListener;

    /// Reads messages until `until` says stop; returns them all.
    pub(super) async fn read_until(
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        until: impl Fn(&Message) -> bool,
    ) -> Vec<Message> {
        let mut messages = Vec::new();
        loop {
            while let Some((message, len)) = decode(buf).unwrap() {
                buf.drain(..len);
                let done = until(&message);
                messages.push(message);
                if done {
                    return messages;
                }
            }
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read_buf(buf)).await.unwrap().unwrap();
            assert!(n > 0, "the session closed; got {messages:?}");
        }
    }

    pub(super) fn peer(port: u16) -> Peer {
        Peer {
            name: "fake".into(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            hold_time: Some(Duration::from_secs(3)),
            connect_time: Some(Duration::from_secs(1)),
            router_id: Some(Ipv4Addr::new(192, 0, 2, 2)),
            ebgp_multi_hop: true,
            ..configured_peer()
        }
    }

    /// What the session "fake" on node1 runs with: no node addresses, reports or BFD; not the
    /// first session of the process.
    pub(super) fn context(decision: watch::Receiver<Arc<BgpDecision>>) -> SessionContext {
        SessionContext {
            peer: "fake".into(),
            node: "node1".into(),
            node_addresses: vec![],
            decision,
            metrics: BgpMetrics::default(),
            reports: None,
            bfd: None,
            restarted: false,
        }
    }

    pub(super) fn decision(prefixes: &[&str]) -> Arc<BgpDecision> {
        let routes = prefixes.iter().map(|p| (Prefix::host(p.parse().unwrap()), RouteAttributes::default())).collect();
        Arc::new(BgpDecision { desired: [("fake".to_string(), routes)].into(), ..Default::default() })
    }

    /// Against a scripted peer on loopback: OPEN, KEEPALIVE, the full set and End-of-RIB, then only
    /// the difference, then Cease 6/3 on stop. The session is IPv4 and not dual-stack: it offers
    /// IPv4 unicast only, and carries no IPv6 route though the peer offers both.
    #[tokio::test]
    async fn session_opens_sends_everything_then_differences_then_ceases() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let settings = PeerSettings::from_peer(&peer(port), &[], None).unwrap();
        let (decision_tx, decision_rx) = watch::channel(decision(&["203.0.113.1", "203.0.113.2", "2001:db8::1"]));
        let context = SessionContext { node_addresses: vec!["2001:db8::2".parse().unwrap()], ..context(decision_rx) };
        let handle = SessionHandle::spawn(settings, context);
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.unwrap().unwrap();
        let mut buf = Vec::new();
        let open = read_until(&mut stream, &mut buf, |m| matches!(m, Message::Open(_))).await;
        let Some(Message::Open(theirs)) = open.last() else { panic!("{open:?}") };
        assert_eq!((theirs.my_as, theirs.hold_time, theirs.bgp_id), (64600, 3, Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(theirs.multiprotocol().collect::<Vec<_>>(), [codec::AfiSafi::IPV4_UNICAST]);

        let mut reply = Message::Open(Open::ferrolb(64512, 3, Ipv4Addr::new(192, 0, 2, 1), None)).to_bytes().unwrap();
        Message::Keepalive.encode(&mut reply).unwrap();
        stream.write_all(&reply).await.unwrap();
        let first = read_until(&mut stream, &mut buf, |m| matches!(m, Message::EndOfRib(Family::V4))).await;
        let announced: Vec<_> = first
            .iter()
            .filter_map(|m| match m {
                Message::Update(u) => Some(u.announced.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(
            announced,
            ["203.0.113.1", "203.0.113.2"].map(|a| codec::Prefix::host(a.parse().unwrap())),
            "{first:?}"
        );

        decision_tx.send_replace(decision(&["203.0.113.2", "203.0.113.3", "2001:db8::1"]));
        let diff =
            read_until(&mut stream, &mut buf, |m| matches!(m, Message::Update(u) if !u.announced.is_empty())).await;
        assert!(!diff.contains(&Message::EndOfRib(Family::V6)), "IPv6 was not negotiated: {diff:?}");
        let updates: Vec<_> =
            diff.iter().filter_map(|m| if let Message::Update(u) = m { Some(u) } else { None }).collect();
        assert_eq!(updates.len(), 2, "one withdrawal, one announcement: {diff:?}");
        assert_eq!(updates[0].withdrawn, vec![codec::Prefix::host("203.0.113.1".parse().unwrap())]);
        assert_eq!(updates[1].announced, vec![codec::Prefix::host("203.0.113.3".parse().unwrap())]);

        let stopping = tokio::spawn(handle.stop(Notification::cease(CeaseSubcode::PeerDeconfigured)));
        let last = read_until(&mut stream, &mut buf, |m| matches!(m, Message::Notification(_))).await;
        assert_eq!(last.last(), Some(&Message::Notification(Notification { code: 6, subcode: 3, data: vec![] })));
        stopping.await.unwrap();
    }

    fn bfd(state: ferrolb_bfd::packet::State, remote_admin_down: bool, failures: u64) -> Option<BfdStatus> {
        Some(BfdStatus {
            state,
            diag: ferrolb_bfd::packet::Diagnostic::NoDiagnostic,
            remote_admin_down,
            failures,
            tx_interval: Duration::from_millis(100),
            detect_time: Some(Duration::from_millis(300)),
        })
    }

    /// Accepts the session's connection and answers its OPEN; returns the stream once the
    /// session has sent its End-of-RIB.
    async fn accept_established(listener: &TcpListener, buf: &mut Vec<u8>) -> TcpStream {
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.unwrap().unwrap();
        buf.clear();
        read_until(&mut stream, buf, |m| matches!(m, Message::Open(_))).await;
        let mut reply = Message::Open(Open::ferrolb(64512, 3, Ipv4Addr::new(192, 0, 2, 1), None)).to_bytes().unwrap();
        Message::Keepalive.encode(&mut reply).unwrap();
        stream.write_all(&reply).await.unwrap();
        read_until(&mut stream, buf, |m| matches!(m, Message::EndOfRib(Family::V4))).await;
        stream
    }

    /// BFD Up -> Down closes the session with Cease 10 and no reconnection follows until BFD is
    /// Up again; a router that puts BFD in AdminDown closes nothing.
    #[tokio::test]
    async fn bfd_down_ceases_with_subcode_10_and_holds_the_session_until_bfd_is_up() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let settings = PeerSettings::from_peer(&peer(port), &[], None).unwrap();
        let (_decision_tx, decision_rx) = watch::channel(decision(&["203.0.113.1"]));
        let (bfd_tx, bfd_rx) = watch::channel(None);
        let context = SessionContext { bfd: Some(bfd_rx), ..context(decision_rx) };
        let handle = SessionHandle::spawn(settings, context);
        let mut buf = Vec::new();
        // BFD not Up yet: the session comes up anyway.
        let mut stream = accept_established(&listener, &mut buf).await;
        bfd_tx.send_replace(bfd(ferrolb_bfd::packet::State::Up, false, 0));
        // The router takes BFD down on purpose: nothing happens.
        bfd_tx.send_replace(bfd(ferrolb_bfd::packet::State::Down, true, 0));
        let quiet = tokio::time::timeout(
            Duration::from_millis(500),
            read_until(&mut stream, &mut buf, |m| matches!(m, Message::Notification(_))),
        )
        .await;
        assert!(quiet.is_err(), "the router's AdminDown closed the session: {quiet:?}");
        bfd_tx.send_replace(bfd(ferrolb_bfd::packet::State::Up, false, 0));
        // The path fails (the session need not see the Up before: the count says it).
        bfd_tx.send_replace(bfd(ferrolb_bfd::packet::State::Down, false, 1));
        let last = read_until(&mut stream, &mut buf, |m| matches!(m, Message::Notification(_))).await;
        assert_eq!(last.last(), Some(&Message::Notification(Notification { code: 6, subcode: 10, data: vec![] })));
        // Held: with a connect time of 1 s, three seconds pass without a new connection.
        assert!(
            tokio::time::timeout(Duration::from_secs(3), listener.accept()).await.is_err(),
            "reconnected while BFD was Down"
        );
        bfd_tx.send_replace(bfd(ferrolb_bfd::packet::State::Up, false, 1));
        let _stream = accept_established(&listener, &mut buf).await;
        handle.stop(Notification::cease(CeaseSubcode::PeerDeconfigured)).await;
    }

    /// A dual-stack session over IPv4 loopback offers both families; with no global IPv6
    /// address on the loopback interface it has no IPv6 next hop, so it sends IPv4 routes only
    /// and its report says why IPv6 routes are not sent.
    #[tokio::test]
    async fn a_dual_stack_session_without_an_ipv6_next_hop_says_so() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let settings = PeerSettings::from_peer(&Peer { dual_stack: true, ..peer(port) }, &[], None).unwrap();
        let (_decision_tx, decision_rx) = watch::channel(decision(&["203.0.113.1", "2001:db8::1"]));
        let (reports_tx, mut reports_rx) = mpsc::unbounded_channel();
        let context = SessionContext { reports: Some(reports_tx), ..context(decision_rx) };
        let handle = SessionHandle::spawn(settings, context);
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await.unwrap().unwrap();
        let mut buf = Vec::new();
        let open = read_until(&mut stream, &mut buf, |m| matches!(m, Message::Open(_))).await;
        let Some(Message::Open(theirs)) = open.last() else { panic!("{open:?}") };
        let both = [codec::AfiSafi::IPV4_UNICAST, codec::AfiSafi::IPV6_UNICAST];
        assert_eq!(theirs.multiprotocol().collect::<Vec<_>>(), both);
        let mut reply = Message::Open(Open::ferrolb(64512, 3, Ipv4Addr::new(192, 0, 2, 1), None)).to_bytes().unwrap();
        Message::Keepalive.encode(&mut reply).unwrap();
        stream.write_all(&reply).await.unwrap();
        let first = read_until(&mut stream, &mut buf, |m| matches!(m, Message::EndOfRib(Family::V6))).await;
        let announced: Vec<_> = first
            .iter()
            .filter_map(|m| if let Message::Update(u) = m { Some(u.announced.clone()) } else { None })
            .flatten()
            .collect();
        assert_eq!(announced, [codec::Prefix::host("203.0.113.1".parse().unwrap())], "{first:?}");
        let report = loop {
            let report = tokio::time::timeout(Duration::from_secs(5), reports_rx.recv()).await.unwrap().unwrap();
            if report.established {
                break report;
            }
        };
        assert!(report.message.contains("IPv6 routes are not sent: the node has no IPv6 address"), "{report:?}");
        handle.stop(Notification::cease(CeaseSubcode::PeerDeconfigured)).await;
    }

    /// An interface peer on a link where no router advertises itself (loopback): no connection
    /// is attempted, and the report says that no Router Advertisement was heard.
    #[tokio::test]
    async fn an_unnumbered_session_without_a_router_says_so() {
        let p = Peer {
            interface: Some("lo".into()),
            address: IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            port: 179,
            ebgp_multi_hop: false,
            ..peer(179)
        };
        let settings = PeerSettings::from_peer(&p, &[], None).unwrap();
        let (_decision_tx, decision_rx) = watch::channel(decision(&["203.0.113.1"]));
        let (reports_tx, mut reports_rx) = mpsc::unbounded_channel();
        let context = SessionContext { reports: Some(reports_tx), ..context(decision_rx) };
        let handle = SessionHandle::spawn(settings, context);
        let report = tokio::time::timeout(Duration::from_secs(5), reports_rx.recv()).await.unwrap().unwrap();
        assert!(!report.established);
        assert_eq!(report.reason, "RouterNotFound", "{report:?}");
        assert!(report.message.starts_with("no Router Advertisement heard on lo"), "{report:?}");
        handle.stop(Notification::administrative_shutdown()).await;
    }

    /// A peer in a VRF the node does not have: no connection is attempted, and the report says
    /// why; stopping it while it waits ends it.
    #[tokio::test]
    async fn a_session_in_a_missing_vrf_does_not_start_and_says_so() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let vrf = Peer { vrf: Some("flb-no-such".into()), ..peer(port) };
        let settings = PeerSettings::from_peer(&vrf, &[], None).unwrap();
        let (_decision_tx, decision_rx) = watch::channel(decision(&["203.0.113.1"]));
        let (reports_tx, mut reports_rx) = mpsc::unbounded_channel();
        let context = SessionContext { reports: Some(reports_tx), ..context(decision_rx) };
        let handle = SessionHandle::spawn(settings, context);
        let report = tokio::time::timeout(Duration::from_secs(5), reports_rx.recv()).await.unwrap().unwrap();
        assert!(!report.established);
        assert_eq!(report.reason, "VRFNotFound");
        assert_eq!(
            report.message,
            "VRF flb-no-such does not exist on this node: the session does not start until it does"
        );
        let accepted = tokio::time::timeout(Duration::from_millis(1500), listener.accept()).await;
        assert!(accepted.is_err(), "a connection was made outside the VRF");
        tokio::time::timeout(Duration::from_secs(2), handle.stop(Notification::administrative_shutdown()))
            .await
            .unwrap();
    }

    /// The socket is bound to the VRF's device before it connects: bound to `lo`, a connection to
    /// loopback works and says so; a device that does not exist fails the connect.
    #[tokio::test]
    async fn connect_binds_the_socket_to_the_vrf_device() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut settings = PeerSettings::from_peer(&peer(port), &[], None).unwrap();
        settings.vrf = Some("lo".into());
        let stream = connect(settings.clone(), settings.remote).await.unwrap();
        assert_eq!(socket2::SockRef::from(&stream).device().unwrap().as_deref(), Some(&b"lo"[..]));
        settings.vrf = Some("flb-no-such".into());
        let error = connect(settings.clone(), settings.remote).await.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENODEV), "{error}");
    }
}
