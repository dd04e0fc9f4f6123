//! Byte-level adapters in front of the record readers: text encodings other than UTF-8
//! (UTF-16 with its byte-order mark, Latin-1) become UTF-8, and CSV rows wrapped whole in
//! quotes (`"a,""b, c"",d"`) are unwrapped. Each streams: nothing is held beyond a small buffer.

use std::io::{self, BufRead, Read};

use super::detect::fill;
use crate::destination::Encoding;

const CHUNK: usize = 64 * 1024;

/// Decodes `inner` from `encoding` to UTF-8. UTF-8 passes through untouched.
pub(super) fn decoder(
    mut inner: Box<dyn BufRead + Send>,
    encoding: Encoding,
) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(match encoding {
        Encoding::Utf8 => inner,
        Encoding::Latin1 => Box::new(io::BufReader::with_capacity(
            CHUNK,
            Transcode {
                inner,
                kind: Kind::Latin1,
                pending: Vec::new(),
                at: 0,
                carry: Vec::new(),
            },
        )),
        Encoding::Utf16 => {
            let head = fill(&mut inner)?;
            let kind = if head.starts_with(&[0xFF, 0xFE]) {
                Kind::Utf16 { little: true }
            } else if head.starts_with(&[0xFE, 0xFF]) {
                Kind::Utf16 { little: false }
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "source.encoding is \"utf-16\" but the input does not start with a UTF-16 \
                     byte-order mark (FF FE or FE FF); save it as UTF-16 with BOM, or set the \
                     encoding it has",
                ));
            };
            inner.consume(2);
            Box::new(io::BufReader::with_capacity(
                CHUNK,
                Transcode {
                    inner,
                    kind,
                    pending: Vec::new(),
                    at: 0,
                    carry: Vec::new(),
                },
            ))
        }
    })
}

enum Kind {
    Latin1,
    Utf16 { little: bool },
}

struct Transcode {
    inner: Box<dyn BufRead + Send>,
    kind: Kind,
    /// UTF-8 produced and not yet handed out.
    pending: Vec<u8>,
    at: usize,
    /// UTF-16 bytes read but not yet decoded (half a code unit, or a high surrogate).
    carry: Vec<u8>,
}

impl Transcode {
    /// Converts the next chunk of input into `pending`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.pending.clear();
        self.at = 0;
        let chunk = fill(&mut self.inner)?;
        if chunk.is_empty() {
            if self.carry.is_empty() {
                return Ok(false);
            }
            // The input ends inside a UTF-16 character.
            self.carry.clear();
            self.pending
                .extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
            return Ok(true);
        }
        match self.kind {
            Kind::Latin1 => {
                let n = chunk.len();
                for &b in chunk {
                    let mut buf = [0u8; 2];
                    self.pending
                        .extend_from_slice(char::from(b).encode_utf8(&mut buf).as_bytes());
                }
                self.inner.consume(n);
            }
            Kind::Utf16 { little } => {
                // A code unit or surrogate pair may straddle reads: what is left over waits in
                // `carry` for the next one.
                let mut bytes = std::mem::take(&mut self.carry);
                bytes.extend_from_slice(chunk);
                let n = chunk.len();
                self.inner.consume(n);
                let mut units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|pair| {
                        let pair = [pair[0], pair[1]];
                        if little {
                            u16::from_le_bytes(pair)
                        } else {
                            u16::from_be_bytes(pair)
                        }
                    })
                    .collect();
                let mut whole = units.len() * 2;
                if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                    units.pop();
                    whole -= 2;
                }
                self.carry = bytes[whole..].to_vec();
                for c in char::decode_utf16(units) {
                    let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                    let mut buf = [0u8; 4];
                    self.pending
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Ok(true)
    }
}

impl Read for Transcode {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.pending.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Unwraps CSV lines that are one quoted field each: the opening quote at the start of a line
/// and the closing one at its end go, and doubled quotes inside become single. Lines that do
/// not start with a quote pass through unchanged.
pub(super) fn unwrap_rows(inner: Box<dyn BufRead + Send>) -> Box<dyn BufRead + Send> {
    Box::new(io::BufReader::with_capacity(
        CHUNK,
        Unwrap {
            inner,
            line_start: true,
            wrapped: false,
            quote_pending: false,
        },
    ))
}

struct Unwrap {
    inner: Box<dyn BufRead + Send>,
    line_start: bool,
    /// The current line opened with a wrapping quote.
    wrapped: bool,
    /// A quote inside a wrapped line, waiting for the next byte to tell `""` from the end.
    quote_pending: bool,
}

impl Read for Unwrap {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            let chunk = fill(&mut self.inner)?;
            if chunk.is_empty() {
                // A quote pending at the very end closed the last line.
                self.quote_pending = false;
                break;
            }
            let mut used = 0;
            for &b in chunk {
                if written >= out.len() {
                    break;
                }
                used += 1;
                if self.line_start {
                    self.line_start = false;
                    if b == b'"' {
                        self.wrapped = true;
                        continue;
                    }
                    self.wrapped = false;
                }
                if self.wrapped && self.quote_pending {
                    self.quote_pending = false;
                    if b == b'"' {
                        out[written] = b'"';
                        written += 1;
                        continue;
                    }
                    // The quote closed the row; whatever follows passes through.
                    self.wrapped = false;
                } else if self.wrapped && b == b'"' {
                    self.quote_pending = true;
                    continue;
                }
                out[written] = b;
                written += 1;
                if b == b'\n' {
                    self.line_start = true;
                }
            }
            self.inner.consume(used);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn through(
        bytes: &[u8],
        f: impl Fn(Box<dyn BufRead + Send>) -> Box<dyn BufRead + Send>,
    ) -> String {
        let mut out = String::new();
        f(Box::new(Cursor::new(bytes.to_vec())))
            .read_to_string(&mut out)
            .expect("decodes");
        out
    }

    #[test]
    fn latin1_and_utf16_become_utf8() {
        assert_eq!(
            through(b"id,name\n2,Bj\xF6rn\n", |s| decoder(s, Encoding::Latin1)
                .unwrap()),
            "id,name\n2,Björn\n"
        );
        let text = "id,name\r\n1,Zoë 🦀\r\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(through(&le, |s| decoder(s, Encoding::Utf16).unwrap()), text);
        assert_eq!(through(&be, |s| decoder(s, Encoding::Utf16).unwrap()), text);
        let err = decoder(Box::new(Cursor::new(b"id\n".to_vec())), Encoding::Utf16)
            .err()
            .expect("no BOM");
        assert!(err.to_string().contains("byte-order mark"));
    }

    #[test]
    fn wrapped_rows_lose_their_wrapping_quotes_only() {
        let input = b"\"id,name,company\"\r\n\"1,Ada,\"\"King, Lovelace\"\"\"\r\nplain,row,x\n";
        assert_eq!(
            through(input, unwrap_rows),
            "id,name,company\r\n1,Ada,\"King, Lovelace\"\r\nplain,row,x\n"
        );
    }
}
