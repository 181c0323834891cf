//! The installation manifests as a user meets them: config/install/*.yaml are what config/
//! renders to (`make manifests`), every container is locked down and pinned to this release,
//! and a real apiserver accepts every object of both files (server-side dry run).

use std::collections::BTreeSet;
use std::path::PathBuf;

use ferrolb_e2e::repo;
use ferrolb_lab::{Lab, LabOptions};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const INSTALL: &str = "config/install/ferrolb.yaml";
const PROMETHEUS: &str = "config/install/ferrolb-prometheus.yaml";

/// The objects of a multi-document YAML file, in order.
fn objects(path: &str) -> Vec<Value> {
    let text = ferrolb_e2e::manifest(path);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or_default()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

/// The one object of this kind and name.
fn find<'a>(objects: &'a [Value], k: &str, n: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| kind(o) == k && name(o) == n).collect();
    assert_eq!(found.len(), 1, "expected one {k} {n}");
    found[0]
}

/// A scratch directory of this test process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ferrolb-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_one_file_installs_are_what_config_renders() -> Result {
    let scratch = Scratch::new("manifests");
    let out = std::process::Command::new(repo().join("scripts/render-manifests")).arg(&scratch.0).output()?;
    assert!(out.status.success(), "scripts/render-manifests failed:\n{}", String::from_utf8_lossy(&out.stderr));
    for path in [INSTALL, PROMETHEUS] {
        let file = path.rsplit('/').next().unwrap_or_default();
        let rendered = std::fs::read_to_string(scratch.0.join(file))?;
        let committed = ferrolb_e2e::manifest(path);
        if rendered != committed {
            let (line, (want, have)) = rendered
                .lines()
                .chain(std::iter::repeat(""))
                .zip(committed.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("", "")));
            panic!(
                "{path} is not what config/ renders to: run `make manifests` and commit the result.\n\
                 First difference, line {}:\n  rendered:  {want}\n  committed: {have}",
                line + 1
            );
        }
    }
    Ok(())
}

/// The containers of every workload (Deployment, DaemonSet), with the workload's name.
fn containers(objects: &[Value]) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for o in objects.iter().filter(|o| matches!(kind(o), "Deployment" | "DaemonSet" | "StatefulSet" | "Job")) {
        let spec = &o["spec"]["template"]["spec"];
        for c in ["initContainers", "containers"].iter().flat_map(|k| spec[*k].as_array().into_iter().flatten()) {
            all.push((format!("{} {}/{}", kind(o), name(o), c["name"].as_str().unwrap_or_default()), c));
        }
    }
    all
}

#[test]
fn every_container_is_limited_probed_locked_down_and_pinned_to_this_release() {
    let objects = objects(INSTALL);
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let all = containers(&objects);
    assert_eq!(all.len(), 2, "a controller and a speaker container");
    for (what, c) in &all {
        for field in ["/resources/requests/cpu", "/resources/requests/memory", "/resources/limits/memory"] {
            assert!(c.pointer(field).is_some(), "{what}: no {field}");
        }
        for probe in ["livenessProbe", "readinessProbe"] {
            assert!(c[probe].is_object(), "{what}: no {probe}");
        }
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}");
        assert!(sc.get("privileged").is_none_or(|p| p == false), "{what}: privileged");
        let image = c["image"].as_str().unwrap_or_default();
        let (_, image_tag) = image.rsplit_once(':').unwrap_or_else(|| panic!("{what}: image {image} has no tag"));
        assert_ne!(image_tag, "latest", "{what}: {image}");
        assert_eq!(image_tag, tag, "{what}: {image} is not this release (the workspace version with a v)");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent", "{what}");
    }
}

#[test]
fn the_controller_meets_restricted_and_the_speaker_gets_only_what_it_needs() {
    let objects = objects(INSTALL);
    // The controller meets Pod Security "restricted": non-root, no capabilities, RuntimeDefault.
    let controller = find(&objects, "Deployment", "ferrolb-controller");
    let pod = &controller["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert!(pod["containers"][0]["securityContext"]["capabilities"].get("add").is_none());
    assert!(pod.get("hostNetwork").is_none_or(|h| h == false));
    assert_eq!(controller["spec"]["replicas"], 2, "two replicas, one leads");
    let anti = &pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(anti["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
    let env: Vec<&str> =
        pod["containers"][0]["env"].as_array().into_iter().flatten().filter_map(|e| e["name"].as_str()).collect();
    assert!(env.contains(&"POD_NAME"), "the leader election identity: {env:?}");
    let pdb = find(&objects, "PodDisruptionBudget", "ferrolb-controller");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], controller["spec"]["selector"]["matchLabels"]);

    // The speaker: only NET_RAW and NET_ADMIN, on the node's network.
    let speaker = find(&objects, "DaemonSet", "ferrolb-speaker");
    let pod = &speaker["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(
        pod["containers"][0]["securityContext"]["capabilities"]["add"],
        serde_json::json!(["NET_RAW", "NET_ADMIN"])
    );

    // The namespace admits the speaker, and says so to anything else that is not "restricted".
    let labels = &find(&objects, "Namespace", "ferrolb-system")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "privileged");
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");

    // The controller may read only the member key Secret, and create Secrets in its namespace.
    let role = find(&objects, "Role", "ferrolb-controller");
    let secrets: Vec<&Value> = role["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["resources"] == serde_json::json!(["secrets"]))
        .collect();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    assert_eq!(secrets[0]["resourceNames"], serde_json::json!(["ferrolb-memberlist"]));
    assert_eq!(secrets[0]["verbs"], serde_json::json!(["get"]));
    assert_eq!(secrets[1]["verbs"], serde_json::json!(["create"]));
    assert_eq!(role["metadata"]["namespace"], "ferrolb-system");
}

/// Whether an object is one of the Prometheus Operator's (not served by the test apiserver).
fn monitoring(o: &Value) -> bool {
    o["apiVersion"].as_str().is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
}

#[test]
fn the_prometheus_variant_is_the_install_plus_monitors_and_rules() {
    let install = objects(INSTALL);
    let all = objects(PROMETHEUS);
    let rest: Vec<&Value> = all.iter().filter(|o| !monitoring(o)).collect();
    assert_eq!(rest, install.iter().collect::<Vec<_>>(), "{PROMETHEUS} without its monitoring objects is {INSTALL}");

    // A PodMonitor per program, on the port named metrics of the pods it selects.
    for (workload, kind_, port) in [("ferrolb-controller", "Deployment", 7472), ("ferrolb-speaker", "DaemonSet", 7473)]
    {
        let monitor = find(&all, "PodMonitor", workload);
        assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(monitor["metadata"]["namespace"], "ferrolb-system");
        let template = &find(&install, kind_, workload)["spec"]["template"];
        let selector = monitor["spec"]["selector"]["matchLabels"].as_object().expect("a matchLabels selector");
        assert!(!selector.is_empty());
        for (k, v) in selector {
            assert_eq!(&template["metadata"]["labels"][k], v, "{workload}: the PodMonitor selects {k}={v}");
        }
        let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
        assert_eq!(endpoint["port"], "metrics");
        assert_eq!(endpoint["path"], "/metrics");
        let ports = template["spec"]["containers"][0]["ports"].as_array().cloned().unwrap_or_default();
        assert!(
            ports.iter().any(|p| p["name"] == "metrics" && p["containerPort"] == port),
            "{workload}: no port metrics {port}: {ports:?}"
        );
    }

    // The rules: every alert complete, every FerroLB metric one the programs export.
    let rule = find(&all, "PrometheusRule", "ferrolb");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["metadata"]["namespace"], "ferrolb-system");
    let exported = exported_metrics();
    let mut alerts = BTreeSet::new();
    for group in rule["spec"]["groups"].as_array().expect("spec.groups") {
        assert!(group["name"].is_string());
        for r in group["rules"].as_array().expect("rules") {
            let alert = r["alert"].as_str().expect("only alerting rules");
            let expr = r["expr"].as_str().unwrap_or_else(|| panic!("{alert}: no expr"));
            assert!(r["for"].is_string(), "{alert}: no `for`");
            assert!(
                ["info", "warning", "critical"].contains(&r["labels"]["severity"].as_str().unwrap_or("")),
                "{alert}"
            );
            for a in ["summary", "description"] {
                assert!(r["annotations"][a].as_str().is_some_and(|s| !s.is_empty()), "{alert}: no {a}");
            }
            let used = metric_names(expr);
            assert!(!used.is_empty(), "{alert}: no metric in {expr}");
            for metric in used {
                assert!(
                    exported.contains(&metric) || KUBE_STATE_METRICS.contains(&metric.as_str()),
                    "{alert} uses {metric}, which neither FerroLB nor kube-state-metrics exports; FerroLB's: {exported:?}"
                );
            }
            assert!(alerts.insert(alert.to_owned()), "{alert} twice");
        }
    }
    let expected = [
        "FerroLBConfigNotAccepted",
        "FerroLBPoolExhausted",
        "FerroLBPoolUsageAbove75Percent",
        "FerroLBPoolUsageAbove85Percent",
        "FerroLBPoolUsageAbove95Percent",
        "FerroLBBGPSessionDown",
        "FerroLBBFDSessionDown",
        "FerroLBNoSpeakerReadyOnNode",
    ];
    assert_eq!(alerts, expected.iter().map(|a| (*a).to_owned()).collect::<BTreeSet<_>>());
}

/// Metrics the rules may take from kube-state-metrics: whether a speaker pod is ready, and its
/// node. FerroLB cannot report on a speaker that is not running.
const KUBE_STATE_METRICS: &[&str] = &["kube_pod_status_ready", "kube_pod_info"];

/// The metric names in a PromQL expression: the rules name metrics as `ferrolb_…` or `kube_…`
/// (label values are quoted and label names never start so), which is what this looks for.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut quoted = false;
    let mut word = String::new();
    for ch in expr.chars().chain(std::iter::once(' ')) {
        if ch == '"' {
            quoted = !quoted;
        }
        if !quoted && (ch.is_ascii_alphanumeric() || ch == '_' || ch == ':') {
            word.push(ch);
            continue;
        }
        if word.starts_with("ferrolb_") || word.starts_with("kube_") {
            names.insert(std::mem::take(&mut word));
        }
        word.clear();
    }
    names
}

/// Every sample name the controller and the speaker may export, from their registrations in
/// the sources (`register("name", …)` and `encode_descriptor("name", …)` in controller/src,
/// speaker/src and kube/src), under the registries' prefix `ferrolb`: the name itself (gauges),
/// with `_total` (counters), `_bucket`, `_sum`, `_count` (histograms). An empty family is not
/// encoded at all, so the programs' own /metrics cannot tell these names before the first
/// sample; the sources can.
fn exported_metrics() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut files: Vec<PathBuf> =
        ["controller/src", "speaker/src", "kube/src"].iter().map(|d| repo().join(d)).collect();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        for call in ["register(", "encode_descriptor("] {
            for (at, _) in source.match_indices(call) {
                let rest = source[at + call.len()..].trim_start();
                let Some(literal) = rest.strip_prefix('"') else { continue };
                let name = literal.split('"').next().unwrap_or_default();
                assert!(
                    !name.starts_with("ferrolb_"),
                    "{}: metric {name} is registered under the prefix ferrolb and would be exported as ferrolb_{name}",
                    path.display()
                );
                for suffix in ["", "_total", "_bucket", "_sum", "_count"] {
                    names.insert(format!("ferrolb_{name}{suffix}"));
                }
            }
        }
    }
    for known in
        ["ferrolb_controller_leader", "ferrolb_members_alive", "ferrolb_bgp_session_up", "ferrolb_speaker_announced"]
    {
        assert!(names.contains(known), "{known} not found among the registrations: {names:?}");
    }
    names
}

#[test]
fn metric_names_are_read_from_expressions() {
    let names =
        metric_names(r#"max by (kind) (ferrolb_config_objects{accepted="false", x="ferrolb_no"}) / kube_pod_info > 0"#);
    assert_eq!(names, BTreeSet::from(["ferrolb_config_objects".to_owned(), "kube_pod_info".to_owned()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apiserver_accepts_both_installs() -> Result {
    let lab = Lab::up(LabOptions { nodes: 1, ferrolb: false, ..LabOptions::for_test() }).await?;
    let scratch = Scratch::new("manifests-dry-run");
    // A dry run of namespaced objects needs their namespace, and of custom objects their CRDs:
    // both are applied for real first, from the install itself.
    let install = objects(INSTALL);
    let first: Vec<&Value> =
        install.iter().filter(|o| matches!(kind(o), "Namespace" | "CustomResourceDefinition")).collect();
    assert_eq!(first.len(), 9, "the namespace and 8 CRDs");
    let path = scratch.0.join("first.json");
    std::fs::write(
        &path,
        serde_json::to_string(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": first}))?,
    )?;
    lab.kubectl(&["apply", "--server-side", "--force-conflicts", "-f", &path.to_string_lossy()])?;
    lab.wait_crds_established()?;

    let full = repo().join(INSTALL);
    let out = lab
        .kubectl(&["apply", "--server-side", "--dry-run=server", "-f", &full.to_string_lossy()])
        .map_err(|e| format!("{INSTALL} is refused: {e}"))?;
    assert_eq!(out.matches("(server dry run)").count(), install.len(), "{out}");

    // The Prometheus Operator's kinds are not served here: the rest of the file is dry-run, the
    // PodMonitors and the PrometheusRule are checked by the_prometheus_variant_is_… above.
    let rest: Vec<Value> = objects(PROMETHEUS).into_iter().filter(|o| !monitoring(o)).collect();
    let path = scratch.0.join("prometheus-rest.json");
    std::fs::write(
        &path,
        serde_json::to_string(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": rest}))?,
    )?;
    let out = lab
        .kubectl(&["apply", "--server-side", "--dry-run=server", "-f", &path.to_string_lossy()])
        .map_err(|e| format!("{PROMETHEUS} is refused: {e}"))?;
    assert_eq!(out.matches("(server dry run)").count(), rest.len(), "{out}");
    Ok(())
}
