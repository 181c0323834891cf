//! The speaker's driver: turns watch events, member view changes and interface changes into
//! announcer calls, asks the announcer, and hands its answer to the Layer2 responder, the BGP
//! runtime, the status writer and the metrics.
//!
//! It decides nothing itself; what it may do at each moment is its [`Phase`] (see [`phase`]:
//! starting, quiet, running, stopping). Two paths lead to a decision: API changes (acted on at once
//! after a quiet spell, gathered for a few milliseconds when they come in a burst), and member
//! view changes, acted on at once (the failover path, which never waits for the API server). The
//! announcer keeps the last known state, so with the API server gone this node keeps answering
//! and keeps failing over.

pub mod phase;
pub mod stop;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ferrolb_core::config::Config;
use ferrolb_kube::debounce::Debouncer;
use kube::{Client, ResourceExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info, info_span, warn};

use self::phase::{Input, Phase};
use self::stop::{NodeService, StopKind, stop_kind};
use crate::announcer::{Announcer, BgpDecision, ClassPolicy, Members, node_view};
use crate::http::Health;
use crate::kube_edge::translate::{
    announced_services, internal_ips, link_up, member_bind, member_keys, members, owned_addresses,
};
use crate::kube_edge::watch::{self as watches, Delta, Source, Stores, Update};
use crate::layer2::MacAddr;
use crate::layer2::owned::{OwnedAddress, OwnedAddresses};
use crate::layer2::release::{Ended, Handoff, Outcome, Releases};
use crate::layer2::responder::{Heard, Layer2Handle};
use crate::members::{BootId, KeyRing, MemberView, Prober, ProberConfig};
use crate::metrics::Announced;
use crate::netif::Interface;
use crate::relay;
use crate::status::layer2::Wanted;

/// How long API changes that come soon after a decision are gathered before the next, and the
/// most a burst may delay it, at least (a change after a quiet spell is decided at once). A
/// decision over 10,000 Services takes milliseconds, so under a burst the window widens
/// with the last decision's cost (see [`window`]): the loop then spends at most about a quarter
/// of its time deciding, instead of deciding again for every few Services that arrive.
const QUIET: Duration = Duration::from_millis(5);
const AT_MOST: Duration = Duration::from_millis(25);

/// The gathering window after a decision that took `cost`: (quiet, at most).
fn window(cost: Duration) -> (Duration, Duration) {
    (QUIET.max(cost), AT_MOST.max(cost * 4))
}

/// What the loop is told at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This node's name.
    pub node: String,
    /// FerroLB's namespace (Secrets).
    pub namespace: String,
    /// The member prober's UDP port.
    pub members_port: u16,
    /// The Secret holding the member keys.
    pub memberlist_secret: String,
    /// Its data key.
    pub memberlist_key: String,
    /// Which loadBalancerClass FerroLB serves.
    pub class: ClassPolicy,
    /// Layer2: how long the others keep a restarting speaker's addresses with it; `None`: a stop
    /// always hands the addresses over ([`stop`]).
    pub restart_window: Option<Duration>,
}

/// Where the loop's answers go.
pub struct Outputs {
    /// The Layer2 responder.
    pub layer2: Layer2Handle,
    /// Other nodes' announcements the responder hears (for handing addresses over); `None`: never
    /// heard, so each handoff lasts its bound.
    pub heard: Option<mpsc::Receiver<Heard>>,
    /// Suitable interfaces, from netif (for link state and status).
    pub interfaces: watch::Receiver<Vec<Interface>>,
    /// Readiness and metrics.
    pub health: Arc<Health>,
    /// The configuration, for BGP mode.
    pub bgp_config: watch::Sender<Arc<Config>>,
    /// The BGP part of each decision.
    pub bgp_decision: watch::Sender<Arc<BgpDecision>>,
    /// This node's InternalIPs, once its Node is seen (BGP mode starts then).
    pub node_addresses: watch::Sender<Vec<IpAddr>>,
    /// The Services this node announces in Layer2, for the status writer.
    pub status: watch::Sender<Wanted>,
    /// Asks the status writer to look at this node's objects again (another node may have deleted
    /// them while it thought it owned their Service).
    pub status_check: Arc<tokio::sync::Notify>,
    /// What the stray relay should cover; `None`: relaying is off.
    pub relay: Option<watch::Sender<relay::Wanted>>,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Stopping to start again: this node keeps its addresses (and its relay tables).
    Restarting,
    /// Stopped for good (or the watches ended).
    Stopped,
}

struct Speaker {
    settings: Settings,
    announcer: Announcer,
    out: Outputs,
    /// What this node may do now.
    phase: Phase,
    /// Which watches that are not cached in [`Stores`] have listed once.
    listed: Listed,
    /// The member keys, the prober and its view.
    membership: Membership,
    /// This node's InternalIPs, from its Node.
    own_ips: Vec<IpAddr>,
    /// Every Node's InternalIPs, by name (the stray relay's peers).
    node_ips: BTreeMap<String, Vec<IpAddr>>,
    /// The addresses this node owns and announces.
    owned: OwnedAddresses,
    /// The Services on each owned address, `namespace/name` (for logs when it is handed over).
    owned_services: BTreeMap<IpAddr, Vec<String>>,
    /// The addresses given up on purpose and still answered until their new owners announce them.
    releases: Releases,
    /// The last member view: who is alive, and whether this node is healthy (`true` without a prober).
    alive: BTreeSet<String>,
    healthy: bool,
    /// The speakers heard lately, whatever their standing (the stray relay's peers).
    heard: BTreeSet<String>,
    /// This node's Node is excluded from load balancers or its network is unavailable.
    excluded: bool,
    /// This node's Node, as far as stopping goes.
    node_service: NodeService,
    /// Stopping to start again: keep the addresses and the status objects.
    restarting: bool,
    /// The status writer has had its first wish.
    reported: bool,
    /// How long the last decision took.
    decide_cost: Duration,
}

/// Whether the Service and EndpointSlice watches have listed once (they are read into the
/// announcer, not cached in [`Stores`], so their readiness is tracked here).
#[derive(Debug, Default)]
struct Listed {
    services: bool,
    slices: bool,
}

/// The member prober and what it needs: without keys it cannot start, and ownership then follows
/// Node objects only.
#[derive(Default)]
struct Membership {
    keys: Option<KeyRing>,
    /// Why there are no keys, once logged (so it is logged once per reason).
    keys_problem: Option<String>,
    prober: Option<Prober>,
    view: Option<watch::Receiver<MemberView>>,
}

/// Runs the loop until `shutdown`; then stops answering and withdraws the status objects.
pub async fn run(client: Client, settings: Settings, out: Outputs, mut shutdown: watch::Receiver<bool>) -> Exit {
    let (stores, mut triggers) = watches::start(&client, &settings.namespace, &settings.class);
    let mut interfaces = out.interfaces.clone();
    // The speaker reads only what is announced; the reasons are for `ferrolb explain`.
    let mut announcer = Announcer::new(settings.node.clone());
    announcer.keep_reasons(false);
    let mut speaker = Speaker {
        announcer,
        settings,
        out,
        phase: Phase::Starting,
        listed: Listed::default(),
        membership: Membership::default(),
        own_ips: Vec::new(),
        node_ips: BTreeMap::new(),
        owned: OwnedAddresses::new(),
        owned_services: BTreeMap::new(),
        releases: Releases::default(),
        alive: BTreeSet::new(),
        healthy: true,
        heard: BTreeSet::new(),
        excluded: false,
        node_service: NodeService::default(),
        restarting: false,
        reported: false,
        decide_cost: Duration::ZERO,
    };
    let mut heard = speaker.out.heard.take();
    let mut pending = Debouncer::default();
    let mut asked_to_stop = false;
    while speaker.phase != Phase::Stopping {
        let due = pending.due();
        let deadline = speaker.phase.deadline().map(Instant::from_std);
        let release_deadline = speaker.releases.next_deadline().map(Instant::from_std);
        tokio::select! {
            _ = shutdown.changed(), if !asked_to_stop => {
                asked_to_stop = true;
                speaker.stop_asked();
            },
            Some(announcement) = recv(&mut heard) => speaker.on_heard(&announcement),
            () = sleep_until(release_deadline) => speaker.expire_releases(),
            next = futures::StreamExt::next(&mut triggers) => match next {
                Some(update) => {
                    let (quiet, at_most) = window(speaker.decide_cost);
                    pending.add(update.source(), Instant::now(), quiet, at_most);
                    speaker.take(update);
                }
                None => break,
            },
            () = sleep_until(due) => {
                let sources = pending.take();
                if stores.ready() && speaker.listed.services && speaker.listed.slices {
                    speaker.refresh(&stores, &sources).await;
                    speaker.publish();
                    pending.acted(Instant::now());
                } else {
                    // Keep what changed for when every watch has listed.
                    for s in sources { pending.add(s, Instant::now(), AT_MOST, AT_MOST); }
                }
            },
            view = changed(&mut speaker.membership.view) => match view {
                Some(view) => speaker.on_members(view),
                None => speaker.membership.view = None,
            },
            () = sleep_until(deadline) => {
                speaker.step(Input::Tick { now: Instant::now().into_std() });
                speaker.publish();
            },
            changed = interfaces.changed() => if changed.is_ok() {
                speaker.on_link();
                speaker.publish();
            },
        }
    }
    speaker.step(Input::Shutdown);
    for ended in speaker.releases.cut_all(Instant::now().into_std()) {
        speaker.record(&ended);
    }
    if speaker.restarting {
        // The others hear it restarts before it goes quiet, and keep its addresses with it; so do
        // the status objects, which the next process takes over.
        if let Some(prober) = speaker.membership.prober.take() {
            prober.restart().await;
        }
        speaker.out.layer2.set_owned(OwnedAddresses::new());
        return Exit::Restarting;
    }
    speaker.out.layer2.set_owned(OwnedAddresses::new());
    speaker.out.status.send_replace(Wanted::new());
    if let Some(prober) = speaker.membership.prober.take() {
        // Stopping on purpose: a last heartbeat says so, so that the others re-rank at once even
        // when this node had nothing to hand over.
        prober.depart().await;
    }
    Exit::Stopped
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next announcement heard; pending forever without a receiver, `None` once it closed.
async fn recv(heard: &mut Option<mpsc::Receiver<Heard>>) -> Option<Heard> {
    match heard {
        Some(rx) => match rx.recv().await {
            Some(h) => Some(h),
            None => {
                *heard = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

/// The next member view; `None` when the prober is gone.
async fn changed(view: &mut Option<watch::Receiver<MemberView>>) -> Option<MemberView> {
    match view {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

impl Speaker {
    /// Moves to the phase after `input`, saying so when it changes.
    fn step(&mut self, input: Input) {
        let next = self.phase.next(input);
        if next == self.phase {
            return;
        }
        match next {
            Phase::Starting => {}
            Phase::Quiet { .. } => debug!("quiet while the member view settles"),
            Phase::Running if self.phase == Phase::Starting => info!("every watch has listed; deciding"),
            Phase::Running => info!("member view settled; announcing"),
            Phase::Leaving { .. } => info!("leaving: handing every address over before stopping"),
            Phase::Stopping => info!("stopping: no longer answering for any address"),
        }
        if self.phase == Phase::Starting && next != Phase::Stopping {
            self.out.health.ready.store(true, Ordering::Relaxed);
        }
        self.phase = next;
    }

    /// Feeds the announcer a Service or EndpointSlice change at once (cheap: one map entry, or
    /// a swap on a relist); cached kinds are read when the decision is due.
    fn take(&mut self, update: Update) {
        match update {
            Update::Changed(_) => {}
            Update::Services(delta) => match delta {
                Delta::Apply(_, view) => self.announcer.apply_service(view),
                Delta::Remove(key) => self.announcer.delete_service(&key),
                Delta::Relisted(all) => {
                    self.announcer.reset_services(all.into_iter().map(|(_, view)| view));
                    self.listed.services = true;
                }
            },
            Update::Slices(delta) => match delta {
                Delta::Apply(key, view) => self.announcer.apply_slice(key, view),
                Delta::Remove(key) => self.announcer.delete_slice(&key),
                Delta::Relisted(all) => {
                    self.announcer.reset_slices(all);
                    self.listed.slices = true;
                }
            },
        }
    }

    /// Feeds the announcer what changed in the cached kinds (everything on the first pass), and
    /// starts the member prober once it can.
    async fn refresh(&mut self, stores: &Stores, sources: &std::collections::BTreeSet<Source>) {
        // The first pass, and the periodic resync, read every cached kind again.
        let all = self.phase == Phase::Starting || sources.contains(&Source::Resync);
        let changed = |s: fn(&Source) -> bool| all || sources.iter().any(s);
        if changed(|s| matches!(s, Source::Config(_) | Source::Secrets)) {
            let decoded = stores.config.decoded();
            let (config, verdicts) = Config::from_objects(&decoded.objects);
            let problems: usize = verdicts.problems.values().map(Vec::len).sum::<usize>() + decoded.undecodable.len();
            debug!(problems, "configuration rebuilt");
            self.announcer.set_config(config.clone());
            self.out.bgp_config.send_replace(Arc::new(config));
            self.refresh_keys(stores);
        }
        if changed(|s| *s == Source::Nodes) {
            let nodes = stores.nodes.state();
            self.announcer.reset_nodes(nodes.iter().filter_map(|n| node_view(n).ok()));
            self.node_ips = nodes.iter().map(|n| (n.name_any(), internal_ips(n))).collect();
            if let Some(me) = nodes.iter().find(|n| n.name_any() == self.settings.node) {
                let excluded = node_view(me).is_ok_and(|v| v.excluded || v.network_unavailable);
                self.node_service = NodeService {
                    excluded,
                    cordoned: me.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
                    ready: me
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
                };
                if excluded != self.excluded {
                    info!(excluded, "this node's Node is excluded from load balancers or its network unavailable");
                    self.excluded = excluded;
                }
                let ips = internal_ips(me);
                if ips != self.own_ips {
                    info!(addresses = ?ips, "this node's InternalIPs");
                    self.own_ips = ips.clone();
                    self.out.node_addresses.send_replace(ips);
                }
            }
            match &self.membership.prober {
                Some(prober) => {
                    let bind = prober.local_addr();
                    prober.set_members(members(nodes.iter().map(|n| n.as_ref()), bind, self.settings.members_port));
                }
                None => {
                    self.alive = nodes.iter().map(|n| n.name_any()).collect();
                    self.apply_members();
                }
            }
            self.tell_leaving();
        }
        self.step(Input::Listed);
        if self.membership.prober.is_none() {
            self.start_prober(stores).await;
        }
    }

    fn refresh_keys(&mut self, stores: &Stores) {
        let secret = stores.secrets.state().into_iter().find(|s| s.name_any() == self.settings.memberlist_secret);
        let keys = match secret {
            Some(secret) => member_keys(&secret, &self.settings.memberlist_key).map_err(|e| e.to_string()),
            None => Err("the Secret does not exist".to_owned()),
        };
        match keys {
            Ok(keys) => {
                if let Some(prober) = &self.membership.prober {
                    prober.set_keys(keys.clone());
                }
                self.membership.keys = Some(keys);
                self.membership.keys_problem = None;
            }
            Err(problem) => {
                if self.membership.keys_problem.as_ref() != Some(&problem) {
                    warn!(secret = %self.settings.memberlist_secret, %problem,
                        "no member keys: speakers cannot detect each other's failure; ownership follows Node objects only");
                    self.membership.keys_problem = Some(problem);
                }
            }
        }
    }

    async fn start_prober(&mut self, stores: &Stores) {
        let Some(keys) = self.membership.keys.clone() else { return };
        if self.own_ips.is_empty() {
            return;
        }
        let port = self.settings.members_port;
        let bind = member_bind(&self.own_ips, port);
        let mut config = ProberConfig::new(self.settings.node.clone(), bind, boot_id());
        config.table.restart_window = self.settings.restart_window.unwrap_or(config.table.suspect_after);
        let nodes = stores.nodes.state();
        match Prober::start(config, keys, members(nodes.iter().map(|n| n.as_ref()), bind, port)).await {
            Ok(prober) => {
                info!(%bind, "member prober started");
                self.out.health.metrics.set_member_counters(prober.counters());
                let mut view = prober.view();
                let first = view.borrow_and_update().clone();
                self.membership.view = Some(view);
                prober.set_link_up(link_up(&self.out.interfaces.borrow(), &self.own_ips));
                self.membership.prober = Some(prober);
                self.tell_leaving();
                self.step(Input::ProberStarted { now: Instant::now().into_std() });
                self.on_members(first);
            }
            Err(error) => warn!(%error, "the member prober cannot start; retried on the next change"),
        }
    }

    fn on_members(&mut self, view: MemberView) {
        info!(alive = ?view.alive, healthy = view.healthy, "member view changed");
        self.alive = view.alive;
        self.heard = view.heard;
        self.healthy = view.healthy;
        self.apply_members();
        self.publish();
    }

    /// Tells the announcer who is alive; a leaving speaker ranks itself out, as the others do.
    fn apply_members(&mut self) {
        let self_healthy = self.healthy && !self.phase.leaving();
        self.announcer.set_members(Members { alive: self.alive.clone(), self_healthy });
    }

    /// Tells the other speakers whether this node is leaving (stopping, or its Node excluded).
    fn tell_leaving(&self) {
        if let Some(prober) = &self.membership.prober {
            prober.set_leaving(self.phase.leaving() || self.excluded);
        }
    }

    /// SIGTERM: restarts in place or hands every address over ([`stop`]).
    fn stop_asked(&mut self) {
        let window_on = self.settings.restart_window.is_some() && self.membership.prober.is_some();
        match stop_kind(window_on, self.phase == Phase::Running, self.node_service) {
            StopKind::RestartInPlace => {
                info!(addresses = self.owned.len(), "restarting: keeping this node's addresses for the next process");
                self.restarting = true;
                self.step(Input::Shutdown);
            }
            StopKind::HandOver => self.leave(),
        }
    }

    /// Hands every address over (when answering), then stops.
    fn leave(&mut self) {
        self.step(Input::Leave { now: Instant::now().into_std() });
        if self.phase == Phase::Stopping {
            return;
        }
        // Rank ourselves out and start the releases first, then tell the others: they take over
        // only once this node is already keeping the addresses answered.
        self.apply_members();
        self.publish();
        self.tell_leaving();
        self.check_released();
    }

    /// Another node announced an address: a release of it ends.
    fn on_heard(&mut self, heard: &Heard) {
        let ours: Vec<MacAddr> = self.out.interfaces.borrow().iter().map(|i| i.mac).collect();
        if ours.contains(&heard.announcement.mac) {
            return;
        }
        let (ip, mac) = (heard.announcement.ip, heard.announcement.mac);
        debug!(%ip, %mac, interface = %heard.interface, "heard another node announce an address");
        if self.owned.contains_key(&ip) && self.phase.reports() {
            // Another node took this address for a while (it thought this one dead) and removed
            // this node's ServiceL2Status when it did: check it.
            warn!(%ip, %mac, "another node announced an address this node owns");
            self.out.status_check.notify_one();
        }
        if let Some(ended) = self.releases.heard(ip, mac, heard.at) {
            self.record(&ended);
            self.hand_to_responder();
            self.check_released();
        }
    }

    /// Ends the releases whose bound passed.
    fn expire_releases(&mut self) {
        let ended = self.releases.expire(Instant::now().into_std());
        if ended.is_empty() {
            return;
        }
        for ended in &ended {
            self.record(ended);
        }
        self.hand_to_responder();
        self.check_released();
    }

    /// A leaving speaker stops once nothing is being handed over.
    fn check_released(&mut self) {
        if self.releases.is_empty() {
            self.step(Input::Released);
        }
    }

    /// Logs and counts an ended release, in a span naming the address, its Services and this node.
    fn record(&self, ended: &Ended) {
        let span = info_span!("handoff", ip = %ended.ip, service = ?ended.handoff.services, node = %self.settings.node,
            successor = %ended.handoff.successor);
        let _entered = span.enter();
        let after_ms = u64::try_from(ended.after.as_millis()).unwrap_or(u64::MAX);
        match ended.outcome {
            Outcome::Heard { mac } => info!(%mac, after_ms, "handed over: heard the new owner announce it"),
            Outcome::Bound => warn!(after_ms, "handed over: the new owner's announcement was not heard in time"),
            Outcome::Cut => warn!(after_ms, "handoff cut short: this node is unhealthy"),
            Outcome::Regained => info!(after_ms, "handoff ended: the address is this node's again"),
        }
        self.out.health.metrics.count_handoff(ended.outcome.as_str());
    }

    /// Gives the responder what it answers: the owned addresses, and those being handed over.
    fn hand_to_responder(&self) {
        let mut answered = self.owned.clone();
        for (ip, address) in self.releases.answering() {
            answered.entry(ip).or_insert_with(|| OwnedAddress { releasing: true, ..address.clone() });
        }
        self.out.layer2.set_owned(answered);
    }

    fn on_link(&mut self) {
        if let Some(prober) = &self.membership.prober {
            let up = link_up(&self.out.interfaces.borrow(), &self.own_ips);
            debug!(up, "node-network link state");
            prober.set_link_up(up);
        }
    }

    /// Tells the stray relay what this decision covers ([`relay::Wanted::from_decision`]).
    fn tell_relay(&self, layer2: &crate::announcer::Layer2Decision, bgp: &BgpDecision) {
        let Some(relay) = &self.out.relay else { return };
        let heard = self.membership.prober.is_some().then_some(&self.heard);
        let wanted = relay::Wanted::from_decision(layer2, bgp, &self.settings.node, heard, &self.node_ips);
        relay.send_if_modified(|current| {
            let changed = *current != wanted;
            if changed {
                *current = wanted;
            }
            changed
        });
    }

    /// Decides, and hands the answer on.
    fn publish(&mut self) {
        if !self.phase.decides() {
            return;
        }
        let started = std::time::Instant::now();
        let decision = self.announcer.decide();
        self.decide_cost = started.elapsed();
        let answers = self.phase.answers_layer2();
        let now = std::time::Instant::now();
        let owned = if answers { owned_addresses(&decision.layer2) } else { OwnedAddresses::new() };
        let mut services_of = BTreeMap::new();
        for (ip, announcement) in &decision.layer2.owned {
            let services: Vec<String> = announcement.services.iter().map(ToString::to_string).collect();
            if answers && !self.owned.contains_key(ip) {
                info!(%ip, ?services, node = %self.settings.node, "announcing");
                if let Some(ended) = self.releases.gain(*ip, now) {
                    self.record(&ended);
                }
            }
            services_of.insert(*ip, services);
        }
        // Given up on purpose while healthy, to a node that takes it: keep answering until it announces.
        let hand_over = answers && self.healthy;
        for (ip, address) in self.owned.iter().filter(|(ip, _)| !owned.contains_key(*ip)) {
            let successor = decision.layer2.elsewhere.get(ip).filter(|_| hand_over);
            let Some(successor) = successor else {
                info!(%ip, node = %self.settings.node, "no longer announcing");
                continue;
            };
            let services = self.owned_services.get(ip).cloned().unwrap_or_default();
            info!(%ip, ?services, node = %self.settings.node, %successor, "handing over: answering until the new owner announces it");
            let handoff = Handoff { successor: successor.clone(), services };
            if let Some(ended) = self.releases.release(*ip, address.clone(), handoff, now) {
                self.record(&ended);
            }
        }
        if !hand_over {
            for ended in self.releases.cut_all(now) {
                self.record(&ended);
            }
        }
        self.owned = owned;
        self.owned_services = services_of;
        self.hand_to_responder();
        if self.phase.leaving() {
            self.check_released();
        }

        self.tell_relay(&decision.layer2, &decision.bgp);
        let bgp = decision.bgp;
        self.out.bgp_decision.send_if_modified(|current| {
            let changed = **current != bgp;
            if changed {
                *current = Arc::new(bgp);
            }
            changed
        });
        if !self.phase.reports() {
            return;
        }
        let announced = announced_services(&decision.layer2, &self.out.interfaces.borrow());
        let layer2 = announced.iter().flat_map(|(service, a)| a.addresses.iter().map(|ip| (service.clone(), *ip)));
        self.out.health.metrics.set_announced(Announced {
            node: self.settings.node.clone(),
            bgp: self.out.bgp_decision.borrow().clone(),
            layer2: layer2.collect(),
        });
        // The first report always reaches the writer, which waits for it before writing anything.
        let first = !self.reported;
        self.reported = true;
        self.out.status.send_if_modified(|current| {
            let changed = first || *current != announced;
            if changed {
                *current = announced;
            }
            changed
        });
    }
}

/// A number drawn at process start, naming this incarnation in heartbeats.
fn boot_id() -> BootId {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    let fallback = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or_default()
        ^ u64::from(std::process::id());
    let drawn = u64::from_le_bytes(bytes);
    BootId(if drawn == 0 { fallback } else { drawn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_widens_only_when_deciding_is_costly() {
        let ms = Duration::from_millis;
        assert_eq!(window(Duration::ZERO), (ms(5), ms(25)));
        assert_eq!(window(ms(3)), (ms(5), ms(25)));
        assert_eq!(window(ms(20)), (ms(20), ms(80)));
    }
}
