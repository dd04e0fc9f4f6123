//! The one writer of a run's state: a thread that owns the connection and commits every intent
//! and outcome waiting for it in one transaction (group commit). One WAL sync then serves a
//! whole wave of concurrent deliveries, and nobody is told "durable" before the commit returned.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::{RunId, StateError};

/// Most commands folded into one transaction; more wait for the next.
const MAX_BATCH: usize = 4096;

/// A commit of at least this many changes means deliveries are queueing for the writer, so the
/// next one gathers up to [`GATHER`] changes, waiting at most [`GATHER_FOR`] for them. Each
/// commit is a `fsync` of the log, about 55 µs of CPU here (a virtual disk's flush): one record
/// per request at concurrency 32, committing as soon as one change waited made about 800
/// commits per 10,000 records and gathering makes about 200, for 2.5 µs of CPU less per record
/// and 7 % more records a second (docs/benchmarks.md). A paced run never commits 16 changes at
/// once, so it never waits.
const BUSY: usize = 16;
const GATHER: usize = 128;
const GATHER_FOR: Duration = Duration::from_millis(1);
/// How often a gathering writer looks for more changes.
const GATHER_STEP: Duration = Duration::from_micros(250);

/// Moves the changes already waiting into `batch` (up to [`MAX_BATCH`]); false once every
/// sender is gone.
fn take_waiting(rx: &mpsc::Receiver<(Change, Reply)>, batch: &mut Vec<(Change, Reply)>) -> bool {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(mpsc::TryRecvError::Empty) => return true,
            Err(mpsc::TryRecvError::Disconnected) => return false,
        }
    }
    true
}

/// One change to the state file.
#[derive(Debug)]
pub(super) enum Change {
    /// A request is about to leave; answers with the attempt's row id.
    Intent {
        records: String,
        first_record: i64,
        method: &'static str,
        url: String,
        at_ms: i64,
    },
    /// How a request (or records with no request, e.g. invalid ones) ended.
    Outcome {
        attempt: Option<i64>,
        records: String,
        first_record: i64,
        outcome: &'static str,
        status: Option<u16>,
        detail: Option<String>,
        at_ms: i64,
    },
    /// The run's end.
    FinishRun {
        exit_code: i32,
        summary_json: String,
        first_error: Option<String>,
        at_ms: i64,
    },
}

type Answer = Result<i64, String>;
type Reply = Option<oneshot::Sender<Answer>>;

/// A commit's answers, handed to the async side in one message.
type Answers = Vec<(oneshot::Sender<Answer>, Answer)>;

pub(super) struct Writer {
    tx: Option<mpsc::Sender<(Change, Reply)>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    pub(super) fn start(
        conn: Connection,
        input_id: i64,
        run_id: RunId,
        path: &Path,
    ) -> Result<Writer, StateError> {
        let (tx, rx) = mpsc::channel();
        let relay = Relay::start();
        let thread = std::thread::Builder::new()
            .name("state-writer".into())
            .spawn(move || write_loop(conn, input_id, run_id, rx, relay))
            .map_err(|source| StateError::Io {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues a change; the answer (when asked for) comes once its transaction committed.
    pub(super) fn submit(&self, change: Change, reply: Reply) -> Result<(), String> {
        match &self.tx {
            Some(tx) => tx
                .send((change, reply))
                .map_err(|_| "the state writer has stopped".to_string()),
            None => Err("the state writer is closed".to_string()),
        }
    }

    /// Commits everything queued and stops the thread.
    pub(super) fn close(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

/// Hands each commit's answers to a task on the runtime the writer was started in, which
/// answers every waiter from there. Answering them from this thread instead wakes that runtime
/// once per waiter (a write to its event descriptor each): two per record, one record per
/// request, 20,000 such writes for 10,000 records where this makes one per commit (strace).
///
/// So a ledger is waited on in the runtime it was opened in, as the runner does (it opens and
/// uses it within one `run`). Once that runtime has ended, answers go out from the writer's
/// thread again.
struct Relay(Option<tokio::sync::mpsc::UnboundedSender<Answers>>);

impl Relay {
    /// A relay on the current runtime; none outside one (the answers then go out directly).
    fn start() -> Relay {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Relay(None);
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Answers>();
        runtime.spawn(async move {
            while let Some(answers) = rx.recv().await {
                for (reply, answer) in answers {
                    let _ = reply.send(answer);
                }
            }
        });
        Relay(Some(tx))
    }

    fn answer(&mut self, answers: Answers) {
        let answers = match &self.0 {
            Some(tx) if answers.len() > 1 => match tx.send(answers) {
                Ok(()) => return,
                // The runtime it ran on is gone: answer from here.
                Err(unsent) => {
                    self.0 = None;
                    unsent.0
                }
            },
            _ => answers,
        };
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
    }
}

/// Where the writer's time went, logged at its end (`AIRCALL_DEST_LOG=aircall_dest::state=debug`).
#[derive(Default)]
struct Counters {
    commits: u64,
    changes: u64,
    /// Running the statements of each transaction.
    statements: Duration,
    /// `COMMIT`: writing the log frames and syncing them.
    syncs: Duration,
}

fn write_loop(
    mut conn: Connection,
    input_id: i64,
    run_id: RunId,
    rx: mpsc::Receiver<(Change, Reply)>,
    mut relay: Relay,
) {
    // After a failed commit nothing more is written: later changes could otherwise land while
    // an earlier one they depend on did not.
    let mut failed: Option<String> = None;
    let mut counters = Counters::default();
    let mut busy = false;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut open = take_waiting(&rx, &mut batch);
        if busy {
            // Sleeping, not waiting on the channel: a writer blocked in `recv` is woken by
            // every change sent to it, a system call for the sender and two context switches
            // for up to 128 changes, where this costs a few sleeps.
            let until = Instant::now() + GATHER_FOR;
            while open && batch.len() < GATHER {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(GATHER_STEP));
                open = take_waiting(&rx, &mut batch);
            }
        }
        busy = batch.len() >= BUSY;
        let results = match &failed {
            Some(message) => vec![Err(message.clone()); batch.len()],
            None => match commit(&mut conn, input_id, run_id, &batch, &mut counters) {
                Ok(ids) => ids.into_iter().map(Ok).collect(),
                Err(err) => {
                    let message = err.to_string();
                    failed = Some(message.clone());
                    vec![Err(message); batch.len()]
                }
            },
        };
        let answers = batch
            .into_iter()
            .zip(results)
            .filter_map(|((_, reply), result)| reply.map(|reply| (reply, result)))
            .collect();
        relay.answer(answers);
    }
    tracing::debug!(
        commits = counters.commits,
        changes = counters.changes,
        statements_ms = counters.statements.as_millis(),
        syncs_ms = counters.syncs.as_millis(),
        "state writer done"
    );
}

/// Writes a batch in one transaction; returns each change's row id (0 when it has none).
fn commit(
    conn: &mut Connection,
    input_id: i64,
    run_id: RunId,
    batch: &[(Change, Reply)],
    counters: &mut Counters,
) -> rusqlite::Result<Vec<i64>> {
    let started = Instant::now();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut ids = Vec::with_capacity(batch.len());
    {
        let mut intent = tx.prepare_cached(
            "INSERT INTO attempts (input_id, run_id, first_record, records, method, url, sent_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut update = tx.prepare_cached(
            "UPDATE attempts SET outcome = ?2, outcome_at_ms = ?3, status = ?4, detail = ?5 WHERE id = ?1",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO attempts (input_id, run_id, first_record, records, outcome, outcome_at_ms, status, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (change, _) in batch {
            match change {
                Change::Intent {
                    records,
                    first_record,
                    method,
                    url,
                    at_ms,
                } => {
                    intent.execute(params![
                        input_id,
                        run_id,
                        first_record,
                        records,
                        method,
                        url,
                        at_ms
                    ])?;
                    ids.push(tx.last_insert_rowid());
                }
                Change::Outcome {
                    attempt,
                    records,
                    first_record,
                    outcome,
                    status,
                    detail,
                    at_ms,
                } => {
                    let updated = match attempt {
                        Some(id) => update.execute(params![id, outcome, at_ms, status, detail])?,
                        None => 0,
                    };
                    if updated == 0 {
                        insert.execute(params![
                            input_id,
                            run_id,
                            first_record,
                            records,
                            outcome,
                            at_ms,
                            status,
                            detail
                        ])?;
                    }
                    ids.push(0);
                }
                Change::FinishRun {
                    exit_code,
                    summary_json,
                    first_error,
                    at_ms,
                } => {
                    tx.execute(
                        "UPDATE runs SET finished_at_ms = ?2, exit_code = ?3, summary_json = ?4, first_error = ?5 WHERE id = ?1",
                        params![run_id, at_ms, exit_code, summary_json, first_error],
                    )?;
                    ids.push(0);
                }
            }
        }
    }
    let syncing = Instant::now();
    tx.commit()?;
    counters.commits += 1;
    counters.changes += batch.len() as u64;
    counters.statements += syncing - started;
    counters.syncs += syncing.elapsed();
    Ok(ids)
}
