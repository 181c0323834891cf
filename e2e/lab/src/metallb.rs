//! MetalLB in the lab, for the side-by-side benchmark (`docs/benchmarks.md`): its controller
//! and one speaker per node, native mode, run as processes the way FerroLB's are on light nodes.
//!
//! MetalLB expects to run in Pods: the controller and each speaker read their own Pod, and the
//! speakers find each other (memberlist) by listing speaker Pods and joining their
//! `status.podIP`. No kubelet runs on light nodes, so the lab writes those Pod objects itself,
//! with `spec.nodeName` and the node's address as `status.podIP`, as the DaemonSet's would be.
//! The CRDs and RBAC come from MetalLB's own `metallb-native.yaml`, without its Deployment,
//! DaemonSet and webhook (no webhook runs: the BGPPeer conversion is set to None).

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::cluster;
use crate::error::{Error, Result};
use crate::lab::{Lab, Progress};

/// MetalLB's namespace, as its manifest creates it.
pub const NAMESPACE: &str = "metallb-system";
/// The labels of MetalLB's speaker Pods, by which speakers find each other.
pub const SPEAKER_LABELS: &str = "app=metallb,component=speaker";
/// The kinds of `metallb-native.yaml` the lab leaves out: what runs MetalLB (the lab starts
/// processes instead) and its webhook, which does not run.
const LEFT_OUT: [&str; 4] = ["Deployment", "DaemonSet", "ValidatingWebhookConfiguration", "Service"];

/// The directory holding MetalLB's `controller`, `speaker` and `metallb-native.yaml`:
/// `$FERROLB_METALLB_DIR`, else `scripts/build-metallb`'s cached build (building it the first
/// time, about 10 minutes on 2 cores).
pub fn build_dir() -> Result<PathBuf> {
    cluster::cached_build("FERROLB_METALLB_DIR", "scripts/build-metallb")
}

/// The documents of a multi-document manifest whose kind is not one of `left_out`.
pub fn without_kinds(manifest: &str, left_out: &[&str]) -> String {
    manifest
        .split("\n---")
        .filter(|doc| {
            let kind = doc.lines().find_map(|l| l.strip_prefix("kind:")).map(str::trim).unwrap_or("");
            !kind.is_empty() && !left_out.contains(&kind)
        })
        .collect::<Vec<_>>()
        .join("\n---")
}

/// MetalLB's manifest as the lab installs it on real nodes: all of `metallb-native.yaml` but its
/// webhook configuration (the apiserver, in cp, cannot reach a Service's pods: no kube-proxy runs
/// there), and, with `memberlist`, its optional memberlist ConfigMap.
pub fn pods_manifest(manifest: &str, memberlist: Option<&str>) -> String {
    let mut yaml = without_kinds(manifest, &["ValidatingWebhookConfiguration"]);
    if let Some(config) = memberlist {
        let data = serde_json::to_string(config).unwrap_or_default();
        yaml.push_str(&format!(
            "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: metallb-memberlist-config, namespace: {NAMESPACE}}}\n\
             data: {{config.json: {data}}}\n"
        ));
    }
    yaml
}

/// A Pod object standing for one MetalLB process, as its Deployment or DaemonSet would make it.
fn pod(name: &str, component: &str, node: Option<&str>) -> Pod {
    // Each runs as its own ServiceAccount, as in MetalLB's manifest (which names them so).
    let mut spec = json!({
        "serviceAccountName": component,
        "automountServiceAccountToken": false,
        "containers": [{"name": component, "image": "quay.io/metallb/lab-process"}],
    });
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
        spec["hostNetwork"] = json!(true);
    }
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "metallb", "component": component}},
        "spec": spec,
    }))
    .unwrap_or_default()
}

impl Lab {
    /// Installs MetalLB's CRDs and RBAC and starts its controller in cp and a speaker on every
    /// node, each with its own ServiceAccount's token.
    /// Installs MetalLB on real nodes as its manifest does (controller Deployment, speaker
    /// DaemonSet, the images imported from scripts/build-metallb's binaries), without the
    /// webhook: the BGPPeer conversion is set to None and the controller runs with
    /// `--webhook-mode=disabled`. Waits until the controller is available and a speaker runs on
    /// every node.
    pub(crate) fn install_metallb_pods(&mut self, memberlist: Option<&str>, progress: &Progress) -> Result<()> {
        let dir = build_dir()?;
        let path = dir.join("metallb-native.yaml");
        let manifest = std::fs::read_to_string(&path).map_err(Error::io(format!("reading {}", path.display())))?;
        progress.step("installing MetalLB from metallb-native.yaml (without its webhook)");
        self.kubectl_input(&["apply", "--server-side", "-f", "-"], &pods_manifest(&manifest, memberlist))?;
        self.without_bgppeer_conversion()?;
        self.kubectl(&[
            "patch",
            "deployment",
            "controller",
            "-n",
            NAMESPACE,
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--webhook-mode=disabled"},
                {"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--disable-cert-rotation"}]"#,
        ])?;
        self.kubectl(&["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"])?;
        progress.step("waiting for MetalLB's controller and speakers to be ready");
        self.kubectl(&["rollout", "status", "-n", NAMESPACE, "deployment/controller", "--timeout=180s"])
            .map_err(|e| Error::Failed(format!("MetalLB's controller did not become available: {e}")))?;
        self.kubectl(&["rollout", "status", "-n", NAMESPACE, "daemonset/speaker", "--timeout=180s"])
            .map_err(|e| Error::Failed(format!("MetalLB's speaker did not run on every node: {e}")))?;
        Ok(())
    }

    /// Sets the BGPPeer CRD's conversion to None: its webhook, which would convert between
    /// v1beta1 and v1beta2, does not run in the lab.
    fn without_bgppeer_conversion(&self) -> Result<()> {
        let none = r#"[{"op":"replace","path":"/spec/conversion","value":{"strategy":"None"}}]"#;
        self.kubectl(&["patch", "crd", "bgppeers.metallb.io", "--type=json", "-p", none]).map(|_| ())
    }

    /// With `memberlist`, every speaker reads that memberlist configuration where MetalLB looks
    /// for it (`/etc/metallb/memberlist/config.json`, a ConfigMap's mount in a cluster): the
    /// speaker runs in a mount namespace of its own in which /etc is the machine's with that
    /// file added (a read-only overlay), so the machine's /etc is never written.
    pub(crate) async fn start_metallb(&mut self, memberlist: Option<&str>, progress: &Progress) -> Result<()> {
        let dir = build_dir()?;
        let (controller, speaker) = (dir.join("controller"), dir.join("speaker"));
        for binary in [&controller, &speaker] {
            if !binary.is_file() {
                return Err(Error::Failed(format!("no MetalLB binary at {}", binary.display())));
            }
        }
        progress.step("installing MetalLB's CRDs and RBAC (metallb-native.yaml, without its workloads and webhook)");
        let manifest_path = dir.join("metallb-native.yaml");
        let manifest = std::fs::read_to_string(&manifest_path)
            .map_err(Error::io(format!("reading {}", manifest_path.display())))?;
        // Server-side: the CRDs are too large for the last-applied annotation.
        self.kubectl_input(&["apply", "--server-side", "-f", "-"], &without_kinds(&manifest, &LEFT_OUT))?;
        self.without_bgppeer_conversion()?;
        self.kubectl(&["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"])?;

        let secret_dir = self.state.path().join("metallb-memberlist");
        std::fs::create_dir_all(&secret_dir).map_err(Error::io("creating the memberlist key directory"))?;
        std::fs::write(secret_dir.join("secretkey"), crate::layer2::random_key()?)
            .map_err(Error::io("writing the memberlist key"))?;
        let controller_kubeconfig = self.service_account_kubeconfig(NAMESPACE, "controller")?;
        let speaker_kubeconfig = self.service_account_kubeconfig(NAMESPACE, "speaker")?;

        let client = self.client().await?;
        let pods: Api<Pod> = Api::namespaced(client, NAMESPACE);
        let nodes: Vec<(String, String, String)> =
            self.plan.nodes().map(|h| (h.name.clone(), h.netns.clone(), h.v4().to_string())).collect();
        pods.create(&PostParams::default(), &pod("controller", "controller", None))
            .await
            .map_err(Error::kube("creating the controller's Pod object"))?;
        for (node, _, ip) in &nodes {
            let name = format!("speaker-{node}");
            pods.create(&PostParams::default(), &pod(&name, "speaker", Some(node)))
                .await
                .map_err(Error::kube(format!("creating Pod {name}")))?;
            let status = json!({"status": {"phase": "Running", "hostIP": ip, "podIP": ip, "podIPs": [{"ip": ip}]}});
            pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                .await
                .map_err(Error::kube(format!("setting the status of Pod {name}")))?;
        }

        progress.step("starting MetalLB's controller in cp");
        let cp = self.netns("cp")?.to_owned();
        let env = [
            ("KUBECONFIG", controller_kubeconfig.to_string_lossy().into_owned()),
            ("METALLB_NAMESPACE", NAMESPACE.to_owned()),
            ("METALLB_POD_NAME", "controller".to_owned()),
        ];
        let args: Vec<String> =
            ["--webhook-mode=disabled", "--disable-cert-rotation", "--log-level=info"].map(String::from).to_vec();
        self.spawn("metallb-controller", "cp", &cp, &controller, &args, &env)?;

        let (program, mut prefix) = (speaker.clone(), Vec::<String>::new());
        let program = match memberlist {
            None => program,
            Some(config) => {
                let extra = self.state.path().join("metallb-etc");
                let dir = extra.join("metallb/memberlist");
                std::fs::create_dir_all(&dir).map_err(Error::io("creating the memberlist config directory"))?;
                std::fs::write(dir.join("config.json"), config).map_err(Error::io("writing the memberlist config"))?;
                let mount =
                    format!("mount -t overlay overlay -o lowerdir={}:/etc /etc && exec \"$0\" \"$@\"", extra.display());
                prefix = ["--mount", "--propagation", "private", "sh", "-c", &mount].map(String::from).to_vec();
                prefix.push(speaker.to_string_lossy().into_owned());
                PathBuf::from("unshare")
            }
        };
        progress.step("starting a MetalLB speaker on every node");
        for (node, netns, ip) in nodes {
            let env = [
                ("KUBECONFIG", speaker_kubeconfig.to_string_lossy().into_owned()),
                ("METALLB_NAMESPACE", NAMESPACE.to_owned()),
                ("METALLB_NODE_NAME", node.clone()),
                ("METALLB_POD_NAME", format!("speaker-{node}")),
                ("METALLB_HOST", ip.clone()),
                ("METALLB_ML_BIND_ADDR", ip),
                ("METALLB_ML_LABELS", SPEAKER_LABELS.to_owned()),
                ("METALLB_ML_SECRET_KEY_PATH", secret_dir.to_string_lossy().into_owned()),
            ];
            let mut args = prefix.clone();
            args.push("--log-level=info".to_owned());
            self.spawn(&format!("metallb-speaker-{node}"), &node, &netns, &program, &args, &env)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_and_webhooks_are_left_out() {
        let manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: apps/v1\n\
                        kind: Deployment\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ServiceAccount\n\
                        metadata: {name: s}\n---\nkind: ValidatingWebhookConfiguration\nmetadata: {name: w}\n";
        let kept = without_kinds(manifest, &LEFT_OUT);
        assert!(kept.contains("kind: Namespace") && kept.contains("kind: ServiceAccount"), "{kept}");
        assert!(!kept.contains("Deployment") && !kept.contains("Webhook"), "{kept}");
    }

    #[test]
    fn on_real_nodes_everything_but_the_webhook_is_installed_with_the_memberlist_config() {
        let manifest = "kind: Namespace\nmetadata: {name: metallb-system}\n---\nkind: DaemonSet\nmetadata: {name: speaker}\n\
                        ---\nkind: ValidatingWebhookConfiguration\nmetadata: {name: w}\n";
        let yaml = pods_manifest(manifest, Some(r#"{"ProbeInterval": "200ms"}"#));
        assert!(yaml.contains("kind: DaemonSet") && !yaml.contains("Webhook"), "{yaml}");
        assert!(yaml.contains(r#"data: {config.json: "{\"ProbeInterval\": \"200ms\"}"}"#), "{yaml}");
        assert!(!pods_manifest(manifest, None).contains("ConfigMap"));
    }

    #[test]
    fn speaker_pods_sit_on_their_node_with_the_speaker_labels() {
        let p = pod("speaker-node1", "speaker", Some("node1"));
        let spec = p.spec.unwrap_or_default();
        assert_eq!(spec.node_name.as_deref(), Some("node1"));
        let labels = p.metadata.labels.unwrap_or_default();
        let wanted: Vec<(String, String)> = SPEAKER_LABELS
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (k, v) in wanted {
            assert_eq!(labels.get(&k), Some(&v));
        }
    }
}
