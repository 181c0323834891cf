//! A stand-in BGP speaker on a node (GoBGP), so the lab's router can be tested, and later
//! compared against, without FerroLB: it peers with the router like a node would and
//! announces whatever prefixes a test asks for.

use std::fmt::Write as _;
use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::plan::{Host, NODE_ASN, ROUTER_ASN};
use crate::router::Family;

/// gobgpd.toml for a node: eBGP to the router over IPv4 (IPv4 unicast) and IPv6 (IPv6
/// unicast), no listening socket.
pub fn config(node: &Host, router_v4: &str, router_v6: &str) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "[global.config]\n  as = {NODE_ASN}\n  router-id = \"{}\"\n  port = -1", node.v4());
    for (addr, family) in [(router_v4, "ipv4-unicast"), (router_v6, "ipv6-unicast")] {
        let _ = writeln!(
            c,
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{addr}\"\n    peer-as = {ROUTER_ASN}\n  \
             [neighbors.timers.config]\n    connect-retry = 1\n  \
             [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{family}\""
        );
    }
    c
}

impl Lab {
    /// Starts GoBGP on a node, peering with the router like a node's speaker would, and
    /// announces `prefixes` (IPv4 or IPv6, e.g. "203.0.113.7/32") from it.
    pub fn announce_with_gobgp(&mut self, node: &str, prefixes: &[&str]) -> Result<()> {
        let host = self
            .plan
            .host(node)
            .filter(|h| h.is_node())
            .cloned()
            .ok_or_else(|| Error::Failed(format!("{node} is not a node of lab {}", self.name())))?;
        let router = self.plan.host("router").cloned().ok_or_else(|| Error::Failed("no router".into()))?;
        let conf = self.state.path().join(format!("gobgpd-{node}.toml"));
        fs::write(&conf, config(&host, &router.v4().to_string(), &router.v6().to_string()))
            .map_err(Error::io("writing gobgpd.toml"))?;
        let args = vec!["-f".to_owned(), conf.to_string_lossy().into_owned()];
        let gobgpd = self.spawn(&format!("gobgpd-{node}"), node, &host.netns, Path::new("gobgpd"), &args, &[])?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while cmd::run_in(&host.netns, "gobgp", &["global"]).is_err() {
            if !gobgpd.alive() {
                return Err(gobgpd.died());
            }
            if Instant::now() > deadline {
                return Err(Error::Failed(format!("gobgpd on {node} did not answer within 20s")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for prefix in prefixes {
            let family = if prefix.contains(':') { "ipv6" } else { "ipv4" };
            cmd::run_in(&host.netns, "gobgp", &["global", "rib", "add", "-a", family, prefix])?;
        }
        Ok(())
    }

    /// Waits until the router's RIB holds a BGP route for `prefix` with at least `paths`
    /// next hops, and returns them all.
    pub fn wait_for_bgp_route(
        &self,
        family: Family,
        prefix: &str,
        paths: usize,
        timeout: Duration,
    ) -> Result<Vec<IpAddr>> {
        let deadline = Instant::now() + timeout;
        let mut last = Vec::new();
        while Instant::now() < deadline {
            let mut hops: Vec<IpAddr> = self
                .router_routes(family)?
                .into_iter()
                .filter(|r| r.prefix == prefix && r.protocol == "bgp")
                .flat_map(|r| r.nexthops)
                .collect();
            hops.sort();
            hops.dedup();
            if hops.len() >= paths {
                return Ok(hops);
            }
            last = hops;
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(Error::Failed(format!(
            "the router did not learn {prefix} over BGP with {paths} paths within {}s (it has {last:?}; {})",
            timeout.as_secs(),
            self.router_sessions().unwrap_or_default()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{LabName, Plan};

    #[test]
    fn peers_with_the_router_on_both_families() {
        let plan = Plan::new(LabName::new("g").expect("name"), 1).expect("plan");
        let c = config(plan.host("node1").expect("node1"), "198.51.100.1", "2001:db8:1::1");
        assert!(c.contains("as = 64600"));
        assert!(c.contains("router-id = \"198.51.100.11\""));
        assert!(c.contains("neighbor-address = \"2001:db8:1::1\""));
        assert!(c.contains("afi-safi-name = \"ipv6-unicast\""));
        assert_eq!(c.matches("peer-as = 64512").count(), 2);
    }
}
