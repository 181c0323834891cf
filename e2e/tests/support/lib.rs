//! What FerroLB's end-to-end scenarios share beyond the lab itself: the repository's
//! manifests, read as a user would apply them.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file of the repository, as text (config/samples/layer2.yaml, ...).
pub fn manifest(path: &str) -> String {
    let full = repo().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

use std::time::{Duration, Instant};

use ferrolb_lab::Lab;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ApiResource, DynamicObject};

/// The Accepted condition of a FerroLB configuration object of kind `K`, once it has `status`
/// ("True"/"False"), and how long that took; fails after `timeout` with what it last saw.
pub async fn wait_accepted<K: kube::Resource<DynamicType = ()>>(
    lab: &mut Lab,
    name: &str,
    status: &str,
    timeout: Duration,
) -> Result<(Condition, Duration), String> {
    let client = lab.client().await.map_err(|e| e.to_string())?;
    let api: Api<DynamicObject> = Api::all_with(client, &ApiResource::erase::<K>(&()));
    let kind = K::kind(&());
    let start = Instant::now();
    let mut last = String::from("no status yet");
    while start.elapsed() < timeout {
        if let Ok(obj) = api.get(name).await {
            let conditions: Vec<Condition> = obj
                .data
                .pointer("/status/conditions")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default();
            if let Some(c) = conditions.into_iter().find(|c| c.type_ == "Accepted") {
                if c.status == status {
                    return Ok((c, start.elapsed()));
                }
                last = format!("{} {}: {}", c.status, c.reason, c.message);
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("{kind} {name} did not become Accepted={status} within {timeout:?}; last seen: {last}"))
}

/// [`wait_accepted`] for a kind given by name (IPAddressPool, BGPPeer, ...).
pub async fn wait_accepted_kind(
    lab: &mut Lab,
    kind: &str,
    name: &str,
    status: &str,
    timeout: Duration,
) -> Result<(Condition, Duration), String> {
    use ferrolb_crds::*;
    match kind {
        "IPAddressPool" => wait_accepted::<IPAddressPool>(lab, name, status, timeout).await,
        "L2Advertisement" => wait_accepted::<L2Advertisement>(lab, name, status, timeout).await,
        "BGPAdvertisement" => wait_accepted::<BGPAdvertisement>(lab, name, status, timeout).await,
        "BGPPeer" => wait_accepted::<BGPPeer>(lab, name, status, timeout).await,
        "BFDProfile" => wait_accepted::<BFDProfile>(lab, name, status, timeout).await,
        "Community" => wait_accepted::<Community>(lab, name, status, timeout).await,
        other => Err(format!("{other} is not a FerroLB configuration kind")),
    }
}
