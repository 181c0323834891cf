//! The benchmark's scenarios. Each runs against one lab of one implementation and returns
//! figures; the same code, timeouts and settling rules serve both implementations.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, PostParams};

use super::implementation::{ADDRESS_ANNOTATION, Implementation, POOL_ANNOTATION};
use super::results::{Figure, Series};
use super::watch::{NAMESPACE, Timeline};
use crate::{host_prefix, kernel_nexthops_in, lb_service_object, ready};
use ferrolb_lab::Lab;

pub type Result<T> = std::result::Result<T, String>;

/// How long any one awaited event may take before the trial counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// How long the lab is left alone between failover trials, for membership and sessions to
/// settle (the same for both).
pub const SETTLE: Duration = Duration::from_secs(10);
/// How long a cut link stays down in the Layer2 link-cut trials: longer than either
/// implementation takes to declare the node dead, so that the cut node's view has diverged.
pub const LINK_DOWN: Duration = Duration::from_secs(15);
/// The lab's nodes.
pub const NODES: [&str; 3] = ["node1", "node2", "node3"];

/// One lab of one implementation, as the scenarios use it.
pub struct Bench {
    pub lab: Lab,
    pub imp: Implementation,
    pub timeline: Timeline,
    pub services: Api<Service>,
    /// Progress lines on stderr.
    pub verbose: bool,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Bench {
    /// A figure of this implementation.
    pub fn figure(&self, scenario: &str, title: &str, unit: &str) -> Figure {
        Figure {
            scenario: scenario.into(),
            title: title.into(),
            implementation: self.imp.name().into(),
            unit: unit.into(),
            ..Figure::default()
        }
    }

    fn say(&self, what: &str) {
        if self.verbose {
            eprintln!("bench [{}] {what}", self.imp.name());
        }
    }

    async fn create(&self, name: &str, ipv6: bool, annotations: &[(&str, &str)]) -> Result<()> {
        let svc = lb_service_object(NAMESPACE, name, annotations, ipv6);
        self.services
            .create(&PostParams::default(), &svc)
            .await
            .map(|_| ())
            .map_err(|e| format!("creating {name}: {e}"))
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.services
            .delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(|e| format!("deleting {name}: {e}"))
    }

    /// Creates a Service with backends on every node and returns its address once assigned.
    async fn announced(&mut self, name: &str, annotations: &[(&str, &str)]) -> Result<IpAddr> {
        self.create(name, false, annotations).await?;
        self.lab.backends(NAMESPACE, name, &ready(&NODES)).await.map_err(err)?;
        let seen = self.timeline.wait_ingress(name, TIMEOUT).await.ok_or(format!("{name} got no address"))?;
        seen.ingress.and_then(|(_, ips)| ips.first().copied()).ok_or(format!("{name} got no address"))
    }

    /// create -> EXTERNAL-IP, one Service at a time: `trials` IPv4 Services from the default
    /// pool, each deleted once measured.
    pub async fn create_single(&mut self, trials: usize) -> Result<Figure> {
        self.say(&format!("create -> EXTERNAL-IP, {trials} single Services"));
        let mut fig = self.figure("create-single", "create → EXTERNAL-IP, one Service", "ms");
        for i in 0..trials {
            let name = format!("single-{i}");
            self.create(&name, false, &[]).await?;
            match self.timeline.wait_ingress(&name, TIMEOUT).await {
                Some(s) => fig.samples.push(ms(s.ingress.map(|(at, _)| at - s.added).unwrap_or_default())),
                None => fig.failures += 1,
            }
            self.delete(&name).await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(fig)
    }

    /// create -> EXTERNAL-IP for a burst of `n` IPv6 Services created at once (32 requests in
    /// flight), each Service's own latency; then the burst is deleted.
    pub async fn create_burst(&mut self, n: usize) -> Result<Figure> {
        self.say(&format!("create -> EXTERNAL-IP, a burst of {n}"));
        let mut fig = self.figure(&format!("create-burst-{n}"), &format!("create → EXTERNAL-IP, burst of {n}"), "ms");
        let prefix = format!("burst{n}-");
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        let created = futures::stream::iter(names.iter())
            .map(|name| self.create(name, true, &[(POOL_ANNOTATION, "burst")]))
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        if let Some(Err(e)) = created.into_iter().find(Result::is_err) {
            return Err(e);
        }
        let deadline = Instant::now() + TIMEOUT + Duration::from_millis(100 * n as u64);
        loop {
            let seen = self.timeline.with_prefix(&prefix);
            let done = seen.iter().filter(|s| s.ingress.is_some()).count();
            if done == n || Instant::now() > deadline {
                for s in seen {
                    match s.ingress {
                        Some((at, _)) => fig.samples.push(ms(at - s.added)),
                        None => fig.failures += 1,
                    }
                }
                fig.failures += n.saturating_sub(fig.samples.len() + fig.failures as usize) as u32;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.lab.kubectl(&["delete", "svc", "-n", NAMESPACE, "--all", "--wait=true", "--timeout=300s"]).map_err(err)?;
        Ok(fig)
    }

    /// delete -> address reusable: Service B asks for the address Service A holds and waits;
    /// A is deleted; the time until B has the address.
    pub async fn delete_reuse(&mut self, trials: usize) -> Result<Figure> {
        self.say(&format!("delete -> address reusable, {trials} trials"));
        let mut fig = self.figure("delete-reuse", "delete → address reusable", "ms");
        for i in 0..trials {
            let (a, b) = (format!("holder-{i}"), format!("waiter-{i}"));
            let address = format!("2001:db8:300::{:x}", 0x100 + i);
            let asks = [(POOL_ANNOTATION, "burst"), (ADDRESS_ANNOTATION, address.as_str())];
            self.create(&a, true, &asks).await?;
            if self.timeline.wait_ingress(&a, TIMEOUT).await.is_none() {
                fig.failures += 1;
                self.delete(&a).await?;
                continue;
            }
            self.create(&b, true, &asks).await?;
            // Long enough for B to be seen and left pending.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let start = Instant::now();
            self.delete(&a).await?;
            match self.timeline.wait_ingress(&b, TIMEOUT).await {
                Some(s) => fig
                    .samples
                    .push(ms(s.ingress.map(|(at, _)| at.saturating_duration_since(start)).unwrap_or_default())),
                None => fig.failures += 1,
            }
            self.delete(&b).await?;
        }
        Ok(fig)
    }

    /// The node whose MAC answers ARP for `ip` from l2client (three replies from one MAC).
    async fn l2_owner(&self, ip: IpAddr) -> Result<(String, String)> {
        let mac = crate::layer2::arp_owner(&self.lab, ip, TIMEOUT).await?;
        let node = self.lab.node_by_mac(&mac).map_err(err)?;
        Ok((node, mac))
    }

    /// Layer2 failover: the owner's speaker is killed (`kill -9`) or its node's link is cut; the
    /// time until l2client sees another node's gratuitous ARP. After a link cut, the link comes
    /// back and the time during which two MACs answered ARP is measured too. Returns the
    /// failover figure and, for link cuts, the two-MAC figure.
    pub async fn l2_failover(&mut self, trials: usize, cut_link: bool) -> Result<Vec<Figure>> {
        let kind = if cut_link { "link cut" } else { "speaker kill -9" };
        self.say(&format!("Layer2 failover after a {kind}, {trials} trials"));
        let ip = self.announced(if cut_link { "l2-cut" } else { "l2-kill" }, &[]).await?;
        let mut failover = if cut_link {
            self.figure("l2-link-cut", "Layer2: owner link cut → first gratuitous ARP", "ms")
        } else {
            self.figure("l2-kill", "Layer2: owner speaker kill -9 → first gratuitous ARP", "ms")
        };
        let mut two = self.figure("l2-two-macs", "Layer2: after the link returns, two MACs answer for", "ms");
        for _ in 0..trials {
            let (owner, owner_mac) = self.l2_owner(ip).await?;
            let mut capture = self.lab.capture_arp("l2client").map_err(err)?;
            let start = SystemTime::now();
            if cut_link {
                self.lab.link_down(&owner).map_err(err)?;
            } else {
                self.lab.kill9(&self.imp.speaker(&owner)).map_err(err)?;
            }
            let deadline = Instant::now() + TIMEOUT;
            let mut took = None;
            while took.is_none() && Instant::now() < deadline {
                if let Some(p) = capture.wait_announcement(ip, Duration::from_millis(200)) {
                    if p.source_mac != owner_mac {
                        took = Some(p.at.duration_since(start).unwrap_or_default());
                    } else {
                        capture.clear();
                    }
                }
            }
            match took {
                Some(d) => failover.samples.push(ms(d)),
                None => failover.failures += 1,
            }
            drop(capture);
            if cut_link {
                // Long enough for every member to have given the cut node up, in both.
                let down_for = SystemTime::now().duration_since(start).unwrap_or_default();
                tokio::time::sleep(LINK_DOWN.saturating_sub(down_for)).await;
                self.lab.link_up(&owner).map_err(err)?;
                match self.two_macs(ip).await? {
                    Some(d) => two.samples.push(ms(d)),
                    None => two.failures += 1,
                }
            } else {
                self.lab.restart(&self.imp.speaker(&owner)).map_err(err)?;
            }
            tokio::time::sleep(SETTLE).await;
        }
        let mut figures = vec![failover];
        if cut_link {
            figures.push(two);
        }
        Ok(figures)
    }

    /// After a link came back: ARP from l2client every 20 ms, until one MAC alone has answered
    /// for 5 s (at least 10 s, at most 90 s); how long after the return two MACs still answered
    /// (zero if never). None if two still answered at 90 s.
    async fn two_macs(&self, ip: IpAddr) -> Result<Option<Duration>> {
        let mut capture = self.lab.capture_arp("l2client").map_err(err)?;
        let back = SystemTime::now();
        let mut arping = self.lab.arping_in_background("l2client", ip, Duration::from_millis(20), 4500).map_err(err)?;
        let started = Instant::now();
        let result = loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let replies: Vec<(Duration, String)> = capture
                .all()
                .iter()
                .filter(|p| p.reply && !p.broadcast && p.sender_ip == Some(ip))
                .map(|p| (p.at.duration_since(back).unwrap_or_default(), p.source_mac.clone()))
                .collect();
            let last_dual = last_dual_reply(&replies, Duration::from_millis(100));
            let elapsed = started.elapsed();
            let quiet = last_dual.is_none_or(|d| elapsed.saturating_sub(d) >= Duration::from_secs(5));
            if elapsed >= Duration::from_secs(10) && quiet {
                break Some(last_dual.unwrap_or_default());
            }
            if elapsed >= Duration::from_secs(90) {
                break None;
            }
        };
        let _ = arping.kill();
        let _ = arping.wait();
        Ok(result)
    }

    /// BGP: a Service with an address gets its first ready endpoint; the time until the router's
    /// kernel has a route to it.
    pub async fn bgp_endpoints_to_route(&mut self, trials: usize) -> Result<Figure> {
        self.say(&format!("BGP endpoints ready -> route, {trials} trials"));
        let mut fig = self.figure("bgp-route", "BGP: endpoints ready → route in the router's kernel", "ms");
        let router = self.lab.netns("router").map_err(err)?.to_owned();
        for i in 0..trials {
            let name = format!("route-{i}");
            self.create(&name, false, &[]).await?;
            let Some(seen) = self.timeline.wait_ingress(&name, TIMEOUT).await else {
                fig.failures += 1;
                continue;
            };
            let ip = seen.ingress.and_then(|(_, ips)| ips.first().copied()).ok_or("no address")?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let start = Instant::now();
            self.lab.backends(NAMESPACE, &name, &ready(&["node1"])).await.map_err(err)?;
            let mut took = None;
            while took.is_none() && start.elapsed() < TIMEOUT {
                if !kernel_nexthops_in(&router, &host_prefix(ip))?.is_empty() {
                    took = Some(start.elapsed());
                }
            }
            match took {
                Some(d) => fig.samples.push(ms(d)),
                None => fig.failures += 1,
            }
            self.delete(&name).await?;
        }
        Ok(fig)
    }

    /// BGP: a node's speaker is killed (`kill -9`) or its link cut; the time until the router's
    /// kernel route loses that node as a next hop. Nodes take turns.
    pub async fn bgp_failover(&mut self, trials: usize, cut_link: bool) -> Result<Figure> {
        let kind = if cut_link { "link cut" } else { "speaker kill -9" };
        self.say(&format!("BGP next hop withdrawal after a {kind}, {trials} trials"));
        let mut fig = if cut_link {
            self.figure("bgp-link-cut", "BGP: node link cut → its next hop gone", "ms")
        } else {
            self.figure("bgp-kill", "BGP: speaker kill -9 → its next hop gone", "ms")
        };
        let ip = self.announced(if cut_link { "bgp-cut" } else { "bgp-kill" }, &[]).await?;
        let router = self.lab.netns("router").map_err(err)?.to_owned();
        let prefix = host_prefix(ip);
        for trial in 0..trials {
            let node = NODES[trial % NODES.len()];
            let node_ip: IpAddr = self.lab.plan().host(node).map(|h| IpAddr::V4(h.v4())).ok_or("no node")?;
            // Every node a next hop first.
            let all_back = Instant::now();
            while kernel_nexthops_in(&router, &prefix)?.len() < NODES.len() {
                if all_back.elapsed() > Duration::from_secs(120) {
                    return Err(format!("{prefix}: not every node became a next hop again within 120 s"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let start = Instant::now();
            if cut_link {
                self.lab.link_down(node).map_err(err)?;
            } else {
                self.lab.kill9(&self.imp.speaker(node)).map_err(err)?;
            }
            let mut took = None;
            while took.is_none() && start.elapsed() < TIMEOUT {
                if !kernel_nexthops_in(&router, &prefix)?.contains(&node_ip) {
                    took = Some(start.elapsed());
                }
            }
            match took {
                Some(d) => fig.samples.push(ms(d)),
                None => fig.failures += 1,
            }
            if cut_link {
                self.lab.link_up(node).map_err(err)?;
            } else {
                self.lab.restart(&self.imp.speaker(node)).map_err(err)?;
            }
            tokio::time::sleep(SETTLE).await;
        }
        Ok(fig)
    }

    /// Idle cost: CPU seconds per minute and memory of the controller and each speaker, over
    /// `seconds` with nothing changing.
    pub async fn idle(&mut self, seconds: u64) -> Result<Vec<Figure>> {
        self.say(&format!("idle cost over {seconds} s"));
        let names: Vec<String> = std::iter::once(self.imp.controller().to_owned())
            .chain(NODES.iter().map(|n| self.imp.speaker(n)))
            .collect();
        let pids: Vec<i32> =
            names.iter().map(|n| self.lab.daemon_pid(n)).collect::<ferrolb_lab::Result<_>>().map_err(err)?;
        let before: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let after: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
        let per_minute = |i: usize| (after[i] - before[i]) * 60.0 / seconds as f64;
        let mut controller_cpu = self.figure("idle-cpu-controller", "idle: controller CPU", "CPU s/min");
        controller_cpu.samples.push(per_minute(0));
        let mut speaker_cpu = self.figure("idle-cpu-speaker", "idle: speaker CPU (each node)", "CPU s/min");
        speaker_cpu.samples.extend((1..pids.len()).map(per_minute));
        let mut controller_rss = self.figure("idle-rss-controller", "idle: controller memory (RSS)", "MiB");
        controller_rss.samples.push(mib(status_kib(pids[0], "VmRSS:")));
        let mut speaker_rss = self.figure("idle-rss-speaker", "idle: speaker memory (RSS, each node)", "MiB");
        speaker_rss.samples.extend(pids[1..].iter().map(|p| mib(status_kib(*p, "VmRSS:"))));
        Ok(vec![controller_cpu, speaker_cpu, controller_rss, speaker_rss])
    }

    /// Scale: `n` IPv6 Services are created while the controller is stopped (SIGSTOP, so that
    /// creating them, which measures the apiserver, is apart); then it is woken: the time until
    /// every one has its address, and the controller's CPU and peak memory for it. Then every
    /// Service gets an endpoint, and each speaker's memory and idle CPU with `n` addresses
    /// announced. Memory is sampled each second throughout.
    pub async fn scale(&mut self, n: usize) -> Result<(Vec<Figure>, Vec<Series>)> {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        self.say(&format!("scale: {n} Services"));
        let controller = self.lab.daemon_pid(self.imp.controller()).map_err(err)?;
        let speaker = self.lab.daemon_pid(&self.imp.speaker("node1")).map_err(err)?;
        let began = Instant::now();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let sampler = tokio::spawn(sample_memory([controller, speaker], began, stop_rx));

        kill(Pid::from_raw(controller), Signal::SIGSTOP).map_err(err)?;
        let names: Vec<String> = (0..n).map(|i| format!("scale-{i}")).collect();
        let created = futures::stream::iter(names.iter())
            .map(|name| self.create(name, true, &[(POOL_ANNOTATION, "scale")]))
            .buffer_unordered(32)
            .filter(|r| futures::future::ready(r.is_ok()))
            .count()
            .await;
        let cpu_before = cpu_seconds(controller);
        kill(Pid::from_raw(controller), Signal::SIGCONT).map_err(err)?;
        let woken = Instant::now();
        let mut all = None;
        while woken.elapsed() < Duration::from_secs(900) {
            if self.timeline.with_prefix("scale-").iter().filter(|s| s.ingress.is_some()).count() >= created {
                all = Some(woken.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut figures = Vec::new();
        let mut assigned =
            self.figure("scale-assign", &format!("scale: {n} Services, all assigned after the controller wakes"), "s");
        match all {
            Some(d) => assigned.samples.push(d.as_secs_f64()),
            None => assigned.failures += 1,
        }
        let mut cpu = self.figure("scale-controller-cpu", &format!("scale: controller CPU to assign {n}"), "CPU s");
        cpu.samples.push(cpu_seconds(controller) - cpu_before);
        let mut peak = self.figure("scale-controller-peak", &format!("scale: controller peak memory with {n}"), "MiB");
        peak.samples.push(mib(status_kib(controller, "VmHWM:")));
        figures.extend([assigned, cpu, peak]);

        self.say(&format!("scale: endpoints for {created} Services"));
        let (plan, client, backends) =
            (self.lab.plan().clone(), self.services.clone().into_client(), ready(&["node1"]));
        let written = futures::stream::iter(names.iter())
            .map(|name| ferrolb_lab::backends::apply(&client, &plan, NAMESPACE, name, &backends))
            .buffer_unordered(32)
            .filter(|r| futures::future::ready(r.is_ok()))
            .count()
            .await;
        // Let the speakers take them all in, then check that they answer for them (ten
        // addresses spread over the range, asked from l2client) and measure them idle.
        tokio::time::sleep(Duration::from_secs(30)).await;
        let mut answering =
            self.figure("scale-answering", "scale: of 10 sampled addresses, resolved by l2client (NDP)", "addresses");
        let sampled: Vec<IpAddr> = (0..10)
            .filter_map(|k| self.timeline.get(&format!("scale-{}", k * n / 10)))
            .filter_map(|s| s.ingress.and_then(|(_, ips)| ips.first().copied()))
            .collect();
        let answered = sampled.iter().filter(|ip| self.resolves(**ip)).count();
        answering.samples.push(answered as f64);
        let before = cpu_seconds(speaker);
        tokio::time::sleep(Duration::from_secs(30)).await;
        let mut speaker_cpu =
            self.figure("scale-speaker-cpu", &format!("scale: speaker CPU idle with {n} announced"), "CPU s/min");
        speaker_cpu.samples.push((cpu_seconds(speaker) - before) * 2.0);
        let mut speaker_rss =
            self.figure("scale-speaker-rss", &format!("scale: speaker memory with {n} announced"), "MiB");
        speaker_rss.samples.push(mib(status_kib(speaker, "VmRSS:")));
        figures.extend([answering, speaker_cpu, speaker_rss]);
        if written < created {
            self.say(&format!("scale: only {written} of {created} EndpointSlices written"));
        }
        let _ = stop_tx.send(true);
        let (controller_points, speaker_points) = sampler.await.map_err(err)?;
        let memory = |scenario: &str, title: String, points| Series {
            scenario: scenario.into(),
            title,
            implementation: self.imp.name().into(),
            unit: "MiB".into(),
            points,
        };
        let series = vec![
            memory(
                "scale-memory-controller",
                format!("controller memory while {n} Services are created and assigned"),
                controller_points,
            ),
            memory(
                "scale-memory-speaker",
                format!("speaker memory (node1) while {n} Services are created and announced"),
                speaker_points,
            ),
        ];
        Ok((figures, series))
    }

    /// Whether l2client's kernel resolves `ip` to a MAC (IPv6: by NDP), as a client would:
    /// its neighbour entry is flushed, a connection is tried (its answer does not matter), and
    /// the neighbour table is read. Not `ndisc6`, which prints no response to MetalLB's
    /// advertisements although the kernel accepts them.
    fn resolves(&self, ip: IpAddr) -> bool {
        let address = ip.to_string();
        let _ = self.lab.exec("l2client", &["ip", "neigh", "flush", "to", &address]);
        let url = format!("http://{}/", if ip.is_ipv6() { format!("[{ip}]") } else { address.clone() });
        let _ = self.lab.exec("l2client", &["curl", "-s", "-g", "-m", "1", &url]);
        self.lab
            .exec("l2client", &["ip", "neigh", "show", "to", &address])
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("lladdr"))
    }
}

/// Samples two processes' RSS each second until told to stop.
async fn sample_memory(
    pids: [i32; 2],
    began: Instant,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (Vec<(f64, f64)>, Vec<(f64, f64)>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    loop {
        let t = began.elapsed().as_secs_f64();
        a.push((t, mib(status_kib(pids[0], "VmRSS:"))));
        b.push((t, mib(status_kib(pids[1], "VmRSS:"))));
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    (a, b)
}

/// The last moment (after the start of `replies`' clock) at which two MACs answered within one
/// `bucket` of time; None if one MAC alone answered throughout.
pub fn last_dual_reply(replies: &[(Duration, String)], bucket: Duration) -> Option<Duration> {
    let width = bucket.as_nanos().max(1);
    let mut buckets: std::collections::BTreeMap<u128, std::collections::BTreeSet<&str>> = Default::default();
    for (at, mac) in replies {
        buckets.entry(at.as_nanos() / width).or_default().insert(mac);
    }
    buckets
        .iter()
        .rev()
        .find(|(_, macs)| macs.len() > 1)
        .map(|(b, _)| Duration::from_nanos(((b + 1) * width).min(u128::from(u64::MAX)) as u64))
}

/// CPU time (user + system) a process has used, in seconds.
pub fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let ticks = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse::<u64>().ok()).sum::<u64>())
        .unwrap_or(0);
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100).max(1);
    ticks as f64 / hz as f64
}

/// A memory figure of /proc/PID/status (VmRSS: now; VmHWM: the peak), in KiB.
pub fn status_kib(pid: i32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, mac: &str) -> (Duration, String) {
        (Duration::from_millis(ms), mac.to_owned())
    }

    #[test]
    fn two_macs_count_only_when_both_answer_within_one_bucket() {
        let bucket = Duration::from_millis(100);
        assert_eq!(last_dual_reply(&[at(10, "a"), at(30, "a"), at(250, "a")], bucket), None);
        let replies = [at(10, "a"), at(20, "b"), at(1010, "a"), at(1020, "b"), at(3000, "a")];
        assert_eq!(last_dual_reply(&replies, bucket), Some(Duration::from_millis(1100)));
        // A hand-over: one MAC stops, the other starts, in different buckets.
        assert_eq!(last_dual_reply(&[at(10, "a"), at(150, "b")], bucket), None);
    }

    #[test]
    fn this_process_has_used_some_cpu_and_has_memory() {
        let me = std::process::id() as i32;
        // Busy for 50 ms: several clock ticks of CPU time.
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(x > 0);
        assert!(cpu_seconds(me) > 0.0);
        assert!(status_kib(me, "VmRSS:") > 0);
    }
}
