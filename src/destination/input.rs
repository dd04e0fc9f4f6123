//! How the source file is read: its text encoding, CSV delimiter and row wrapping, and the
//! largest record accepted. Documented in `docs/destination-file.md` under "Reading the source".

use serde::{Deserialize, Serialize};

/// The text encoding of the source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-16 starting with its byte-order mark (little or big endian, as the mark says).
    #[serde(rename = "utf-16")]
    Utf16,
    /// ISO 8859-1 (Latin-1): each byte is one character.
    #[serde(rename = "latin-1")]
    Latin1,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Latin1 => "latin-1",
        }
    }

    pub(super) fn is_default(&self) -> bool {
        *self == Encoding::Utf8
    }
}

/// The byte between CSV fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delimiter {
    #[default]
    Comma,
    Semicolon,
    Tab,
    Pipe,
}

impl Delimiter {
    pub const ALL: [Delimiter; 4] = [
        Delimiter::Comma,
        Delimiter::Semicolon,
        Delimiter::Tab,
        Delimiter::Pipe,
    ];

    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
            Delimiter::Pipe => b'|',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Delimiter::Comma => "comma",
            Delimiter::Semicolon => "semicolon",
            Delimiter::Tab => "tab",
            Delimiter::Pipe => "pipe",
        }
    }
}

/// CSV reading settings (`[source.csv]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    #[serde(default)]
    pub delimiter: Delimiter,
    /// Every line (the header row included) is one quoted field holding the whole row, with the
    /// row's own quotes doubled: `"a,""b, c"",d"`. Each line is unwrapped before it is read.
    #[serde(default)]
    pub unwrap_rows: bool,
}

impl CsvOptions {
    pub(super) fn is_default(&self) -> bool {
        *self == CsvOptions::default()
    }
}

/// The largest record accepted by default: 64 MiB of input.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

pub(super) fn default_max_record_bytes() -> u64 {
    DEFAULT_MAX_RECORD_BYTES
}

pub(super) fn is_default_max_record_bytes(bytes: &u64) -> bool {
    *bytes == DEFAULT_MAX_RECORD_BYTES
}

/// How strictly the `e164` transform checks a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneCheck {
    /// A length some number of its country has (libphonenumber's "possible" number).
    #[default]
    Possible,
    /// In a range assigned to an operator (libphonenumber's "valid" number).
    Valid,
}

impl PhoneCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneCheck::Possible => "possible",
            PhoneCheck::Valid => "valid",
        }
    }

    pub(super) fn is_default(&self) -> bool {
        *self == PhoneCheck::Possible
    }
}
