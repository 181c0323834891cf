//! One input document: which conversion it needs, if any, and the outputs it becomes.

use serde_json::{Map, Value};

use super::error::{ConvertError, MigrateError};
use super::kinds::{self, METALLB_GROUP};
use super::{Body, Note, Origin, Output, Produced, address_pool, crds, legacy};

/// MetalLB kinds that MetalLB writes itself to report state; FerroLB writes its own.
const METALLB_STATUS_KINDS: &[&str] = &["ServiceL2Status", "ServiceBGPStatus"];

/// What to do with one input object.
#[derive(Debug)]
enum Outcome {
    /// Leave it as it is, with these notes.
    PassThrough(Vec<Note>),
    /// Replace it by these outputs.
    Converted(Vec<Produced>),
}

/// Converts the parsed document `value` (whose text is `raw`), the `document`-th of `file`,
/// appending its outputs to `outputs`, or an error to `errors`.
pub(crate) fn convert(
    file: &str,
    document: usize,
    value: &Value,
    raw: &str,
    outputs: &mut Vec<Output>,
    errors: &mut Vec<MigrateError>,
) {
    let origin = |item, object: &Value| Origin {
        file: file.to_string(),
        document,
        item,
        kind: object.get("kind").and_then(Value::as_str).unwrap_or("<no kind>").to_string(),
        name: object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<unnamed>").to_string(),
        namespace: object.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
    };
    let mut add = |origin: Origin, object: &Value, raw: Option<&str>| match outcome(object) {
        Ok(Outcome::PassThrough(notes)) => {
            let body = raw.map_or_else(|| Body::Object(object.clone()), |raw| Body::Raw(raw.to_string()));
            outputs.push(Output { origin, notes, body });
        }
        Ok(Outcome::Converted(produced)) => {
            for Produced { object, notes } in produced {
                let body = object.map_or(Body::Nothing, Body::Object);
                outputs.push(Output { origin: origin.clone(), notes, body });
            }
        }
        Err(problem) => errors.push(MigrateError::Convert {
            file: file.to_string(),
            document,
            object: format!("{}/{}", origin.kind, origin.name),
            problem,
        }),
    };
    match list_items(value) {
        // `kubectl get -o yaml` writes a List: each item is converted on its own.
        Some(items) => {
            for (i, item) in items.iter().enumerate() {
                add(origin(Some(i), item), item, None);
            }
        }
        None => add(origin(None, value), value, Some(raw)),
    }
}

/// The items of a List document (`kind: List`, or `IPAddressPoolList` and the like).
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    let api_version = value.get("apiVersion")?.as_str()?;
    let listing = kind.ends_with("List") && (api_version == "v1" || group(api_version) == METALLB_GROUP);
    if listing { value.get("items")?.as_array() } else { None }
}

/// The API group of an apiVersion (`""` for the core group's `v1`).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// Decides what one input object becomes.
fn outcome(value: &Value) -> Result<Outcome, ConvertError> {
    let Value::Object(object) = value else { return Ok(Outcome::PassThrough(Vec::new())) };
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if group(api_version) == METALLB_GROUP {
        let version = api_version.rsplit_once('/').map_or("", |(_, version)| version);
        return metallb_object(kind, version, object).map(Outcome::Converted);
    }
    if let Some(config) = legacy::recognize(object) {
        return legacy::convert(&config?).map(Outcome::Converted);
    }
    let mut notes = Vec::new();
    if kind == "CustomResourceDefinition" && value.pointer("/spec/group").and_then(Value::as_str) == Some(METALLB_GROUP)
    {
        let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<unnamed>");
        notes.push(Note::new(
            format!("{kind}/{name}"),
            "this is MetalLB's API, passed through unchanged; FerroLB installs its own (ferrolb.io) definitions",
        ));
    }
    Ok(Outcome::PassThrough(notes))
}

/// Converts an object of MetalLB's API group.
fn metallb_object(kind: &str, version: &str, object: &Map<String, Value>) -> Result<Vec<Produced>, ConvertError> {
    if let Some(spec) = kinds::by_name(kind) {
        return crds::convert(spec, version, object);
    }
    if kind == "AddressPool" {
        return address_pool::convert(object);
    }
    let name = object.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("<unnamed>");
    let why = if METALLB_STATUS_KINDS.contains(&kind) {
        "MetalLB writes these status objects itself, and FerroLB writes its own"
    } else {
        "FerroLB has no such kind"
    };
    Ok(vec![Produced {
        object: None,
        notes: vec![Note::new(
            format!("{kind}/{name}"),
            format!("{METALLB_GROUP}/{version} {kind} is not carried over: {why}"),
        )],
    }])
}
