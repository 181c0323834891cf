//! The stray relay on the real kernel: a connection survives its address moving to another node.
//!
//! Four network namespaces on one bridge (itself in a fifth): a client and three "nodes". Each
//! node plays kube-proxy with a DNAT of the Service address 198.51.100.210:80 to a server on its
//! own address, port 8080, which answers its node's name once it has read a whole request head.
//! The client opens a connection through node1 (its neighbour entry for the Service address is
//! node1's MAC), sends half a request, then the address "moves" (the entry becomes node2's MAC,
//! as a gratuitous ARP or a router's rehash would make it), and the client sends the rest.
//!
//! Without the relay node2's conntrack picks the connection up in the middle, its DNAT sends it
//! to its own server, which has no such connection: the client is reset. With each node running
//! the speaker's relay (`relay::run`, reading the real neighbour table, writing the nftables
//! tables through netlink), node2 relays the segments to node1 and node3; node1 answers, node3
//! drops its copy. The test asserts both outcomes, reads the rules back with `nft`, and checks
//! `relay::remove` leaves no table behind.
//!
//! Needs root, `ip`, `nft`; traffic stays in the test's namespaces, on 198.51.100.0/24.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;
use std::time::Duration;

use ferrolb_speaker::rawsock::enter_network_namespace;
use ferrolb_speaker::relay::{self, Wanted};

const VIP: &str = "198.51.100.210";
const CLIENT: &str = "198.51.100.99";
const NODES: [&str; 3] = ["198.51.100.11", "198.51.100.12", "198.51.100.13"];

fn must(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The namespaces, removed on drop (even after a panic).
struct Net {
    prefix: String,
}

impl Net {
    fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.prefix)
    }

    fn exec(&self, host: &str, args: &[&str]) -> String {
        let ns = self.ns(host);
        let mut all = vec!["ip", "netns", "exec", &ns];
        all.extend_from_slice(args);
        must(&all)
    }

    fn up() -> Net {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
        assert_eq!(euid, Some("0"), "relay_netns needs root: it creates network namespaces (run as root)");
        let net = Net { prefix: format!("flbrly{}", std::process::id()) };
        let hosts = ["sw", "client", "node1", "node2", "node3"];
        for host in hosts {
            must(&["ip", "netns", "add", &net.ns(host)]);
        }
        net.exec("sw", &["ip", "link", "add", "br0", "type", "bridge"]);
        net.exec("sw", &["ip", "link", "set", "br0", "up"]);
        for (i, (host, addr)) in
            [("client", CLIENT), ("node1", NODES[0]), ("node2", NODES[1]), ("node3", NODES[2])].into_iter().enumerate()
        {
            let port = format!("p{i}");
            net.exec(
                "sw",
                &["ip", "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &net.ns(host)],
            );
            net.exec("sw", &["ip", "link", "set", &port, "master", "br0", "up"]);
            net.exec(host, &["ip", "link", "set", "lo", "up"]);
            net.exec(host, &["ip", "addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
            net.exec(host, &["ip", "link", "set", "eth0", "up"]);
        }
        for (name, addr) in ["node1", "node2", "node3"].into_iter().zip(NODES) {
            // kube-proxy's part: the Service address to this node's server.
            let rules = format!(
                "add table ip lab; add chain ip lab pre {{ type nat hook prerouting priority -100; }}; \
                 add rule ip lab pre ip daddr {VIP} tcp dport 80 dnat to {addr}:8080"
            );
            net.exec(name, &["nft", &rules]);
            net.exec(name, &["sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=1"]);
        }
        net
    }

    /// The nodes talk to each other (as the speakers' heartbeats make them), so each knows the
    /// others' MACs.
    fn acquaint(&self) {
        // An ARP request for a node's address teaches that node the asker's MAC.
        for (from, own) in ["node1", "node2", "node3"].into_iter().zip(NODES) {
            for to in NODES.into_iter().filter(|to| *to != own) {
                let ok = (0..10).any(|_| {
                    Command::new("ip")
                        .args(["netns", "exec", &self.ns(from), "arping", "-c", "1", "-w", "1", "-I", "eth0", to])
                        .output()
                        .is_ok_and(|o| o.status.success())
                });
                assert!(ok, "{from} cannot reach {to}");
            }
        }
    }

    fn mac(&self, host: &str) -> String {
        self.exec(host, &["cat", "/sys/class/net/eth0/address"]).trim().to_owned()
    }

    /// Points the client's entry for the Service address at `node`'s MAC (what an announcement or
    /// a rehash does).
    fn route_vip_to(&self, node: &str) {
        let mac = self.mac(node);
        self.exec("client", &["ip", "neigh", "replace", VIP, "lladdr", &mac, "dev", "eth0", "nud", "permanent"]);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for host in ["client", "node1", "node2", "node3", "sw", "n"] {
            let _ = Command::new("ip").args(["netns", "del", &self.ns(host)]).output();
        }
    }
}

/// Starts the node's server inside `host`'s namespace (it answers its name after a whole request
/// head, until the test process ends).
fn node_server(net: &Net, host: &'static str, addr: &'static str) {
    let path = format!("/run/netns/{}", net.ns(host));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ns = File::open(&path).expect("namespace file");
        enter_network_namespace(ns.as_fd()).expect("setns");
        let listener = TcpListener::bind((addr, 8080)).expect("bind 8080");
        let _ = ready_tx.send(());
        serve(&listener, host);
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).expect("node server started");
}

fn serve(listener: &TcpListener, name: &str) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let body = format!("{name}\n");
        let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    }
}

/// From the client's namespace: connect through node1, send half a request, move the address to
/// node2, send the rest; the answer's body, or the error.
fn request_across_a_move(net: &Net) -> Result<String, std::io::Error> {
    net.route_vip_to("node1");
    let path = format!("/run/netns/{}", net.ns("client"));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let ns = File::open(&path).expect("namespace file");
        enter_network_namespace(ns.as_fd()).expect("setns");
        let result = (|| {
            let vip: IpAddr = VIP.parse().map_err(std::io::Error::other)?;
            let mut stream = TcpStream::connect_timeout(&SocketAddr::new(vip, 80), Duration::from_secs(2))?;
            stream.set_read_timeout(Some(Duration::from_secs(3)))?;
            stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")?;
            let _ = rx.recv();
            stream.write_all(b"\r\n")?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            if answer.is_empty() {
                return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "no answer"));
            }
            Ok(answer.rsplit("\r\n\r\n").next().unwrap_or_default().trim().to_owned())
        })();
        let _ = done_tx.send(result);
    });
    std::thread::sleep(Duration::from_millis(300));
    net.route_vip_to("node2");
    let _ = tx.send(());
    let result = done_rx.recv_timeout(Duration::from_secs(10)).expect("the client finished");
    thread.join().expect("client thread");
    result
}

#[test]
fn a_connection_survives_its_address_moving_to_another_node() {
    let net = Net::up();
    // Without the relay: node2 has never seen the connection, and the client is reset.
    for (host, addr) in ["node1", "node2", "node3"].into_iter().zip(NODES) {
        node_server(&net, host, addr);
    }
    let without = request_across_a_move(&net);
    assert!(without.is_err(), "without the relay the moved connection should fail, got {without:?}");

    // With every node's relay: node1 answers through the move.
    net.acquaint();
    let mut senders = Vec::new();
    let mut relays = Vec::new();
    let mut registry = prometheus_client::registry::Registry::with_prefix("ferrolb");
    let node2_metrics = relay::RelayMetrics::register(&mut registry);
    for (i, host) in ["node1", "node2", "node3"].into_iter().enumerate() {
        let metrics = if host == "node2" { node2_metrics.clone() } else { relay::RelayMetrics::default() };
        let peers = NODES.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.parse().unwrap()).collect();
        let wanted = Wanted { vips: [VIP.parse().unwrap(), "203.0.113.7".parse().unwrap()].into(), peers };
        let (tx, rx) = tokio::sync::watch::channel(wanted);
        senders.push(tx);
        let path = format!("/run/netns/{}", net.ns(host));
        relays.push(std::thread::spawn(move || {
            let ns = File::open(&path).expect("namespace file");
            enter_network_namespace(ns.as_fd()).expect("setns");
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(relay::run(rx, metrics));
            relay::remove().expect("remove the tables");
        }));
    }
    // The tables as the kernel holds them.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let rules = loop {
        let out = Command::new("ip")
            .args(["netns", "exec", &net.ns("node2"), "nft", "list", "table", "ip", "ferrolb"])
            .output();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        if text.contains("dup to") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(rules.contains("hook prerouting priority mangle"), "{rules}");
    assert!(rules.contains("198.51.100.210") && rules.contains("203.0.113.7"), "{rules}");
    assert!(rules.contains(&net.mac("node1")) && rules.contains(&net.mac("node3")), "peer MACs guard:\n{rules}");
    assert!(!rules.contains(&net.mac("node2")), "not its own MAC:\n{rules}");
    assert!(
        rules.contains("dup to 198.51.100.11 device \"eth0\"")
            && rules.contains("dup to 198.51.100.13 device \"eth0\""),
        "{rules}"
    );
    assert!(rules.contains("limit rate 5000/second burst 1000 packets"), "{rules}");
    // The metrics follow the write (the relay sets them once the kernel acknowledged it).
    let export = || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        text
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut exported = export();
    while !exported.contains("ferrolb_relay_targets 2") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        exported = export();
    }
    assert!(
        exported.contains("ferrolb_relay_targets 2") && exported.contains("ferrolb_relay_addresses 2"),
        "{exported}"
    );
    assert!(!exported.contains("ferrolb_relay_table_writes_total{outcome=\"ok\"} 0"), "{exported}");

    let with = request_across_a_move(&net);
    assert_eq!(with.as_deref().ok(), Some("node1"), "with the relay, node1 answers through the move: {with:?}");
    let counters = |host: &str| net.exec(host, &["nft", "list", "chain", "ip", "ferrolb", "relay"]);
    let node2 = counters("node2");
    assert!(
        !node2.contains("dup to 198.51.100.11 device \"eth0\" dup to 198.51.100.13 device \"eth0\" counter packets 0 "),
        "node2 relayed:\n{node2}"
    );
    let node3 = counters("node3");
    assert!(!node3.contains("ether saddr @peers counter packets 0 "), "node3 dropped its copies:\n{node3}");

    // Stopping for good removes the tables, and only them.
    drop(senders);
    for r in relays {
        r.join().expect("relay thread");
    }
    for host in ["node1", "node2", "node3"] {
        let tables = net.exec(host, &["nft", "list", "tables"]);
        assert!(!tables.contains("ferrolb"), "{host}: {tables}");
        assert!(tables.contains("table ip lab"), "{host}: the other tables stay: {tables}");
    }
}

#[test]
fn both_families_tables_read_back_as_written() {
    use ferrolb_speaker::layer2::MacAddr;
    use ferrolb_speaker::relay::ruleset::{FamilyRules, Target};
    use ferrolb_speaker::relay::{Ruleset, install, remove};

    let net = Net { prefix: format!("flbrlyb{}", std::process::id()) };
    must(&["ip", "netns", "add", &net.ns("n")]);
    net.exec("n", &["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
    let ifindex: u32 = net.exec("n", &["cat", "/sys/class/net/eth0/ifindex"]).trim().parse().unwrap();
    let macs = [MacAddr([2, 0, 0, 0, 0, 0x12]), MacAddr([2, 0, 0, 0, 0, 0x13])];
    let ruleset = Ruleset {
        v4: FamilyRules {
            vips: vec!["203.0.113.10".parse().unwrap()],
            peer_macs: macs.into(),
            targets: vec![Target { ip: "198.51.100.12".parse().unwrap(), ifindex }],
        },
        v6: FamilyRules {
            vips: vec!["2001:db8:f::10".parse().unwrap(), "2001:db8:f::11".parse().unwrap()],
            peer_macs: macs.into(),
            targets: vec![
                Target { ip: "2001:db8:1::12".parse().unwrap(), ifindex },
                Target { ip: "2001:db8:1::13".parse().unwrap(), ifindex },
            ],
        },
    };
    let path = format!("/run/netns/{}", net.ns("n"));
    let apply = |remove_after: bool, ruleset: Ruleset| {
        let path = path.clone();
        std::thread::spawn(move || {
            let ns = File::open(&path).expect("namespace file");
            enter_network_namespace(ns.as_fd()).expect("setns");
            install(&ruleset).expect("install");
            // Written twice: the second replaces the first whole.
            install(&ruleset).expect("install again");
            if remove_after {
                remove().expect("remove");
                // Removing what is not there is no error.
                remove().expect("remove again");
            }
        })
        .join()
        .expect("thread");
    };
    apply(false, ruleset.clone());
    let v6 = net.exec("n", &["nft", "list", "table", "ip6", "ferrolb"]);
    assert!(v6.contains("type ipv6_addr") && v6.contains("2001:db8:f::10") && v6.contains("2001:db8:f::11"), "{v6}");
    assert!(v6.contains("02:00:00:00:00:12") && v6.contains("02:00:00:00:00:13"), "{v6}");
    assert!(
        v6.contains("ip6 daddr @vips tcp flags ! syn ct state invalid,new ether saddr @peers counter"),
        "the guard:\n{v6}"
    );
    assert!(v6.contains("dup to 2001:db8:1::12 device \"eth0\" dup to 2001:db8:1::13 device \"eth0\""), "{v6}");
    let all = net.exec("n", &["nft", "list", "tables"]);
    assert_eq!(all.lines().filter(|l| l.contains("ferrolb")).count(), 2, "one table per family: {all}");
    apply(true, ruleset);
    let all = net.exec("n", &["nft", "list", "tables"]);
    assert!(!all.contains("ferrolb"), "{all}");
    drop(net);
}
