//! How long a user waits, in BGP mode, from creating a Service to the router having its route:
//! 100 Services, each timed from its create call to its /32 in the router's kernel table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{lb_service_object, percentile, wait_accepted, watch_first_ingress};
use ferrolb_lab::{Backend, Health, Lab, LabOptions, Mode, RouterKind};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const CONFIG: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp}\n\
    spec: {addresses: [203.0.113.0/24]}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
    spec: {myASN: 64600, peerASN: 64512, peerAddress: 198.51.100.1}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp}\nspec: {ipAddressPools: [bgp]}\n";

const SERVICES: usize = 100;

/// When each route was first seen in the router's kernel table.
type FirstSeen = Arc<Mutex<HashMap<IpAddr, Instant>>>;

/// Polls the router's kernel table, recording when each BGP route first appeared.
fn watch_routes(lab: &Lab) -> Result<(FirstSeen, tokio::task::JoinHandle<()>)> {
    let netns = lab.netns("router")?.to_owned();
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let record = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            let out = tokio::process::Command::new("ip")
                .args(["netns", "exec", &netns, "ip", "-4", "-j", "route", "show", "proto", "bgp"])
                .output()
                .await;
            let now = Instant::now();
            let routes: serde_json::Value =
                out.ok().and_then(|o| serde_json::from_slice(&o.stdout).ok()).unwrap_or(serde_json::Value::Null);
            for route in routes.as_array().into_iter().flatten() {
                let Some(ip) = route["dst"].as_str().and_then(|d| d.split('/').next()?.parse::<IpAddr>().ok()) else {
                    continue;
                };
                if let Ok(mut seen) = record.lock() {
                    seen.entry(ip).or_insert(now);
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    Ok((seen, task))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_services_reach_the_router_kernel_table() -> Result {
    let mut lab =
        Lab::up(LabOptions { nodes: 3, mode: Mode::Bgp, router: RouterKind::Frr, ..LabOptions::for_test() }).await?;
    lab.apply(CONFIG)?;
    wait_accepted::<IPAddressPool>(&mut lab, "bgp", "True", Duration::from_secs(10)).await?;
    let client = lab.client().await?;
    let (addresses, address_watch) = watch_first_ingress(client.clone());
    let (routes, route_watch) = watch_routes(&lab)?;
    let api: Api<Service> = Api::namespaced(client, "default");
    let backend = [Backend { node: "node1".into(), health: Health::Ready }];
    let mut created = HashMap::new();
    for i in 0..SERVICES {
        let name = format!("svc-{i}");
        let start = Instant::now();
        api.create(&PostParams::default(), &lb_service_object("default", &name, &[], false)).await?;
        lab.backends("default", &name, &backend).await?;
        created.insert(format!("default/{name}"), start);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let latencies = loop {
        let addresses = addresses.lock().map_err(|_| "poisoned")?.clone();
        let routes = routes.lock().map_err(|_| "poisoned")?.clone();
        let latencies: Vec<Duration> = created
            .iter()
            .filter_map(|(key, start)| {
                let ip = addresses.get(key)?.1.first()?;
                Some(routes.get(ip)?.saturating_duration_since(*start))
            })
            .collect();
        if latencies.len() == SERVICES {
            break latencies;
        }
        assert!(Instant::now() < deadline, "only {} of {SERVICES} routes within 30 s", latencies.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    address_watch.abort();
    route_watch.abort();
    let mut sorted = latencies;
    sorted.sort();
    let (p50, p99) = (percentile(&sorted, 0.5), percentile(&sorted, 0.99));
    eprintln!("create -> route in the router's kernel table over {SERVICES} Services: p50 {p50:?}, p99 {p99:?}");
    // Generous bounds (2 shared cores): a regression to seconds fails, noise does not.
    assert!(p50 < Duration::from_secs(2), "p50 {p50:?}");
    Ok(())
}
