//! Building, using and removing a lab. `Lab::up` builds the plan's namespaces and starts
//! the control plane, the router and the nodes: stand-ins (light nodes) or containerd, kubelet
//! and kube-proxy with FerroLB installed as pods (real nodes, see [`crate::realnodes`]); the
//! handle's Drop removes everything again, even when a test panics.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::unistd::Uid;

use crate::backends::{self, Backend};
use crate::cluster;
use crate::cmd;
use crate::error::{Error, Result};
use crate::plan::{LabName, Plan, Role, SERVICE_CIDRS, STANDIN_PORT};
use crate::process::{self, Daemon};
use crate::realnodes::{
    self,
    config::{NodesKind, ProxyMode},
};
use crate::router::{self, Family, Route, RouterKind};
use crate::state::{Lb, Mode, Record, StateDir};
use crate::teardown::{DownReport, down, existing_namespaces};

/// What lab to build.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The lab's name, the prefix of everything it creates.
    pub name: String,
    /// Number of nodes.
    pub nodes: u8,
    /// Announcement mode the lab is prepared for.
    pub mode: Mode,
    /// Router daemon.
    pub router: RouterKind,
    /// Start the load balancer's controller and speakers (FerroLB's when their binaries are built).
    pub ferrolb: bool,
    /// Which load balancer: FerroLB, or MetalLB for the side-by-side benchmark.
    pub lb: Lb,
    /// How many controller replicas to run (they elect a leader).
    pub controllers: u8,
    /// Light nodes (stand-ins) or real ones (containerd, kubelet, kube-proxy, pods).
    pub nodes_kind: NodesKind,
    /// kube-proxy's mode on real nodes.
    pub proxy_mode: ProxyMode,
    /// Print progress lines on stderr.
    pub verbose: bool,
    /// Extra arguments for every speaker, e.g. `--gratuitous-refresh=2s`.
    pub speaker_args: Vec<String>,
    /// MetalLB only: a memberlist configuration (the JSON of its `metallb-memberlist-config`
    /// ConfigMap) for every speaker; None: memberlist's defaults.
    pub metallb_memberlist: Option<String>,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            name: "demo".into(),
            nodes: 3,
            mode: Mode::L2,
            router: RouterKind::Frr,
            ferrolb: true,
            lb: Lb::Ferrolb,
            controllers: 1,
            nodes_kind: NodesKind::Light,
            proxy_mode: ProxyMode::Iptables,
            verbose: true,
            speaker_args: Vec::new(),
            metallb_memberlist: None,
        }
    }
}

impl LabOptions {
    /// Options for a test: a name unique to this process and call, so labs of parallel
    /// tests (and of parallel test runs) never collide.
    pub fn for_test() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        Self { name, ..Self::default() }
    }
}

/// A running lab. Dropping it tears the lab down unless it was detached.
pub struct Lab {
    pub(crate) plan: Plan,
    pub(crate) state: StateDir,
    pub(crate) record: Record,
    client: Option<kube::Client>,
    keep: bool,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("name", &self.name()).field("state", &self.state).field("keep", &self.keep).finish()
    }
}

pub(crate) struct Progress {
    start: Instant,
    verbose: bool,
}

impl Progress {
    pub(crate) fn step(&self, msg: &str) {
        if self.verbose {
            eprintln!("[{:5.1}s] {msg}", self.start.elapsed().as_secs_f64());
        }
    }
}

/// Fails unless the process runs as root.
pub fn require_root() -> Result<()> {
    if Uid::effective().is_root() { Ok(()) } else { Err(Error::NotRoot) }
}

/// Tools `up` needs for a given router.
fn needed_tools(router: RouterKind) -> Vec<(&'static str, &'static str)> {
    let mut tools = vec![("ip", "iproute2"), ("sysctl", "procps"), ("curl", "curl")];
    match router {
        RouterKind::Frr => tools.extend([
            ("/usr/lib/frr/zebra", "frr"),
            ("/usr/lib/frr/bgpd", "frr"),
            ("/usr/lib/frr/bfdd", "frr"),
            ("vtysh", "frr"),
        ]),
        RouterKind::Bird => tools.extend([("bird", "bird2"), ("birdc", "bird2")]),
    }
    tools
}

/// The ferrolb-lab binary (which also serves as the nodes' stand-in web server).
pub(crate) fn lab_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(Error::io("locating the running program"))?;
    if exe.file_name().is_some_and(|n| n == "ferrolb-lab") {
        return Ok(exe);
    }
    // Other binaries of the workspace sit beside it; a test binary one level down, in deps/.
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    [dir.join("ferrolb-lab"), dir.parent().map(|d| d.join("ferrolb-lab")).unwrap_or_default()]
        .into_iter()
        .find(|c| c.is_file())
        .ok_or_else(|| {
            Error::Failed(
                "cannot find the ferrolb-lab binary next to this program: build it with `cargo build -p ferrolb-lab`"
                    .into(),
            )
        })
}

impl Lab {
    /// Builds and starts a lab. On failure, whatever was built is removed again.
    pub async fn up(opts: LabOptions) -> Result<Lab> {
        require_root()?;
        for (tool, package) in needed_tools(opts.router) {
            if cmd::which(tool).is_none() {
                return Err(Error::ToolMissing { tool: tool.to_owned(), package });
            }
        }
        let plan = Plan::new(LabName::new(&opts.name)?, opts.nodes)?;
        let real = opts.nodes_kind == NodesKind::Real;
        if real {
            realnodes::preflight(opts.nodes, opts.proxy_mode)?;
        }
        let state = StateDir::of(plan.name.as_str());
        let existing = existing_namespaces();
        if state.path().exists() || plan.namespaces().iter().any(|ns| existing.contains(ns)) {
            return Err(Error::NameInUse(opts.name.clone()));
        }
        let progress = Progress { start: Instant::now(), verbose: opts.verbose };
        progress.step("finding the testcluster (kube-apiserver + etcd + kubectl)");
        let testcluster = tokio::task::spawn_blocking(cluster::testcluster_binary)
            .await
            .map_err(|e| Error::Failed(format!("testcluster build task: {e}")))??;
        let standin = lab_binary()?;

        state.create()?;
        let record = Record {
            name: opts.name.clone(),
            nodes: opts.nodes,
            mode: opts.mode,
            router: opts.router,
            ferrolb: opts.ferrolb,
            lb: opts.lb,
            controllers: opts.controllers,
            testcluster,
            nodes_kind: opts.nodes_kind,
            proxy_mode: opts.proxy_mode,
            speaker_args: opts.speaker_args.clone(),
            daemons: Vec::new(),
        };
        state.write(&record)?;
        // From here on, an error drops `lab`, which tears down what was built.
        let mut lab = Lab { plan, state, record, client: None, keep: false };

        progress.step(&format!("creating {} namespaces and links", lab.plan.namespaces().len()));
        lab.build_network()?;

        progress.step("starting kube-apiserver and etcd in cp");
        let cp = lab.plan.host("cp").map(|h| h.netns.clone()).unwrap_or_default();
        let cluster_dir = lab.state.cluster();
        let args = vec![
            "serve".to_owned(),
            "--state-dir".to_owned(),
            cluster_dir.to_string_lossy().into_owned(),
            "--bind-address".to_owned(),
            lab.plan.apiserver().to_string(),
            "--host-netns".to_owned(),
            format!("/proc/{}/ns/net", std::process::id()),
            "--service-cluster-ip-range".to_owned(),
            SERVICE_CIDRS.to_owned(),
        ];
        let tc = lab.record.testcluster.clone();
        let apiserver = lab.spawn("apiserver", "cp", &cp, &tc, &args, &[])?;

        progress.step(&format!("starting the router ({:?})", lab.record.router));
        lab.start_router()?;

        let nodes: Vec<(String, String)> = lab.plan.nodes().map(|h| (h.name.clone(), h.netns.clone())).collect();
        if !real {
            progress.step("starting the kube-proxy stand-ins on the nodes");
            for (name, netns) in &nodes {
                let args = vec!["serve-name".to_owned(), name.clone(), "--port".to_owned(), STANDIN_PORT.to_string()];
                lab.spawn(&format!("standin-{name}"), name, netns, &standin, &args, &[])?;
            }
        }

        progress.step("waiting for the apiserver to be ready");
        let ready_dir = cluster_dir.clone();
        tokio::task::spawn_blocking(move || cluster::wait_ready(&apiserver, &ready_dir, Duration::from_secs(180)))
            .await
            .map_err(|e| Error::Failed(format!("readiness task: {e}")))??;
        let client = cluster::client(&lab.state.kubeconfig()).await?;
        if !real {
            progress.step(&format!("registering {} Node objects", nodes.len()));
            for host in lab.plan.nodes() {
                cluster::register_node(&client, host).await?;
            }
        }
        lab.client = Some(client);
        if cluster::crd_dir().is_some() && lab.record.lb == Lb::Ferrolb {
            progress.step("installing FerroLB's CRDs (config/crd)");
            lab.install_crds()?;
        }

        if real {
            lab.start_real_nodes(&standin, &progress).await?;
            match (lab.record.ferrolb, lab.record.lb) {
                (false, _) => {}
                (true, Lb::Ferrolb) => lab.install_ferrolb(&progress).await?,
                (true, Lb::Metallb) => lab.install_metallb_pods(opts.metallb_memberlist.as_deref(), &progress)?,
            }
        } else if lab.record.lb == Lb::Metallb {
            if lab.record.ferrolb {
                lab.start_metallb(opts.metallb_memberlist.as_deref(), &progress).await?;
            }
        } else {
            lab.start_ferrolb(&standin, &progress)?;
        }
        lab.check_daemons()?;
        progress.step("lab is up");
        Ok(lab)
    }

    /// Re-attaches to a running lab by name (for `kubectl`, `exec`, `backends`, `status`).
    pub async fn attach(name: &str) -> Result<Lab> {
        let state = StateDir::of(LabName::new(name)?.as_str());
        let record = state.read().ok_or_else(|| Error::NoSuchLab(name.to_owned()))?;
        let plan = Plan::new(LabName::new(&record.name)?, record.nodes)?;
        Ok(Lab { plan, state, record, client: None, keep: true })
    }

    /// Keeps the lab running after this handle is dropped (what `ferrolb-lab up` does).
    pub fn detach(mut self) {
        self.keep = true;
    }

    /// The plan the lab was built from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The lab's name.
    pub fn name(&self) -> &str {
        self.plan.name.as_str()
    }

    /// The lab's record: options and processes.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Kubeconfig for use from the machine's root namespace.
    pub fn kubeconfig(&self) -> PathBuf {
        self.state.kubeconfig()
    }

    /// Kubeconfig for use from inside the lab's namespaces.
    pub fn kubeconfig_in_lab(&self) -> PathBuf {
        self.state.kubeconfig_in_lab()
    }

    /// The lab's state directory.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// A client for the lab's apiserver.
    pub async fn client(&mut self) -> Result<kube::Client> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let c = cluster::client(&self.state.kubeconfig()).await?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// The matching kubectl binary.
    pub fn kubectl_binary(&self) -> PathBuf {
        cluster::kubectl_binary(&self.record.testcluster)
    }

    /// Runs kubectl against the lab from the root namespace; returns its stdout.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        cluster::kubectl(&self.record.testcluster, &self.state.kubeconfig(), args, "")
    }

    /// Runs kubectl against the lab with `input` on its stdin (`-f -`); returns its stdout.
    pub fn kubectl_input(&self, args: &[&str], input: &str) -> Result<String> {
        cluster::kubectl(&self.record.testcluster, &self.state.kubeconfig(), args, input)
    }

    /// `kubectl apply -f -` with `yaml`; returns kubectl's output, or an error carrying what
    /// the apiserver answered (e.g. a CEL rule's message).
    pub fn apply(&self, yaml: &str) -> Result<String> {
        cluster::kubectl(&self.record.testcluster, &self.state.kubeconfig(), &["apply", "-f", "-"], yaml)
    }

    /// A kubeconfig (for use inside the lab) that authenticates as a ServiceAccount, with a
    /// token from the TokenRequest API, valid for a day.
    pub fn service_account_kubeconfig(&self, namespace: &str, name: &str) -> Result<PathBuf> {
        let token = self.kubectl(&["create", "token", name, "-n", namespace, "--duration=24h"])?;
        let path = self.state.cluster().join(format!("kubeconfig-{namespace}-{name}"));
        let ca = self.state.cluster().join("pki/ca.crt");
        let server = format!("https://{}:{}", self.plan.apiserver(), crate::plan::APISERVER_PORT);
        cluster::write_token_kubeconfig(&path, &server, &ca, token.trim())?;
        Ok(path)
    }

    /// Waits until the apiserver serves every FerroLB CRD (label app.kubernetes.io/part-of=ferrolb).
    pub fn wait_crds_established(&self) -> Result<()> {
        self.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd",
            "-l",
            "app.kubernetes.io/part-of=ferrolb",
        ])?;
        Ok(())
    }

    /// Installs FerroLB's CRDs (config/crd) and waits until the apiserver serves them.
    pub fn install_crds(&self) -> Result<()> {
        let dir = cluster::crd_dir().ok_or_else(|| Error::Failed("this repository has no config/crd yet".into()))?;
        self.kubectl(&["apply", "--server-side", "--force-conflicts", "-k", &dir.to_string_lossy()])?;
        self.wait_crds_established()?;
        // FerroLB's own namespace, where it looks for Secrets named without a namespace.
        self.apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ferrolb-system\n")?;
        Ok(())
    }

    /// The network namespace of a host.
    pub fn netns(&self, host: &str) -> Result<&str> {
        self.plan
            .host(host)
            .map(|h| h.netns.as_str())
            .ok_or_else(|| Error::Failed(format!("lab {} has no host {host}", self.name())))
    }

    /// Runs a command in a host and returns how it ended, whatever that was.
    pub fn exec(&self, host: &str, command: &[&str]) -> Result<Output> {
        let netns = self.netns(host)?;
        std::process::Command::new("ip")
            .args(["netns", "exec", netns])
            .args(command)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(Error::io(format!("running {command:?} in {host}")))
    }

    /// Runs a command in a host; fails unless it exits 0; returns stdout.
    pub fn exec_ok(&self, host: &str, command: &[&str]) -> Result<String> {
        let netns = self.netns(host)?.to_owned();
        let (program, args) = command.split_first().ok_or_else(|| Error::Failed("empty command".into()))?;
        cmd::run_in(&netns, program, args)
    }

    /// Fetches `url` with curl from a host (3 s limit); returns the body.
    pub fn curl(&self, host: &str, url: &str) -> Result<String> {
        self.exec_ok(host, &["curl", "-sS", "--max-time", "3", "-g", url])
    }

    /// Starts `ferrolb-lab load` in a host: `rate` fresh HTTP requests per second to `url` until
    /// [`crate::load::LoadRun::stop`].
    pub fn start_load(&self, host: &str, url: &str, rate: u32) -> Result<crate::load::LoadRun> {
        crate::load::LoadRun::spawn(&lab_binary()?, self.netns(host)?, url, rate)
    }

    /// Holds one request to `url` open from a host (see [`crate::load::held`]).
    pub fn hold_request(&self, host: &str, url: &str) -> Result<crate::load::held::HeldRequest> {
        crate::load::held::HeldRequest::spawn(&lab_binary()?, self.netns(host)?, url)
    }

    /// The router's RIB for one family, from FRR or BIRD.
    pub fn router_routes(&self, family: Family) -> Result<Vec<Route>> {
        router::routes(&self.plan, self.record.router, &self.state.bird_socket(), family)
    }

    /// A one-line summary of the router's BGP sessions.
    pub fn router_sessions(&self) -> Result<String> {
        router::session_summary(&self.plan, self.record.router, &self.state.bird_socket())
    }

    /// Writes the EndpointSlices for `namespace/service` with backends on these nodes.
    pub async fn backends(&mut self, namespace: &str, service: &str, backends: &[Backend]) -> Result<Vec<String>> {
        let client = self.client().await?;
        backends::apply(&client, &self.plan, namespace, service, backends).await
    }

    /// Starts a lab process again (after a test killed it), as it was first started. For the
    /// `apiserver`, returns once it is ready again; clients made before point at the old process's
    /// forwarded port, so get a new one from [`Lab::client`].
    pub fn restart(&mut self, name: &str) -> Result<Daemon> {
        let old = self
            .record
            .daemons
            .iter()
            .find(|d| d.name == name)
            .cloned()
            .ok_or_else(|| Error::Failed(format!("lab {} has no process {name}", self.name())))?;
        process::stop(&old, Duration::from_secs(3));
        if name == "apiserver" {
            // Its ready marker is written again once the new process answers.
            let _ = std::fs::remove_file(self.state.cluster().join("ready"));
        }
        let env: Vec<(&str, String)> = old.env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let enter = if old.nsenter { process::Enter::Nsenter } else { process::Enter::IpNetns };
        let new =
            process::spawn_with(enter, &old.name, &old.host, &old.netns, &old.program, &old.args, &env, &old.log)?;
        for d in &mut self.record.daemons {
            if d.name == name {
                *d = new.clone();
            }
        }
        self.state.write(&self.record)?;
        if name == "apiserver" {
            // The restarted testcluster forwards the host's port anew (another one) and rewrites
            // the kubeconfig: wait for it, and build the next client from the new file.
            self.client = None;
            cluster::wait_ready(&new, &self.state.cluster(), Duration::from_secs(60))?;
        }
        Ok(new)
    }

    /// Fails if a process the lab started has died, naming it and quoting its log.
    pub fn check_daemons(&self) -> Result<()> {
        match self.record.daemons.iter().find(|d| !d.alive()) {
            Some(d) => Err(d.died()),
            None => Ok(()),
        }
    }

    /// Removes the lab now (Drop would too).
    pub fn down(mut self) -> Result<DownReport> {
        self.keep = true;
        down(self.name())
    }

    pub(crate) fn spawn(
        &mut self,
        name: &str,
        host: &str,
        netns: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
    ) -> Result<Daemon> {
        self.spawn_with(process::Enter::IpNetns, name, host, netns, program, args, env)
    }

    /// Starts a lab process, entering its namespace the given way, and records it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn spawn_with(
        &mut self,
        enter: process::Enter,
        name: &str,
        host: &str,
        netns: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
    ) -> Result<Daemon> {
        let log = self.state.logs().join(format!("{name}.log"));
        let d = process::spawn_with(enter, name, host, netns, program, args, env, &log)?;
        self.record.daemons.push(d.clone());
        self.state.write(&self.record)?;
        Ok(d)
    }

    fn build_network(&self) -> Result<()> {
        for ns in self.plan.namespaces() {
            cmd::run("ip", &["netns", "add", &ns])?;
        }
        cmd::ip_batch(&self.plan.bridge_netns(), &self.plan.bridge_batch())?;
        let router_ns = self.netns("router")?;
        cmd::ip_batch(router_ns, &self.plan.router_link_batch())?;
        for host in &self.plan.hosts {
            let sysctls = self.plan.host_sysctls(host);
            let mut args = vec!["-qw"];
            args.extend(sysctls);
            cmd::run_in(&host.netns, "sysctl", &args)?;
            let mut batch = self.plan.host_batch(host);
            if self.record.nodes_kind == NodesKind::Real && host.role != Role::Client {
                // kube-proxy accepts LB traffic, not local routes; every host of the segment
                // reaches a node's pods through that node.
                batch.retain(|l| !l.starts_with("route add local "));
                batch.extend(realnodes::config::pod_routes(&self.plan, host));
            }
            cmd::ip_batch(&host.netns, &batch)?;
        }
        Ok(())
    }

    fn start_ferrolb(&mut self, lab_binary: &Path, progress: &Progress) -> Result<()> {
        if !self.record.ferrolb {
            progress.step("FerroLB not started (--no-ferrolb)");
            return Ok(());
        }
        let dir = lab_binary.parent().map(Path::to_path_buf).unwrap_or_default();
        let controller = dir.join("ferrolb-controller");
        let speaker = dir.join("ferrolb-speaker");
        if controller.is_file() {
            // With its own ServiceAccount and RBAC (config/rbac) when the repository has them,
            // so that every test that runs the controller also checks its permissions.
            let controller_kubeconfig = match cluster::rbac_dir() {
                Some(rbac) => {
                    progress.step("applying FerroLB's RBAC (config/rbac)");
                    self.kubectl(&["apply", "-k", &rbac.to_string_lossy()])?;
                    self.service_account_kubeconfig("ferrolb-system", "ferrolb-controller")?
                }
                None => self.state.kubeconfig_in_lab(),
            };
            let cp = self.netns("cp")?.to_owned();
            for i in 1..=self.record.controllers.max(1) {
                progress.step(&format!("starting ferrolb-controller replica {i} in cp"));
                let name = if i == 1 { "ferrolb-controller".to_owned() } else { format!("ferrolb-controller-{i}") };
                let env = [
                    ("KUBECONFIG", controller_kubeconfig.to_string_lossy().into_owned()),
                    ("POD_NAMESPACE", "ferrolb-system".to_owned()),
                    ("POD_NAME", name.clone()),
                ];
                // Replicas share the cp namespace, so each needs its own metrics port.
                let args = vec!["--metrics-addr".to_owned(), format!("0.0.0.0:{}", 7471 + u16::from(i))];
                self.spawn(&name, "cp", &cp, &controller, &args, &env)?;
            }
        } else {
            progress.step(&format!(
                "ferrolb-controller is not built yet ({} missing): running without it",
                controller.display()
            ));
        }
        if speaker.is_file() {
            // Its own ServiceAccount too (config/rbac/speaker.yaml), and the member key every
            // speaker authenticates its heartbeats with, as a user would create it.
            let speaker_kubeconfig = match cluster::rbac_dir() {
                Some(_) => self.service_account_kubeconfig("ferrolb-system", "ferrolb-speaker")?,
                None => self.state.kubeconfig_in_lab(),
            };
            progress.step("creating the member key Secret ferrolb-memberlist");
            self.apply(&crate::layer2::memberlist_secret(&crate::layer2::random_key()?))?;
            progress.step("starting ferrolb-speaker on every node");
            let nodes: Vec<(String, String)> = self.plan.nodes().map(|h| (h.name.clone(), h.netns.clone())).collect();
            let args = self.record.speaker_args.clone();
            for (name, netns) in nodes {
                let env = [
                    ("KUBECONFIG", speaker_kubeconfig.to_string_lossy().into_owned()),
                    ("FERROLB_NODE_NAME", name.clone()),
                    ("POD_NAMESPACE", "ferrolb-system".to_owned()),
                ];
                self.spawn(&format!("ferrolb-speaker-{name}"), &name, &netns, &speaker, &args, &env)?;
            }
        } else {
            progress
                .step(&format!("ferrolb-speaker is not built yet ({} missing): running without it", speaker.display()));
        }
        Ok(())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.keep
            && let Err(e) = down(self.name())
        {
            eprintln!("ferrolb-lab: tearing down {} failed: {e}", self.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_unique_and_valid() {
        let a = LabOptions::for_test().name;
        let b = LabOptions::for_test().name;
        assert_ne!(a, b);
        assert!(LabName::new(&a).is_ok());
    }
}
