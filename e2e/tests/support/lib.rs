//! What FerroLB's end-to-end scenarios share beyond the lab itself: the repository's
//! manifests, read as a user would apply them.

use std::path::PathBuf;

pub mod bench;
pub mod chaos;
pub mod layer2;
pub mod real;

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

/// A Service's `status.loadBalancer.ingress` addresses, once it has `count` of them, and how
/// long that took.
pub async fn wait_ingress(
    lab: &mut Lab,
    namespace: &str,
    name: &str,
    count: usize,
    timeout: Duration,
) -> Result<(Vec<std::net::IpAddr>, Duration), String> {
    let client = lab.client().await.map_err(|e| e.to_string())?;
    let api: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client, namespace);
    let start = Instant::now();
    let mut last = String::from("no status");
    while start.elapsed() < timeout {
        if let Ok(svc) = api.get(name).await {
            let ips = ingress(&svc);
            if ips.len() >= count {
                return Ok((ips, start.elapsed()));
            }
            last = service_condition(&svc).map(|c| format!("{}: {}", c.reason, c.message)).unwrap_or(last);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("Service {namespace}/{name} got no {count} address(es) within {timeout:?}; last seen: {last}"))
}

/// FerroLB's condition on a Service.
pub fn service_condition(svc: &k8s_openapi::api::core::v1::Service) -> Option<Condition> {
    svc.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "ferrolb.io/AddressAssigned").cloned()
}

/// FerroLB's condition on a Service once its status is `status` ("True"/"False").
pub async fn wait_service_condition(
    lab: &mut Lab,
    namespace: &str,
    name: &str,
    status: &str,
    timeout: Duration,
) -> Result<Condition, String> {
    let client = lab.client().await.map_err(|e| e.to_string())?;
    let api: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client, namespace);
    let start = Instant::now();
    let mut last = String::from("no condition");
    while start.elapsed() < timeout {
        if let Some(c) = api.get(name).await.ok().as_ref().and_then(service_condition) {
            if c.status == status {
                return Ok(c);
            }
            last = format!("{} {}: {}", c.status, c.reason, c.message);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("Service {namespace}/{name} did not get condition status {status} within {timeout:?}; last: {last}"))
}

/// A LoadBalancer Service manifest: `extra_spec` and `annotations` are YAML flow mappings'
/// inner text, e.g. `ipFamilyPolicy: RequireDualStack`.
pub fn lb_service(name: &str, port: u16, annotations: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default, annotations: {{{annotations}}}}}\n\
         spec: {{type: LoadBalancer, selector: {{app: {name}}}, ports: [{{port: {port}, protocol: TCP}}]{}{extra_spec}}}\n",
        if extra_spec.is_empty() { "" } else { ", " }
    )
}

/// The ingress addresses of a Service.
pub fn ingress(svc: &k8s_openapi::api::core::v1::Service) -> Vec<std::net::IpAddr> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .map(|i| i.iter().filter_map(|i| i.ip.as_deref()?.parse().ok()).collect())
        .unwrap_or_default()
}

/// When each Service (`namespace/name`) was first seen with addresses, and which.
pub type FirstIngress =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (Instant, Vec<std::net::IpAddr>)>>>;

/// Records, for every Service whose ingress becomes non-empty, when that was first seen.
/// Runs until the returned handle is dropped or aborted.
pub fn watch_first_ingress(client: kube::Client) -> (FirstIngress, tokio::task::JoinHandle<()>) {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let record = seen.clone();
    let api: Api<k8s_openapi::api::core::v1::Service> = Api::all(client);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff().applied_objects());
        while let Some(next) = stream.next().await {
            let Ok(svc) = next else { continue };
            let ips = ingress(&svc);
            if ips.is_empty() {
                continue;
            }
            let key = format!(
                "{}/{}",
                svc.metadata.namespace.clone().unwrap_or_default(),
                svc.metadata.name.clone().unwrap_or_default()
            );
            if let Ok(mut seen) = record.lock() {
                seen.entry(key).or_insert((Instant::now(), ips));
            }
        }
    });
    (seen, task)
}

/// A LoadBalancer Service object, IPv6-only when `ipv6`. Bulk tests use IPv6 Services: the
/// lab's IPv4 ClusterIP range is a /25 of a documentation range, its IPv6 one a /112. No
/// NodePorts are allocated (their range would run out first).
pub fn lb_service_object(
    namespace: &str,
    name: &str,
    annotations: &[(&str, &str)],
    ipv6: bool,
) -> k8s_openapi::api::core::v1::Service {
    let annotations: std::collections::BTreeMap<String, String> =
        annotations.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let families = if ipv6 { serde_json::json!(["IPv6"]) } else { serde_json::json!(["IPv4"]) };
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80, "protocol": "TCP"}],
                 "ipFamilyPolicy": "SingleStack", "ipFamilies": families, "allocateLoadBalancerNodePorts": false},
    }))
    .unwrap_or_default()
}

/// A binary of this workspace, built next to the running test (`cargo build --workspace --bins`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    exe.parent().and_then(|d| d.parent()).map(|d| d.join(name)).unwrap_or_else(|| PathBuf::from(name))
}

/// Where `make images` (scripts/make-images) put the release image archives: `images` in
/// the target directory the running test was built in.
pub fn release_images() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> -> target/images
    exe.ancestors().nth(3).map(|d| d.join("images")).unwrap_or_else(|| PathBuf::from("target/images"))
}

/// The controller replica holding the leader Lease (empty while none does).
pub fn controller_leader(lab: &Lab) -> String {
    lab.kubectl(&[
        "get",
        "lease",
        "-n",
        "ferrolb-system",
        "ferrolb-controller",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])
    .unwrap_or_default()
}

/// The next hops of `prefix` in the router's kernel table (what traffic follows), empty when
/// there is no such route.
pub fn kernel_nexthops(lab: &Lab, prefix: &str) -> Result<std::collections::BTreeSet<std::net::IpAddr>, String> {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    let out =
        lab.exec_ok("router", &["ip", family, "-j", "route", "show", "exact", prefix]).map_err(|e| e.to_string())?;
    nexthops_of(&out)
}

/// [`kernel_nexthops`] in the network namespace `netns` (the router's, from the lab's record),
/// without the lab: for a thread that polls while the test holds the lab mutably.
pub fn kernel_nexthops_in(netns: &str, prefix: &str) -> Result<std::collections::BTreeSet<std::net::IpAddr>, String> {
    let family = if prefix.contains(':') { "-6" } else { "-4" };
    let out = std::process::Command::new("ip")
        .args(["-n", netns, family, "-j", "route", "show", "exact", prefix])
        .output()
        .map_err(|e| e.to_string())?;
    nexthops_of(&String::from_utf8_lossy(&out.stdout))
}

/// The gateways of the routes in `ip -j route show` output.
fn nexthops_of(out: &str) -> Result<std::collections::BTreeSet<std::net::IpAddr>, String> {
    let routes: serde_json::Value =
        serde_json::from_str(if out.trim().is_empty() { "[]" } else { out }).map_err(|e| e.to_string())?;
    let mut hops = std::collections::BTreeSet::new();
    for route in routes.as_array().into_iter().flatten() {
        let gateways = route["nexthops"]
            .as_array()
            .map(|n| n.iter().map(|h| h["gateway"].clone()).collect::<Vec<_>>())
            .unwrap_or_else(|| vec![route["gateway"].clone()]);
        hops.extend(gateways.iter().filter_map(|g| g.as_str()?.parse::<std::net::IpAddr>().ok()));
    }
    Ok(hops)
}

/// Ready backends on `nodes`.
pub fn ready(nodes: &[&str]) -> Vec<ferrolb_lab::Backend> {
    nodes.iter().map(|n| ferrolb_lab::Backend { node: (*n).to_owned(), health: ferrolb_lab::Health::Ready }).collect()
}

/// The addresses in `list` (those that parse).
pub fn ips(list: &[&str]) -> std::collections::BTreeSet<std::net::IpAddr> {
    list.iter().filter_map(|s| s.parse().ok()).collect()
}

/// The host route of `ip`: `a.b.c.d/32` or `x::y/128`.
pub fn host_prefix(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}/32"),
        std::net::IpAddr::V6(v6) => format!("{v6}/128"),
    }
}

/// Waits until `prefix` has exactly `want` as next hops in the router's kernel table; returns
/// how long that took (polled every 20 ms).
pub async fn wait_nexthops(
    lab: &Lab,
    prefix: &str,
    want: &std::collections::BTreeSet<std::net::IpAddr>,
    timeout: std::time::Duration,
) -> Result<std::time::Duration, String> {
    let start = std::time::Instant::now();
    loop {
        let got = kernel_nexthops(lab, prefix)?;
        if got == *want {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!("{prefix}: next hops {got:?}, wanted {want:?} within {timeout:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The value of one sample in a Prometheus text exposition: the line whose series (name and
/// labels, as printed) is `series`, read as a number (counters print as integers, but a float
/// is read too). None when there is no such line.
pub fn metric(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

/// The `p` quantile (0 to 1) of `sorted`, nearest rank; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let last = sorted.len().saturating_sub(1);
    let at = ((last as f64) * p).round() as usize;
    sorted.get(at.min(last)).copied().unwrap_or_default()
}

/// Prints `BENCH what: n p50 p99 min max` for `samples` and returns (p50, p99).
pub fn summary(what: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    eprintln!(
        "BENCH {what}: n={} p50={p50:?} p99={p99:?} min={:?} max={:?}",
        samples.len(),
        samples.first().copied().unwrap_or_default(),
        samples.last().copied().unwrap_or_default()
    );
    (p50, p99)
}

#[cfg(test)]
mod tests {
    #[test]
    fn metric_reads_the_sample_of_exactly_that_series() {
        let text = "# TYPE a counter\na_total{x=\"1\"} 7\na_total{x=\"10\"} 9\nb 3.0\nb_total 4\n";
        assert_eq!(super::metric(text, r#"a_total{x="1"}"#), Some(7));
        assert_eq!(super::metric(text, r#"a_total{x="10"}"#), Some(9));
        assert_eq!(super::metric(text, "b"), Some(3), "not b_total");
        assert_eq!(super::metric(text, "c"), None);
    }
}
