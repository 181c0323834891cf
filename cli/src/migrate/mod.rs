//! `ferrolb migrate`: MetalLB configuration to FerroLB's, as values.
//!
//! A [`Migration`] takes YAML streams (a file's or standard input's text) one after the other,
//! converts each document, and finally checks what only the whole set shows (two inputs that
//! become the same cluster-scoped object). [`render`] writes the result as one YAML stream in
//! which every document says where it came from and what was not carried over.
//!
//! What is converted, by input:
//! - MetalLB's custom resources (`metallb.io`): [`crds`], by changing the apiVersion;
//! - MetalLB's deprecated `AddressPool`: [`address_pool`];
//! - MetalLB's legacy ConfigMap: [`legacy`];
//! - anything else passes through unchanged.

mod address_pool;
mod crds;
mod document;
mod error;
mod kinds;
mod legacy;
mod meta;
mod render;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub use error::{ConvertError, MigrateError};
pub use kinds::API_VERSION;
pub use render::render;

use crate::yaml::{parse_document, split_documents};

/// Where an output document came from: an input object, by kind, name and place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The input's name (`<stdin>` for standard input).
    pub file: String,
    /// The input document's position in its input, counting from 1.
    pub document: usize,
    /// For a document that is a List (as `kubectl get -o yaml` writes), the item's index.
    pub item: Option<usize>,
    /// The input object's kind, or `<no kind>`.
    pub kind: String,
    /// The input object's name, or `<unnamed>`.
    pub name: String,
    /// The input object's namespace, if it had one.
    pub namespace: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} ({}#{}", self.kind, self.name, self.file, self.document)?;
        match self.item {
            Some(item) => write!(f, " items[{item}])"),
            None => write!(f, ")"),
        }
    }
}

/// Something a reader of the output should know about one object: mostly, what was not
/// carried over and why. Written as a YAML comment above the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What the note is about, usually the output object as `Kind/name`.
    pub subject: String,
    /// The note, e.g. `spec.disableMP is not carried over: ...`.
    pub text: String,
}

impl Note {
    /// A note about `subject`.
    pub(crate) fn new(subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self { subject: subject.into(), text: text.into() }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.text)
    }
}

/// What an output document holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// An object, converted or passed through, to be written as YAML.
    Object(Value),
    /// An input document passed through as its exact text, comments included.
    Raw(String),
    /// Nothing: the input is not carried over at all, and the notes say why.
    Nothing,
}

/// One output document.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The input it came from.
    pub origin: Origin,
    /// What the reader should know about it.
    pub notes: Vec<Note>,
    /// The document.
    pub body: Body,
}

impl Output {
    /// The output's object, if it has one as a value (a converted object, or a List's item).
    pub fn object(&self) -> Option<&Value> {
        match &self.body {
            Body::Object(value) => Some(value),
            Body::Raw(_) | Body::Nothing => None,
        }
    }
}

/// What a conversion makes of one input object: an object (or none) and notes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Produced {
    /// The FerroLB object, if any.
    pub object: Option<Value>,
    /// Notes about it.
    pub notes: Vec<Note>,
}

/// A migration of any number of inputs, in order.
#[derive(Debug, Default)]
pub struct Migration {
    outputs: Vec<Output>,
    errors: Vec<MigrateError>,
}

impl Migration {
    /// A migration with no input yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Converts every document of the YAML stream `text`, read from the input named `file`.
    /// A document that cannot be read or converted is recorded as an error, and the others
    /// are still converted, so that [`Migration::finish`] reports every error at once.
    pub fn add_stream(&mut self, file: &str, text: &str) {
        for raw in split_documents(text) {
            match parse_document(&raw) {
                Ok(Some(value)) => {
                    document::convert(file, raw.index, &value, raw.text, &mut self.outputs, &mut self.errors);
                }
                Ok(None) => {}
                Err(problem) => {
                    self.errors.push(MigrateError::Syntax { file: file.to_string(), document: raw.index, problem });
                }
            }
        }
    }

    /// The output documents, in input order, or every error met.
    pub fn finish(mut self) -> Result<Vec<Output>, Vec<MigrateError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        note_collisions(&mut self.outputs);
        Ok(self.outputs)
    }
}

/// Notes every FerroLB object whose kind and name another output object also has: MetalLB's
/// kinds were namespaced and FerroLB's are not, so `kubectl apply` would let one replace the other.
fn note_collisions(outputs: &mut [Output]) {
    let mut by_name: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, output) in outputs.iter().enumerate() {
        let Some(object) = output.object() else { continue };
        if object["apiVersion"] != API_VERSION {
            continue;
        }
        let (Some(kind), Some(name)) = (object["kind"].as_str(), object["metadata"]["name"].as_str()) else { continue };
        by_name.entry((kind.to_string(), name.to_string())).or_default().push(i);
    }
    for ((kind, name), indices) in by_name.into_iter().filter(|(_, indices)| indices.len() > 1) {
        for &i in &indices {
            let others: Vec<String> = indices
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| {
                    let origin = &outputs[j].origin;
                    let namespace =
                        origin.namespace.as_deref().map(|ns| format!(", namespace {ns}")).unwrap_or_default();
                    format!("{origin}{namespace}")
                })
                .collect();
            let text = format!(
                "the same name is also made from {}; FerroLB's {kind} is cluster-scoped, so applying both keeps only \
                 the last one: rename one of them",
                others.join(" and ")
            );
            outputs[i].notes.push(Note::new(format!("{kind}/{name}"), text));
        }
    }
}
