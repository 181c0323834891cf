//! `ferrolb`: the user's tool. Its commands (`migrate`, `explain service`) arrive with the
//! API and controller issues; today it only reports its version.

use clap::Parser;

/// FerroLB's command-line tool.
#[derive(Parser)]
#[command(name = "ferrolb", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    println!("ferrolb {}: no commands yet; see `ferrolb --help`", env!("CARGO_PKG_VERSION"));
}
