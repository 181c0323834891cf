//! Shared by the migrate tests: running a migration on a fixture or a text, and finding
//! outputs by kind and name.

#![allow(dead_code)] // each test file uses its own part of this module

use ferrolb_cli::migrate::{MigrateError, Migration, Output};
use serde_json::Value;

/// The text of `tests/fixtures/metallb/NAME`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/metallb/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Migrates the fixture `name`, expecting success.
pub fn migrate_fixture(name: &str) -> Vec<Output> {
    migrate(&[(name, &fixture(name))]).unwrap_or_else(|e| panic!("{name} does not migrate: {e:?}"))
}

/// Migrates `(file name, text)` inputs in order.
pub fn migrate(inputs: &[(&str, &str)]) -> Result<Vec<Output>, Vec<MigrateError>> {
    let mut migration = Migration::new();
    for (file, text) in inputs {
        migration.add_stream(file, text);
    }
    migration.finish()
}

/// The output object of `kind` named `name`.
pub fn object<'a>(outputs: &'a [Output], kind: &str, name: &str) -> &'a Value {
    find(outputs, kind, name).object().unwrap_or_else(|| panic!("{kind}/{name} has no object"))
}

/// The notes, as written, of the output object of `kind` named `name`.
pub fn notes(outputs: &[Output], kind: &str, name: &str) -> Vec<String> {
    find(outputs, kind, name).notes.iter().map(ToString::to_string).collect()
}

/// The `(kind, name)` of every output object, in order.
pub fn kinds_and_names(outputs: &[Output]) -> Vec<(String, String)> {
    outputs.iter().filter_map(Output::object).map(|o| (text(&o["kind"]), text(&o["metadata"]["name"]))).collect()
}

fn find<'a>(outputs: &'a [Output], kind: &str, name: &str) -> &'a Output {
    outputs
        .iter()
        .find(|o| o.object().is_some_and(|v| v["kind"] == kind && v["metadata"]["name"] == name))
        .unwrap_or_else(|| panic!("no {kind}/{name} in {:?}", kinds_and_names(outputs)))
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}
