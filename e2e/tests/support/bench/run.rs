//! The order of a benchmark run: for each group of scenarios a fresh lab per implementation,
//! the implementations alternating which goes first; every lab readied the same way.

use std::path::Path;
use std::time::{Duration, Instant};

use ferrolb_lab::{Lab, LabOptions, Mode};
use kube::api::Api;

use super::implementation::Implementation;
use super::results::{Machine, Results};
use super::scenarios::{Bench, NODES, Result, SETTLE, TIMEOUT};
use super::watch::{NAMESPACE, Timeline};
use crate::{host_prefix, kernel_nexthops_in};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Trials of each latency scenario (create, delete, endpoints to route).
    pub trials: usize,
    /// Trials of each failover scenario.
    pub failover_trials: usize,
    /// Burst sizes for create -> EXTERNAL-IP.
    pub bursts: Vec<usize>,
    /// Services in the scale scenario (0: skip it).
    pub scale: usize,
    /// Seconds of the idle measurement (0: skip it).
    pub idle_seconds: u64,
    /// Run the Layer2 failover and BGP scenarios (else only the controller's).
    pub dataplane: bool,
    /// Which implementations.
    pub implementations: Vec<Implementation>,
    /// Progress on stderr.
    pub verbose: bool,
}

impl Options {
    /// The full run docs/benchmarks.md reports.
    pub fn full() -> Self {
        Options {
            trials: 20,
            failover_trials: 20,
            bursts: vec![100, 1000],
            scale: 10_000,
            idle_seconds: 60,
            dataplane: true,
            implementations: Implementation::BOTH.to_vec(),
            verbose: true,
        }
    }

    /// The smoke run `make test` makes (`tests/bench.rs`): the controller's scenarios, briefly,
    /// against each implementation in a Layer2 lab of its own; no failover, BGP or scale.
    pub fn smoke() -> Self {
        Options {
            trials: 2,
            failover_trials: 1,
            bursts: vec![10],
            scale: 0,
            idle_seconds: 3,
            dataplane: false,
            implementations: Implementation::BOTH.to_vec(),
            verbose: true,
        }
    }
}

/// The groups of scenarios, each in a lab of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// The controller's scenarios and Layer2 failover, in a Layer2 lab.
    Layer2,
    /// The BGP scenarios, in a BGP lab.
    Bgp,
    /// The scale scenario, in a Layer2 lab of its own.
    Scale,
}

/// Runs the benchmark; `command` is recorded in the results.
pub async fn run(options: &Options, command: &str) -> Result<Results> {
    let mut results = Results {
        started: now_utc(),
        command: command.to_owned(),
        machine: machine(),
        versions: versions(),
        ..Results::default()
    };
    let mut groups = vec![Group::Layer2];
    if options.dataplane {
        groups.push(Group::Bgp);
    }
    if options.scale > 0 {
        groups.push(Group::Scale);
    }
    for (g, group) in groups.into_iter().enumerate() {
        let mut order = options.implementations.clone();
        if g % 2 == 1 {
            order.reverse();
        }
        for imp in order {
            // Memberlist's timings matter to Layer2 alone, BFD to BGP alone.
            if (imp == Implementation::MetallbTuned && group != Group::Layer2)
                || (imp == Implementation::FerrolbBfd && group != Group::Bgp)
            {
                continue;
            }
            let started = Instant::now();
            let mut bench = ready_lab(imp, group, options.verbose).await?;
            run_group(&mut bench, group, options, &mut results).await?;
            if options.verbose {
                eprintln!("bench [{}] {group:?} done in {:.0} s", imp.name(), started.elapsed().as_secs_f64());
            }
            bench.lab.down().map_err(|e| e.to_string())?;
        }
    }
    results.machine.load_after = load_average();
    Ok(results)
}

async fn run_group(bench: &mut Bench, group: Group, options: &Options, results: &mut Results) -> Result<()> {
    match group {
        Group::Layer2 => {
            if options.idle_seconds > 0 {
                results.figures.extend(bench.idle(options.idle_seconds).await?);
            }
            results.figures.push(bench.create_single(options.trials).await?);
            for n in &options.bursts {
                results.figures.push(bench.create_burst(*n).await?);
            }
            results.figures.push(bench.delete_reuse(options.trials.min(10)).await?);
            if options.dataplane {
                results.figures.extend(bench.l2_failover(options.failover_trials, false).await?);
                results.figures.extend(bench.l2_failover(options.failover_trials, true).await?);
            }
        }
        Group::Bgp => {
            results.figures.push(bench.bgp_endpoints_to_route(options.trials).await?);
            results.figures.push(bench.bgp_failover(options.failover_trials, false).await?);
            results.figures.push(bench.bgp_failover(options.failover_trials, true).await?);
        }
        Group::Scale => {
            let (figures, series) = bench.scale(options.scale).await?;
            results.figures.extend(figures);
            results.series.extend(series);
        }
    }
    Ok(())
}

/// A fresh 3-node lab of `imp` for `group`, configured, and serving: a probe Service with
/// backends on every node is answered (Layer2: one MAC answers ARP for it; BGP: the router has
/// every node as its next hop), then the lab is left to settle.
async fn ready_lab(imp: Implementation, group: Group, verbose: bool) -> Result<Bench> {
    let mode = if group == Group::Bgp { Mode::Bgp } else { Mode::L2 };
    if verbose {
        eprintln!("bench [{}] a {mode:?} lab for {group:?}", imp.name());
    }
    let opts = LabOptions {
        nodes: 3,
        mode,
        lb: imp.lb(),
        metallb_memberlist: imp.memberlist(),
        verbose: false,
        ..LabOptions::for_test()
    };
    let mut lab = Lab::up(opts).await.map_err(|e| e.to_string())?;
    lab.apply(&format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}}}\n"))
        .map_err(|e| e.to_string())?;
    let config = if mode == Mode::Bgp { imp.bgp_config() } else { imp.layer2_config() };
    apply_until_accepted(&lab, &config).await?;
    if imp == Implementation::FerrolbBfd {
        // The router's side of BFD: the same 100 ms x 3 for every node's session.
        let neighbors: Vec<String> =
            lab.plan().nodes().map(|node| format!("neighbor {} bfd profile fast", node.v4())).collect();
        let mut lines = vec![
            "bfd",
            "profile fast",
            "receive-interval 100",
            "transmit-interval 100",
            "exit",
            "exit",
            "router bgp 64512",
        ];
        lines.extend(neighbors.iter().map(String::as_str));
        lab.frr_configure(&lines).map_err(|e| e.to_string())?;
    }
    let client = lab.client().await.map_err(|e| e.to_string())?;
    let timeline = Timeline::start(client.clone()).await?;
    let services = Api::namespaced(client, NAMESPACE);
    let mut bench = Bench { lab, imp, timeline, services, verbose };
    let probe = "probe";
    bench.lab.apply(&crate::lb_service(probe, 80, "", "")).map_err(|e| e.to_string())?;
    bench.lab.backends("default", probe, &crate::ready(&NODES)).await.map_err(|e| e.to_string())?;
    let (ips, _) = crate::wait_ingress(&mut bench.lab, "default", probe, 1, TIMEOUT).await?;
    let ip = ips.first().copied().ok_or("the probe Service got no address")?;
    if mode == Mode::Bgp {
        let router = bench.lab.netns("router").map_err(|e| e.to_string())?.to_owned();
        let start = Instant::now();
        while kernel_nexthops_in(&router, &host_prefix(ip))?.len() < NODES.len() {
            if start.elapsed() > Duration::from_secs(90) {
                return Err(format!("{}: the router never had every node as next hop of {ip}", imp.name()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    } else {
        crate::layer2::arp_owner(&bench.lab, ip, Duration::from_secs(90)).await?;
    }
    bench.lab.kubectl(&["delete", "svc", probe, "-n", "default"]).map_err(|e| e.to_string())?;
    tokio::time::sleep(SETTLE).await;
    Ok(bench)
}

/// Applies configuration, again while the apiserver refuses it for a moment (CRDs just
/// installed are served a little after they are Established).
async fn apply_until_accepted(lab: &Lab, yaml: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        match lab.apply(yaml) {
            Ok(_) => return Ok(()),
            Err(e) if start.elapsed() > Duration::from_secs(30) => return Err(e.to_string()),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn now_utc() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine() -> Machine {
    let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse().ok()))
        .unwrap_or(0.0);
    Machine {
        cores: std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned(),
        load_before: load_average(),
        load_after: String::new(),
    }
}

fn versions() -> std::collections::BTreeMap<String, String> {
    let output = |program: &str, args: &[&str], dir: &Path| {
        std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let repo = crate::repo();
    let mut v = std::collections::BTreeMap::new();
    let profile = if cfg!(debug_assertions) { "debug build" } else { "release build" };
    v.insert("FerroLB".to_owned(), format!("{} ({profile})", output("git", &["rev-parse", "--short", "HEAD"], &repo)));
    v.insert("MetalLB".to_owned(), std::env::var("METALLB_VERSION").unwrap_or_else(|_| "v0.16.2".to_owned()));
    v.insert("Go".to_owned(), output("go", &["env", "GOVERSION"], &repo));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoke_run_is_a_short_layer2_run_of_both() {
        let (smoke, full) = (Options::smoke(), Options::full());
        assert!(!smoke.dataplane && smoke.scale == 0 && smoke.idle_seconds > 0 && !smoke.bursts.is_empty());
        assert_eq!(smoke.implementations, Implementation::BOTH.to_vec());
        assert!(smoke.trials < full.trials && smoke.bursts.iter().max() < full.bursts.iter().max());
    }
}
