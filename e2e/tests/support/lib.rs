//! What FerroLB's end-to-end scenarios share beyond the lab itself: the repository's
//! manifests, read as a user would apply them.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file of the repository, as text (config/samples/layer2.yaml, ...).
pub fn manifest(path: &str) -> String {
    let full = repo().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}
