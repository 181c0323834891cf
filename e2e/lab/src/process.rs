//! The lab's long-running processes: started inside a namespace with their output in a
//! log file, recorded by pid, stopped by pid, and swept by namespace after a crash.

use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::cmd;
use crate::error::{Error, Result};

/// A process the lab started and must stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Daemon {
    /// What it is: "apiserver", "zebra", "standin-node1", ...
    pub name: String,
    /// The host it runs in.
    pub host: String,
    /// Its process id.
    pub pid: i32,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
    /// How it was started (namespace, program, arguments, environment), to start it again.
    #[serde(default)]
    pub netns: String,
    /// The program.
    #[serde(default)]
    pub program: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Its extra environment.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Entered the namespace with `nsenter --net` (which keeps the machine's /sys and its
    /// cgroup mounts, as kubelet and containerd need) rather than `ip netns exec`.
    #[serde(default)]
    pub nsenter: bool,
}

impl Daemon {
    /// Whether the process still runs (a zombie does not count).
    pub fn alive(&self) -> bool {
        reap(self.pid);
        match fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
            // The state letter follows the command name in parentheses.
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    }

    /// The last lines of its log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Waits until `path` exists (a socket, a marker file); fails at once, quoting the log,
    /// if the process dies first, and after `timeout` otherwise.
    pub fn wait_for_file(&self, path: &Path, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if path.exists() {
                return Ok(());
            }
            if !self.alive() {
                return Err(self.died());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(Error::Failed(format!(
            "{} in {} did not create {} within {}s; the end of its log ({}):\n{}",
            self.name,
            self.host,
            path.display(),
            timeout.as_secs(),
            self.log.display(),
            self.log_tail(25)
        )))
    }

    /// An error saying that it died, with the end of its log.
    pub fn died(&self) -> Error {
        Error::Failed(format!(
            "{} in {} exited; the end of its log ({}):\n{}",
            self.name,
            self.host,
            self.log.display(),
            self.log_tail(25)
        ))
    }
}

/// How a process enters its network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enter {
    /// `ip netns exec`: also remounts /sys for the namespace (routers, speakers, stand-ins).
    IpNetns,
    /// `nsenter --net=/run/netns/NAME`: the network namespace only (kubelet, containerd).
    Nsenter,
}

/// Starts `program` inside `netns`, detached from the caller's terminal and process group,
/// with stdin closed and stdout/stderr appended to `log`.
pub fn spawn(
    name: &str,
    host: &str,
    netns: &str,
    program: &Path,
    args: &[String],
    env: &[(&str, String)],
    log: &Path,
) -> Result<Daemon> {
    spawn_with(Enter::IpNetns, name, host, netns, program, args, env, log)
}

/// [`spawn`], entering the namespace the given way.
#[allow(clippy::too_many_arguments)]
pub fn spawn_with(
    enter: Enter,
    name: &str,
    host: &str,
    netns: &str,
    program: &Path,
    args: &[String],
    env: &[(&str, String)],
    log: &Path,
) -> Result<Daemon> {
    let out =
        File::options().create(true).append(true).open(log).map_err(Error::io(format!("opening {}", log.display())))?;
    let err = out.try_clone().map_err(Error::io("duplicating a log file handle"))?;
    let mut command = match enter {
        Enter::IpNetns => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", netns]);
            c
        }
        Enter::Nsenter => {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net=/run/netns/{netns}"));
            c
        }
    };
    let child = command
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(Error::io(format!("starting {name} in {host}")))?;
    // `ip netns exec` and `nsenter` exec the program, so this pid is the program's own.
    let pid = i32::try_from(child.id()).map_err(|_| Error::Failed(format!("pid of {name} out of range")))?;
    Ok(Daemon {
        name: name.to_owned(),
        host: host.to_owned(),
        pid,
        log: log.to_path_buf(),
        netns: netns.to_owned(),
        program: program.to_path_buf(),
        args: args.to_vec(),
        env: env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        nsenter: enter == Enter::Nsenter,
    })
}

/// Collects the exit status of `pid` if it is a child of ours that has ended.
fn reap(pid: i32) {
    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
}

/// Stops a process: SIGTERM, then SIGKILL if it is still there after `grace`.
pub fn stop(d: &Daemon, grace: Duration) {
    if !d.alive() {
        return;
    }
    let pid = Pid::from_raw(d.pid);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !d.alive() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = kill(pid, Signal::SIGKILL);
    for _ in 0..100 {
        if !d.alive() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes with any thread inside a network namespace. `ip netns pids` looks at each
/// process's main thread only, and the testcluster's main thread may sit in the machine's
/// namespace (it opens the host listener there) while its apiserver threads serve in cp.
pub fn pids_in(netns: &str) -> Vec<i32> {
    let mut pids: Vec<i32> = cmd::run("ip", &["netns", "pids", netns])
        .map(|out| out.split_whitespace().filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default();
    if let Ok(target) = fs::metadata(format!("/run/netns/{netns}")) {
        let ino = std::os::unix::fs::MetadataExt::ino(&target);
        let in_ns = |path: PathBuf| fs::metadata(path).is_ok_and(|m| std::os::unix::fs::MetadataExt::ino(&m) == ino);
        for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else { continue };
            let tasks = fs::read_dir(entry.path().join("task")).into_iter().flatten().flatten();
            if tasks.into_iter().any(|t| in_ns(t.path().join("ns/net"))) {
                pids.push(pid);
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Kills every process still inside a network namespace: what a crashed run left behind.
pub fn kill_all_in(netns: &str) -> Vec<i32> {
    let pids = pids_in(netns);
    for &pid in &pids {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    for &pid in &pids {
        for _ in 0..100 {
            reap(pid);
            if !Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    pids
}
