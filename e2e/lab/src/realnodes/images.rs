//! The lab's container images: built here (scripts/build-images: a pause and an echo image
//! from static C programs, FerroLB's controller and speaker from the cargo-built binaries) as
//! OCI archives, and imported into each node's containerd. No registry is reachable.

use std::path::{Path, PathBuf};

use crate::cluster::repo_root;
use crate::cmd;
use crate::error::{Error, Result};

/// Builds the image archives into `out` from the binaries in `bindir` (and MetalLB's from
/// `metallb`, its build directory, when given); returns their paths.
pub fn build(out: &Path, bindir: &Path, metallb: Option<&Path>) -> Result<Vec<PathBuf>> {
    let script = repo_root().join("scripts/build-images");
    let mut command = std::process::Command::new(&script);
    command.arg(out).arg(bindir);
    if let Some(dir) = metallb {
        command.env("METALLB_DIR", dir);
    }
    let output = command.output().map_err(Error::io(format!("running {}", script.display())))?;
    if !output.status.success() {
        return Err(Error::Failed(format!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).lines().map(PathBuf::from).collect())
}

/// Imports archives into a node's containerd, in the namespace the CRI (and so kubelet) uses.
/// Importing again replaces an image of the same name (after a rebuild).
pub fn import(socket: &Path, archives: &[PathBuf]) -> Result<()> {
    for archive in archives {
        ctr_images(socket, &["import".as_ref(), archive.as_os_str()])
            .map_err(|e| Error::Failed(format!("importing {} into {}: {e}", archive.display(), socket.display())))?;
    }
    Ok(())
}

/// The image names a node's containerd holds for kubelet.
pub fn list(socket: &Path) -> Result<Vec<String>> {
    let out = ctr_images(socket, &["ls".as_ref(), "-q".as_ref()])?;
    Ok(out.lines().filter(|l| !l.starts_with("sha256:")).map(str::to_owned).collect())
}

/// `ctr images ARGS` against a node's containerd, in the namespace the CRI (and so kubelet) uses.
fn ctr_images(socket: &Path, args: &[&std::ffi::OsStr]) -> Result<String> {
    let mut all: Vec<&std::ffi::OsStr> =
        vec!["--address".as_ref(), socket.as_os_str(), "-n".as_ref(), "k8s.io".as_ref(), "images".as_ref()];
    all.extend_from_slice(args);
    cmd::run("ctr", &all)
}
