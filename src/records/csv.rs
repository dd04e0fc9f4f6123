//! CSV with a header row: each row becomes an object keyed by the header names, cells as strings.

use std::collections::VecDeque;
use std::io::{self, Read};

use serde_json::{Map, Value};

use super::{Numbering, OpenError, Record, RecordError, STOPPED, Source, limit_text};
use crate::destination::{CsvOptions, Delimiter};

/// Slack on top of the record limit: the csv crate reads ahead by its own buffer.
const READ_AHEAD: u64 = 64 * 1024;

/// Refuses to hand out bytes beyond `limit`, which the reader moves forward after each record.
/// This keeps one runaway record (an unclosed quote swallowing the rest of the file) from being
/// buffered whole by the csv crate.
///
/// It also notes where the newlines it hands out are, because the csv crate's positions count a
/// record's `\n` either before or after the record depending on CRLF vs LF and blank lines; the
/// byte just before a record's end tells which.
struct Bounded {
    source: Source,
    delivered: u64,
    limit: u64,
    /// Offsets of `\n` bytes handed out and not yet passed by the reader.
    newlines: VecDeque<u64>,
    /// The source has no more bytes.
    eof: bool,
    /// The last byte handed out that is not whitespace: a `"` there means the input does not end
    /// inside an open quote.
    last_visible: Option<u8>,
    /// Whether the bytes handed out so far leave a quoted field open (each `"` toggles it; a
    /// doubled `""` toggles twice). Tells where a record too large to read ends.
    in_quotes: bool,
    /// `\n` bytes handed out in all.
    lines: u64,
}

impl Bounded {
    fn new(source: Source, limit: u64) -> Self {
        Bounded {
            source,
            delivered: 0,
            limit,
            newlines: VecDeque::new(),
            eof: false,
            last_visible: None,
            in_quotes: false,
            lines: 0,
        }
    }
}

impl Bounded {
    /// Whether the byte at `offset` was a `\n`; forgets newlines before it.
    fn newline_at(&mut self, offset: u64) -> bool {
        while self.newlines.front().is_some_and(|&at| at < offset) {
            self.newlines.pop_front();
        }
        self.newlines.front() == Some(&offset)
    }
}

#[derive(Debug)]
struct RecordTooLarge;

impl std::fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too large")
    }
}

impl std::error::Error for RecordTooLarge {}

impl Read for Bounded {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.delivered >= self.limit {
            return Err(io::Error::other(RecordTooLarge));
        }
        let room = usize::try_from(self.limit - self.delivered).unwrap_or(usize::MAX);
        let want = out.len().min(room);
        let n = self.source.read(&mut out[..want])?;
        if n == 0 && want > 0 {
            self.eof = true;
        }
        if let Some(&b) = out[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last_visible = Some(b);
        }
        for (i, &b) in out[..n].iter().enumerate() {
            if b == b'\n' {
                self.newlines.push_back(self.delivered + i as u64);
                self.lines += 1;
            } else if b == b'"' {
                self.in_quotes = !self.in_quotes;
            }
        }
        self.delivered += n as u64;
        Ok(n)
    }
}

pub(super) struct CsvReader {
    reader: ::csv::Reader<Bounded>,
    columns: Vec<String>,
    row: ::csv::ByteRecord,
    max: usize,
    delimiter: u8,
    /// Lines before the current csv reader's first byte (a new reader starts after a record too
    /// large to read).
    line_base: u64,
    /// The first row, already read into `row` (at this line) to check a one-column header.
    peeked: Option<u64>,
    numbering: Numbering,
    done: bool,
}

impl CsvReader {
    pub(super) fn new(
        source: Source,
        name: &str,
        max: usize,
        options: CsvOptions,
    ) -> Result<Self, OpenError> {
        let bounded = Bounded::new(source, max as u64 + READ_AHEAD);
        let delimiter = options.delimiter.byte();
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bounded);
        let header_error = |line: u64, problem: String| OpenError::CsvHeader {
            input: name.to_string(),
            line,
            problem,
        };
        let headers = match reader.byte_headers() {
            Ok(headers) => headers.clone(),
            Err(e) => {
                return Err(match e.into_kind() {
                    ::csv::ErrorKind::Io(e) if is_too_large(&e) => header_error(
                        1,
                        format!("is longer than {}; is a quote left open?", limit_text(max)),
                    ),
                    ::csv::ErrorKind::Io(source) => OpenError::Read {
                        input: name.to_string(),
                        source,
                    },
                    other => header_error(1, format!("cannot be read: {other:?}")),
                });
            }
        };
        let line = start_line(&mut reader, 1, headers.as_slice());
        let mut columns = Vec::with_capacity(headers.len());
        for (i, cell) in headers.iter().enumerate() {
            let column = i + 1;
            let name = std::str::from_utf8(cell).map_err(|e| {
                header_error(
                    line,
                    format!(
                        "has invalid UTF-8 in column {column}, at byte {}",
                        e.valid_up_to() + 1
                    ),
                )
            })?;
            if name.is_empty() {
                return Err(header_error(
                    line,
                    format!(
                        "has no name for column {column}; every column needs a name to become \
                         a record attribute"
                    ),
                ));
            }
            if let Some(first) = columns.iter().position(|c: &String| c == name) {
                return Err(header_error(
                    line,
                    format!(
                        "names two columns `{name}` (columns {} and {column}); rename one so \
                         each cell has its own attribute",
                        first + 1
                    ),
                ));
            }
            columns.push(name.to_string());
        }
        let mut csv = CsvReader {
            reader,
            columns,
            row: ::csv::ByteRecord::new(),
            max,
            delimiter,
            line_base: 0,
            peeked: None,
            numbering: Numbering::default(),
            done: false,
        };
        // A header of one column may be a whole row read as one field: the first row tells.
        if let [only] = csv.columns.clone().as_slice() {
            let start = csv.reader.position().line();
            csv.allow_next();
            if let Ok(true) = csv.reader.read_byte_record(&mut csv.row) {
                let first_line = start_line(&mut csv.reader, start, csv.row.as_slice());
                let first = match csv.row.iter().collect::<Vec<_>>().as_slice() {
                    [cell] => std::str::from_utf8(cell).ok().map(str::to_string),
                    _ => None,
                };
                if let Some(problem) = first.and_then(|first| diagnose(only, &first, options)) {
                    return Err(header_error(line, problem));
                }
                csv.peeked = Some(first_line);
            }
        }
        Ok(csv)
    }

    pub(super) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Counts the items (rows and errors) left.
    pub(super) fn count_rest(self) -> io::Result<u64> {
        Ok(self.count() as u64)
    }

    /// The line of the record whose first byte the csv reader puts at `start` (it may be the
    /// `\n` of the previous record's CRLF), from the newlines handed out so far.
    fn record_start_line(&mut self, start: u64) -> u64 {
        let bounded = self.reader.get_mut();
        let from_start = bounded.newlines.iter().filter(|&&at| at >= start).count() as u64;
        let own = u64::from(bounded.newlines.contains(&start));
        bounded.lines - from_start + own + 1
    }

    /// After a record larger than the limit: skips the rest of it (to the first line end
    /// outside quotes) and goes on with a fresh csv reader. Returns the line the skipped record
    /// ends on, or `None` when the input ends inside it (a quote left open).
    fn skip_too_large(&mut self) -> Option<u64> {
        let placeholder =
            ::csv::ReaderBuilder::new().from_reader(Bounded::new(Box::new(io::empty()), 0));
        let old = std::mem::replace(&mut self.reader, placeholder);
        let mut bounded = old.into_inner();
        let mut in_quotes = bounded.in_quotes;
        let mut lines = self.line_base + bounded.lines;
        let mut ended = false;
        while !ended {
            let chunk = match bounded.source.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            };
            if chunk.is_empty() {
                return None;
            }
            let mut used = 0;
            for &b in chunk {
                used += 1;
                if b == b'"' {
                    in_quotes = !in_quotes;
                } else if b == b'\n' {
                    lines += 1;
                    if !in_quotes {
                        ended = true;
                        break;
                    }
                }
            }
            bounded.source.consume(used);
        }
        self.line_base = lines;
        let fresh = Bounded::new(bounded.source, self.max as u64 + READ_AHEAD);
        self.reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(fresh);
        Some(lines)
    }

    /// Lets the csv crate read one more record's worth of bytes past the current position.
    fn allow_next(&mut self) {
        let from = self.reader.position().byte();
        let bounded = self.reader.get_mut();
        bounded.limit = from + self.max as u64 + READ_AHEAD;
        // Newlines before the current position are no longer asked about.
        bounded.newline_at(from.saturating_sub(1));
    }

    /// True when the record just read runs to the end of the input inside a quoted field: an
    /// unclosed quote, which turned every following row into part of this one. Only the last
    /// record can be such, and a closed quoted field there would end with `"`.
    fn ends_inside_quote(&mut self) -> bool {
        let end = self.reader.position().byte();
        let spans_lines = self
            .row
            .iter()
            .any(|cell| cell.contains(&b'\n') || cell.contains(&b'\r'));
        let bounded = self.reader.get_mut();
        spans_lines && bounded.eof && end == bounded.delivered && bounded.last_visible != Some(b'"')
    }

    /// The row just read into `row`, as a record, unless an unclosed quote swallowed the rest of
    /// the input into it.
    fn finish_row(&mut self, no: super::RecordNo, line: u64) -> Result<Record, RecordError> {
        if self.ends_inside_quote() {
            self.done = true;
            let last = self.line_base + self.reader.position().line();
            return Err(RecordError {
                no,
                line,
                message: format!(
                    "{STOPPED}a quote opened in this record is never closed, so lines \
                     {line} to {last} were read as a single record; close the quote"
                ),
            });
        }
        self.record(no, line)
    }

    fn record(&self, no: super::RecordNo, line: u64) -> Result<Record, RecordError> {
        let error = |message: String| RecordError { no, line, message };
        if self.row.len() != self.columns.len() {
            let mut message = format!(
                "has {} fields, but the header row has {}",
                self.row.len(),
                self.columns.len()
            );
            if self.row.iter().any(|cell| cell.contains(&b'\n')) {
                message.push_str("; a field spans several lines, is a quote left open?");
            }
            return Err(error(message));
        }
        let mut value = Map::with_capacity(self.columns.len());
        for (i, (column, cell)) in self.columns.iter().zip(self.row.iter()).enumerate() {
            match std::str::from_utf8(cell) {
                Ok(text) => {
                    value.insert(column.clone(), Value::String(text.to_string()));
                }
                Err(e) => {
                    return Err(error(format!(
                        "column `{column}` (column {}) has invalid UTF-8 at byte {} of the cell",
                        i + 1,
                        e.valid_up_to() + 1
                    )));
                }
            }
        }
        Ok(Record { no, line, value })
    }
}

/// The line a record just read starts on. The csv crate's start position comes before any blank
/// lines (and, with CRLF, the previous record's `\n`), so the line is worked out backwards from
/// the end: the end line, less the newlines inside the fields, less the record's own `\n` when it
/// has been counted already.
fn start_line(reader: &mut ::csv::Reader<Bounded>, earliest: u64, fields: &[u8]) -> u64 {
    let end = reader.position().clone();
    let inside = fields.iter().filter(|&&b| b == b'\n').count() as u64;
    let counted_own = end.byte() > 0 && reader.get_mut().newline_at(end.byte() - 1);
    end.line()
        .saturating_sub(inside + u64::from(counted_own))
        .max(earliest)
}

fn is_too_large(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<RecordTooLarge>())
}

impl Iterator for CsvReader {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(line) = self.peeked.take() {
            let no = self.numbering.take();
            return Some(self.finish_row(no, line));
        }
        let start = self.reader.position().clone();
        self.allow_next();
        match self.reader.read_byte_record(&mut self.row) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let no = self.numbering.take();
                let line = self.line_base
                    + start_line(&mut self.reader, start.line(), self.row.as_slice());
                Some(self.finish_row(no, line))
            }
            Err(e) => {
                let no = self.numbering.take();
                let line = self.line_base + self.record_start_line(start.byte());
                let message = match e.into_kind() {
                    ::csv::ErrorKind::Io(e) if is_too_large(&e) => match self.skip_too_large() {
                        Some(last) => format!(
                            "the record on lines {line} to {last} is larger than {} \
                             (source.max_record_bytes); skipped",
                            limit_text(self.max)
                        ),
                        None => {
                            self.done = true;
                            format!(
                                "{STOPPED}the record starting near line {line} is larger than {} \
                                 and runs to the end of the input; a quote left open would do \
                                 this",
                                limit_text(self.max)
                            )
                        }
                    },
                    ::csv::ErrorKind::Io(e) => {
                        self.done = true;
                        format!("{STOPPED}read error: {e}")
                    }
                    other => {
                        self.done = true;
                        format!("{STOPPED}{other:?}")
                    }
                };
                Some(Err(RecordError { no, line, message }))
            }
        }
    }
}

/// What a header of one column and a first row of one field say about a misread file: each
/// whole row quoted, or another delimiter than the one set. Both must split the same way for
/// the file to be called misread. The message names the setting that fixes it.
fn diagnose(header: &str, first: &str, options: CsvOptions) -> Option<String> {
    let parts = |text: &str, d: u8| {
        let pieces: Vec<&str> = text.split(d as char).collect();
        let names_ok = pieces
            .iter()
            .all(|p| !p.chars().any(char::is_control) || d == b'\t');
        (names_ok && pieces.len() >= 2).then_some(pieces.len())
    };
    let set = options.delimiter;
    if !options.unwrap_rows
        && let Some(n) = parts(header, set.byte())
        && first.split(set.byte() as char).count() >= n.min(2)
    {
        return Some(format!(
            "is one quoted field holding the whole row ({}), and so is the next row: the file \
             wraps each row in quotes. Set `unwrap_rows = true` under [source.csv] to read it",
            cut(header)
        ));
    }
    Delimiter::ALL
        .into_iter()
        .filter(|d| *d != set)
        .find(|d| {
            parts(header, d.byte()).is_some_and(|n| first.split(d.byte() as char).count() == n)
        })
        .map(|found| {
            format!(
                "has a single column, {}, which holds {} {} characters, as does the next row: \
                 the file looks {}-delimited. Set `delimiter = \"{}\"` under [source.csv] to \
                 read it",
                cut(header),
                header.matches(found.byte() as char).count(),
                found.as_str(),
                found.as_str(),
                found.as_str()
            )
        })
}

fn cut(text: &str) -> String {
    let shown: String = text.chars().take(60).collect();
    if shown.len() < text.len() {
        format!("`{shown}…`")
    } else {
        format!("`{shown}`")
    }
}
