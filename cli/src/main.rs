//! `ferrolb`: the FerroLB user's tool. This file only reads arguments and inputs, calls the
//! library, and prints; the work is in `ferrolb_cli`.

mod cluster;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ferrolb_cli::explain::explain;
use ferrolb_cli::migrate::{Migration, render};

/// Exit code for input that cannot be read or migrated.
const BAD_INPUT: u8 = 2;

/// FerroLB's command-line tool.
#[derive(Parser)]
#[command(name = "ferrolb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert MetalLB configuration to FerroLB's, written as YAML on standard output.
    ///
    /// Reads MetalLB's custom resources, its deprecated AddressPool and its legacy ConfigMap;
    /// other objects pass through unchanged, so a whole manifest can be migrated. What cannot
    /// be carried over is said in a YAML comment above the object. Exits with 2, writing
    /// nothing, when an input cannot be read or converted, naming the file and the document.
    Migrate {
        /// YAML files to read, in order; `-` or none reads standard input.
        files: Vec<PathBuf>,
    },
    /// Explain, in plain words, what FerroLB did with an object and why.
    Explain {
        #[command(subcommand)]
        what: Explain,
    },
}

#[derive(Subcommand)]
enum Explain {
    /// Which pool a LoadBalancer Service's address came from and why, or why it has none and
    /// what to change.
    ///
    /// Reads the Service, the IPAddressPools, the Service's Events and its namespace from the
    /// cluster. Exits with 1 when the cluster cannot be reached or the Service does not exist.
    Service {
        /// The Service's name.
        name: String,
        /// The Service's namespace [default: the kubeconfig context's, else "default"].
        #[arg(short, long)]
        namespace: Option<String>,
        /// The kubeconfig to use [default: as kubectl finds it: KUBECONFIG, then ~/.kube/config].
        #[arg(long, value_name = "PATH")]
        kubeconfig: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Migrate { files } => migrate(&files),
        Command::Explain { what: Explain::Service { name, namespace, kubeconfig } } => {
            explain_service(cluster::Target { kubeconfig, namespace, name })
        }
    }
}

/// Runs `ferrolb explain service`: reads the cluster, explains, prints.
fn explain_service(target: cluster::Target) -> ExitCode {
    let observed = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(cluster::observe(&target)));
    match observed {
        Ok(observed) => {
            print!("{}", explain(&observed));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `ferrolb migrate` on `files`.
fn migrate(files: &[PathBuf]) -> ExitCode {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let mut migration = Migration::new();
    for path in files {
        let (name, text) = match read_input(path) {
            Ok(input) => input,
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::from(BAD_INPUT);
            }
        };
        migration.add_stream(&name, &text);
    }
    let outputs = match migration.finish() {
        Ok(outputs) => outputs,
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            eprintln!("ferrolb migrate: {} error(s); nothing was written", errors.len());
            return ExitCode::from(BAD_INPUT);
        }
    };
    let written = render(&outputs).context("cannot write the result").and_then(|text| {
        std::io::stdout().lock().write_all(text.as_bytes()).context("cannot write to standard output")
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The name by which messages call the input at `path`, and its text.
fn read_input(path: &PathBuf) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
        return Ok(("<stdin>".to_string(), text));
    }
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
    Ok((name, text))
}
