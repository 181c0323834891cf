//! The release images as `make images` builds them (scripts/make-images, run by `make test`
//! before the tests): what a user pulls or loads. Each archive must be an OCI layout that also
//! reads as a docker archive, hold nothing but a static binary and the account files, run the
//! controller as a user other than root, carry the OCI labels, stay under 20 MB, and come out
//! byte for byte the same from the same binaries.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferrolb_e2e::{release_images, repo};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LIMIT: u64 = 20 * 1024 * 1024;

/// A directory removed when the test ends, however it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ferrolb-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let out = Command::new(program).args(args).envs(env.iter().copied()).output()?;
    if !out.status.success() {
        return Err(format!("{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn archive(component: &str) -> Result<PathBuf> {
    let path = release_images().join(format!("ferrolb-{component}.tar"));
    if !path.is_file() {
        return Err(format!("{} is missing: run `make images` (make test does)", path.display()).into());
    }
    Ok(path)
}

fn sha256(path: &Path) -> Result<String> {
    Ok(run("sha256sum", &[&path.to_string_lossy()], &[])?.split_whitespace().next().unwrap_or_default().to_owned())
}

/// An archive unpacked: its index, manifest, config, docker manifest and layer entries.
struct Image {
    dir: Scratch,
    index: Value,
    manifest: Value,
    config: Value,
    docker: Value,
    layer: PathBuf,
}

fn unpack(archive: &Path, what: &str) -> Result<Image> {
    let dir = Scratch::new(what);
    let d = dir.0.to_string_lossy().into_owned();
    run("tar", &["-xf", &archive.to_string_lossy(), "-C", &d], &[])?;
    let read = |rel: &str| -> Result<Value> { Ok(serde_json::from_slice(&std::fs::read(dir.0.join(rel))?)?) };
    let blob = |digest: &Value| -> String {
        format!("blobs/sha256/{}", digest.as_str().unwrap_or_default().trim_start_matches("sha256:"))
    };
    let index = read("index.json")?;
    let manifest = read(&blob(&index["manifests"][0]["digest"]))?;
    let config = read(&blob(&manifest["config"]["digest"]))?;
    let docker = read("manifest.json")?;
    let layer = dir.0.join(blob(&manifest["layers"][0]["digest"]));
    assert!(read("oci-layout")?["imageLayoutVersion"] == "1.0.0", "not an OCI image layout");
    Ok(Image { dir, index, manifest, config, docker, layer })
}

#[test]
fn release_images_are_static_small_labelled_and_the_controller_is_not_root() -> Result {
    for (component, user) in [("controller", "65532:65532"), ("speaker", "0:0")] {
        let path = archive(component)?;
        let size = std::fs::metadata(&path)?.len();
        eprintln!("ferrolb-{component}.tar: {:.1} MB", size as f64 / 1e6);
        assert!(size < LIMIT, "ferrolb-{component}.tar is {size} bytes, over 20 MB");

        let image = unpack(&path, component)?;
        let name = format!("ghcr.io/ferrolb/ferrolb-{component}:v{VERSION}");
        assert_eq!(image.index["manifests"][0]["annotations"]["io.containerd.image.name"], name.as_str());
        assert_eq!(image.docker[0]["RepoTags"][0], name.as_str(), "docker load would name it otherwise");
        assert_eq!(image.config["config"]["User"], user);
        assert_eq!(image.config["config"]["Entrypoint"][0], format!("/ferrolb-{component}").as_str());
        let labels = &image.config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.version"], format!("v{VERSION}").as_str());
        assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
        assert!(labels["org.opencontainers.image.source"].as_str().is_some_and(|s| s.starts_with("https://")));
        assert_eq!(image.manifest["annotations"], *labels, "the manifest's annotations repeat the labels");

        // The layer: the binary and the account files, nothing else (no shared libraries).
        let entries = run("tar", &["-tf", &image.layer.to_string_lossy()], &[])?;
        let files: Vec<&str> = entries.lines().filter(|e| !e.ends_with('/')).collect();
        assert_eq!(files, ["./etc/group", "./etc/passwd", &format!("./ferrolb-{component}")]);
        let rootfs = image.dir.0.join("rootfs");
        std::fs::create_dir_all(&rootfs)?;
        run("tar", &["-xf", &image.layer.to_string_lossy(), "-C", &rootfs.to_string_lossy()], &[])?;
        let binary = rootfs.join(format!("ferrolb-{component}"));
        let elf = std::fs::read(&binary)?;
        assert!(!has_interpreter(&elf)?, "ferrolb-{component} asks for a dynamic loader (PT_INTERP): not static");
        // It runs with nothing around it.
        let version = run(&binary.to_string_lossy(), &["--version"], &[])?;
        assert_eq!(version.trim(), format!("ferrolb-{component} {VERSION}"));
    }
    Ok(())
}

#[test]
fn the_same_binaries_give_the_same_archives_and_another_tag_another_digest() -> Result {
    let bindir =
        release_images().parent().map(|t| t.join("x86_64-unknown-linux-gnu/image")).ok_or("no target directory")?;
    let again = Scratch::new("images-again");
    let other = Scratch::new("images-other");
    let script = repo().join("scripts/build-images");
    let script = script.to_string_lossy();
    let (bindir, again_dir, other_dir) =
        (bindir.to_string_lossy(), again.0.to_string_lossy(), other.0.to_string_lossy());
    run(&script, &[&again_dir, &bindir], &[("FERROLB_ONLY", "1")])?;
    run(&script, &[&other_dir, &bindir], &[("FERROLB_ONLY", "1"), ("FERROLB_IMAGE_TAG", "v0.0.0-other")])?;
    for component in ["controller", "speaker"] {
        let file = format!("ferrolb-{component}.tar");
        let first = sha256(&archive(component)?)?;
        assert_eq!(first, sha256(&again.0.join(&file))?, "{file}: a second build differs");
        let digest = |dir: &Path, what: &str| -> Result<String> {
            let image = unpack(&dir.join(&file), what)?;
            Ok(image.index["manifests"][0]["digest"].as_str().unwrap_or_default().to_owned())
        };
        let ours = digest(&release_images(), &format!("{component}-digest"))?;
        eprintln!("ferrolb-{component}:v{VERSION} {ours}");
        assert_ne!(ours, digest(&other.0, &format!("{component}-other"))?, "{file}: the tag must show in the digest");
    }
    Ok(())
}

/// What a user does with an archive when they have no containerd: `skopeo inspect` it as an
/// OCI archive and as a docker archive, and `podman load` it. podman keeps its store, its
/// temporary files and (in a private mount namespace, over a tmpfs on /var/lib) its blob cache
/// in scratch space, so the machine keeps no trace of it.
#[test]
fn skopeo_reads_and_podman_loads_the_archives() -> Result {
    for (component, user) in [("controller", "65532:65532"), ("speaker", "0:0")] {
        let path = archive(component)?;
        let path = path.to_string_lossy();
        let name = format!("ghcr.io/ferrolb/ferrolb-{component}:v{VERSION}");
        let image = unpack(Path::new(path.as_ref()), &format!("{component}-tools"))?;
        let digest = image.index["manifests"][0]["digest"].as_str().unwrap_or_default().to_owned();

        let oci: Value = serde_json::from_str(&run("skopeo", &["inspect", &format!("oci-archive:{path}")], &[])?)?;
        assert_eq!(oci["Digest"], digest.as_str(), "skopeo sees another manifest");
        assert_eq!(oci["Labels"]["org.opencontainers.image.version"], format!("v{VERSION}").as_str());
        let docker: Value =
            serde_json::from_str(&run("skopeo", &["inspect", &format!("docker-archive:{path}")], &[])?)?;
        assert_eq!(docker["Labels"], oci["Labels"], "the docker archive's config differs");

        let scratch = Scratch::new(&format!("podman-{component}"));
        let dir = scratch.0.to_string_lossy();
        let podman = format!(
            "podman --root {dir}/root --runroot {dir}/run --storage-driver vfs --events-backend none \
             --cgroup-manager cgroupfs"
        );
        let script = format!(
            "mount -t tmpfs tmpfs /var/lib && {podman} load -q -i {path} && \
             {podman} image inspect {name} --format '{{{{.Config.User}}}} {{{{.Digest}}}}'"
        );
        let out = run("unshare", &["-m", "--propagation", "private", "sh", "-c", &script], &[("TMPDIR", &dir)])?;
        assert!(out.contains(&format!("Loaded image: {name}")), "podman load said: {out}");
        assert!(out.contains(&format!("{user} {digest}")), "podman's image is not ours: {out}");
    }
    Ok(())
}

/// Whether an ELF64 file has a PT_INTERP program header, i.e. needs a dynamic loader.
fn has_interpreter(elf: &[u8]) -> Result<bool> {
    let field = |at: usize, len: usize| -> Result<u64> {
        let bytes = elf.get(at..at + len).ok_or("truncated ELF")?;
        Ok(bytes.iter().rev().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    };
    if elf.get(..5) != Some(b"\x7fELF\x02".as_slice()) {
        return Err("not an ELF64 file".into());
    }
    let (phoff, phentsize, phnum) = (field(0x20, 8)?, field(0x36, 2)?, field(0x38, 2)?);
    const PT_INTERP: u64 = 3;
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize)?;
        if field(at, 4)? == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}
