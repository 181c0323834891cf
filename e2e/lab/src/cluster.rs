//! The control plane: the testcluster binary (kube-apiserver + etcd + kubectl from one
//! Kubernetes release), started in the cp namespace, and the Node objects that stand for
//! the lab's nodes (no kubelet runs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::cmd;
use crate::error::{Error, Result};
use crate::plan::Host;
use crate::process::Daemon;

/// The field manager the lab writes with.
pub const FIELD_MANAGER: &str = "ferrolb-lab";

/// The repository this lab binary was built from.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Finds the testcluster binary: `$FERROLB_TESTCLUSTER`, else the cached build that
/// `scripts/build-testcluster` makes (building it the first time, which takes minutes).
pub fn testcluster_binary() -> Result<PathBuf> {
    cached_build("FERROLB_TESTCLUSTER", "scripts/build-testcluster")
}

/// `$variable` when set, else what `script` (a cached build of this repository's scripts/)
/// prints on its last line: the path of what it built.
pub fn cached_build(variable: &str, script: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(variable) {
        return Ok(PathBuf::from(p));
    }
    let script = repo_root().join(script);
    if !script.is_file() {
        return Err(Error::Failed(format!("cannot find {}: set {variable} to what it builds", script.display())));
    }
    let out = std::process::Command::new(&script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(Error::io(format!("running {}", script.display())))?;
    if !out.status.success() {
        return Err(Error::Failed(format!("{} failed ({}); see its output above", script.display(), out.status)));
    }
    let path = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned();
    Ok(PathBuf::from(path))
}

/// The kubectl that matches the testcluster's release.
pub fn kubectl_binary(testcluster: &Path) -> PathBuf {
    testcluster.with_file_name("kubectl")
}

/// Waits for the testcluster's ready marker (written once /readyz answers), failing at once
/// with its log if the process dies.
pub fn wait_ready(daemon: &Daemon, state: &Path, timeout: Duration) -> Result<()> {
    daemon.wait_for_file(&state.join("ready"), timeout)
}

/// A client for the lab's apiserver, from a kubeconfig file.
pub async fn client(kubeconfig: &Path) -> Result<kube::Client> {
    let kc = Kubeconfig::read_from(kubeconfig)
        .map_err(|e| Error::Failed(format!("reading {}: {e}", kubeconfig.display())))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Failed(format!("loading {}: {e}", kubeconfig.display())))?;
    kube::Client::try_from(config).map_err(Error::kube("creating a Kubernetes client"))
}

/// Creates (or updates) the Node object for a lab node: hostname label, InternalIP
/// addresses of both families, and Ready, as a kubelet would report them.
pub async fn register_node(client: &kube::Client, host: &Host) -> Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": host.name,
            "labels": {
                "kubernetes.io/hostname": host.name,
                "kubernetes.io/os": "linux",
                "ferrolb.io/lab": "true",
            },
        },
    });
    api.patch(&host.name, &pp, &Patch::Apply(&node))
        .await
        .map_err(Error::kube(format!("creating Node {}", host.name)))?;
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let status = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": host.v4().to_string()},
                {"type": "InternalIP", "address": host.v6().to_string()},
                {"type": "Hostname", "address": host.name},
            ],
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "LabNode",
                "message": "a ferrolb-lab network namespace; no kubelet runs",
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            }],
        },
    });
    // Node addresses are keyed by type, and a dual-stack node has two InternalIPs, which
    // server-side apply refuses; a merge patch is what kubelet effectively does.
    api.patch_status(&host.name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .map_err(Error::kube(format!("setting the status of Node {}", host.name)))?;
    Ok(())
}

/// Runs the lab's kubectl with the root-namespace kubeconfig, `input` on its stdin (for
/// `apply -f -`); returns stdout, or an error carrying what kubectl said.
pub fn kubectl(testcluster: &Path, kubeconfig: &Path, args: &[&str], input: &str) -> Result<String> {
    let kubectl = kubectl_binary(testcluster);
    let mut full = vec!["--kubeconfig".to_owned(), kubeconfig.to_string_lossy().into_owned()];
    full.extend(args.iter().map(|a| (*a).to_owned()));
    cmd::run_with_input(&kubectl.to_string_lossy(), &full, input)
}

/// The RBAC manifests of this repository (config/rbac), if it has them yet.
pub fn rbac_dir() -> Option<PathBuf> {
    let dir = repo_root().join("config/rbac");
    dir.join("kustomization.yaml").is_file().then_some(dir)
}

/// Writes a kubeconfig that authenticates with a bearer token.
pub fn write_token_kubeconfig(path: &Path, server: &str, ca: &Path, token: &str) -> Result<()> {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: {server}\n    \
         certificate-authority: {}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: lab\n  \
         context:\n    cluster: lab\n    user: sa\ncurrent-context: lab\n",
        ca.display()
    );
    std::fs::write(path, text).map_err(Error::io(format!("writing {}", path.display())))
}

/// The CRD manifests of this repository (config/crd), if it has them yet.
pub fn crd_dir() -> Option<PathBuf> {
    let dir = repo_root().join("config/crd");
    dir.join("kustomization.yaml").is_file().then_some(dir)
}
