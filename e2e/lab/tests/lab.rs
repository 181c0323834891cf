//! The lab, end to end: real namespaces, a real kube-apiserver and etcd, real FRR, BIRD and
//! GoBGP. These tests need root; without it they fail and say so.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ferrolb_lab::{Backend, Error, Family, Lab, LabOptions, RouterKind};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn opts(router: RouterKind, nodes: u8) -> LabOptions {
    LabOptions { router, nodes, ferrolb: false, ..LabOptions::for_test() }
}

fn namespaces() -> BTreeSet<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().expect("ip netns list runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn root_links() -> BTreeSet<String> {
    let out = Command::new("ip").args(["-o", "link", "show"]).output().expect("ip link runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Every node's stand-in answers the client, through the router, over IPv4 and IPv6.
fn assert_client_reaches_every_node(lab: &Lab) -> Result {
    for node in lab.plan().nodes() {
        for url in [format!("http://{}/", node.v4()), format!("http://[{}]/", node.v6())] {
            let body = lab.curl("client", &url)?;
            assert_eq!(body.trim(), node.name, "{url} from client");
        }
    }
    Ok(())
}

/// Two nodes announce the same prefixes with GoBGP; the router must install both paths
/// (ECMP) and the client must reach a node through the BGP route.
fn assert_router_learns_ecmp_routes(lab: &mut Lab) -> Result {
    lab.announce_with_gobgp("node1", &["203.0.113.7/32", "2001:db8:100::7/128"])?;
    lab.announce_with_gobgp("node2", &["203.0.113.7/32", "2001:db8:100::7/128"])?;
    let v4 = lab.wait_for_bgp_route(Family::V4, "203.0.113.7/32", 2, Duration::from_secs(60))?;
    assert_eq!(v4, vec!["198.51.100.11".parse::<std::net::IpAddr>()?, "198.51.100.12".parse()?]);
    let v6 = lab.wait_for_bgp_route(Family::V6, "2001:db8:100::7/128", 2, Duration::from_secs(60))?;
    assert_eq!(v6.len(), 2, "IPv6 ECMP paths: {v6:?}");
    // The router's kernel (what forwards the client's packets) has the multipath route too.
    let fib = lab.exec_ok("router", &["ip", "route", "show", "203.0.113.7"])?;
    assert!(fib.contains("198.51.100.11") && fib.contains("198.51.100.12"), "router FIB: {fib}");
    for url in ["http://203.0.113.7/", "http://[2001:db8:100::7]/"] {
        let body = lab.curl("client", url)?;
        assert!(["node1", "node2"].contains(&body.trim()), "{url} answered {body:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn up_then_down_leaves_nothing_behind() -> Result {
    let links_before = root_links();
    let lab = Lab::up(opts(RouterKind::Frr, 2)).await?;
    let name = lab.name().to_owned();
    let state = lab.state_dir().to_path_buf();
    let pids: Vec<i32> = lab.record().daemons.iter().map(|d| d.pid).collect();
    assert!(pids.len() >= 5, "apiserver, zebra, bgpd and two stand-ins: {pids:?}");
    assert!(pids.iter().all(|&p| pid_alive(p)));
    let ours: Vec<String> = namespaces().into_iter().filter(|n| n.starts_with(&format!("flb-{name}-"))).collect();
    assert_eq!(ours.len(), 7, "lab, router, client, cp, node1, node2, l2client: {ours:?}");

    // The same name again is refused, with a hint, and the running lab is untouched.
    let again = Lab::up(LabOptions { name: name.clone(), ..opts(RouterKind::Frr, 2) }).await;
    assert!(matches!(again, Err(Error::NameInUse(ref n)) if *n == name), "{again:?}");
    lab.check_daemons()?;

    let report = lab.down()?;
    assert_eq!(report.namespaces.len(), 7);
    assert!(namespaces().iter().all(|n| !n.starts_with(&format!("flb-{name}-"))));
    assert!(pids.iter().all(|&p| !pid_alive(p)), "a lab process survived down");
    assert!(!state.exists(), "state directory {} left behind", state.display());
    assert!(!Path::new(&format!("/etc/frr/flb-{name}")).exists());
    assert!(!Path::new(&format!("/var/run/frr/flb-{name}")).exists());
    assert!(root_links().is_subset(&links_before), "a link appeared in the root namespace");
    // Idempotent.
    assert_eq!(ferrolb_lab::down(&name)?, ferrolb_lab::DownReport::default());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn down_cleans_up_after_a_crashed_run() -> Result {
    let name = LabOptions::for_test().name;
    // What a run killed half-way leaves: namespaces with processes in them, no record.
    for host in ["lab", "node1"] {
        let ns = format!("flb-{name}-{host}");
        assert!(Command::new("ip").args(["netns", "add", &ns]).status()?.success());
    }
    let ns = format!("flb-{name}-node1");
    let sleeper = Command::new("ip").args(["netns", "exec", &ns, "sleep", "300"]).spawn()?;
    let pid = i32::try_from(sleeper.id())?;
    std::thread::sleep(Duration::from_millis(100)); // let it enter the namespace
    assert!(ferrolb_lab::all_labs().contains(&name));
    let report = ferrolb_lab::down(&name)?;
    assert_eq!(report.namespaces.len(), 2);
    assert_eq!(report.processes, 1);
    assert!(!pid_alive(pid), "the process left in the namespace survived");
    assert!(!namespaces().iter().any(|n| n.starts_with(&format!("flb-{name}-"))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_works_from_the_root_namespace_and_from_a_node() -> Result {
    let mut lab = Lab::up(opts(RouterKind::Frr, 1)).await?;
    let manifest = lab.state_dir().join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: default\ndata:\n  greeting: from-root\n",
    )?;
    let out = lab.kubectl(&["apply", "-f", &manifest.to_string_lossy()])?;
    assert!(out.contains("configmap/hello created"), "{out}");

    // From inside node1, with the in-lab kubeconfig (apiserver at 198.51.100.2).
    let kubectl = lab.kubectl_binary().to_string_lossy().into_owned();
    let kubeconfig = lab.kubeconfig_in_lab().to_string_lossy().into_owned();
    let got = lab.exec_ok(
        "node1",
        &[&kubectl, "--kubeconfig", &kubeconfig, "get", "configmap", "hello", "-o", "jsonpath={.data.greeting}"],
    )?;
    assert_eq!(got, "from-root");
    let patched = lab.exec_ok(
        "node1",
        &[
            &kubectl,
            "--kubeconfig",
            &kubeconfig,
            "patch",
            "configmap",
            "hello",
            "-p",
            r#"{"data":{"greeting":"from-node1"}}"#,
        ],
    )?;
    assert!(patched.contains("patched"), "{patched}");

    let cm: ConfigMap = Api::default_namespaced(lab.client().await?).get("hello").await?;
    assert_eq!(cm.data.unwrap_or_default().get("greeting").map(String::as_str), Some("from-node1"));

    // The version the server reports is the release the client was built from.
    let version = lab.kubectl(&["version", "-o", "json"])?;
    let v: serde_json::Value = serde_json::from_str(&version)?;
    assert_eq!(v["clientVersion"]["gitVersion"], v["serverVersion"]["gitVersion"]);
    assert!(v["serverVersion"]["gitVersion"].as_str().is_some_and(|s| s.starts_with("v1.")), "{version}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn frr_routes_the_client_to_every_node_and_learns_ecmp_routes() -> Result {
    let mut lab = Lab::up(opts(RouterKind::Frr, 3)).await?;
    assert_client_reaches_every_node(&lab)?;
    let connected = lab.router_routes(Family::V4)?;
    assert!(connected.iter().any(|r| r.prefix == "198.51.100.0/24" && r.protocol == "connected"), "{connected:?}");
    assert_router_learns_ecmp_routes(&mut lab)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bird_routes_the_client_to_every_node_and_learns_ecmp_routes() -> Result {
    let mut lab = Lab::up(opts(RouterKind::Bird, 2)).await?;
    assert_client_reaches_every_node(&lab)?;
    assert_router_learns_ecmp_routes(&mut lab)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_do_not_answer_arp_for_pool_addresses_themselves() -> Result {
    let lab = Lab::up(opts(RouterKind::Frr, 2)).await?;
    // A node answers for its own address...
    let own = lab.exec("l2client", &["arping", "-c", "2", "-w", "2", "-I", "eth0", "198.51.100.11"])?;
    assert!(own.status.success(), "node1 did not answer ARP for its own address");
    // ...but not for a Layer2 pool address it accepts traffic for: only a speaker may.
    let pool = lab.exec("l2client", &["arping", "-c", "2", "-w", "2", "-I", "eth0", "198.51.100.200"])?;
    assert!(
        !pool.status.success(),
        "someone answered ARP for 198.51.100.200: {}",
        String::from_utf8_lossy(&pool.stdout)
    );
    let ndp = lab.exec("l2client", &["ndisc6", "-r", "2", "-w", "500", "2001:db8:1::200", "eth0"])?;
    assert!(!ndp.status.success(), "someone answered NDP for 2001:db8:1::200");
    // Yet the node accepts traffic for pool addresses, as kube-proxy would.
    let local = lab.exec_ok("node1", &["curl", "-sS", "--max-time", "3", "http://198.51.100.200/"])?;
    assert_eq!(local.trim(), "node1");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_labs_run_side_by_side() -> Result {
    let (a, b) = tokio::join!(Lab::up(opts(RouterKind::Frr, 1)), Lab::up(opts(RouterKind::Bird, 1)));
    let (mut a, mut b) = (a?, b?);
    assert_ne!(a.name(), b.name());
    let cms: Api<ConfigMap> = Api::default_namespaced(a.client().await?);
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "only-in-a"}}))?;
    cms.create(&PostParams::default(), &cm).await?;
    let in_b: Api<ConfigMap> = Api::default_namespaced(b.client().await?);
    assert!(in_b.get_opt("only-in-a").await?.is_none(), "the labs share an apiserver");
    assert_client_reaches_every_node(&a)?;
    assert_client_reaches_every_node(&b)?;
    let b_name = b.name().to_owned();
    b.down()?;
    // Taking b down leaves a whole.
    a.check_daemons()?;
    assert!(cms.get_opt("only-in-a").await?.is_some());
    assert_client_reaches_every_node(&a)?;
    assert!(!namespaces().iter().any(|n| n.starts_with(&format!("flb-{b_name}-"))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_endpointslice_helper_writes_slices_the_apiserver_accepts() -> Result {
    let mut lab = Lab::up(opts(RouterKind::Frr, 3)).await?;
    let client = lab.client().await?;
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "ipFamilyPolicy": "RequireDualStack",
                 "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 80}]},
    }))?;
    Api::<Service>::default_namespaced(client.clone()).create(&PostParams::default(), &svc).await?;

    let backends: Vec<Backend> = vec!["node1".parse()?, "node2:not-ready".parse()?];
    let written = lab.backends("default", "web", &backends).await?;
    assert_eq!(written, ["web-lab-ipv4", "web-lab-ipv6"]);

    let slices: Api<EndpointSlice> = Api::default_namespaced(client.clone());
    let list = slices.list(&ListParams::default().labels("kubernetes.io/service-name=web")).await?;
    assert_eq!(list.items.len(), 2);
    let v4 = slices.get("web-lab-ipv4").await?;
    assert_eq!(v4.address_type, "IPv4");
    let eps = v4.endpoints.unwrap_or_default();
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0].addresses, ["198.51.100.11"]);
    assert_eq!(eps[0].node_name.as_deref(), Some("node1"));
    let cond = |i: usize| eps[i].conditions.clone().unwrap_or_default();
    assert_eq!((cond(0).ready, cond(0).serving), (Some(true), Some(true)));
    assert_eq!((cond(1).ready, cond(1).serving), (Some(false), Some(false)));
    let v6 = slices.get("web-lab-ipv6").await?;
    assert_eq!(v6.endpoints.unwrap_or_default()[0].addresses, ["2001:db8:1::11"]);

    // The command-line door writes the same thing: now only node3, terminating.
    let bin = env!("CARGO_BIN_EXE_ferrolb-lab");
    let out =
        Command::new(bin).args(["backends", "--name", lab.name(), "default/web", "node3:terminating"]).output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let eps = slices.get("web-lab-ipv4").await?.endpoints.unwrap_or_default();
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0].node_name.as_deref(), Some("node3"));
    let c = eps[0].conditions.clone().unwrap_or_default();
    assert_eq!((c.ready, c.serving, c.terminating), (Some(false), Some(true), Some(true)));

    // No backends at all: the slices stay, empty, as the EndpointSlice controller leaves them.
    lab.backends("default", "web", &[]).await?;
    assert!(slices.get("web-lab-ipv4").await?.endpoints.unwrap_or_default().is_empty());
    Ok(())
}

#[test]
fn a_user_who_is_not_root_is_told_why_root_is_needed() -> Result {
    // A copy where an unprivileged user may run it (the build tree may sit under /root).
    let dir = std::env::temp_dir().join(format!("ferrolb-notroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bin = dir.join("ferrolb-lab");
    std::fs::copy(env!("CARGO_BIN_EXE_ferrolb-lab"), &bin)?;
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["up", "--name", "notroot"])
        .output();
    std::fs::remove_dir_all(&dir)?;
    let out = out?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("the lab needs root"), "{stderr}");
    Ok(())
}
