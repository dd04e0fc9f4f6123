//! The outcome log: an append-only, synced JSON Lines ledger per destination and input that
//! says, for each record, whether it was sent and how that ended — so a rerun after a crash
//! skips what is done and knows exactly which records are in doubt.
//!
//! A `sent` line is made durable before a request leaves; an outcome line after its answer. A
//! record with a `sent` line and no outcome may or may not have been applied: it is in doubt.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::destination::Method;
use crate::records::RecordNo;

/// Bytes of the input hashed to recognise it; smaller inputs are hashed whole.
const HASHED_PREFIX: u64 = 1 << 20;
const FORMAT: u32 = 1;

/// What identifies an input between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// The input's path as given (for messages), or `-` for standard input.
    pub path: String,
    pub size: u64,
    /// Modification time in nanoseconds since the UNIX epoch, when the platform gives one.
    #[serde(default)]
    pub mtime_ns: Option<u64>,
    /// SHA-256 (hex) of the first `hashed_bytes` bytes.
    pub sha256: String,
    pub hashed_bytes: u64,
}

impl InputIdentity {
    /// Reads a file's size, modification time and the hash of its start (all of it when small).
    pub fn of_file(path: &Path) -> io::Result<Self> {
        let metadata = fs::metadata(path)?;
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok());
        let mut hasher = Sha256::new();
        let mut reader = File::open(path)?.take(HASHED_PREFIX);
        let hashed_bytes = io::copy(&mut reader, &mut HashWriter(&mut hasher))?;
        Ok(Self {
            path: path.display().to_string(),
            size: metadata.len(),
            mtime_ns,
            sha256: hex(&hasher.finalize()),
            hashed_bytes,
        })
    }

    /// Whether `now` is the same input as `self` (the identity an earlier run stored). Size and
    /// hash must agree; the modification time must too unless the hash covers the whole input,
    /// since copying or touching a file changes its time but not its content.
    pub fn same_input(&self, now: &InputIdentity) -> bool {
        let whole = self.hashed_bytes == self.size;
        self.size == now.size
            && self.sha256 == now.sha256
            && self.hashed_bytes == now.hashed_bytes
            && (whole || self.mtime_ns == now.mtime_ns)
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a request's records ended, as written to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    DeadLettered,
    Invalid,
    /// The request is known not to have been applied (refused with 401/403, or never left):
    /// the records are back to "not sent" and a rerun sends them.
    NotApplied,
}

/// Where a record stands after the earlier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// No earlier run sent it (or it was known not to be applied).
    Fresh,
    /// Sent, outcome unknown.
    InDoubt {
        method: Method,
    },
    Delivered,
    DeadLettered,
    /// Found invalid before; it is checked again, since the destination may have been fixed.
    Invalid,
}

impl RecordState {
    /// Whether a rerun skips the record as already done.
    pub fn is_done(self) -> bool {
        matches!(self, RecordState::Delivered | RecordState::DeadLettered)
    }
}

/// One log line, externally tagged (`{"sent":{...}}`): internally tagged enums would buffer
/// numbers through serde's content type, which `arbitrary_precision` breaks.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Header {
        format: u32,
        destination: String,
        input: Option<InputIdentity>,
    },
    Run {
        started: String,
    },
    Sent {
        records: Vec<RecordNo>,
        method: Method,
        /// When it was written, in milliseconds since the UNIX epoch (absent in older logs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
    },
    Outcome {
        records: Vec<RecordNo>,
        outcome: Outcome,
    },
}

/// The earlier runs' record states: one byte per record number, so a million records cost 1 MB.
#[derive(Debug, Default, Clone)]
pub struct PriorOutcomes {
    states: Vec<u8>,
    done: u64,
    in_doubt: u64,
    last_sent_ms: Option<u64>,
}

const FRESH: u8 = 0;
const DELIVERED: u8 = 1;
const DEAD: u8 = 2;
const INVALID: u8 = 3;
// In doubt: this base plus the method's index in `Method::ALL`.
const SENT_BASE: u8 = 16;

impl PriorOutcomes {
    pub fn state(&self, no: RecordNo) -> RecordState {
        let index = usize::try_from(no.0).unwrap_or(usize::MAX);
        match self.states.get(index).copied().unwrap_or(FRESH) {
            DELIVERED => RecordState::Delivered,
            DEAD => RecordState::DeadLettered,
            INVALID => RecordState::Invalid,
            sent if sent >= SENT_BASE => {
                let method = Method::ALL
                    .get(usize::from(sent - SENT_BASE))
                    .copied()
                    .unwrap_or(Method::Post);
                RecordState::InDoubt { method }
            }
            _ => RecordState::Fresh,
        }
    }

    /// Records an earlier run finished (delivered or dead-lettered).
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Records an earlier run sent without learning the outcome.
    pub fn in_doubt(&self) -> u64 {
        self.in_doubt
    }

    /// When an earlier run last sent a request, as far as its log says: a request of that run
    /// may still be at the server until some time after it.
    pub fn last_sent(&self) -> Option<std::time::SystemTime> {
        self.last_sent_ms
            .map(|ms| UNIX_EPOCH + std::time::Duration::from_millis(ms))
    }

    fn set(&mut self, no: RecordNo, value: u8) -> Result<(), String> {
        let index =
            usize::try_from(no.0).map_err(|_| format!("record number {no} is out of range"))?;
        if index > 1 << 34 {
            return Err(format!("record number {no} is out of range"));
        }
        if self.states.len() <= index {
            self.states.resize(index + 1, FRESH);
        }
        self.states[index] = value;
        Ok(())
    }

    fn apply(&mut self, line: &Line) -> Result<(), String> {
        match line {
            Line::Header { .. } | Line::Run { .. } => {}
            Line::Sent {
                records,
                method,
                at_ms,
            } => {
                self.last_sent_ms = self.last_sent_ms.max(*at_ms);
                let index = Method::ALL.iter().position(|m| m == method).unwrap_or(1);
                for &no in records {
                    // A later resend of a record already done cannot undo "done".
                    if !self.state(no).is_done() {
                        self.set(no, SENT_BASE + index as u8)?;
                    }
                }
            }
            Line::Outcome { records, outcome } => {
                let value = match outcome {
                    Outcome::Delivered => DELIVERED,
                    Outcome::DeadLettered => DEAD,
                    Outcome::Invalid => INVALID,
                    Outcome::NotApplied => FRESH,
                };
                for &no in records {
                    if !self.state(no).is_done() {
                        self.set(no, value)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn tally(&mut self) {
        self.done = 0;
        self.in_doubt = 0;
        for &state in &self.states {
            match state {
                DELIVERED | DEAD => self.done += 1,
                s if s >= SENT_BASE => self.in_doubt += 1,
                _ => {}
            }
        }
    }
}

/// Problems opening or reading the outcome log.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error(
        "{path}, line {line}: not an outcome log line ({message}); move the file away to start over"
    )]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
    #[error(
        "another run of this destination over the same input is under way (it holds the outcome log {path}); \
         wait for it to end: two runs at once would both send the records not yet done"
    )]
    Busy { path: String },
    #[error(
        "the input {input} changed since an earlier run of this destination (outcome log {path}: {was}; now: {now}).\n\
         Records are known by their position, so mixing the two would skip or repeat the wrong ones.\n\
         Run again with --restart to forget the earlier run and send this input from the start."
    )]
    InputChanged {
        path: String,
        input: String,
        was: String,
        now: String,
    },
}

fn describe(identity: &InputIdentity) -> String {
    format!(
        "{} bytes, sha256 of the first {} bytes {}",
        identity.size,
        identity.hashed_bytes,
        &identity.sha256[..12.min(identity.sha256.len())]
    )
}

/// The outcome log of one destination and input, open for appending. Cloning shares the file.
#[derive(Debug, Clone)]
pub struct OutcomeLog {
    path: PathBuf,
    ledger: Arc<Ledger>,
    /// Held for the log's lifetime: the OS drops the lock when the process ends, even by SIGKILL.
    _lock: Arc<File>,
}

/// The open file and how far it is written and synced, counted in lines.
///
/// Group commit: a line is durable once a `sync_data` that began after the line was written
/// has returned. Concurrent appenders write under `written` (short), then queue on `synced`;
/// whoever holds it syncs every line written so far, and those queued behind it find their line
/// already covered. One sync then serves a whole wave of concurrent deliveries, instead of each
/// line waiting for its own sync in turn.
#[derive(Debug)]
struct Ledger {
    file: File,
    /// Lines written (the lock also keeps each line a single, ordered write).
    written: Mutex<u64>,
    /// Lines known to be on disk; held across `sync_data`.
    synced: Mutex<u64>,
}

fn guard(counter: &Mutex<u64>) -> std::sync::MutexGuard<'_, u64> {
    // A counter is a single integer: a panic elsewhere cannot leave it torn.
    counter
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl OutcomeLog {
    /// Opens (or creates) the log at `path`, reading what earlier runs left.
    ///
    /// `input` is `None` for standard input, which cannot be recognised again: its log starts
    /// afresh each run (the previous one is kept beside it). A changed input is refused unless
    /// `restart`, which also keeps the previous log beside the new one.
    pub fn open(
        path: &Path,
        destination: &str,
        input: Option<&InputIdentity>,
        restart: bool,
    ) -> Result<(OutcomeLog, PriorOutcomes), StateError> {
        let io_error = |source| StateError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(dir).map_err(io_error)?;
        }
        // Two runs of one destination and input at once would both send every record not yet
        // done (a cron job overlapping a slow run): the second is refused.
        let lock_path = path.with_extension("lock");
        let lock = crate::files::open_private_append(&lock_path).map_err(io_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StateError::Busy {
                    path: path.display().to_string(),
                });
            }
            Err(fs::TryLockError::Error(source)) => return Err(io_error(source)),
        }
        let mut prior = PriorOutcomes::default();
        let mut fresh = true;
        if path.exists() {
            let (header_input, read) = read_log(path)?;
            let keep = match (input, header_input.as_ref()) {
                (Some(now), Some(was)) if was.same_input(now) => true,
                (Some(now), Some(was)) if !restart => {
                    return Err(StateError::InputChanged {
                        path: path.display().to_string(),
                        input: now.path.clone(),
                        was: describe(was),
                        now: describe(now),
                    });
                }
                _ => false,
            };
            if keep && !restart {
                prior = read;
                fresh = false;
            } else {
                let previous = path.with_extension("previous.jsonl");
                fs::rename(path, &previous).map_err(io_error)?;
            }
        }
        if !fresh {
            drop_torn_tail(path).map_err(io_error)?;
        }
        let file = crate::files::open_private_append(path).map_err(io_error)?;
        let log = OutcomeLog {
            path: path.to_path_buf(),
            ledger: Arc::new(Ledger {
                file,
                written: Mutex::new(0),
                synced: Mutex::new(0),
            }),
            _lock: Arc::new(lock),
        };
        if fresh {
            log.append(&Line::Header {
                format: FORMAT,
                destination: destination.to_string(),
                input: input.cloned(),
            })
            .map_err(io_error)?;
        }
        log.append(&Line::Run {
            started: super::timestamp(std::time::SystemTime::now()),
        })
        .map_err(io_error)?;
        prior.tally();
        Ok((log, prior))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Durably notes that a request for `records` is about to leave. Call before sending.
    pub fn sent(&self, records: &[RecordNo], method: Method) -> io::Result<()> {
        let at_ms = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok());
        self.append(&Line::Sent {
            records: records.to_vec(),
            method,
            at_ms,
        })
    }

    /// Durably notes how `records` ended.
    pub fn outcome(&self, records: &[RecordNo], outcome: Outcome) -> io::Result<()> {
        self.append(&Line::Outcome {
            records: records.to_vec(),
            outcome,
        })
    }

    fn append(&self, line: &Line) -> io::Result<()> {
        let mut text = serde_json::to_string(line).map_err(io::Error::other)?;
        text.push('\n');
        let ledger = &*self.ledger;
        let line_no = {
            let mut written = guard(&ledger.written);
            // One write per line: with O_APPEND a crash leaves at most a torn last line, which
            // the next open drops.
            (&ledger.file).write_all(text.as_bytes())?;
            *written += 1;
            *written
        };
        let mut synced = guard(&ledger.synced);
        if *synced >= line_no {
            return Ok(());
        }
        // Every line counted here is already written, so the sync below covers it.
        let covered = *guard(&ledger.written);
        ledger.file.sync_data()?;
        *synced = covered;
        Ok(())
    }
}

/// Reads a log: its header's input identity and the record states it leaves.
fn read_log(path: &Path) -> Result<(Option<InputIdentity>, PriorOutcomes), StateError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| StateError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let mut prior = PriorOutcomes::default();
    let mut header = None;
    let mut number = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| StateError::Io {
                path: shown.clone(),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        if buf.last() != Some(&b'\n') {
            // A line cut short by a crash: its write never completed, so it never happened.
            break;
        }
        let corrupt = |message: String| StateError::Corrupt {
            path: shown.clone(),
            line: number,
            message,
        };
        let line: Line = serde_json::from_slice(&buf).map_err(|e| corrupt(e.to_string()))?;
        match (&line, number) {
            (Line::Header { format, input, .. }, 1) => {
                if *format != FORMAT {
                    return Err(corrupt(format!(
                        "format {format}, this build reads {FORMAT}"
                    )));
                }
                header = Some(input.clone());
            }
            (Line::Header { .. }, _) => return Err(corrupt("a second header".into())),
            (_, 1) => return Err(corrupt("expected a header first".into())),
            _ => prior.apply(&line).map_err(corrupt)?,
        }
    }
    Ok((header.flatten(), prior))
}

/// Truncates a last line that has no newline (a write cut short), so new lines start clean.
fn drop_torn_tail(path: &Path) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let reader = &mut file;
    let mut keep = len;
    let mut byte = [0u8; 1];
    while keep > 0 {
        reader.seek(SeekFrom::Start(keep - 1))?;
        reader.read_exact(&mut byte)?;
        if byte[0] == b'\n' {
            break;
        }
        keep -= 1;
    }
    if keep < len {
        file.set_len(keep)?;
        file.sync_data()?;
    }
    Ok(())
}

/// The log's file for a destination and an input: one per pair, named so a person can tell
/// which is which (`<destination>--<input file>--<hash>.outcomes.jsonl`).
pub fn log_path(state_dir: &Path, destination_file: &Path, input: Option<&Path>) -> PathBuf {
    let canonical = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut hasher = Sha256::new();
    hasher.update(canonical(destination_file).to_string_lossy().as_bytes());
    hasher.update([0]);
    match input {
        Some(input) => hasher.update(canonical(input).to_string_lossy().as_bytes()),
        None => hasher.update(b"-"),
    }
    let digest = hex(&hasher.finalize());
    let stem = |p: &Path| {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect::<String>()
    };
    let input_name = input.map_or_else(|| "stdin".to_string(), stem);
    state_dir.join(format!(
        "{}--{}--{}.outcomes.jsonl",
        stem(destination_file),
        input_name,
        &digest[..12]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nos(list: &[u64]) -> Vec<RecordNo> {
        list.iter().map(|&n| RecordNo(n)).collect()
    }

    fn input(dir: &Path, text: &str) -> (PathBuf, InputIdentity) {
        let path = dir.join("input.csv");
        fs::write(&path, text).unwrap();
        let identity = InputIdentity::of_file(&path).unwrap();
        (path, identity)
    }

    #[test]
    fn a_rerun_sees_what_is_done_and_what_is_in_doubt() {
        let dir = tempfile::tempdir().unwrap();
        let (_, identity) = input(dir.path(), "a\n1\n2\n3\n4\n5\n");
        let path = dir.path().join("state").join("log.jsonl");
        {
            let (log, prior) = OutcomeLog::open(&path, "contacts", Some(&identity), false).unwrap();
            assert_eq!((prior.done(), prior.in_doubt()), (0, 0));
            log.sent(&nos(&[1, 2]), Method::Post).unwrap();
            log.outcome(&nos(&[1, 2]), Outcome::Delivered).unwrap();
            log.sent(&nos(&[3]), Method::Post).unwrap();
            log.outcome(&nos(&[3]), Outcome::DeadLettered).unwrap();
            log.sent(&nos(&[4]), Method::Put).unwrap();
            log.sent(&nos(&[5]), Method::Post).unwrap();
            log.outcome(&nos(&[5]), Outcome::NotApplied).unwrap();
            log.outcome(&nos(&[6]), Outcome::Invalid).unwrap();
        }
        let (_, prior) = OutcomeLog::open(&path, "contacts", Some(&identity), false).unwrap();
        assert_eq!(prior.state(RecordNo(1)), RecordState::Delivered);
        assert_eq!(prior.state(RecordNo(2)), RecordState::Delivered);
        assert_eq!(prior.state(RecordNo(3)), RecordState::DeadLettered);
        assert_eq!(
            prior.state(RecordNo(4)),
            RecordState::InDoubt {
                method: Method::Put
            }
        );
        assert_eq!(prior.state(RecordNo(5)), RecordState::Fresh);
        assert_eq!(prior.state(RecordNo(6)), RecordState::Invalid);
        assert_eq!(prior.state(RecordNo(999)), RecordState::Fresh);
        assert_eq!((prior.done(), prior.in_doubt()), (3, 1));
        let since = std::time::SystemTime::now()
            .duration_since(prior.last_sent().expect("sent lines carry their time"))
            .expect("in the past");
        assert!(since < std::time::Duration::from_secs(60), "{since:?}");
    }

    #[test]
    fn a_second_opener_is_refused_while_the_first_holds_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (_, identity) = input(dir.path(), "a\n1\n");
        let path = dir.path().join("log.jsonl");
        let (first, _) = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap();
        let err = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap_err();
        assert!(
            matches!(err, StateError::Busy { .. }) && err.to_string().contains("another run"),
            "{err}"
        );
        drop(first);
        OutcomeLog::open(&path, "d", Some(&identity), false)
            .expect("free again once the first ends");
    }

    #[test]
    fn concurrent_appends_all_land_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (_, identity) = input(dir.path(), "a\n1\n");
        let path = dir.path().join("log.jsonl");
        let (threads, each) = (16u64, 50u64);
        {
            let (log, _) = OutcomeLog::open(&path, "contacts", Some(&identity), false).unwrap();
            std::thread::scope(|scope| {
                for t in 0..threads {
                    let log = log.clone();
                    scope.spawn(move || {
                        for i in 0..each {
                            let no = nos(&[1 + t * each + i]);
                            log.sent(&no, Method::Post).unwrap();
                            // Every third record stays in doubt: its outcome never comes.
                            if i % 3 != 0 {
                                log.outcome(&no, Outcome::Delivered).unwrap();
                            }
                        }
                    });
                }
            });
        }
        let (_, prior) = OutcomeLog::open(&path, "contacts", Some(&identity), false).unwrap();
        let in_doubt = threads * each.div_ceil(3);
        assert_eq!(
            (prior.done(), prior.in_doubt()),
            (threads * each - in_doubt, in_doubt)
        );
        for t in 0..threads {
            assert_eq!(
                prior.state(RecordNo(1 + t * each)),
                RecordState::InDoubt {
                    method: Method::Post
                }
            );
            assert_eq!(prior.state(RecordNo(2 + t * each)), RecordState::Delivered);
        }
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_new_lines_start_clean() {
        let dir = tempfile::tempdir().unwrap();
        let (_, identity) = input(dir.path(), "a\n1\n2\n");
        let path = dir.path().join("log.jsonl");
        {
            let (log, _) = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap();
            log.sent(&nos(&[1]), Method::Post).unwrap();
        }
        let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"type":"outcome","records":[1],"outc"#)
            .unwrap();
        drop(file);
        {
            let (log, prior) = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap();
            assert_eq!(
                prior.state(RecordNo(1)),
                RecordState::InDoubt {
                    method: Method::Post
                },
                "the torn outcome never happened"
            );
            log.outcome(&nos(&[1]), Outcome::Delivered).unwrap();
        }
        let (_, prior) = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap();
        assert_eq!(prior.state(RecordNo(1)), RecordState::Delivered);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
            "{text}"
        );
    }

    #[test]
    fn a_changed_input_is_refused_unless_restarting() {
        let dir = tempfile::tempdir().unwrap();
        let (path_in, identity) = input(dir.path(), "a\n1\n2\n");
        let path = dir.path().join("log.jsonl");
        {
            let (log, _) = OutcomeLog::open(&path, "d", Some(&identity), false).unwrap();
            log.sent(&nos(&[1]), Method::Post).unwrap();
            log.outcome(&nos(&[1]), Outcome::Delivered).unwrap();
        }
        fs::write(&path_in, "a\n9\n2\n").unwrap();
        let changed = InputIdentity::of_file(&path_in).unwrap();
        let err = OutcomeLog::open(&path, "d", Some(&changed), false).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("changed since an earlier run") && message.contains("--restart"),
            "{message}"
        );
        let (_, prior) = OutcomeLog::open(&path, "d", Some(&changed), true).unwrap();
        assert_eq!(prior.state(RecordNo(1)), RecordState::Fresh);
        assert!(
            path.with_extension("previous.jsonl").exists(),
            "the old log is kept"
        );
        let (_, prior) = OutcomeLog::open(&path, "d", Some(&changed), false).unwrap();
        assert_eq!(
            prior.done(),
            0,
            "after a restart the new input is the one remembered"
        );
    }

    #[test]
    fn touching_a_fully_hashed_file_is_not_a_change_but_new_content_is() {
        let dir = tempfile::tempdir().unwrap();
        let (path_in, identity) = input(dir.path(), "a\n1\n");
        let touched = InputIdentity {
            mtime_ns: Some(1),
            ..identity.clone()
        };
        assert!(identity.same_input(&touched));
        fs::write(&path_in, "a\n1\n2\n").unwrap();
        assert!(!identity.same_input(&InputIdentity::of_file(&path_in).unwrap()));
        let big = InputIdentity {
            size: 5 << 20,
            hashed_bytes: 1 << 20,
            ..identity.clone()
        };
        assert!(
            !big.same_input(&InputIdentity {
                mtime_ns: Some(1),
                ..big.clone()
            }),
            "a partly hashed file relies on its time"
        );
    }

    #[test]
    fn standard_input_starts_a_fresh_log_each_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        {
            let (log, _) = OutcomeLog::open(&path, "d", None, false).unwrap();
            log.sent(&nos(&[1]), Method::Post).unwrap();
            log.outcome(&nos(&[1]), Outcome::Delivered).unwrap();
        }
        let (_, prior) = OutcomeLog::open(&path, "d", None, false).unwrap();
        assert_eq!(prior.state(RecordNo(1)), RecordState::Fresh);
    }

    #[cfg(unix)]
    #[test]
    fn the_log_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        OutcomeLog::open(&path, "d", None, false).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        OutcomeLog::open(&path, "d", None, false).unwrap();
        let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"garbage\n").unwrap();
        drop(file);
        let err = read_log(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("not an outcome log line"),
            "{err}"
        );
    }

    #[test]
    fn log_paths_differ_per_destination_and_input() {
        let dir = Path::new("/state");
        let a = log_path(
            dir,
            Path::new("/d/contacts.toml"),
            Some(Path::new("/in/customers.csv")),
        );
        let b = log_path(
            dir,
            Path::new("/d/contacts.toml"),
            Some(Path::new("/in/other.csv")),
        );
        let c = log_path(
            dir,
            Path::new("/d/users.toml"),
            Some(Path::new("/in/customers.csv")),
        );
        assert_ne!(a, b);
        assert_ne!(a, c);
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("contacts--customers--") && name.ends_with(".outcomes.jsonl"),
            "{name}"
        );
    }
}
