//! JSON: a top-level array of objects streamed element by element, or top-level objects one
//! after another (a single object is one record; JSON Lines saved as `.json` reads too).
//!
//! A small scanner finds where each element starts and ends — it tracks only strings and
//! brackets — and serde_json parses that element alone, so the array is never held whole.

use std::io::{self, BufRead};

use super::{
    Numbering, Record, RecordError, STOPPED, Source, json_message, limit_text, object_record,
};

/// What the scanner found next.
#[derive(Debug)]
pub(super) enum Scanned {
    /// One whole element is in the scanner's buffer; it starts at `line`, `col`.
    Element { line: u64, col: u64 },
    /// An element larger than the limit was skipped without being kept.
    TooLarge { line: u64, len: u64 },
    /// The input cannot be followed any further.
    Fatal { line: u64, message: String },
    /// The source failed; nothing more can be read.
    ReadFailed { line: u64, error: io::Error },
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Just after `[`: an element or `]`.
    FirstOrClose,
    /// Just after `,`: an element (or `]`, tolerating a trailing comma).
    Element,
    /// Just after an element: `,` or `]`.
    CommaOrClose,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Outside any array: objects (or arrays of them) one after another.
    Top,
    Array {
        opened_line: u64,
        expect: Expect,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElemKind {
    Container,
    String,
    Scalar,
}

#[derive(Debug)]
struct Elem {
    line: u64,
    col: u64,
    kind: ElemKind,
    in_string: bool,
    escape: bool,
    len: u64,
    too_large: bool,
}

enum Feed {
    More,
    /// The element ended with this byte.
    DoneWith,
    /// The element ended just before this byte, which belongs to what follows.
    DoneBefore,
    Broken(String),
}

pub(super) struct Scanner {
    buf: Vec<u8>,
    /// Closing brackets owed, innermost last.
    stack: Vec<u8>,
    /// Line of the next byte (1-based).
    line: u64,
    /// Column of the last byte consumed on this line (0 at a line start).
    col: u64,
    mode: Mode,
    max: usize,
    done: bool,
}

impl Scanner {
    pub(super) fn new(max: usize) -> Self {
        Scanner {
            buf: Vec::with_capacity(1024),
            stack: Vec::new(),
            line: 1,
            col: 0,
            mode: Mode::Top,
            max,
            done: false,
        }
    }

    pub(super) fn element(&self) -> &[u8] {
        &self.buf
    }

    fn advance(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
            self.col = 0;
        } else {
            self.col += 1;
        }
    }

    fn keep(&mut self, elem: &mut Elem, b: u8) {
        elem.len += 1;
        if elem.too_large {
            return;
        }
        if self.buf.len() >= self.max {
            elem.too_large = true;
            self.buf.clear();
        } else {
            self.buf.push(b);
        }
    }

    fn keep_run(&mut self, elem: &mut Elem, run: &[u8]) {
        elem.len += run.len() as u64;
        if elem.too_large {
            return;
        }
        if self.buf.len() + run.len() > self.max {
            elem.too_large = true;
            self.buf.clear();
        } else {
            self.buf.extend_from_slice(run);
        }
    }

    fn feed(&mut self, elem: &mut Elem, b: u8) -> Feed {
        if elem.in_string {
            if elem.escape {
                elem.escape = false;
            } else if b == b'\\' {
                elem.escape = true;
            } else if b == b'"' {
                elem.in_string = false;
                if elem.kind == ElemKind::String {
                    self.keep(elem, b);
                    return Feed::DoneWith;
                }
            }
            self.keep(elem, b);
            return Feed::More;
        }
        match elem.kind {
            ElemKind::Scalar => {
                if b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'[' | b'{' | b'}' | b'"') {
                    return Feed::DoneBefore;
                }
            }
            ElemKind::String => elem.in_string = true,
            ElemKind::Container => match b {
                b'"' => elem.in_string = true,
                b'{' | b'[' => {
                    if self.stack.len() >= self.max {
                        return Feed::Broken(format!(
                            "the record starting at line {} nests deeper than any record could",
                            elem.line
                        ));
                    }
                    self.stack.push(if b == b'{' { b'}' } else { b']' });
                }
                b'}' | b']' => {
                    let owed = self.stack.pop();
                    if owed != Some(b) {
                        let expected = match owed {
                            Some(c) => format!("`{}`", c as char),
                            None => "nothing".to_string(),
                        };
                        return Feed::Broken(format!(
                            "at line {} column {}, found `{}` where {expected} should close the \
                             record starting at line {}",
                            self.line,
                            self.col + 1,
                            b as char,
                            elem.line
                        ));
                    }
                    if self.stack.is_empty() {
                        self.keep(elem, b);
                        return Feed::DoneWith;
                    }
                }
                _ => {}
            },
        }
        self.keep(elem, b);
        Feed::More
    }

    fn start(&mut self, b: u8) -> Elem {
        self.buf.clear();
        self.stack.clear();
        let kind = match b {
            b'{' | b'[' => ElemKind::Container,
            b'"' => ElemKind::String,
            _ => ElemKind::Scalar,
        };
        Elem {
            line: self.line,
            col: self.col + 1,
            kind,
            in_string: false,
            escape: false,
            len: 0,
            too_large: false,
        }
    }

    fn finish(&mut self, elem: Elem) -> Scanned {
        if let Mode::Array { expect, .. } = &mut self.mode {
            *expect = Expect::CommaOrClose;
        }
        if elem.too_large {
            Scanned::TooLarge {
                line: elem.line,
                len: elem.len,
            }
        } else {
            Scanned::Element {
                line: elem.line,
                col: elem.col,
            }
        }
    }

    fn fatal(&mut self, message: String) -> Scanned {
        self.done = true;
        Scanned::Fatal {
            line: self.line,
            message,
        }
    }

    /// What to do with `b` between elements: `Ok(None)` consumes it, `Ok(Some(elem))` starts an
    /// element with it (not yet consumed), `Err` ends the input.
    fn between(&mut self, b: u8) -> Result<Option<Elem>, String> {
        if b.is_ascii_whitespace() {
            return Ok(None);
        }
        let found = describe(b);
        let at = format!("line {} column {}", self.line, self.col + 1);
        match self.mode {
            Mode::Top => match b {
                b'[' => {
                    self.mode = Mode::Array {
                        opened_line: self.line,
                        expect: Expect::FirstOrClose,
                    };
                    Ok(None)
                }
                b',' | b']' | b'}' => Err(format!("unexpected {found} at {at}")),
                _ => Ok(Some(self.start(b))),
            },
            Mode::Array { expect, .. } => match (expect, b) {
                (Expect::FirstOrClose | Expect::Element | Expect::CommaOrClose, b']') => {
                    self.mode = Mode::Top;
                    Ok(None)
                }
                (Expect::CommaOrClose, b',') => {
                    self.mode = Mode::Array {
                        opened_line: self.opened_line(),
                        expect: Expect::Element,
                    };
                    Ok(None)
                }
                (Expect::CommaOrClose, _) => Err(format!(
                    "expected `,` or `]` after the previous record, found {found} at {at}"
                )),
                (_, b',' | b'}') => Err(format!("expected a record, found {found} at {at}")),
                _ => Ok(Some(self.start(b))),
            },
        }
    }

    fn opened_line(&self) -> u64 {
        match self.mode {
            Mode::Array { opened_line, .. } => opened_line,
            Mode::Top => self.line,
        }
    }

    fn at_eof(&mut self, elem: Option<Elem>) -> Option<Scanned> {
        match elem {
            Some(elem) if elem.kind == ElemKind::Scalar => Some(self.finish(elem)),
            Some(elem) => Some(self.fatal(format!(
                "the input ends inside the record starting at line {}; it looks truncated",
                elem.line
            ))),
            None => match self.mode {
                Mode::Top => {
                    self.done = true;
                    None
                }
                Mode::Array { opened_line, .. } => Some(self.fatal(format!(
                    "the input ends before the `]` closing the array opened on line \
                     {opened_line}; it looks truncated"
                ))),
            },
        }
    }

    /// Finds the next element (or the reason there is none).
    pub(super) fn next_item(&mut self, source: &mut dyn BufRead) -> Option<Scanned> {
        if self.done {
            return None;
        }
        let mut elem: Option<Elem> = None;
        loop {
            let chunk = match source.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.done = true;
                    return Some(Scanned::ReadFailed {
                        line: self.line,
                        error,
                    });
                }
            };
            if chunk.is_empty() {
                return self.at_eof(elem);
            }
            let mut used = 0;
            let mut outcome = None;
            while used < chunk.len() {
                let b = chunk[used];
                match elem.as_mut() {
                    Some(current) if current.in_string && !current.escape => {
                        // Inside a string only `"`, `\` and newlines matter: take the run of
                        // ordinary bytes before them in one go.
                        let run = chunk[used..]
                            .iter()
                            .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))
                            .unwrap_or(chunk.len() - used);
                        if run == 0 {
                            // `feed` handles the special byte.
                            match self.feed(current, b) {
                                Feed::DoneWith => {
                                    self.advance(b);
                                    used += 1;
                                    outcome = elem.take().map(|e| self.finish(e));
                                    break;
                                }
                                _ => {
                                    self.advance(b);
                                    used += 1;
                                }
                            }
                        } else {
                            self.keep_run(current, &chunk[used..used + run]);
                            self.col += run as u64;
                            used += run;
                        }
                    }
                    Some(current) => match self.feed(current, b) {
                        Feed::More => {
                            self.advance(b);
                            used += 1;
                        }
                        Feed::DoneWith => {
                            self.advance(b);
                            used += 1;
                            outcome = elem.take().map(|e| self.finish(e));
                            break;
                        }
                        Feed::DoneBefore => {
                            outcome = elem.take().map(|e| self.finish(e));
                            break;
                        }
                        Feed::Broken(message) => {
                            self.advance(b);
                            used += 1;
                            outcome = Some(self.fatal(message));
                            break;
                        }
                    },
                    None => match self.between(b) {
                        Ok(None) => {
                            self.advance(b);
                            used += 1;
                        }
                        Ok(Some(started)) => elem = Some(started),
                        Err(message) => {
                            self.advance(b);
                            used += 1;
                            outcome = Some(self.fatal(message));
                            break;
                        }
                    },
                }
            }
            source.consume(used);
            if outcome.is_some() {
                return outcome;
            }
        }
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

pub(super) struct JsonReader {
    source: Source,
    scanner: Scanner,
    numbering: Numbering,
}

impl JsonReader {
    pub(super) fn new(source: Source, max: usize) -> Self {
        JsonReader {
            source,
            scanner: Scanner::new(max),
            numbering: Numbering::default(),
        }
    }

    /// Counts the items left by scanning only; no element is parsed.
    pub(super) fn count_rest(mut self) -> io::Result<u64> {
        let mut count = 0;
        while let Some(item) = self.scanner.next_item(&mut self.source) {
            if let Scanned::ReadFailed { error, .. } = item {
                return Err(error);
            }
            count += 1;
        }
        Ok(count)
    }

    fn parse(&self, no: super::RecordNo, line: u64, col: u64) -> Result<Record, RecordError> {
        let bytes = self.scanner.element();
        let error = |message: String| RecordError { no, line, message };
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let (l, c) = position_in(bytes, e.valid_up_to(), line, col);
                return Err(error(format!("invalid UTF-8 at line {l} column {c}")));
            }
        };
        match serde_json::from_str(text) {
            Ok(value) => match super::strict::duplicate_key_of(text, &value) {
                Some(key) => Err(super::duplicate_key_error(no, line, &key)),
                None => object_record(no, line, value),
            },
            Err(e) => {
                let l = line + (e.line() as u64).saturating_sub(1);
                let c = if e.line() <= 1 {
                    col + (e.column() as u64).saturating_sub(1)
                } else {
                    e.column() as u64
                };
                Err(error(format!(
                    "malformed JSON at line {l} column {c}: {}",
                    json_message(&e)
                )))
            }
        }
    }
}

/// Line and column (in bytes) of `offset` within an element that starts at `line`, `col`.
fn position_in(bytes: &[u8], offset: usize, line: u64, col: u64) -> (u64, u64) {
    let before = &bytes[..offset.min(bytes.len())];
    match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => {
            let lines = before.iter().filter(|&&b| b == b'\n').count() as u64;
            (line + lines, (offset - nl) as u64)
        }
        None => (line, col + offset as u64),
    }
}

impl Iterator for JsonReader {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.scanner.next_item(&mut self.source)?;
        let no = self.numbering.take();
        Some(match item {
            Scanned::Element { line, col } => self.parse(no, line, col),
            Scanned::TooLarge { line, len } => Err(RecordError {
                no,
                line,
                message: format!(
                    "record is {len} bytes, more than the {} a record may take; skipped",
                    limit_text(self.scanner.max)
                ),
            }),
            Scanned::Fatal { line, message } => Err(RecordError {
                no,
                line,
                message: format!("{STOPPED}{message}"),
            }),
            Scanned::ReadFailed { line, error } => Err(RecordError {
                no,
                line,
                message: format!("{STOPPED}read error: {error}"),
            }),
        })
    }
}
