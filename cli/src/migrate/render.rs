//! Writing the outputs as one YAML stream that `kubectl apply -f -` takes as it is.

use std::fmt::Write as _;

use super::kinds;
use super::{Body, Output};
use crate::yaml::{EmitError, to_yaml};

/// Writes `outputs` as YAML documents separated by `---`. Each starts with a comment naming
/// its input (`# from: Kind/name (file#document)`), then one comment per note
/// (`# ferrolb migrate: ...`). An output with nothing to apply is only comments.
pub fn render(outputs: &[Output]) -> Result<String, EmitError> {
    let mut out = String::new();
    for (i, output) in outputs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        comment(&mut out, "from: ", &output.origin.to_string());
        for note in &output.notes {
            comment(&mut out, "ferrolb migrate: ", &note.to_string());
        }
        match &output.body {
            Body::Object(value) => {
                let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
                out.push_str(&to_yaml(value, kinds::spec_order(kind))?);
            }
            Body::Raw(text) => {
                out.push_str(text.trim_end());
                out.push('\n');
            }
            Body::Nothing => {}
        }
    }
    Ok(out)
}

/// Appends `prefix` and `text` as one comment line; line breaks in `text` (from names or values
/// in the input) become spaces so that they cannot end the comment.
fn comment(out: &mut String, prefix: &str, text: &str) {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# {prefix}{text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::{Note, Origin};
    use serde_json::json;

    fn origin(kind: &str) -> Origin {
        Origin {
            file: "in.yaml".to_string(),
            document: 2,
            item: None,
            kind: kind.to_string(),
            name: "a\nb".to_string(),
            namespace: None,
        }
    }

    #[test]
    fn documents_carry_their_origin_and_notes_as_comments() {
        let outputs = [
            Output {
                origin: origin("BGPPeer"),
                notes: vec![Note::new("BGPPeer/x", "spec.disableMP is not carried over: why")],
                body: Body::Object(json!({
                    "spec": {"peerAddress": "192.0.2.1", "myASN": 64600},
                    "metadata": {"name": "x"}, "kind": "BGPPeer", "apiVersion": "ferrolb.io/v1beta1",
                })),
            },
            Output { origin: origin("Service"), notes: vec![], body: Body::Raw("# kept\nkind: Service\n\n\n".into()) },
            Output { origin: origin("ServiceL2Status"), notes: vec![Note::new("S/x", "gone")], body: Body::Nothing },
        ];
        let text = render(&outputs).expect("renders");
        assert_eq!(
            text,
            "# from: BGPPeer/a b (in.yaml#2)\n\
             # ferrolb migrate: BGPPeer/x: spec.disableMP is not carried over: why\n\
             apiVersion: ferrolb.io/v1beta1\nkind: BGPPeer\nmetadata:\n  name: x\nspec:\n  myASN: 64600\n  \
             peerAddress: \"192.0.2.1\"\n\
             ---\n# from: Service/a b (in.yaml#2)\n# kept\nkind: Service\n\
             ---\n# from: ServiceL2Status/a b (in.yaml#2)\n# ferrolb migrate: S/x: gone\n"
        );
    }
}
