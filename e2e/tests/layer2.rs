//! Layer2 mode as a user on the node segment sees it: exactly one node answers ARP and NDP for a
//! Service's address, curl reaches it, and when that node fails another takes over within half a
//! second, with or without the control plane.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_e2e::{lb_service, wait_accepted, wait_ingress};
use ferrolb_lab::{Backend, Health, Lab, LabOptions};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const SOON: Duration = Duration::from_secs(5);

const POOL: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2}\n\
    spec: {addresses: [198.51.100.200-198.51.100.250, '2001:db8:1::200-2001:db8:1::2ff']}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [l2]}\n";

/// A 3-node Layer2 lab with the pool and its L2Advertisement.
async fn l2_lab(advertisement: Option<&str>) -> Result<Lab> {
    let mut lab = Lab::up(LabOptions { nodes: 3, ..LabOptions::for_test() }).await?;
    match advertisement {
        None => lab.apply(POOL)?,
        Some(adv) => lab.apply(&format!("{}---\n{adv}", POOL.split("---").next().unwrap_or_default()))?,
    };
    wait_accepted::<IPAddressPool>(&mut lab, "l2", "True", Duration::from_secs(10)).await?;
    Ok(lab)
}

fn ready(nodes: &[&str]) -> Vec<Backend> {
    nodes.iter().map(|n| Backend { node: (*n).to_owned(), health: Health::Ready }).collect()
}

/// Creates a LoadBalancer Service with backends on `nodes`; returns its addresses.
async fn service(lab: &mut Lab, name: &str, extra_spec: &str, nodes: &[&str], count: usize) -> Result<Vec<IpAddr>> {
    lab.apply(&lb_service(name, 80, "", extra_spec))?;
    lab.backends("default", name, &ready(nodes)).await?;
    Ok(wait_ingress(lab, "default", name, count, SOON).await?.0)
}

/// The one MAC answering ARP for `ip` from l2client, once exactly one does: three requests,
/// three replies, all from that MAC.
async fn arp_owner(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < timeout {
        last = lab.arping("l2client", ip, 3)?;
        if last.len() == 3 && last.iter().all(|m| *m == last[0]) {
            return Ok(last[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("ARP for {ip}: wanted 3 replies from one MAC within {timeout:?}, last got {last:?}").into())
}

/// The one MAC answering NDP for `ip` from l2client.
async fn ndp_owner(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < timeout {
        last = lab.ndisc("l2client", ip)?;
        if last.len() == 1 {
            return Ok(last[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("NDP for {ip}: wanted exactly one advertisement within {timeout:?}, last got {last:?}").into())
}

fn url(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}/"),
        IpAddr::V6(v6) => format!("http://[{v6}]/"),
    }
}

/// curl from l2client, retried until it answers or `timeout`.
async fn curl_until_ok(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    loop {
        match lab.curl("l2client", &url(ip)) {
            Ok(body) => return Ok(body.trim().to_owned()),
            Err(e) if start.elapsed() > timeout => return Err(format!("curl {ip}: {e}").into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_one_node_answers_arp_and_curl_reaches_it() -> Result {
    let mut lab = l2_lab(None).await?;
    let ips = service(&mut lab, "web", "", &["node1", "node2", "node3"], 1).await?;
    let ip = ips[0];
    let mac = arp_owner(&lab, ip, SOON).await?;
    let owner = lab.node_by_mac(&mac)?;
    eprintln!("{ip} is answered by {owner} ({mac})");
    assert_eq!(curl_until_ok(&lab, ip, SOON).await?, owner);
    lab.check_daemons()?;
    Ok(())
}
