//! MetalLB the way its users run it, in the same lab of real nodes FerroLB runs on
//! (`ferrolb-lab up --lb metallb --nodes-kind real`): its `metallb-native.yaml` applied (without
//! the webhook), its controller Deployment and speaker DaemonSet running from images built from
//! scripts/build-metallb's binaries, configured as its docs say; echo pods behind LoadBalancer
//! Services are reached from the client through the router (BGP) and from l2client (Layer2).
//! This is what lets the side-by-side benchmark (docs/benchmarks.md) compare like with like.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ferrolb_e2e::bench::implementation::Implementation;
use ferrolb_e2e::real::{SOON, answer, eventually, machine, ready_pods_matching};
use ferrolb_e2e::{kernel_nexthops, wait_ingress};
use ferrolb_lab::{Lab, LabOptions, Lb, Mode, NodesKind};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::test(flavor = "multi_thread")]
async fn metallb_runs_as_pods_on_real_nodes_and_serves_echo_pods() -> Result {
    let opts = LabOptions {
        nodes: 3,
        mode: Mode::Bgp,
        nodes_kind: NodesKind::Real,
        lb: Lb::Metallb,
        ..LabOptions::for_test()
    };
    let name = opts.name.clone();
    let before = machine(&name);
    let mut lab = Lab::up(opts).await?;

    // MetalLB's own pods, from the images built here: a controller and a speaker per node.
    let speakers = ready_pods_matching(&lab, "metallb-system", "component=speaker")?;
    let controllers = ready_pods_matching(&lab, "metallb-system", "component=controller")?;
    assert_eq!(speakers.len(), 3, "{speakers:?}");
    assert_eq!(controllers.len(), 1, "{controllers:?}");
    let images =
        lab.kubectl(&["get", "pods", "-n", "metallb-system", "-o", "jsonpath={.items[*].spec.containers[0].image}"])?;
    let images: BTreeSet<&str> = images.split_whitespace().collect();
    assert_eq!(images, BTreeSet::from(["quay.io/metallb/controller:v0.16.2", "quay.io/metallb/speaker:v0.16.2"]));

    // The benchmark's configuration for MetalLB, as its users would write it.
    for config in [Implementation::Metallb.bgp_config(), Implementation::Metallb.layer2_config()] {
        eventually("MetalLB's configuration applied", SOON, || lab.apply(&config).map_err(|e| e.to_string())).await?;
    }

    // BGP: echo pods from the client through the router, every node a next hop.
    lab.apply(&Lab::echo_manifest("default", "web", 3, "loadBalancerIP: 203.0.113.10"))?;
    lab.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
    let (ips, _) = wait_ingress(&mut lab, "default", "web", 1, SOON).await?;
    assert_eq!(ips, ["203.0.113.10".parse::<IpAddr>()?]);
    let body = answer(&lab, "client", "http://203.0.113.10/").await?;
    assert!(body.starts_with("web-"), "{body:?}");
    let hops = eventually("three next hops for 203.0.113.10", SOON, || {
        let h = kernel_nexthops(&lab, "203.0.113.10/32").map_err(|e| e.to_string())?;
        if h.len() == 3 { Ok(h) } else { Err(format!("{h:?}")) }
    })
    .await?;
    eprintln!("MetalLB BGP: the client reached {body:?}; router: 203.0.113.10 via {hops:?}");

    // Layer2: one node answers ARP for the address, and l2client reaches the pods.
    lab.apply(&Lab::echo_manifest("default", "l2web", 2, "loadBalancerIP: 198.51.100.210"))?;
    lab.kubectl(&["rollout", "status", "deployment/l2web", "--timeout=60s"])?;
    wait_ingress(&mut lab, "default", "l2web", 1, SOON).await?;
    let l2_ip: IpAddr = "198.51.100.210".parse()?;
    let owner = eventually("one node answering ARP for 198.51.100.210", SOON, || {
        let macs = lab.arping("l2client", l2_ip, 1).map_err(|e| e.to_string())?;
        if let [one] = macs.as_slice() { Ok(one.clone()) } else { Err(format!("{macs:?}")) }
    })
    .await?;
    let body = answer(&lab, "l2client", "http://198.51.100.210/").await?;
    assert!(body.starts_with("l2web-"), "{body:?}");
    eprintln!("MetalLB Layer2: {} answers ARP; l2client reached {body:?}", lab.node_by_mac(&owner)?);

    // Down leaves nothing behind.
    lab.down()?;
    let after = machine(&name);
    assert!(after.namespaces.is_empty() && after.cgroups.is_empty() && after.mounts == 0, "{after:?}");
    assert_eq!(after.sysctls, before.sysctls, "kernel settings changed");
    Ok(())
}
