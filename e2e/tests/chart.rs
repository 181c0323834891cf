//! The Helm chart (charts/ferrolb), as a user relies on it: it lints clean, renders the objects
//! of config/install (controller, speakers, RBAC, the CRDs of config/crd, unchanged) with the
//! security settings and image tags a user expects, renders with its defaults exactly what the
//! one-file install holds, refuses values it does not know, and what it renders is accepted by
//! a real apiserver (server-side dry run).
//!
//! helm comes from scripts/build-helm (built once into ~/.cache/ferrolb/helm), or from
//! FERROLB_HELM. The dry run needs root (it starts a lab: kube-apiserver and etcd).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use ferrolb_cli::yaml::{parse_document, split_documents};
use ferrolb_e2e::{manifest, repo};
use ferrolb_lab::{Lab, LabOptions};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const CHART: &str = "charts/ferrolb";
const NAMESPACE: &str = "ferrolb-system";
const TAG: &str = "v0.1.0";

/// Every optional part of the chart switched on, and every program option changed.
const EVERYTHING: &str = r#"
log: {format: text, level: debug}
loadBalancerClass: example.com/lb
onlyLoadBalancerClass: true
controller: {replicas: 3}
speaker: {membersPort: 7947, gratuitousRefresh: 30s, layer2RestartWindow: 40s, bgpGracefulRestartTime: 60s, relayStrays: false}
metrics:
  controllerPort: 9472
  speakerPort: 9473
  serviceMonitor: {enabled: true, labels: {release: prometheus}}
  podMonitor: {enabled: true}
  prometheusRule: {enabled: true, labels: {release: prometheus}}
networkPolicy:
  enabled: true
  apiServerCIDRs: [192.0.2.10/32]
  bgpPeerCIDRs: [198.51.100.0/24]
  nodeCIDRs: [198.51.100.0/24]
  metricsFrom:
  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
"#;

/// The helm binary: FERROLB_HELM, or what scripts/build-helm builds (once per test process).
fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        if let Some(path) = std::env::var_os("FERROLB_HELM") {
            return PathBuf::from(path);
        }
        let script = repo().join("scripts/build-helm");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(out.status.success(), "scripts/build-helm failed");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// Runs helm in the repository with `stdin` as its standard input.
fn run_helm(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(helm())
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", helm().display()));
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("writing helm's stdin");
    }
    child.wait_with_output().expect("waiting for helm")
}

/// `helm template` of the chart with `values` (a values file's text) and `--set` pairs: the
/// rendered text, or helm's error output.
fn template_text(values: &str, set: &[&str]) -> std::result::Result<String, String> {
    let mut args = vec!["template", "ferrolb", CHART, "--namespace", NAMESPACE, "-f", "-"];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = run_helm(&args, values);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The documents of a YAML stream.
fn documents(text: &str) -> Vec<Value> {
    split_documents(text)
        .iter()
        .filter_map(|d| parse_document(d).unwrap_or_else(|e| panic!("rendered YAML: {e}\n{}", d.text)))
        .collect()
}

/// `helm template` that must succeed, as objects.
fn template(values: &str, set: &[&str]) -> Vec<Value> {
    documents(&template_text(values, set).unwrap_or_else(|e| panic!("helm template failed:\n{e}")))
}

fn kind_name(o: &Value) -> (String, String) {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (s(&o["kind"]), s(&o["metadata"]["name"]))
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| kind_name(o) == (kind.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
}

/// The workloads' Pod templates, by workload name.
fn pod_specs(objects: &[Value]) -> Vec<(String, &Value)> {
    objects
        .iter()
        .filter(|o| matches!(o["kind"].as_str(), Some("Deployment" | "DaemonSet")))
        .map(|o| (kind_name(o).1, &o["spec"]["template"]["spec"]))
        .collect()
}

fn args(container: &Value) -> Vec<&str> {
    container["args"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_array()?.iter().find(|e| e["name"] == name)
}

#[test]
fn the_chart_lints_clean() {
    for (what, values) in [("defaults", ""), ("everything enabled", EVERYTHING)] {
        let out = run_helm(&["lint", "--strict", CHART, "--namespace", NAMESPACE, "-f", "-"], values);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "helm lint --strict ({what}):\n{text}");
        assert!(text.contains("0 chart(s) failed"), "helm lint ({what}):\n{text}");
        assert!(!text.contains("[WARNING]") && !text.contains("[ERROR]"), "helm lint ({what}):\n{text}");
    }
}

#[test]
fn the_defaults_render_config_installs_objects() {
    let objects = template("", &[]);
    let mut got: Vec<(String, String)> = objects.iter().map(kind_name).collect();
    got.sort();
    let mut want: Vec<(String, String)> = Vec::new();
    for component in ["ferrolb-controller", "ferrolb-speaker"] {
        for kind in ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"] {
            want.push((kind.into(), component.into()));
        }
    }
    want.push(("Deployment".into(), "ferrolb-controller".into()));
    want.push(("PodDisruptionBudget".into(), "ferrolb-controller".into()));
    want.push(("DaemonSet".into(), "ferrolb-speaker".into()));
    for crd in crd_files().keys() {
        want.push(("CustomResourceDefinition".into(), crd.clone()));
    }
    want.sort();
    assert_eq!(got, want, "the default render's objects");

    // No Secret: the controller creates ferrolb-memberlist, and may read only that one.
    let role = find(&objects, "Role", "ferrolb-controller");
    let rules = role["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["resources"] == serde_json::json!(["secrets"])
        && r["resourceNames"] == serde_json::json!(["ferrolb-memberlist"])
        && r["verbs"] == serde_json::json!(["get"])));
    assert!(rules.iter().any(|r| r["resources"] == serde_json::json!(["secrets"])
        && r["verbs"] == serde_json::json!(["create"])
        && r.get("resourceNames").is_none()));
    assert!(rules.iter().any(|r| r["resources"] == serde_json::json!(["leases"])));

    for o in &objects {
        let (kind, name) = kind_name(o);
        let cluster_scoped = matches!(kind.as_str(), "ClusterRole" | "ClusterRoleBinding" | "CustomResourceDefinition");
        assert_eq!(o["metadata"]["namespace"].as_str().is_some(), !cluster_scoped, "{kind} {name}: namespace");
        if !cluster_scoped {
            assert_eq!(o["metadata"]["namespace"], NAMESPACE, "{kind} {name}");
        }
    }
    for binding in ["RoleBinding", "ClusterRoleBinding"] {
        for name in ["ferrolb-controller", "ferrolb-speaker"] {
            assert_eq!(find(&objects, binding, name)["subjects"][0]["namespace"], NAMESPACE);
        }
    }

    let deployment = find(&objects, "Deployment", "ferrolb-controller");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let anti = &deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert_eq!(
        anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert_eq!(find(&objects, "PodDisruptionBudget", "ferrolb-controller")["spec"]["minAvailable"], 1);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);

    let daemonset = find(&objects, "DaemonSet", "ferrolb-speaker");
    assert_eq!(daemonset["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"], 1);
    let pod = &daemonset["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert!(pod["tolerations"].as_array().is_some_and(|t| !t.is_empty()), "speaker tolerations");
    let speaker = &pod["containers"][0];
    assert_eq!(speaker["securityContext"]["capabilities"]["add"], serde_json::json!(["NET_RAW", "NET_ADMIN"]));

    // What every container must have, in the defaults and with everything enabled.
    for values in ["", EVERYTHING] {
        let objects = template(values, &[]);
        let pods = pod_specs(&objects);
        assert_eq!(pods.len(), 2);
        for (workload, pod) in pods {
            assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{workload}");
            for c in pod["containers"].as_array().expect("containers") {
                let what = format!("{workload}/{}", c["name"]);
                let image = c["image"].as_str().expect("image");
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
                assert_eq!(tag, TAG, "{what}: image {image}");
                assert!(image.starts_with("ghcr.io/ferrolb/ferrolb-"), "{what}: image {image}");
                assert_eq!(c["imagePullPolicy"], "IfNotPresent", "{what}");
                assert!(c["resources"]["requests"]["cpu"].is_string(), "{what}: cpu request");
                assert!(c["resources"]["requests"]["memory"].is_string(), "{what}: memory request");
                assert!(c["resources"]["limits"]["memory"].is_string(), "{what}: memory limit");
                for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
                    assert_eq!(c[probe]["httpGet"]["path"], path, "{what}: {probe}");
                    assert_eq!(c[probe]["httpGet"]["port"], "metrics", "{what}: {probe}");
                }
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
                assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}");
                assert!(env(c, "RUST_LOG").is_some(), "{what}: RUST_LOG");
                if values.is_empty() {
                    assert_eq!(args(c), ["--log-json"], "{what}: the default arguments");
                }
            }
        }
    }
}

#[test]
fn everything_enabled_renders_monitoring_policies_and_the_programs_flags() {
    let objects = template(EVERYTHING, &[]);
    let controller = &find(&objects, "Deployment", "ferrolb-controller")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        args(controller),
        ["--lb-class=example.com/lb", "--only-lb-class", "--metrics-addr=0.0.0.0:9472"],
        "log format text: no --log-json"
    );
    assert_eq!(env(controller, "RUST_LOG").expect("RUST_LOG")["value"], "debug");
    assert_eq!(controller["ports"][0]["containerPort"], 9472);
    let speaker = &find(&objects, "DaemonSet", "ferrolb-speaker")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        args(speaker),
        [
            "--lb-class=example.com/lb",
            "--only-lb-class",
            "--metrics-addr=0.0.0.0:9473",
            "--members-port=7947",
            "--gratuitous-refresh=30s",
            "--layer2-restart-window=40s",
            "--bgp-graceful-restart-time=60s",
            "--relay-strays=false"
        ]
    );
    assert_eq!(find(&objects, "Deployment", "ferrolb-controller")["spec"]["replicas"], 3);

    for name in ["ferrolb-controller", "ferrolb-speaker"] {
        assert_eq!(find(&objects, "ServiceMonitor", name)["metadata"]["labels"]["release"], "prometheus");
        find(&objects, "PodMonitor", name);
        let service = find(&objects, "Service", &format!("{name}-metrics"));
        assert_eq!(service["spec"]["selector"]["app.kubernetes.io/name"], name);
    }

    let rule = find(&objects, "PrometheusRule", "ferrolb");
    let rules: Vec<&Value> = rule["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
    for alert in [
        "FerroLBConfigNotAccepted",
        "FerroLBPoolExhausted",
        "FerroLBPoolUsageAbove75Percent",
        "FerroLBPoolUsageAbove85Percent",
        "FerroLBPoolUsageAbove95Percent",
        "FerroLBBGPSessionDown",
        "FerroLBBFDSessionDown",
        "FerroLBSpeakerNotReady",
    ] {
        assert!(alerts.contains(&alert), "{alert} missing from {alerts:?}");
    }
    // Every FerroLB metric an alert reads is one the programs register.
    let sources: String = [
        "controller/src/metrics.rs",
        "speaker/src/metrics.rs",
        "speaker/src/bgp/metrics.rs",
        "speaker/src/bfd/metrics.rs",
    ]
    .iter()
    .map(|f| manifest(f))
    .collect();
    for r in &rules {
        let expr = r["expr"].as_str().unwrap_or_default();
        for (at, _) in expr.match_indices("ferrolb_") {
            let name: String = expr[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let bare = name.trim_start_matches("ferrolb_");
            if bare.is_empty() {
                continue; // the optional prefix in FerroLBBGPSessionDown's name pattern
            }
            let registered = [bare, bare.trim_end_matches("_total")]
                .iter()
                .any(|n| sources.contains(&format!("\"{n}\"")) || sources.contains(&format!("\"ferrolb_{n}\"")));
            assert!(registered, "alert {}: {name} is not a metric the controller or speaker registers", r["alert"]);
        }
    }

    let controller_policy = find(&objects, "NetworkPolicy", "ferrolb-controller");
    assert_eq!(controller_policy["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
    assert_eq!(controller_policy["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"], "192.0.2.10/32");
    assert_eq!(controller_policy["spec"]["ingress"][0]["ports"][0]["port"], 9472);
    let speaker_policy = find(&objects, "NetworkPolicy", "ferrolb-speaker").to_string();
    for needle in
        [r#""port":179"#, r#""port":7947"#, r#""protocol":"UDP""#, r#""port":9473"#, r#""port":3784"#, r#""port":4784"#]
    {
        assert!(speaker_policy.contains(needle), "speaker NetworkPolicy lacks {needle}: {speaker_policy}");
    }

    // One replica: no PodDisruptionBudget (it would block every drain).
    let single = template("controller: {replicas: 1}\n", &[]);
    assert!(!single.iter().any(|o| o["kind"] == "PodDisruptionBudget"));
}

/// What helm adds to every object it renders, and nothing else: its own labels and the keep
/// annotation on the CRDs.
const HELM_LABELS: [&str; 4] =
    ["app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"];

/// `o` without what only helm adds, numbers as floats (config/install is rendered through
/// kustomize, which writes `255` where the chart's copy of config/crd keeps `255.0`).
fn without_helm(mut o: Value) -> Value {
    fn strip_labels(meta: &mut Value) {
        if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
            HELM_LABELS.iter().for_each(|l| drop(labels.remove(*l)));
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("helm.sh/resource-policy");
            if annotations.is_empty() {
                meta.as_object_mut().map(|m| m.remove("annotations"));
            }
        }
    }
    fn floats(v: &mut Value) {
        match v {
            Value::Number(n) => {
                if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                    *n = f;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(floats),
            Value::Object(map) => map.values_mut().for_each(floats),
            _ => {}
        }
    }
    strip_labels(&mut o["metadata"]);
    if o["spec"]["template"]["metadata"].is_object() {
        strip_labels(&mut o["spec"]["template"]["metadata"]);
    }
    floats(&mut o);
    o
}

/// Two ways to install, one result: `helm template` with the defaults renders exactly the
/// objects of config/install/ferrolb.yaml (but the Namespace, which `helm install
/// --create-namespace` makes), field for field once helm's own labels are set aside.
#[test]
fn the_chart_defaults_render_the_one_file_install() {
    let by_name = |objects: Vec<Value>| -> BTreeMap<(String, String), Value> {
        objects.into_iter().map(|o| (kind_name(&o), without_helm(o))).collect()
    };
    let chart = by_name(template("", &[]));
    let mut install = by_name(documents(&manifest("config/install/ferrolb.yaml")));
    assert!(install.remove(&("Namespace".to_owned(), NAMESPACE.to_owned())).is_some(), "config/install's Namespace");
    assert_eq!(chart.keys().collect::<Vec<_>>(), install.keys().collect::<Vec<_>>(), "the objects differ");
    for (key, object) in &chart {
        assert!(
            *object == install[key],
            "{key:?} differs between the chart and config/install/ferrolb.yaml:\nchart: {}\ninstall: {}",
            serde_json::to_string(object).unwrap_or_default(),
            serde_json::to_string(&install[key]).unwrap_or_default()
        );
    }
}

/// config/crd's CRDs, by name.
fn crd_files() -> BTreeMap<String, Value> {
    let dir = repo().join("config/crd");
    let mut crds = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("config/crd") {
        let path = entry.expect("config/crd entry").path();
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if file.starts_with("ferrolb.io_") && file.ends_with(".yaml") {
            for crd in documents(&manifest(&format!("config/crd/{file}"))) {
                crds.insert(kind_name(&crd).1, crd);
            }
        }
    }
    crds
}

fn rendered_crds(objects: Vec<Value>) -> BTreeMap<String, Value> {
    objects.into_iter().filter(|o| o["kind"] == "CustomResourceDefinition").map(|o| (kind_name(&o).1, o)).collect()
}

#[test]
fn the_chart_crds_are_config_crd() {
    let want = crd_files();
    assert_eq!(want.len(), 8, "config/crd holds FerroLB's eight CRDs");
    // Without the keep annotation, each rendered CRD is config/crd's, field for field.
    let got = rendered_crds(template("", &["crds.keep=false"]));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the chart's CRDs are not config/crd's: run scripts/sync-chart-crds"
    );
    for (name, crd) in &want {
        assert!(
            got[name] == *crd,
            "{name}: the chart's copy differs from config/crd (after `make crds`, run scripts/sync-chart-crds)"
        );
    }
    // By default they are kept on uninstall, and the annotation is all that differs.
    for (name, mut crd) in rendered_crds(template("", &[])) {
        let annotations = crd["metadata"].as_object_mut().and_then(|m| m.remove("annotations")).unwrap_or_default();
        assert_eq!(annotations, serde_json::json!({"helm.sh/resource-policy": "keep"}), "{name}");
        assert!(crd == want[&name], "{name}");
    }
    assert!(rendered_crds(template("", &["crds.enabled=false"])).is_empty());

    // The templates' text is what scripts/sync-chart-crds writes.
    let check = Command::new(repo().join("scripts/sync-chart-crds")).arg("--check").output().expect("sync-chart-crds");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn the_schema_refuses_values_it_does_not_know() {
    for (values, says) in [
        ("controler: {replicas: 3}\n", "controler"),
        ("controller: {replica: 3}\n", "replica"),
        ("speaker: {interfaces: [eth0]}\n", "interfaces"),
        ("log: {format: yaml}\n", "format"),
        ("controller: {replicas: 0}\n", "replicas"),
        ("controller: {image: {pullPolicy: Sometimes}}\n", "pullPolicy"),
        ("speaker: {gratuitousRefresh: soon}\n", "gratuitousRefresh"),
        ("speaker: {gratuitousRefresh: 30}\n", "gratuitousRefresh"),
        ("speaker: {layer2RestartWindow: later}\n", "layer2RestartWindow"),
        ("speaker: {bgpGracefulRestartTime: 120}\n", "bgpGracefulRestartTime"),
        ("speaker: {bgpGracefulRestartTime: 1.5s}\n", "bgpGracefulRestartTime"),
        ("speaker: {relayStrays: sometimes}\n", "relayStrays"),
    ] {
        match template_text(values, &[]) {
            Ok(_) => panic!("helm template accepted {values:?}"),
            Err(error) => {
                assert!(error.contains("values don't meet the specifications of the schema"), "{values:?}: {error}");
                assert!(error.contains(says), "{values:?}: the error does not name {says}: {error}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rendered_objects_pass_a_server_side_dry_run() -> Result {
    let lab = Lab::up(LabOptions { nodes: 1, ferrolb: false, ..LabOptions::for_test() }).await?;
    // The lab installed config/crd and created ferrolb-system. Install the chart's CRDs for real,
    // as helm would (Established before anything uses them).
    let objects = template("", &[]);
    let (crds, rest): (Vec<Value>, Vec<Value>) =
        objects.into_iter().partition(|o| o["kind"] == "CustomResourceDefinition");
    let stream = |objects: &[Value]| objects.iter().map(|o| format!("---\n{o}\n")).collect::<String>();
    let out = lab.kubectl_input(&["apply", "--server-side", "--force-conflicts", "-f", "-"], &stream(&crds))?;
    assert_eq!(out.lines().filter(|l| l.contains("serverside-applied")).count(), 8, "{out}");
    lab.wait_crds_established()?;

    // Everything else, and the NetworkPolicies of the full render (the monitoring kinds need
    // the Prometheus Operator's CRDs, which the lab has not).
    let policies: Vec<Value> = template(EVERYTHING, &[]).into_iter().filter(|o| o["kind"] == "NetworkPolicy").collect();
    for batch in [rest, policies] {
        let out = lab.kubectl_input(&["apply", "--dry-run=server", "-f", "-"], &stream(&batch))?;
        for o in &batch {
            let (kind, name) = kind_name(o);
            assert!(
                out.lines().any(|l| l.contains(&format!("/{name} ")) && l.contains("(server dry run)")),
                "{kind} {name} not in the dry run's output:\n{out}"
            );
        }
    }
    lab.down()?;
    Ok(())
}
