//! What the end-to-end tests on real nodes share: waiting for what a user would see (pods
//! Ready, an answer through the router), and what a lab could leave on the machine.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use ferrolb_lab::Lab;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A BGP peer (the lab's router), a BGP pool 203.0.113.0/24 and a Layer2 pool
/// 198.51.100.200-250, each with its advertisement.
pub const CONFIG: &str = "apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 3s, keepaliveTime: 1s}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: layer2}\n\
    spec: {addresses: [198.51.100.200-198.51.100.250]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: layer2}\nspec: {ipAddressPools: [layer2]}\n";

/// How long a step a user would wait for may take.
pub const SOON: Duration = Duration::from_secs(30);

/// What the machine holds that a lab could leave behind.
#[derive(Debug, PartialEq, Eq)]
pub struct Machine {
    pub namespaces: BTreeSet<String>,
    pub cgroups: BTreeSet<String>,
    pub mounts: usize,
    pub sysctls: Vec<String>,
    pub cni_results: BTreeSet<String>,
}

pub fn machine(name: &str) -> Machine {
    let prefix = format!("flb-{name}-");
    let list = |out: std::io::Result<std::process::Output>| {
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    };
    let namespaces = list(std::process::Command::new("ip").args(["netns", "list"]).output())
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    let cgroups = ferrolb_lab::realnodes::cgroups::lab_roots().into_iter().filter(|r| r.contains(&prefix)).collect();
    let state = format!("/run/ferrolb-lab/{name}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&state))
        .count();
    let sysctls = ferrolb_lab::realnodes::host::KUBELET_SYSCTLS
        .iter()
        .map(|s| std::fs::read_to_string(Path::new("/proc/sys").join(s.replace('.', "/"))).unwrap_or_default())
        .collect();
    let cni_results = std::fs::read_dir("/var/lib/cni/results")
        .map(|d| {
            d.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| n.starts_with(&prefix)).collect()
        })
        .unwrap_or_default();
    Machine { namespaces, cgroups, mounts, sysctls, cni_results }
}

/// Polls `check` until it returns Some, or fails after `timeout` with the last thing it said.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> std::result::Result<T, String>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        match check() {
            Ok(v) => return Ok(v),
            Err(last) if start.elapsed() > timeout => {
                return Err(format!("{what}: not within {timeout:?}; last: {last}").into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// `kubectl get` with a jsonpath, as text.
pub fn get(lab: &Lab, args: &[&str]) -> std::result::Result<String, String> {
    lab.kubectl(args).map_err(|e| e.to_string())
}

/// A pod that is Ready and not being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyPod {
    pub name: String,
    pub node: String,
    /// The image of its first container.
    pub image: String,
}

/// The pods matching the label `selector` in `namespace` that are Ready and not being deleted.
pub fn ready_pods_matching(lab: &Lab, namespace: &str, selector: &str) -> std::result::Result<Vec<ReadyPod>, String> {
    let out = get(
        lab,
        &[
            "get",
            "pods",
            "-n",
            namespace,
            "-l",
            selector,
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.spec.containers[0].image} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}"#,
        ],
    )?;
    Ok(out
        .lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [name, node, image, "True"] => {
                Some(ReadyPod { name: name.to_owned(), node: node.to_owned(), image: image.to_owned() })
            }
            _ => None,
        })
        .collect())
}

/// Pod name -> node name of the pods with label app=`app` in `namespace` that are Ready.
pub fn ready_pods(lab: &Lab, namespace: &str, app: &str) -> std::result::Result<Vec<(String, String)>, String> {
    Ok(ready_pods_matching(lab, namespace, &format!("app={app}"))?.into_iter().map(|p| (p.name, p.node)).collect())
}

/// Fetches `url` from `host` until it answers, returning the body ("POD on NODE").
pub async fn answer(lab: &Lab, host: &str, url: &str) -> Result<String> {
    eventually(&format!("{url} from {host}"), SOON, || lab.curl(host, url).map_err(|e| e.to_string())).await
}
