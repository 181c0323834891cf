//! Splitting a YAML stream into its documents, and parsing one document.
//!
//! We split the stream ourselves, on the `---` and `...` markers, instead of letting the parser
//! read the whole stream: then a syntax error in one document names that document, the other
//! documents still parse (so every error is reported in one run), and a document we pass
//! through untouched keeps its exact text and comments. YAML forbids a marker at the start of a
//! line inside any content, so a line-based split is exact.

use serde_json::Value;

/// One document of a YAML stream, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDocument<'a> {
    /// Position among the stream's non-empty documents, counting from 1.
    pub index: usize,
    /// Line of the stream (counting from 1) on which the document's text starts.
    pub start_line: usize,
    /// The document's text, without its `---` / `...` markers.
    pub text: &'a str,
}

/// A document that is not valid YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// Line in the whole stream, counting from 1.
    pub line: u64,
    /// Column, counting from 1.
    pub column: u64,
    /// What the parser said.
    pub message: String,
}

/// Splits `stream` into its documents, leaving out those with no content (only blank lines,
/// comments or directives), as `kubectl` does.
pub fn split_documents(stream: &str) -> Vec<RawDocument<'_>> {
    let mut documents = Vec::new();
    let mut start = 0usize; // byte offset of the current document's text
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (line_number, line) in (1usize..).zip(stream.split_inclusive('\n')) {
        let next = offset + line.len();
        if let Some((marker, rest)) = marker(line) {
            push(&mut documents, &stream[start..offset], start_line);
            // Text after `---` on the same line (`--- |`, `--- {a: 1}`) belongs to the next document.
            if marker == Marker::Start && has_content(&line[rest..]) {
                (start, start_line) = (offset + rest, line_number);
            } else {
                (start, start_line) = (next, line_number + 1);
            }
        }
        offset = next;
    }
    push(&mut documents, &stream[start..], start_line);
    documents
}

/// Adds the document `text` to `documents` unless it has no content.
fn push<'a>(documents: &mut Vec<RawDocument<'a>>, text: &'a str, start_line: usize) {
    if has_content(text) {
        documents.push(RawDocument { index: documents.len() + 1, start_line, text });
    }
}

/// Parses one document into a value, or `None` when it holds only a null.
pub fn parse_document(document: &RawDocument<'_>) -> Result<Option<Value>, SyntaxError> {
    // Blank lines in front make the parser's line numbers those of the whole stream.
    let padded = format!("{}{}", "\n".repeat(document.start_line.saturating_sub(1)), document.text);
    let options = serde_saphyr::options! {
        with_snippet: false,
        // As `kubectl` (YAML 1.1) reads them: `0755` is not the number 755.
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
    };
    match serde_saphyr::from_str_with_options::<Value>(&padded, options) {
        Ok(Value::Null) => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(error) => {
            let (line, column) = error.location().map_or((document.start_line as u64, 1), |l| (l.line(), l.column()));
            let message = error.to_string();
            // The parser ends its message with the location we report in front of it.
            let message = match message.rfind(" at line ") {
                Some(cut) => message[..cut].to_string(),
                None => message,
            };
            Err(SyntaxError { line, column, message })
        }
    }
}

/// The two document markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `---`: a document starts.
    Start,
    /// `...`: a document ends.
    End,
}

/// For a line holding a document marker, the marker and the byte offset in `line` of the text
/// after it; `None` for other lines.
fn marker(line: &str) -> Option<(Marker, usize)> {
    let (marker, rest) = if let Some(rest) = line.strip_prefix("---") {
        (Marker::Start, rest)
    } else {
        (Marker::End, line.strip_prefix("...")?)
    };
    if !(rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n'])) {
        return None;
    }
    let text = rest.trim_start_matches([' ', '\t']);
    Some((marker, line.len() - text.len()))
}

/// Whether a document's text holds anything but blank lines, comments and directives.
fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let trimmed = line.trim();
        !trimmed.is_empty() && !trimmed.starts_with('#') && !line.starts_with('%')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(stream: &str) -> Vec<(usize, usize, &str)> {
        split_documents(stream).into_iter().map(|d| (d.index, d.start_line, d.text)).collect()
    }

    #[test]
    fn splits_on_markers_and_skips_empty_documents() {
        let stream = "---\na: 1\n---\n# only a comment\n---\n\nb: 2\n...\n---\nc: 3";
        assert_eq!(texts(stream), vec![(1, 2, "a: 1\n"), (2, 6, "\nb: 2\n"), (3, 10, "c: 3")]);
    }

    #[test]
    fn a_stream_without_markers_is_one_document() {
        assert_eq!(texts("a: 1\nb: 2\n"), vec![(1, 1, "a: 1\nb: 2\n")]);
        assert!(split_documents("").is_empty());
        assert!(split_documents("# nothing\n\n").is_empty());
    }

    #[test]
    fn dashes_that_are_not_markers_stay_in_the_document() {
        let stream = "a: |\n  ---\nb: ---x\n----\n";
        assert_eq!(texts(stream), vec![(1, 1, stream)]);
    }

    #[test]
    fn text_after_the_marker_belongs_to_the_next_document() {
        let stream = "a: 1\n--- |\n  text\n";
        let documents = split_documents(stream);
        assert_eq!(documents[1].start_line, 2);
        assert_eq!(parse_document(&documents[1]).expect("parses"), Some(json!("text\n")));
        let flow = split_documents("--- {a: 1}\n");
        assert_eq!(parse_document(&flow[0]).expect("parses"), Some(json!({"a": 1})));
    }

    #[test]
    fn windows_line_endings_split_too() {
        let documents = split_documents("a: 1\r\n---\r\nb: 2\r\n");
        assert_eq!(documents.len(), 2);
        assert_eq!(parse_document(&documents[1]).expect("parses"), Some(json!({"b": 2})));
    }

    #[test]
    fn syntax_errors_carry_the_line_of_the_whole_stream() {
        let stream = "a: 1\n---\nb: 2\n---\nc: [1, 2\n";
        let documents = split_documents(stream);
        assert_eq!(parse_document(&documents[1]).expect("parses"), Some(json!({"b": 2})));
        let error = parse_document(&documents[2]).expect_err("unclosed bracket");
        assert_eq!((error.line, error.column), (5, 4));
        assert!(error.message.contains("unclosed bracket"), "{error}");
        assert!(!error.message.contains(" at line "), "{error}");
    }

    #[test]
    fn scalars_are_read_as_kubectl_reads_them() {
        let documents = split_documents("mode: 0755\nn: 1_000\nyes: on\nt: 90s\nnull_doc: ~\n");
        let value = parse_document(&documents[0]).expect("parses").expect("a mapping");
        assert_eq!(value, json!({"mode": "0755", "n": "1_000", "yes": true, "t": "90s", "null_doc": null}));
        assert_eq!(parse_document(&split_documents("~\n")[0]).expect("parses"), None);
    }
}
