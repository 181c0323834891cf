//! `ferrolb-scale`: how FerroLB's controller copes with many Services, measured in the lab.
//! Not a test (CI does not run it): a benchmark to run by hand, as root:
//!
//!     cargo run --release -p ferrolb-e2e --bin ferrolb-scale -- 10000
//!
//! It builds a one-node lab, freezes the controller (SIGSTOP), creates N IPv6 LoadBalancer
//! Services (32 requests in flight; this part measures the apiserver), wakes the controller
//! (SIGCONT) and reports how long until every Service has its address, and the controller's
//! memory then.

use std::time::{Duration, Instant};

use ferrolb_e2e::{lb_service_object, watch_first_ingress};
use ferrolb_lab::{Lab, LabOptions};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
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
