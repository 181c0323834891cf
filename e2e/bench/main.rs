//! `ferrolb-bench`: FerroLB and MetalLB side by side in the lab (as root), one harness, the same
//! scenarios, fresh labs, alternating. Writes `results.json`, `results.md` and the SVG plots into
//! `--out` (default `target/bench`). docs/benchmarks.md explains the scenarios and the figures.
//!
//!     cargo run --release -p ferrolb-e2e --bin ferrolb-bench -- [--smoke] [--trials N]
//!         [--failover-trials N] [--bursts 100,1000] [--scale N] [--idle-seconds N]
//!         [--no-dataplane] [--only ferrolb|metallb|metallb-tuned|ferrolb-bfd] [--tuned] [--bfd] [--merge FILE]
//!         [--out DIR] [--quiet]
//!
//! `--tuned` adds MetalLB with memberlist tuned for fast failure detection (Layer2 scenarios
//! only), `--bfd` FerroLB with BFD on its BGP session (BGP scenarios only); `--report FILE`
//! writes the report of an earlier run's results.json again without running anything; `--merge FILE` adds this run's figures to an earlier run's results.json.
//!
//! MetalLB (v0.16.2, native mode) is built once by scripts/build-metallb (about 10 minutes).

use std::path::PathBuf;

use ferrolb_e2e::bench::implementation::Implementation;
use ferrolb_e2e::bench::results::Results;
use ferrolb_e2e::bench::run::{Options, run};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn usage() -> ! {
    eprintln!(
        "usage: ferrolb-bench [--smoke] [--trials N] [--failover-trials N] [--bursts N,N] [--scale N] \
         [--idle-seconds N] [--no-dataplane] [--only ferrolb|metallb|metallb-tuned|ferrolb-bfd] [--tuned] [--bfd] [--merge FILE] [--report FILE] \
         [--out DIR] [--quiet]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result {
    let command =
        std::iter::once("ferrolb-bench".to_owned()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ");
    let mut options = Options::full();
    let mut out = ferrolb_e2e::repo().join("target/bench");
    let mut merge: Option<PathBuf> = None;
    let mut report_only: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--smoke" => options = Options { verbose: options.verbose, ..Options::smoke() },
            "--trials" => options.trials = value().parse().unwrap_or_else(|_| usage()),
            "--failover-trials" => options.failover_trials = value().parse().unwrap_or_else(|_| usage()),
            "--bursts" => {
                options.bursts = value()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--scale" => options.scale = value().parse().unwrap_or_else(|_| usage()),
            "--idle-seconds" => options.idle_seconds = value().parse().unwrap_or_else(|_| usage()),
            "--no-dataplane" => options.dataplane = false,
            "--only" => {
                options.implementations = match value().as_str() {
                    "ferrolb" => vec![Implementation::Ferrolb],
                    "metallb" => vec![Implementation::Metallb],
                    "metallb-tuned" => vec![Implementation::MetallbTuned],
                    "ferrolb-bfd" => vec![Implementation::FerrolbBfd],
                    _ => usage(),
                }
            }
            "--tuned" => options.implementations.push(Implementation::MetallbTuned),
            "--bfd" => options.implementations.push(Implementation::FerrolbBfd),
            "--merge" => merge = Some(PathBuf::from(value())),
            "--report" => report_only = Some(PathBuf::from(value())),
            "--out" => out = PathBuf::from(value()),
            "--quiet" => options.verbose = false,
            _ => usage(),
        }
    }
    let mut results = match &report_only {
        // Only the report (table, plots) again, from an earlier run's results.json.
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => run(&options, &command).await?,
    };
    if let Some(earlier) = merge {
        let mut all: Results = serde_json::from_str(&std::fs::read_to_string(&earlier)?)?;
        all.command = format!("{}; then {}", all.command, results.command);
        all.figures.extend(results.figures);
        all.series.extend(results.series);
        all.notes.extend(results.notes);
        all.machine.load_after = results.machine.load_after;
        results = all;
    }
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(&results)?)?;
    for (file, svg) in results.plots() {
        std::fs::write(out.join(file), svg)?;
    }
    let report = results.markdown(".");
    std::fs::write(out.join("results.md"), &report)?;
    println!("{report}");
    eprintln!("ferrolb-bench: results in {}", out.display());
    Ok(())
}
