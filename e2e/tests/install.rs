//! Installing FerroLB the two ways users do, on a 3-node cluster of real nodes, from the
//! release images (`make images`, loaded into every node as a user loads them into kind):
//!
//! 1. `kubectl apply --server-side -f config/install/ferrolb.yaml`: controller and speakers
//!    Ready, a BGP and a Layer2 Service answered by echo pods; the same file re-applied with
//!    another image tag rolls the speakers one node at a time and moves no address;
//!    `kubectl delete -f` removes every FerroLB object.
//! 2. In the same cluster, `helm install` of charts/ferrolb: the same checks, `helm upgrade`
//!    to the other tag, `helm uninstall`: nothing FerroLB created remains (the status
//!    objects, the Lease and the member Secret go with the ClusterRoles that own them); the
//!    CRDs and the user's pools stay, as the chart promises.
//!
//! Services keep the addresses in their status through all of it (docs/install.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::real::{CONFIG, SOON, answer, eventually, get, ready_pods, ready_pods_matching};
use ferrolb_e2e::{release_images, repo, wait_accepted, wait_ingress};
use ferrolb_lab::{Lab, LabOptions, Mode, NodesKind};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const NS: &str = "ferrolb-system";
/// Long enough for pods to start from local images and pass their probes.
const ROLLOUT: Duration = Duration::from_secs(180);

fn tag() -> String {
    format!("v{VERSION}")
}
fn next_tag() -> String {
    format!("v{VERSION}-next")
}

/// The release archives, and the same binaries packed again under the next tag.
fn images(next_dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let ours: Vec<PathBuf> =
        ["controller", "speaker"].iter().map(|c| release_images().join(format!("ferrolb-{c}.tar"))).collect();
    if let Some(missing) = ours.iter().find(|p| !p.is_file()) {
        return Err(format!("{} is missing: run `make images` (make test does)", missing.display()).into());
    }
    let bindir = release_images().parent().map(|t| t.join("x86_64-unknown-linux-gnu/image")).ok_or("no target")?;
    let out = Command::new(repo().join("scripts/build-images"))
        .args([next_dir.as_os_str(), bindir.as_os_str()])
        .env("FERROLB_ONLY", "1")
        .env("FERROLB_IMAGE_TAG", next_tag())
        .output()?;
    if !out.status.success() {
        return Err(format!("build-images: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok((ours, String::from_utf8(out.stdout)?.lines().map(PathBuf::from).collect()))
}

/// The helm binary (scripts/build-helm builds it once and caches it).
fn helm() -> Result<PathBuf> {
    let out = Command::new(repo().join("scripts/build-helm")).output()?;
    if !out.status.success() {
        return Err(format!("build-helm: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

fn run_helm(helm: &Path, lab: &Lab, args: &[&str]) -> Result<String> {
    let out = Command::new(helm).args(args).arg("--kubeconfig").arg(lab.kubeconfig()).output()?;
    if !out.status.success() {
        return Err(format!("helm {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Node -> image of the Ready speaker pod there (no entry: no Ready speaker on that node).
fn speakers(lab: &Lab) -> std::result::Result<BTreeMap<String, String>, String> {
    Ok(ready_pods_matching(lab, NS, "app.kubernetes.io/name=ferrolb-speaker")?
        .into_iter()
        .map(|p| (p.node, p.image))
        .collect())
}

/// Waits until the controller has `replicas` Ready pods and every node a Ready speaker, all
/// running `tag`; returns how long that took.
async fn wait_ready(lab: &Lab, tag: &str, replicas: usize) -> Result<Duration> {
    let start = Instant::now();
    let nodes = lab.plan().nodes().count();
    eventually(&format!("FerroLB Ready with {tag}"), ROLLOUT, || {
        let s = speakers(lab)?;
        let c: Vec<String> = ready_pods_matching(lab, NS, "app.kubernetes.io/name=ferrolb-controller")?
            .into_iter()
            .map(|p| p.image)
            .collect();
        let ok = s.len() == nodes
            && s.values().all(|i| i.ends_with(&format!(":{tag}")))
            && c.len() == replicas
            && c.iter().all(|i| i.ends_with(&format!(":{tag}")));
        if ok { Ok(()) } else { Err(format!("speakers {s:?}, controllers {c:?}")) }
    })
    .await?;
    Ok(start.elapsed())
}

/// The addresses in the two Services' status.
fn addresses(lab: &Lab) -> std::result::Result<Vec<String>, String> {
    ["web", "l2web"]
        .iter()
        .map(|s| get(lab, &["get", "service", s, "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"]))
        .collect()
}

/// Follows a speaker rollout to `tag` until every node runs it: samples which nodes have a
/// Ready speaker, and when each node's old speaker went and its new one came. Fails if two
/// nodes were without a Ready speaker at once, or if a Service's address changed.
async fn follow_roll(lab: &Lab, tag: &str, before: &[String]) -> Result<Vec<(String, f64, f64)>> {
    let nodes: Vec<String> = lab.plan().nodes().map(|h| h.name.clone()).collect();
    let start = Instant::now();
    // node -> (when it last had no Ready speaker first, when the new one was Ready)
    let mut gone: BTreeMap<String, f64> = BTreeMap::new();
    let mut back: BTreeMap<String, f64> = BTreeMap::new();
    let mut worst = 0;
    loop {
        let t = start.elapsed().as_secs_f64();
        let s = speakers(lab)?;
        let missing: Vec<&String> = nodes.iter().filter(|n| !s.contains_key(*n)).collect();
        worst = worst.max(missing.len());
        for n in &missing {
            gone.entry((*n).clone()).or_insert(t);
        }
        for (n, image) in &s {
            if image.ends_with(&format!(":{tag}")) && !back.contains_key(n) {
                back.insert(n.clone(), t);
            }
        }
        let now = addresses(lab)?;
        assert_eq!(now, before, "a Service's address changed during the upgrade");
        if back.len() == nodes.len() {
            break;
        }
        if start.elapsed() > ROLLOUT {
            return Err(format!("the speakers did not all run {tag}: {s:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(worst <= 1, "{worst} nodes were without a Ready speaker at once");
    let mut timeline: Vec<(String, f64, f64)> =
        nodes.iter().map(|n| (n.clone(), gone.get(n).copied().unwrap_or(f64::NAN), back[n])).collect();
    timeline.sort_by(|a, b| a.2.total_cmp(&b.2));
    for w in timeline.windows(2) {
        assert!(w[1].1 >= w[0].2 || w[1].1.is_nan(), "{} went before {} was back: {timeline:?}", w[1].0, w[0].0);
    }
    for (node, down, up) in &timeline {
        eprintln!("  {node}: old speaker not Ready at {down:.1}s, new one Ready at {up:.1}s");
    }
    Ok(timeline)
}

/// The echo Services, answered through the router (BGP) and from the node segment (Layer2).
async fn serve(lab: &mut Lab, first: bool) -> Result<Vec<String>> {
    lab.apply(CONFIG)?;
    wait_accepted::<IPAddressPool>(lab, "bgp", "True", SOON).await?;
    wait_accepted::<IPAddressPool>(lab, "layer2", "True", SOON).await?;
    if first {
        lab.apply(&Lab::echo_manifest("default", "web", 2, "loadBalancerIP: 203.0.113.10"))?;
        lab.apply(&Lab::echo_manifest("default", "l2web", 2, "loadBalancerIP: 198.51.100.210"))?;
        lab.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?;
        lab.kubectl(&["rollout", "status", "deployment/l2web", "--timeout=60s"])?;
        wait_ingress(lab, "default", "web", 1, SOON).await?;
        wait_ingress(lab, "default", "l2web", 1, SOON).await?;
    }
    check_answers(lab).await?;
    Ok(addresses(lab)?)
}

async fn check_answers(lab: &Lab) -> Result {
    for (host, url, app) in [("client", "http://203.0.113.10/", "web"), ("l2client", "http://198.51.100.210/", "l2web")]
    {
        let pods: BTreeSet<String> = ready_pods(lab, "default", app)?.into_iter().map(|p| p.0).collect();
        let body = answer(lab, host, url).await?;
        let pod = body.split_whitespace().next().unwrap_or_default();
        assert!(pods.contains(pod), "{body:?} from {url} is not from a pod of {app} ({pods:?})");
    }
    Ok(())
}

/// FerroLB objects left in the cluster (besides CRDs, checked apart): by kind, their names.
fn leftovers(lab: &Lab) -> std::result::Result<Vec<String>, String> {
    let mut left = Vec::new();
    let names = |args: &[&str]| get(lab, args).map(|o| o.lines().map(str::to_owned).collect::<Vec<_>>());
    for kind in ["clusterroles", "clusterrolebindings"] {
        left.extend(names(&["get", kind, "-o", "name"])?.into_iter().filter(|n| n.contains("ferrolb")));
    }
    let ns_exists = get(lab, &["get", "namespace", NS, "-o", "name", "--ignore-not-found"])?;
    if !ns_exists.trim().is_empty() {
        for kind in
            ["pods", "daemonsets", "deployments", "serviceaccounts", "roles", "rolebindings", "leases", "secrets"]
        {
            left.extend(
                names(&["get", kind, "-n", NS, "-o", "name"])?
                    .into_iter()
                    .filter(|n| n.contains("ferrolb") && !n.contains("sh.helm.release")),
            );
        }
    }
    let crds = get(lab, &["get", "crd", "-o", "name"])?;
    if crds.contains("servicel2statuses.ferrolb.io") {
        left.extend(names(&["get", "servicel2statuses.ferrolb.io", "-A", "-o", "name"])?);
        left.extend(names(&["get", "servicebgpstatuses.ferrolb.io", "-A", "-o", "name"])?);
    }
    Ok(left)
}

#[tokio::test(flavor = "multi_thread")]
async fn ferrolb_installs_upgrades_and_uninstalls_with_kubectl_and_with_helm() -> Result {
    let scratch = std::env::temp_dir().join(format!("ferrolb-install-{}", std::process::id()));
    let result = scenario(&scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn scenario(scratch: &Path) -> Result {
    let (ours, next) = images(&scratch.join("next"))?;
    let helm = helm()?;
    let manifest = std::fs::read_to_string(repo().join("config/install/ferrolb.yaml"))?;
    assert!(manifest.contains(&format!("ghcr.io/ferrolb/ferrolb-speaker:{}", tag())), "the manifest's tag");
    let opts =
        LabOptions { nodes: 3, mode: Mode::Bgp, nodes_kind: NodesKind::Real, ferrolb: false, ..LabOptions::for_test() };
    let mut lab = Lab::up(opts).await?;
    let result = steps(&mut lab, &helm, &manifest, &ours, &next).await;
    let down = lab.down();
    result?;
    down?;
    Ok(())
}

async fn steps(lab: &mut Lab, helm: &Path, manifest: &str, ours: &[PathBuf], next: &[PathBuf]) -> Result {
    lab.import_images(ours)?;
    lab.import_images(next)?;

    // 1. kubectl apply of the one-file install.
    let start = Instant::now();
    lab.kubectl_input(&["apply", "--server-side", "-f", "-"], manifest)?;
    wait_ready(lab, &tag(), 2).await?;
    eprintln!("kubectl install: Ready in {:.1}s", start.elapsed().as_secs_f64());
    let key = get(lab, &["get", "secret", "-n", NS, "ferrolb-memberlist", "-o", "jsonpath={.data.secretkey}"])?;
    assert_eq!(key.len(), 44, "the controller creates a 32-byte member key: {key:?}");
    let before = serve(lab, true).await?;
    assert_eq!(before, ["203.0.113.10", "198.51.100.210"]);

    // Upgrade: the same file with the next tag.
    let upgraded = manifest.replace(&format!(":{}", tag()), &format!(":{}", next_tag()));
    lab.kubectl_input(&["apply", "--server-side", "-f", "-"], &upgraded)?;
    eprintln!("kubectl upgrade to {}:", next_tag());
    follow_roll(lab, &next_tag(), &before).await?;
    wait_ready(lab, &next_tag(), 2).await?;
    check_answers(lab).await?;

    // Uninstall: everything goes, the CRDs too (and with them the pools).
    lab.kubectl_input(&["delete", "-f", "-", "--wait=true", "--timeout=120s"], &upgraded)?;
    eventually("nothing of FerroLB left after kubectl delete", ROLLOUT, || {
        let left = leftovers(lab)?;
        let crds = get(lab, &["get", "crd", "-o", "name"])?;
        if left.is_empty() && !crds.contains("ferrolb.io") { Ok(()) } else { Err(format!("{left:?} {crds}")) }
    })
    .await?;
    // The Services' status may or may not keep the addresses here: the controller may see the
    // pools go before it stops (docs/install.md says so). They ask for their addresses, so a
    // reinstall gives them back (checked below).

    // 2. Helm, in the same cluster.
    let chart = repo().join("charts/ferrolb");
    let chart = chart.to_string_lossy();
    let start = Instant::now();
    run_helm(helm, lab, &["install", "ferrolb", &chart, "-n", NS, "--create-namespace"])?;
    wait_ready(lab, &tag(), 2).await?;
    eprintln!("helm install: Ready in {:.1}s", start.elapsed().as_secs_f64());
    let again = serve(lab, false).await?;
    assert_eq!(again, before, "the Services' addresses after reinstalling");
    eprintln!("helm upgrade to {}:", next_tag());
    run_helm(
        helm,
        lab,
        &[
            "upgrade",
            "ferrolb",
            &chart,
            "-n",
            NS,
            "--reuse-values",
            "--set",
            &format!("controller.image.tag={}", next_tag()),
            "--set",
            &format!("speaker.image.tag={}", next_tag()),
        ],
    )?;
    follow_roll(lab, &next_tag(), &before).await?;
    wait_ready(lab, &next_tag(), 2).await?;
    check_answers(lab).await?;
    let statuses =
        get(lab, &["get", "servicel2statuses.ferrolb.io,servicebgpstatuses.ferrolb.io", "-A", "-o", "name"])?;
    assert!(statuses.lines().count() >= 2, "status objects while installed: {statuses}");

    run_helm(helm, lab, &["uninstall", "ferrolb", "-n", NS, "--wait"])?;
    eventually("nothing FerroLB created left after helm uninstall", ROLLOUT, || {
        let left = leftovers(lab)?;
        if left.is_empty() { Ok(()) } else { Err(format!("{left:?}")) }
    })
    .await?;
    let crds = get(lab, &["get", "crd", "-o", "name"])?;
    assert!(crds.contains("ipaddresspools.ferrolb.io"), "helm keeps the CRDs (crds.keep): {crds}");
    let pools = get(lab, &["get", "ipaddresspools.ferrolb.io", "-o", "name"])?;
    assert!(pools.contains("bgp"), "the user's pools stay: {pools}");
    Ok(())
}
