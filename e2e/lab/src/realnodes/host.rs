//! What real nodes change on the machine itself, and how `down` puts it back: kubelet's
//! kernel settings (it sets them at start), mounts under the lab's state directory, and the
//! few paths kubelet and CNI keep outside any setting (/var/lib/cni, /var/log/containers,
//! /var/lib/kubelet/device-plugins).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cmd;
use crate::error::{Error, Result};
use crate::state::STATE_ROOT;

/// The kernel settings kubelet sets on start (container_manager_linux.go, setupKernelTunables).
pub const KUBELET_SYSCTLS: [&str; 6] = [
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
];

/// The machine as it was before the first real node started, shared by every lab with real
/// nodes and restored when the last of them goes down.
const SAVED: &str = "/run/ferrolb-lab.machine.json";

/// What the machine looked like before the first real node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// Each of [`KUBELET_SYSCTLS`] with its value.
    pub sysctls: Vec<(String, String)>,
    /// Paths that did not exist, to remove again when empty.
    pub absent: Vec<PathBuf>,
}

/// Shared paths kubelet or CNI create whatever their settings say.
const SHARED_DIRS: [&str; 5] = [
    "/var/lib/kubelet/device-plugins",
    "/var/lib/kubelet",
    "/var/lib/cni/results",
    "/var/lib/cni",
    "/var/log/containers",
];

/// containerd's shim sockets live in /run/containerd/s whatever containerd's settings say;
/// a system containerd may share them, so these go only when empty.
const SHIM_DIRS: [&str; 2] = ["/run/containerd/s", "/run/containerd"];

fn proc_sys(name: &str) -> PathBuf {
    Path::new("/proc/sys").join(name.replace('.', "/"))
}

/// Records the machine's state unless another lab already did (then that record is the
/// truth: the machine may already carry kubelet's values).
pub fn save() -> Result<()> {
    if Path::new(SAVED).exists() {
        return Ok(());
    }
    let sysctls = KUBELET_SYSCTLS
        .iter()
        .filter_map(|s| Some(((*s).to_owned(), fs::read_to_string(proc_sys(s)).ok()?.trim().to_owned())))
        .collect();
    let absent = SHARED_DIRS.iter().chain(&SHIM_DIRS).map(PathBuf::from).filter(|p| !p.exists()).collect();
    let saved = Saved { sysctls, absent };
    let json = serde_json::to_vec_pretty(&saved).map_err(|e| Error::Failed(format!("encoding {SAVED}: {e}")))?;
    fs::write(SAVED, json).map_err(Error::io(format!("writing {SAVED}")))
}

/// Whether any lab on the machine still has real nodes (their directories).
fn real_labs_left() -> bool {
    fs::read_dir(STATE_ROOT).map(|d| d.flatten().any(|e| e.path().join("nodes").is_dir())).unwrap_or(false)
}

/// Puts the kernel settings back and removes the shared directories the labs created, once no
/// lab with real nodes is left. Returns the settings it restored.
pub fn restore_if_last() -> Result<Vec<String>> {
    if real_labs_left() {
        return Ok(Vec::new());
    }
    let Ok(bytes) = fs::read(SAVED) else { return Ok(Vec::new()) };
    let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| Error::Failed(format!("reading {SAVED}: {e}")))?;
    let mut restored = Vec::new();
    for (name, value) in &saved.sysctls {
        let path = proc_sys(name);
        if fs::read_to_string(&path).map(|v| v.trim() != value).unwrap_or(false) {
            fs::write(&path, value).map_err(Error::io(format!("restoring {name}={value}")))?;
            restored.push(format!("{name}={value}"));
        }
    }
    // Whatever is in a directory that was not there before the first lab, the labs made
    // (kubelet's device-plugin socket and checkpoint, CNI's cache, log links).
    for dir in &saved.absent {
        if SHIM_DIRS.iter().any(|d| Path::new(d) == dir) {
            let _ = fs::remove_dir(dir);
        } else if dir.exists() {
            fs::remove_dir_all(dir).map_err(Error::io(format!("removing {}", dir.display())))?;
        }
    }
    fs::remove_file(SAVED).map_err(Error::io(format!("removing {SAVED}")))?;
    Ok(restored)
}

/// Makes `dir` a mount point of its own with shared propagation, as kubelet wants its root
/// directory. kubelet would bind-mount it itself at start, but does so while it already
/// creates its sockets there: a socket renamed into place while the mount appears fails
/// with "invalid cross-device link" and kubelet exits. `down` removes the mount with the
/// others under the state directory.
pub fn share_mount(dir: &Path) -> Result<()> {
    let d = dir.as_os_str();
    cmd::run("mount", &["--bind".as_ref(), d, d])?;
    cmd::run("mount", &["--make-rshared".as_ref(), d])?;
    Ok(())
}

/// Unmounts everything mounted under `dir` (pod volumes, overlay root filesystems, pod
/// network namespaces), deepest first. Returns how many mounts it removed.
pub fn unmount_under(dir: &Path) -> Result<usize> {
    let prefix = dir.to_string_lossy().into_owned();
    let mut targets: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(unescape))
        .filter(|m| m == &prefix || m.starts_with(&format!("{prefix}/")))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.matches('/').count()));
    targets.dedup();
    for t in &targets {
        cmd::run("umount", &["-l", t])?;
    }
    Ok(targets.len())
}

/// mountinfo escapes spaces and a few other bytes as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Removes what a lab's nodes left in the shared paths: CNI's cached results for its networks
/// (named after the node namespaces) and kubelet's links to its container logs.
pub fn remove_shared_leftovers(name: &str, state: &Path) -> usize {
    let mut removed = 0;
    let prefix = format!("flb-{name}-node");
    for dir in ["/var/lib/cni/results", "/var/lib/cni/networks"] {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) && fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    // Shims killed by `down` leave their sockets; nobody listens on them any more.
    if let Ok(entries) = fs::read_dir(SHIM_DIRS[0]) {
        for e in entries.flatten() {
            let dead = std::os::unix::net::UnixStream::connect(e.path())
                .is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionRefused);
            if dead && fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
    }
    if let Ok(entries) = fs::read_dir("/var/log/containers") {
        for e in entries.flatten() {
            let ours = fs::read_link(e.path()).is_ok_and(|t| t.starts_with(state));
            if ours && fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_names_map_to_proc() {
        assert_eq!(proc_sys("kernel.keys.root_maxkeys"), Path::new("/proc/sys/kernel/keys/root_maxkeys"));
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape("/run/a\\040b"), "/run/a b");
    }
}
