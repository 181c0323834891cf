//! Writes FerroLB's CRDs to config/crd/ (or the directory given as the only argument), and
//! the reference page of each kind to docs/reference/.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/crd"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("crdgen: creating {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for crd in ferrolb_crds::generate::crds() {
        let path = dir.join(ferrolb_crds::generate::file_name(&crd));
        let written = ferrolb_crds::generate::render(&crd)
            .map_err(|e| e.to_string())
            .and_then(|yaml| std::fs::write(&path, yaml).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("crdgen: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    let kustomization = dir.join("kustomization.yaml");
    if let Err(e) = std::fs::write(&kustomization, ferrolb_crds::generate::kustomization()) {
        eprintln!("crdgen: writing {}: {e}", kustomization.display());
        return ExitCode::FAILURE;
    }
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/reference");
    if let Err(e) = std::fs::create_dir_all(&docs) {
        eprintln!("crdgen: creating {}: {e}", docs.display());
        return ExitCode::FAILURE;
    }
    for crd in ferrolb_crds::generate::crds() {
        let path = docs.join(ferrolb_crds::reference::file_name(&crd));
        if let Err(e) = std::fs::write(&path, ferrolb_crds::reference::page(&crd)) {
            eprintln!("crdgen: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
