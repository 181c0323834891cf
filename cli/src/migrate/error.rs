//! What can go wrong while migrating, worded for the person who wrote the input.

use serde_json::Value;

use crate::yaml::SyntaxError;

/// A document that parses as YAML but cannot be converted, with the place in the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A field holds the wrong type of value.
    #[error("{path} should be {expected}, not {found}")]
    WrongType {
        /// Where the field is, e.g. `spec` or `data.config: peers[1].peer-asn`.
        path: String,
        /// What it should hold, e.g. `a mapping`.
        expected: &'static str,
        /// What it holds.
        found: &'static str,
    },
    /// A field the conversion needs is absent.
    #[error("{path} is missing; {why}")]
    Missing {
        /// Where the field should be.
        path: String,
        /// Why it is needed.
        why: &'static str,
    },
    /// A string field that holds YAML (the legacy ConfigMap's `data.config`) does not parse.
    #[error("{path} is not valid YAML: {problem}")]
    Syntax {
        /// The field.
        path: String,
        /// What the parser said; its lines count within the field's text.
        problem: SyntaxError,
    },
}

impl ConvertError {
    /// A [`ConvertError::WrongType`] for `found` at `path`.
    pub(crate) fn wrong_type(path: impl Into<String>, expected: &'static str, found: &Value) -> Self {
        Self::WrongType { path: path.into(), expected, found: type_name(found) }
    }
}

/// An input document that cannot be migrated: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    /// The document is not valid YAML.
    #[error("{file}: document {document} is not valid YAML: {problem}")]
    Syntax {
        /// The input's name, as given on the command line (`<stdin>` for standard input).
        file: String,
        /// The document's position in the input, counting from 1.
        document: usize,
        /// What the parser said.
        problem: SyntaxError,
    },
    /// The document is YAML but cannot be converted.
    #[error("{file}: document {document} ({object}): {problem}")]
    Convert {
        /// The input's name.
        file: String,
        /// The document's position in the input, counting from 1.
        document: usize,
        /// The object, as `Kind/name`.
        object: String,
        /// What is wrong.
        problem: ConvertError,
    },
}

/// How a value's type is named in messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
