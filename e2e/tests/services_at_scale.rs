//! Many Services at once: unique addresses from the right pools, latency from create to
//! address, and a controller killed in the middle of it all losing nothing.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{lb_service_object, percentile, wait_accepted, watch_first_ingress};
use ferrolb_lab::{Lab, LabOptions};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, PostParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const POOLS: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: general}\nspec: {addresses: [203.0.113.0/24, '2001:db8:200::/112']}\n---\n\
apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: team}\n\
spec: {addresses: [198.51.100.200-198.51.100.250], serviceAllocation: {priority: 10, namespaces: [team-a]}}\n---\n\
apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: special}\nspec: {addresses: ['2001:db8:100::/120'], autoAssign: false}\n";

async fn lab(controllers: u8) -> Result<Lab> {
    let mut lab = Lab::up(LabOptions { nodes: 1, controllers, ..LabOptions::for_test() }).await?;
    lab.kubectl(&["create", "namespace", "team-a"])?;
    lab.apply(POOLS)?;
    for pool in ["general", "team", "special"] {
        wait_accepted::<IPAddressPool>(&mut lab, pool, "True", Duration::from_secs(10)).await?;
    }
    Ok(lab)
}

async fn wait_all(
    seen: &std::sync::Mutex<HashMap<String, (Instant, Vec<IpAddr>)>>,
    n: usize,
    timeout: Duration,
) -> Result {
    let start = Instant::now();
    while seen.lock().map(|s| s.len()).unwrap_or(0) < n {
        if start.elapsed() > timeout {
            return Err(format!(
                "only {} of {n} Services got an address within {timeout:?}",
                seen.lock().map(|s| s.len()).unwrap_or(0)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_services_get_unique_addresses_from_the_right_pools() -> Result {
    let mut lab = lab(1).await?;
    let client = lab.client().await?;
    let (seen, watch) = watch_first_ingress(client.clone());
    let mut created = HashMap::new();
    for i in 0..200 {
        let (ns, annotations, ipv6): (&str, Vec<(&str, &str)>, bool) = match i % 4 {
            0 => ("team-a", vec![], false),
            1 => ("default", vec![("ferrolb.io/address-pool", "special")], true),
            2 => ("default", vec![], false),
            _ => ("default", vec![], true),
        };
        let name = format!("svc-{i}");
        let svc = lb_service_object(ns, &name, &annotations, ipv6);
        Api::<Service>::namespaced(client.clone(), ns).create(&PostParams::default(), &svc).await?;
        created.insert(format!("{ns}/{name}"), Instant::now());
    }
    wait_all(&seen, 200, Duration::from_secs(30)).await?;
    watch.abort();
    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    let mut latencies: Vec<Duration> =
        created.iter().filter_map(|(k, t)| Some(seen.get(k)?.0.saturating_duration_since(*t))).collect();
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    eprintln!("create -> status.loadBalancer.ingress over {} Services: p50 {p50:?}, p99 {p99:?}", latencies.len());

    let mut unique = HashSet::new();
    for (key, (_, ips)) in &seen {
        for ip in ips {
            assert!(unique.insert(*ip), "{ip} given twice (again to {key})");
        }
        let i: usize = key.rsplit('-').next().and_then(|n| n.parse().ok()).ok_or("a name")?;
        let team: std::ops::RangeInclusive<IpAddr> = "198.51.100.200".parse::<IpAddr>()?..="198.51.100.250".parse()?;
        match i % 4 {
            // 50 team-a Services, 51 addresses in the team pool.
            0 => assert!(team.contains(&ips[0]), "{key} got {ips:?}, not from the team pool"),
            1 => assert!(
                ips[0].to_string().starts_with("2001:db8:100::"),
                "{key} asked for the special pool, got {ips:?}"
            ),
            2 => assert!(ips[0].to_string().starts_with("203.0.113."), "{key} got {ips:?}, not from general"),
            _ => assert!(ips[0].to_string().starts_with("2001:db8:200::"), "{key} got {ips:?}, not from general"),
        }
    }
    assert!(p50 < Duration::from_secs(1), "p50 {p50:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_controller_while_500_services_are_created_changes_nothing() -> Result {
    let mut lab = lab(1).await?;
    let client = lab.client().await?;
    let (seen, watch) = watch_first_ingress(client.clone());
    let creator = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..500 {
                let ns = if i % 10 == 0 { "team-a" } else { "default" };
                let svc = lb_service_object(ns, &format!("many-{i}"), &[], ns == "default");
                let _ = Api::<Service>::namespaced(client.clone(), ns).create(&PostParams::default(), &svc).await;
            }
        })
    };
    wait_all(&seen, 100, Duration::from_secs(30)).await?;
    let controller =
        lab.record().daemons.iter().find(|d| d.name == "ferrolb-controller").cloned().ok_or("no controller")?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(controller.pid), nix::sys::signal::Signal::SIGKILL)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_restart: HashMap<String, Vec<IpAddr>> =
        seen.lock().map_err(|_| "poisoned")?.iter().map(|(k, (_, ips))| (k.clone(), ips.clone())).collect();
    lab.restart("ferrolb-controller")?;
    creator.await?;
    wait_all(&seen, 500, Duration::from_secs(60)).await?;
    watch.abort();
    eprintln!("{} Services had addresses when the controller was killed", before_restart.len());

    let api: Api<Service> = Api::all(client);
    let now: HashMap<String, Vec<IpAddr>> = api
        .list(&Default::default())
        .await?
        .items
        .iter()
        .filter(|s| s.metadata.name.as_deref().is_some_and(|n| n.starts_with("many-")))
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s.metadata.namespace.clone().unwrap_or_default(),
                    s.metadata.name.clone().unwrap_or_default()
                ),
                ferrolb_e2e::ingress(s),
            )
        })
        .collect();
    assert_eq!(now.len(), 500);
    for (key, ips) in &before_restart {
        assert_eq!(now.get(key), Some(ips), "{key} changed address across the restart");
    }
    let all: Vec<IpAddr> = now.values().flatten().copied().collect();
    let unique: HashSet<IpAddr> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "an address is held twice");
    assert_eq!(all.len(), 500, "every Service has exactly one address");
    Ok(())
}
