//! FerroLB the way users run it: a 3-node cluster with real kubelets, containerd, kube-proxy,
//! controller-manager and scheduler; FerroLB installed from config/ as a Deployment and a
//! hostNetwork DaemonSet from images built here; echo pods behind LoadBalancer Services,
//! reached from the client through the router (BGP) and from l2client (Layer2). One lab,
//! brought up once (it takes a minute), checked step by step, and taken down: nothing of it
//! may remain on the machine.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::real::{CONFIG, SOON, answer, eventually, get, machine, ready_pods};
use ferrolb_e2e::{kernel_nexthops, wait_accepted, wait_ingress};
use ferrolb_lab::realnodes::config::images::{CONTROLLER, SPEAKER};
use ferrolb_lab::{Lab, LabOptions, Mode, NodesKind};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::test(flavor = "multi_thread")]
async fn ferrolb_runs_as_pods_on_real_nodes_and_serves_echo_pods() -> Result {
    let opts = LabOptions { nodes: 3, mode: Mode::Bgp, nodes_kind: NodesKind::Real, ..LabOptions::for_test() };
    let name = opts.name.clone();
    let before = machine(&name);
    let start = Instant::now();
    let mut lab = Lab::up(opts).await?;
    eprintln!("real lab up in {:.1}s", start.elapsed().as_secs_f64());

    // Every Node registered by its kubelet, Ready, of the apiserver's release.
    let nodes = lab.kubectl(&[
        "get",
        "nodes",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.containerRuntimeVersion}{"\n"}{end}"#,
    ])?;
    eprintln!("{nodes}");
    let lines: Vec<&str> = nodes.lines().collect();
    assert_eq!(lines.len(), 3, "{nodes}");
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[0], format!("node{}", i + 1), "{line}");
        assert!(f[1].starts_with("v1."), "{line}");
        assert_eq!(f[2], "True", "{line}");
        assert!(f[3].starts_with("containerd://"), "{line}");
    }

    // FerroLB's pods run from the images built here, as the manifests of config/ describe them.
    let pods = lab.kubectl(&[
        "get",
        "pods",
        "-n",
        "ferrolb-system",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.spec.containers[0].image} {.spec.containers[0].imagePullPolicy} {.spec.hostNetwork}{"\n"}{end}"#,
    ])?;
    eprintln!("{pods}");
    let speakers: Vec<&str> = pods.lines().filter(|l| l.starts_with("ferrolb-speaker-")).collect();
    let controllers: Vec<&str> = pods.lines().filter(|l| l.starts_with("ferrolb-controller-")).collect();
    assert_eq!(speakers.len(), 3, "{pods}");
    // Two controller replicas (one leads), on two nodes: config/controller asks for that.
    assert_eq!(controllers.len(), 2, "{pods}");
    for s in &speakers {
        assert!(s.contains(&format!(" Running {SPEAKER} IfNotPresent true")), "{s}");
    }
    for c in &controllers {
        assert!(c.contains(&format!(" Running {CONTROLLER} IfNotPresent")), "{c}");
    }
    let controller_nodes: BTreeSet<&str> = controllers.iter().filter_map(|c| c.split_whitespace().nth(1)).collect();
    assert_eq!(controller_nodes.len(), 2, "preferred anti-affinity spreads the replicas: {pods}");

    // FerroLB's configuration, accepted by the controller running as a pod.
    lab.apply(CONFIG)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;
    wait_accepted::<IPAddressPool>(&mut lab, "layer2", "True", SOON).await?;

    // BGP: an echo Deployment behind a LoadBalancer Service, from the client through the router.
    lab.apply(&Lab::echo_manifest("default", "web", 3, "loadBalancerIP: 203.0.113.10"))?;
    lab.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let ips = wait_ingress(&mut lab, "default", "web", 1, SOON).await?;
    assert_eq!(ips.0, ["203.0.113.10".parse::<IpAddr>()?]);
    let web_pods: BTreeSet<String> =
        ready_pods(&lab, "default", "web").map_err(|e| e.to_string())?.into_iter().map(|p| p.0).collect();
    let mut seen = BTreeSet::new();
    for _ in 0..12 {
        let body = answer(&lab, "client", "http://203.0.113.10/").await?;
        let pod = body.split_whitespace().next().unwrap_or_default().to_owned();
        assert!(web_pods.contains(&pod), "{body:?} is not from a pod of web ({web_pods:?})");
        seen.insert(pod);
    }
    eprintln!("BGP: the client reached pods {seen:?}");
    let hops = eventually("three next hops for 203.0.113.10", SOON, || {
        let h = kernel_nexthops(&lab, "203.0.113.10/32").map_err(|e| e.to_string())?;
        if h.len() == 3 { Ok(h) } else { Err(format!("{h:?}")) }
    })
    .await?;
    eprintln!("router: 203.0.113.10 via {hops:?}");

    // Layer2: the same pods, from a host on the node segment.
    lab.apply(&Lab::echo_manifest("default", "l2web", 2, "loadBalancerIP: 198.51.100.210"))?;
    lab.kubectl(&["rollout", "status", "deployment/l2web", "--timeout=60s"])?;
    wait_ingress(&mut lab, "default", "l2web", 1, SOON).await?;
    let l2_pods: BTreeSet<String> =
        ready_pods(&lab, "default", "l2web").map_err(|e| e.to_string())?.into_iter().map(|p| p.0).collect();
    let body = answer(&lab, "l2client", "http://198.51.100.210/").await?;
    let pod = body.split_whitespace().next().unwrap_or_default();
    assert!(l2_pods.contains(pod), "{body:?} is not from a pod of l2web ({l2_pods:?})");
    eprintln!("Layer2: l2client reached {body:?}");

    // Layer2 handover with real pods: the owner node is cordoned (as `kubectl drain` does) and
    // its speaker pod deleted; a speaker on a cordoned node hands its addresses over instead of
    // restarting in place, so another node answers ARP for the address, and l2client is
    // answered again.
    let l2_ip: IpAddr = "198.51.100.210".parse()?;
    let owner_mac = eventually("one node answering ARP for 198.51.100.210", SOON, || {
        let macs = lab.arping("l2client", l2_ip, 1).map_err(|e| e.to_string())?;
        if let [one] = macs.as_slice() { Ok(one.clone()) } else { Err(format!("{macs:?}")) }
    })
    .await?;
    let owner = lab.node_by_mac(&owner_mac)?;
    let speaker_on_owner = speakers
        .iter()
        .find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.get(1) == Some(&owner.as_str())).then(|| f[0].to_owned())
        })
        .ok_or_else(|| format!("no speaker pod on {owner}"))?;
    lab.kubectl(&["cordon", &owner])?;
    // The speaker reads its Node's cordon from its watch before it is told to stop.
    tokio::time::sleep(Duration::from_secs(1)).await;
    lab.kubectl(&["delete", "pod", "-n", "ferrolb-system", &speaker_on_owner, "--wait=false"])?;
    let deleted = Instant::now();
    let (taker, took) = eventually("another node answering ARP for 198.51.100.210", Duration::from_secs(30), || {
        let macs = lab.arping("l2client", l2_ip, 1).map_err(|e| e.to_string())?;
        match macs.iter().find(|mac| !mac.eq_ignore_ascii_case(&owner_mac)) {
            Some(mac) => Ok((mac.clone(), deleted.elapsed())),
            None => Err(format!("{macs:?}")),
        }
    })
    .await?;
    let taker = lab.node_by_mac(&taker)?;
    assert_ne!(taker, owner);
    let body = answer(&lab, "l2client", "http://198.51.100.210/").await?;
    let pod = body.split_whitespace().next().unwrap_or_default();
    assert!(l2_pods.contains(pod), "{body:?} is not from a pod of l2web ({l2_pods:?})");
    eprintln!("Layer2 handover: {owner} cordoned and its speaker pod deleted, {taker} answered ARP after {took:?}");
    lab.kubectl(&["uncordon", &owner])?;

    // ETP Local: only the node with the pod announces; when the pod moves, so does the route.
    lab.apply(&Lab::echo_manifest(
        "default",
        "local",
        1,
        "loadBalancerIP: 203.0.113.20\n  externalTrafficPolicy: Local",
    ))?;
    lab.kubectl(&["rollout", "status", "deployment/local", "--timeout=60s"])?;
    let (pod, node) = eventually("one ready pod of local", SOON, || {
        let p = ready_pods(&lab, "default", "local")?;
        p.into_iter().next().ok_or_else(|| "none".to_owned())
    })
    .await?;
    let node_ip = |n: &str| lab.plan().host(n).map(|h| IpAddr::V4(h.v4()));
    let want: BTreeSet<IpAddr> = node_ip(&node).into_iter().collect();
    eventually("the route of 203.0.113.20 via the pod's node only", SOON, || {
        let h = kernel_nexthops(&lab, "203.0.113.20/32").map_err(|e| e.to_string())?;
        if h == want { Ok(()) } else { Err(format!("{h:?}, want {want:?}")) }
    })
    .await?;
    let body = answer(&lab, "client", "http://203.0.113.20/").await?;
    assert_eq!(body.trim(), format!("{pod} on {node}"));
    lab.kubectl(&["cordon", &node])?;
    lab.kubectl(&["delete", "pod", &pod, "--wait=false"])?;
    let (moved, to) = eventually("the pod of local rescheduled to another node", Duration::from_secs(60), || {
        let p = ready_pods(&lab, "default", "local")?;
        p.into_iter().find(|(p, n)| *p != pod && *n != node).ok_or_else(|| "not yet".to_owned())
    })
    .await?;
    let want: BTreeSet<IpAddr> = node_ip(&to).into_iter().collect();
    let start_move = Instant::now();
    eventually("the route of 203.0.113.20 follows the pod", SOON, || {
        let h = kernel_nexthops(&lab, "203.0.113.20/32").map_err(|e| e.to_string())?;
        if h == want { Ok(()) } else { Err(format!("{h:?}, want {want:?}")) }
    })
    .await?;
    let body = answer(&lab, "client", "http://203.0.113.20/").await?;
    assert_eq!(body.trim(), format!("{moved} on {to}"));
    eprintln!("ETP Local: {pod} on {node} -> {moved} on {to}; route followed in {:?}", start_move.elapsed());
    lab.kubectl(&["uncordon", &node])?;

    // Deleting a namespace removes what is in it (controller-manager's namespace controller and
    // garbage collector), and FerroLB gives the address back.
    lab.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: gone}\n")?;
    eventually("the default ServiceAccount of gone", SOON, || get(&lab, &["get", "sa", "default", "-n", "gone"]))
        .await?;
    lab.apply(&Lab::echo_manifest("gone", "web", 1, "loadBalancerIP: 203.0.113.30"))?;
    lab.kubectl(&["rollout", "status", "-n", "gone", "deployment/web", "--timeout=60s"])?;
    answer(&lab, "client", "http://203.0.113.30/").await?;
    lab.kubectl(&["delete", "namespace", "gone", "--wait=false"])?;
    eventually("namespace gone deleted with its pods", Duration::from_secs(60), || {
        match get(&lab, &["get", "namespace", "gone", "-o", "name"]) {
            Err(e) if e.contains("NotFound") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await?;
    eventually("203.0.113.30 withdrawn from the router", SOON, || {
        let h = kernel_nexthops(&lab, "203.0.113.30/32").map_err(|e| e.to_string())?;
        if h.is_empty() { Ok(()) } else { Err(format!("{h:?}")) }
    })
    .await?;

    // Down leaves nothing: namespaces, processes, cgroups, mounts, files, kernel settings.
    let pids: Vec<i32> = lab.record().daemons.iter().map(|d| d.pid).collect();
    let state = lab.state_dir().to_path_buf();
    let report = lab.down()?;
    eprintln!("down: {report:?}");
    assert!(!state.exists(), "{} remains", state.display());
    for pid in pids {
        // A zombie (a child of this test not yet reaped) holds nothing but its pid.
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])));
        assert!(!alive, "process {pid} remains");
    }
    let after = machine(&name);
    assert!(after.namespaces.is_empty(), "{after:?}");
    assert!(after.cgroups.is_empty(), "{after:?}");
    assert_eq!(after.mounts, 0, "{after:?}");
    assert!(after.cni_results.is_empty(), "{after:?}");
    assert_eq!(after.sysctls, before.sysctls, "kernel settings changed");
    Ok(())
}
