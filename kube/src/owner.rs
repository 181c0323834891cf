//! What owns the objects FerroLB's programs create, so that uninstalling FerroLB removes them.
//!
//! The speakers write ServiceL2Status and ServiceBGPStatus objects in the Services'
//! namespaces, and the controller writes its Lease and the member-key Secret in its own. A
//! namespaced object may only be owned by an object of its own namespace or by a cluster-scoped
//! one, and FerroLB's Pods and Deployment live in another namespace than most Services. The
//! programs' ClusterRoles are cluster-scoped and are removed by every uninstall (`kubectl
//! delete -f`, `helm uninstall`) while an upgrade keeps them: each program makes its ClusterRole
//! the owner of what it creates, and Kubernetes' garbage collector removes those objects once
//! the ClusterRole is gone.

use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Api, Client, Resource as _};

/// The owner reference naming `role`; None when it has no name or uid (not read from the API).
pub fn of_cluster_role(role: &ClusterRole) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: ClusterRole::api_version(&()).into_owned(),
        kind: ClusterRole::kind(&()).into_owned(),
        name: role.metadata.name.clone()?,
        uid: role.metadata.uid.clone()?,
        ..OwnerReference::default()
    })
}

/// Reads the ClusterRole `name` and returns a reference to it. When it cannot be read (no
/// ClusterRole of that name, as in a development run with an administrator's kubeconfig, or no
/// permission), says so once and returns None: the program then creates unowned objects, which
/// an uninstall leaves behind.
pub async fn cluster_role(client: &Client, name: &str) -> Option<OwnerReference> {
    let api: Api<ClusterRole> = Api::all(client.clone());
    match api.get(name).await {
        Ok(role) => of_cluster_role(&role),
        Err(error) => {
            tracing::warn!(%error, cluster_role = name,
                "cannot read this program's ClusterRole: the objects it creates will have no owner and will outlive an uninstall");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    #[test]
    fn a_cluster_role_read_from_the_api_is_an_owner_and_one_without_uid_is_not() {
        let mut role = ClusterRole {
            metadata: ObjectMeta { name: Some("ferrolb-speaker".into()), ..ObjectMeta::default() },
            ..ClusterRole::default()
        };
        assert_eq!(of_cluster_role(&role), None);
        role.metadata.uid = Some("0f6c".into());
        let owner = of_cluster_role(&role).unwrap();
        assert_eq!(
            (owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("rbac.authorization.k8s.io/v1", "ClusterRole", "ferrolb-speaker", "0f6c")
        );
        assert_eq!(owner.controller, None, "several owners may hold a status object; none controls it");
    }
}
