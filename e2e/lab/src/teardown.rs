//! Removing a lab: by its record (the pids it started) and by what is on the machine (its
//! namespaces and router files), so that it also cleans what a crashed run left behind.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::require_root;
use crate::process;
use crate::realnodes::{cgroups, host};
use crate::state::StateDir;

/// Namespaces on the machine, by name.
pub fn existing_namespaces() -> Vec<String> {
    cmd::run("ip", &["netns", "list"])
        .map(|out| out.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Splits a lab namespace name `flb-<lab>-<host>` into (lab, host).
pub fn parse_netns(ns: &str) -> Option<(&str, &str)> {
    let (lab, host) = ns.strip_prefix("flb-")?.rsplit_once('-')?;
    let is_host = matches!(host, "lab" | "router" | "client" | "cp" | "l2client")
        || host.strip_prefix("node").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    (is_host && !lab.is_empty()).then_some((lab, host))
}

/// What `down` removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DownReport {
    /// Processes stopped (by record) or killed (found in a namespace).
    pub processes: usize,
    /// Namespaces deleted.
    pub namespaces: Vec<String>,
    /// Whether a state directory was removed.
    pub state: bool,
    /// Real nodes' cgroup roots removed.
    pub cgroups: usize,
    /// Mounts removed under the state directory (pod volumes, root filesystems, pod netns).
    pub mounts: usize,
    /// Kernel settings put back as they were before kubelet changed them.
    pub sysctls: Vec<String>,
}

/// Removes a lab: stops its recorded processes, kills anything else left in its
/// namespaces, deletes the namespaces (and with them every link), the router's files and
/// the state directory. Idempotent, and works from whatever a crashed run left.
pub fn down(name: &str) -> Result<DownReport> {
    require_root()?;
    let mut report = DownReport::default();
    let state = StateDir::of(name);
    if let Some(record) = state.read() {
        for d in record.daemons.iter().rev() {
            if d.alive() {
                process::stop(d, Duration::from_secs(3));
                report.processes += 1;
            }
        }
    }
    let namespaces: Vec<String> =
        existing_namespaces().into_iter().filter(|ns| parse_netns(ns).is_some_and(|(lab, _)| lab == name)).collect();
    for ns in &namespaces {
        report.processes += process::kill_all_in(ns).len();
    }
    // Real nodes: containers live in their own network namespaces but under the node's
    // cgroup root; after them, the mounts they held and what kubelet and CNI left outside.
    let roots: Vec<String> = cgroups::lab_roots()
        .into_iter()
        .filter(|r| parse_netns(r.trim_start_matches('/')).is_some_and(|(lab, _)| lab == name))
        .collect();
    for root in &roots {
        report.processes += cgroups::remove(root)?;
        report.cgroups += 1;
    }
    if state.path().exists() {
        report.mounts = host::unmount_under(state.path())?;
        host::remove_shared_leftovers(name, state.path());
    }
    for ns in &namespaces {
        cmd::run("ip", &["netns", "del", ns])?;
    }
    report.namespaces = namespaces;
    for dir in
        [Path::new("/etc/frr").join(format!("flb-{name}")), Path::new("/var/run/frr").join(format!("flb-{name}"))]
    {
        let _ = fs::remove_dir_all(dir);
    }
    if state.path().exists() {
        fs::remove_dir_all(state.path()).map_err(Error::io(format!("removing {}", state.path().display())))?;
        report.state = true;
    }
    report.sysctls = host::restore_if_last()?;
    Ok(report)
}

/// Every lab that left anything on the machine: state, namespaces or router files.
pub fn all_labs() -> Vec<String> {
    let mut names = StateDir::all();
    names.extend(existing_namespaces().iter().filter_map(|ns| parse_netns(ns)).map(|(lab, _)| lab.to_owned()));
    names.extend(
        cgroups::lab_roots()
            .iter()
            .filter_map(|r| parse_netns(r.trim_start_matches('/')))
            .map(|(lab, _)| lab.to_owned()),
    );
    if let Ok(dir) = fs::read_dir("/etc/frr") {
        names.extend(
            dir.filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_prefix("flb-").map(str::to_owned)),
        );
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_lab_namespaces() {
        assert_eq!(parse_netns("flb-demo-node12"), Some(("demo", "node12")));
        assert_eq!(parse_netns("flb-a-b-cp"), Some(("a-b", "cp")));
        assert_eq!(parse_netns("flb-a-b-node1"), Some(("a-b", "node1")));
        assert_eq!(parse_netns("flb-demo-lab"), Some(("demo", "lab")));
        assert_eq!(parse_netns("flb-demo-nodex"), None);
        assert_eq!(parse_netns("flb-demo-node"), None);
        assert_eq!(parse_netns("other-demo-cp"), None);
        assert_eq!(parse_netns("flb--cp"), None);
    }
}
