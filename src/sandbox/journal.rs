//! The journal: one entry per API request received, kept in memory and optionally appended to a
//! private JSON Lines file, with every credential masked.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use axum::http::{HeaderMap, Method, Uri, header};
use base64::Engine;
use serde::Serialize;
use serde::ser::Serializer;
use serde_json::{Map, Value};

use super::store::rfc3339;
use crate::secret::MASK;

/// Entries kept in memory; older ones fall off (the file keeps everything).
pub const MEMORY_ENTRIES: usize = 100_000;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalStatus {
    /// Answered with this HTTP status.
    Answered(u16),
    /// The connection was closed without an answer (fault injection).
    Dropped,
}

impl Serialize for JournalStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Answered(status) => serializer.serialize_u16(*status),
            Self::Dropped => serializer.serialize_str("dropped"),
        }
    }
}

/// One request as received: secrets masked, body exactly as sent.
#[derive(Debug, Clone, Serialize)]
pub struct JournalEntry {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// When it was received, RFC 3339 UTC.
    pub time: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case; `authorization` shows only its scheme.
    pub headers: Map<String, Value>,
    /// The body as received (a body that is not UTF-8 is shown lossily and given in
    /// `body_base64` too).
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    pub status: JournalStatus,
    /// The injected fault, if any: an error status, `drop`, `stall` or `apply_then_drop`.
    pub fault: Option<String>,
}

impl JournalEntry {
    pub fn received(
        seq: u64,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Self {
        let (body, body_base64) = match std::str::from_utf8(body) {
            Ok(text) => (text.to_owned(), None),
            Err(_) => (
                String::from_utf8_lossy(body).into_owned(),
                Some(base64::engine::general_purpose::STANDARD.encode(body)),
            ),
        };
        Self {
            seq,
            time: rfc3339(SystemTime::now()),
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: masked_headers(headers),
            body,
            body_base64,
            status: JournalStatus::Dropped,
            fault: None,
        }
    }

    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Headers as a JSON object; repeated headers are joined with ", " and credentials masked.
pub fn masked_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, value) in headers {
        let text = if name == header::AUTHORIZATION || name == header::PROXY_AUTHORIZATION {
            mask_credential(value.to_str().unwrap_or(""))
        } else if is_secret_header(name.as_str()) {
            MASK.to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        match map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&text);
            }
            _ => {
                map.insert(name.as_str().to_owned(), Value::String(text));
            }
        }
    }
    map
}

/// `Basic •••`, `Bearer •••`: the scheme helps debugging, the credential never shows.
fn mask_credential(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() => format!("{scheme} {MASK}"),
        _ => MASK.to_owned(),
    }
}

fn is_secret_header(name: &str) -> bool {
    name == "cookie"
        || name.contains("token")
        || name.contains("api-key")
        || name.contains("secret")
}

#[derive(Debug, thiserror::Error)]
#[error("cannot open the journal file {path}: {source}")]
pub struct JournalOpenError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// The journal: memory for tests and `GET /_sandbox/journal`, a file for people.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<JournalEntry>>,
    next_seq: AtomicU64,
    file: Option<Mutex<BufWriter<File>>>,
}

impl Journal {
    pub fn new(path: Option<&Path>) -> Result<Self, JournalOpenError> {
        let file = match path {
            Some(path) => Some(Mutex::new(BufWriter::new(
                crate::files::open_private_append(path).map_err(|source| JournalOpenError {
                    path: path.display().to_string(),
                    source,
                })?,
            ))),
            None => None,
        };
        Ok(Self {
            file,
            ..Self::default()
        })
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn record(&self, entry: JournalEntry) {
        if let Some(file) = &self.file
            && let Ok(mut line) = serde_json::to_vec(&entry)
        {
            line.push(b'\n');
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            // A journal that cannot be written must not take the sandbox down; it is logged.
            if let Err(err) = file.write_all(&line).and_then(|()| file.flush()) {
                tracing::warn!("sandbox journal write failed: {err}");
            }
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MEMORY_ENTRIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<JournalEntry> {
        let mut entries: Vec<JournalEntry> = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        // Entries are recorded when answered, so a slow request lands after faster later ones.
        entries.sort_by_key(|e| e.seq);
        entries
    }

    pub fn reset(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_are_masked_but_their_scheme_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu"),
        );
        headers.insert("x-api-token", HeaderValue::from_static("canary"));
        headers.append("x-tag", HeaderValue::from_static("a"));
        headers.append("x-tag", HeaderValue::from_static("b"));
        let masked = masked_headers(&headers);
        assert_eq!(masked["authorization"], "Basic •••");
        assert_eq!(masked["x-api-token"], "•••");
        assert_eq!(masked["x-tag"], "a, b");
        assert!(
            !serde_json::to_string(&masked)
                .unwrap()
                .contains("c2FuZGJveC")
        );
    }

    #[test]
    fn status_serialises_as_number_or_dropped() {
        assert_eq!(
            serde_json::to_string(&JournalStatus::Answered(201)).unwrap(),
            "201"
        );
        assert_eq!(
            serde_json::to_string(&JournalStatus::Dropped).unwrap(),
            "\"dropped\""
        );
    }
}
