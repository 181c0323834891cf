//! `ferrolb-chaos`: a seeded chaos run in the lab (as root), its report on stdout.
//!
//!     cargo run -p ferrolb-e2e --bin ferrolb-chaos -- [--seed N] [--seconds N] [--quiet]
//!
//! Operations on Services and pools go on for `--seconds` (default 120) while faults are injected
//! one at a time (`e2e/tests/support/chaos/schedule.rs` lists them); the invariants are checked
//! throughout and after the last fault. The same seed makes the same schedule. Exits 1 when a
//! promise was broken. docs/reliability.md says how to read the report.

use std::time::Duration;

use ferrolb_e2e::chaos::run::{Options, run};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn usage() -> ! {
    eprintln!("usage: ferrolb-chaos [--seed N] [--seconds N] [--quiet]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result {
    let mut options = Options { seed: 1, length: Duration::from_secs(120), verbose: true };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || args.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| usage());
        match arg.as_str() {
            "--seed" => options.seed = number(),
            "--seconds" => options.length = Duration::from_secs(number()),
            "--quiet" => options.verbose = false,
            _ => usage(),
        }
    }
    let report = run(options).await?;
    println!("{}", report.markdown());
    if !report.ok() {
        std::process::exit(1);
    }
    Ok(())
}
