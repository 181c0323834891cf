//! BFD beside BGP, against the routers users run: FRR's bfdd and BIRD's `protocol bfd`.
//!
//! Sessions come Up from every node, the intervals are negotiated both ways (a router slower
//! than FerroLB's profile, and one faster), a multihop peer runs RFC 5883 over IPv6, a passive
//! profile waits for the router; and when a node's link is cut, the router drops the node's next
//! hop within BFD's detection time instead of the BGP hold time, and takes it back once the link
//! is restored and BFD is Up again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{host_prefix, ips, lb_service, ready, summary, wait_accepted, wait_ingress, wait_nexthops};
use ferrolb_lab::{Lab, LabOptions, Mode, RouterKind};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const SOON: Duration = Duration::from_secs(15);

const NODE_V4: [&str; 3] = ["198.51.100.11", "198.51.100.12", "198.51.100.13"];
const NODE_V6: [&str; 3] = ["2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"];

/// router-v4: single-hop BFD at 100 ms x 3; router-v6: the same profile, multihop (the BGPPeer
/// is ebgpMultiHop). Hold time 3 s, so that a next hop gone well before it went by BFD.
const PEERS: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast}\n\
    spec: {receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s, bfdProfile: fast}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v6}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: '2001:db8:1::1', holdTime: 3s, keepaliveTime: 1s,\n\
           bfdProfile: fast, ebgpMultiHop: true}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24, '2001:db8:100::/120']}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n";

/// FRR's BFD sessions by peer address.
fn frr_bfd(lab: &Lab) -> Result<BTreeMap<String, Value>> {
    Ok(lab.frr_bfd_peers()?.into_iter().filter_map(|p| Some((p["peer"].as_str()?.to_owned(), p.clone()))).collect())
}

/// Waits until FRR has every one of `peers` Up; returns its sessions.
async fn wait_frr_bfd_up(lab: &Lab, peers: &[&str]) -> Result<BTreeMap<String, Value>> {
    let start = Instant::now();
    loop {
        let sessions = frr_bfd(lab)?;
        if peers.iter().all(|p| sessions.get(*p).is_some_and(|s| s["status"] == "up")) {
            return Ok(sessions);
        }
        if start.elapsed() > SOON {
            return Err(format!("FRR's BFD sessions with {peers:?} not all up within {SOON:?}: {sessions:#?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The message of `node`'s session condition on BGPPeer `peer`, once it mentions BFD Up.
async fn wait_condition_bfd_up(lab: &Lab, peer: &str, node: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        let path = format!("jsonpath={{.status.conditions[?(@.type==\"{node}/BGPSessionEstablished\")].message}}");
        let message = lab.kubectl(&["get", "bgppeer", peer, "-o", &path])?;
        if message.contains("BFD Up") {
            return Ok(message);
        }
        if start.elapsed() > SOON {
            return Err(format!("{peer} on {node}: condition says {message:?}, not BFD Up").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn frr_bfd_comes_up_negotiates_and_drops_a_cut_node_within_the_detection_time() -> Result {
    let mut lab =
        Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, router: RouterKind::Frr, ..LabOptions::for_test() }).await?;
    // node1's router session is slower than FerroLB's profile (300 ms), node2's faster (50 ms),
    // node3's the same (100 ms); IPv6 sessions are multihop.
    let mut lines = vec![
        "bfd".to_owned(),
        "profile slow".into(),
        "receive-interval 300".into(),
        "transmit-interval 300".into(),
        "exit".into(),
        "profile quick".into(),
        "receive-interval 50".into(),
        "transmit-interval 50".into(),
        "exit".into(),
        "profile fast".into(),
        "receive-interval 100".into(),
        "transmit-interval 100".into(),
        "exit".into(),
        "exit".into(),
        "router bgp 64512".into(),
    ];
    for (node, profile) in NODE_V4.iter().zip(["slow", "quick", "fast"]) {
        lines.push(format!("neighbor {node} bfd profile {profile}"));
    }
    for node in NODE_V6 {
        lines.push(format!("neighbor {node} ebgp-multihop 2"));
        lines.push(format!("neighbor {node} bfd profile fast"));
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    lab.frr_configure(&lines)?;
    lab.apply(PEERS)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;

    let all: Vec<&str> = NODE_V4.iter().chain(NODE_V6.iter()).copied().collect();
    let sessions = wait_frr_bfd_up(&lab, &all).await?;
    for node in NODE_V4 {
        let s = &sessions[node];
        // What FerroLB asks for, as the router sees it.
        assert_eq!(
            (s["remote-receive-interval"].as_u64(), s["remote-transmit-interval"].as_u64()),
            (Some(100), Some(100)),
            "{s}"
        );
        assert_eq!(s["remote-detect-multiplier"].as_u64(), Some(3), "{s}");
        assert_eq!(s["multihop"].as_bool(), Some(false), "{s}");
    }
    for node in NODE_V6 {
        assert_eq!(sessions[node]["multihop"].as_bool(), Some(true), "{node}: {}", sessions[node]);
    }
    // FerroLB's side: it transmits no faster than the router takes, and detects by the
    // router's pace.
    let slow = wait_condition_bfd_up(&lab, "router-v4", "node1").await?;
    assert!(slow.contains("transmit every 300ms") && slow.contains("detection time 900ms"), "{slow}");
    let quick = wait_condition_bfd_up(&lab, "router-v4", "node2").await?;
    assert!(quick.contains("transmit every 100ms") && quick.contains("detection time 300ms"), "{quick}");
    let explained = lab.kubectl(&["get", "bgppeer", "router-v6", "-o", "jsonpath={.status.conditions}"])?;
    assert!(explained.matches("BFD Up").count() >= 3, "multihop over IPv6, from every node: {explained}");

    // A Service on every node; node3's link is cut: the router drops node3 as soon as BFD says
    // (FRR detects in 3 x 100 ms), well before the 3 s hold time.
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2", "node3"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    wait_nexthops(&lab, &host_prefix(ip), &ips(&NODE_V4), SOON).await?;
    lab.link_down("node3")?;
    let took = wait_nexthops(&lab, &host_prefix(ip), &ips(&NODE_V4[..2]), Duration::from_secs(5)).await;
    let restored = lab.link_up("node3");
    let took = took?;
    restored?;
    eprintln!("node3's link cut -> its next hop gone from the router's kernel table after {took:?} (BFD 100 ms x 3)");
    assert!(took < Duration::from_millis(1000), "withdrawn after {took:?}: not by BFD (detection time 300 ms)");
    let down = frr_bfd(&lab)?;
    eprintln!("FRR after the cut: {}", down[NODE_V4[2]]);

    // Link back: BFD Up, then BGP, then the route.
    wait_frr_bfd_up(&lab, &[NODE_V4[2]]).await?;
    let took = wait_nexthops(&lab, &host_prefix(ip), &ips(&NODE_V4), SOON).await?;
    eprintln!("node3's link restored -> next hop back after {took:?}");
    let metrics = lab.curl("client", &format!("http://{}:7473/metrics", NODE_V4[2]))?;
    for needle in [
        "ferrolb_bfd_session_up{peer=\"router-v4\",node=\"node3\"} 1",
        "ferrolb_bfd_session_down_events_total{peer=\"router-v4\",node=\"node3\"} 1",
        "ferrolb_bfd_control_packets_received_total{peer=\"router-v4\",node=\"node3\"}",
        "ferrolb_bfd_control_packets_sent_total{peer=\"router-v4\",node=\"node3\"}",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from node3's metrics:\n{metrics}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bird_bfd_comes_up_with_a_passive_profile() -> Result {
    let lab =
        Lab::up(LabOptions { nodes: 2, mode: Mode::Bgp, router: RouterKind::Bird, ..LabOptions::for_test() }).await?;
    lab.bird_reconfigure(
        "bfd on; ",
        "protocol bfd { interface \"*\" { min rx interval 200 ms; min tx interval 200 ms; multiplier 3; }; }\n",
    )?;
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: passive}\n\
         spec: {receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, passiveMode: true}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
         spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s, bfdProfile: passive}\n",
    )?;
    let start = Instant::now();
    let sessions = loop {
        let sessions = lab.birdc(&["show", "bfd", "sessions"])?;
        let up = NODE_V4[..2].iter().all(|n| sessions.lines().any(|l| l.contains(n) && l.contains("Up")));
        if up {
            break sessions;
        }
        assert!(start.elapsed() < SOON, "BIRD's BFD sessions not Up within {SOON:?}:\n{sessions}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("{sessions}");
    // BIRD wants 200 ms both ways; FerroLB sends no faster than that.
    let message = wait_condition_bfd_up(&lab, "router-v4", "node1").await?;
    assert!(message.contains("transmit every 200ms"), "{message}");

    // Hostile and broken packets at node1, five of each: every one dropped and counted by
    // reason, and the session stays Up. The dangerous one is a well-formed Down from the
    // router's own address sent with TTL 64: accepted, it would take the session down.
    lab.exec_ok("router", &["python3", "-c", &format!("{HOSTILE}{FROM_ROUTER}")])?;
    lab.exec_ok("client", &["python3", "-c", &format!("{HOSTILE}{FROM_CLIENT}")])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = lab.curl("client", &format!("http://{}:7473/metrics", NODE_V4[0]))?;
    for reason in [
        "short",
        "bad_version",
        "zero_detect_mult",
        "zero_your_discriminator",
        "unknown_discriminator",
        "ttl",
        "unknown_peer",
    ] {
        let line = format!("ferrolb_bfd_dropped_packets_total{{reason=\"{reason}\"}} 5");
        assert!(metrics.contains(&line), "{line} missing from node1's metrics:\n{metrics}");
    }
    assert!(metrics.contains("ferrolb_bfd_session_up{peer=\"router-v4\",node=\"node1\"} 1"), "{metrics}");
    assert!(!metrics.contains("ferrolb_bfd_session_down_events_total{peer=\"router-v4\""), "{metrics}");
    Ok(())
}

/// Broken and hostile BFD packets for node1's port 3784: what they are made of.
const HOSTILE: &str = r#"
import socket, struct
def pkt(vers=1, state=1, mult=3, my=0x1234, your=0):
    return struct.pack('!BBBBIIIII', vers << 5, state << 6, mult, 24, my, your, 1000000, 1000000, 0)
def sender(addr, port, ttl):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.bind((addr, port))
    return s
node = ('198.51.100.11', 3784)
"#;

/// From the router's address, five of each: malformed, TTL 64, unknown discriminator.
const FROM_ROUTER: &str = r#"
good, low = sender('198.51.100.1', 49990, 255), sender('198.51.100.1', 49991, 64)
for _ in range(5):
    good.sendto(b'\x20\xc0\x03', node)
    good.sendto(pkt(vers=2), node)
    good.sendto(pkt(mult=0), node)
    good.sendto(pkt(state=3, your=0), node)
    good.sendto(pkt(state=3, your=0xdeadbeef), node)
    low.sendto(pkt(state=1), node)
"#;

/// From the client, a stranger off the node's link: five well-formed Down packets.
const FROM_CLIENT: &str = r#"
stranger = sender('192.0.2.10', 49992, 255)
for _ in range(5):
    stranger.sendto(pkt(state=1), node)
"#;

/// Cuts node3's link `trials` times; each time, how long until the router's kernel table no
/// longer has node3's next hop for `prefix`. Between trials the link is restored and the route
/// waited for; each trial first waits `settle`: a BFD session just Up still runs at its slow-start
/// pace (1 s, so 3 s to detect) until the Poll sequence installs the fast intervals.
async fn link_cut_trials(
    lab: &Lab,
    prefix: &str,
    trials: usize,
    within: Duration,
    settle: Duration,
) -> Result<Vec<Duration>> {
    let mut samples = Vec::new();
    for _ in 0..trials {
        tokio::time::sleep(settle).await;
        lab.link_down("node3")?;
        let took = wait_nexthops(lab, prefix, &ips(&NODE_V4[..2]), within).await;
        lab.link_up("node3")?;
        samples.push(took?);
        wait_nexthops(lab, prefix, &ips(&NODE_V4), Duration::from_secs(60)).await?;
    }
    Ok(samples)
}

/// Node link cut -> the node's next hop gone from the router's kernel table, with BFD
/// (100 ms x 3 both ways) and without (hold time 3 s).
/// `FERROLB_TRIALS=20 cargo test -p ferrolb-e2e --test bfd -- --ignored --nocapture bfd_figures`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: several minutes"]
async fn bfd_figures() -> Result {
    let trials = std::env::var("FERROLB_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(20);
    let mut lab =
        Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, router: RouterKind::Frr, ..LabOptions::for_test() }).await?;
    let mut lines = vec!["bfd", "profile fast", "receive-interval 100", "transmit-interval 100", "exit", "exit"];
    lines.push("router bgp 64512");
    let bfd_lines: Vec<String> = NODE_V4.iter().map(|n| format!("neighbor {n} bfd profile fast")).collect();
    lines.extend(bfd_lines.iter().map(String::as_str));
    lab.frr_configure(&lines)?;
    lab.apply(PEERS)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2", "node3"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    let prefix = host_prefix(ip);
    wait_frr_bfd_up(&lab, &NODE_V4).await?;
    wait_nexthops(&lab, &prefix, &ips(&NODE_V4), SOON).await?;
    let with_bfd = link_cut_trials(&lab, &prefix, trials, Duration::from_secs(5), Duration::from_secs(3)).await?;
    summary("node link cut -> next hop gone from the router's kernel table, BFD 100 ms x 3", with_bfd);

    let no_bfd: Vec<String> = NODE_V4.iter().map(|n| format!("no neighbor {n} bfd")).collect();
    let mut lines = vec!["router bgp 64512"];
    lines.extend(no_bfd.iter().map(String::as_str));
    lab.frr_configure(&lines)?;
    lab.apply(&PEERS.replace(", bfdProfile: fast}", "}"))?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_nexthops(&lab, &prefix, &ips(&NODE_V4), Duration::from_secs(60)).await?;
    let without = link_cut_trials(&lab, &prefix, trials, Duration::from_secs(15), Duration::ZERO).await?;
    summary("node link cut -> next hop gone from the router's kernel table, no BFD (hold time 3 s)", without);
    Ok(())
}
