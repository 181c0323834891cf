//! The kube edge of `ferrolb explain`: loads the kubeconfig and reads, as values, what the pure
//! `ferrolb_cli::explain` needs. No deciding here; only which read failed, and how to say so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use ferrolb_cli::explain::{Announcing, Listed, Observed};
use ferrolb_crds::{
    BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement, ServiceBGPStatus, ServiceL2Status,
};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, ObjectList};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource};

/// How long to wait for the apiserver to accept a connection, and to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Which Service to read, and through which kubeconfig.
pub struct Target {
    /// The `--kubeconfig` given, if any.
    pub kubeconfig: Option<PathBuf>,
    /// The `-n` given, if any: otherwise the kubeconfig context's namespace, else "default".
    pub namespace: Option<String>,
    /// The Service's name.
    pub name: String,
}

/// Reads the Service named by `target`, every IPAddressPool, the Service's Events and its
/// namespace's labels. Fails, naming the kubeconfig, when the cluster cannot be reached, and
/// when the Service does not exist; pools, Events and labels that cannot be read are reported
/// in the result instead.
pub async fn observe(target: &Target) -> anyhow::Result<Observed> {
    let source = kubeconfig_source(target.kubeconfig.as_deref());
    let mut config = load_config(target.kubeconfig.as_deref())
        .await
        .with_context(|| format!("cannot load the Kubernetes configuration from {source}"))?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    let server = config.cluster_url.to_string();
    let namespace = target.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).with_context(|| format!("cannot make a client from {source}"))?;

    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let key = format!("{namespace}/{}", target.name);
    let service = match services.get_opt(&target.name).await {
        Ok(Some(service)) => service,
        Ok(None) => {
            return Err(anyhow!(
                "Service {key} not found (kubectl get services -n {namespace} lists the Services there)"
            ));
        }
        Err(kube::Error::Api(status)) if status.is_forbidden() => {
            return Err(anyhow!("not allowed to read Service {key} with {source}: {}", status.message));
        }
        Err(kube::Error::Api(status)) => {
            return Err(anyhow!("the cluster at {server} refused to return Service {key}: {}", status.message));
        }
        Err(error) => {
            return Err(anyhow!("cannot reach the cluster at {server} (kubeconfig: {source}): {}", chain(&error)));
        }
    };

    let pools: Api<IPAddressPool> = Api::all(client.clone());
    let events: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let about =
        ListParams::default().fields(&format!("involvedObject.kind=Service,involvedObject.name={}", target.name));
    let every = ListParams::default();
    let (pools, events, namespace_object) =
        tokio::join!(pools.list(&every), events.list(&about), namespaces.get_opt(&namespace));

    let pools = pools.map(|list| list.items).map_err(|error| match error {
        kube::Error::Api(status) if status.code == 404 => {
            "FerroLB's CRDs are not installed: the cluster does not know ipaddresspools.ferrolb.io".to_owned()
        }
        kube::Error::Api(status) => status.message.clone(),
        error => error.to_string(),
    });
    let uid = service.metadata.uid.clone();
    let events = match events {
        // An Event naming no uid may be about this Service; one naming another uid is about an
        // older Service of the same name.
        Ok(list) => {
            list.items.into_iter().filter(|e| e.involved_object.uid.is_none() || e.involved_object.uid == uid).collect()
        }
        Err(error) => {
            eprintln!("warning: cannot read the Events of Service {key}: {error}");
            Vec::new()
        }
    };
    let namespace_labels: Option<BTreeMap<String, String>> =
        namespace_object.ok().flatten().map(|ns| ns.metadata.labels.unwrap_or_default());
    let announcing = announcing(&client, &namespace, &target.name).await;
    Ok(Observed { service, pools, events, namespace_labels, announcing })
}

/// Reads what saying who announces the Service needs: the configuration kinds besides pools
/// (as JSON values), Nodes, the Service's EndpointSlices and the speakers' status objects about
/// it. Nothing here fails the command: a list that cannot be read says why in its place.
async fn announcing(client: &Client, namespace: &str, name: &str) -> Announcing {
    let every = ListParams::default();
    let of_service = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
    let written_for = ListParams::default().labels(&format!("{}={name}", ferrolb_crds::SERVICE_NAME_LABEL));
    let nodes: Api<Node> = Api::all(client.clone());
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let l2: Api<ServiceL2Status> = Api::namespaced(client.clone(), namespace);
    let bgp: Api<ServiceBGPStatus> = Api::namespaced(client.clone(), namespace);
    let (l2_ads, bgp_ads, peers, bfd, communities) = tokio::join!(
        values::<L2Advertisement>(client),
        values::<BGPAdvertisement>(client),
        values::<BGPPeer>(client),
        values::<BFDProfile>(client),
        values::<Community>(client),
    );
    let (nodes, slices, l2_statuses, bgp_statuses) =
        tokio::join!(nodes.list(&every), slices.list(&of_service), l2.list(&written_for), bgp.list(&written_for));
    let mine = |status_namespace: &str, status_name: &str| status_namespace == namespace && status_name == name;
    Announcing {
        l2_advertisements: l2_ads,
        bgp_advertisements: bgp_ads,
        peers,
        bfd_profiles: bfd,
        communities,
        nodes: listed(nodes, "nodes"),
        slices: listed(slices, "endpointslices"),
        l2_statuses: listed(l2_statuses, "servicel2statuses.ferrolb.io").map(|items| {
            items
                .into_iter()
                .filter(|s| s.status.as_ref().is_none_or(|st| mine(&st.service_namespace, &st.service_name)))
                .collect()
        }),
        bgp_statuses: listed(bgp_statuses, "servicebgpstatuses.ferrolb.io").map(|items| {
            items
                .into_iter()
                .filter(|s| s.status.as_ref().is_none_or(|st| mine(&st.service_namespace, &st.service_name)))
                .collect()
        }),
    }
}

/// Every object of a cluster-scoped FerroLB configuration kind, as JSON values.
async fn values<K>(client: &Client) -> Listed<serde_json::Value>
where
    K: Resource<DynamicType = ()>,
{
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let plural = format!("{}.{}", resource.plural, resource.group);
    let list = api.list(&ListParams::default()).await;
    listed(list, &plural).map(|items| items.iter().filter_map(|o| serde_json::to_value(o).ok()).collect())
}

/// A list's items, or why it could not be read, in words.
fn listed<T: Clone + serde::de::DeserializeOwned + std::fmt::Debug>(
    list: Result<ObjectList<T>, kube::Error>,
    what: &str,
) -> Listed<T> {
    list.map(|list| list.items).map_err(|error| match error {
        kube::Error::Api(status) if status.code == 404 => format!("the cluster does not know {what}"),
        kube::Error::Api(status) if status.is_forbidden() => format!("not allowed to list {what}: {}", status.message),
        kube::Error::Api(status) => status.message.clone(),
        error => chain(&error),
    })
}

/// The configuration from `path`, or as kubectl finds it: `KUBECONFIG`, `~/.kube/config`, then
/// the in-cluster service account.
async fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(flat)?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.map_err(flat)
        }
        None => Config::infer().await.map_err(flat),
    }
}

/// Where the configuration comes from, in words for error messages.
fn kubeconfig_source(path: Option<&Path>) -> String {
    if let Some(path) = path {
        return path.display().to_string();
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return format!("KUBECONFIG={}", value.to_string_lossy());
    }
    match std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube/config")) {
        Some(default) if default.exists() => default.display().to_string(),
        _ => "the in-cluster service account (no KUBECONFIG, no ~/.kube/config)".to_owned(),
    }
}

/// `error` as one message: kube's errors already repeat their source in their text, so keeping
/// the chain would say it twice.
fn flat(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{error}")
}

/// `error` and its sources, the way `anyhow` prints a chain, skipping a source whose text the
/// previous one already holds.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}
