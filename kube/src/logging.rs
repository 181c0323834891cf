//! Logging set-up: `tracing` to stderr, as text or JSON lines, filtered by `RUST_LOG` (default
//! `info`).

use tracing_subscriber::EnvFilter;

/// Installs the process-wide subscriber; `json` picks JSON lines over text.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if json { logs.json().init() } else { logs.init() }
}
