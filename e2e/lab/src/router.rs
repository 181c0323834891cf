//! The network's router: FRR (zebra, bgpd and bfdd in a per-lab pathspace) or BIRD, peering
//! over eBGP with every node, ECMP on. Configuration and RIB parsing are pure; starting and
//! querying go through the tools.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use std::fs;
use std::time::Duration;

use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::plan::{NODE_ASN, Plan, ROUTER_ASN};

/// Which routing daemon plays the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RouterKind {
    /// FRR: zebra, bgpd and bfdd (BFD runs only where a test configures it).
    Frr,
    /// BIRD 2.
    Bird,
}

/// Address family of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 unicast.
    V4,
    /// IPv6 unicast.
    V6,
}

/// One route in the router's RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix, e.g. "203.0.113.5/32".
    pub prefix: String,
    /// Who put it there: "bgp", "connected", "kernel", ...
    pub protocol: String,
    /// Its next hops (several under ECMP). Empty for directly connected routes.
    pub nexthops: Vec<IpAddr>,
}

/// FRR's pathspace (and BIRD's file prefix) for a lab.
pub fn pathspace(plan: &Plan) -> String {
    format!("flb-{}", plan.name)
}

/// FRR's configuration directory for a lab.
pub fn frr_conf_dir(plan: &Plan) -> PathBuf {
    Path::new("/etc/frr").join(pathspace(plan))
}

/// FRR's runtime directory for a lab.
pub fn frr_run_dir(plan: &Plan) -> PathBuf {
    Path::new("/var/run/frr").join(pathspace(plan))
}

/// frr.conf for the router: eBGP with every node over IPv4 and IPv6, both families on
/// each session, ECMP across nodes, no policy required (lab routers accept what nodes send).
pub fn frr_config(plan: &Plan) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "frr defaults traditional\nhostname router\nlog stdout informational\n!");
    let _ = writeln!(c, "router bgp {ROUTER_ASN}\n bgp router-id 192.0.2.1");
    c.push_str(" no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n no bgp network import-check\n");
    c.push_str(" bgp bestpath as-path multipath-relax\n");
    for group in ["NODES4", "NODES6"] {
        let _ = writeln!(c, " neighbor {group} peer-group\n neighbor {group} remote-as {NODE_ASN}");
        let _ = writeln!(c, " neighbor {group} timers 3 9\n neighbor {group} timers connect 2");
    }
    for node in plan.nodes() {
        let _ = writeln!(c, " neighbor {} peer-group NODES4", node.v4());
        let _ = writeln!(c, " neighbor {} description {}", node.v4(), node.name);
        let _ = writeln!(c, " neighbor {} peer-group NODES6", node.v6());
        let _ = writeln!(c, " neighbor {} description {}", node.v6(), node.name);
    }
    for af in ["ipv4", "ipv6"] {
        let _ = writeln!(c, " !\n address-family {af} unicast");
        c.push_str("  neighbor NODES4 activate\n  neighbor NODES6 activate\n  maximum-paths 64\n");
        c.push_str(" exit-address-family\n");
    }
    c.push_str("exit\n!\n");
    c
}

/// bird.conf for the router: the same sessions as FRR's, learned routes exported to the
/// kernel with ECMP (`merge paths`).
pub fn bird_config(plan: &Plan) -> String {
    bird_config_with(plan, "")
}

/// [`bird_config`] with `v4_extra` in each node's IPv4 session (e.g. `bfd on;`).
pub fn bird_config_with(plan: &Plan, v4_extra: &str) -> String {
    let mut c = String::new();
    c.push_str("router id 192.0.2.1;\nlog stderr all;\nprotocol device {}\n");
    c.push_str("protocol direct { ipv4; ipv6; interface \"eth*\"; }\n");
    for af in ["ipv4", "ipv6"] {
        let _ = writeln!(c, "protocol kernel {{ {af} {{ export where source = RTS_BGP; }}; merge paths on; }}");
    }
    // BIRD waits 60 s after a session error before it talks to that peer again (error wait
    // time); a lab node that hung and came back should not wait that long.
    let _ = writeln!(
        c,
        "template bgp nodes {{\n  local as {ROUTER_ASN};\n  connect retry time 2;\n  error wait time 1, 5;"
    );
    c.push_str("  hold time 9;\n  ipv4 { import all; export none; };\n  ipv6 { import all; export none; };\n}\n");
    for node in plan.nodes() {
        let _ = writeln!(
            c,
            "protocol bgp {}_v4 from nodes {{ neighbor {} as {NODE_ASN}; {v4_extra}}}",
            node.name,
            node.v4()
        );
        let _ = writeln!(c, "protocol bgp {}_v6 from nodes {{ neighbor {} as {NODE_ASN}; }}", node.name, node.v6());
    }
    c
}

#[derive(Deserialize)]
struct FrrRoute {
    protocol: String,
    #[serde(default)]
    nexthops: Vec<FrrNexthop>,
}

#[derive(Deserialize)]
struct FrrNexthop {
    ip: Option<IpAddr>,
}

/// Parses `vtysh -c 'show ip route json'` (or `show ipv6 route json`).
pub fn parse_frr_routes(json: &str) -> Result<Vec<Route>> {
    let map: std::collections::BTreeMap<String, Vec<FrrRoute>> =
        serde_json::from_str(json).map_err(|e| Error::Failed(format!("unreadable FRR route JSON: {e}")))?;
    Ok(map
        .into_iter()
        .flat_map(|(prefix, entries)| {
            entries.into_iter().map(move |e| Route {
                prefix: prefix.clone(),
                protocol: e.protocol,
                nexthops: e.nexthops.iter().filter_map(|n| n.ip).collect(),
            })
        })
        .collect())
}

/// Parses `birdc show route` (BIRD 2): one Route per path; BGP protocols (named
/// `node1_v4`, ...) are reported as "bgp", `direct1` as "connected".
pub fn parse_bird_routes(text: &str) -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    let mut prefix = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("BIRD ") || trimmed.starts_with("Table ") {
            continue;
        }
        if let Some(via) = trimmed.strip_prefix("via ") {
            let hop = via.split_whitespace().next().and_then(|a| a.parse().ok());
            if let (Some(r), Some(hop)) = (routes.last_mut(), hop) {
                r.nexthops.push(hop);
            }
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            prefix = trimmed.split_whitespace().next().unwrap_or_default().to_owned();
        }
        // "<prefix>? unicast [proto time] ..." begins a path.
        if let Some((_, rest)) = trimmed.split_once('[') {
            let proto = rest.split_whitespace().next().unwrap_or_default().trim_end_matches(']');
            let protocol = if proto.starts_with("direct") {
                "connected".to_owned()
            } else if proto.ends_with("_v4") || proto.ends_with("_v6") {
                "bgp".to_owned()
            } else {
                proto.to_owned()
            };
            routes.push(Route { prefix: prefix.clone(), protocol, nexthops: Vec::new() });
        }
    }
    routes
}

/// Reads the router's RIB for one family.
pub fn routes(plan: &Plan, kind: RouterKind, bird_socket: &Path, family: Family) -> Result<Vec<Route>> {
    match kind {
        RouterKind::Frr => {
            let what = match family {
                Family::V4 => "show ip route json",
                Family::V6 => "show ipv6 route json",
            };
            parse_frr_routes(&cmd::run("vtysh", &["-N", &pathspace(plan), "-c", what])?)
        }
        RouterKind::Bird => {
            let table = match family {
                Family::V4 => "master4",
                Family::V6 => "master6",
            };
            let socket = bird_socket.to_string_lossy();
            Ok(parse_bird_routes(&cmd::run("birdc", &["-s", &socket, "show", "route", "table", table])?))
        }
    }
}

/// A one-line summary of the router's BGP sessions, for `status`.
pub fn session_summary(plan: &Plan, kind: RouterKind, bird_socket: &Path) -> Result<String> {
    match kind {
        RouterKind::Frr => {
            let out = cmd::run("vtysh", &["-N", &pathspace(plan), "-c", "show bgp summary json"])?;
            let v: serde_json::Value =
                serde_json::from_str(&out).map_err(|e| Error::Failed(format!("unreadable bgp summary: {e}")))?;
            let peers =
                v["ipv4Unicast"]["peers"].as_object().map(|p| p.values().collect::<Vec<_>>()).unwrap_or_default();
            let up = peers.iter().filter(|p| p["state"] == "Established").count();
            Ok(format!("FRR: {up}/{} IPv4 sessions established", peers.len()))
        }
        RouterKind::Bird => {
            let out = cmd::run("birdc", &["-s", &bird_socket.to_string_lossy(), "show", "protocols"])?;
            let bgp: Vec<&str> = out.lines().filter(|l| l.contains(" BGP ")).collect();
            let up = bgp.iter().filter(|l| l.contains("Established")).count();
            Ok(format!("BIRD: {up}/{} sessions established", bgp.len()))
        }
    }
}

impl Lab {
    /// FRR: enters `configure terminal` and runs `lines` in order (`router bgp 64512`,
    /// `neighbor ... bfd`, `bfd`, `profile fast`, ...); returns what vtysh printed.
    pub fn frr_configure(&self, lines: &[&str]) -> Result<String> {
        let ps = pathspace(&self.plan);
        let mut args = vec!["vtysh", "-N", ps.as_str(), "-c", "configure terminal"];
        for line in lines {
            args.extend(["-c", line]);
        }
        self.exec_ok("router", &args)
    }

    /// FRR: `show bfd peers json`, one object per BFD session (peer, status, intervals).
    pub fn frr_bfd_peers(&self) -> Result<Vec<serde_json::Value>> {
        let ps = pathspace(&self.plan);
        let out = self.exec_ok("router", &["vtysh", "-N", &ps, "-c", "show bfd peers json"])?;
        serde_json::from_str(&out).map_err(|e| Error::Failed(format!("unreadable `show bfd peers json`: {e}: {out}")))
    }

    /// BIRD: replaces its configuration with the lab's, `v4_extra` in each node's IPv4 session
    /// and `extra` at the end (see [`bird_config_with`]), and reloads it; returns what birdc
    /// printed.
    pub fn bird_reconfigure(&self, v4_extra: &str, extra: &str) -> Result<String> {
        let conf = self.state.path().join("bird.conf");
        let text = format!("{}{extra}", bird_config_with(&self.plan, v4_extra));
        fs::write(&conf, text).map_err(Error::io("writing bird.conf"))?;
        let socket = self.state.bird_socket();
        let out = cmd::run("birdc", &["-s", &socket.to_string_lossy(), "configure"])?;
        if out.contains("Reconfigured") || out.contains("Reconfiguration in progress") {
            Ok(out)
        } else {
            Err(Error::Failed(format!("BIRD did not take the configuration: {out}")))
        }
    }

    /// BIRD: `birdc <command>` (e.g. `show bfd sessions`).
    pub fn birdc(&self, command: &[&str]) -> Result<String> {
        let socket = self.state.bird_socket().to_string_lossy().into_owned();
        let mut args = vec!["-s", socket.as_str()];
        args.extend(command);
        cmd::run("birdc", &args)
    }

    /// Starts the router daemon(s) in the router namespace and waits until they listen.
    pub(crate) fn start_router(&mut self) -> Result<()> {
        let netns = self.netns("router")?.to_owned();
        match self.record.router {
            RouterKind::Frr => {
                let conf_dir = frr_conf_dir(&self.plan);
                let run_dir = frr_run_dir(&self.plan);
                for d in [&conf_dir, &run_dir] {
                    fs::create_dir_all(d).map_err(Error::io(format!("creating {}", d.display())))?;
                }
                let conf = conf_dir.join("frr.conf");
                fs::write(&conf, frr_config(&self.plan)).map_err(Error::io("writing frr.conf"))?;
                fs::write(conf_dir.join("vtysh.conf"), "").map_err(Error::io("writing vtysh.conf"))?;
                for d in [&conf_dir, &run_dir] {
                    cmd::run("chown", &["-R", "frr:frr", &d.to_string_lossy()])?;
                }
                let ps = pathspace(&self.plan);
                let conf = conf.to_string_lossy().into_owned();
                let args: Vec<String> =
                    ["-N", &ps, "-F", "traditional", "-f", &conf, "-P", "0"].iter().map(|s| (*s).to_owned()).collect();
                let zebra = self.spawn("zebra", "router", &netns, Path::new("/usr/lib/frr/zebra"), &args, &[])?;
                // bgpd connects to zebra's API socket; start it once zebra listens.
                let zserv = run_dir.join("zserv.api");
                zebra.wait_for_file(&zserv, Duration::from_secs(20))?;
                let bgpd = self.spawn("bgpd", "router", &netns, Path::new("/usr/lib/frr/bgpd"), &args, &[])?;
                bgpd.wait_for_file(&run_dir.join("bgpd.vty"), Duration::from_secs(20))?;
                // Idle until a test gives a neighbor `bfd` or adds a `bfd` peer.
                let bfdd = self.spawn("bfdd", "router", &netns, Path::new("/usr/lib/frr/bfdd"), &args, &[])?;
                bfdd.wait_for_file(&run_dir.join("bfdd.vty"), Duration::from_secs(20))?;
            }
            RouterKind::Bird => {
                let conf = self.state.path().join("bird.conf");
                fs::write(&conf, bird_config(&self.plan)).map_err(Error::io("writing bird.conf"))?;
                let socket = self.state.bird_socket();
                let args: Vec<String> = vec![
                    "-f".into(),
                    "-c".into(),
                    conf.to_string_lossy().into_owned(),
                    "-s".into(),
                    socket.to_string_lossy().into_owned(),
                    "-P".into(),
                    self.state.path().join("bird.pid").to_string_lossy().into_owned(),
                ];
                let bird = self.spawn("bird", "router", &netns, Path::new("bird"), &args, &[])?;
                bird.wait_for_file(&socket, Duration::from_secs(20))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::LabName;

    fn plan() -> Plan {
        Plan::new(LabName::new("r").expect("name"), 2).expect("plan")
    }

    #[test]
    fn frr_peers_with_every_node_on_both_families_with_ecmp() {
        let c = frr_config(&plan());
        assert!(c.contains("router bgp 64512"));
        assert!(c.contains(" neighbor 198.51.100.11 peer-group NODES4"));
        assert!(c.contains(" neighbor 2001:db8:1::12 peer-group NODES6"));
        assert!(c.contains("remote-as 64600"));
        assert!(c.contains("no bgp ebgp-requires-policy"));
        assert_eq!(c.matches("maximum-paths 64").count(), 2);
    }

    #[test]
    fn bird_peers_with_every_node_and_merges_paths() {
        let c = bird_config(&plan());
        assert!(c.contains("protocol bgp node2_v4 from nodes { neighbor 198.51.100.12 as 64600; }"));
        assert!(c.contains("protocol bgp node1_v6 from nodes { neighbor 2001:db8:1::11 as 64600; }"));
        assert_eq!(c.matches("merge paths on").count(), 2);
    }

    #[test]
    fn reads_frr_ecmp_routes() {
        let json = r#"{
          "203.0.113.5/32": [{"prefix":"203.0.113.5/32","protocol":"bgp","selected":true,
             "nexthops":[{"ip":"198.51.100.11","afi":"ipv4","interfaceName":"eth0","active":true},
                         {"ip":"198.51.100.12","afi":"ipv4","interfaceName":"eth0","active":true}]}],
          "198.51.100.0/24": [{"protocol":"connected","nexthops":[{"directlyConnected":true,"interfaceName":"eth0"}]}]
        }"#;
        let r = parse_frr_routes(json).expect("parses");
        let bgp = r.iter().find(|r| r.protocol == "bgp").expect("bgp route");
        assert_eq!(bgp.prefix, "203.0.113.5/32");
        assert_eq!(bgp.nexthops.len(), 2);
        assert!(r.iter().any(|r| r.protocol == "connected" && r.nexthops.is_empty()));
        assert!(parse_frr_routes("not json").is_err());
    }

    #[test]
    fn reads_bird_paths() {
        let text = "BIRD 2.0.12 ready.\nTable master4:\n\
            203.0.113.5/32       unicast [node1_v4 10:00:00.000] * (100) [AS64600i]\n\
            \tvia 198.51.100.11 on eth0\n\
            \x20                    unicast [node2_v4 10:00:01.000] (100) [AS64600i]\n\
            \tvia 198.51.100.12 on eth0\n\
            198.51.100.0/24      unicast [direct1 10:00:00.000] * (240)\n\
            \tdev eth0\n";
        let r = parse_bird_routes(text);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].prefix, "203.0.113.5/32");
        assert_eq!(r[1].prefix, "203.0.113.5/32");
        assert_eq!(r[1].nexthops, vec!["198.51.100.12".parse::<IpAddr>().expect("ip")]);
        assert_eq!(r[2].protocol, "connected");
    }
}
