//! YAML in and out: splitting a stream into documents, parsing one, writing one.

mod emit;
mod stream;

pub use emit::{EmitError, to_yaml};
pub use stream::{RawDocument, SyntaxError, parse_document, split_documents};
