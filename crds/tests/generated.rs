//! The committed CRD YAML under config/crd/ is exactly what the types generate.

use std::path::Path;

#[test]
fn committed_crds_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/crd");
    for crd in ferrolb_crds::generate::crds() {
        let path = dir.join(ferrolb_crds::generate::file_name(&crd));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = ferrolb_crds::generate::render(&crd).expect("renders");
        assert!(
            committed == generated,
            "{} differs from what the types in crds/ generate: run `make crds` and commit the result",
            path.display()
        );
    }
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap_or_default();
    assert_eq!(kustomization, ferrolb_crds::generate::kustomization(), "run `make crds`");
}

#[test]
fn committed_reference_pages_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/reference");
    for crd in ferrolb_crds::generate::crds() {
        let path = dir.join(ferrolb_crds::reference::file_name(&crd));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == ferrolb_crds::reference::page(&crd), "{} is stale: run `make crds`", path.display());
    }
}

#[test]
fn every_kind_has_descriptions_on_every_field() {
    fn walk(path: &str, v: &serde_json::Value, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (name, prop) in props {
                let here = format!("{path}.{name}");
                if prop.get("description").is_none() && !["apiVersion", "kind", "metadata"].contains(&name.as_str()) {
                    missing.push(here.clone());
                }
                walk(&here, prop, missing);
                if let Some(items) = prop.get("items") {
                    walk(&format!("{here}[]"), items, missing);
                }
            }
        }
    }
    for crd in ferrolb_crds::generate::crds() {
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).expect("serializes");
        let mut missing = Vec::new();
        walk(&crd.spec.names.kind, &schema["openAPIV3Schema"], &mut missing);
        assert!(missing.is_empty(), "fields without a description: {missing:?}");
    }
}
