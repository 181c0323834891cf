//! What the Layer2 scenarios share: the pool on the node segment, a 3-node lab with it, a Service
//! with backends, and who answers ARP for an address.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ferrolb_crds::IPAddressPool;
use ferrolb_lab::{Lab, LabOptions};

use crate::{lb_service, ready, wait_accepted, wait_ingress};

/// How long the Layer2 scenarios wait for what should be quick.
pub const SOON: Duration = Duration::from_secs(5);

/// The Layer2 pool on the node segment, and an L2Advertisement for it.
pub const POOL: &str = "apiVersion: ferrolb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2}\n\
    spec: {addresses: [198.51.100.200-198.51.100.250, '2001:db8:1::200-2001:db8:1::2ff']}\n---\n\
    apiVersion: ferrolb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\nspec: {ipAddressPools: [l2]}\n";

/// A 3-node Layer2 lab with the pool and its L2Advertisement (or `advertisement` instead).
pub async fn l2_lab(advertisement: Option<&str>) -> Result<Lab, String> {
    l2_lab_with(advertisement, &[]).await
}

/// [`l2_lab`] with these flags for every speaker.
pub async fn l2_lab_with(advertisement: Option<&str>, speaker_args: &[&str]) -> Result<Lab, String> {
    let speaker_args = speaker_args.iter().map(|a| a.to_string()).collect();
    let opts = LabOptions { nodes: 3, speaker_args, ..LabOptions::for_test() };
    let mut lab = Lab::up(opts).await.map_err(|e| e.to_string())?;
    let applied = match advertisement {
        None => lab.apply(POOL),
        Some(adv) => lab.apply(&format!("{}---\n{adv}", POOL.split("---").next().unwrap_or_default())),
    };
    applied.map_err(|e| e.to_string())?;
    wait_accepted::<IPAddressPool>(&mut lab, "l2", "True", Duration::from_secs(10)).await?;
    Ok(lab)
}

/// Creates a LoadBalancer Service with backends on `nodes`; returns its addresses.
pub async fn service(
    lab: &mut Lab,
    name: &str,
    extra_spec: &str,
    nodes: &[&str],
    count: usize,
) -> Result<Vec<IpAddr>, String> {
    lab.apply(&lb_service(name, 80, "", extra_spec)).map_err(|e| e.to_string())?;
    lab.backends("default", name, &ready(nodes)).await.map_err(|e| e.to_string())?;
    Ok(wait_ingress(lab, "default", name, count, SOON).await?.0)
}

/// The one MAC answering ARP for `ip` from l2client, once exactly one does: three requests,
/// three replies, all from that MAC.
pub async fn arp_owner(lab: &Lab, ip: IpAddr, timeout: Duration) -> Result<String, String> {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < timeout {
        last = lab.arping("l2client", ip, 3).map_err(|e| e.to_string())?;
        if last.len() == 3 && last.iter().all(|m| *m == last[0]) {
            return Ok(last[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("ARP for {ip}: wanted 3 replies from one MAC within {timeout:?}, last got {last:?}"))
}
