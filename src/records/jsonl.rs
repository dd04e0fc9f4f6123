//! JSON Lines: one JSON object per line, blank lines skipped but counted.

use std::io::{self, BufRead};

use super::{
    Numbering, Record, RecordError, STOPPED, Source, json_message, limit_text, object_record,
};

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LineRead {
    /// No bytes left.
    Eof,
    /// A line (without its `\n`) is in the buffer.
    Line,
    /// The line was longer than the limit; it was consumed but not kept. `len` is its length.
    TooLong { len: u64 },
}

/// Reads one line into `buf` (cleared first) without ever holding more than `max` bytes of it.
pub(super) fn read_line(
    source: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut len: u64 = 0;
    let mut too_long = false;
    loop {
        let chunk = match source.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if len == 0 {
                return Ok(LineRead::Eof);
            }
            break;
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        let content = if done { take - 1 } else { take };
        if !too_long {
            if buf.len() + content > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..content]);
            }
        }
        len += content as u64;
        source.consume(take);
        if done {
            break;
        }
    }
    if too_long {
        Ok(LineRead::TooLong { len })
    } else {
        Ok(LineRead::Line)
    }
}

pub(super) struct JsonlReader {
    source: Source,
    buf: Vec<u8>,
    /// Lines read so far.
    line: u64,
    numbering: Numbering,
    max: usize,
    done: bool,
}

impl JsonlReader {
    pub(super) fn new(source: Source, max: usize) -> Self {
        JsonlReader {
            source,
            buf: Vec::with_capacity(1024),
            line: 0,
            numbering: Numbering::default(),
            max,
            done: false,
        }
    }

    /// Counts the items left (non-blank lines, and lines too long to keep) without parsing.
    pub(super) fn count_rest(mut self) -> io::Result<u64> {
        let mut count = 0;
        loop {
            match read_line(&mut self.source, &mut self.buf, self.max)? {
                LineRead::Eof => return Ok(count),
                LineRead::TooLong { .. } => count += 1,
                LineRead::Line => {
                    if !self.buf.iter().all(u8::is_ascii_whitespace) {
                        count += 1;
                    }
                }
            }
        }
    }

    fn parse(&mut self) -> Result<Record, RecordError> {
        let no = self.numbering.take();
        let line = self.line;
        let text = match std::str::from_utf8(&self.buf) {
            Ok(text) => text,
            Err(e) => {
                return Err(RecordError {
                    no,
                    line,
                    message: format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
                });
            }
        };
        match serde_json::from_str(text) {
            Ok(value) => match super::strict::duplicate_key_of(text, &value) {
                Some(key) => Err(super::duplicate_key_error(no, line, &key)),
                None => object_record(no, line, value),
            },
            Err(e) => Err(RecordError {
                no,
                line,
                message: format!(
                    "malformed JSON at column {}: {}",
                    e.column(),
                    json_message(&e)
                ),
            }),
        }
    }
}

impl Iterator for JsonlReader {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let read = read_line(&mut self.source, &mut self.buf, self.max);
            match read {
                Ok(LineRead::Eof) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(RecordError {
                        no: self.numbering.take(),
                        line: self.line + 1,
                        message: format!("{STOPPED}read error: {e}"),
                    }));
                }
                Ok(LineRead::TooLong { len }) => {
                    self.line += 1;
                    return Some(Err(RecordError {
                        no: self.numbering.take(),
                        line: self.line,
                        message: format!(
                            "line is {len} bytes long, more than the {} a record may take; skipped",
                            limit_text(self.max)
                        ),
                    }));
                }
                Ok(LineRead::Line) => {
                    self.line += 1;
                    if self.buf.last() == Some(&b'\r') {
                        self.buf.pop();
                    }
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(self.parse());
                }
            }
        }
        None
    }
}
