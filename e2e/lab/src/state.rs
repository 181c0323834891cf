//! What a lab leaves on the machine besides namespaces: a state directory holding its
//! record (options and the pids it started), logs, the cluster's files and router config.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::process::Daemon;
use crate::realnodes::config::{NodesKind, ProxyMode};
use crate::router::RouterKind;

/// Root of every lab's state directory.
pub const STATE_ROOT: &str = "/run/ferrolb-lab";

/// Which announcement mode the lab is prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Layer2: addresses on the node segment, announced by ARP/NDP.
    L2,
    /// BGP: addresses announced to the router.
    Bgp,
}

/// Which load-balancer implementation the lab runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lb {
    /// FerroLB (this repository's controller and speakers).
    #[default]
    Ferrolb,
    /// MetalLB, native mode, built by `scripts/build-metallb` (for the side-by-side benchmark).
    Metallb,
}

/// A lab's record, written as it is built so that a crash leaves enough to clean up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The lab's name.
    pub name: String,
    /// Number of nodes.
    pub nodes: u8,
    /// Announcement mode.
    pub mode: Mode,
    /// Router daemon.
    pub router: RouterKind,
    /// Whether the load balancer's processes were wanted.
    pub ferrolb: bool,
    /// Which load balancer runs.
    #[serde(default)]
    pub lb: Lb,
    /// How many controller replicas run.
    #[serde(default = "one")]
    pub controllers: u8,
    /// The testcluster binary (its directory also holds the matching kubectl).
    pub testcluster: PathBuf,
    /// Light or real nodes.
    #[serde(default)]
    pub nodes_kind: NodesKind,
    /// kube-proxy's mode (real nodes).
    #[serde(default)]
    pub proxy_mode: ProxyMode,
    /// Extra arguments the speakers were started with.
    #[serde(default)]
    pub speaker_args: Vec<String>,
    /// Every process started, in order.
    pub daemons: Vec<Daemon>,
}

fn one() -> u8 {
    1
}

/// Paths inside one lab's state directory.
#[derive(Debug, Clone)]
pub struct StateDir(PathBuf);

impl StateDir {
    /// The state directory of the named lab.
    pub fn of(name: &str) -> Self {
        Self(Path::new(STATE_ROOT).join(name))
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Log directory.
    pub fn logs(&self) -> PathBuf {
        self.0.join("logs")
    }

    /// The testcluster's state directory (PKI, etcd, kubeconfigs).
    pub fn cluster(&self) -> PathBuf {
        self.0.join("cluster")
    }

    /// Kubeconfig for the root namespace (through the forwarder on 127.0.0.1).
    pub fn kubeconfig(&self) -> PathBuf {
        self.cluster().join("kubeconfig-host")
    }

    /// Kubeconfig for processes inside the lab's namespaces (apiserver at 198.51.100.2).
    pub fn kubeconfig_in_lab(&self) -> PathBuf {
        self.cluster().join("kubeconfig")
    }

    /// BIRD's control socket.
    pub fn bird_socket(&self) -> PathBuf {
        self.0.join("bird.ctl")
    }

    fn record_path(&self) -> PathBuf {
        self.0.join("lab.json")
    }

    /// Creates the directory tree.
    pub fn create(&self) -> Result<()> {
        fs::create_dir_all(self.logs()).map_err(Error::io(format!("creating {}", self.logs().display())))
    }

    /// Reads the record, if there is one.
    pub fn read(&self) -> Option<Record> {
        serde_json::from_slice(&fs::read(self.record_path()).ok()?).ok()
    }

    /// Writes the record atomically.
    pub fn write(&self, record: &Record) -> Result<()> {
        let tmp = self.0.join("lab.json.tmp");
        let json = serde_json::to_vec_pretty(record).map_err(|e| Error::Failed(format!("encoding lab record: {e}")))?;
        fs::write(&tmp, json).map_err(Error::io(format!("writing {}", tmp.display())))?;
        fs::rename(&tmp, self.record_path()).map_err(Error::io("saving the lab record"))
    }

    /// Names of every lab that has a state directory.
    pub fn all() -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(STATE_ROOT)
            .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| e.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}
