//! Carries a [`Schedule`] out in a lab of three light nodes, two controller replicas and the
//! router, checks the [`invariants`](super::invariants) throughout and after the last fault, and
//! reports.
//!
//! The API is polled every 250 ms for addresses held twice; two sentinel Layer2 Services, created
//! first and never touched, are asked for by ARP from the client every 50 ms under a capture, so
//! any moment their address is claimed from two MACs shows. After the last fault is healed, the
//! settled checks are polled until they all hold (the settle time) or 60 s pass.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::net::IpAddr;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ferrolb_crds::IPAddressPool;
use ferrolb_lab::{Lab, LabOptions};
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::ListParams;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::sync::Mutex;

use super::invariants::{
    DoubleWindow, SeenPool, SeenService, Violation, counters, desired_routes, double_answers, pending_with_room,
    routes_differ, shared_wrongly,
};
use super::schedule::{Fault, FaultWindow, NODES, Op, Pool, PoolSize, Schedule, schedule};
use crate::{controller_leader, ingress, ready, wait_accepted};

type Result<T = ()> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The BGP sessions of the run: one per family with the lab router, short hold time.
const PEERS: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v6}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: '2001:db8:1::1', holdTime: 3s, keepaliveTime: 1s}\n";
/// The sentinel Layer2 Services' names.
const SENTINELS: [&str; 2] = ["sentinel-1", "sentinel-2"];
/// How long settling may take before what still fails counts as violations.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);
/// Two MACs claiming an address closer than this count as two answers.
const DOUBLE_WITHIN: Duration = Duration::from_millis(40);
/// The member port, whose datagrams the partitions drop.
const MEMBERS_PORT: &str = "7946";

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed: the same seed makes the same schedule.
    pub seed: u64,
    /// How long operations and faults go on.
    pub length: Duration,
    /// Progress lines on stderr.
    pub verbose: bool,
}

/// What a run did and found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The length asked for.
    pub length: Duration,
    /// Operations done, by kind.
    pub ops: BTreeMap<&'static str, usize>,
    /// Operations the API refused or did not answer within 15 s (retried meanwhile).
    pub ops_failed: usize,
    /// Faults injected.
    pub faults: Vec<FaultWindow>,
    /// Snapshots of the API taken while the run went on, and how many the API did not answer.
    pub polls: (usize, usize),
    /// Broken promises, with when they were seen (from the start of the run).
    pub violations: Vec<(Duration, Violation)>,
    /// Every stretch during which a sentinel's address was claimed from two MACs.
    pub doubles: Vec<DoubleWindow>,
    /// From the end of the last fault until every settled check held.
    pub settle: Option<Duration>,
}

impl Report {
    /// No promise broken.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "chaos run: seed {}, {} s of operations and faults\n\n| operations | count |\n|---|---|\n",
            self.seed,
            self.length.as_secs()
        );
        for (kind, n) in &self.ops {
            out.push_str(&format!("| {kind} | {n} |\n"));
        }
        out.push_str(&format!(
            "| (failed after retries) | {} |\n\n| fault | at | healed |\n|---|---|---|\n",
            self.ops_failed
        ));
        for f in &self.faults {
            out.push_str(&format!(
                "| {} {} | {:.1} s | {:.1} s |\n",
                f.fault.kind(),
                fault_target(&f.fault),
                f.start.as_secs_f64(),
                f.end.as_secs_f64()
            ));
        }
        out.push_str(&format!(
            "\nAPI snapshots: {} ({} unanswered)\nsettled {} after the last fault\n",
            self.polls.0,
            self.polls.1,
            self.settle.map_or("never (60 s limit)".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
        ));
        out.push_str(&format!("two MACs for one address: {} window(s)\n", self.doubles.len()));
        for w in &self.doubles {
            out.push_str(&format!(
                "  {} from {:.2} s to {:.2} s ({} ms): {:?}\n",
                w.ip,
                w.from.as_secs_f64(),
                w.to.as_secs_f64(),
                w.to.saturating_sub(w.from).as_millis(),
                w.macs
            ));
        }
        out.push_str(&format!("violations: {}\n", self.violations.len()));
        for (at, v) in &self.violations {
            out.push_str(&format!("  at {:.1} s: {}: {}\n", at.as_secs_f64(), v.rule, v.detail));
        }
        out
    }
}

fn fault_target(fault: &Fault) -> String {
    match fault {
        Fault::FreezeSpeaker(n) | Fault::CutLink(n) | Fault::OneWay(n) => n.clone(),
        Fault::Partition(a, b) => format!("{a} | {b}"),
        Fault::KillLeader | Fault::RestartApiserver | Fault::RestartRouter => String::new(),
    }
}

/// Brings a lab up, runs the schedule of `options` in it, takes it down, and reports.
pub async fn run(options: Options) -> Result<Report> {
    let plan = schedule(options.seed, options.length);
    let opts = LabOptions { nodes: 3, controllers: 2, verbose: options.verbose, ..LabOptions::for_test() };
    let mut lab = Lab::up(opts).await?;
    let result = run_in(&mut lab, &plan, &options).await;
    if !result.as_ref().is_ok_and(Report::ok) {
        // The processes' logs, to find out why: target/chaos/seed-N/.
        let kept = crate::repo().join("target").join("chaos").join(format!("seed-{}", options.seed));
        let _ = std::fs::remove_dir_all(&kept);
        let _ = std::fs::create_dir_all(&kept);
        let copied = std::process::Command::new("cp").arg("-r").arg(lab.state_dir().join("logs")).arg(&kept).status();
        if copied.is_ok_and(|s| s.success()) {
            eprintln!("chaos: the lab's logs are kept in {}", kept.display());
        }
    }
    lab.down()?;
    result
}

struct Run<'a> {
    lab: &'a mut Lab,
    start: Instant,
    report: Report,
    backends: BTreeMap<String, Vec<String>>,
    verbose: bool,
    /// The controller replica a fault killed, to start again when it is healed.
    killed: Option<String>,
}

async fn run_in(lab: &mut Lab, plan: &Schedule, options: &Options) -> Result<Report> {
    lab.check_daemons()?;
    let pools = format!("{PEERS}---\n{}---\n{}", Pool::L2.manifest(PoolSize::Full), Pool::Bgp.manifest(PoolSize::Full));
    lab.apply(&pools)?;
    for pool in ["l2", "bgp"] {
        wait_accepted::<IPAddressPool>(lab, pool, "True", Duration::from_secs(15)).await?;
    }
    let all: Vec<&str> = NODES.to_vec();
    let mut sentinel_ips = Vec::new();
    for (i, name) in SENTINELS.iter().enumerate() {
        let port = 7001 + u16::try_from(i).unwrap_or(0);
        lab.apply(&crate::lb_service(name, port, "ferrolb.io/address-pool: l2", ""))?;
        lab.backends("default", name, &ready(&all)).await?;
        let ips = crate::wait_ingress(lab, "default", name, 1, Duration::from_secs(10)).await?.0;
        sentinel_ips.extend(ips);
    }
    let mut capture = lab.capture_arp("l2client")?;
    let probes = (options.length + SETTLE_LIMIT).as_millis() / 50;
    let mut asking: Vec<Child> = Vec::new();
    for ip in &sentinel_ips {
        asking.push(lab.arping_in_background(
            "l2client",
            *ip,
            Duration::from_millis(50),
            u32::try_from(probes).unwrap_or(u32::MAX),
        )?);
    }

    let (start, start_wall) = (Instant::now(), SystemTime::now());
    let violations = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (polls, unanswered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let watcher = tokio::spawn(watch_sharing(
        lab.kubeconfig(),
        start,
        Arc::clone(&violations),
        Arc::clone(&stop),
        (Arc::clone(&polls), Arc::clone(&unanswered)),
    ));

    let mut run = Run {
        lab,
        start,
        report: Report { seed: options.seed, length: options.length, ..Report::default() },
        backends: SENTINELS.iter().map(|s| ((*s).to_owned(), all.iter().map(|n| (*n).to_owned()).collect())).collect(),
        verbose: options.verbose,
        killed: None,
    };
    run.play(plan).await;
    let last_heal = run.report.faults.last().map_or(Duration::ZERO, |f| f.end);
    let settled = run.settle().await?;
    run.report.settle = settled.then(|| run.start.elapsed().saturating_sub(last_heal));
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.await;
    for mut child in asking {
        let _ = child.kill();
        let _ = child.wait();
    }
    run.check_layer2().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let claims: Vec<(Duration, IpAddr, String)> = capture
        .all()
        .iter()
        .filter_map(|p| {
            let ip = sentinel_ips.iter().find(|ip| p.claims(**ip))?;
            let at = p.at.duration_since(start_wall).unwrap_or_default();
            Some((at, *ip, p.source_mac.clone()))
        })
        .collect();
    let doubles = double_answers(&claims, DOUBLE_WITHIN);
    for window in &doubles {
        // The goal: no two answers once a fault has been healed for a second.
        let during =
            plan.faults.iter().find(|f| f.start <= window.from && window.from <= f.end + Duration::from_secs(1));
        let allowed_until = during.map_or(window.from, |f| f.end) + Duration::from_secs(1);
        if window.to > allowed_until {
            run.report.violations.push((
                window.from,
                Violation {
                    rule: "exactly one MAC answers each address (two allowed only until a fault has been healed for 1 s)",
                    detail: format!("{}: {:?} from {:?} to {:?}", window.ip, window.macs, window.from, window.to),
                },
            ));
        }
    }
    run.report.doubles = doubles;
    run.report.polls = (polls.load(Ordering::Relaxed), unanswered.load(Ordering::Relaxed));
    let mut report = run.report;
    report.violations.extend(violations.lock().await.drain(..));
    report.violations.sort_by_key(|(at, _)| *at);
    Ok(report)
}

/// Polls the API every 250 ms for addresses held by two Services that may not share them. The
/// client is made again from the kubeconfig after a failure (a restarted API server forwards
/// another port).
async fn watch_sharing(
    kubeconfig: std::path::PathBuf,
    start: Instant,
    out: Arc<Mutex<Vec<(Duration, Violation)>>>,
    stop: Arc<AtomicBool>,
    (polls, unanswered): (Arc<AtomicUsize>, Arc<AtomicUsize>),
) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut client = None;
    while !stop.load(Ordering::Relaxed) {
        polls.fetch_add(1, Ordering::Relaxed);
        if client.is_none() {
            client = ferrolb_lab::cluster::client(&kubeconfig).await.ok();
        }
        let listed = match &client {
            Some(client) => services(client).await,
            None => Err("no client".into()),
        };
        match listed {
            Ok(services) => {
                for v in shared_wrongly(&services) {
                    // Each distinct finding once.
                    if seen.insert(v.detail.clone()) {
                        out.lock().await.push((start.elapsed(), v));
                    }
                }
            }
            Err(_) => {
                unanswered.fetch_add(1, Ordering::Relaxed);
                client = None;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The LoadBalancer Services of namespace `default`, as the invariants read them.
async fn services(client: &kube::Client) -> Result<Vec<SeenService>> {
    let api: Api<Service> = Api::namespaced(client.clone(), "default");
    let list = tokio::time::timeout(Duration::from_secs(2), api.list(&ListParams::default())).await??;
    Ok(list
        .items
        .iter()
        .filter(|s| s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer"))
        .map(|s| {
            let annotations = s.metadata.annotations.clone().unwrap_or_default();
            let spec = s.spec.clone().unwrap_or_default();
            SeenService {
                name: s.metadata.name.clone().unwrap_or_default(),
                ips: ingress(s),
                sharing_key: annotations.get("ferrolb.io/allow-shared-ip").cloned(),
                requested: annotations
                    .get("ferrolb.io/loadBalancerIPs")
                    .map(|v| v.split(',').filter_map(|ip| ip.trim().parse().ok()).collect())
                    .unwrap_or_default(),
                pool: annotations.get("ferrolb.io/address-pool").cloned(),
                dual_stack: spec.ip_family_policy.as_deref() == Some("RequireDualStack"),
                local: spec.external_traffic_policy.as_deref() == Some("Local"),
            }
        })
        .collect())
}

/// The pools, as the invariants read them.
async fn pools(client: &kube::Client) -> Result<Vec<SeenPool>> {
    let api: Api<IPAddressPool> = Api::all(client.clone());
    let list = tokio::time::timeout(Duration::from_secs(2), api.list(&ListParams::default())).await??;
    Ok(list
        .items
        .iter()
        .map(|p| {
            let status = p.status.clone().unwrap_or_default();
            SeenPool {
                name: p.metadata.name.clone().unwrap_or_default(),
                ranges: p.spec.addresses.iter().filter_map(|a| a.parse().ok()).collect(),
                assigned: [status.assigned_ipv4, status.assigned_ipv6],
                available: [status.available_ipv4, status.available_ipv6],
            }
        })
        .collect())
}

/// The router's BGP routes (host routes only), with their next hops.
fn router_routes(lab: &Lab) -> Result<BTreeMap<IpAddr, BTreeSet<IpAddr>>> {
    let mut out = BTreeMap::new();
    for family in ["-4", "-6"] {
        let json = lab.exec_ok("router", &["ip", family, "-j", "route", "show", "proto", "bgp"])?;
        let routes: serde_json::Value = serde_json::from_str(if json.trim().is_empty() { "[]" } else { &json })?;
        for route in routes.as_array().into_iter().flatten() {
            let Some(dst) = route["dst"].as_str().and_then(|d| d.split('/').next()?.parse::<IpAddr>().ok()) else {
                continue;
            };
            let gateways = route["nexthops"]
                .as_array()
                .map(|n| n.iter().map(|h| h["gateway"].clone()).collect::<Vec<_>>())
                .unwrap_or_else(|| vec![route["gateway"].clone()]);
            let hops: BTreeSet<IpAddr> = gateways.iter().filter_map(|g| g.as_str()?.parse().ok()).collect();
            out.insert(dst, hops);
        }
    }
    Ok(out)
}

fn node_ips(lab: &Lab) -> BTreeMap<String, [IpAddr; 2]> {
    NODES
        .iter()
        .filter_map(|n| lab.plan().host(n).map(|h| ((*n).to_owned(), [IpAddr::V4(h.v4()), IpAddr::V6(h.v6())])))
        .collect()
}

impl Run<'_> {
    fn say(&self, line: &str) {
        if self.verbose {
            eprintln!("[{:6.1}s] {line}", self.start.elapsed().as_secs_f64());
        }
    }

    /// Every operation and fault at its time.
    async fn play(&mut self, plan: &Schedule) {
        enum Event<'p> {
            Op(&'p Op),
            Inject(&'p FaultWindow),
            Heal(&'p FaultWindow),
        }
        let mut events: Vec<(Duration, u8, Event)> = Vec::new();
        events.extend(plan.ops.iter().map(|o| (o.at, 2, Event::Op(&o.what))));
        events.extend(plan.faults.iter().map(|f| (f.start, 1, Event::Inject(f))));
        events.extend(plan.faults.iter().map(|f| (f.end, 0, Event::Heal(f))));
        events.sort_by_key(|(at, order, _)| (*at, *order));
        for (at, _, event) in events {
            tokio::time::sleep_until((self.start + at).into()).await;
            match event {
                Event::Op(op) => self.operate(op).await,
                Event::Inject(window) => {
                    self.say(&format!("fault: {} {}", window.fault.kind(), fault_target(&window.fault)));
                    let at = self.start.elapsed();
                    if let Err(e) = self.inject(&window.fault).await {
                        self.say(&format!("  could not inject: {e}"));
                    }
                    // As it happened: an operation or a restart before it may have run late.
                    self.report.faults.push(FaultWindow {
                        start: at,
                        end: self.start.elapsed(),
                        fault: window.fault.clone(),
                    });
                }
                Event::Heal(window) => {
                    if let Err(e) = self.heal(&window.fault).await {
                        self.say(&format!("  could not heal {}: {e}", window.fault.kind()));
                    }
                    if let Some(last) = self.report.faults.last_mut() {
                        last.end = self.start.elapsed();
                    }
                }
            }
        }
    }

    async fn operate(&mut self, op: &Op) {
        *self.report.ops.entry(op.kind()).or_default() += 1;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let done = match op {
                Op::Apply(spec) => match self.lab.apply(&spec.manifest()) {
                    Ok(_) => {
                        let nodes: Vec<&str> = spec.backends.iter().map(String::as_str).collect();
                        self.backends.insert(spec.name.clone(), spec.backends.clone());
                        self.lab
                            .backends("default", &spec.name, &ready(&nodes))
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                },
                Op::Delete(name) => {
                    self.backends.remove(name);
                    self.lab
                        .kubectl(&["delete", "service", name, "--ignore-not-found", "--wait=false"])
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                Op::Resize(pool, size) => self.lab.apply(&pool.manifest(*size)).map(|_| ()).map_err(|e| e.to_string()),
            };
            match done {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => {
                    self.say(&format!("operation {} failed: {e}", op.kind()));
                    self.report.ops_failed += 1;
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    fn speaker_pid(&self, node: &str) -> Result<Pid> {
        Ok(Pid::from_raw(self.lab.daemon_pid(&format!("ferrolb-speaker-{node}"))?))
    }

    /// nftables in `node`'s namespace dropping its outgoing heartbeats, to everyone or to `to`.
    fn drop_heartbeats(&self, node: &str, to: Option<&str>) -> Result {
        let mut rules = vec![
            "add table inet flbchaos".to_owned(),
            "add chain inet flbchaos out { type filter hook output priority 0 ; }".to_owned(),
        ];
        match to.and_then(|peer| self.lab.plan().host(peer)) {
            Some(peer) => {
                rules.push(format!("add rule inet flbchaos out ip daddr {} udp dport {MEMBERS_PORT} drop", peer.v4()));
                rules.push(format!("add rule inet flbchaos out ip6 daddr {} udp dport {MEMBERS_PORT} drop", peer.v6()));
            }
            None => rules.push(format!("add rule inet flbchaos out udp dport {MEMBERS_PORT} drop")),
        }
        for rule in rules {
            let mut args = vec!["nft"];
            args.extend(rule.split(' '));
            self.lab.exec_ok(node, &args)?;
        }
        Ok(())
    }

    fn allow_heartbeats(&self, node: &str) -> Result {
        self.lab.exec_ok(node, &["nft", "delete", "table", "inet", "flbchaos"])?;
        Ok(())
    }

    async fn inject(&mut self, fault: &Fault) -> Result {
        match fault {
            Fault::KillLeader => {
                let leader = controller_leader(self.lab);
                if leader.is_empty() {
                    return Err("no controller leads".into());
                }
                self.say(&format!("  the leader is {leader}"));
                self.lab.kill9(&leader)?;
                self.killed = Some(leader);
            }
            Fault::RestartApiserver => {
                self.lab.restart("apiserver")?;
            }
            Fault::FreezeSpeaker(node) => kill(self.speaker_pid(node)?, Signal::SIGSTOP)?,
            Fault::CutLink(node) => self.lab.link_down(node)?,
            Fault::Partition(a, b) => {
                self.drop_heartbeats(a, Some(b))?;
                self.drop_heartbeats(b, Some(a))?;
            }
            Fault::OneWay(node) => self.drop_heartbeats(node, None)?,
            Fault::RestartRouter => {
                self.lab.restart("bgpd")?;
            }
        }
        Ok(())
    }

    async fn heal(&mut self, fault: &Fault) -> Result {
        match fault {
            Fault::KillLeader => {
                if let Some(leader) = self.killed.take() {
                    self.lab.restart(&leader)?;
                }
            }
            Fault::RestartApiserver | Fault::RestartRouter => {}
            Fault::FreezeSpeaker(node) => kill(self.speaker_pid(node)?, Signal::SIGCONT)?,
            Fault::CutLink(node) => self.lab.link_up(node)?,
            Fault::Partition(a, b) => {
                self.allow_heartbeats(a)?;
                self.allow_heartbeats(b)?;
            }
            Fault::OneWay(node) => self.allow_heartbeats(node)?,
        }
        Ok(())
    }

    /// Polls the settled checks until they all hold (true) or [`SETTLE_LIMIT`] passes (false: what
    /// still fails becomes violations).
    async fn settle(&mut self) -> Result<bool> {
        let limit = Instant::now() + SETTLE_LIMIT;
        let nodes = node_ips(self.lab);
        loop {
            let client = self.lab.client().await?;
            let found = match (services(&client).await, pools(&client).await) {
                (Ok(services), Ok(pools)) => {
                    let mut found = pending_with_room(&services, &pools);
                    found.extend(counters(&services, &pools));
                    if let Some(bgp) = pools.iter().find(|p| p.name == "bgp") {
                        let want = desired_routes(&services, bgp, &self.backends, &nodes);
                        found.extend(routes_differ(&want, &router_routes(self.lab)?));
                    }
                    found
                }
                (Err(e), _) | (_, Err(e)) => {
                    vec![Violation { rule: "the API answers after settling", detail: e.to_string() }]
                }
            };
            if found.is_empty() {
                self.say("settled");
                return Ok(true);
            }
            if Instant::now() > limit {
                let at = self.start.elapsed();
                self.report.violations.extend(found.into_iter().map(|v| (at, v)));
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// After settling: every Layer2 IPv4 address held is answered by exactly one MAC.
    async fn check_layer2(&mut self) -> Result {
        let client = self.lab.client().await?;
        let l2 = pools(&client).await?.into_iter().find(|p| p.name == "l2").ok_or("no l2 pool")?;
        let held: BTreeSet<IpAddr> = services(&client)
            .await?
            .iter()
            .flat_map(|s| s.ips.iter().copied())
            .filter(|ip| ip.is_ipv4() && l2.ranges.iter().any(|r| r.contains(*ip)))
            .collect();
        for ip in held {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let macs = self.lab.arping("l2client", ip, 3)?;
                let one = !macs.is_empty() && macs.iter().all(|m| *m == macs[0]);
                if one {
                    break;
                }
                if Instant::now() > deadline {
                    self.report.violations.push((
                        self.start.elapsed(),
                        Violation {
                            rule: "after settling, exactly one MAC answers each Layer2 address",
                            detail: format!("{ip}: replies from {macs:?}"),
                        },
                    ));
                    break;
                }
            }
        }
        Ok(())
    }
}
