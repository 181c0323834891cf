//! `ferrolb-lab`: bring FerroLB's lab up, use it, and take it down.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ferrolb_lab::{Backend, Health, Lab, LabOptions, Lb, Mode, NodesKind, ProxyMode, RouterKind, all_labs, down, load};

/// FerroLB's lab: a real Kubernetes control plane and a routed network of namespaces.
#[derive(Parser)]
#[command(name = "ferrolb-lab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a lab and leave it running.
    Up {
        /// Lab name: the prefix of its namespaces, so that several labs can coexist.
        #[arg(long, default_value = "demo")]
        name: String,
        /// Number of nodes.
        #[arg(long, default_value_t = 3)]
        nodes: u8,
        /// Announcement mode the lab is prepared for.
        #[arg(long, value_enum, default_value_t = Mode::L2)]
        mode: Mode,
        /// Router daemon.
        #[arg(long, value_enum, default_value_t = RouterKind::Frr)]
        router: RouterKind,
        /// Do not start the load balancer's controller and speakers (FerroLB's: even if they are built).
        #[arg(long)]
        no_ferrolb: bool,
        /// Which load balancer to run: FerroLB, or MetalLB (native mode, light nodes; built once
        /// by scripts/build-metallb) for comparing the two.
        #[arg(long, value_enum, default_value_t = Lb::Ferrolb)]
        lb: Lb,
        /// Controller replicas (they elect a leader; light nodes).
        #[arg(long, default_value_t = 1)]
        controllers: u8,
        /// Light nodes (stand-ins, fast) or real ones (containerd, kubelet, kube-proxy, pods;
        /// FerroLB installed from config/ as pods).
        #[arg(long, value_enum, default_value_t = NodesKind::Light)]
        nodes_kind: NodesKind,
        /// kube-proxy's mode on real nodes.
        #[arg(long, value_enum, default_value_t = ProxyMode::Iptables)]
        proxy_mode: ProxyMode,
    },
    /// Stop a lab's processes and remove its namespaces, links and state.
    Down {
        /// The lab to remove.
        #[arg(long, default_value = "demo", conflicts_with = "all")]
        name: String,
        /// Remove every lab, including what crashed runs left behind.
        #[arg(long)]
        all: bool,
    },
    /// Show labs, their hosts, processes and health.
    Status {
        /// Only this lab.
        #[arg(long)]
        name: Option<String>,
    },
    /// Run the lab's kubectl (same release as its apiserver).
    Kubectl {
        /// The lab.
        #[arg(long, default_value = "demo")]
        name: String,
        /// kubectl's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a command in a lab host: cp, node1.., router, client, l2client.
    Exec {
        /// The lab.
        #[arg(long, default_value = "demo")]
        name: String,
        /// The host.
        host: String,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Write the EndpointSlices of a Service as if its pods ran on these nodes.
    Backends {
        /// The lab.
        #[arg(long, default_value = "demo")]
        name: String,
        /// NAMESPACE/SERVICE.
        service: String,
        /// Nodes with a backend: node1, node2:not-ready, node3:terminating. None: no backends.
        nodes: Vec<Backend>,
    },
    /// Rebuild the images (real nodes) from the binaries built now and import them into every
    /// node again; restart pods to use them (`kubectl rollout restart -n ferrolb-system ...`).
    Images {
        /// The lab.
        #[arg(long, default_value = "demo")]
        name: String,
    },
    /// Show the lab working: nodes from the apiserver and every node's stand-in from the client.
    Demo {
        /// The lab.
        #[arg(long, default_value = "demo")]
        name: String,
    },
    /// Send a fixed rate of fresh HTTP requests (each on a new connection) until the time is up
    /// or SIGINT/SIGTERM, then print the failures, the longest gap and the latencies as JSON.
    /// Run it in a lab host: `ferrolb-lab exec l2client -- ferrolb-lab load --url http://IP/`.
    Load {
        /// `http://ADDRESS[:PORT]/PATH` (IPv6 in brackets).
        #[arg(long)]
        url: String,
        /// Requests started per second.
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// Longest run, in seconds.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// A request not answered within this many milliseconds failed.
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
    /// Hold one request open: connect, send the request head without its final blank line, print
    /// `held`, wait for a line on stdin, send the rest and print the answer's body (exit 1 and say
    /// why when there is none). Shows whether a connection survives an operation.
    Hold {
        /// `http://ADDRESS[:PORT]/PATH` (IPv6 in brackets).
        #[arg(long)]
        url: String,
    },
    /// (internal) The kube-proxy stand-in's web server, run on each node.
    #[command(hide = true)]
    ServeName {
        /// The name to answer with.
        node: String,
        /// Port to listen on.
        #[arg(long, default_value_t = 80)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ferrolb-lab: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Completes at the first SIGINT or SIGTERM (never, if they cannot be watched).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

async fn run(command: Command) -> ferrolb_lab::Result<ExitCode> {
    match command {
        Command::Up { name, nodes, mode, router, no_ferrolb, lb, controllers, nodes_kind, proxy_mode } => {
            let opts = LabOptions {
                name,
                nodes,
                mode,
                router,
                ferrolb: !no_ferrolb,
                lb,
                controllers,
                nodes_kind,
                proxy_mode,
                verbose: true,
                speaker_args: Vec::new(),
                metallb_memberlist: None,
            };
            let lab = Lab::up(opts).await?;
            print_summary(&lab);
            lab.detach();
        }
        Command::Down { name, all } => {
            let names = if all { all_labs() } else { vec![name] };
            for name in names {
                let r = down(&name)?;
                println!(
                    "lab {name}: stopped {} processes, removed {} namespaces{}",
                    r.processes,
                    r.namespaces.len(),
                    if r.state { " and its state" } else { "" }
                );
                if r.cgroups + r.mounts > 0 {
                    println!("lab {name}: removed {} node cgroup roots and {} mounts", r.cgroups, r.mounts);
                }
                if !r.sysctls.is_empty() {
                    println!("restored the kernel settings kubelet changed: {}", r.sysctls.join(" "));
                }
            }
        }
        Command::Status { name } => {
            let names = name.map(|n| vec![n]).unwrap_or_else(all_labs);
            if names.is_empty() {
                println!("no labs");
            }
            for name in names {
                status(&name).await;
            }
        }
        Command::Kubectl { name, args } => {
            let lab = Lab::attach(&name).await?;
            return passthrough(
                std::process::Command::new(lab.kubectl_binary()).arg("--kubeconfig").arg(lab.kubeconfig()).args(args),
            );
        }
        Command::Exec { name, host, command } => {
            let lab = Lab::attach(&name).await?;
            let netns = lab.netns(&host)?.to_owned();
            return passthrough(std::process::Command::new("ip").args(["netns", "exec", &netns]).args(command));
        }
        Command::Backends { name, service, nodes } => {
            let (ns, svc) = service.split_once('/').ok_or_else(|| {
                ferrolb_lab::Error::Failed(format!("{service:?}: write the Service as NAMESPACE/NAME"))
            })?;
            let mut lab = Lab::attach(&name).await?;
            for slice in lab.backends(ns, svc, &nodes).await? {
                println!("endpointslice {ns}/{slice} written");
            }
        }
        Command::Images { name } => {
            let lab = Lab::attach(&name).await?;
            if lab.record().nodes_kind != NodesKind::Real {
                return Err(ferrolb_lab::Error::Failed(format!("lab {name} has light nodes: no images to import")));
            }
            for archive in lab.reimport_images()? {
                println!("imported {} into every node", archive.display());
            }
            for node in lab.plan().nodes() {
                println!("{}: {}", node.name, lab.node_images(&node.name)?.join(" "));
            }
        }
        Command::Demo { name } => return demo(&name).await,
        Command::Hold { url } => match load::held::run(&url) {
            Ok(body) => println!("{body}"),
            Err(why) => {
                eprintln!("{why}");
                std::process::exit(1);
            }
        },
        Command::Load { url, rate, seconds, timeout_ms } => {
            use std::time::Duration;
            let opts =
                load::LoadOptions::for_url(&url, rate, Duration::from_secs(seconds), Duration::from_millis(timeout_ms))
                    .map_err(ferrolb_lab::Error::Failed)?;
            let report = load::run(opts, stop_signal()).await;
            eprintln!("load: {}", report.summary());
            let json = serde_json::to_string(&report).map_err(|e| ferrolb_lab::Error::Failed(e.to_string()))?;
            println!("{json}");
        }
        Command::ServeName { node, port } => {
            ferrolb_lab::standin::serve(&node, port).map_err(ferrolb_lab::Error::io("serving the node name"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn passthrough(cmd: &mut std::process::Command) -> ferrolb_lab::Result<ExitCode> {
    let status = cmd.status().map_err(ferrolb_lab::Error::io("running the command"))?;
    Ok(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)))
}

fn print_summary(lab: &Lab) {
    let name = lab.name();
    let flag = if name == "demo" { String::new() } else { format!(" --name {name}") };
    println!("\nLab {name} is up ({:?} mode, {:?} router).", lab.record().mode, lab.record().router);
    println!("  kubeconfig:  export KUBECONFIG={}", lab.kubeconfig().display());
    println!("  kubectl:     {}", lab.kubectl_binary().display());
    println!("  hosts:");
    for h in &lab.plan().hosts {
        let addrs: Vec<String> = h.interfaces.iter().flat_map(|i| [i.v4.0.to_string(), i.v6.0.to_string()]).collect();
        println!("    {:<9} {:<22} {}", h.name, h.netns, addrs.join(", "));
    }
    let me = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "ferrolb-lab".into());
    println!("  try (ferrolb-lab is {me}):");
    println!("    ferrolb-lab kubectl{flag} -- get nodes -o wide");
    println!("    ferrolb-lab exec{flag} client -- curl -s http://198.51.100.11/");
    println!("    ferrolb-lab exec{flag} router -- vtysh -N flb-{name} -c 'show bgp summary'   (FRR)");
    println!("    ferrolb-lab status{flag}");
    println!("    ferrolb-lab down{flag}");
}

async fn status(name: &str) {
    let Ok(lab) = Lab::attach(name).await else {
        println!(
            "lab {name}: leftovers of a crashed run (no record); remove them with `ferrolb-lab down --name {name}`"
        );
        return;
    };
    let r = lab.record();
    println!(
        "lab {name}: {} nodes, {:?} mode, {:?} router, state in {}",
        r.nodes,
        r.mode,
        r.router,
        lab.state_dir().display()
    );
    let present = ferrolb_lab::teardown::existing_namespaces();
    for h in &lab.plan().hosts {
        let state = if present.contains(&h.netns) { "up" } else { "MISSING" };
        println!("  host {:<9} {:<24} {:<16} {state}", h.name, h.netns, h.v4());
    }
    for d in &r.daemons {
        println!("  {:<24} {:<9} pid {:<8} {}", d.name, d.host, d.pid, if d.alive() { "running" } else { "DEAD" });
    }
    match lab.kubectl(&["get", "--raw", "/readyz"]) {
        Ok(out) => println!("  apiserver: {}", out.trim()),
        Err(e) => println!("  apiserver: not ready: {e}"),
    }
    match lab.router_sessions() {
        Ok(s) => println!("  router: {s}"),
        Err(e) => println!("  router: {e}"),
    }
}

async fn demo(name: &str) -> ferrolb_lab::Result<ExitCode> {
    let mut lab = Lab::attach(name).await?;
    println!("$ kubectl get nodes -o wide");
    print!("{}", lab.kubectl(&["get", "nodes", "-o", "wide"])?);
    let mut failed = 0;
    let real = lab.record().nodes_kind == NodesKind::Real;
    if real {
        println!("\n$ kubectl get pods -n ferrolb-system -o wide");
        print!("{}", lab.kubectl(&["get", "pods", "-n", "ferrolb-system", "-o", "wide"])?);
    }
    // Light nodes: each node's stand-in answers with its name.
    for node in lab.plan().nodes().filter(|_| !real) {
        for addr in [node.v4().to_string(), format!("[{}]", node.v6())] {
            let url = format!("http://{addr}/");
            match lab.curl("client", &url) {
                Ok(body) => println!("client -> router -> {url:<28} answered: {}", body.trim()),
                Err(e) => {
                    failed += 1;
                    println!("client -> router -> {url:<28} FAILED: {e}");
                }
            }
        }
    }
    let sample = ferrolb_lab::cluster::repo_root().join(match lab.record().mode {
        Mode::L2 => "config/samples/layer2.yaml",
        Mode::Bgp => "config/samples/bgp.yaml",
    });
    if sample.is_file() {
        let path = sample.to_string_lossy();
        println!("\n$ kubectl apply -f {path}");
        print!("{}", lab.kubectl(&["apply", "-f", &path])?);
        // Give the controller a moment to judge the objects.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        println!("$ kubectl get ferrolb");
        print!("{}", lab.kubectl(&["get", "ferrolb"])?);
        if real {
            println!(
                "\n$ kubectl apply -f - <<< 'an echo Deployment web (3 pods) and a Service web of type LoadBalancer'"
            );
            print!("{}", lab.apply(&Lab::echo_manifest("default", "web", 3, "ipFamilyPolicy: SingleStack"))?);
            print!("{}", lab.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"])?);
            print!("{}", lab.kubectl(&["get", "pods", "-l", "app=web", "-o", "wide"])?);
        } else {
            let web = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n\
                       spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n";
            println!("\n$ kubectl apply -f - <<< 'a Service web of type LoadBalancer'");
            print!("{}", lab.apply(web)?);
            lab.backends(
                "default",
                "web",
                &lab.plan()
                    .nodes()
                    .map(|n| Backend { node: n.name.clone(), health: Health::Ready })
                    .collect::<Vec<_>>(),
            )
            .await?;
        }
        // The controller answers in milliseconds; give a just-started one a few seconds.
        for _ in 0..50 {
            if !lab.kubectl(&["get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress}"])?.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        println!("$ kubectl get svc web");
        print!("{}", lab.kubectl(&["get", "svc", "web"])?);
        let ip = lab.kubectl(&["get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"])?;
        if !ip.is_empty() {
            // Layer2: a host on the node segment; BGP: the client, through the router.
            let (from, how) = match lab.record().mode {
                Mode::L2 => ("l2client", "the node that answers ARP for it"),
                Mode::Bgp => ("client", "the router's ECMP route"),
            };
            let url = format!("http://{ip}/");
            let mut answer = Err(ferrolb_lab::Error::Failed("no answer".into()));
            for _ in 0..50 {
                answer = lab.curl(from, &url);
                if answer.is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            match answer {
                Ok(body) => println!("\n{from} -> {url} (via {how}) answered: {}", body.trim()),
                Err(e) => {
                    failed += 1;
                    println!("\n{from} -> {url} FAILED: {e}");
                }
            }
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
