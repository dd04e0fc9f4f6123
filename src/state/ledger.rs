//! A run's view of the state file: it holds the destination's run lock, knows which input the
//! records are numbered in, reads what earlier runs left, and writes intents and outcomes
//! through the one writer.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{OptionalExtension, params};
use tokio::sync::oneshot;

use super::input::describe;
use super::prior::PriorOutcomes;
use super::writer::{Change, Writer};
use super::{InputIdentity, RunId, StateError, StateStore, now_ms};
use crate::destination::Method;
use crate::records::RecordNo;

/// An intent's row in `attempts`.
pub type AttemptId = i64;

/// How a request's records ended, as stored in `attempts.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    DeadLettered,
    Invalid,
    /// The request is known not to have been applied (refused with 401/403, or never left):
    /// the records are back to "not sent" and a rerun sends them.
    NotApplied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::Invalid => "invalid",
            Outcome::NotApplied => "not_applied",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        [
            Outcome::Delivered,
            Outcome::DeadLettered,
            Outcome::Invalid,
            Outcome::NotApplied,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// A run's handle on the state file. Cloning shares the writer and the lock.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    run_id: RunId,
    writer: Arc<Mutex<Writer>>,
    /// Held for the run's life: the OS drops the lock when the process ends, even by SIGKILL.
    _lock: Arc<File>,
}

/// The records as stored: a JSON array of their numbers (`[4]`, `[4,5,6]`), and the first.
fn encode(records: &[RecordNo]) -> (String, i64) {
    use std::fmt::Write;
    let mut list = String::with_capacity(2 + records.len() * 8);
    list.push('[');
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "{}", record.0);
    }
    list.push(']');
    let first = records
        .first()
        .and_then(|r| i64::try_from(r.0).ok())
        .unwrap_or(0);
    (list, first)
}

impl Ledger {
    /// Opens the state file at `path` for a run over `input` (`None`: standard input, which
    /// cannot be recognised again and starts afresh each run), records the run's start, and
    /// returns what earlier runs over the same input left. A changed input is refused unless
    /// `restart`, which forgets the earlier runs' records (their rows stay, retired).
    pub fn open(
        path: &Path,
        input: Option<&InputIdentity>,
        restart: bool,
        trigger: &str,
    ) -> Result<(Ledger, PriorOutcomes), StateError> {
        let shown = path.display().to_string();
        let io_error = |source| StateError::Io {
            path: shown.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(dir).map_err(io_error)?;
        }
        // Two runs of one destination at once would both send every record not yet done (a
        // cron job overlapping a slow run): the second is refused.
        let lock_path = path.with_extension("lock");
        let lock = crate::files::open_private_append(&lock_path).map_err(io_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StateError::Busy { path: shown }),
            Err(fs::TryLockError::Error(source)) => return Err(io_error(source)),
        }
        let mut store = StateStore::open(path)?;
        let input_id = choose_input(&mut store, input, restart)?;
        let prior = read_prior(&store, input_id)?;
        let run_id = store.begin_run(trigger, input.map(|i| i.path.as_str()).or(Some("-")))?;
        let StateStore { conn, .. } = store;
        let writer = Writer::start(conn, input_id, run_id, path)?;
        Ok((
            Ledger {
                path: path.to_path_buf(),
                run_id,
                writer: Arc::new(Mutex::new(writer)),
                _lock: Arc::new(lock),
            },
            prior,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_id(&self) -> RunId {
        self.run_id
    }

    fn submit(
        &self,
        change: Change,
        wait: bool,
    ) -> Result<Option<oneshot::Receiver<Result<i64, String>>>, StateError> {
        let (reply, answer) = if wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        writer
            .submit(change, reply)
            .map_err(|message| self.gone(message))?;
        Ok(answer)
    }

    fn gone(&self, message: String) -> StateError {
        StateError::WriterGone {
            path: self.path.display().to_string(),
            message,
        }
    }

    async fn wait(
        &self,
        answer: Option<oneshot::Receiver<Result<i64, String>>>,
    ) -> Result<i64, StateError> {
        match answer {
            Some(answer) => match answer.await {
                Ok(Ok(id)) => Ok(id),
                Ok(Err(message)) => Err(self.gone(message)),
                Err(_) => Err(self.gone("it ended without answering".into())),
            },
            None => Ok(0),
        }
    }

    /// Durably notes that a request for `records` is about to leave; returns once committed.
    pub async fn intent(
        &self,
        records: &[RecordNo],
        method: Method,
        url: &str,
    ) -> Result<AttemptId, StateError> {
        let answer = self.submit(intent(records, method, url), true)?;
        self.wait(answer).await
    }

    /// Durably notes how `records` ended (the outcome of `attempt`, when they had one).
    pub async fn outcome(
        &self,
        attempt: Option<AttemptId>,
        records: &[RecordNo],
        outcome: Outcome,
        status: Option<u16>,
        detail: Option<&str>,
    ) -> Result<(), StateError> {
        let change = outcome_change(attempt, records, outcome, status, detail);
        let answer = self.submit(change, true)?;
        self.wait(answer).await.map(drop)
    }

    /// Queues an outcome without waiting for its commit (it is committed before the run's end is
    /// written): for outcomes nothing waits on, like an invalid record.
    pub fn outcome_queued(
        &self,
        attempt: Option<AttemptId>,
        records: &[RecordNo],
        outcome: Outcome,
        status: Option<u16>,
        detail: Option<&str>,
    ) -> Result<(), StateError> {
        let change = outcome_change(attempt, records, outcome, status, detail);
        self.submit(change, false).map(drop)
    }

    /// Writes the run's end (after everything queued before it) and closes the writer.
    pub async fn finish_run(
        &self,
        exit_code: i32,
        summary_json: &str,
        first_error: Option<&str>,
    ) -> Result<(), StateError> {
        let change = Change::FinishRun {
            exit_code,
            summary_json: summary_json.to_string(),
            first_error: first_error.map(str::to_string),
            at_ms: now_ms(),
        };
        let answer = self.submit(change, true)?;
        self.wait(answer).await.map(drop)
    }

    /// Blocks until everything queued is committed and the writer has stopped.
    pub fn close(&self) {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .close();
    }
}

fn intent(records: &[RecordNo], method: Method, url: &str) -> Change {
    let (records, first_record) = encode(records);
    Change::Intent {
        records,
        first_record,
        method: method.as_str(),
        url: url.to_string(),
        at_ms: now_ms(),
    }
}

fn outcome_change(
    attempt: Option<AttemptId>,
    records: &[RecordNo],
    outcome: Outcome,
    status: Option<u16>,
    detail: Option<&str>,
) -> Change {
    let (records, first_record) = encode(records);
    Change::Outcome {
        attempt,
        records,
        first_record,
        outcome: outcome.as_str(),
        status,
        detail: detail.map(str::to_string),
        at_ms: now_ms(),
    }
}

/// The `inputs` row the run's record numbers refer to: the current one for this input when it
/// is unchanged, a new one otherwise (standard input, `restart`, or the first run).
fn choose_input(
    store: &mut StateStore,
    input: Option<&InputIdentity>,
    restart: bool,
) -> Result<i64, StateError> {
    let path = store.path().display().to_string();
    let key = match input {
        Some(identity) => fs::canonicalize(&identity.path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| identity.path.clone()),
        None => "-".to_string(),
    };
    let sql = |source| StateError::Sql {
        path: path.clone(),
        source,
    };
    let tx = store
        .connection()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    let current: Option<(i64, InputIdentity)> = tx
        .query_row(
            "SELECT id, path, size, mtime_ns, sha256, hashed_bytes FROM inputs
             WHERE key = ?1 AND retired_at_ms IS NULL",
            [&key],
            |row| {
                Ok((
                    row.get(0)?,
                    InputIdentity {
                        path: row.get(1)?,
                        size: row.get::<_, i64>(2)? as u64,
                        mtime_ns: row.get::<_, Option<i64>>(3)?.map(|t| t as u64),
                        sha256: row.get(4)?,
                        hashed_bytes: row.get::<_, i64>(5)? as u64,
                    },
                ))
            },
        )
        .optional()
        .map_err(sql)?;
    if let (Some((id, was)), Some(now)) = (&current, input) {
        if was.same_input(now) && !restart {
            tx.commit().map_err(sql)?;
            return Ok(*id);
        }
        if !was.same_input(now) && !restart {
            return Err(StateError::InputChanged {
                path,
                input: now.path.clone(),
                was: describe(was),
                now: describe(now),
            });
        }
    }
    if let Some((id, _)) = current {
        tx.execute(
            "UPDATE inputs SET retired_at_ms = ?2 WHERE id = ?1",
            params![id, now_ms()],
        )
        .map_err(sql)?;
    }
    let stdin = InputIdentity {
        path: "-".into(),
        size: 0,
        mtime_ns: None,
        sha256: String::new(),
        hashed_bytes: 0,
    };
    let identity = input.unwrap_or(&stdin);
    tx.execute(
        "INSERT INTO inputs (key, path, size, mtime_ns, sha256, hashed_bytes, first_seen_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key,
            identity.path,
            identity.size as i64,
            identity.mtime_ns.map(|t| t as i64),
            identity.sha256,
            identity.hashed_bytes as i64,
            now_ms()
        ],
    )
    .map_err(sql)?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(sql)?;
    Ok(id)
}

/// Replays the input's attempts in the order they were written.
fn read_prior(store: &StateStore, input_id: i64) -> Result<PriorOutcomes, StateError> {
    let path = store.path().display().to_string();
    let sql = |source| StateError::Sql {
        path: path.clone(),
        source,
    };
    let mut prior = PriorOutcomes::default();
    let mut statement = store
        .conn
        .prepare(
            "SELECT id, records, method, sent_at_ms, outcome FROM attempts WHERE input_id = ?1 ORDER BY id",
        )
        .map_err(sql)?;
    let mut rows = statement.query([input_id]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let corrupt = |message: String| StateError::Corrupt {
            path: path.clone(),
            message: format!("attempt {id}: {message}"),
        };
        let records: String = row.get(1).map_err(sql)?;
        let records: Vec<u64> = serde_json::from_str(&records)
            .map_err(|e| corrupt(format!("records {records:?}: {e}")))?;
        let method: Option<String> = row.get(2).map_err(sql)?;
        let sent_at_ms: Option<i64> = row.get(3).map_err(sql)?;
        let outcome: Option<String> = row.get(4).map_err(sql)?;
        if let Some(at_ms) = sent_at_ms {
            let method = method
                .as_deref()
                .and_then(|m| Method::ALL.into_iter().find(|k| k.as_str() == m))
                .ok_or_else(|| corrupt(format!("unknown method {method:?}")))?;
            prior.sent(&records, method, at_ms).map_err(corrupt)?;
        }
        if let Some(text) = outcome {
            let outcome = Outcome::parse(&text)
                .ok_or_else(|| corrupt(format!("unknown outcome {text:?}")))?;
            prior.ended(&records, outcome).map_err(corrupt)?;
        }
    }
    prior.tally();
    Ok(prior)
}
