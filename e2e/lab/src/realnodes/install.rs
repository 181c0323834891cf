//! FerroLB installed the way a user installs it: config/default (namespace, CRDs, RBAC, the
//! controller Deployment with its PodDisruptionBudget, the hostNetwork speaker DaemonSet)
//! applied with kustomize and server-side apply, with the lab's image tags; and the echo
//! Deployment that stands behind the Services of tests.

use std::path::Path;

use crate::cluster::repo_root;
use crate::realnodes::config::images;

/// `target` as seen from `from`, both absolute (kustomize takes relative paths only).
fn relative(from: &Path, target: &Path) -> String {
    let ups = from.components().filter(|c| matches!(c, std::path::Component::Normal(_))).count();
    let down = target.to_string_lossy().trim_start_matches('/').to_owned();
    format!("{}{down}", "../".repeat(ups))
}

/// A kustomization, to be written into `dir`, over the repository's config/default, changing
/// only the image tags (the manifests already pull `IfNotPresent`, so the imported images serve).
pub fn kustomization(dir: &Path) -> String {
    let config = repo_root().join("config");
    let config = config.canonicalize().unwrap_or(config);
    let (controller, controller_tag) = images::CONTROLLER.rsplit_once(':').unwrap_or((images::CONTROLLER, "lab"));
    let (speaker, speaker_tag) = images::SPEAKER.rsplit_once(':').unwrap_or((images::SPEAKER, "lab"));
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {default}\n\
         images:\n- name: {controller}\n  newTag: {controller_tag}\n- name: {speaker}\n  newTag: {speaker_tag}\n",
        default = relative(dir, &config.join("default")),
    )
}

/// Whether the repository has the manifests [`kustomization`] needs.
pub fn manifests_present() -> bool {
    repo_root().join("config/default/kustomization.yaml").is_file()
}

/// An echo Deployment (`app: NAME`, answering "POD on NODE" on port 8080) and, unless
/// `service` is empty, a LoadBalancer Service in front of it with the given extra spec
/// (e.g. "externalTrafficPolicy: Local").
pub fn echo(namespace: &str, name: &str, replicas: u32, service: &str) -> String {
    let mut yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  \
         replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    \
         spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: echo\n        image: {image}\n        \
         imagePullPolicy: IfNotPresent\n        ports: [{{containerPort: 8080}}]\n        \
         readinessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: 1}}\n        env:\n        \
         - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}\n        \
         - {{name: NODE_NAME, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}\n",
        image = images::ECHO
    );
    if !service.is_empty() {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  \
             type: LoadBalancer\n  selector: {{app: {name}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n  {service}\n"
        ));
    }
    yaml
}

/// Where the lab writes its kustomization.
pub fn dir(state: &Path) -> std::path::PathBuf {
    state.join("install")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_install_is_config_default_with_the_lab_tags() {
        let k = kustomization(Path::new("/run/ferrolb-lab/x/install"));
        assert!(k.contains("\n- ../../../../"), "{k}");
        assert!(k.contains("config/default\n"), "{k}");
        let tag = format!("newTag: v{}", env!("CARGO_PKG_VERSION"));
        assert!(k.contains(&format!("- name: ghcr.io/ferrolb/ferrolb-speaker\n  {tag}")), "{k}");
        assert!(k.contains(&format!("- name: ghcr.io/ferrolb/ferrolb-controller\n  {tag}")), "{k}");
    }

    #[test]
    fn paths_are_relative() {
        assert_eq!(
            relative(Path::new("/run/a/install"), Path::new("/work/x/config/rbac")),
            "../../../work/x/config/rbac"
        );
    }

    #[test]
    fn echo_has_a_service_only_when_asked() {
        assert!(!echo("default", "web", 3, "").contains("kind: Service"));
        let y = echo("ns", "web", 2, "externalTrafficPolicy: Local");
        assert!(y.contains("kind: Service") && y.contains("externalTrafficPolicy: Local") && y.contains("replicas: 2"));
    }
}
