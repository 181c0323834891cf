//! Running the system's tools (ip, sysctl, vtysh, ...) with errors that show the command
//! and what it printed.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};

/// The Debian package that provides each tool the lab runs.
pub const TOOLS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("sysctl", "procps"),
    ("/usr/lib/frr/zebra", "frr"),
    ("/usr/lib/frr/bgpd", "frr"),
    ("vtysh", "frr"),
    ("bird", "bird2"),
    ("birdc", "bird2"),
    ("curl", "curl"),
    ("arping", "arping"),
    ("ndisc6", "ndisc6"),
    ("gobgpd", "gobgpd"),
    ("tcpdump", "tcpdump"),
];

/// Finds a program on PATH (or at its absolute path).
pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(tool);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|c| c.is_file())
}

/// Checks that every tool the lab needs is installed, naming the package of the first missing one.
pub fn check_tools() -> Result<()> {
    for (tool, package) in TOOLS {
        if which(tool).is_none() {
            return Err(Error::ToolMissing { tool: (*tool).to_owned(), package });
        }
    }
    Ok(())
}

/// Runs a command to completion; fails unless it exits 0.
pub fn run<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(Error::io(format!("running {program}")))?;
    check(program, args, out)
}

/// Runs a command with `input` on its stdin; fails unless it exits 0.
pub fn run_with_input<S: AsRef<OsStr>>(program: &str, args: &[S], input: &str) -> Result<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io(format!("running {program}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).map_err(Error::io(format!("writing to {program}")))?;
    }
    let out = child.wait_with_output().map_err(Error::io(format!("waiting for {program}")))?;
    check(program, args, out)
}

/// Runs a command inside a network namespace.
pub fn run_in<S: AsRef<OsStr>>(netns: &str, program: &str, args: &[S]) -> Result<String> {
    let mut full: Vec<&OsStr> = vec!["netns".as_ref(), "exec".as_ref(), netns.as_ref(), program.as_ref()];
    full.extend(args.iter().map(AsRef::as_ref));
    run("ip", &full)
}

/// Runs `ip -n NETNS -batch -` with the given lines.
pub fn ip_batch(netns: &str, lines: &[String]) -> Result<()> {
    let mut input = lines.join("\n");
    input.push('\n');
    run_with_input("ip", &["-n", netns, "-batch", "-"], &input).map(drop)
}

fn check<S: AsRef<OsStr>>(program: &str, args: &[S], out: Output) -> Result<String> {
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let output = if stderr.trim().is_empty() { String::from_utf8_lossy(&out.stdout) } else { stderr };
    let command = std::iter::once(program.to_owned())
        .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    Err(Error::Command { command, status: out.status.to_string(), output: output.trim().to_owned() })
}
