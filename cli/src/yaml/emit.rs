//! Writing a value as one YAML document, keys in the order a person expects.
//!
//! `serde-saphyr` serializes and quotes every string that a YAML 1.1 or 1.2 reader could take
//! for something else (`"yes"`, `"0777"`, `"12:30"`, `"a: b"`, `""`), so we lean on it and only
//! choose the key order: `serde_json::Value` keeps its keys sorted, which would put `kind`
//! after `apiVersion` by luck but `name` after `labels`, and `spec` fields alphabetically.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// Keys of an object's top level, in the order `kubectl` prints them.
const TOP_LEVEL: &[&str] = &["apiVersion", "kind", "metadata", "spec", "data", "binaryData", "items", "status"];
/// Keys of `metadata`.
const METADATA: &[&str] = &["name", "generateName", "namespace", "labels", "annotations"];
/// Keys of nested objects: names first, then selector parts.
const NESTED: &[&str] = &["name", "namespace", "key", "operator", "values", "value", "matchLabels", "matchExpressions"];

/// Error of [`to_yaml`].
#[derive(Debug, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct EmitError(#[from] serde_saphyr::SerializeError);

/// Writes `value` as one YAML document, with no `---` marker. Top-level keys come in
/// `kubectl`'s order, `metadata` starts with `name`, and `spec` keys follow `spec_order`; keys
/// not named in an order follow the named ones, alphabetically.
pub fn to_yaml(value: &Value, spec_order: &[&str]) -> Result<String, EmitError> {
    let root = Ordered { value, level: Level::Top, spec_order };
    Ok(serde_saphyr::to_string(&root)?)
}

/// Where a value sits in the document, which decides the order of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The document itself.
    Top,
    /// The top level's `metadata`.
    Metadata,
    /// The top level's `spec`.
    Spec,
    /// Anywhere else.
    Nested,
}

/// A value serialized with its object keys in a chosen order.
struct Ordered<'a> {
    value: &'a Value,
    level: Level,
    /// Order of the keys of the top level's `spec`.
    spec_order: &'a [&'a str],
}

impl Ordered<'_> {
    /// The order of this object's keys.
    fn order(&self) -> &[&str] {
        match self.level {
            Level::Top => TOP_LEVEL,
            Level::Metadata => METADATA,
            Level::Spec => self.spec_order,
            Level::Nested => NESTED,
        }
    }

    /// The level of the value found under `key` of this one.
    fn child_level(&self, key: &str) -> Level {
        match (self.level, key) {
            (Level::Top, "metadata") => Level::Metadata,
            (Level::Top, "spec") => Level::Spec,
            _ => Level::Nested,
        }
    }
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Object(map) => {
                let order = self.order();
                let rank = |key: &str| order.iter().position(|k| *k == key).unwrap_or(usize::MAX);
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    let level = self.child_level(key);
                    out.serialize_entry(key, &Ordered { value, level, spec_order: self.spec_order })?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    out.serialize_element(&Ordered { value, level: Level::Nested, spec_order: self.spec_order })?;
                }
                out.end()
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::stream::{parse_document, split_documents};
    use proptest::prelude::*;
    use serde_json::json;

    fn parse_back(text: &str) -> Value {
        let documents = split_documents(text);
        assert_eq!(documents.len(), 1, "one document in {text:?}");
        parse_document(&documents[0]).expect("emitted YAML parses").unwrap_or(Value::Null)
    }

    /// Strings a YAML reader could take for something other than that string.
    const TRICKY: &[&str] = &[
        "",
        " ",
        "  x",
        "x ",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Y",
        "N",
        "True",
        "FALSE",
        "~",
        "null",
        "Null",
        "0777",
        "0x1F",
        "0o17",
        "0b101",
        "1e3",
        "1_000",
        ".5",
        "+1",
        "-1",
        "1.",
        ".inf",
        "-.Inf",
        ".NaN",
        "12:30",
        "64512:10",
        "65535:65282",
        "a: b",
        "a #b",
        "#x",
        "-",
        "- x",
        "?",
        "? x",
        ":",
        "[x]",
        "{x}",
        "*x",
        "&x",
        "!x",
        "|",
        ">",
        "@x",
        "`x",
        "%x",
        "'x",
        "\"x",
        ",x",
        "x\n y",
        "multi\nline\n",
        "trailing\n\n",
        "tab\tx",
        "\tlead",
        "cr\rx",
        "2001:db8::1",
        "::",
        "203.0.113.0/24",
        "198.51.100.1-198.51.100.9",
        "90s",
        "é",
        "bell\u{7}",
        "nel\u{85}x",
        "bom\u{feff}",
        "<<",
        "=",
        "---",
        "...",
        "--- x",
        "2024-01-01",
    ];

    #[test]
    fn tricky_strings_survive_a_round_trip() {
        for s in TRICKY {
            let value = json!({ "k": s, "list": [s], *s: 1 });
            let text = to_yaml(&value, &[]).expect("emits");
            assert_eq!(parse_back(&text), value, "round trip of {s:?} through\n{text}");
        }
    }

    #[test]
    fn strings_yaml_1_1_reads_as_other_types_are_quoted() {
        // `kubectl` reads YAML 1.1, where these are booleans, octal or sexagesimal numbers.
        for s in ["yes", "no", "on", "off", "y", "N", "0777", "1_000", "12:30", "~", ""] {
            let text = to_yaml(&json!({ "k": s }), &[]).expect("emits");
            assert!(text.contains(&format!("\"{s}\"")) || text.contains(&format!("'{s}'")), "{s:?} unquoted: {text}");
        }
    }

    #[test]
    fn numbers_booleans_nulls_and_empty_collections_round_trip() {
        let value = json!({"n": [0, -2, 1.5, 4294967295u64, true, false, null, {}, [], [[]], {"a": {}}]});
        assert_eq!(parse_back(&to_yaml(&value, &[]).expect("emits")), value);
    }

    #[test]
    fn keys_come_in_kubectl_order() {
        let value = json!({
            "spec": {"b": 1, "a": 2, "z": 3},
            "metadata": {"labels": {"x": "y"}, "name": "n", "annotations": {}},
            "kind": "K",
            "apiVersion": "v1",
            "extra": 1,
        });
        let text = to_yaml(&value, &["z", "b"]).expect("emits");
        let keys: Vec<&str> = text.lines().filter_map(|l| l.split(':').next()).collect();
        assert_eq!(
            keys,
            [
                "apiVersion",
                "kind",
                "metadata",
                "  name",
                "  labels",
                "    x",
                "  annotations",
                "spec",
                "  z",
                "  b",
                "  a",
                "extra"
            ]
        );
    }

    fn arbitrary_string() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(TRICKY).prop_map(str::to_string),
            "[ -~]{0,12}",
            "[a-z0-9:#\\-\\[\\]{},&*!|>'\"%@` \\n\\t]{0,10}",
            any::<String>(),
        ]
    }

    fn arbitrary_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            arbitrary_string().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map(arbitrary_string(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_survives_a_round_trip(value in arbitrary_value()) {
            let document = json!({ "v": value });
            let text = to_yaml(&document, &[]).expect("emits");
            prop_assert_eq!(parse_back(&text), document, "through\n{}", text);
        }
    }
}
