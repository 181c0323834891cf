//! `ferrolb-scale`: how FerroLB's controller copes with many Services, measured in the lab.
//! Not a test (CI does not run it): a benchmark to run by hand, as root:
//!
//!     cargo run --release -p ferrolb-e2e --bin ferrolb-scale -- 10000
//!
//! It builds a one-node lab, freezes the controller (SIGSTOP), creates N IPv6 LoadBalancer
//! Services (32 requests in flight; this part measures the apiserver), wakes the controller
//! (SIGCONT) and reports how long until every Service has its address, and the controller's
//! memory then.
//!
//!     cargo run --release -p ferrolb-e2e --bin ferrolb-scale -- 10000 bgp
//!
//! measures the speaker instead: a one-node BGP lab, N IPv6 Services each with an endpoint,
//! then how long until FRR has every route, and the speaker's memory: when FRR has them, once
//! every ServiceBGPStatus is written and the speaker is idle again, and its peak (VmHWM).

use std::time::{Duration, Instant};

use ferrolb_e2e::bench::scenarios::status_kib;
use ferrolb_e2e::{lb_service_object, watch_first_ingress};
use ferrolb_lab::{Lab, LabOptions};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn rss_kib(pid: i32) -> u64 {
    status_kib(pid, "VmRSS:")
}

#[tokio::main]
async fn main() -> Result {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    if std::env::args().nth(2).as_deref() == Some("bgp") {
        return bgp(n).await;
    }
    let mut lab = Lab::up(LabOptions { nodes: 1, verbose: false, ..LabOptions::for_test() }).await?;
    lab.apply("apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: big}\nspec: {addresses: ['2001:db8:200::/112']}\n")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let controller =
        lab.record().daemons.iter().find(|d| d.name == "ferrolb-controller").cloned().ok_or("no controller")?;
    let idle = rss_kib(controller.pid);
    let client = lab.client().await?;
    let (seen, watch) = watch_first_ingress(client.clone());
    let pid = nix::unistd::Pid::from_raw(controller.pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP)?;
    let start = Instant::now();
    let api: Api<Service> = Api::namespaced(client, "default");
    let created = futures::stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &lb_service_object("default", &format!("s{i}"), &[], true))
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(32)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    let all_created = start.elapsed();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT)?;
    let woken = Instant::now();
    loop {
        let done = seen.lock().map(|s| s.len()).unwrap_or(0);
        if done >= created || woken.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_assigned = woken.elapsed();
    watch.abort();
    let done = seen.lock().map(|s| s.len()).unwrap_or(0);
    println!("services created:            {created} in {all_created:.1?}");
    println!("services with an address:    {done}, {all_assigned:.1?} after the controller woke up");
    println!("controller RSS idle / after: {} MiB / {} MiB", idle / 1024, rss_kib(controller.pid) / 1024);
    drop(lab);
    Ok(())
}

/// The speaker at scale, in BGP mode.
async fn bgp(n: usize) -> Result {
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let mut lab =
        Lab::up(LabOptions { nodes: 1, verbose: false, mode: ferrolb_lab::Mode::Bgp, ..LabOptions::for_test() })
            .await?;
    lab.apply(
        "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: big}\nspec: {addresses: ['2001:db8:200::/112']}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: router}\n\
         spec: {myASN: 64600, peerASN: 64512, peerAddress: '2001:db8:1::1'}\n---\n\
         apiVersion: ferrolb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: big}\nspec: {ipAddressPools: [big]}\n",
    )?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let speaker =
        lab.record().daemons.iter().find(|d| d.name == "ferrolb-speaker-node1").cloned().ok_or("no speaker")?;
    let idle = rss_kib(speaker.pid);
    let client = lab.client().await?;
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let slices: Api<EndpointSlice> = Api::namespaced(client, "default");
    let start = Instant::now();
    let created = futures::stream::iter(0..n)
        .map(|i| {
            let (services, slices) = (services.clone(), slices.clone());
            async move {
                let name = format!("s{i}");
                let svc = lb_service_object("default", &name, &[], true);
                let slice: EndpointSlice = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": format!("{name}-1"), "labels": {"kubernetes.io/service-name": name}},
                    "addressType": "IPv6",
                    "endpoints": [{"addresses": ["2001:db8:1::11"], "conditions": {"ready": true}, "nodeName": "node1"}],
                    "ports": [{"port": 80, "protocol": "TCP"}],
                }))
                .ok()?;
                services.create(&PostParams::default(), &svc).await.ok()?;
                slices.create(&PostParams::default(), &slice).await.ok()
            }
        })
        .buffer_unordered(32)
        .filter(|ok| futures::future::ready(ok.is_some()))
        .count()
        .await;
    let all_created = start.elapsed();
    let pathspace = format!("flb-{}", lab.name());
    let received = || -> usize {
        lab.exec_ok("router", &["vtysh", "-N", &pathspace, "-c", "show bgp ipv6 unicast summary json"])
            .ok()
            .and_then(|out| serde_json::from_str::<serde_json::Value>(&out).ok())
            .and_then(|v| v["peers"]["2001:db8:1::11"]["pfxRcd"].as_u64())
            .unwrap_or(0) as usize
    };
    let waited = Instant::now();
    while received() < created && waited.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (routes, routes_after, rss_routes) = (received(), waited.elapsed(), rss_kib(speaker.pid));
    // The status objects trail the routes (two requests each, at the apiserver's pace).
    let statuses: Api<ferrolb_crds::ServiceBGPStatus> = Api::namespaced(lab.client().await?, "default");
    let written = Instant::now();
    let mut count = 0;
    while written.elapsed() < Duration::from_secs(900) {
        count = statuses.list_metadata(&Default::default()).await.map(|l| l.items.len()).unwrap_or(0);
        if count >= created {
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let statuses_after = written.elapsed() + routes_after;
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!("services (with an endpoint) created: {created} in {all_created:.1?}");
    println!("routes in FRR's RIB:                 {routes}, {routes_after:.1?} after the last create");
    println!("ServiceBGPStatus objects:            {count}, {statuses_after:.1?} after the last create");
    println!(
        "speaker RSS idle / with the routes / settled / peak: {} / {} / {} / {} MiB",
        idle / 1024,
        rss_routes / 1024,
        rss_kib(speaker.pid) / 1024,
        status_kib(speaker.pid, "VmHWM:") / 1024
    );
    drop(lab);
    Ok(())
}
