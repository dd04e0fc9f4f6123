//! Choosing an input's format from its file extension or, failing that, its first bytes.

use std::io::{self, BufRead, Cursor, Read};
use std::path::Path;

use super::{Format, Source};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of the input sniffing may look at before deciding.
const SNIFF_LIMIT: usize = 64 * 1024;

/// The format a file extension names: `.csv`, `.jsonl`/`.ndjson`, `.json` (any case).
pub fn format_from_extension(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(Format::Csv),
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// Drops a UTF-8 byte-order mark at the start of the input; spreadsheet exports often carry one.
pub(super) fn skip_bom(source: &mut Source) -> io::Result<()> {
    let head = fill(source)?;
    if head.starts_with(BOM) {
        source.consume(BOM.len());
    }
    Ok(())
}

/// The source's next buffer, retrying reads that were interrupted.
pub(super) fn fill(source: &mut Source) -> io::Result<&[u8]> {
    loop {
        match source.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    source.fill_buf()
}

/// Whether the input holds nothing but white space (looking at its first buffer only).
pub(super) fn is_blank(source: &mut Source) -> io::Result<bool> {
    let head = fill(source)?;
    let head = head.strip_prefix(BOM).unwrap_or(head);
    Ok(head.iter().all(u8::is_ascii_whitespace) && (head.len() < READ_PROBE || head.is_empty()))
}

/// Small enough that a first buffer this short is the whole input.
const READ_PROBE: usize = 4096;

/// What the first bytes of an input read as UTF-8 say about its real encoding.
pub(super) enum Foreign {
    /// It cannot be read as UTF-8 at all (UTF-16): refuse it with this message.
    Refuse(String),
    /// Some records will not read (Latin-1 bytes): tell the person once.
    Note(String),
}

/// Whether an input read as UTF-8 is plainly in another encoding: a UTF-16 byte-order mark or
/// NUL bytes every other byte, or (in the first buffer) bytes that are not UTF-8 and read as
/// Latin-1 text. The message names the setting that reads it.
pub(super) fn foreign_encoding(source: &mut Source) -> io::Result<Option<Foreign>> {
    let head = fill(source)?;
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Ok(Some(Foreign::Refuse(
            "the file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8; set \
             `encoding = \"utf-16\"` under [source] to read it"
                .to_string(),
        )));
    }
    if head.len() >= 4 && head.iter().step_by(2).take(64).filter(|&&b| b == 0).count() > 8 {
        return Ok(Some(Foreign::Refuse(
            "the file holds NUL bytes every other byte, like UTF-16 without a byte-order mark; \
             save it as UTF-8, or as UTF-16 with a byte-order mark and set \
             `encoding = \"utf-16\"` under [source]"
                .to_string(),
        )));
    }
    let bad = match std::str::from_utf8(head) {
        Ok(_) => return Ok(None),
        // A character cut by the end of the buffer is not an error.
        Err(e) if e.error_len().is_none() => return Ok(None),
        Err(e) => e.valid_up_to(),
    };
    let line = head[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
    let latin1_like = head
        .iter()
        .filter(|b| !b.is_ascii())
        .all(|&b| b >= 0xA0 || b == 0x80 || b == 0x92);
    if latin1_like {
        Ok(Some(Foreign::Note(format!(
            "byte 0x{:02X} on line {line} is not UTF-8; the file looks Latin-1 (ISO 8859-1), and \
             records holding such bytes will be invalid. Set `encoding = \"latin-1\"` under \
             [source] to read them",
            head[bad]
        ))))
    } else {
        Ok(None)
    }
}

/// Reads the start of the input (up to its first complete non-blank line, at most
/// [`SNIFF_LIMIT`] bytes), decides the format, and hands back a source that still yields every
/// byte. Works on pipes, where nothing can be read twice.
pub(super) fn sniff(source: Source) -> io::Result<(Format, Source)> {
    let mut prefix = Vec::new();
    let mut source = source;
    loop {
        let chunk = match source.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(SNIFF_LIMIT - prefix.len());
        prefix.extend_from_slice(&chunk[..take]);
        source.consume(take);
        if prefix.len() >= SNIFF_LIMIT || has_content_line(&prefix) {
            break;
        }
    }
    let format = sniff_bytes(&prefix);
    let rest: Source = Box::new(Cursor::new(prefix).chain(source));
    Ok((format, rest))
}

/// True once `bytes` hold a newline after some non-whitespace byte.
fn has_content_line(bytes: &[u8]) -> bool {
    match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) => bytes[start..].contains(&b'\n'),
        None => false,
    }
}

/// The format the first bytes suggest.
pub(super) fn sniff_bytes(bytes: &[u8]) -> Format {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let start = match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) => &bytes[start..],
        None => return Format::Jsonl,
    };
    match start[0] {
        b'[' => Format::Json,
        b'{' => {
            let first_line = match start.iter().position(|&b| b == b'\n') {
                Some(end) => &start[..end],
                None => start,
            };
            if serde_json::from_slice::<serde::de::IgnoredAny>(first_line).is_ok() {
                Format::Jsonl
            } else {
                Format::Json
            }
        }
        _ => Format::Csv,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_pick_formats_case_insensitively() {
        assert_eq!(format_from_extension(Path::new("a.CSV")), Some(Format::Csv));
        assert_eq!(
            format_from_extension(Path::new("a.ndjson")),
            Some(Format::Jsonl)
        );
        assert_eq!(
            format_from_extension(Path::new("a.jsonl")),
            Some(Format::Jsonl)
        );
        assert_eq!(
            format_from_extension(Path::new("a.json")),
            Some(Format::Json)
        );
        assert_eq!(format_from_extension(Path::new("a.txt")), None);
        assert_eq!(format_from_extension(Path::new("json")), None);
    }

    #[test]
    fn sniffing_tells_formats_apart() {
        assert_eq!(sniff_bytes(b"  [ {\"a\":1} ]"), Format::Json);
        assert_eq!(sniff_bytes(b"{\"a\":1}\n{\"a\":2}\n"), Format::Jsonl);
        assert_eq!(sniff_bytes(b"{\n  \"a\": 1\n}\n"), Format::Json);
        assert_eq!(
            sniff_bytes(b"\xEF\xBB\xBFname,phone\r\nA,1\r\n"),
            Format::Csv
        );
        assert_eq!(sniff_bytes(b"\xEF\xBB\xBF[]"), Format::Json);
        assert_eq!(sniff_bytes(b""), Format::Jsonl);
    }

    #[test]
    fn sniffing_keeps_every_byte() {
        let data = b"{\"a\":1}\n{\"a\":2}\n".repeat(10_000);
        let source: Source = Box::new(Cursor::new(data.clone()));
        let (format, mut rest) = sniff(source).expect("in-memory read");
        assert_eq!(format, Format::Jsonl);
        let mut back = Vec::new();
        rest.read_to_end(&mut back).expect("in-memory read");
        assert_eq!(back, data);
    }
}
