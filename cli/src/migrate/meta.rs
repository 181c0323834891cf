//! Object metadata and names: what of a MetalLB object's `metadata` a FerroLB object keeps, and
//! how generated names are made valid and unique.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Note;
use super::error::ConvertError;
use super::kinds::{API_VERSION, METALLB_NAMESPACE};

/// Metadata the API server sets; a new object must not carry the old cluster's values.
const SERVER_SET: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// `kubectl apply`'s record of the old object (old apiVersion, old namespace); it writes a new one.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a FerroLB object keeps of a MetalLB object's metadata.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Carried {
    /// The FerroLB object's `metadata`: name, generateName, labels, annotations.
    pub metadata: Map<String, Value>,
    /// The object's name, or `<unnamed>`.
    pub name: String,
    /// The MetalLB object's namespace, if it had one.
    pub namespace: Option<String>,
    /// What was left behind, and why.
    pub notes: Vec<Note>,
}

/// Keeps the name, labels and annotations of `object`'s metadata for a FerroLB `kind`, and says
/// what it leaves behind that a reader would miss.
pub(crate) fn carry(kind: &str, object: &Map<String, Value>) -> Result<Carried, ConvertError> {
    let input = match object.get("metadata") {
        None | Some(Value::Null) => &Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(ConvertError::wrong_type("metadata", "a mapping", other)),
    };
    let name = match input.get("name") {
        None => "<unnamed>".to_string(),
        Some(Value::String(name)) => name.clone(),
        Some(other) => return Err(ConvertError::wrong_type("metadata.name", "a string", other)),
    };
    let subject = format!("{kind}/{name}");
    let mut carried = Carried { metadata: Map::new(), name, namespace: None, notes: Vec::new() };
    for (key, value) in input {
        match key.as_str() {
            "name" | "generateName" | "labels" => {
                carried.metadata.insert(key.clone(), value.clone());
            }
            "annotations" => {
                let mut annotations = value.clone();
                if let Value::Object(map) = &mut annotations {
                    map.remove(LAST_APPLIED);
                    if map.is_empty() {
                        continue;
                    }
                }
                carried.metadata.insert(key.clone(), annotations);
            }
            "namespace" => {
                let Value::String(namespace) = value else {
                    return Err(ConvertError::wrong_type("metadata.namespace", "a string", value));
                };
                carried.notes.extend(namespace_note(&subject, kind, namespace));
                carried.namespace = Some(namespace.clone());
            }
            "ownerReferences" | "finalizers" => carried.notes.push(Note::new(
                &subject,
                format!("metadata.{key} is not carried over: it names objects and controllers of the old cluster"),
            )),
            key if SERVER_SET.contains(&key) => {}
            key => carried.notes.push(Note::new(
                &subject,
                format!("metadata.{key} is not carried over: it is not a field a new object sets"),
            )),
        }
    }
    if !input.contains_key("name") && !input.contains_key("generateName") {
        carried.notes.push(Note::new(&subject, "has no metadata.name; `kubectl apply` needs one"));
    }
    Ok(carried)
}

/// The note that `namespace` is dropped from `subject`, a FerroLB `kind` object, unless it is
/// MetalLB's own namespace, where every MetalLB object lived.
pub(crate) fn namespace_note(subject: &str, kind: &str, namespace: &str) -> Option<Note> {
    (namespace != METALLB_NAMESPACE).then(|| {
        Note::new(
            subject,
            format!(
                "metadata.namespace {namespace:?} is dropped: FerroLB's {kind} is cluster-scoped and applies to the \
                 whole cluster (MetalLB only read objects in the namespace it ran in)"
            ),
        )
    })
}

/// A FerroLB object of `kind`, with `metadata`, and `spec` when given.
pub(crate) fn ferrolb_object(kind: &str, metadata: Map<String, Value>, spec: Option<Map<String, Value>>) -> Value {
    let mut object = json!({ "apiVersion": API_VERSION, "kind": kind, "metadata": metadata });
    if let (Some(spec), Value::Object(map)) = (spec, &mut object) {
        map.insert("spec".to_string(), Value::Object(spec));
    }
    object
}

/// Makes `text` a valid object name (a DNS-1123 subdomain): lower case letters, digits, `-` and
/// `.`, starting and ending with a letter or digit, at most 253 characters. Other characters
/// become `-`; `fallback` is used when nothing is left.
pub(crate) fn object_name(text: &str, fallback: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' { c } else { '-' })
        .collect();
    let mut name = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    // `a..b` and `a.-b` are not valid subdomains: each dot-separated label must be valid too.
    while name.contains("..") || name.contains(".-") || name.contains("-.") {
        name = name.replace("..", ".").replace(".-", ".").replace("-.", ".");
    }
    name.truncate(253);
    let name = name.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    if name.is_empty() { fallback.to_string() } else { name }
}

/// Names already given to generated objects, so that each new one is unique within its kind.
#[derive(Debug, Default)]
pub(crate) struct Names {
    taken: BTreeSet<(String, String)>,
}

impl Names {
    /// Takes `base` for an object of `kind`, or `base-2`, `base-3`... when it is taken.
    pub(crate) fn claim(&mut self, kind: &str, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 2;
        while !self.taken.insert((kind.to_string(), name.clone())) {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(metadata: Value) -> Map<String, Value> {
        match json!({ "metadata": metadata }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn keeps_name_labels_annotations_and_drops_what_the_server_set() {
        let carried = carry(
            "IPAddressPool",
            &object(json!({
                "name": "a", "namespace": "metallb-system", "uid": "x", "resourceVersion": "1",
                "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [],
                "labels": {"team": "net"},
                "annotations": {"owner": "me", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
            })),
        )
        .expect("carries");
        assert_eq!(
            Value::Object(carried.metadata),
            json!({"name": "a", "labels": {"team": "net"}, "annotations": {"owner": "me"}})
        );
        assert_eq!(carried.namespace.as_deref(), Some("metallb-system"));
        assert!(carried.notes.is_empty(), "{:?}", carried.notes);
    }

    #[test]
    fn a_namespace_other_than_metallb_system_is_noted() {
        let carried = carry("BGPPeer", &object(json!({"name": "a", "namespace": "net"}))).expect("carries");
        assert_eq!(carried.notes.len(), 1);
        assert!(carried.notes[0].to_string().starts_with("BGPPeer/a: metadata.namespace \"net\" is dropped"));
    }

    #[test]
    fn owner_references_are_noted_and_bad_metadata_is_an_error() {
        let carried = carry("BGPPeer", &object(json!({"name": "a", "ownerReferences": []}))).expect("carries");
        assert!(carried.notes[0].text.contains("ownerReferences"));
        let error = carry("BGPPeer", &object(json!({"name": 3}))).expect_err("name is a number");
        assert_eq!(error.to_string(), "metadata.name should be a string, not a number");
    }

    #[test]
    fn object_names_are_dns_1123_subdomains() {
        assert_eq!(object_name("192.0.2.1", "x"), "192.0.2.1");
        assert_eq!(object_name("2001:db8::1", "x"), "2001-db8--1");
        assert_eq!(object_name("fd00::", "x"), "fd00");
        assert_eq!(object_name("My_Pool", "x"), "my-pool");
        assert_eq!(object_name("-a..b-.c-", "x"), "a.b.c");
        assert_eq!(object_name("___", "fallback"), "fallback");
        assert_eq!(object_name(&"a".repeat(300), "x").len(), 253);
    }

    #[test]
    fn claimed_names_are_unique_per_kind() {
        let mut names = Names::default();
        assert_eq!(names.claim("BGPPeer", "p"), "p");
        assert_eq!(names.claim("BGPPeer", "p"), "p-2");
        assert_eq!(names.claim("BGPPeer", "p"), "p-3");
        assert_eq!(names.claim("BFDProfile", "p"), "p");
    }
}
