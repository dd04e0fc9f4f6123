//! The dead-letter file: one JSON line per record (or batch) that will not be delivered — refused
//! by the API, out of retries, or invalid — with everything needed to fix it and send it again.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::records::RecordNo;

/// Why a record is in the dead-letter file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The API answered with a 4xx that no retry can fix.
    Rejected,
    /// The API refused the credential (401/403): not applied, so the next run sends it again.
    Refused,
    /// Retryable failures until the attempts or the time ran out.
    GaveUp,
    /// The record failed validation and was never sent.
    Invalid,
    /// The record could not be read from the input.
    Unreadable,
}

/// One dead letter. `request` is the request as `preview` shows it: secrets masked.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub time: String,
    pub reason: Reason,
    pub records: Vec<RecordNo>,
    /// Input line of the first record, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The records' values as read from the input (see [`raw_values`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub record_values: Vec<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    pub attempts: u32,
    /// What went wrong, in words.
    pub message: String,
}

impl DeadLetter {
    pub fn new(reason: Reason, records: Vec<RecordNo>, message: impl Into<String>) -> Self {
        Self {
            time: super::timestamp(SystemTime::now()),
            reason,
            records,
            line: None,
            record_values: Vec::new(),
            request: None,
            status: None,
            response_body: None,
            attempts: 0,
            message: message.into(),
        }
    }
}

/// A record's values as its dead letter will hold them, written out as JSON once by the thread
/// that read the record. A delivery holds its records' values until it ends, in case it ends in
/// a dead letter: as one text, the sending thread frees one allocation per record instead of
/// one per key and value, and the parsed map is freed by the thread that made it.
pub fn raw_values(value: &Map<String, Value>) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|err| {
        // A map of parsed values always serialises; should it not, the letter says so.
        let note = Value::String(format!("[the record's values could not be written: {err}]"));
        serde_json::value::to_raw_value(&note).unwrap_or_default()
    })
}

/// The dead-letter file, created (0600) on the first dead letter only.
#[derive(Debug)]
pub struct DeadLetterFile {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl DeadLetterFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one dead letter and syncs it: a record is never counted as dead-lettered unless
    /// its line is safely on disk.
    pub fn write(&self, letter: &DeadLetter) -> io::Result<()> {
        let mut line = serde_json::to_vec(letter).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut guard = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::create_private_dir_all(dir)?;
            }
            *guard = Some(crate::files::open_private_append(&self.path)?);
        }
        let Some(file) = guard.as_mut() else {
            unreachable!("opened above")
        };
        file.write_all(&line)?;
        file.sync_data()
    }
}

/// The reason an Aircall error body gives (`error`, `troubleshoot`, `message`, `errors`), in one line.
pub fn api_reason(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let mut parts = Vec::new();
    for key in ["error", "message", "troubleshoot"] {
        if let Some(text) = object.get(key).and_then(Value::as_str) {
            parts.push(text.to_string());
        }
    }
    if let Some(errors) = object.get("errors").filter(|e| !e.is_null()) {
        parts.push(errors.to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" — "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_hold_the_record_the_request_and_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl").join("contacts.dead-letter.jsonl");
        let file = DeadLetterFile::new(path.clone());
        assert!(
            !path.exists(),
            "nothing is created before the first dead letter"
        );
        let mut record = Map::new();
        record.insert("first_name".into(), Value::String("Ada".into()));
        let mut letter = DeadLetter::new(
            Reason::Rejected,
            vec![RecordNo(7)],
            "422 Unprocessable Entity",
        );
        letter.line = Some(8);
        letter.record_values = vec![raw_values(&record)];
        letter.request =
            Some(serde_json::json!({"method": "POST", "headers": {"Authorization": "Basic •••"}}));
        letter.status = Some(422);
        letter.response_body = Some(r#"{"error":"Unprocessable Entity"}"#.into());
        letter.attempts = 1;
        file.write(&letter).unwrap();
        file.write(&DeadLetter::new(
            Reason::Invalid,
            vec![RecordNo(9)],
            "missing phone",
        ))
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["reason"], "rejected");
        assert_eq!(lines[0]["records"], serde_json::json!([7]));
        assert_eq!(lines[0]["record_values"][0]["first_name"], "Ada");
        assert_eq!(lines[0]["status"], 422);
        assert_eq!(lines[0]["request"]["headers"]["Authorization"], "Basic •••");
        assert_eq!(lines[1]["reason"], "invalid");
        assert!(lines[1].get("status").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn api_reasons_read_every_aircall_error_shape() {
        assert_eq!(
            api_reason(br#"{"error":"Not found","troubleshoot":"Check the id"}"#).as_deref(),
            Some("Not found — Check the id")
        );
        assert_eq!(
            api_reason(br#"{"message":"Forbidden"}"#).as_deref(),
            Some("Forbidden")
        );
        assert_eq!(
            api_reason(br#"{"error":"Unprocessable Entity","errors":{"phone":["invalid"]}}"#)
                .as_deref(),
            Some(r#"Unprocessable Entity — {"phone":["invalid"]}"#)
        );
        assert_eq!(api_reason(b"<html>"), None);
        assert_eq!(api_reason(b"{}"), None);
    }
}
