//! What a real node runs with, as values: its directories, the pod range, and the
//! configuration files of containerd, the CNI bridge, kubelet and kube-proxy. Pure: nothing
//! here touches the system, so every setting the probe found necessary is checked by a test.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::plan::Host;

/// Whether the lab's nodes are namespaces with stand-ins (light) or run a kubelet, a container
/// runtime and kube-proxy (real).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NodesKind {
    /// Node objects written by the lab, a stand-in web server, hand-written EndpointSlices.
    #[default]
    Light,
    /// containerd + kubelet + kube-proxy per node, controller-manager and scheduler in cp.
    Real,
}

/// kube-proxy's mode on real nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// iptables rules (kube-proxy's default).
    #[default]
    Iptables,
    /// IPVS, with strictARP as MetalLB requires.
    Ipvs,
    /// nftables rules.
    Nftables,
}

impl ProxyMode {
    /// The name kube-proxy's configuration uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iptables => "iptables",
            Self::Ipvs => "ipvs",
            Self::Nftables => "nftables",
        }
    }
}

/// Most real nodes a lab may have: each gets a /28 of pod addresses out of 198.51.100.128/26.
pub const MAX_REAL_NODES: u8 = 4;
/// Where pod addresses come from: between the node addresses and the Layer2 pool of the node
/// segment, one /28 a node, routed by the other nodes to its owner.
pub const POD_CIDR: &str = "198.51.100.128/26";

/// Image names the lab builds (scripts/build-images) and imports into every node.
pub mod images {
    /// The pod sandbox.
    pub const PAUSE: &str = "ferrolb.lab/pause:1";
    /// The echo server: answers "POD on NODE".
    pub const ECHO: &str = "ferrolb.lab/echo:1";
    /// FerroLB's controller, as the manifests name it (`v` + the workspace version, the tag
    /// scripts/build-images gives).
    pub const CONTROLLER: &str = concat!("ghcr.io/ferrolb/ferrolb-controller:v", env!("CARGO_PKG_VERSION"));
    /// FerroLB's speaker, likewise.
    pub const SPEAKER: &str = concat!("ghcr.io/ferrolb/ferrolb-speaker:v", env!("CARGO_PKG_VERSION"));
}

/// The /28 of pod addresses of node `index` (1-based).
pub fn pod_cidr(index: u8) -> (Ipv4Addr, u8) {
    (Ipv4Addr::new(198, 51, 100, 128 + 16 * (index.saturating_sub(1) % MAX_REAL_NODES)), 28)
}

/// `ip -batch` lines for a host of the node segment (with real nodes): routes to each other
/// node's pod range through that node (pod ranges lie inside the segment's /24).
pub fn pod_routes(plan: &crate::plan::Plan, host: &Host) -> Vec<String> {
    plan.nodes()
        .enumerate()
        .filter(|(_, n)| n.name != host.name)
        .map(|(i, n)| {
            let (net, len) = pod_cidr(u8::try_from(i + 1).unwrap_or(u8::MAX));
            format!("route add {net}/{len} via {}", n.v4())
        })
        .collect()
}

/// The cgroup (in every hierarchy) under which a node's kubelet puts its pods.
pub fn cgroup_root(netns: &str) -> String {
    format!("/{netns}")
}

/// Every path of one real node, under the lab's state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePaths(PathBuf);

impl NodePaths {
    /// The paths of the node `name` of the lab whose state is in `state`.
    pub fn new(state: &Path, name: &str) -> Self {
        Self(state.join("nodes").join(name))
    }

    /// The node's directory.
    pub fn dir(&self) -> &Path {
        &self.0
    }
    /// containerd's configuration file.
    pub fn containerd_config(&self) -> PathBuf {
        self.0.join("containerd.toml")
    }
    /// containerd's socket.
    pub fn containerd_socket(&self) -> PathBuf {
        self.0.join("containerd.sock")
    }
    /// containerd's root (content store, snapshots).
    pub fn containerd_root(&self) -> PathBuf {
        self.0.join("containerd/root")
    }
    /// containerd's state (sandboxes, pod network namespaces).
    pub fn containerd_state(&self) -> PathBuf {
        self.0.join("containerd/state")
    }
    /// runc's state.
    pub fn runc_root(&self) -> PathBuf {
        self.0.join("runc")
    }
    /// CNI configuration directory.
    pub fn cni_conf_dir(&self) -> PathBuf {
        self.0.join("cni/net.d")
    }
    /// host-local IPAM's allocations.
    pub fn cni_ipam_dir(&self) -> PathBuf {
        self.0.join("cni/ipam")
    }
    /// kubelet's --root-dir.
    pub fn kubelet_root(&self) -> PathBuf {
        self.0.join("kubelet")
    }
    /// kubelet's --cert-dir (its serving certificate).
    pub fn kubelet_certs(&self) -> PathBuf {
        self.0.join("kubelet-pki")
    }
    /// kubelet's podLogsDir.
    pub fn pod_logs(&self) -> PathBuf {
        self.0.join("pod-logs")
    }
    /// kubelet's volumePluginDir.
    pub fn volume_plugins(&self) -> PathBuf {
        self.0.join("volume-plugins")
    }
    /// kubelet's configuration file.
    pub fn kubelet_config(&self) -> PathBuf {
        self.0.join("kubelet.json")
    }
    /// kube-proxy's configuration file.
    pub fn proxy_config(&self) -> PathBuf {
        self.0.join("kube-proxy.json")
    }
    /// A kubeconfig for one of the node's programs ("kubelet", "kube-proxy").
    pub fn kubeconfig(&self, program: &str) -> PathBuf {
        self.0.join(format!("kubeconfig-{program}"))
    }
    /// Directories to create before anything starts.
    pub fn dirs(&self) -> Vec<PathBuf> {
        vec![
            self.containerd_root(),
            self.containerd_state(),
            self.runc_root(),
            self.cni_conf_dir(),
            self.cni_ipam_dir(),
            self.kubelet_root(),
            self.kubelet_certs(),
            self.pod_logs(),
            self.volume_plugins(),
        ]
    }
}

/// containerd's configuration (format version 2, containerd 1.6 and later): every path of its
/// own, the CRI with the local pause image, runc with cgroupfs, no NRI, no plugins that would
/// touch shared paths. `restrict_oom_score_adj` because the lab may lack CAP_SYS_RESOURCE.
pub fn containerd_toml(paths: &NodePaths) -> String {
    let p = |path: PathBuf| path.to_string_lossy().into_owned();
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{runc}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
    max_conf_num = 1
"#,
        root = p(paths.containerd_root()),
        state = p(paths.containerd_state()),
        socket = p(paths.containerd_socket()),
        pause = images::PAUSE,
        runc = p(paths.runc_root()),
        cni = p(paths.cni_conf_dir()),
    )
}

/// The CNI network of a node: a bridge with the node's /28, host-local allocations in the
/// node's own directory. The network's name is the node's namespace, unique on the machine
/// (CNI caches results under /var/lib/cni by that name; `down` removes them).
pub fn cni_conflist(node: &Host, index: u8, paths: &NodePaths) -> serde_json::Value {
    let (net, len) = pod_cidr(index);
    json!({
        "cniVersion": "1.0.0",
        "name": node.netns,
        "plugins": [{
            "type": "bridge",
            "bridge": "cni0",
            "isGateway": true,
            "ipMasq": false,
            "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "ranges": [[{"subnet": format!("{net}/{len}")}]],
                "routes": [{"dst": "0.0.0.0/0"}],
                "dataDir": paths.cni_ipam_dir(),
            },
        }],
    })
}

/// kubelet's configuration. cgroup v1 needs `failCgroupV1: false`; the pods' cgroups live
/// under the node's own root; every directory is the node's own; images are never
/// garbage-collected (no registry could give them back); the node never evicts for disk.
pub fn kubelet_config(node: &Host, paths: &NodePaths, ca: &Path) -> serde_json::Value {
    json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "failCgroupV1": false,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root(&node.netns),
        "failSwapOn": false,
        "containerRuntimeEndpoint": format!("unix://{}", paths.containerd_socket().display()),
        "podLogsDir": paths.pod_logs(),
        "volumePluginDir": paths.volume_plugins(),
        "authentication": {
            "anonymous": {"enabled": false},
            "webhook": {"enabled": false},
            "x509": {"clientCAFile": ca},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "resolvConf": "",
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "10Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "serializeImagePulls": false,
        "maxPods": 16,
        "rotateCertificates": false,
        "serverTLSBootstrap": false,
        "nodeStatusUpdateFrequency": "2s",
        "nodeStatusReportFrequency": "10s",
        "logging": {"format": "text"},
    })
}

/// kubelet's arguments (what its configuration file cannot hold).
pub fn kubelet_args(node: &Host, paths: &NodePaths) -> Vec<String> {
    let p = |path: PathBuf| path.to_string_lossy().into_owned();
    vec![
        format!("--config={}", p(paths.kubelet_config())),
        format!("--kubeconfig={}", p(paths.kubeconfig("kubelet"))),
        format!("--root-dir={}", p(paths.kubelet_root())),
        format!("--cert-dir={}", p(paths.kubelet_certs())),
        format!("--hostname-override={}", node.name),
        format!("--node-ip={},{}", node.v4(), node.v6()),
        "--node-labels=ferrolb.io/lab=true".to_owned(),
        "--v=1".to_owned(),
    ]
}

/// kube-proxy's configuration: the mode, IPVS with strictARP, and no change to the machine's
/// conntrack table size or timeouts (those are global).
pub fn proxy_config(node: &Host, paths: &NodePaths, mode: ProxyMode) -> serde_json::Value {
    json!({
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": paths.kubeconfig("kube-proxy")},
        "hostnameOverride": node.name,
        "mode": mode.as_str(),
        "clusterCIDR": POD_CIDR,
        "ipvs": {"strictARP": true},
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
            "udpTimeout": "0s",
            "udpStreamTimeout": "0s",
        },
        "metricsBindAddress": "127.0.0.1:10249",
        "healthzBindAddress": "0.0.0.0:10256",
    })
}

/// A kubeconfig that authenticates with a client certificate of the lab CA.
pub fn cert_kubeconfig(server: &str, ca: &Path, cert: &Path, key: &Path) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: {server}\n    \
         certificate-authority: {}\nusers:\n- name: me\n  user:\n    client-certificate: {}\n    client-key: {}\n\
         contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: me\ncurrent-context: lab\n",
        ca.display(),
        cert.display(),
        key.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{LabName, Plan};

    fn node(i: u8) -> Host {
        let plan = Plan::new(LabName::new("t1").expect("name"), 3).expect("plan");
        plan.host(&format!("node{i}")).expect("node").clone()
    }

    #[test]
    fn pod_ranges_are_disjoint_and_clear_of_the_pools_and_hosts() {
        let ranges: Vec<_> = (1..=MAX_REAL_NODES).map(pod_cidr).collect();
        assert_eq!(ranges[0], (Ipv4Addr::new(198, 51, 100, 128), 28));
        assert_eq!(ranges[3], (Ipv4Addr::new(198, 51, 100, 176), 28));
        // The last address of the last range stays below the Layer2 pool (.200-.250).
        assert!(ranges[3].0.octets()[3] + 15 < 200);
    }

    #[test]
    fn containerd_has_its_own_paths_and_the_settings_the_machine_needs() {
        let paths = NodePaths::new(Path::new("/run/ferrolb-lab/x"), "node1");
        let toml = containerd_toml(&paths);
        for want in [
            "root = \"/run/ferrolb-lab/x/nodes/node1/containerd/root\"",
            "address = \"/run/ferrolb-lab/x/nodes/node1/containerd.sock\"",
            "restrict_oom_score_adj = true",
            "netns_mounts_under_state_dir = true",
            "io.containerd.nri.v1.nri",
            "sandbox_image = \"ferrolb.lab/pause:1\"",
            "Root = \"/run/ferrolb-lab/x/nodes/node1/runc\"",
            "SystemdCgroup = false",
        ] {
            assert!(toml.contains(want), "{want} missing from\n{toml}");
        }
    }

    #[test]
    fn kubelet_runs_on_cgroup_v1_under_its_own_root() {
        let n = node(2);
        let paths = NodePaths::new(Path::new("/run/ferrolb-lab/x"), "node2");
        let c = kubelet_config(&n, &paths, Path::new("/ca.crt"));
        assert_eq!(c["failCgroupV1"], false);
        assert_eq!(c["cgroupDriver"], "cgroupfs");
        assert_eq!(c["cgroupRoot"], "/flb-t1-node2");
        assert_eq!(c["failSwapOn"], false);
        assert_eq!(c["imageGCHighThresholdPercent"], 100);
        assert_eq!(c["podLogsDir"], "/run/ferrolb-lab/x/nodes/node2/pod-logs");
        let args = kubelet_args(&n, &paths);
        assert!(args.contains(&"--root-dir=/run/ferrolb-lab/x/nodes/node2/kubelet".to_owned()));
        assert!(args.contains(&"--cert-dir=/run/ferrolb-lab/x/nodes/node2/kubelet-pki".to_owned()));
        assert!(args.contains(&"--node-ip=198.51.100.12,2001:db8:1::12".to_owned()));
    }

    #[test]
    fn kube_proxy_leaves_global_conntrack_settings_alone() {
        let paths = NodePaths::new(Path::new("/s"), "node1");
        let c = proxy_config(&node(1), &paths, ProxyMode::Ipvs);
        assert_eq!(c["mode"], "ipvs");
        assert_eq!(c["ipvs"]["strictARP"], true);
        assert_eq!(c["conntrack"]["maxPerCore"], 0);
        assert_eq!(c["conntrack"]["tcpEstablishedTimeout"], "0s");
    }

    #[test]
    fn nodes_route_the_other_nodes_pods_through_them() {
        let plan = Plan::new(LabName::new("t1").expect("name"), 3).expect("plan");
        let routes = pod_routes(&plan, &node(2));
        assert_eq!(
            routes,
            ["route add 198.51.100.128/28 via 198.51.100.11", "route add 198.51.100.160/28 via 198.51.100.13"]
        );
    }

    #[test]
    fn each_node_has_its_own_network_name_and_range() {
        let paths = NodePaths::new(Path::new("/s"), "node3");
        let c = cni_conflist(&node(3), 3, &paths);
        assert_eq!(c["name"], "flb-t1-node3");
        assert_eq!(c["plugins"][0]["ipam"]["ranges"][0][0]["subnet"], "198.51.100.160/28");
        assert_eq!(c["plugins"][0]["ipam"]["dataDir"], "/s/nodes/node3/cni/ipam");
    }
}
