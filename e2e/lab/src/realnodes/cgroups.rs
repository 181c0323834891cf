//! A real node's cgroup root: kubelet (cgroupfs driver) puts every pod under it, and on
//! cgroup v1 expects it to exist in every hierarchy beforehand. `down` kills what is left
//! in it and removes it, deepest first.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};

const CGROUP_FS: &str = "/sys/fs/cgroup";

/// The directories where cgroup hierarchies are mounted: each v1 controller (cpu, memory,
/// ..., name=systemd) and the v2 tree, or the v2 root alone on a unified machine.
fn hierarchies() -> Vec<PathBuf> {
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, dir, fstype) = (f.next()?, f.next()?, f.next()?);
            (matches!(fstype, "cgroup" | "cgroup2") && dir.starts_with(CGROUP_FS)).then(|| PathBuf::from(dir))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Whether the machine runs cgroup v1 controllers (what kubelet needs `failCgroupV1: false` for).
pub fn is_v1() -> bool {
    fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("cgroup"))
}

/// Creates `root` (e.g. "/flb-demo-node1") in every hierarchy; in the cpuset hierarchy it
/// takes its parent's CPUs and memory nodes, without which no process could join it.
pub fn create(root: &str) -> Result<()> {
    let rel = root.trim_start_matches('/');
    let dirs = hierarchies();
    if dirs.is_empty() {
        return Err(Error::Failed(format!("no cgroup hierarchy is mounted under {CGROUP_FS}: kubelet needs cgroups")));
    }
    for h in dirs {
        let dir = h.join(rel);
        fs::create_dir_all(&dir).map_err(Error::io(format!("creating cgroup {}", dir.display())))?;
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let parent = h.join(file);
            let own = dir.join(file);
            if own.exists()
                && fs::read_to_string(&own).unwrap_or_default().trim().is_empty()
                && let Ok(value) = fs::read_to_string(&parent)
            {
                fs::write(&own, value.trim()).map_err(Error::io(format!("writing {}", own.display())))?;
            }
        }
    }
    Ok(())
}

/// Every directory of `root` in every hierarchy that exists, deepest first.
fn tree(root: &str) -> Vec<PathBuf> {
    let rel = root.trim_start_matches('/');
    let mut all = Vec::new();
    for h in hierarchies() {
        let top = h.join(rel);
        if top.is_dir() {
            collect(&top, &mut all);
        }
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    all
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                collect(&e.path(), out);
            }
        }
    }
    out.push(dir.to_path_buf());
}

/// The processes still in `root`, in any hierarchy.
pub fn pids(root: &str) -> Vec<i32> {
    let mut pids: Vec<i32> = tree(root)
        .iter()
        .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|s| s.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<i32>>())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Kills every process left in `root` and removes its directories, deepest first. Returns
/// how many processes it killed. Idempotent.
pub fn remove(root: &str) -> Result<usize> {
    let mut killed = 0;
    for _ in 0..50 {
        let left = pids(root);
        if left.is_empty() {
            break;
        }
        for &pid in &left {
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
                killed += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut failed = Vec::new();
    for dir in tree(root) {
        // A cgroup empties a moment after its last process dies.
        let mut ok = false;
        for _ in 0..50 {
            if fs::remove_dir(&dir).is_ok() || !dir.exists() {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !ok {
            failed.push(dir.display().to_string());
        }
    }
    if failed.is_empty() {
        Ok(killed)
    } else {
        Err(Error::Failed(format!("could not remove the cgroups {}", failed.join(", "))))
    }
}

/// Cgroup roots of labs on the machine ("/flb-NAME-nodeN"), for `down --all`.
pub fn lab_roots() -> Vec<String> {
    let mut roots: Vec<String> = hierarchies()
        .iter()
        .filter_map(|h| fs::read_dir(h).ok())
        .flat_map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).collect::<Vec<_>>())
        .filter(|n| n.starts_with("flb-"))
        .map(|n| format!("/{n}"))
        .collect();
    roots.sort();
    roots.dedup();
    roots
}
