//! `ferrolb explain service` against the lab, where real speakers announce: it names the
//! Layer2 owner the speakers agreed on (the one in the ServiceL2Status), and for BGP with
//! externalTrafficPolicy Local, the nodes that advertise and why the others do not.

use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{lb_service, wait_accepted, wait_ingress};
use ferrolb_lab::{Backend, Health, Lab, LabOptions, Mode};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const SOON: Duration = Duration::from_secs(10);

const L2: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2}\n\
    spec: {addresses: [198.51.100.200-198.51.100.250]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [l2]}\n";

const BGP: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router-v4}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n";

fn ready(nodes: &[&str]) -> Vec<Backend> {
    nodes.iter().map(|n| Backend { node: (*n).to_owned(), health: Health::Ready }).collect()
}

/// `kubectl get` of a jsonpath, until `done` accepts it.
async fn wait_for(lab: &Lab, args: &[&str], done: impl Fn(&str) -> bool) -> Result<String> {
    let start = Instant::now();
    loop {
        let out = lab.kubectl(args)?;
        if done(&out) {
            return Ok(out);
        }
        if start.elapsed() > SOON {
            return Err(format!("kubectl {args:?}: still {out:?} after {SOON:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `ferrolb explain service NAME -n default` prints against the lab.
fn explain(lab: &Lab, name: &str) -> Result<String> {
    let out = std::process::Command::new(ferrolb_e2e::workspace_binary("ferrolb"))
        .args(["explain", "service", name, "-n", "default", "--kubeconfig"])
        .arg(lab.kubeconfig())
        .output()?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("ferrolb explain service {name}:\n{said}");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Ok(said)
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_names_the_layer2_owner_its_status_names() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 3, ..LabOptions::for_test() }).await?;
    lab.apply(L2)?;
    wait_accepted::<IPAddressPool>(&mut lab, "l2", "True", SOON).await?;
    lab.apply(&lb_service("web", 80, "", ""))?;
    lab.backends("default", "web", &ready(&["node1", "node2", "node3"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    let jsonpath = "jsonpath={range .items[*]}{.metadata.name} {.status.node}{\"\\n\"}{end}";
    let status = wait_for(&lab, &["get", "servicel2statuses", "-n", "default", "-o", jsonpath], |o| {
        // The speaker creates the object, then writes its status: wait for both.
        o.lines().count() == 1 && o.trim().split_once(' ').is_some_and(|(_, node)| !node.is_empty())
    })
    .await?;
    let (object, owner) = status.trim().split_once(' ').ok_or("a status line")?;

    let said = explain(&lab, "web")?;
    assert!(
        said.contains(&format!("Layer2: {ip} is announced by {owner} (ServiceL2Status {object}, interfaces: ")),
        "names the owner and its status:\n{said}"
    );
    assert!(
        said.contains(&format!("By the rules, {owner} ranks first among node1, node2, node3 (L2Advertisement l2).")),
        "the rules agree with the speakers:\n{said}"
    );
    assert!(!said.contains("but by the rules"), "no disagreement:\n{said}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_names_the_bgp_nodes_of_a_local_service_and_why_the_others_do_not() -> Result {
    let mut lab = Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, ..LabOptions::for_test() }).await?;
    lab.apply(BGP)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", SOON).await?;
    lab.apply(&lb_service("web", 80, "", "externalTrafficPolicy: Local"))?;
    lab.backends("default", "web", &ready(&["node1", "node3"])).await?;
    let ip = wait_ingress(&mut lab, "default", "web", 1, SOON).await?.0[0];
    let nodes = "jsonpath={.items[*].status.node}";
    wait_for(&lab, &["get", "servicebgpstatuses", "-n", "default", "-o", nodes], |o| o.trim() == "node1 node3").await?;

    let said = explain(&lab, "web")?;
    assert!(
        said.contains(&format!(
            "BGP: node1, node3 advertise {ip}/32 to router-v4 (BGPAdvertisement bgp); node2 does not: no ready \
             endpoint runs there (externalTrafficPolicy: Local)."
        )),
        "names the advertising nodes and why node2 does not:\n{said}"
    );
    assert!(said.contains("ServiceBGPStatus objects web-node1, web-node3 agree with the rules."), "{said}");
    assert!(said.contains("BGP session router-v4:"), "session states are shown:\n{said}");
    Ok(())
}
