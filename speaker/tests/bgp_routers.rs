//! BGP sessions end to end against real routers (FRR and BIRD), on the real kernel.
//!
//! Each test builds two network namespaces joined by a veth pair: `r` runs the router daemon,
//! `s` runs FerroLB's BGP runtime (on a thread that entered it, on a current-thread tokio
//! runtime), fed through its watch channels with no Kubernetes. Needs root, FRR (zebra, bgpd,
//! vtysh) and BIRD 2. Names are `flbb-<pid>-<n>-...`; everything is removed on drop, even after
//! a failed assertion.

// Test helpers outside #[test] functions: a failed setup step should panic with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ferrolb_core::config::{CommunityValue, Config, Peer, PeerAsn};
use ferrolb_speaker::announcer::{BgpDecision, Prefix, RouteAttributes};
use ferrolb_speaker::bfd::metrics::BfdMetrics;
use ferrolb_speaker::bgp::metrics::BgpMetrics;
use ferrolb_speaker::bgp::runtime::{BgpRuntime, run};
use ferrolb_speaker::rawsock::enter_network_namespace;
use prometheus_client::registry::Registry;
use serde_json::Value;
use tokio::sync::watch;

const ROUTER4: &str = "192.0.2.1";
const SPEAKER4: &str = "192.0.2.2";
const ROUTER6: &str = "2001:db8::1";
const SPEAKER6: &str = "2001:db8::2";
const ROUTER_ASN: u32 = 64512;
const NODE_ASN: u32 = 64600;
const PEER: &str = "router";

static NEXT: AtomicU32 = AtomicU32::new(0);

fn require_root() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    assert_eq!(euid, Some("0"), "bgp_routers needs root: it creates network namespaces and runs FRR and BIRD");
}

fn run_cmd(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn must(cmd: &mut Command) -> String {
    let out = run_cmd(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `probe` every 100 ms until it returns Some, or panics after `within` with `what` and
/// the last observation.
fn wait_for<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) if start.elapsed() > within => {
                panic!("timed out after {within:?} waiting for {what}; last: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Two namespaces joined by a veth: `r` (router, .1) and `s` (speaker, .2).
struct Net {
    name: String,
    router_ns: String,
    speaker_ns: String,
}

impl Net {
    /// The namespaces and the veth, down, without addresses.
    fn pair() -> Net {
        require_root();
        let name = format!("flbb-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let net = Net { router_ns: format!("{name}-r"), speaker_ns: format!("{name}-s"), name };
        for ns in [&net.router_ns, &net.speaker_ns] {
            must(Command::new("ip").args(["netns", "add", ns]));
        }
        let (r, s) = (&net.router_ns, &net.speaker_ns);
        must(
            Command::new("ip")
                .args(["-n", r, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", s]),
        );
        net
    }

    fn up() -> Net {
        let net = Self::pair();
        let (r, s) = (&net.router_ns, &net.speaker_ns);
        for (ns, v4, v6) in [(r, ROUTER4, ROUTER6), (s, SPEAKER4, SPEAKER6)] {
            must(Command::new("ip").args(["-n", ns, "addr", "add", &format!("{v4}/24"), "dev", "eth0"]));
            must(Command::new("ip").args(["-n", ns, "addr", "add", &format!("{v6}/64"), "dev", "eth0", "nodad"]));
            must(Command::new("ip").args(["-n", ns, "link", "set", "eth0", "up"]));
            must(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
        }
        net
    }

    /// An unnumbered link: the router's side has its link-local address only; the speaker's
    /// has its link-local address and `speaker_v6` (a global one), if given. No IPv4 on the
    /// link. Link-local addresses skip DAD, so that they are usable at once.
    fn unnumbered(speaker_v6: Option<&str>) -> Net {
        let net = Self::pair();
        for ns in [&net.router_ns, &net.speaker_ns] {
            must(Command::new("ip").args(["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"]));
        }
        if let Some(v6) = speaker_v6 {
            let s = &net.speaker_ns;
            must(Command::new("ip").args(["-n", s, "addr", "add", &format!("{v6}/64"), "dev", "eth0", "nodad"]));
        }
        for ns in [&net.router_ns, &net.speaker_ns] {
            must(Command::new("ip").args(["-n", ns, "link", "set", "eth0", "up"]));
            must(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
        }
        net
    }

    /// The link-local address of eth0 in `ns`.
    fn link_local(ns: &str) -> String {
        let out = must(Command::new("ip").args(["-n", ns, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]));
        let word = out.split_whitespace().skip_while(|w| *w != "inet6").nth(1).unwrap_or_default();
        word.split('/').next().unwrap_or_default().to_string()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.router_ns, &self.speaker_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A router daemon in the router namespace.
enum Router {
    Frr { pathspace: String, conf: String, neighbor: String, daemons: Vec<Child> },
    Bird { dir: PathBuf, daemon: Option<Child> },
}

impl Router {
    fn conf_dir(pathspace: &str) -> PathBuf {
        PathBuf::from("/etc/frr").join(pathspace)
    }

    fn run_dir(pathspace: &str) -> PathBuf {
        PathBuf::from("/var/run/frr").join(pathspace)
    }

    /// FRR's zebra and bgpd peering with the speaker over IPv4, `extra` lines inside `router bgp`.
    fn frr(net: &Net, local_asn: u32, extra: &str) -> Router {
        Self::frr_with(net, local_asn, SPEAKER4, extra)
    }

    /// FRR's zebra and bgpd in a pathspace of its own, peering with the speaker's `speaker`
    /// address (both families on the session), `extra` lines inside `router bgp`.
    fn frr_with(net: &Net, local_asn: u32, speaker: &str, extra: &str) -> Router {
        let mut c = format!("frr defaults traditional\nhostname {}\nlog stdout debugging\n!\n", net.name);
        c += &format!("router bgp {local_asn}\n bgp router-id {ROUTER4}\n no bgp ebgp-requires-policy\n");
        c += " no bgp default ipv4-unicast\n no bgp network import-check\n";
        c += &format!(" neighbor {speaker} remote-as {NODE_ASN}\n neighbor {speaker} timers 1 3\n");
        c += &format!(" neighbor {speaker} timers connect 1\n{extra}");
        for af in ["ipv4", "ipv6"] {
            c += &format!(" address-family {af} unicast\n  neighbor {speaker} activate\n exit-address-family\n");
        }
        c += "exit\n";
        let neighbor = speaker.to_string();
        let mut router = Router::Frr { pathspace: net.name.clone(), conf: c, neighbor, daemons: Vec::new() };
        router.start(net);
        router
    }

    /// FRR peering with the speaker over eth0, unnumbered (`neighbor eth0 interface remote-as
    /// external`), both families activated: what the docs tell users to configure. `extra`
    /// lines go inside `router bgp`.
    fn frr_unnumbered(net: &Net, extra: &str) -> Router {
        let mut c = format!("frr defaults traditional\nhostname {}\nlog stdout debugging\n!\n", net.name);
        c += &format!("router bgp {ROUTER_ASN}\n bgp router-id {ROUTER4}\n no bgp ebgp-requires-policy\n");
        c += " no bgp default ipv4-unicast\n neighbor eth0 interface remote-as external\n";
        c += &format!(" neighbor eth0 timers 1 3\n neighbor eth0 timers connect 1\n{extra}");
        for af in ["ipv4", "ipv6"] {
            c += &format!(" address-family {af} unicast\n  neighbor eth0 activate\n exit-address-family\n");
        }
        c += "exit\n";
        let mut router =
            Router::Frr { pathspace: net.name.clone(), conf: c, neighbor: "eth0".into(), daemons: Vec::new() };
        router.start(net);
        router
    }

    /// BIRD 2 with one eBGP session to the speaker over IPv4, both families.
    fn bird(net: &Net) -> Router {
        let dir = std::env::temp_dir().join(&net.name);
        fs::create_dir_all(&dir).unwrap();
        let c = format!(
            "router id {ROUTER4};\nlog stderr all;\nprotocol device {{}}\n\
             protocol bgp speaker {{\n  local {ROUTER4} as {ROUTER_ASN};\n  neighbor {SPEAKER4} as {NODE_ASN};\n\
             \x20 hold time 3;\n  connect retry time 1;\n\
             \x20 ipv4 {{ import all; export none; }};\n  ipv6 {{ import all; export none; }};\n}}\n"
        );
        fs::write(dir.join("bird.conf"), c).unwrap();
        let mut router = Router::Bird { dir, daemon: None };
        router.start(net);
        router
    }

    fn spawn(net: &Net, program: &str, args: &[&str], log: PathBuf) -> Child {
        let log = File::create(log).unwrap();
        Command::new("ip")
            .args(["netns", "exec", &net.router_ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
    }

    fn start(&mut self, net: &Net) {
        match self {
            Router::Frr { pathspace, conf, daemons, .. } => {
                let (conf_dir, run_dir) = (Self::conf_dir(pathspace), Self::run_dir(pathspace));
                let _ = fs::remove_dir_all(&run_dir);
                for d in [&conf_dir, &run_dir] {
                    fs::create_dir_all(d).unwrap();
                }
                let conf_file = conf_dir.join("frr.conf");
                fs::write(&conf_file, &*conf).unwrap();
                fs::write(conf_dir.join("vtysh.conf"), "").unwrap();
                for d in [&conf_dir, &run_dir] {
                    must(Command::new("chown").args(["-R", "frr:frr"]).arg(d));
                }
                let conf_file = conf_file.to_string_lossy().into_owned();
                let args = ["-N", pathspace.as_str(), "-F", "traditional", "-f", &conf_file, "-P", "0"];
                daemons.push(Self::spawn(net, "/usr/lib/frr/zebra", &args, conf_dir.join("zebra.log")));
                let zserv = run_dir.join("zserv.api");
                wait_for("zebra's API socket", Duration::from_secs(20), || {
                    if zserv.exists() { Ok(()) } else { Err(String::new()) }
                });
                daemons.push(Self::spawn(net, "/usr/lib/frr/bgpd", &args, conf_dir.join("bgpd.log")));
                let vty = run_dir.join("bgpd.vty");
                wait_for("bgpd's vty socket", Duration::from_secs(20), || {
                    if vty.exists() { Ok(()) } else { Err(String::new()) }
                });
            }
            Router::Bird { dir, daemon } => {
                let conf = dir.join("bird.conf").to_string_lossy().into_owned();
                let sock = dir.join("bird.ctl");
                let _ = fs::remove_file(&sock);
                let sock_s = sock.to_string_lossy().into_owned();
                let pid = dir.join("bird.pid").to_string_lossy().into_owned();
                *daemon = Some(Self::spawn(
                    net,
                    "bird",
                    &["-f", "-c", &conf, "-s", &sock_s, "-P", &pid],
                    dir.join("bird.log"),
                ));
                wait_for("BIRD's control socket", Duration::from_secs(20), || {
                    if sock.exists() { Ok(()) } else { Err(String::new()) }
                });
            }
        }
    }

    fn stop(&mut self) {
        let children: Vec<&mut Child> = match self {
            Router::Frr { daemons, .. } => daemons.iter_mut().rev().collect(),
            Router::Bird { daemon, .. } => daemon.iter_mut().collect(),
        };
        for child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Router::Frr { daemons, .. } = self {
            daemons.clear();
        }
    }

    fn restart(&mut self, net: &Net) {
        self.stop();
        self.start(net);
    }

    fn vtysh(&self, command: &str) -> Value {
        let Router::Frr { pathspace, .. } = self else { panic!("not FRR") };
        let out = run_cmd(Command::new("vtysh").args(["-N", pathspace, "-c", command]));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn birdc(&self, command: &str) -> String {
        let Router::Bird { dir, .. } = self else { panic!("not BIRD") };
        let sock = dir.join("bird.ctl");
        let out = run_cmd(Command::new("birdc").arg("-s").arg(sock).args(command.split(' ')));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn established(&self) -> Result<(), String> {
        match self {
            Router::Frr { neighbor, .. } => {
                let summary = self.vtysh("show bgp summary json");
                let state = &summary["ipv4Unicast"]["peers"][neighbor.as_str()]["state"];
                if state == "Established" { Ok(()) } else { Err(format!("state {state}")) }
            }
            Router::Bird { .. } => {
                let out = self.birdc("show protocols speaker");
                if out.contains("Established") { Ok(()) } else { Err(out) }
            }
        }
    }

    /// The router's best path for `prefix` as text (FRR: the JSON; BIRD: `show route all`), or
    /// an error when it has none.
    fn route(&self, prefix: &str) -> Result<String, String> {
        match self {
            Router::Frr { .. } => {
                let af = if prefix.contains(':') { "ipv6" } else { "ipv4" };
                let v = self.vtysh(&format!("show bgp {af} unicast {prefix} json"));
                match v["paths"].as_array() {
                    Some(paths) if !paths.is_empty() => Ok(v.to_string()),
                    _ => Err(v.to_string()),
                }
            }
            Router::Bird { .. } => {
                let out = self.birdc(&format!("show route {prefix} all"));
                if out.contains(prefix) && out.contains("BGP.as_path") { Ok(out) } else { Err(out) }
            }
        }
    }

    fn wait_established(&self) {
        wait_for("the session Established at the router", Duration::from_secs(20), || self.established());
    }

    fn wait_route(&self, prefix: &str) -> String {
        wait_for(&format!("{prefix} at the router"), Duration::from_secs(15), || self.route(prefix))
    }

    fn wait_no_route(&self, prefix: &str) {
        wait_for(&format!("{prefix} gone from the router"), Duration::from_secs(15), || match self.route(prefix) {
            Ok(found) => Err(found),
            Err(_) => Ok(()),
        });
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.stop();
        match self {
            Router::Frr { pathspace, .. } => {
                let _ = fs::remove_dir_all(Self::conf_dir(pathspace));
                let _ = fs::remove_dir_all(Self::run_dir(pathspace));
            }
            Router::Bird { dir, .. } => {
                let _ = fs::remove_dir_all(dir);
            }
        }
    }
}

/// FerroLB's BGP runtime on a thread inside the speaker namespace.
struct Speaker {
    config: watch::Sender<Arc<Config>>,
    decision: watch::Sender<Arc<BgpDecision>>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    registry: Registry,
}

impl Speaker {
    fn start(net: &Net, peer: Peer, routes: BTreeMap<Prefix, RouteAttributes>) -> Speaker {
        let (config, config_rx) = watch::channel(Arc::new(config_with(peer)));
        let (decision, decision_rx) = watch::channel(Arc::new(decision_with(routes)));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut registry = Registry::with_prefix("ferrolb");
        let metrics = BgpMetrics::register(&mut registry);
        let bfd_metrics = BfdMetrics::register(&mut registry);
        let ns_path = PathBuf::from("/run/netns").join(&net.speaker_ns);
        let thread = std::thread::spawn(move || {
            let ns = File::open(&ns_path).expect("namespace file");
            enter_network_namespace(ns.as_fd()).expect("setns");
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let runtime = BgpRuntime {
                node: "node1".into(),
                node_addresses: vec![SPEAKER4.parse().unwrap(), SPEAKER6.parse().unwrap()],
                config: config_rx,
                decision: decision_rx,
                client: None,
                owner: None,
                shutdown: shutdown_rx,
                graceful_restart_time: 120,
            };
            rt.block_on(run(runtime, metrics, bfd_metrics)).expect("BGP runtime");
        });
        Speaker { config, decision, shutdown, thread: Some(thread), registry }
    }

    fn set_routes(&self, routes: BTreeMap<Prefix, RouteAttributes>) {
        self.decision.send_replace(Arc::new(decision_with(routes)));
    }

    fn set_peer(&self, peer: Peer) {
        self.config.send_replace(Arc::new(config_with(peer)));
    }

    fn metrics(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).unwrap();
        text
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config_with(peer: Peer) -> Config {
    Config { peers: [(peer.name.clone(), peer)].into(), ..Config::default() }
}

fn decision_with(routes: BTreeMap<Prefix, RouteAttributes>) -> BgpDecision {
    BgpDecision { desired: [(PEER.to_string(), routes)].into(), ..Default::default() }
}

fn peer(my_asn: u32, peer_asn: u32) -> Peer {
    Peer {
        hold_time: Some(Duration::from_secs(3)),
        connect_time: Some(Duration::from_secs(1)),
        ..Peer::new(PEER, my_asn, PeerAsn::Fixed(peer_asn), ROUTER4.parse().unwrap())
    }
}

fn prefix(s: &str) -> Prefix {
    let (addr, len) = s.split_once('/').unwrap();
    Prefix::new(addr.parse().unwrap(), len.parse().unwrap()).unwrap()
}

fn attrs(local_pref: Option<u32>, communities: &[CommunityValue]) -> RouteAttributes {
    RouteAttributes { local_pref, communities: communities.iter().copied().collect() }
}

fn tagged() -> RouteAttributes {
    attrs(Some(300), &[CommunityValue::Standard(64600, 100), CommunityValue::Large(64600, 1, 2)])
}

const V4: &str = "203.0.113.10/32";
const V4B: &str = "203.0.113.11/32";
const V6: &str = "2001:db8:ff::10/128";

#[test]
fn frr_ebgp_announces_both_families_with_communities_withdraws_and_survives_restarts() {
    let net = Net::up();
    let mut frr = Router::frr(&net, ROUTER_ASN, "");
    let routes: BTreeMap<Prefix, RouteAttributes> =
        [(prefix(V4), tagged()), (prefix(V4B), attrs(None, &[])), (prefix(V6), tagged())].into();
    let dual = Peer { dual_stack: true, ..peer(NODE_ASN, ROUTER_ASN) };
    let mut speaker = Speaker::start(&net, dual, routes.clone());
    frr.wait_established();

    let v4 = frr.wait_route(V4);
    println!("FRR's path: {v4}");
    for expected in ["64600:100", "64600:1:2", "\"64600\"", SPEAKER4] {
        assert!(v4.contains(expected), "{expected} missing from {v4}");
    }
    assert!(!v4.contains("\"locPrf\":300"), "LOCAL_PREF must not go to an eBGP peer: {v4}");
    let v6 = frr.wait_route(V6);
    for expected in ["64600:100", "64600:1:2", SPEAKER6] {
        assert!(v6.contains(expected), "{expected} missing from {v6}");
    }
    assert!(speaker.metrics().contains("ferrolb_bgp_session_up{peer=\"router\",node=\"node1\"} 1"));

    // Removing a prefix withdraws it; the others stay.
    let mut fewer = routes.clone();
    fewer.remove(&prefix(V4));
    speaker.set_routes(fewer);
    frr.wait_no_route(V4);
    frr.wait_route(V4B);

    // The router restarts: the session and the routes come back.
    frr.restart(&net);
    frr.wait_established();
    frr.wait_route(V4B);
    frr.wait_route(V6);

    // The speaker stops: the router drops the session and the routes.
    speaker.stop();
    wait_for("the session down at the router", Duration::from_secs(10), || match frr.established() {
        Ok(()) => Err("still Established".into()),
        Err(_) => Ok(()),
    });
    frr.wait_no_route(V4B);
    frr.wait_no_route(V6);
}

#[test]
fn frr_speaker_silence_expires_the_hold_timer() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let _speaker = Speaker::start(&net, peer(NODE_ASN, ROUTER_ASN), [(prefix(V4), attrs(None, &[]))].into());
    frr.wait_established();
    frr.wait_route(V4);
    // Everything the speaker sends to the router vanishes, as if it hung: no FIN, no NOTIFICATION.
    must(Command::new("ip").args(["-n", &net.speaker_ns, "route", "add", "blackhole", &format!("{ROUTER4}/32")]));
    let silent = Instant::now();
    frr.wait_no_route(V4);
    let took = silent.elapsed();
    assert!(took >= Duration::from_secs(2), "withdrawn after {took:?}, before the 3 s hold time");
}

#[test]
fn frr_ibgp_carries_local_pref() {
    let net = Net::up();
    let neighbor = format!(" neighbor {SPEAKER4} remote-as internal\n");
    let frr = Router::frr(&net, NODE_ASN, &neighbor);
    let routes = [(prefix(V4), tagged()), (prefix(V4B), attrs(None, &[]))].into();
    let _speaker = Speaker::start(&net, peer(NODE_ASN, NODE_ASN), routes);
    frr.wait_established();
    let set = frr.wait_route(V4);
    assert!(set.contains("\"locPrf\":300"), "{set}");
    let default = frr.wait_route(V4B);
    assert!(default.contains("\"locPrf\":100"), "{default}");
}

#[test]
fn frr_ipv6_session_carries_both_families_when_dual_stack() {
    let net = Net::up();
    let frr = Router::frr_with(&net, ROUTER_ASN, SPEAKER6, "");
    let mut p = peer(NODE_ASN, ROUTER_ASN);
    p.address = ROUTER6.parse().unwrap();
    p.dual_stack = true;
    let _speaker = Speaker::start(&net, p, [(prefix(V4), tagged()), (prefix(V6), tagged())].into());
    frr.wait_established();
    let v6 = frr.wait_route(V6);
    assert!(v6.contains(&format!("\"ip\":\"{SPEAKER6}\"")), "next hop is the session's address: {v6}");
    let v4 = frr.wait_route(V4);
    assert!(v4.contains(&format!("\"ip\":\"{SPEAKER4}\"")), "next hop is the node's IPv4 address: {v4}");
}

#[test]
fn frr_sessions_carry_their_own_family_by_default() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let routes: BTreeMap<Prefix, RouteAttributes> =
        [(prefix(V4), attrs(None, &[])), (prefix(V6), attrs(None, &[]))].into();
    let _speaker = Speaker::start(&net, peer(NODE_ASN, ROUTER_ASN), routes);
    frr.wait_established();
    frr.wait_route(V4);
    // The speaker offered IPv4 unicast only: FRR, which activated both, negotiated IPv4 alone.
    let n = frr.vtysh(&format!("show bgp neighbors {SPEAKER4} json"));
    let families = &n[SPEAKER4]["neighborCapabilities"]["multiprotocolExtensions"];
    assert_eq!(families["ipv4Unicast"]["advertisedAndReceived"], true, "{families}");
    let v6 = families["ipv6Unicast"].to_string();
    assert!(!v6.contains("eceived"), "the speaker offered IPv6 unicast: {families}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(frr.route(V6).is_err(), "an IPv6 route went over an IPv4 session without dualStackAddressFamily");
}

#[test]
fn frr_sees_local_asn_instead_of_my_asn() {
    let net = Net::up();
    // FRR expects the speaker in AS NODE_ASN; the speaker's myASN is another AS, and its
    // localASN is NODE_ASN: the session comes up only if the OPEN carries localASN.
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let p = Peer { local_asn: Some(NODE_ASN), ..peer(4_200_000_001, ROUTER_ASN) };
    let _speaker = Speaker::start(&net, p, [(prefix(V4), attrs(None, &[]))].into());
    frr.wait_established();
    let v4 = frr.wait_route(V4);
    assert!(v4.contains("\"string\":\"64600\""), "AS_PATH is localASN alone: {v4}");
    assert!(!v4.contains("4200000001"), "myASN must not show: {v4}");
}

/// The speaker's link to the router is in VRF `red`: the default VRF has no route to the
/// router, so the session comes up only through the VRF (SO_BINDTODEVICE), from the VRF's
/// address. Written for a kernel with CONFIG_NET_VRF; the kernel this was written on has none,
/// so it has not run yet.
#[test]
#[ignore = "needs a kernel with VRF support (CONFIG_NET_VRF)"]
fn frr_session_in_a_vrf() {
    let net = Net::up();
    let s = net.speaker_ns.as_str();
    must(Command::new("ip").args(["-n", s, "link", "add", "red", "type", "vrf", "table", "10"]));
    must(Command::new("ip").args(["-n", s, "link", "set", "red", "up"]));
    must(Command::new("ip").args(["-n", s, "link", "set", "eth0", "master", "red"]));
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let p = Peer { vrf: Some("red".into()), ..peer(NODE_ASN, ROUTER_ASN) };
    let _speaker = Speaker::start(&net, p, [(prefix(V4), attrs(None, &[]))].into());
    frr.wait_established();
    let v4 = frr.wait_route(V4);
    assert!(v4.contains(SPEAKER4), "next hop is the VRF's address: {v4}");
}

/// FRR's count of sessions established with the speaker.
fn connections_established(frr: &Router) -> u64 {
    let n = frr.vtysh(&format!("show bgp neighbors {SPEAKER4} json"));
    n[SPEAKER4]["connectionsEstablished"].as_u64().unwrap_or(0)
}

#[test]
fn frr_peer_changes_keep_reset_or_close_the_session() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let speaker = Speaker::start(&net, peer(NODE_ASN, ROUTER_ASN), [(prefix(V4), attrs(None, &[]))].into());
    frr.wait_established();
    frr.wait_route(V4);
    assert_eq!(connections_established(&frr), 1);

    // A change that does not touch the session's settings keeps it.
    let mut same = peer(NODE_ASN, ROUTER_ASN);
    same.node_selectors = vec![Default::default()];
    speaker.set_peer(same);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(connections_established(&frr), 1, "an unrelated change reset the session");

    // A changed setting resets it with Cease 6/6; it comes back.
    let mut changed = peer(NODE_ASN, ROUTER_ASN);
    changed.hold_time = Some(Duration::from_secs(6));
    speaker.set_peer(changed);
    wait_for("a second session", Duration::from_secs(15), || match connections_established(&frr) {
        2 => Ok(()),
        n => Err(format!("{n} sessions")),
    });
    frr.wait_established();
    frr.wait_route(V4);
    let sent = |subcode: u8| {
        format!("ferrolb_bgp_notifications_total{{code=\"6\",subcode=\"{subcode}\",direction=\"sent\"}} 1")
    };
    assert!(speaker.metrics().contains(&sent(6)), "{}", speaker.metrics());

    // The peer no longer selects this node: Cease 6/3, the route goes.
    speaker.decision.send_replace(Arc::new(BgpDecision::default()));
    frr.wait_no_route(V4);
    wait_for("the session down at the router", Duration::from_secs(10), || match frr.established() {
        Ok(()) => Err("still Established".into()),
        Err(_) => Ok(()),
    });
    assert!(speaker.metrics().contains(&sent(3)), "{}", speaker.metrics());
}

#[test]
fn frr_md5_password_must_match() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, &format!(" neighbor {SPEAKER4} password s3cret-Key\n"));
    let mut wrong = peer(NODE_ASN, ROUTER_ASN);
    wrong.password = Some("not-the-key".into());
    let speaker = Speaker::start(&net, wrong, [(prefix(V4), attrs(None, &[]))].into());
    std::thread::sleep(Duration::from_secs(5));
    assert!(frr.established().is_err(), "a session came up with the wrong MD5 key");
    assert!(frr.route(V4).is_err());

    let mut right = peer(NODE_ASN, ROUTER_ASN);
    right.password = Some("s3cret-Key".into());
    speaker.set_peer(right);
    frr.wait_established();
    frr.wait_route(V4);
}

#[test]
fn bird_ebgp_announces_both_families_with_communities_and_withdraws() {
    let net = Net::up();
    let bird = Router::bird(&net);
    let routes: BTreeMap<Prefix, RouteAttributes> =
        [(prefix(V4), tagged()), (prefix(V4B), attrs(None, &[])), (prefix(V6), tagged())].into();
    let dual = Peer { dual_stack: true, ..peer(NODE_ASN, ROUTER_ASN) };
    let speaker = Speaker::start(&net, dual, routes.clone());
    bird.wait_established();
    let v4 = bird.wait_route(V4);
    for expected in ["(64600,100)", "(64600, 1, 2)", "BGP.as_path: 64600", SPEAKER4] {
        assert!(v4.contains(expected), "{expected} missing from {v4}");
    }
    let v6 = bird.wait_route(V6);
    assert!(v6.contains(SPEAKER6), "{v6}");
    let mut fewer = routes;
    fewer.remove(&prefix(V4));
    speaker.set_routes(fewer);
    bird.wait_no_route(V4);
    bird.wait_route(V4B);
}

/// FRR's route for `prefix` in its RIB (`show ip route` / `show ipv6 route`), once installed.
fn wait_installed(frr: &Router, prefix: &str) -> Value {
    let command = if prefix.contains(':') { "show ipv6 route" } else { "show ip route" };
    wait_for(&format!("{prefix} installed by FRR's zebra"), Duration::from_secs(15), || {
        let v = frr.vtysh(&format!("{command} {prefix} json"));
        let route = &v[prefix][0];
        if route["installed"] == true { Ok(route.clone()) } else { Err(v.to_string()) }
    })
}

/// BGP unnumbered: FRR's `neighbor eth0 interface remote-as external` and a BGPPeer with
/// `interface: eth0`, no address on the router's side, no IPv4 on the link. The speaker finds
/// the router from its Router Advertisements and makes itself known with its own (lifetime 0);
/// the session runs between link-local addresses; the IPv4 /32 goes with an IPv6 next hop (RFC
/// 8950) and FRR installs it via the speaker's link-local address; the IPv6 /128 too.
#[test]
fn frr_unnumbered_carries_ipv4_with_an_ipv6_next_hop_and_ipv6() {
    let net = Net::unnumbered(Some(SPEAKER6));
    let frr = Router::frr_unnumbered(&net, "");
    let speaker_ll = Net::link_local(&net.speaker_ns);
    let p = Peer {
        hold_time: Some(Duration::from_secs(3)),
        connect_time: Some(Duration::from_secs(1)),
        router_id: Some(SPEAKER4.parse().unwrap()),
        ..Peer::on_interface(PEER, NODE_ASN, PeerAsn::Fixed(ROUTER_ASN), "eth0")
    };
    let routes: BTreeMap<Prefix, RouteAttributes> = [(prefix(V4), tagged()), (prefix(V6), tagged())].into();
    let _speaker = Speaker::start(&net, p, routes);
    frr.wait_established();
    let neighbor = frr.vtysh("show bgp neighbors eth0 json");
    let n = &neighbor["eth0"];
    println!(
        "FRR's neighbor eth0: hostAddress {} nexthopLocal {} extendedNexthop {}",
        n["hostLocalAddress"], n["nexthopLocal"], n["neighborCapabilities"]["extendedNexthop"]
    );
    assert_eq!(n["bgpState"], "Established", "{neighbor}");
    assert_eq!(n["neighborCapabilities"]["extendedNexthop"], "advertisedAndReceived", "{neighbor}");

    let v4 = frr.wait_route(V4);
    println!("FRR's BGP path for {V4}: {v4}");
    assert!(v4.contains(SPEAKER6) && v4.contains(&speaker_ll), "IPv6 next hop, global and link-local: {v4}");
    assert!(v4.contains("64600:100") && v4.contains("\"64600\""), "{v4}");
    let installed = wait_installed(&frr, V4);
    println!("FRR's RIB for {V4}: {installed}");
    let hop = &installed["nexthops"][0];
    assert_eq!(hop["ip"], speaker_ll.as_str(), "installed via the speaker's link-local address: {installed}");
    assert_eq!(hop["afi"], "ipv6", "{installed}");
    assert_eq!(hop["interfaceName"], "eth0", "{installed}");
    let kernel = must(Command::new("ip").args(["-n", &net.router_ns, "route", "show", V4]));
    println!("the router's kernel route: {kernel}");
    assert!(kernel.contains(&format!("via inet6 {speaker_ll} dev eth0")), "{kernel}");

    let v6 = frr.wait_route(V6);
    println!("FRR's BGP path for {V6}: {v6}");
    assert!(v6.contains(SPEAKER6), "{v6}");
    let installed = wait_installed(&frr, V6);
    println!("FRR's RIB for {V6}: {installed}");
    assert_eq!(installed["nexthops"][0]["ip"], speaker_ll.as_str(), "{installed}");
}

/// BGP unnumbered with nothing but link-local addresses on the link: the next hop is the
/// speaker's link-local address alone. The router's kernel, which takes Router Advertisements
/// (forwarding off), gets no default route from the speaker's (Router Lifetime 0). A restarted
/// FRR finds the speaker again (its Router Solicitation is answered); a removed prefix is
/// withdrawn.
#[test]
fn frr_unnumbered_link_local_only_survives_a_router_restart() {
    let net = Net::unnumbered(None);
    let mut frr = Router::frr_unnumbered(&net, "");
    let speaker_ll = Net::link_local(&net.speaker_ns);
    let p = Peer {
        hold_time: Some(Duration::from_secs(3)),
        connect_time: Some(Duration::from_secs(1)),
        router_id: Some(SPEAKER4.parse().unwrap()),
        ..Peer::on_interface(PEER, NODE_ASN, PeerAsn::Fixed(ROUTER_ASN), "eth0")
    };
    let routes: BTreeMap<Prefix, RouteAttributes> =
        [(prefix(V4), attrs(None, &[])), (prefix(V4B), attrs(None, &[])), (prefix(V6), attrs(None, &[]))].into();
    let speaker = Speaker::start(&net, p, routes.clone());
    frr.wait_established();
    let v4 = frr.wait_route(V4);
    println!("FRR's BGP path for {V4}: {v4}");
    assert!(v4.contains(&speaker_ll), "{v4}");
    let installed = wait_installed(&frr, V4);
    println!("FRR's RIB for {V4}: {installed}");
    assert_eq!(installed["nexthops"][0]["ip"], speaker_ll.as_str(), "{installed}");
    let installed = wait_installed(&frr, V6);
    assert_eq!(installed["nexthops"][0]["ip"], speaker_ll.as_str(), "{installed}");
    let defaults = must(Command::new("ip").args(["-n", &net.router_ns, "-6", "route", "show", "default"]));
    assert!(defaults.trim().is_empty(), "the speaker's RAs made the router's kernel a default route: {defaults}");

    frr.restart(&net);
    frr.wait_established();
    frr.wait_route(V4);
    frr.wait_route(V6);

    let mut fewer = routes;
    fewer.remove(&prefix(V4));
    speaker.set_routes(fewer);
    frr.wait_no_route(V4);
    frr.wait_route(V4B);
}

/// BGP unnumbered with a TCP MD5 key: the key is set for the router's link-local address once
/// it is found; a wrong key keeps the session down.
#[test]
fn frr_unnumbered_md5_password_must_match() {
    let net = Net::unnumbered(None);
    let frr = Router::frr_unnumbered(&net, " neighbor eth0 password s3cret-Key\n");
    let unnumbered = |password: &str| Peer {
        hold_time: Some(Duration::from_secs(3)),
        connect_time: Some(Duration::from_secs(1)),
        router_id: Some(SPEAKER4.parse().unwrap()),
        password: Some(password.into()),
        ..Peer::on_interface(PEER, NODE_ASN, PeerAsn::Fixed(ROUTER_ASN), "eth0")
    };
    let speaker = Speaker::start(&net, unnumbered("not-the-key"), [(prefix(V4), attrs(None, &[]))].into());
    std::thread::sleep(Duration::from_secs(5));
    assert!(frr.established().is_err(), "a session came up with the wrong MD5 key");
    speaker.set_peer(unnumbered("s3cret-Key"));
    frr.wait_established();
    frr.wait_route(V4);
}

fn rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// 10,000 /32s (from 198.18.0.0/15, the benchmarking range; the traffic never leaves the test's
/// namespaces): seconds from the runtime's start to all of them in FRR's RIB, UPDATEs sent, and
/// the RSS of this test process (an upper bound for the speaker's). Run with
/// `cargo test -p ferrolb-speaker --test bgp_routers -- --ignored --nocapture bench`.
#[test]
#[ignore = "benchmark"]
fn bench_ten_thousand_prefixes_into_frr() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let before = rss_kib();
    let routes: BTreeMap<Prefix, RouteAttributes> = (0..10_000u32)
        .map(|i| {
            let addr = IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + i));
            (Prefix::host(addr), attrs(None, &[CommunityValue::Standard(64600, 1)]))
        })
        .collect();
    let start = Instant::now();
    let speaker = Speaker::start(&net, peer(NODE_ASN, ROUTER_ASN), routes);
    frr.wait_established();
    let up = start.elapsed();
    let count = wait_for("10,000 prefixes in FRR's RIB", Duration::from_secs(60), || {
        let summary = frr.vtysh("show bgp summary json");
        let n = summary["ipv4Unicast"]["peers"][SPEAKER4]["pfxRcd"].as_u64().unwrap_or(0);
        if n >= 10_000 { Ok(n) } else { Err(format!("{n} prefixes")) }
    });
    let all = start.elapsed();
    let neighbor = frr.vtysh(&format!("show bgp neighbors {SPEAKER4} json"));
    let updates = &neighbor[SPEAKER4]["messageStats"]["updatesRecv"];
    let after = rss_kib();
    let metrics = speaker.metrics();
    let sent = metrics.lines().find(|l| l.starts_with("ferrolb_bgp_updates_total")).unwrap_or_default().to_string();
    println!(
        "BENCH: {count} prefixes in FRR's RIB {:.3} s after start ({:.3} s after Established at the router); \
         UPDATEs received by FRR {updates} (speaker metric: {sent}); test process RSS {before} KiB before, {after} KiB with the runtime running",
        all.as_secs_f64(),
        (all - up).as_secs_f64()
    );
    assert_eq!(count, 10_000);
}

/// The router namespace's kernel route for `prefix` (`ip route show PREFIX`), empty when none.
fn kernel_route(net: &Net, prefix: &str) -> String {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    must(Command::new("ip").args(["-n", &net.router_ns, family, "route", "show", prefix])).trim().to_string()
}

/// FRR's paths for `prefix` in its BGP table (`show bgp ipv4 unicast json`), empty when none.
fn bgp_paths(frr: &Router, prefix: &str) -> Vec<Value> {
    let table = frr.vtysh("show bgp ipv4 unicast json");
    table["routes"][prefix].as_array().cloned().unwrap_or_default()
}

fn stale(path: &Value) -> bool {
    path["stale"] == true
}

/// Graceful restart (RFC 4724) with FRR as the helper: the speaker stops (as on SIGTERM) and
/// closes without a NOTIFICATION; FRR keeps routes A and B, marked stale, and its kernel route
/// for them stays the whole time; a new speaker announces only A and End-of-RIB; FRR then has A
/// (no longer stale) and drops B.
#[test]
fn frr_keeps_routes_stale_across_a_graceful_restart_and_drops_what_is_gone_after_end_of_rib() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let (a, b) = (V4, V4B);
    let gr = Peer { graceful_restart: true, ..peer(NODE_ASN, ROUTER_ASN) };
    let both: BTreeMap<Prefix, RouteAttributes> = [(prefix(a), attrs(None, &[])), (prefix(b), attrs(None, &[]))].into();
    let mut speaker = Speaker::start(&net, gr.clone(), both);
    frr.wait_established();
    frr.wait_route(a);
    frr.wait_route(b);
    let n = frr.vtysh(&format!("show bgp neighbors {SPEAKER4} json"));
    println!("FRR's view of graceful restart: {}", n[SPEAKER4]["gracefulRestartInfo"]);
    assert_eq!(n[SPEAKER4]["neighborCapabilities"]["gracefulRestart"], "advertisedAndReceived", "{n}");
    wait_installed(&frr, a);
    wait_installed(&frr, b);
    let kernel_a = kernel_route(&net, a);
    assert!(kernel_a.contains(&format!("via {SPEAKER4}")) && kernel_a.contains("proto bgp"), "{kernel_a}");

    // The speaker goes away as on SIGTERM: no NOTIFICATION, so FRR keeps both routes as stale.
    speaker.stop();
    let stale_paths = wait_for("A and B stale at FRR", Duration::from_secs(10), || {
        let (pa, pb) = (bgp_paths(&frr, a), bgp_paths(&frr, b));
        match (pa.first(), pb.first()) {
            (Some(pa), Some(pb)) if stale(pa) && stale(pb) => Ok((pa.clone(), pb.clone())),
            _ => Err(format!("A {pa:?}, B {pb:?}")),
        }
    });
    println!("stale at FRR: {stale_paths:?}");
    assert_ne!(frr.established(), Ok(()), "the session is down while the routes are kept");
    let mut kernel_seen = 0;
    let check_kernel = |seen: &mut u32| {
        for p in [a, b] {
            let route = kernel_route(&net, p);
            assert!(route.contains(&format!("via {SPEAKER4}")), "{p} left the kernel during the restart: {route:?}");
        }
        *seen += 1;
    };
    // A while without a speaker: well past the 3 s hold time, nothing leaves the kernel.
    let gone_at = Instant::now();
    while gone_at.elapsed() < Duration::from_secs(4) {
        check_kernel(&mut kernel_seen);
        std::thread::sleep(Duration::from_millis(50));
    }

    // A new speaker announces A only, then End-of-RIB: B goes, A stays and is fresh.
    let mut speaker = Speaker::start(&net, gr, [(prefix(a), attrs(None, &[]))].into());
    let fresh = Instant::now();
    loop {
        let (pa, pb) = (bgp_paths(&frr, a), bgp_paths(&frr, b));
        if pa.first().is_some_and(|p| !stale(p)) && pb.is_empty() {
            break;
        }
        assert!(fresh.elapsed() < Duration::from_secs(20), "A fresh and B gone; last A {pa:?}, B {pb:?}");
        // A's kernel route holds until it is fresh again.
        let route = kernel_route(&net, a);
        assert!(route.contains(&format!("via {SPEAKER4}")), "A left the kernel during the restart: {route:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    frr.established().unwrap();
    wait_for("B out of the kernel", Duration::from_secs(5), || {
        let route = kernel_route(&net, b);
        if route.is_empty() { Ok(()) } else { Err(route) }
    });
    assert!(kernel_route(&net, a).contains(&format!("via {SPEAKER4}")));
    println!("kernel routes checked {kernel_seen} times while no speaker ran; fresh after {:?}", fresh.elapsed());
    speaker.stop();
}

/// Without graceful restart, a stopping speaker withdraws its routes and only then closes with
/// Cease: FRR loses the routes while the session is still Established.
#[test]
fn frr_stop_without_graceful_restart_withdraws_before_the_session_closes() {
    let net = Net::up();
    let frr = Router::frr(&net, ROUTER_ASN, "");
    let routes: BTreeMap<Prefix, RouteAttributes> =
        [(prefix(V4), attrs(None, &[])), (prefix(V4B), attrs(None, &[]))].into();
    let mut speaker = Speaker::start(&net, peer(NODE_ASN, ROUTER_ASN), routes);
    frr.wait_established();
    frr.wait_route(V4);
    frr.wait_route(V4B);
    let stopped = Instant::now();
    let stopping = std::thread::spawn(move || speaker.stop());
    let mut withdrawn_at = None;
    let closed_at = loop {
        let up = frr.established().is_ok();
        let routes = bgp_paths(&frr, V4).len() + bgp_paths(&frr, V4B).len();
        if routes == 0 && withdrawn_at.is_none() {
            withdrawn_at = Some(stopped.elapsed());
        }
        if !up {
            break stopped.elapsed();
        }
        assert!(stopped.elapsed() < Duration::from_secs(5), "the session did not close");
        std::thread::sleep(Duration::from_millis(20));
    };
    stopping.join().unwrap();
    let withdrawn_at = withdrawn_at.unwrap_or_else(|| panic!("the session closed at {closed_at:?} with routes"));
    println!("routes gone at {withdrawn_at:?}, session down at {closed_at:?}");
    assert!(closed_at >= withdrawn_at + Duration::from_millis(500), "withdrawn {withdrawn_at:?}, closed {closed_at:?}");
    let n = frr.vtysh(&format!("show bgp neighbors {SPEAKER4} json"));
    let reason = &n[SPEAKER4]["lastNotificationReason"];
    assert_eq!(reason, "Cease/Administrative Shutdown", "{n}");
}
