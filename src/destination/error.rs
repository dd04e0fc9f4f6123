//! Destination file errors that name the file, line, column, key and what was expected.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// A problem found after parsing, located by its key path (`["request", "url"]`,
/// `["mapping", "2"]` for the third mapping entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<String>,
    pub message: String,
}

impl Problem {
    pub fn new(path: &[&str], message: String) -> Self {
        Self {
            path: path.iter().map(|p| p.to_string()).collect(),
            message,
        }
    }

    /// The key path as a reader writes it: `request.url`, `mapping[2]`.
    pub fn key(&self) -> String {
        let mut key = String::new();
        for part in &self.path {
            if part.parse::<usize>().is_ok() {
                key.push_str(&format!("[{part}]"));
            } else {
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(part);
            }
        }
        key
    }
}

/// One located error line: `file:line:column: key: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error("{path}: cannot read the destination file: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write the destination file: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render(.origin, .errors))]
    Invalid {
        origin: String,
        errors: Vec<Located>,
    },
}

fn render(origin: &str, errors: &[Located]) -> String {
    errors
        .iter()
        .map(|e| match &e.key {
            Some(key) => format!("{origin}:{}:{}: `{key}`: {}", e.line, e.column, e.message),
            None => format!("{origin}:{}:{}: {}", e.line, e.column, e.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl DestinationError {
    pub(super) fn parse(origin: &str, text: &str, err: &toml::de::Error) -> Self {
        let (line, column) = err
            .span()
            .map(|s| line_column(text, s.start))
            .unwrap_or((1, 1));
        let message = err.message().trim().replace('\n', " ");
        // A missing key has no line of its own; naming the key found at the span would mislead.
        let key = if message.starts_with("missing field") {
            None
        } else {
            key_at(text, err.span())
        };
        Self::Invalid {
            origin: origin.to_string(),
            errors: vec![Located {
                line,
                column,
                key,
                message,
            }],
        }
    }

    /// Problems located in `text` by their key paths: the file's own checks use it, and so does
    /// anything else that finds a problem with a setting (a plan problem carrying its key path),
    /// so every such message reads `file:line:column: `key`: message`.
    pub fn invalid(origin: &str, text: &str, problems: Vec<Problem>) -> Self {
        let errors = problems
            .into_iter()
            .map(|problem| {
                let (line, column) = locate(text, &problem.path)
                    .map(|span| line_column(text, span.start))
                    .unwrap_or((1, 1));
                Located {
                    line,
                    column,
                    key: Some(problem.key()),
                    message: problem.message,
                }
            })
            .collect();
        Self::Invalid {
            origin: origin.to_string(),
            errors,
        }
    }

    /// The located errors, for tests and the wizard.
    pub fn located(&self) -> &[Located] {
        match self {
            Self::Invalid { errors, .. } => errors,
            Self::Io { .. } | Self::Write { .. } => &[],
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The key at the start of the line holding a parse error, when the error points inside a
/// `key = value` line; gives the message a key name even when toml's message lacks one.
fn key_at(text: &str, span: Option<Range<usize>>) -> Option<String> {
    let start = floor_char_boundary(text, span?.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('[') && !key.starts_with('#')).then(|| key.to_string())
}

/// The span of the deepest key of `path` that exists in the document.
fn locate(text: &str, path: &[String]) -> Option<Range<usize>> {
    let table = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut current: &DeTable = table.get_ref();
    let mut iter = path.iter().peekable();
    while let Some(part) = iter.next() {
        let Some((key, value)) = current.get_key_value(part.as_str()) else {
            break;
        };
        best = Some(key.span());
        match value.get_ref() {
            DeValue::Table(inner) => current = inner,
            DeValue::Array(items) => {
                let Some(index) = iter.peek().and_then(|i| i.parse::<usize>().ok()) else {
                    break;
                };
                iter.next();
                let Some(item) = items.get(index) else {
                    break;
                };
                best = Some(item.span());
                match item.get_ref() {
                    DeValue::Table(inner) => current = inner,
                    _ => break,
                }
            }
            _ => break,
        }
    }
    best
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version = 1\n\n[request]\nurl = \"/v1/contacts\"\nheaders = { X-Note = \"a\" }\n\n[[mapping]]\ntarget = \"a\"\n\n[[mapping]]\ntarget = \"b\"\n";

    fn at(path: &[&str]) -> String {
        DestinationError::invalid("d.toml", TEXT, vec![Problem::new(path, "bad".into())])
            .to_string()
    }

    #[test]
    fn a_key_path_is_printed_at_its_line_and_column() {
        assert_eq!(at(&["request", "url"]), "d.toml:4:1: `request.url`: bad");
        assert_eq!(
            at(&["request", "headers", "X-Note"]),
            "d.toml:5:13: `request.headers.X-Note`: bad"
        );
        // an array-of-tables entry starts at its `[[mapping]]` header
        assert_eq!(at(&["mapping", "1"]), "d.toml:10:1: `mapping[1]`: bad");
        // A key the file does not hold is placed at its deepest part that exists.
        assert_eq!(at(&["request", "body"]), "d.toml:3:2: `request.body`: bad");
    }
}
