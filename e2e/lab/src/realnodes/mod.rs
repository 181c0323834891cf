//! Real nodes: per node namespace a containerd, a kubelet and a kube-proxy, with
//! kube-controller-manager and kube-scheduler in cp, all from the Kubernetes release of the
//! apiserver (the testcluster binary's personalities); images built here and imported into
//! every node; FerroLB installed from its own manifests as pods.
//!
//! Start at [`Lab::start_real_nodes`]; [`config`] holds every setting as values, [`cgroups`]
//! and [`host`] what the nodes change on the machine and how `down` undoes it.

pub mod cgroups;
pub mod config;
pub mod host;
pub mod images;
pub mod install;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cmd;
use crate::error::{Error, Result};
use crate::lab::{Lab, Progress};
use crate::plan::APISERVER_PORT;
use crate::process::Enter;
use config::{NodePaths, ProxyMode};

/// How long a node may take to become Ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// What real nodes need beyond the light lab: one line naming the first thing missing.
pub fn preflight(nodes: u8, proxy: ProxyMode) -> Result<()> {
    if nodes > config::MAX_REAL_NODES {
        return Err(Error::Failed(format!(
            "a lab has at most {} real nodes (each gets a /28 of pod addresses out of {}), not {nodes}",
            config::MAX_REAL_NODES,
            config::POD_CIDR
        )));
    }
    let mut tools = vec![
        ("containerd", "containerd"),
        ("ctr", "containerd"),
        ("runc", "runc"),
        ("nsenter", "util-linux"),
        ("umount", "mount"),
        ("/usr/lib/cni/bridge", "containernetworking-plugins"),
        ("/usr/lib/cni/host-local", "containernetworking-plugins"),
        ("/usr/lib/cni/loopback", "containernetworking-plugins"),
        ("conntrack", "conntrack"),
        ("iptables", "iptables"),
        ("gcc", "gcc"),
    ];
    match proxy {
        ProxyMode::Iptables => {}
        ProxyMode::Ipvs => tools.extend([("ipvsadm", "ipvsadm"), ("ipset", "ipset")]),
        ProxyMode::Nftables => tools.push(("nft", "nftables")),
    }
    for (tool, package) in tools {
        if cmd::which(tool).is_none() {
            return Err(Error::ToolMissing { tool: tool.to_owned(), package });
        }
    }
    if !Path::new("/usr/lib/x86_64-linux-gnu/libc.a").exists() && !Path::new("/usr/lib/libc.a").exists() {
        return Err(Error::ToolMissing { tool: "libc.a (static C library)".into(), package: "libc6-dev" });
    }
    if proxy == ProxyMode::Ipvs && !Path::new("/proc/net/ip_vs").exists() {
        return Err(Error::Failed(
            "kube-proxy's IPVS mode needs the kernel's IPVS (module ip_vs), which this kernel lacks: \
             use --proxy-mode iptables or nftables"
                .into(),
        ));
    }
    if !Path::new("/proc/sys/net/bridge").exists() && !Path::new("/sys/module/bridge").exists() {
        return Err(Error::Failed("the kernel has no bridge support, which the pod network (CNI bridge) needs".into()));
    }
    if fs::read_to_string("/proc/self/mounts").map(|m| !m.contains("cgroup")).unwrap_or(true) {
        return Err(Error::Failed("no cgroup file system is mounted under /sys/fs/cgroup: kubelet needs one".into()));
    }
    Ok(())
}

/// One program of the testcluster binary, by its personality (the link build-testcluster made).
fn personality(testcluster: &Path, name: &str) -> PathBuf {
    testcluster.with_file_name(name)
}

impl Lab {
    fn pki(&self) -> PathBuf {
        self.state.cluster().join("pki")
    }

    fn server(&self) -> String {
        format!("https://{}:{APISERVER_PORT}", self.plan.apiserver())
    }

    /// A client certificate from the lab CA and a kubeconfig using it.
    fn credentials(&self, kubeconfig: &Path, cn: &str, org: &str) -> Result<()> {
        let prefix = kubeconfig.with_extension("client");
        let tc = self.record.testcluster.to_string_lossy().into_owned();
        let pki = self.pki().to_string_lossy().into_owned();
        let out = prefix.to_string_lossy().into_owned();
        let mut args = vec!["issue-cert", "--pki", &pki, "--cn", cn, "--out", &out];
        if !org.is_empty() {
            args.extend(["--org", org]);
        }
        cmd::run(&tc, &args)?;
        let text = config::cert_kubeconfig(
            &self.server(),
            &self.pki().join("ca.crt"),
            &prefix.with_extension("client.crt"),
            &prefix.with_extension("client.key"),
        );
        fs::write(kubeconfig, text).map_err(Error::io(format!("writing {}", kubeconfig.display())))
    }

    /// Starts kube-controller-manager and kube-scheduler in cp, then on every node containerd
    /// (with the lab's images), kubelet and kube-proxy; waits until every Node is Ready and the
    /// controller-manager made the default ServiceAccount.
    pub(crate) async fn start_real_nodes(&mut self, lab_binary: &Path, progress: &Progress) -> Result<()> {
        host::save()?;
        let tc = self.record.testcluster.clone();
        let cp = self.netns("cp")?.to_owned();
        let cp_dir = self.state.path().join("cp");
        fs::create_dir_all(cp_dir.join("flexvolume")).map_err(Error::io("creating the cp directory"))?;

        progress.step("starting kube-controller-manager and kube-scheduler in cp");
        let cm_kubeconfig = cp_dir.join("kubeconfig-controller-manager");
        self.credentials(&cm_kubeconfig, "system:kube-controller-manager", "")?;
        let pki = self.pki();
        let p = |path: &Path| path.to_string_lossy().into_owned();
        let cm_args = vec![
            format!("--kubeconfig={}", p(&cm_kubeconfig)),
            format!("--authentication-kubeconfig={}", p(&cm_kubeconfig)),
            format!("--authorization-kubeconfig={}", p(&cm_kubeconfig)),
            format!("--service-account-private-key-file={}", p(&pki.join("sa.key"))),
            format!("--root-ca-file={}", p(&pki.join("ca.crt"))),
            format!("--flex-volume-plugin-dir={}", p(&cp_dir.join("flexvolume"))),
            "--use-service-account-credentials=true".to_owned(),
            "--leader-elect=false".to_owned(),
            "--bind-address=127.0.0.1".to_owned(),
            "--cluster-name=ferrolb-lab".to_owned(),
            "--v=1".to_owned(),
        ];
        self.spawn_with(
            Enter::Nsenter,
            "kube-controller-manager",
            "cp",
            &cp,
            &personality(&tc, "kube-controller-manager"),
            &cm_args,
            &[],
        )?;
        let sched_kubeconfig = cp_dir.join("kubeconfig-scheduler");
        self.credentials(&sched_kubeconfig, "system:kube-scheduler", "")?;
        let sched_args = vec![
            format!("--kubeconfig={}", p(&sched_kubeconfig)),
            format!("--authentication-kubeconfig={}", p(&sched_kubeconfig)),
            format!("--authorization-kubeconfig={}", p(&sched_kubeconfig)),
            "--leader-elect=false".to_owned(),
            "--bind-address=127.0.0.1".to_owned(),
            "--v=1".to_owned(),
        ];
        self.spawn_with(
            Enter::Nsenter,
            "kube-scheduler",
            "cp",
            &cp,
            &personality(&tc, "kube-scheduler"),
            &sched_args,
            &[],
        )?;

        progress.step("building the images (pause, echo, ferrolb-controller, ferrolb-speaker; MetalLB's if it runs)");
        let bindir = lab_binary.parent().map(Path::to_path_buf).unwrap_or_default();
        let image_dir = self.state.path().join("images");
        let metallb = self.metallb_build()?;
        let archives = images::build(&image_dir, &bindir, metallb.as_deref())?;

        let ca = pki.join("ca.crt");
        let nodes: Vec<_> = self.plan.nodes().cloned().collect();
        let proxy_mode = self.record.proxy_mode;
        for (i, node) in nodes.iter().enumerate() {
            let index = u8::try_from(i + 1).unwrap_or(u8::MAX);
            let paths = NodePaths::new(self.state.path(), &node.name);
            for d in paths.dirs() {
                fs::create_dir_all(&d).map_err(Error::io(format!("creating {}", d.display())))?;
            }
            cgroups::create(&config::cgroup_root(&node.netns))?;
            let write = |path: PathBuf, text: String| {
                fs::write(&path, text).map_err(Error::io(format!("writing {}", path.display())))
            };
            write(paths.containerd_config(), config::containerd_toml(&paths))?;
            write(paths.cni_conf_dir().join("10-lab.conflist"), config::cni_conflist(node, index, &paths).to_string())?;
            write(paths.kubelet_config(), config::kubelet_config(node, &paths, &ca).to_string())?;
            write(paths.proxy_config(), config::proxy_config(node, &paths, proxy_mode).to_string())?;
            self.credentials(&paths.kubeconfig("kubelet"), &format!("system:node:{}", node.name), "system:nodes")?;
            self.credentials(&paths.kubeconfig("kube-proxy"), "system:kube-proxy", "")?;

            progress.step(&format!("{}: starting containerd and importing the images", node.name));
            let args = vec!["--config".to_owned(), p(&paths.containerd_config())];
            let containerd = self.spawn_with(
                Enter::Nsenter,
                &format!("containerd-{}", node.name),
                &node.name,
                &node.netns,
                Path::new("containerd"),
                &args,
                &[],
            )?;
            containerd.wait_for_file(&paths.containerd_socket(), Duration::from_secs(30))?;
            images::import(&paths.containerd_socket(), &archives)?;

            progress.step(&format!("{}: starting kubelet and kube-proxy ({})", node.name, proxy_mode.as_str()));
            host::share_mount(&paths.kubelet_root())?;
            let kubelet_args = config::kubelet_args(node, &paths);
            self.spawn_with(
                Enter::Nsenter,
                &format!("kubelet-{}", node.name),
                &node.name,
                &node.netns,
                &personality(&tc, "kubelet"),
                &kubelet_args,
                &[],
            )?;
            let proxy_args = vec![format!("--config={}", p(&paths.proxy_config())), "--v=1".to_owned()];
            self.spawn_with(
                Enter::Nsenter,
                &format!("kube-proxy-{}", node.name),
                &node.name,
                &node.netns,
                &personality(&tc, "kube-proxy"),
                &proxy_args,
                &[],
            )?;
        }

        progress.step("waiting for every Node to be Ready");
        self.wait_nodes_ready(READY_TIMEOUT).await?;
        progress.step("waiting for the default ServiceAccount (kube-controller-manager)");
        self.wait_for(Duration::from_secs(60), "the default ServiceAccount", |lab| {
            lab.kubectl(&["get", "serviceaccount", "default", "-n", "default", "-o", "name"]).is_ok()
        })
        .await?;
        Ok(())
    }

    /// Polls `check` until it holds, or fails after `timeout` naming `what` (and the first
    /// lab process that died, if one did).
    pub(crate) async fn wait_for(&self, timeout: Duration, what: &str, check: impl Fn(&Lab) -> bool) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if check(self) {
                return Ok(());
            }
            self.check_daemons()?;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(Error::Failed(format!("{what}: not there after {}s", timeout.as_secs())))
    }

    /// Waits until every node of the plan has a Ready Node object; on timeout, names the nodes
    /// that are not and quotes their kubelet's log.
    pub async fn wait_nodes_ready(&self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let not_ready = self.nodes_not_ready();
            if not_ready.is_empty() {
                return Ok(());
            }
            self.check_daemons()?;
            if start.elapsed() > timeout {
                let mut msg = format!("Nodes not Ready after {}s: {}", timeout.as_secs(), not_ready.join(", "));
                for n in &not_ready {
                    if let Some(d) = self.record.daemons.iter().find(|d| d.name == format!("kubelet-{n}")) {
                        msg.push_str(&format!(
                            "\nthe end of kubelet-{n}'s log ({}):\n{}",
                            d.log.display(),
                            d.log_tail(15)
                        ));
                    }
                }
                return Err(Error::Failed(msg));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The plan's nodes whose Node object is missing or not Ready.
    fn nodes_not_ready(&self) -> Vec<String> {
        let out = self
            .kubectl(&[
                "get",
                "nodes",
                "-o",
                r#"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
            ])
            .unwrap_or_default();
        let ready: Vec<&str> = out.lines().filter_map(|l| l.strip_suffix("=True")).collect();
        self.plan.nodes().filter(|n| !ready.contains(&n.name.as_str())).map(|n| n.name.clone()).collect()
    }

    /// Installs FerroLB from config/default (namespace, CRDs, RBAC, controller Deployment and
    /// PodDisruptionBudget, speaker DaemonSet) with the lab's images, and waits until the
    /// controller is available and a speaker runs on every node.
    pub(crate) async fn install_ferrolb(&mut self, progress: &Progress) -> Result<()> {
        if !install::manifests_present() {
            progress.step("config/ has no default kustomization yet: FerroLB not installed");
            return Ok(());
        }
        progress.step("creating the member key Secret ferrolb-memberlist");
        self.apply(&crate::layer2::memberlist_secret(&crate::layer2::random_key()?))?;
        progress.step("installing FerroLB from config/default (controller Deployment, speaker DaemonSet)");
        let dir = install::dir(self.state.path());
        fs::create_dir_all(&dir).map_err(Error::io(format!("creating {}", dir.display())))?;
        fs::write(dir.join("kustomization.yaml"), install::kustomization(&dir))
            .map_err(Error::io("writing the install kustomization"))?;
        // Server-side, as docs/install.md says and as the lab applied the CRDs already (the
        // same field manager, so the second apply of the CRDs changes nothing).
        self.kubectl(&["apply", "--server-side", "--force-conflicts", "-k", &dir.to_string_lossy()])?;
        progress.step("waiting for the controller and the speakers to be ready");
        self.kubectl(&["rollout", "status", "-n", "ferrolb-system", "deployment/ferrolb-controller", "--timeout=120s"])
            .map_err(|e| Error::Failed(format!("ferrolb-controller did not become available: {e}")))?;
        self.kubectl(&["rollout", "status", "-n", "ferrolb-system", "daemonset/ferrolb-speaker", "--timeout=120s"])
            .map_err(|e| Error::Failed(format!("ferrolb-speaker did not run on every node: {e}")))?;
        Ok(())
    }

    /// MetalLB's build directory when the lab runs MetalLB.
    fn metallb_build(&self) -> Result<Option<PathBuf>> {
        if self.record.lb == crate::state::Lb::Metallb { crate::metallb::build_dir().map(Some) } else { Ok(None) }
    }

    /// Rebuilds the images from the current binaries and imports them into every node again
    /// (pods pick them up when restarted, e.g. `kubectl rollout restart`).
    pub fn reimport_images(&self) -> Result<Vec<PathBuf>> {
        let bindir = crate::lab::lab_binary()?.parent().map(Path::to_path_buf).unwrap_or_default();
        let archives = images::build(&self.state.path().join("images"), &bindir, self.metallb_build()?.as_deref())?;
        self.import_images(&archives)?;
        Ok(archives)
    }

    /// Imports image archives (e.g. `make images`' release images) into every node.
    pub fn import_images(&self, archives: &[PathBuf]) -> Result<()> {
        for node in self.plan.nodes() {
            images::import(&NodePaths::new(self.state.path(), &node.name).containerd_socket(), archives)?;
        }
        Ok(())
    }

    /// The images a node's containerd holds.
    pub fn node_images(&self, node: &str) -> Result<Vec<String>> {
        images::list(&NodePaths::new(self.state.path(), node).containerd_socket())
    }

    /// The echo manifests (see [`install::echo`]).
    pub fn echo_manifest(namespace: &str, name: &str, replicas: u32, service: &str) -> String {
        install::echo(namespace, name, replicas, service)
    }
}
