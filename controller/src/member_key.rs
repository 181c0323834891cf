//! The member key: the speakers authenticate their heartbeats with a key from a Secret in
//! FerroLB's namespace. The controller creates that Secret, with 32 random bytes, when it is
//! missing, so that an install needs no key made by hand; a Secret that exists (made by hand,
//! or by another replica) is left as it is, so a key can be rotated by editing it.

use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use ferrolb_kube::names::{MEMBER_KEY, MEMBER_SECRET};

/// How long to wait before trying again after the API refused or failed.
const RETRY: Duration = Duration::from_secs(5);

/// The Secret as the controller creates it.
pub fn secret(namespace: &str, key: [u8; 32], owner: Option<OwnerReference>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(MEMBER_SECRET.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some([("app.kubernetes.io/part-of".to_owned(), "ferrolb".to_owned())].into()),
            owner_references: owner.map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some([(MEMBER_KEY.to_owned(), ByteString(key.to_vec()))].into()),
        ..Secret::default()
    }
}

/// Beside the controller's work, never before it: makes the controller's ClusterRole the owner
/// of the election's Lease (when it takes part in one) and creates the member Secret if missing,
/// owned likewise, so that an uninstall removes both.
pub async fn run(client: Client, namespace: String, lease: Option<&'static str>) {
    let owner = ferrolb_kube::owner::cluster_role(&client, ferrolb_kube::names::CONTROLLER).await;
    if let (Some(owner), Some(lease)) = (&owner, lease) {
        own_lease(client.clone(), &namespace, lease, owner).await;
    }
    ensure(client, namespace, owner).await;
}

/// Creates the member Secret in `namespace` if it is missing, trying until it exists.
async fn ensure(client: Client, namespace: String, owner: Option<OwnerReference>) {
    let api: Api<Secret> = Api::namespaced(client, &namespace);
    loop {
        match create_if_missing(&api, &namespace, owner.clone()).await {
            Ok(true) => {
                tracing::info!(%namespace, secret = MEMBER_SECRET, "created the speakers' member key");
                return;
            }
            Ok(false) => return,
            Err(error) => {
                tracing::warn!(%error, %namespace, secret = MEMBER_SECRET, "cannot make sure the member key exists; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// True when it created the Secret, false when it was there already.
async fn create_if_missing(
    api: &Api<Secret>,
    namespace: &str,
    owner: Option<OwnerReference>,
) -> Result<bool, KeyError> {
    if api.get_opt(MEMBER_SECRET).await?.is_some() {
        return Ok(false);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(KeyError::Random)?;
    match api.create(&PostParams::default(), &secret(namespace, key, owner)).await {
        Ok(_) => Ok(true),
        // Another replica created it between our read and our create.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Why the member key could not be made sure of.
#[derive(Debug, thiserror::Error)]
enum KeyError {
    #[error("the kernel gave no random bytes: {0}")]
    Random(getrandom::Error),
    #[error(transparent)]
    Api(#[from] kube::Error),
}

/// Makes `owner` the owner of the election's Lease, so that an uninstall removes it too.
async fn own_lease(client: Client, namespace: &str, lease: &str, owner: &OwnerReference) {
    let api: Api<Lease> = Api::namespaced(client, namespace);
    let patch = json!({"metadata": {"ownerReferences": [owner]}});
    if let Err(error) = api.patch(lease, &PatchParams::default(), &Patch::Merge(&patch)).await {
        tracing::warn!(%error, %namespace, lease, "cannot set the Lease's owner; an uninstall will leave it behind");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_holds_the_key_under_the_name_the_speakers_read() {
        let s = secret("ferrolb-system", [7; 32], None);
        assert_eq!(s.metadata.name.as_deref(), Some("ferrolb-memberlist"));
        assert_eq!(s.data.unwrap()["secretkey"].0, vec![7; 32]);
        assert_eq!(s.metadata.owner_references, None);
    }
}
