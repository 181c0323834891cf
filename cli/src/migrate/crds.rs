//! MetalLB's custom resources (`metallb.io/v1beta1`, `metallb.io/v1beta2`) to FerroLB's: the
//! same kind and spec under `ferrolb.io/v1beta1`, less the fields FerroLB does not have.

use serde_json::{Map, Value};

use super::error::ConvertError;
use super::kinds::{self, KindSpec, METALLB_NAMESPACE};
use super::meta;
use super::{Note, Produced};

/// The MetalLB versions whose fields `migrate` knows.
const KNOWN_VERSIONS: &[&str] = &["v1beta1", "v1beta2"];

/// Converts a MetalLB object of the FerroLB kind `spec` and MetalLB API `version`.
pub(crate) fn convert(
    spec: &KindSpec,
    version: &str,
    object: &Map<String, Value>,
) -> Result<Vec<Produced>, ConvertError> {
    let carried = meta::carry(spec.kind, object)?;
    let subject = format!("{}/{}", spec.kind, carried.name);
    let mut notes = carried.notes;
    if !KNOWN_VERSIONS.contains(&version) {
        notes.push(Note::new(
            &subject,
            format!("metallb.io/{version} is not a version migrate knows; its fields were read as v1beta2's"),
        ));
    }
    for key in object.keys() {
        if !["apiVersion", "kind", "metadata", "spec", "status"].contains(&key.as_str()) {
            notes.push(Note::new(&subject, format!("{key} is not carried over: it is not part of a {}", spec.kind)));
        }
    }
    let mut out = match object.get("spec") {
        None | Some(Value::Null) => None,
        Some(Value::Object(input)) => Some(carry_spec(spec, input, &subject, &mut notes)),
        Some(other) => return Err(ConvertError::wrong_type("spec", "a mapping", other)),
    };
    if spec.kind == kinds::BGP_PEER.kind {
        let namespace = carried.namespace.as_deref().unwrap_or(METALLB_NAMESPACE);
        fix_bgp_peer(out.get_or_insert_default(), namespace, &subject, &mut notes);
    }
    if spec.kind == kinds::BFD_PROFILE.kind
        && let Some(out) = &out
    {
        note_bfd_profile(out, &subject, &mut notes);
    }
    Ok(vec![Produced { object: Some(meta::ferrolb_object(spec.kind, carried.metadata, out)), notes }])
}

/// The fields of `input` that FerroLB's kind has; a note for each one left behind.
fn carry_spec(spec: &KindSpec, input: &Map<String, Value>, subject: &str, notes: &mut Vec<Note>) -> Map<String, Value> {
    let mut out = Map::new();
    for (field, value) in input {
        if !spec.fields.contains(&field.as_str()) {
            notes.push(Note::new(
                subject,
                format!("spec.{field} is not carried over: {}", kinds::why_dropped(spec.kind, field)),
            ));
            continue;
        }
        let value = match spec.nested.iter().find(|(name, _)| name == field) {
            Some((_, allowed)) => prune(value, allowed, &format!("spec.{field}"), spec.kind, subject, notes),
            None => value.clone(),
        };
        out.insert(field.clone(), value);
    }
    out
}

/// `value` (an object, or a list of objects) without the keys not in `allowed`. Values of
/// another type are kept: the API server's validation will name them better than we can.
fn prune(value: &Value, allowed: &[&str], path: &str, kind: &str, subject: &str, notes: &mut Vec<Note>) -> Value {
    match value {
        Value::Object(map) => {
            let mut kept = Map::new();
            for (key, inner) in map {
                if allowed.contains(&key.as_str()) {
                    kept.insert(key.clone(), inner.clone());
                } else {
                    notes.push(Note::new(
                        subject,
                        format!("{path}.{key} is not carried over: FerroLB's {kind} has no such field"),
                    ));
                }
            }
            Value::Object(kept)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| prune(item, allowed, &format!("{path}[{i}]"), kind, subject, notes))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a BFDProfile carries that FerroLB refuses: echo mode.
pub(super) fn note_bfd_profile(spec: &Map<String, Value>, subject: &str, notes: &mut Vec<Note>) {
    if spec.get("echoMode") == Some(&Value::Bool(true)) {
        notes.push(Note::new(
            subject,
            "spec.echoMode is carried over, but FerroLB refuses the BFDProfile while it is true (echo mode is not \
             supported: FerroLB runs BFD in asynchronous mode only): remove it to have the profile accepted",
        ));
    }
}

/// What a BGPPeer needs beyond its fields: the Secret's namespace, which MetalLB implied.
fn fix_bgp_peer(spec: &mut Map<String, Value>, namespace: &str, subject: &str, notes: &mut Vec<Note>) {
    if let Some(Value::Object(secret)) = spec.get_mut("passwordSecret") {
        let named = matches!(secret.get("namespace"), Some(Value::String(s)) if !s.is_empty());
        if !named {
            secret.insert("namespace".to_string(), Value::String(namespace.to_string()));
            notes.push(Note::new(
                subject,
                format!(
                    "spec.passwordSecret.namespace is set to {namespace:?}: MetalLB read the Secret from its own \
                     namespace, and a cluster-scoped BGPPeer must name it"
                ),
            ));
        }
    }
    let interface = matches!(spec.get("interface"), Some(Value::String(name)) if !name.is_empty());
    if interface {
        let bfd = matches!(spec.get("bfdProfile"), Some(Value::String(name)) if !name.is_empty());
        let source = spec.contains_key("sourceAddress");
        if bfd || source {
            notes.push(Note::new(
                subject,
                "spec.interface (BGP unnumbered) is carried over and works, but FerroLB refuses it together with \
                 spec.bfdProfile (BFD over BGP unnumbered is not supported yet) or spec.sourceAddress (the session \
                 runs between link-local addresses): remove those to have the peer accepted",
            ));
        }
    } else if !spec.contains_key("peerAddress") {
        notes.push(Note::new(subject, "has no spec.peerAddress, which FerroLB needs: add the peer's address"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert_one(spec: &KindSpec, version: &str, object: Value) -> (Value, Vec<String>) {
        let Value::Object(map) = object else { panic!("test objects are mappings") };
        let mut produced = convert(spec, version, &map).expect("converts");
        assert_eq!(produced.len(), 1);
        let produced = produced.remove(0);
        let notes = produced.notes.iter().map(ToString::to_string).collect();
        (produced.object.expect("an object"), notes)
    }

    #[test]
    fn a_pool_keeps_its_spec_and_loses_status_and_namespace() {
        let (object, notes) = convert_one(
            &kinds::IP_ADDRESS_POOL,
            "v1beta1",
            json!({
                "apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
                "metadata": {"name": "p", "namespace": "metallb-system"},
                "spec": {"addresses": ["192.0.2.0/24"], "autoAssign": false,
                         "serviceAllocation": {"priority": 1, "namespaces": ["a"], "extra": 1}},
                "status": {"assignedIPv4": 1},
            }),
        );
        assert_eq!(
            object,
            json!({
                "apiVersion": "ferrolb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p"},
                "spec": {"addresses": ["192.0.2.0/24"], "autoAssign": false,
                         "serviceAllocation": {"priority": 1, "namespaces": ["a"]}},
            })
        );
        assert_eq!(
            notes,
            [
                "IPAddressPool/p: spec.serviceAllocation.extra is not carried over: FerroLB's IPAddressPool has no such field"
            ]
        );
    }

    #[test]
    fn a_peer_loses_fields_ferrolb_lacks_and_names_its_secrets_namespace() {
        let (object, notes) = convert_one(
            &kinds::BGP_PEER,
            "v1beta2",
            json!({
                "apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer",
                "metadata": {"name": "r", "namespace": "lb"},
                "spec": {"myASN": 64600, "peerASN": 64512, "peerAddress": "192.0.2.1", "enableLimitedUnnumbered": true,
                         "passwordSecret": {"name": "s"}},
            }),
        );
        assert_eq!(object["spec"]["passwordSecret"], json!({"name": "s", "namespace": "lb"}));
        assert!(object["spec"].get("enableLimitedUnnumbered").is_none());
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[1].starts_with("BGPPeer/r: spec.enableLimitedUnnumbered is not carried over: FerroLB has no"));
        assert!(notes[2].starts_with("BGPPeer/r: spec.passwordSecret.namespace is set to \"lb\""));
    }

    #[test]
    fn a_peer_with_an_interface_keeps_it_without_a_note_unless_with_bfd_or_a_source_address() {
        let (object, notes) = convert_one(
            &kinds::BGP_PEER,
            "v1beta2",
            json!({"kind": "BGPPeer", "metadata": {"name": "u"}, "spec": {"myASN": 1, "interface": "eth1"}}),
        );
        assert_eq!(object["spec"], json!({"myASN": 1, "interface": "eth1"}));
        assert!(notes.is_empty(), "BGP unnumbered works: {notes:?}");
        let (_, notes) = convert_one(
            &kinds::BGP_PEER,
            "v1beta2",
            json!({"kind": "BGPPeer", "metadata": {"name": "u"},
                   "spec": {"myASN": 1, "interface": "eth1", "bfdProfile": "fast"}}),
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("refuses it together with spec.bfdProfile"), "{notes:?}");

        let (_, notes) = convert_one(
            &kinds::BGP_PEER,
            "v1beta2",
            json!({"kind": "BGPPeer", "metadata": {"name": "n"}, "spec": {"myASN": 1}}),
        );
        assert!(notes[0].contains("has no spec.peerAddress"), "{notes:?}");
    }

    #[test]
    fn a_spec_that_is_not_a_mapping_is_an_error() {
        let Value::Object(map) = json!({"metadata": {"name": "x"}, "spec": [1]}) else { unreachable!() };
        let error = convert(&kinds::BFD_PROFILE, "v1beta1", &map).expect_err("spec is a list");
        assert_eq!(error.to_string(), "spec should be a mapping, not a list");
    }

    #[test]
    fn an_unknown_version_is_converted_with_a_note() {
        let (object, notes) =
            convert_one(&kinds::COMMUNITY, "v1", json!({"metadata": {"name": "c"}, "spec": {"communities": []}}));
        assert_eq!(object["apiVersion"], "ferrolb.io/v1beta1");
        assert!(notes[0].contains("metallb.io/v1 is not a version migrate knows"));
    }
}
