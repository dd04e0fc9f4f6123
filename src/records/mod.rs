//! Streaming record readers (CSV, JSON Lines, JSON array, standard input) and attribute discovery.
//!
//! Records are numbered from 1 in input order. A record that cannot be read becomes a
//! [`RecordError`] carrying its number and line, and reading goes on with the next one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 1-based position of a record in its input. Unreadable records take a number too, so a
/// number always means the same record of the same input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordNo(pub u64);

impl fmt::Display for RecordNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One record: a JSON object whatever the input format (CSV cells become strings).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub no: RecordNo,
    /// The line of the input where the record starts (1-based).
    pub line: u64,
    pub value: serde_json::Map<String, serde_json::Value>,
}

/// A record that could not be read. Reading continues after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {no} (line {line}): {message}")]
pub struct RecordError {
    pub no: RecordNo,
    pub line: u64,
    pub message: String,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
