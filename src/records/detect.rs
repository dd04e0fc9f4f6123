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

fn fill(source: &mut Source) -> io::Result<&[u8]> {
    loop {
        match source.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    source.fill_buf()
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
