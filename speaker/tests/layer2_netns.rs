//! The Layer2 responder on the real kernel: two network namespaces joined by a veth pair, the responder
//! running in one (entered with setns on its own thread), arping / ndisc6 / tcpdump in the other.
//!
//! Needs root (network namespaces, AF_PACKET); without it the tests fail, saying so. Traffic stays on the
//! veth pair, with documentation addresses (198.51.100.0/24, 2001:db8:1::/64).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ferrolb_speaker::layer2::counters::{CounterSample, Family, Layer2Counters};
use ferrolb_speaker::layer2::owned::{InterfaceSelector, OwnedAddress, OwnedAddresses};
use ferrolb_speaker::layer2::responder::{Heard, Layer2Handle, Layer2Responder};
use ferrolb_speaker::layer2::{MacAddr, arp, ndp};
use ferrolb_speaker::netif;
use ferrolb_speaker::rawsock::enter_network_namespace;

const VIP4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 200);
const OTHER4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 201);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x200);
const OTHER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x201);
/// Interface names live inside the test's namespaces, so they need no per-run prefix.
const RESPONDER_IF: &str = "l2r0";
const CLIENT_IF: &str = "l2c0";

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

fn require_root() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    assert_eq!(
        euid,
        Some("0"),
        "layer2_netns needs root: it creates network namespaces, a veth pair and AF_PACKET sockets (run as root)"
    );
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn must(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ip(args: &[&str]) -> String {
    must(Command::new("ip").args(args))
}

/// Two namespaces, `responder` and `client`, joined by a veth pair; removed on drop, even after a panic.
struct Lab {
    responder_ns: String,
    client_ns: String,
    responder: Option<ResponderThread>,
    captures: Vec<Child>,
}

struct ResponderThread {
    handle: Layer2Handle,
    counters: Layer2Counters,
    /// Other nodes' announcements it heard.
    heard: std::sync::Mutex<tokio::sync::mpsc::Receiver<Heard>>,
    interfaces: tokio::sync::watch::Receiver<Vec<netif::Interface>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Lab {
    fn up() -> Lab {
        Lab::up_with(None)
    }

    /// As [`Lab::up`], the responder repeating its announcements every `refresh`.
    fn up_with(refresh: Option<Duration>) -> Lab {
        require_root();
        let id = format!("flbt-{}-{}", std::process::id(), NEXT_LAB.fetch_add(1, Ordering::Relaxed));
        let mut lab = Lab {
            responder_ns: format!("{id}-r"),
            client_ns: format!("{id}-c"),
            responder: None,
            captures: Vec::new(),
        };
        ip(&["netns", "add", &lab.responder_ns]);
        ip(&["netns", "add", &lab.client_ns]);
        let (r, c) = (lab.responder_ns.clone(), lab.client_ns.clone());
        ip(&["-n", &r, "link", "add", RESPONDER_IF, "type", "veth", "peer", "name", CLIENT_IF, "netns", &c]);
        for (ns, dev, v4, v6) in [
            (&r, RESPONDER_IF, "198.51.100.11/24", "2001:db8:1::11/64"),
            (&c, CLIENT_IF, "198.51.100.99/24", "2001:db8:1::99/64"),
        ] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&["-n", ns, "addr", "add", v4, "dev", dev]);
            ip(&["-n", ns, "addr", "add", v6, "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        // The responder's kernel must not answer for the service addresses itself: it does not own them.
        let addrs = ip(&["-n", &r, "addr", "show", "dev", RESPONDER_IF]);
        assert!(!addrs.contains("198.51.100.200") && !addrs.contains("2001:db8:1::200"), "{addrs}");
        lab.responder = Some(ResponderThread::start(PathBuf::from("/run/netns").join(&r), refresh));
        lab
    }

    fn responder(&self) -> &ResponderThread {
        self.responder.as_ref().expect("responder started")
    }

    fn responder_mac(&self) -> MacAddr {
        let out = ip(&["-n", &self.responder_ns, "-o", "link", "show", RESPONDER_IF]);
        let mac = out.split("link/ether ").nth(1).and_then(|s| s.split_whitespace().next()).expect("a MAC");
        mac.parse().expect("a valid MAC")
    }

    fn in_client(&self, program: &str, args: &[&str]) -> Output {
        run(Command::new("ip").args(["netns", "exec", &self.client_ns, program]).args(args))
    }

    fn arping(&self, target: Ipv4Addr) -> (Vec<MacAddr>, String) {
        let out = self.in_client("arping", &["-c", "3", "-w", "3", "-I", CLIENT_IF, &target.to_string()]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // "60 bytes from 02:..:.. (198.51.100.200): index=0 time=..."
        let macs = text
            .lines()
            .filter(|l| l.contains(" bytes from "))
            .filter_map(|l| l.split(" bytes from ").nth(1)?.split_whitespace().next()?.parse().ok())
            .collect();
        (macs, text)
    }

    fn ndisc6(&self, target: Ipv6Addr) -> (Option<MacAddr>, String) {
        let out = self.in_client("ndisc6", &["-1", "-r", "2", &target.to_string(), CLIENT_IF]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        let mac = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Target link-layer address:"))
            .and_then(|m| m.trim().to_ascii_lowercase().parse().ok());
        (mac, text)
    }

    /// Starts tcpdump on the client side, writing a pcap file; returns once it is listening.
    fn capture(&mut self, path: &std::path::Path) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.client_ns, "tcpdump", "--immediate-mode", "-i", CLIENT_IF, "-U", "-w"])
            .arg(path)
            .args(["arp or icmp6"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump runs");
        let stderr = child.stderr.take().expect("piped stderr");
        self.captures.push(child);
        let mut lines = BufReader::new(stderr).lines();
        let listening = lines.by_ref().take(5).map_while(Result::ok).any(|l| l.contains("listening on"));
        assert!(listening, "tcpdump did not start listening");
        // Keep draining stderr so tcpdump never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
    }

    fn stop_captures(&mut self) {
        for mut child in self.captures.drain(..) {
            // SIGTERM through kill(1) lets tcpdump flush; only our own child is signalled, by its pid.
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut responder) = self.responder.take() {
            responder.stop();
        }
        self.stop_captures();
        for ns in [&self.responder_ns, &self.client_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

impl ResponderThread {
    /// Runs netif's watcher and the responder on a thread inside the namespace at `ns_path`, on a
    /// current-thread runtime, exactly as the speaker would in the host namespace.
    fn start(ns_path: PathBuf, refresh: Option<Duration>) -> ResponderThread {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let ns = File::open(&ns_path).expect("namespace file");
            enter_network_namespace(ns.as_fd()).expect("setns");
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let mut responder = Layer2Responder::new().with_gratuitous_refresh(refresh);
                let heard = responder.take_heard().expect("taken once");
                let (tx, rx) = tokio::sync::watch::channel(Vec::new());
                ready_tx
                    .send((responder.handle(), responder.counters(), heard, rx.clone()))
                    .expect("test thread waits");
                let watcher = tokio::spawn(netif::watch_interfaces(tx));
                tokio::select! {
                    () = responder.run(rx) => {}
                    _ = shutdown_rx => {}
                }
                watcher.abort();
            });
        });
        let (handle, counters, heard, interfaces) =
            ready_rx.recv_timeout(Duration::from_secs(10)).expect("responder thread started");
        let heard = std::sync::Mutex::new(heard);
        ResponderThread { handle, counters, heard, interfaces, shutdown: Some(shutdown), thread: Some(thread) }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn own(&self, addresses: &[IpAddr]) {
        let only_ours = InterfaceSelector::Named([RESPONDER_IF.to_string()].into());
        self.own_on(addresses, &only_ours);
    }

    fn own_on(&self, addresses: &[IpAddr], interfaces: &InterfaceSelector) {
        let owned: OwnedAddresses = addresses
            .iter()
            .map(|ip| (*ip, OwnedAddress { interfaces: interfaces.clone(), releasing: false }))
            .collect();
        self.handle.set_owned(owned);
    }

    /// Gives `addresses` up on purpose: still answered on our interface, no longer announced.
    fn release(&self, addresses: &[IpAddr]) {
        let only_ours = InterfaceSelector::Named([RESPONDER_IF.to_string()].into());
        let owned: OwnedAddresses =
            addresses.iter().map(|ip| (*ip, OwnedAddress { interfaces: only_ours.clone(), releasing: true })).collect();
        self.handle.set_owned(owned);
    }

    /// The announcements heard until `want` of them arrived or `within` passed.
    fn wait_heard(&self, want: usize, within: Duration) -> Vec<Heard> {
        let start = Instant::now();
        let mut heard = Vec::new();
        let mut rx = self.heard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while heard.len() < want && start.elapsed() < within {
            match rx.try_recv() {
                Ok(h) => heard.push(h),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        heard
    }

    fn counters(&self, family: Family) -> CounterSample {
        self.counters_on(RESPONDER_IF, family)
    }

    fn counters_on(&self, interface: &str, family: Family) -> CounterSample {
        let zero = CounterSample {
            interface: interface.to_string(),
            family,
            requests_received: 0,
            responses_sent: 0,
            gratuitous_sent: 0,
            send_errors: 0,
        };
        let rows = self.counters.snapshot();
        rows.into_iter().find(|r| r.interface == interface && r.family == family).unwrap_or(zero)
    }

    /// Waits until `family`'s gratuitous counter reaches `at_least`; panics after `within`.
    fn wait_gratuitous(&self, family: Family, at_least: u64, within: Duration) {
        self.wait_gratuitous_on(RESPONDER_IF, family, at_least, within);
    }

    fn wait_gratuitous_on(&self, interface: &str, family: Family, at_least: u64, within: Duration) {
        let start = Instant::now();
        while self.counters_on(interface, family).gratuitous_sent < at_least {
            assert!(start.elapsed() < within, "only {:?} after {within:?}", self.counters_on(interface, family));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the interface snapshot satisfies `test`; panics after `within`.
    fn wait_interfaces(&self, what: &str, within: Duration, test: impl Fn(&[netif::Interface]) -> bool) {
        let start = Instant::now();
        while !test(&self.interfaces.borrow()) {
            assert!(start.elapsed() < within, "{what}: interfaces are {:?}", *self.interfaces.borrow());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Frames of a pcap file (Ethernet link type), with their capture times in microseconds.
fn pcap_frames(path: &std::path::Path) -> Vec<(u64, Vec<u8>)> {
    let bytes = std::fs::read(path).expect("pcap written");
    assert!(bytes.len() >= 24, "pcap of {} bytes", bytes.len());
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian microsecond pcap");
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let word = |o: usize| u32::from_le_bytes(bytes[at + o..at + o + 4].try_into().expect("four bytes"));
        let (secs, micros, caplen) = (u64::from(word(0)), u64::from(word(4)), word(8) as usize);
        let start = at + 16;
        let Some(frame) = bytes.get(start..start + caplen) else { break };
        frames.push((secs * 1_000_000 + micros, frame.to_vec()));
        at = start + caplen;
    }
    frames
}

fn v4(ip: Ipv4Addr) -> IpAddr {
    IpAddr::V4(ip)
}

fn v6(ip: Ipv6Addr) -> IpAddr {
    IpAddr::V6(ip)
}

#[test]
fn arping_and_ndisc6_get_the_responders_mac_only_for_owned_addresses_until_removed() {
    let lab = Lab::up();
    let mac = lab.responder_mac();
    lab.responder().own(&[v4(VIP4), v6(VIP6)]);
    // The interface task is up once it has announced the addresses.
    lab.responder().wait_gratuitous(Family::Arp, 2, Duration::from_secs(10));
    lab.responder().wait_gratuitous(Family::Ndp, 1, Duration::from_secs(10));

    let (macs, text) = lab.arping(VIP4);
    assert_eq!(macs, vec![mac; 3], "three replies, all from the responder:\n{text}");
    let (found, text) = lab.ndisc6(VIP6);
    assert_eq!(found, Some(mac), "ndisc6 learns the responder's MAC:\n{text}");

    let (macs, text) = lab.arping(OTHER4);
    assert_eq!(macs, vec![], "no reply for an address not owned:\n{text}");
    let (found, text) = lab.ndisc6(OTHER6);
    assert_eq!(found, None, "no advertisement for an address not owned:\n{text}");

    let arp = lab.responder().counters(Family::Arp);
    let nd = lab.responder().counters(Family::Ndp);
    assert_eq!((arp.requests_received, arp.responses_sent), (6, 3), "{arp:?}");
    assert!(nd.requests_received >= 2 && nd.responses_sent >= 1, "{nd:?}");

    lab.responder().own(&[]);
    let (macs, text) = lab.arping(VIP4);
    assert_eq!(macs, vec![], "no reply once the address is removed:\n{text}");
    let (found, text) = lab.ndisc6(VIP6);
    assert_eq!(found, None, "no advertisement once the address is removed:\n{text}");
    assert_eq!(lab.responder().counters(Family::Arp).responses_sent, 3);
}

#[test]
fn gaining_an_address_sends_gratuitous_arp_and_unsolicited_na_on_schedule() {
    let mut lab = Lab::up();
    let mac = lab.responder_mac();
    let pcap = std::env::temp_dir().join(format!("{}-garp.pcap", lab.client_ns));
    lab.capture(&pcap);
    // Let the responder's interface task start before the address is gained, so the schedule starts now.
    std::thread::sleep(Duration::from_millis(300));
    lab.responder().own(&[v4(VIP4), v6(VIP6)]);
    lab.responder().wait_gratuitous(Family::Arp, 8, Duration::from_secs(10));
    lab.responder().wait_gratuitous(Family::Ndp, 4, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    lab.stop_captures();
    let frames = pcap_frames(&pcap);
    let _ = std::fs::remove_file(&pcap);

    let mut garp: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (time, frame) in &frames {
        if let Ok(p) = arp::parse(frame) {
            if p.eth_source == mac && p.is_gratuitous() {
                assert_eq!((p.eth_destination, p.sender_mac, p.sender_ip), (MacAddr::BROADCAST, mac, VIP4));
                let kind = if p.operation == arp::Operation::Request { "request" } else { "reply" };
                garp.entry(kind).or_default().push(*time);
            }
        } else if let Ok(na) = ndp::parse_advertisement(frame)
            && na.eth_source == mac
        {
            let seen = (na.destination, na.eth_destination, na.solicited, na.override_flag, na.target);
            assert_eq!(seen, (ndp::ALL_NODES, MacAddr([0x33, 0x33, 0, 0, 0, 1]), false, true, VIP6));
            assert_eq!(na.target_link_layer, Some(mac));
            garp.entry("na").or_default().push(*time);
        }
    }
    for kind in ["request", "reply", "na"] {
        let times = garp.get(kind).cloned().unwrap_or_default();
        assert_eq!(times.len(), 4, "{kind}: four announcements, seen {times:?} among {} frames", frames.len());
        let offsets: Vec<u64> = times.iter().map(|t| (t - times[0]) / 1000).collect();
        for (got, want) in offsets.iter().zip([0u64, 500, 1000, 2000]) {
            assert!(got.abs_diff(want) < 250, "{kind}: announced at {offsets:?} ms, want about 0/500/1000/2000");
        }
    }
}

#[test]
fn a_new_interface_gets_a_responder_and_a_vanished_one_leaves_the_snapshot() {
    let lab = Lab::up();
    let r = lab.responder_ns.clone();
    let responder = lab.responder();
    let names = |ifs: &[netif::Interface]| ifs.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
    responder.wait_interfaces("only the first veth", Duration::from_secs(10), |ifs| names(ifs) == [RESPONDER_IF]);
    responder.own_on(&[v4(VIP4)], &InterfaceSelector::All);

    // A second link appears (a veth whose peer is enslaved to a bridge in the same namespace): it is
    // announced on at once; the bridge port is not a candidate, the bridge itself is.
    ip(&["-n", &r, "link", "add", "l2r1", "type", "veth", "peer", "name", "l2x1"]);
    ip(&["-n", &r, "link", "add", "l2br", "type", "bridge"]);
    ip(&["-n", &r, "link", "set", "l2x1", "master", "l2br"]);
    for dev in ["l2x1", "l2br", "l2r1"] {
        ip(&["-n", &r, "link", "set", dev, "up"]);
    }
    let all = ["l2br", RESPONDER_IF, "l2r1"];
    responder.wait_interfaces("bridge and new veth, not the port", Duration::from_secs(10), |ifs| names(ifs) == all);
    responder.wait_gratuitous_on("l2r1", Family::Arp, 2, Duration::from_secs(10));

    // Down, it leaves the snapshot; up again, it is back; deleted, it is gone.
    ip(&["-n", &r, "link", "set", "l2r1", "down"]);
    responder.wait_interfaces("l2r1 down", Duration::from_secs(10), |ifs| names(ifs) == ["l2br", RESPONDER_IF]);
    ip(&["-n", &r, "link", "set", "l2r1", "up"]);
    responder.wait_interfaces("l2r1 up again", Duration::from_secs(10), |ifs| names(ifs) == all);
    ip(&["-n", &r, "link", "del", "l2r1"]);
    // (Its peer goes with it, leaving the bridge portless: whether the bridge keeps a MAC is the kernel's call.)
    let gone = |ifs: &[netif::Interface]| !names(ifs).iter().any(|n| n == "l2r1" || n == "l2x1");
    responder.wait_interfaces("l2r1 deleted", Duration::from_secs(10), gone);
}

#[test]
fn with_a_refresh_the_announcements_repeat_at_the_interval() {
    let mut lab = Lab::up_with(Some(Duration::from_secs(1)));
    let mac = lab.responder_mac();
    let pcap = std::env::temp_dir().join(format!("{}-refresh.pcap", lab.client_ns));
    lab.capture(&pcap);
    std::thread::sleep(Duration::from_millis(300));
    lab.responder().own(&[v4(VIP4), v6(VIP6)]);
    // The burst (0, 0.5, 1, 2 s) merged with the refresh (1, 2, 3, 4, 5 s): rounds at 0, 0.5, 1, 2, 3, 4, 5 s.
    lab.responder().wait_gratuitous(Family::Arp, 14, Duration::from_secs(10));
    lab.responder().wait_gratuitous(Family::Ndp, 7, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    lab.stop_captures();
    let frames = pcap_frames(&pcap);
    let _ = std::fs::remove_file(&pcap);

    let requests: Vec<u64> = frames
        .iter()
        .filter(|(_, f)| arp::parse(f).is_ok_and(|p| p.eth_source == mac && p.is_gratuitous() && p.sender_ip == VIP4))
        .filter(|(_, f)| arp::parse(f).is_ok_and(|p| p.operation == arp::Operation::Request))
        .map(|(t, _)| *t)
        .collect();
    let nas: Vec<u64> = frames
        .iter()
        .filter(|(_, f)| ndp::parse_advertisement(f).is_ok_and(|na| na.eth_source == mac && na.target == VIP6))
        .map(|(t, _)| *t)
        .collect();
    for (kind, times) in [("gratuitous ARP request", &requests), ("unsolicited NA", &nas)] {
        let offsets: Vec<u64> = times.iter().map(|t| (t - times[0]) / 1000).collect();
        assert!(offsets.len() >= 7, "{kind}: seven rounds, seen at {offsets:?} ms");
        for (got, want) in offsets.iter().zip([0u64, 500, 1000, 2000, 3000, 4000, 5000]) {
            assert!(
                got.abs_diff(want) < 250,
                "{kind}: sent at {offsets:?} ms, want about 0/500/1000/2000/3000/4000/5000"
            );
        }
    }
    // Losing the address ends the refresh.
    lab.responder().own(&[]);
    let before = lab.responder().counters(Family::Arp).gratuitous_sent;
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(lab.responder().counters(Family::Arp).gratuitous_sent, before, "no refresh for a lost address");
}

/// Runs `sysctl -w` / `ip` / `ping` in the client namespace and returns stdout.
fn client(lab: &Lab, program: &str, args: &[&str]) -> String {
    let out = lab.in_client(program, args);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_clients_kernel_confirms_a_stale_entry_with_a_unicast_probe_that_is_answered() {
    // Neighbor Unreachability Detection as Linux does it: a STALE entry that is used goes to DELAY, then
    // PROBE, which sends NS unicast to the cached MAC and the address itself; only a solicited NA makes it
    // REACHABLE again.
    let mut lab = Lab::up();
    let mac = lab.responder_mac();
    let client_mac = {
        let out = client(&lab, "ip", &["-o", "link", "show", CLIENT_IF]);
        out.split("link/ether ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .expect("a MAC")
            .parse::<MacAddr>()
            .expect("a valid MAC")
    };
    lab.responder().own(&[v6(VIP6)]);
    lab.responder().wait_gratuitous(Family::Ndp, 1, Duration::from_secs(10));
    client(&lab, "sysctl", &["-w", &format!("net.ipv6.neigh.{CLIENT_IF}.delay_first_probe_time=1")]);
    // The client has never resolved the address: it knows the MAC from an entry we set STALE, so the only
    // solicitation it can send is the unicast probe.
    std::thread::sleep(Duration::from_millis(2500)); // past the announcement burst
    client(
        &lab,
        "ip",
        &["-6", "neigh", "replace", &VIP6.to_string(), "lladdr", &mac.to_string(), "dev", CLIENT_IF, "nud", "stale"],
    );
    let pcap = std::env::temp_dir().join(format!("{}-nud.pcap", lab.client_ns));
    lab.capture(&pcap);
    let before = lab.responder().counters(Family::Ndp);
    // One datagram to the address uses the entry (no ping in every image; bash's /dev/udp will do).
    let sent = lab.in_client("bash", &["-c", &format!("echo nud > /dev/udp/{VIP6}/9")]);
    let sent = format!("{}{}", String::from_utf8_lossy(&sent.stdout), String::from_utf8_lossy(&sent.stderr));
    let start = Instant::now();
    let state = loop {
        let state = client(&lab, "ip", &["-6", "neigh", "show", &VIP6.to_string(), "dev", CLIENT_IF]);
        if state.contains("REACHABLE") || start.elapsed() > Duration::from_secs(6) {
            break state;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(200));
    lab.stop_captures();
    let frames = pcap_frames(&pcap);
    let _ = std::fs::remove_file(&pcap);
    assert!(
        state.contains("REACHABLE"),
        "the probe was not answered: the entry is {state:?}; sending said {sent:?}; routes {}; frames {:?}",
        client(&lab, "ip", &["-6", "route", "show", "table", "all"]),
        frames.iter().map(|(_, f)| f.iter().map(|b| format!("{b:02x}")).collect::<String>()).collect::<Vec<_>>()
    );

    let probes: Vec<ndp::NeighborSolicitation> =
        frames.iter().filter_map(|(_, f)| ndp::parse_solicitation(f).ok()).filter(|ns| ns.target == VIP6).collect();
    assert!(!probes.is_empty(), "the client sent no solicitation among {} frames", frames.len());
    for ns in &probes {
        assert_eq!((ns.eth_destination, ns.destination), (mac, VIP6), "unicast probes only: {ns:?}");
    }
    let answers: Vec<ndp::NeighborAdvertisement> = frames
        .iter()
        .filter_map(|(_, f)| ndp::parse_advertisement(f).ok())
        .filter(|na| na.eth_source == mac && na.solicited)
        .collect();
    let probe = probes[0];
    assert_eq!(answers.len(), probes.len(), "one answer per probe: {answers:?}");
    assert_eq!(
        (answers[0].eth_destination, answers[0].destination, answers[0].target, answers[0].override_flag),
        (client_mac, probe.source, VIP6, true),
        "a unicast solicited NA to the solicitor"
    );
    let after = lab.responder().counters(Family::Ndp);
    assert_eq!(after.responses_sent - before.responses_sent, probes.len() as u64, "{after:?}");
}

#[test]
fn every_owned_ipv6_address_is_answered_and_a_shared_group_outlives_one_of_them() {
    // Three owned addresses; 2001:db8:1:1::200 shares VIP6's solicited-node group (same last 24 bits).
    let lab = Lab::up();
    let mac = lab.responder_mac();
    let shared: Ipv6Addr = "2001:db8:1:1::200".parse().expect("an address");
    let third: Ipv6Addr = "2001:db8:1::2ff".parse().expect("an address");
    assert_eq!(ndp::solicited_node_multicast(shared), ndp::solicited_node_multicast(VIP6));
    // ndisc6 needs the client's multicast route, which the kernel adds once the veth's carrier is up.
    let start = Instant::now();
    while !client(&lab, "ip", &["-6", "route", "show", "table", "local"]).contains("ff00::/8") {
        assert!(start.elapsed() < Duration::from_secs(10), "the client has no IPv6 multicast route");
        std::thread::sleep(Duration::from_millis(50));
    }
    lab.responder().own(&[v6(VIP6), v6(shared), v6(third)]);
    lab.responder().wait_gratuitous(Family::Ndp, 3, Duration::from_secs(10));
    for target in [VIP6, shared, third] {
        let (found, text) = lab.ndisc6(target);
        assert_eq!(found, Some(mac), "{target}:\n{text}");
    }
    // VIP6 lost: its group must stay joined for the other address in it.
    lab.responder().own(&[v6(shared), v6(third)]);
    let (found, text) = lab.ndisc6(VIP6);
    assert_eq!(found, None, "{VIP6} is no longer owned:\n{text}");
    for target in [shared, third] {
        let (found, text) = lab.ndisc6(target);
        assert_eq!(found, Some(mac), "{target} after losing {VIP6}:\n{text}");
    }
}

#[test]
fn a_released_address_is_answered_until_another_nodes_announcement_is_heard_then_not() {
    let mut lab = Lab::up();
    let mac = lab.responder_mac();
    lab.responder().release(&[v4(VIP4), v6(VIP6)]);
    // Being handed over, the addresses are answered but not announced.
    let (macs, text) = lab.arping(VIP4);
    assert_eq!(macs, vec![mac; 3], "the releasing responder still answers:\n{text}");
    let (found, text) = lab.ndisc6(VIP6);
    assert_eq!(found, Some(mac), "and still advertises on solicitation:\n{text}");
    assert_eq!(lab.responder().counters(Family::Arp).gratuitous_sent, 0, "a released address is not announced");
    assert_eq!(lab.responder().counters(Family::Ndp).gratuitous_sent, 0);

    // The new owner, a second responder on the client side of the link, gains them and announces.
    let new_owner = ResponderThread::start(PathBuf::from("/run/netns").join(&lab.client_ns), None);
    let only_client = InterfaceSelector::Named([CLIENT_IF.to_string()].into());
    new_owner.own_on(&[v4(VIP4), v6(VIP6)], &only_client);
    let heard = lab.responder().wait_heard(2, Duration::from_secs(5));
    let out = ip(&["-n", &lab.client_ns, "-o", "link", "show", CLIENT_IF]);
    let client_mac: MacAddr = out
        .split("link/ether ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|m| m.parse().ok())
        .expect("a MAC");
    let mut announced: Vec<(IpAddr, MacAddr, String)> =
        heard.iter().map(|h| (h.announcement.ip, h.announcement.mac, h.interface.clone())).collect();
    announced.sort();
    announced.dedup();
    assert_eq!(
        announced,
        vec![(v4(VIP4), client_mac, RESPONDER_IF.to_owned()), (v6(VIP6), client_mac, RESPONDER_IF.to_owned())],
        "the gratuitous ARP and the unsolicited NA are heard: {heard:?}"
    );

    // Heard: the old owner is quiet for both at once. (arping, in the new owner's namespace, also
    // picks up the new owner's own gratuitous replies, so the old owner's MAC and counters tell.)
    let (arp_before, nd_before) = (lab.responder().counters(Family::Arp), lab.responder().counters(Family::Ndp));
    let (macs, text) = lab.arping(VIP4);
    assert!(!macs.contains(&mac), "the old owner {mac} answered after the new owner announced:\n{text}");
    let (found, text) = lab.ndisc6(VIP6);
    assert_ne!(found, Some(mac), "the old owner advertised after the new owner announced:\n{text}");
    let (arp_after, nd_after) = (lab.responder().counters(Family::Arp), lab.responder().counters(Family::Ndp));
    assert!(arp_after.requests_received >= arp_before.requests_received + 3, "it saw the requests: {arp_after:?}");
    assert_eq!(arp_after.responses_sent, arp_before.responses_sent, "and answered none");
    assert!(nd_after.requests_received > nd_before.requests_received, "{nd_after:?}");
    assert_eq!(nd_after.responses_sent, nd_before.responses_sent);
    let mut new_owner = new_owner;
    new_owner.stop();
    lab.stop_captures();
}
