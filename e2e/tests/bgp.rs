//! BGP mode as a network operator sees it: every eligible node holds a session with the
//! router, a Service's address shows up in the router's kernel table with one ECMP next hop per
//! node that may serve it, and routes follow backends, deletions and failures. Once with FRR,
//! once with BIRD as the router.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{
    host_prefix, ips, kernel_nexthops, kernel_nexthops_in, lb_service, ready, wait_accepted, wait_ingress,
    wait_nexthops,
};
use ferrolb_lab::{Lab, LabOptions, Mode, RouterKind};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const SOON: Duration = Duration::from_secs(10);
/// The hold time the peers below negotiate: a dead speaker's routes go after it.
const HOLD: Duration = Duration::from_secs(3);

const PEERS: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v6}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: '2001:db8:1::1', holdTime: 3s, keepaliveTime: 1s}\n";

/// One /32 (or /128) per address, with a community.
const HOST_ROUTES: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24, '2001:db8:100::/120']}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\n\
    spec: {ipAddressPools: [bgp], communities: ['64600:7']}\n";

/// One /24 for the whole pool, with a large community.
const AGGREGATED: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\n\
    spec: {ipAddressPools: [bgp], aggregationLength: 24, communities: ['large:64600:1:2']}\n";

const NODE_V4: [&str; 3] = ["198.51.100.11", "198.51.100.12", "198.51.100.13"];
const NODE_V6: [&str; 3] = ["2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"];

async fn bgp_lab(router: RouterKind, advertise: &str) -> Result<Lab> {
    let mut lab = Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, router, ..LabOptions::for_test() }).await?;
    lab.apply(&format!("{PEERS}---\n{advertise}"))?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;
    Ok(lab)
}

/// Waits until every session the router has is Established ("N/N" in its summary).
async fn wait_sessions(lab: &Lab, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    loop {
        let summary = lab.router_sessions()?;
        let counts = summary.split_whitespace().find_map(|w| w.split_once('/'));
        if let Some((up, all)) = counts
            && up == all
            && all.parse::<u32>().is_ok_and(|n| n > 0)
        {
            return Ok(summary);
        }
        if start.elapsed() > timeout {
            return Err(format!("sessions not all established within {timeout:?}: {summary}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole story, the same for both routers.
async fn ecmp_follows_backends_and_failures(router: RouterKind, router_daemon: &str) -> Result {
    let mut lab = bgp_lab(router, HOST_ROUTES).await?;
    eprintln!("{}", wait_sessions(&lab, SOON).await?);

    // A Cluster Service with backends on every node: one route, three next hops, per family.
    lab.apply(&lb_service("web", 80, "", "ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6]"))?;
    lab.backends("default", "web", &ready(&["node1", "node2", "node3"])).await?;
    let addresses = wait_ingress(&mut lab, "default", "web", 2, SOON).await?.0;
    let (v4, v6) = (addresses[0], addresses[1]);
    let took = wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4), SOON).await?;
    eprintln!("{v4}/32 with 3 next hops {took:?} after the address was seen");
    wait_nexthops(&lab, &host_prefix(v6), &ips(&NODE_V6), SOON).await?;
    let answer = lab.curl("client", &format!("http://{v4}/"))?;
    assert!(answer.trim().starts_with("node"), "curl {v4}: {answer}");
    let answer = lab.curl("client", &format!("http://[{v6}]/"))?;
    assert!(answer.trim().starts_with("node"), "curl {v6}: {answer}");

    // ServiceBGPStatus: one per node, naming the peers that carry the Service.
    let start = Instant::now();
    loop {
        let statuses = lab.kubectl(&["get", "servicebgpstatuses", "-n", "default", "-o", "name"])?;
        if statuses.lines().count() == 3 {
            break;
        }
        assert!(start.elapsed() < SOON, "wanted 3 ServiceBGPStatus objects: {statuses}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // externalTrafficPolicy: Local: only nodes with a backend, and the routes follow them.
    lab.apply(&lb_service("local", 80, "", "externalTrafficPolicy: Local"))?;
    lab.backends("default", "local", &ready(&["node1", "node3"])).await?;
    let local = wait_ingress(&mut lab, "default", "local", 1, SOON).await?.0[0];
    wait_nexthops(&lab, &host_prefix(local), &ips(&[NODE_V4[0], NODE_V4[2]]), SOON).await?;
    lab.backends("default", "local", &ready(&["node2"])).await?;
    let took = wait_nexthops(&lab, &host_prefix(local), &ips(&[NODE_V4[1]]), SOON).await?;
    eprintln!("moving the backend moved the route in {took:?}");

    // Deleted: the route goes.
    lab.kubectl(&["delete", "svc", "local"])?;
    let took = wait_nexthops(&lab, &host_prefix(local), &BTreeSet::new(), SOON).await?;
    eprintln!("Service deleted -> route gone in {took:?}");

    // A speaker frozen (its node hung, TCP still open): the router drops that node once the
    // hold time runs out, and takes it back when it wakes and reconnects.
    let speaker = lab.record().daemons.iter().find(|d| d.name == "ferrolb-speaker-node1").cloned();
    let pid = nix::unistd::Pid::from_raw(speaker.ok_or("no speaker on node1")?.pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP)?;
    let took = wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4[1..]), HOLD * 3).await;
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT)?;
    let took = took?;
    eprintln!("speaker frozen -> its next hop withdrawn after {took:?} (hold time {HOLD:?})");
    assert!(took >= HOLD - Duration::from_millis(1100), "withdrawn before the hold time could run out: {took:?}");
    wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4), SOON).await?;

    // A speaker killed: its connection closes, and the router withdraws at once.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL)?;
    let took = wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4[1..]), HOLD * 3).await?;
    eprintln!("speaker killed -> its next hop withdrawn after {took:?}");
    lab.restart("ferrolb-speaker-node1")?;
    wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4), SOON).await?;

    // The router restarted: sessions come back and so do the routes.
    lab.restart(router_daemon)?;
    let took = wait_nexthops(&lab, &host_prefix(v4), &ips(&NODE_V4), Duration::from_secs(30)).await?;
    eprintln!("router restarted -> routes back in {took:?}");
    wait_nexthops(&lab, &host_prefix(v6), &ips(&NODE_V6), SOON).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn frr_spreads_a_service_over_the_nodes_that_may_serve_it() -> Result {
    ecmp_follows_backends_and_failures(RouterKind::Frr, "bgpd").await
}

#[tokio::test(flavor = "multi_thread")]
async fn bird_spreads_a_service_over_the_nodes_that_may_serve_it() -> Result {
    ecmp_follows_backends_and_failures(RouterKind::Bird, "bird").await
}

#[tokio::test(flavor = "multi_thread")]
async fn frr_sees_the_communities_of_the_advertisement() -> Result {
    let mut lab = bgp_lab(RouterKind::Frr, HOST_ROUTES).await?;
    wait_sessions(&lab, SOON).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    // Cluster traffic policy: every node advertises once the Service has a backend anywhere.
    lab.backends("default", "web", &ready(&["node1"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    wait_nexthops(&lab, &host_prefix(ip), &ips(&NODE_V4), SOON).await?;
    let pathspace = format!("flb-{}", lab.name());
    let shown = lab.exec_ok(
        "router",
        &["vtysh", "-N", &pathspace, "-c", &format!("show bgp ipv4 unicast {} json", host_prefix(ip))],
    )?;
    assert!(shown.contains("64600:7"), "community missing: {shown}");
    assert!(shown.contains("\"64600\""), "AS path missing: {shown}");
    // Each node's session coming up is an Event on the BGPPeer.
    let start = Instant::now();
    loop {
        let events =
            lab.kubectl(&["get", "events", "-n", "default", "--field-selector", "involvedObject.name=router-v4"])?;
        if ["node1", "node2", "node3"].iter().all(|n| events.contains(&format!("node {n}:")))
            && events.contains("SessionEstablished")
        {
            break;
        }
        assert!(start.elapsed() < SOON, "session Events missing: {events}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregation_length_24_announces_the_pool_as_one_route() -> Result {
    let mut lab = bgp_lab(RouterKind::Frr, AGGREGATED).await?;
    wait_sessions(&lab, SOON).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node2"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    wait_nexthops(&lab, "203.0.113.0/24", &ips(&NODE_V4), SOON).await?;
    assert!(kernel_nexthops(&lab, &host_prefix(ip))?.is_empty(), "no host route besides the aggregate");
    let pathspace = format!("flb-{}", lab.name());
    let shown =
        lab.exec_ok("router", &["vtysh", "-N", &pathspace, "-c", "show bgp ipv4 unicast 203.0.113.0/24 json"])?;
    assert!(shown.contains("64600:1:2"), "large community missing: {shown}");
    // Deleted: nothing is left to announce.
    lab.kubectl(&["delete", "svc", "web"])?;
    wait_nexthops(&lab, "203.0.113.0/24", &BTreeSet::new(), SOON).await?;
    Ok(())
}

/// The state of each of the router's IPv4 neighbors, from FRR.
fn frr_neighbor_states(lab: &Lab) -> Result<std::collections::BTreeMap<String, String>> {
    let pathspace = format!("flb-{}", lab.name());
    let out = lab.exec_ok("router", &["vtysh", "-N", &pathspace, "-c", "show bgp ipv4 unicast summary json"])?;
    let v: serde_json::Value = serde_json::from_str(&out)?;
    Ok(v["peers"]
        .as_object()
        .map(|peers| {
            peers.iter().map(|(ip, p)| (ip.clone(), p["state"].as_str().unwrap_or_default().to_owned())).collect()
        })
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_md5_password_from_a_secret_brings_the_session_up_and_a_wrong_one_does_not() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    // The router wants a password from every node; node2's is not the one FerroLB has.
    let lines = [
        "router bgp 64512".to_owned(),
        format!("neighbor {} password s3cret-md5", NODE_V4[0]),
        format!("neighbor {} password another-one", NODE_V4[1]),
        format!("neighbor {} password s3cret-md5", NODE_V4[2]),
    ];
    lab.frr_configure(&lines.iter().map(String::as_str).collect::<Vec<_>>())?;
    lab.apply(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: router-password, namespace: ferrolb-system}\n\
         type: kubernetes.io/basic-auth\nstringData: {password: s3cret-md5}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
         spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s,\n\
                passwordSecret: {name: router-password}}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\nspec: {addresses: [203.0.113.0/24]}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n",
    )?;
    let start = Instant::now();
    let states = loop {
        let states = frr_neighbor_states(&lab)?;
        let up = |ip: &str| states.get(ip).is_some_and(|s| s == "Established");
        if up(NODE_V4[0]) && up(NODE_V4[2]) {
            break states;
        }
        assert!(start.elapsed() < SOON, "the sessions with the right password did not come up: {states:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("MD5 sessions up after {:?}: {states:?}", start.elapsed());
    // Give the wrong password every chance: the speaker retries, and it must never come up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let states = frr_neighbor_states(&lab)?;
    assert_ne!(states.get(NODE_V4[1]).map(String::as_str), Some("Established"), "{states:?}");
    // Traffic goes only to the nodes whose sessions are up.
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2", "node3"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    wait_nexthops(&lab, &host_prefix(ip), &ips(&[NODE_V4[0], NODE_V4[2]]), SOON).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ibgp_peer_gets_the_local_preference() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    // The router takes node1 as an internal peer (same AS) instead of an external one.
    let pathspace = format!("flb-{}", lab.name());
    let node1 = NODE_V4[0];
    let lines = [
        "router bgp 64512".to_owned(),
        format!("no neighbor {node1} peer-group NODES4"),
        format!("neighbor {node1} remote-as internal"),
        format!("neighbor {node1} timers 1 3"),
        "address-family ipv4 unicast".to_owned(),
        format!("neighbor {node1} activate"),
    ];
    lab.frr_configure(&lines.iter().map(String::as_str).collect::<Vec<_>>())?;
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-ibgp}\n\
         spec: {myASN: 64512, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s,\n\
                nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node1}}]}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\nspec: {addresses: [203.0.113.0/24]}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\n\
         spec: {ipAddressPools: [bgp], localPref: 300, peers: [router-ibgp]}\n",
    )?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    wait_nexthops(&lab, &host_prefix(ip), &ips(&[node1]), SOON).await?;
    let shown = lab.exec_ok(
        "router",
        &["vtysh", "-N", &pathspace, "-c", &format!("show bgp ipv4 unicast {} json", host_prefix(ip))],
    )?;
    let v: serde_json::Value = serde_json::from_str(&shown)?;
    let path = &v["paths"][0];
    assert_eq!(path["locPrf"], 300, "{shown}");
    assert_eq!(path["aspath"]["string"], "Local", "an iBGP route carries an empty AS path: {shown}");
    Ok(())
}

/// BGP unnumbered over a point-to-point link between node1 and the router (added for the
/// test; the lab's node segment is shared, and an interface peer wants one router per link):
/// the BGPPeer names the interface, FRR peers by interface, and the Service's /32 reaches the
/// router's kernel table with node1's IPv6 link-local address as next hop (RFC 8950).
#[tokio::test(flavor = "multi_thread")]
async fn an_unnumbered_peer_carries_ipv4_with_an_ipv6_link_local_next_hop() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 2, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    let (router_ns, node1_ns) = (lab.netns("router")?.to_owned(), lab.netns("node1")?.to_owned());
    let ip = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("ip").args(args).output()?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("ip {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into())
        }
    };
    ip(&["-n", &router_ns, "link", "add", "p2p1", "type", "veth", "peer", "name", "p2p1", "netns", &node1_ns])?;
    ip(&["-n", &router_ns, "link", "set", "p2p1", "up"])?;
    ip(&["-n", &node1_ns, "link", "set", "p2p1", "up"])?;
    lab.frr_configure(&[
        "router bgp 64512",
        "neighbor p2p1 interface remote-as external",
        "neighbor p2p1 timers 1 3",
        "address-family ipv4 unicast",
        "neighbor p2p1 activate",
        "exit-address-family",
        "address-family ipv6 unicast",
        "neighbor p2p1 activate",
        "exit-address-family",
    ])?;
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-p2p}\n\
         spec: {myASN: 64600, peerASN: 64512, interface: p2p1, holdTime: 3s, keepaliveTime: 1s,\n\
                nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node1}}]}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\nspec: {addresses: [203.0.113.0/24]}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n",
    )?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2"])).await?;
    let ip4 = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    let start = Instant::now();
    let route = loop {
        let route = lab.exec_ok("router", &["ip", "-4", "route", "show", "exact", &host_prefix(ip4)])?;
        if route.contains("via inet6 fe80:") && route.contains("dev p2p1") {
            break route;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no route via node1's link-local address: {route:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("unnumbered: {} after {:?}", route.trim(), start.elapsed());
    let node1_ll = lab.exec_ok("node1", &["ip", "-6", "-br", "addr", "show", "dev", "p2p1", "scope", "link"])?;
    let node1_ll = node1_ll.split_whitespace().nth(2).and_then(|a| a.split('/').next()).unwrap_or_default().to_owned();
    assert!(
        route.contains(&format!("via inet6 {node1_ll} ")),
        "next hop is not node1's link-local {node1_ll}: {route}"
    );
    let answer = lab.curl("client", &format!("http://{ip4}/"))?;
    assert!(answer.trim().starts_with("node1"), "the only path is node1's link: {answer}");
    Ok(())
}

/// enableGracefulRestart: a speaker restarted (SIGTERM, then a new process) costs nothing at the
/// router. FRR keeps the node's route while the speaker is away and after it is back: its kernel
/// route for the Service keeps every next hop the whole time (polled every 50 ms).
#[tokio::test(flavor = "multi_thread")]
async fn a_speaker_restart_with_graceful_restart_keeps_the_routers_next_hops() -> Result {
    // Both of the lab router's sessions per node, with graceful restart.
    let gr_peers = PEERS.replace("keepaliveTime: 1s}", "keepaliveTime: 1s, enableGracefulRestart: true}");
    assert_eq!(gr_peers.matches("enableGracefulRestart").count(), 2);
    let mut lab =
        Lab::up(LabOptions { nodes: 2, mode: Mode::Bgp, router: RouterKind::Frr, ..LabOptions::for_test() }).await?;
    lab.apply(&format!("{gr_peers}---\n{HOST_ROUTES}"))?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;
    wait_sessions(&lab, SOON).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    let prefix = host_prefix(ip);
    let both = ips(&NODE_V4[..2]);
    wait_nexthops(&lab, &prefix, &both, SOON).await?;
    let router_ns = lab.record().daemons.iter().find(|d| d.name == "bgpd").map(|d| d.netns.clone());
    let router_ns = router_ns.ok_or("no bgpd in the lab")?;

    let polling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let poller = {
        let (polling, prefix, router_ns) = (polling.clone(), prefix.clone(), router_ns.clone());
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while polling.load(std::sync::atomic::Ordering::Relaxed) {
                samples.push(kernel_nexthops_in(&router_ns, &prefix));
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        })
    };
    let restarted = Instant::now();
    lab.restart("ferrolb-speaker-node1")?;
    wait_sessions(&lab, Duration::from_secs(30)).await?;
    let back = restarted.elapsed();
    // Past End-of-RIB: the new speaker's routes replaced the stale ones.
    tokio::time::sleep(Duration::from_secs(3)).await;
    polling.store(false, std::sync::atomic::Ordering::Relaxed);
    let samples = poller.join().map_err(|_| "the poller panicked")?;
    let missing: Vec<_> = samples.iter().filter(|s| s.as_ref() != Ok(&both)).collect();
    eprintln!(
        "session back {back:?} after the restart began; {} samples, {} without both next hops",
        samples.len(),
        missing.len()
    );
    assert!(samples.len() >= 40, "too few samples: {}", samples.len());
    assert!(missing.is_empty(), "{prefix} lost a next hop during the restart: {missing:?}");
    let pathspace = format!("flb-{}", lab.name());
    let shown =
        lab.exec_ok("router", &["vtysh", "-N", &pathspace, "-c", &format!("show bgp ipv4 unicast {prefix} json")])?;
    assert!(!shown.contains("\"stale\":true"), "the restarted speaker's route is still stale: {shown}");
    Ok(())
}
