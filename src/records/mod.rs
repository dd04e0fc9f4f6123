//! Streaming record readers (CSV, JSON Lines, JSON array, standard input) and attribute discovery.
//!
//! Records are numbered from 1 in input order. A record that cannot be read becomes a
//! [`RecordError`] carrying its number and line, and reading goes on with the next one. When the
//! input is broken in a way that hides where the next record starts (an unclosed bracket, an I/O
//! error), the reader yields one last error whose message starts with `stopped reading:` and ends;
//! nothing is ever dropped without a report.
//!
//! Readers never hold more than one record in memory: a record larger than the cap
//! (`source.max_record_bytes`, [`MAX_RECORD_BYTES`] by default) is reported and skipped rather
//! than buffered, and reading goes on with the next record.
//!
//! An empty input (no bytes, only whitespace, or for CSV no header row) yields zero records; it is
//! not an error, but [`RecordReader::notes`] says so. A file that cannot be read as set (UTF-16
//! read as UTF-8, rows wrapped whole in quotes, another CSV delimiter) is refused when opened,
//! with the setting that reads it.

mod csv;
mod decode;
mod detect;
mod discover;
mod json;
mod jsonl;
mod path;
mod strict;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use detect::format_from_extension;
pub use discover::{Attribute, JsonKind, count_records, discover};
pub use path::get_path;

/// The largest record a reader accepts by default, in bytes of input. Larger records are
/// reported as unreadable and skipped, so memory stays bounded whatever the input holds.
pub const MAX_RECORD_BYTES: usize = crate::destination::DEFAULT_MAX_RECORD_BYTES as usize;

/// How to read an input: its format (else the extension, else sniffed) and the destination's
/// `[source]` reading settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    pub format: Option<Format>,
    pub encoding: crate::destination::Encoding,
    pub csv: crate::destination::CsvOptions,
    pub max_record_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            encoding: Default::default(),
            csv: Default::default(),
            max_record_bytes: MAX_RECORD_BYTES,
        }
    }
}

impl ReadOptions {
    /// The options for reading a destination's source. When the command line names another
    /// input (`--input`), its extension decides the format, not `source.format`; an explicit
    /// `--format` decides over both.
    pub fn for_source(
        source: &crate::destination::Source,
        input_overridden: bool,
        format_flag: Option<Format>,
    ) -> Self {
        Self {
            format: format_flag.or(if input_overridden {
                None
            } else {
                source.format
            }),
            encoding: source.encoding,
            csv: source.csv,
            max_record_bytes: usize::try_from(source.max_record_bytes).unwrap_or(usize::MAX),
        }
    }
}

/// Read buffer size for files and standard input.
const READ_BUFFER: usize = 64 * 1024;

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

/// A record that could not be read. Reading continues after it, unless its message starts with
/// `stopped reading:`, in which case it is the last item of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {no} (line {line}): {message}")]
pub struct RecordError {
    pub no: RecordNo,
    pub line: u64,
    pub message: String,
}

impl RecordError {
    /// True when this error ended the reading: the rest of the input was not read.
    pub fn stopped_reading(&self) -> bool {
        self.message.starts_with(STOPPED)
    }
}

const STOPPED: &str = "stopped reading: ";

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
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

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    /// Reads a command-line argument: `-` is standard input, anything else a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Input {
        Input::Path(path)
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Path(path) => write!(f, "{}", path.display()),
            Input::Stdin => f.write_str("standard input"),
        }
    }
}

/// An input that cannot be read at all. `input` names the file (or `standard input`).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open {input}: {source}")]
    Open {
        input: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {input}: it is a directory, not a file")]
    NotAFile { input: String },
    #[error("cannot read {input}: {source}")]
    Read {
        input: String,
        #[source]
        source: io::Error,
    },
    #[error("{input}: the CSV header row (line {line}) {problem}")]
    CsvHeader {
        input: String,
        line: u64,
        problem: String,
    },
    #[error("{input}: {problem}")]
    Misread { input: String, problem: String },
}

type Source = Box<dyn BufRead + Send>;

/// Opens `input` and returns a streaming reader over its records.
///
/// The format is `format` when given, else the file extension (`.csv`, `.jsonl`, `.ndjson`,
/// `.json`), else sniffed from the first bytes (`[` → JSON, a first line that is a whole JSON
/// value → JSON Lines, `{` otherwise → JSON, anything else → CSV).
pub fn open(input: &Input, format: Option<Format>) -> Result<RecordReader, OpenError> {
    open_with(
        input,
        ReadOptions {
            format,
            ..ReadOptions::default()
        },
    )
}

/// Opens `input` with the destination's reading settings (see [`ReadOptions::for_source`]).
pub fn open_with(input: &Input, options: ReadOptions) -> Result<RecordReader, OpenError> {
    let name = input.to_string();
    let source: Source = match input {
        Input::Path(path) => {
            let file = File::open(path).map_err(|source| OpenError::Open {
                input: name.clone(),
                source,
            })?;
            let meta = file.metadata().map_err(|source| OpenError::Open {
                input: name.clone(),
                source,
            })?;
            if meta.is_dir() {
                return Err(OpenError::NotAFile { input: name });
            }
            Box::new(BufReader::with_capacity(READ_BUFFER, file))
        }
        Input::Stdin => Box::new(BufReader::with_capacity(READ_BUFFER, io::stdin())),
    };
    let format = options.format.or_else(|| match input {
        Input::Path(path) => format_from_extension(path),
        Input::Stdin => None,
    });
    let read_error = |source| OpenError::Read {
        input: name.clone(),
        source,
    };
    let mut source = source;
    let mut notes = Vec::new();
    if options.encoding == crate::destination::Encoding::Utf8 {
        match detect::foreign_encoding(&mut source).map_err(read_error)? {
            Some(detect::Foreign::Refuse(problem)) => {
                return Err(OpenError::Misread {
                    input: name,
                    problem,
                });
            }
            Some(detect::Foreign::Note(note)) => notes.push(format!("{name}: {note}")),
            None => {}
        }
    }
    let mut source = decode::decoder(source, options.encoding).map_err(|e| {
        if e.kind() == io::ErrorKind::InvalidData {
            OpenError::Misread {
                input: name.clone(),
                problem: e.to_string(),
            }
        } else {
            read_error(e)
        }
    })?;
    let empty = detect::is_blank(&mut source).map_err(read_error)?;
    let (format, source) = match format {
        Some(format) => (format, source),
        None => detect::sniff(source).map_err(read_error)?,
    };
    let source = if format == Format::Csv && options.csv.unwrap_rows {
        decode::unwrap_rows(source)
    } else {
        source
    };
    let mut reader = build(source, format, &name, options)?;
    reader.notes = notes;
    if empty {
        reader
            .notes
            .push(format!("{name} is empty: there are no records to read"));
    } else if reader.columns().is_some_and(|c| c.is_empty()) {
        reader.notes.push(format!(
            "{name} holds no CSV header row: there are no records to read"
        ));
    }
    Ok(reader)
}

/// A reader over any buffered byte source, for standard input, tests and in-memory data.
/// Errors name the input as `input`.
pub fn from_reader(
    reader: impl BufRead + Send + 'static,
    format: Format,
) -> Result<RecordReader, OpenError> {
    build(Box::new(reader), format, "input", ReadOptions::default())
}

fn build(
    mut source: Source,
    format: Format,
    name: &str,
    options: ReadOptions,
) -> Result<RecordReader, OpenError> {
    let max_record_bytes = options.max_record_bytes;
    detect::skip_bom(&mut source).map_err(|source| OpenError::Read {
        input: name.to_string(),
        source,
    })?;
    let inner = match format {
        Format::Jsonl => Inner::Jsonl(jsonl::JsonlReader::new(source, max_record_bytes)),
        Format::Json => Inner::Json(json::JsonReader::new(source, max_record_bytes)),
        Format::Csv => Inner::Csv(Box::new(csv::CsvReader::new(
            source,
            name,
            max_record_bytes,
            options.csv,
        )?)),
    };
    Ok(RecordReader {
        format,
        inner,
        notes: Vec::new(),
    })
}

/// Streams the records of one input in order. See the module documentation for its guarantees.
pub struct RecordReader {
    format: Format,
    inner: Inner,
    notes: Vec<String>,
}

enum Inner {
    Jsonl(jsonl::JsonlReader),
    Json(json::JsonReader),
    Csv(Box<csv::CsvReader>),
}

impl RecordReader {
    /// The format being read (given, from the extension, or sniffed).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Things to tell a person once about the whole input (it is empty, say).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The CSV header row, in column order; `None` for JSON formats.
    pub fn columns(&self) -> Option<&[String]> {
        match &self.inner {
            Inner::Csv(reader) => Some(reader.columns()),
            _ => None,
        }
    }

    /// Counts the items (records and errors) left, without building records.
    fn count_rest(self) -> io::Result<u64> {
        match self.inner {
            Inner::Jsonl(reader) => reader.count_rest(),
            Inner::Json(reader) => reader.count_rest(),
            Inner::Csv(reader) => reader.count_rest(),
        }
    }
}

impl fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordReader")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Iterator for RecordReader {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Jsonl(reader) => reader.next(),
            Inner::Json(reader) => reader.next(),
            Inner::Csv(reader) => reader.next(),
        }
    }
}

/// Hands out record numbers; every item a reader yields takes the next one.
#[derive(Debug, Default)]
struct Numbering(u64);

impl Numbering {
    fn take(&mut self) -> RecordNo {
        self.0 += 1;
        RecordNo(self.0)
    }
}

/// Turns a parsed JSON value into a record, or says what was found instead of an object.
fn object_record(no: RecordNo, line: u64, value: serde_json::Value) -> Result<Record, RecordError> {
    match value {
        serde_json::Value::Object(value) => Ok(Record { no, line, value }),
        other => Err(RecordError {
            no,
            line,
            message: format!(
                "expected a JSON object, found {}",
                JsonKind::of(&other).with_article()
            ),
        }),
    }
}

/// A record whose object names a key twice: which value was meant cannot be known.
fn duplicate_key_error(no: RecordNo, line: u64, key: &str) -> RecordError {
    RecordError {
        no,
        line,
        message: format!(
            "the key `{key}` appears twice in the record; keep one so the value sent is the one \
             meant"
        ),
    }
}

/// serde_json's message without its trailing ` at line L column C`, which is relative to the
/// fragment it was given rather than to the input.
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_string(),
        _ => text,
    };
    if text.starts_with("recursion limit exceeded") {
        "nested more than 128 levels deep".to_string()
    } else {
        text
    }
}

fn limit_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests;
