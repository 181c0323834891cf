//! `ferrolb migrate` on MetalLB's documented examples produces YAML that a real apiserver
//! with FerroLB's CRDs accepts as it is.

use ferrolb_cli::migrate::{Migration, render};
use ferrolb_e2e::repo;
use ferrolb_lab::{Lab, LabOptions};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::test(flavor = "multi_thread")]
async fn migrated_metallb_examples_apply_cleanly() -> Result {
    let lab = Lab::up(LabOptions { nodes: 1, ferrolb: false, ..LabOptions::for_test() }).await?;
    // Namespaces the examples' pass-through objects and Secrets live in.
    for ns in ["metallb-system", "network-secrets"] {
        lab.kubectl(&["create", "namespace", ns])?;
    }
    let dir = repo().join("cli/tests/fixtures/metallb");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    fixtures.sort();
    assert!(fixtures.len() >= 8, "MetalLB examples in {}: {fixtures:?}", dir.display());
    let mut ferrolb_objects = 0;
    for path in fixtures {
        let mut migration = Migration::new();
        migration.add_stream(&path.display().to_string(), &std::fs::read_to_string(&path)?);
        let outputs = migration.finish().map_err(|e| format!("{}: {e:?}", path.display()))?;
        let yaml = render(&outputs)?;
        ferrolb_objects += yaml.matches("apiVersion: ferrolb.io/v1beta1").count();
        let applied = lab.apply(&yaml).map_err(|e| format!("{} does not apply: {e}\n{yaml}", path.display()))?;
        assert!(!applied.trim().is_empty(), "{}: nothing applied", path.display());
        // Examples reuse names (a pool called default, ...): start the next one from scratch.
        lab.kubectl(&["delete", "--wait", "--ignore-not-found", "ferrolb", "--all"])?;
    }
    assert!(ferrolb_objects >= 25, "only {ferrolb_objects} FerroLB objects came out of the examples");
    Ok(())
}
