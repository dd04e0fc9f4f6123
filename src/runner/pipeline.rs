//! `run`: a reader thread streams records through the request builder into a small bounded
//! queue; the dispatcher keeps up to `concurrency` deliveries in flight and is the one place
//! that counts outcomes, so every record read ends in exactly one summary field.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::capture::{CaptureEntry, ResponseCapture, capped_body, headers_object};
use super::dead_letter::{DeadLetter, DeadLetterFile, Reason};
use super::in_doubt::{self, AfterLookup, InDoubtAction};
use super::outcome_log::{
    InputIdentity, Outcome, OutcomeLog, PriorOutcomes, RecordState, StateError, log_path,
};
use super::reconcile::{self, Lookup, LookupKind, Lookups, Reconciled};
use super::summary::{Progress, Summary, eta};
use crate::client::{
    Action, Answer, HttpClient, Next, RateLimiter, RetryPolicy, TransportError, classify,
};
use crate::credentials::{AuthKind, Credential, CredentialError};
use crate::destination::{Destination, InDoubtPolicy, Method, OnInvalid, OnRejected, Status};
use crate::records::{self, Input, OpenError, Record, RecordNo};
use crate::request::{Built, DEFAULT_BASE_URL, Invalid, Plan, Request};
use crate::secret::Secret;

/// What the person (or the wizard) asks of a running delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopRequest {
    /// Keep going.
    None,
    /// Stop reading, flush open batches, let in-flight requests finish up to the drain timeout.
    Drain,
    /// Stop at once: in-flight records become in doubt.
    Now,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub destination: Destination,
    /// The destination file (for relative paths and the outcome log's name).
    pub destination_path: PathBuf,
    pub input: Input,
    pub state_dir: PathBuf,
    /// Required unless `dry_run`.
    pub credential: Option<Credential>,
    pub dry_run: bool,
    pub restart: bool,
    pub resend_in_doubt: bool,
    /// Seeds retry jitter, for reproducible tests; `None` draws one.
    pub seed: Option<u64>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Finished,
    /// Stopped by a signal (or the wizard) after draining.
    Interrupted,
    /// Stopped because nothing more could succeed (401/403, an unwritable outcome log).
    Fatal(String),
    /// `on_rejected = "stop"` and the API rejected a record.
    StoppedOnRejected,
    /// `on_invalid = "stop"` and a record was invalid.
    StoppedOnInvalid,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub summary: Summary,
    pub ending: Ending,
    /// For `--dry-run`: the records that would be sent (counted nowhere else), and the requests.
    pub dry_run: Option<DryRun>,
    pub outcome_log: Option<PathBuf>,
    /// Set when at least one dead letter was written.
    pub dead_letter_file: Option<PathBuf>,
    /// Things the person should know (in-doubt records from earlier runs, webhook trouble…).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DryRun {
    pub records: u64,
    pub requests: u64,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "destination {name:?} ({path}) is paused, so it is not run; activate it with `aircall-dest activate {path}`"
    )]
    Paused { name: String, path: String },
    #[error("{0}")]
    Credential(#[from] CredentialError),
    #[error("no credential given for a run that sends requests")]
    NoCredential,
    #[error("cannot build requests: {0}")]
    Plan(String),
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Client(#[from] crate::client::ClientError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// A destination file that holds the credential's token is refused before anything is sent: the
/// file is not where a secret belongs, and it is copied, shared and committed like any config.
fn refuse_secret_in_destination_file(
    credential: &Credential,
    authorization: &Secret,
    path: &Path,
) -> Result<(), RunError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // A destination not saved to a file (the wizard's, before Save) has no file to hold a secret.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(RunError::Io {
                what: format!("cannot read {}", path.display()),
                source,
            });
        }
    };
    credential.refuse_secret_in(authorization, path, &text)?;
    Ok(())
}

/// The default state folder: `state/` in the configuration folder.
pub fn default_state_dir() -> PathBuf {
    crate::credentials::config_dir().join("state")
}

/// What a run tells its watcher (the CLI's progress bar, the wizard) while it goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// Counts after every change.
    Progress(Progress),
    /// A record that is not sent, with the reason.
    Invalid(Invalid),
    /// Records written to the dead-letter file.
    DeadLettered {
        records: Vec<RecordNo>,
        message: String,
    },
    /// Records whose request may have been applied and that are not sent again.
    InDoubt {
        records: Vec<RecordNo>,
        message: String,
    },
}

/// Where dead letters go when the destination names no file: `<state dir>/<file stem>.dead-letter.jsonl`.
pub fn default_dead_letter_path(destination_path: &Path, state_dir: &Path) -> PathBuf {
    let stem = destination_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "destination".into());
    state_dir.join(format!("{stem}.dead-letter.jsonl"))
}

/// Receives [`Event`]s; called from the run's tasks, so it must be quick.
pub type EventFn = Arc<dyn Fn(Event) + Send + Sync>;

/// Runs a destination to the end (or until stopped) and reports.
pub async fn run(
    options: RunOptions,
    stop: watch::Receiver<StopRequest>,
    events: EventFn,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let destination = &options.destination;
    let shown_path = options.destination_path.display().to_string();
    if destination.status == Status::Paused && !options.dry_run {
        return Err(RunError::Paused {
            name: destination.name.clone(),
            path: shown_path,
        });
    }
    let (base_url, auth_kind, authorization) = match &options.credential {
        Some(credential) => {
            credential.check()?;
            let authorization = if options.dry_run {
                None
            } else {
                Some(credential.authorization()?)
            };
            if let Some(authorization) = &authorization {
                refuse_secret_in_destination_file(
                    credential,
                    authorization,
                    &options.destination_path,
                )?;
            }
            (
                credential.base_url.clone(),
                Some(credential.kind),
                authorization,
            )
        }
        None if options.dry_run => (DEFAULT_BASE_URL.to_string(), None, None),
        None => return Err(RunError::NoCredential),
    };
    let plan = Plan::new(destination, &base_url).map_err(|e| RunError::Plan(e.0))?;
    let reader = records::open(&options.input, destination.source.format)?;
    let relative = |path: &Path| -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            match options.destination_path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.join(path),
                _ => path.to_path_buf(),
            }
        }
    };

    // The plan's warnings (e.g. requests going elsewhere than the credential's host, so without
    // it) are part of what a person must be told about the run.
    let mut notes: Vec<String> = plan.warnings().to_vec();
    let (log, prior) = if options.dry_run {
        (None, PriorOutcomes::default())
    } else {
        let input_path = match &options.input {
            Input::Path(path) => Some(path.as_path()),
            Input::Stdin => None,
        };
        let identity = match input_path {
            Some(path) => Some(InputIdentity::of_file(path).map_err(|source| RunError::Io {
                what: format!("cannot read {}", path.display()),
                source,
            })?),
            None => {
                notes.push(
                    "records come from standard input, which cannot be recognised on a rerun: nothing is skipped as already done"
                        .to_string(),
                );
                None
            }
        };
        let path = log_path(&options.state_dir, &options.destination_path, input_path);
        let (log, prior) =
            OutcomeLog::open(&path, &destination.name, identity.as_ref(), options.restart)?;
        if prior.in_doubt() > 0 {
            let policy = destination.delivery.in_doubt;
            notes.push(format!(
                "{} record(s) were sent by an earlier run that never learned their outcome (in doubt); {}",
                prior.in_doubt(),
                if policy == InDoubtPolicy::Resend {
                    "they are sent again as the destination asks (in_doubt = \"resend\")".to_string()
                } else if policy == InDoubtPolicy::Reconcile && LookupKind::of_destination(destination).is_some() {
                    format!(
                        "each is looked up at the API first (once {}s have passed since that run last sent, so its requests have landed): found ones are recorded as delivered, the others sent again",
                        destination.delivery.request_timeout_secs.max(1)
                    )
                } else if options.resend_in_doubt {
                    "they are sent again as asked (--resend-in-doubt)".to_string()
                } else {
                    format!(
                        "idempotent ones are sent again, creates are reported (check them, then use --resend-in-doubt); see {}",
                        path.display()
                    )
                }
            ));
        }
        (Some(log), prior)
    };

    // Requests an earlier run left in doubt may still be at the server for a while after it
    // died (a supervisor restarts a crashed run within a second): their lookups wait until
    // the request timeout has passed since that run last sent, so a create still landing is
    // found rather than sent again.
    let reconcile_after = prior.last_sent().and_then(|at| {
        let settle = Duration::from_secs(destination.delivery.request_timeout_secs.max(1));
        let left = (at + settle).duration_since(SystemTime::now()).ok()?;
        Some(tokio::time::Instant::now() + left)
    });
    let delivery = destination.delivery.clone();
    let dead_letter_path = delivery
        .dead_letter_file
        .as_deref()
        .map(relative)
        .unwrap_or_else(|| default_dead_letter_path(&options.destination_path, &options.state_dir));
    let dead_letters = DeadLetterFile::new(dead_letter_path.clone());
    let http = HttpClient::new(&delivery, authorization.as_ref())?;
    let capture = if options.dry_run {
        ResponseCapture::off()
    } else {
        let file = destination.capture.file.as_deref().map(relative);
        ResponseCapture::open(
            file.as_deref(),
            destination.capture.webhook_url.as_deref(),
            http.reqwest().clone(),
        )
        .map_err(|source| RunError::Io {
            what: "cannot open the response capture file".into(),
            source,
        })?
    };

    // Counting the input is a second pass over it, done beside the run: the ETA needs it, the run does not.
    let total = Arc::new(AtomicU64::new(u64::MAX));
    if let Input::Path(_) = &options.input {
        let total = total.clone();
        let input = options.input.clone();
        let format = destination.source.format;
        tokio::task::spawn_blocking(move || {
            if let Some(count) = records::count_records(&input, format) {
                total.store(count, Ordering::Relaxed);
            }
        });
    }

    let concurrency = delivery.concurrency.max(1);
    let (work_tx, work_rx) = mpsc::channel::<Work>(concurrency);
    let reader_stop = Arc::new(AtomicU8::new(READ_ON));
    let records_per_request = plan.records_per_request();
    let lookup = LookupKind::of_destination(destination);
    {
        let reader_stop = reader_stop.clone();
        let in_doubt_policy = delivery.in_doubt;
        let resend = options.resend_in_doubt;
        let can_look_up = lookup.is_some();
        std::thread::Builder::new()
            .name("records".into())
            .spawn(move || {
                read_records(
                    reader,
                    plan,
                    prior,
                    in_doubt_policy,
                    resend,
                    can_look_up,
                    work_tx,
                    reader_stop,
                )
            })
            .map_err(|source| RunError::Io {
                what: "cannot start the record reader".into(),
                source,
            })?;
    }

    let seed = options
        .seed
        .unwrap_or_else(|| StdRng::from_os_rng().next_u64());
    let limiter = RateLimiter::new(delivery.rate_limit_per_minute, delivery.burst);
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        http,
        interval: limiter.interval(),
        limiter,
        policy: RetryPolicy::from_delivery(&delivery),
        fallback: Duration::from_secs(delivery.rate_limit_fallback_secs),
        log,
        dead_letters,
        capture,
        credential: destination.credential.clone(),
        auth_kind,
        in_doubt: delivery.in_doubt,
        resend_in_doubt: options.resend_in_doubt,
        lookup,
        reconcile_after,
        on_rejected: delivery.on_rejected,
        requests: AtomicU64::new(0),
        reconciled_found: AtomicU64::new(0),
        reconciled_missing: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        http_429: AtomicU64::new(0),
        dead_letters_written: AtomicU64::new(0),
        control: control_tx,
        events: events.clone(),
    });

    let mut dispatcher = Dispatcher {
        shared: shared.clone(),
        started,
        dry_run: options.dry_run,
        concurrency,
        drain_timeout: Duration::from_secs(delivery.drain_timeout_secs),
        on_invalid: delivery.on_invalid,
        records_per_request,
        total,
        events: events.clone(),
        seed,
        next_task: 0,
        counts: Summary::default(),
        abandoned: 0,
        would_send: DryRun {
            records: 0,
            requests: 0,
        },
        flights: HashMap::new(),
        tasks: JoinSet::new(),
        reader_stop,
        ending: None,
    };
    dispatcher.run(work_rx, control_rx, stop).await;

    let Dispatcher {
        mut counts,
        abandoned,
        ending,
        would_send,
        ..
    } = dispatcher;
    counts.records_read = counts.records_read.saturating_sub(abandoned);
    counts.requests = shared.requests.load(Ordering::Relaxed);
    counts.retries = shared.retries.load(Ordering::Relaxed);
    counts.http_429 = shared.http_429.load(Ordering::Relaxed);
    counts.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    debug_assert_eq!(
        counts.records_read,
        counts.accounted()
            + if options.dry_run {
                would_send.records
            } else {
                0
            }
    );
    let (found, missing) = (
        shared.reconciled_found.load(Ordering::Relaxed),
        shared.reconciled_missing.load(Ordering::Relaxed),
    );
    if found + missing > 0 {
        notes.push(format!(
            "looked up {} in-doubt create(s) at the API: {found} already existed and were recorded as delivered, {missing} did not and were sent",
            found + missing
        ));
    }
    if let Some(note) = shared.capture.close(Duration::from_secs(5)).await {
        notes.push(note);
    }
    Ok(RunReport {
        summary: counts,
        ending: ending.unwrap_or(Ending::Finished),
        dry_run: options.dry_run.then_some(would_send),
        outcome_log: shared.log.as_ref().map(|l| l.path().to_path_buf()),
        dead_letter_file: (shared.dead_letters_written.load(Ordering::Relaxed) > 0)
            .then_some(dead_letter_path),
        notes,
    })
}

const READ_ON: u8 = 0;
const READ_FLUSH: u8 = 1;
const READ_HALT: u8 = 2;

/// What the reader hands the dispatcher.
enum Work {
    Send(Job),
    Invalid {
        invalid: Invalid,
        value: Option<Map<String, Value>>,
    },
    /// Records an earlier run finished.
    Skipped(u64),
    /// Records an earlier run left in doubt and that are not to be resent.
    InDoubt(Vec<RecordNo>),
}

/// One request and the records it carries (their values, for the dead-letter file).
struct Job {
    request: Request,
    values: Vec<Map<String, Value>>,
    line: Option<u64>,
    /// An earlier run sent it without learning the outcome: look it up before sending.
    reconcile: bool,
    /// An earlier run sent it without learning the outcome, and it is sent again as it is
    /// (idempotent, or resending was asked for): its first attempt may find it already applied.
    resent_in_doubt: bool,
}

/// The reader thread: records → skip/in-doubt decisions → builder → queue.
#[allow(clippy::too_many_arguments)]
fn read_records(
    reader: records::RecordReader,
    plan: Plan,
    prior: PriorOutcomes,
    in_doubt_policy: InDoubtPolicy,
    resend: bool,
    can_look_up: bool,
    tx: mpsc::Sender<Work>,
    stop: Arc<AtomicU8>,
) {
    let mut builder = plan.builder();
    // Values of records inside open batches, kept for dead letters until their request is built.
    let mut pending: HashMap<RecordNo, Record> = HashMap::new();
    // In-doubt records of earlier runs whose request is to be looked up before it is sent.
    let mut reconciling: std::collections::HashSet<RecordNo> = std::collections::HashSet::new();
    // In-doubt records of earlier runs that are sent again without a lookup.
    let mut resending: std::collections::HashSet<RecordNo> = std::collections::HashSet::new();
    let mut skipped = 0u64;
    let send = |work: Work| tx.blocking_send(work).is_ok();
    let emit = |built: Built,
                pending: &mut HashMap<RecordNo, Record>,
                reconciling: &mut std::collections::HashSet<RecordNo>,
                resending: &mut std::collections::HashSet<RecordNo>|
     -> bool {
        match built {
            Built::Request(request) => {
                let mut values = Vec::with_capacity(request.records.len());
                let mut line = None;
                let mut reconcile = false;
                let mut resent_in_doubt = false;
                for no in &request.records {
                    if let Some(record) = pending.remove(no) {
                        line = line.or(Some(record.line));
                        values.push(record.value);
                    }
                    reconcile |= reconciling.remove(no);
                    resent_in_doubt |= resending.remove(no);
                }
                send(Work::Send(Job {
                    request,
                    values,
                    line,
                    reconcile,
                    resent_in_doubt,
                }))
            }
            Built::Invalid(invalid) => {
                reconciling.remove(&invalid.record);
                resending.remove(&invalid.record);
                let value = pending.remove(&invalid.record).map(|r| r.value);
                send(Work::Invalid { invalid, value })
            }
        }
    };
    // In-doubt records to look up go last, so the earlier run's requests have had the longest
    // time to land before they are looked for, and fresh records need not wait for them.
    let mut deferred = Vec::new();
    let mut flushed = false;
    for item in reader {
        match stop.load(Ordering::Relaxed) {
            READ_ON => {}
            READ_FLUSH => {
                flushed = true;
                break;
            }
            _ => return,
        }
        let no = match &item {
            Ok(record) => record.no,
            Err(err) => err.no,
        };
        match prior.state(no) {
            state if state.is_done() => {
                skipped += 1;
                continue;
            }
            RecordState::InDoubt { method } => {
                match in_doubt::decide(method, in_doubt_policy, resend, can_look_up) {
                    InDoubtAction::Report => {
                        if !send(Work::InDoubt(vec![no])) {
                            return;
                        }
                        continue;
                    }
                    InDoubtAction::Reconcile => {
                        reconciling.insert(no);
                        deferred.push(item);
                        continue;
                    }
                    InDoubtAction::Resend => {
                        resending.insert(no);
                    }
                }
            }
            _ => {}
        }
        if skipped > 0 {
            if !send(Work::Skipped(skipped)) {
                return;
            }
            skipped = 0;
        }
        if let Ok(record) = &item {
            pending.insert(record.no, record.clone());
        }
        for built in builder.push(item) {
            if !emit(built, &mut pending, &mut reconciling, &mut resending) {
                return;
            }
        }
    }
    if stop.load(Ordering::Relaxed) == READ_HALT {
        return;
    }
    for item in deferred {
        // A drain stops reading: records not yet handed on stay as the log says, in doubt.
        if flushed || stop.load(Ordering::Relaxed) != READ_ON {
            break;
        }
        if let Ok(record) = &item {
            pending.insert(record.no, record.clone());
        }
        for built in builder.push(item) {
            if !emit(built, &mut pending, &mut reconciling, &mut resending) {
                return;
            }
        }
    }
    if stop.load(Ordering::Relaxed) == READ_HALT {
        return;
    }
    for built in builder.finish() {
        if !emit(built, &mut pending, &mut reconciling, &mut resending) {
            return;
        }
    }
    if skipped > 0 {
        send(Work::Skipped(skipped));
    }
    // Every record pushed must have come out; one that did not would be silently lost.
    let mut lost: Vec<Record> = pending.into_values().collect();
    lost.sort_by_key(|r| r.no);
    for record in lost {
        let invalid = Invalid {
            record: record.no,
            line: record.line,
            reason: "the request builder produced no request for this record".into(),
        };
        send(Work::Invalid {
            invalid,
            value: Some(record.value),
        });
    }
}

/// What delivery tasks share.
struct Shared {
    http: HttpClient,
    limiter: RateLimiter,
    interval: Option<Duration>,
    policy: RetryPolicy,
    fallback: Duration,
    log: Option<OutcomeLog>,
    dead_letters: DeadLetterFile,
    capture: ResponseCapture,
    credential: String,
    auth_kind: Option<AuthKind>,
    in_doubt: InDoubtPolicy,
    resend_in_doubt: bool,
    /// How this destination's creates can be looked up, if they can.
    lookup: Option<LookupKind>,
    /// No lookup of an earlier run's in-doubt request before this (see `run`).
    reconcile_after: Option<tokio::time::Instant>,
    on_rejected: OnRejected,
    requests: AtomicU64,
    /// In-doubt creates looked up and found (recorded as delivered) or not found (sent).
    reconciled_found: AtomicU64,
    reconciled_missing: AtomicU64,
    retries: AtomicU64,
    http_429: AtomicU64,
    dead_letters_written: AtomicU64,
    control: mpsc::UnboundedSender<Control>,
    events: EventFn,
}

/// What a delivery task tells the dispatcher besides its own end.
enum Control {
    Fatal(String),
    StopOnRejected,
}

// Where a delivery stands; the dispatcher reads it when the task ends or is aborted.
const NOT_SENT: u8 = 0;
const IN_FLIGHT: u8 = 1;
const NOT_APPLIED: u8 = 2;
const DELIVERED: u8 = 3;
const DEAD: u8 = 4;
const IN_DOUBT: u8 = 5;

struct Flight {
    records: Vec<RecordNo>,
    phase: AtomicU8,
}

struct Dispatcher {
    shared: Arc<Shared>,
    started: Instant,
    dry_run: bool,
    concurrency: usize,
    drain_timeout: Duration,
    on_invalid: OnInvalid,
    records_per_request: usize,
    total: Arc<AtomicU64>,
    events: EventFn,
    seed: u64,
    next_task: u64,
    counts: Summary,
    /// Records counted as read whose delivery never started or is known not to have applied.
    abandoned: u64,
    would_send: DryRun,
    flights: HashMap<tokio::task::Id, Arc<Flight>>,
    tasks: JoinSet<()>,
    reader_stop: Arc<AtomicU8>,
    ending: Option<Ending>,
}

impl Dispatcher {
    async fn run(
        &mut self,
        mut work: mpsc::Receiver<Work>,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut stop: watch::Receiver<StopRequest>,
    ) {
        let mut taking = true;
        let mut stop_open = true;
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut halt = false;
        // A stop asked before the run began still counts.
        match *stop.borrow_and_update() {
            StopRequest::None => {}
            StopRequest::Drain => self.begin_drain(Ending::Interrupted, true, &mut deadline),
            StopRequest::Now => {
                self.ending.get_or_insert(Ending::Interrupted);
                halt = true;
            }
        }
        while !halt {
            if !taking && self.tasks.is_empty() {
                break;
            }
            let room = taking && self.tasks.len() < self.concurrency;
            let drain_at = deadline;
            tokio::select! {
                biased;
                changed = stop.changed(), if stop_open => {
                    if changed.is_err() {
                        stop_open = false;
                        continue;
                    }
                    let request = *stop.borrow_and_update();
                    match request {
                        StopRequest::None => {}
                        StopRequest::Drain if deadline.is_none() => self.begin_drain(Ending::Interrupted, true, &mut deadline),
                        // A second request while draining, or an explicit "now", stops at once.
                        StopRequest::Drain | StopRequest::Now => {
                            self.ending.get_or_insert(Ending::Interrupted);
                            halt = true;
                        }
                    }
                }
                Some(message) = control.recv() => {
                    let (ending, flush) = match message {
                        Control::Fatal(message) => (Ending::Fatal(message), false),
                        Control::StopOnRejected => (Ending::StoppedOnRejected, false),
                    };
                    if deadline.is_none() {
                        self.begin_drain(ending, flush, &mut deadline);
                        work.close();
                        taking = false;
                    } else {
                        self.ending.get_or_insert(ending);
                    }
                }
                () = sleep_until(drain_at), if drain_at.is_some() => {
                    halt = true;
                }
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    let (id, cancelled) = match joined {
                        Ok((id, ())) => (id, false),
                        Err(err) => (err.id(), true),
                    };
                    self.settle(id, cancelled);
                }
                item = work.recv(), if room => match item {
                    None => taking = false,
                    Some(item) => {
                        if self.take(item) {
                            // `on_invalid = "stop"`: nothing more is sent.
                            self.begin_drain(Ending::StoppedOnInvalid, false, &mut deadline);
                            work.close();
                            taking = false;
                        }
                    }
                },
            }
        }
        // Hard stop: whatever is still in flight is cut off; its records are in doubt if their
        // request may have left, else they were never really attempted.
        self.reader_stop.store(READ_HALT, Ordering::Relaxed);
        work.close();
        self.tasks.abort_all();
        while let Some(joined) = self.tasks.join_next_with_id().await {
            let (id, cancelled) = match joined {
                Ok((id, ())) => (id, false),
                Err(err) => (err.id(), true),
            };
            self.settle(id, cancelled);
        }
        self.report();
    }

    fn begin_drain(
        &mut self,
        ending: Ending,
        flush: bool,
        deadline: &mut Option<tokio::time::Instant>,
    ) {
        self.ending.get_or_insert(ending);
        self.reader_stop.store(
            if flush { READ_FLUSH } else { READ_HALT },
            Ordering::Relaxed,
        );
        *deadline = Some(tokio::time::Instant::now() + self.drain_timeout);
    }

    /// Handles one item from the reader; returns true when the run must stop (`on_invalid`).
    fn take(&mut self, item: Work) -> bool {
        match item {
            Work::Skipped(n) => {
                self.counts.records_read += n;
                self.counts.skipped_already_done += n;
            }
            Work::InDoubt(records) => {
                let n = records.len() as u64;
                self.counts.records_read += n;
                self.counts.in_doubt += n;
                let message =
                    "sent by an earlier run whose outcome is unknown; not sent again".to_string();
                (self.events)(Event::InDoubt { records, message });
            }
            Work::Invalid { invalid, value } => {
                self.counts.records_read += 1;
                self.counts.invalid += 1;
                (self.events)(Event::Invalid(invalid.clone()));
                if !self.dry_run {
                    let reason = if value.is_some() {
                        Reason::Invalid
                    } else {
                        Reason::Unreadable
                    };
                    let mut letter =
                        DeadLetter::new(reason, vec![invalid.record], invalid.reason.clone());
                    letter.line = Some(invalid.line);
                    letter.record_values = value.into_iter().collect();
                    match self.shared.dead_letters.write(&letter) {
                        Ok(()) => {
                            self.shared
                                .dead_letters_written
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err) => tracing::warn!("cannot write the dead-letter file: {err}"),
                    }
                    if let Some(log) = &self.shared.log
                        && let Err(err) = log.outcome(&[invalid.record], Outcome::Invalid)
                    {
                        tracing::warn!("cannot write the outcome log: {err}");
                    }
                }
                self.report();
                return self.on_invalid == OnInvalid::Stop;
            }
            Work::Send(job) => {
                let n = job.request.records.len() as u64;
                self.counts.records_read += n;
                if self.dry_run {
                    self.would_send.records += n;
                    self.would_send.requests += 1;
                } else {
                    let flight = Arc::new(Flight {
                        records: job.request.records.clone(),
                        phase: AtomicU8::new(NOT_SENT),
                    });
                    let rng = StdRng::seed_from_u64(self.seed.wrapping_add(self.next_task));
                    self.next_task += 1;
                    let handle =
                        self.tasks
                            .spawn(deliver(self.shared.clone(), job, flight.clone(), rng));
                    self.flights.insert(handle.id(), flight);
                }
            }
        }
        self.report();
        false
    }

    /// Counts a finished (or aborted) delivery by the phase it reached.
    fn settle(&mut self, id: tokio::task::Id, cancelled: bool) {
        let Some(flight) = self.flights.remove(&id) else {
            return;
        };
        let n = flight.records.len() as u64;
        match flight.phase.load(Ordering::Acquire) {
            DELIVERED => self.counts.delivered += n,
            DEAD => self.counts.dead_lettered += n,
            IN_FLIGHT | IN_DOUBT => self.counts.in_doubt += n,
            phase => {
                // Never sent, or known not applied: not an attempt at all, so not a record "read"
                // for this run's accounting; the outcome log sends it next time.
                if cancelled
                    && phase == NOT_APPLIED
                    && let Some(log) = &self.shared.log
                    && let Err(err) = log.outcome(&flight.records, Outcome::NotApplied)
                {
                    tracing::warn!("cannot write the outcome log: {err}");
                }
                self.abandoned += n;
            }
        }
        self.report();
    }

    fn report(&self) {
        let mut summary = self.counts;
        summary.records_read = summary.records_read.saturating_sub(self.abandoned);
        summary.requests = self.shared.requests.load(Ordering::Relaxed);
        summary.retries = self.shared.retries.load(Ordering::Relaxed);
        summary.http_429 = self.shared.http_429.load(Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        summary.duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let total = self.total.load(Ordering::Relaxed);
        let total = (total != u64::MAX).then_some(total);
        let worked = summary.accounted() - summary.skipped_already_done + self.would_send.records;
        let per_sec = if elapsed.as_secs_f64() > 0.0 {
            worked as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let interval = if self.dry_run {
            None
        } else {
            self.shared.interval
        };
        let eta = total.and_then(|total| {
            let remaining = total.saturating_sub(summary.accounted() + self.would_send.records);
            eta(remaining, self.records_per_request, interval, per_sec)
        });
        (self.events)(Event::Progress(Progress {
            summary,
            total_records: total,
            in_flight: self.tasks.len(),
            records_per_minute: per_sec * 60.0,
            eta,
        }));
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Writes to the outcome log off the async threads (each line is synced).
async fn log_write(
    shared: &Arc<Shared>,
    records: &[RecordNo],
    line: LogLine,
) -> Result<(), String> {
    let Some(log) = shared.log.clone() else {
        return Ok(());
    };
    let records = records.to_vec();
    let result = tokio::task::spawn_blocking(move || match line {
        LogLine::Sent(method) => log.sent(&records, method),
        LogLine::Outcome(outcome) => log.outcome(&records, outcome),
    })
    .await;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(format!("cannot write the outcome log: {err}")),
        Err(err) => Err(format!("cannot write the outcome log: {err}")),
    }
}

enum LogLine {
    Sent(crate::destination::Method),
    Outcome(Outcome),
}

/// Delivers one request: paced attempts, retries by the policy, and one end written down.
async fn deliver(shared: Arc<Shared>, job: Job, flight: Arc<Flight>, mut rng: StdRng) {
    let request = &job.request;
    let records = &request.records;
    let method = request.method;
    let first = tokio::time::Instant::now();
    let mut attempt = 0u32;
    // Once an attempt may have been applied, the request stays in doubt until an answer settles it.
    let mut maybe_applied = job.resent_in_doubt;
    if job.reconcile {
        // An earlier run sent this create and never learned the outcome: look before sending.
        flight.phase.store(IN_FLIGHT, Ordering::Release);
        if let Some(at) = shared.reconcile_after {
            tokio::time::sleep_until(at).await;
        }
        match in_doubt::after_lookup(
            look_up(&shared, request, &mut rng).await,
            shared.resend_in_doubt,
        ) {
            AfterLookup::Delivered => return delivered(&shared, &flight).await,
            AfterLookup::Send => flight.phase.store(NOT_SENT, Ordering::Release),
            AfterLookup::Report(reason) => {
                flight.phase.store(IN_DOUBT, Ordering::Release);
                let message = format!(
                    "sent by an earlier run whose outcome is unknown, and the lookup could not tell: {reason}"
                );
                (shared.events)(Event::InDoubt {
                    records: records.clone(),
                    message,
                });
                return;
            }
        }
    }
    loop {
        attempt += 1;
        shared.limiter.acquire().await;
        flight.phase.store(IN_FLIGHT, Ordering::Release);
        // The `sent` line is durable before the request leaves; written after the slot so a run
        // stopped while waiting for it leaves no false "in doubt" behind.
        if attempt == 1
            && let Err(message) = log_write(&shared, records, LogLine::Sent(method)).await
        {
            flight.phase.store(NOT_SENT, Ordering::Release);
            let _ = shared.control.send(Control::Fatal(message));
            return;
        }
        shared.requests.fetch_add(1, Ordering::Relaxed);
        if attempt > 1 {
            shared.retries.fetch_add(1, Ordering::Relaxed);
        }
        let result = shared.http.send(request).await;
        capture(&shared, request, attempt, &result);
        let now = SystemTime::now();
        let action = match &result {
            Ok(response) => {
                if response.status == 429 {
                    shared.http_429.fetch_add(1, Ordering::Relaxed);
                }
                classify(
                    Ok(Answer {
                        status: response.status,
                        headers: &response.headers,
                    }),
                    method.is_idempotent(),
                    &shared.credential,
                    now,
                    shared.fallback,
                )
            }
            Err(err) => classify(
                Err(err.kind),
                method.is_idempotent(),
                &shared.credential,
                now,
                shared.fallback,
            ),
        };
        let (status, body) = match &result {
            Ok(response) => (Some(response.status), Some(capped_body(&response.body))),
            Err(_) => (None, None),
        };
        let error_text = result
            .as_ref()
            .err()
            .map(|e| format!("{}: {}", e.kind.describe(), e.message));
        let earlier_maybe_applied = maybe_applied;
        if let Err(err) = &result
            && err.kind.maybe_applied()
        {
            maybe_applied = true;
        } else if result.is_ok() {
            maybe_applied = false;
        }
        let after = match action {
            Action::Success => return delivered(&shared, &flight).await,
            Action::Reject if already_deleted(method, status, earlier_maybe_applied) => {
                // An earlier attempt of this DELETE may have been applied without an answer:
                // "not found" now means the object is gone, which is what was asked.
                return delivered(&shared, &flight).await;
            }
            Action::Reject => {
                let mut message = format!(
                    "the API refused the request with {}",
                    status.map_or("no status".into(), |s| s.to_string())
                );
                if let Some(reason) = result.as_ref().ok().and_then(|r| api_reason(&r.body)) {
                    message.push_str(": ");
                    message.push_str(&reason);
                }
                dead_letter(
                    &shared,
                    &job,
                    &flight,
                    Reason::Rejected,
                    status,
                    body,
                    attempt,
                    message,
                )
                .await;
                if shared.on_rejected == OnRejected::Stop {
                    let _ = shared.control.send(Control::StopOnRejected);
                }
                return;
            }
            Action::Fatal { message } => {
                // A 401/403 answer means the request was not applied: a rerun sends it again.
                flight.phase.store(NOT_APPLIED, Ordering::Release);
                let _ = log_write(&shared, records, LogLine::Outcome(Outcome::NotApplied)).await;
                let _ = shared.control.send(Control::Fatal(message));
                return;
            }
            Action::InDoubt => match in_doubt::decide(
                method,
                shared.in_doubt,
                shared.resend_in_doubt,
                shared.lookup.is_some(),
            ) {
                InDoubtAction::Report => {
                    flight.phase.store(IN_DOUBT, Ordering::Release);
                    let message = format!(
                        "{}; the request may have been applied, so it is not sent again (use --resend-in-doubt to send it anyway)",
                        error_text.as_deref().unwrap_or("no answer")
                    );
                    (shared.events)(Event::InDoubt {
                        records: records.clone(),
                        message,
                    });
                    return;
                }
                InDoubtAction::Resend => None,
                InDoubtAction::Reconcile => {
                    // A server that gave no answer may still be applying the request: wait as a
                    // retry would before looking, so the lookup sees a create that was landing.
                    tokio::time::sleep(shared.policy.backoff(attempt, &mut rng)).await;
                    let reconciled = look_up(&shared, request, &mut rng).await;
                    let absent = reconciled == Reconciled::NotFound;
                    match in_doubt::after_lookup(reconciled, shared.resend_in_doubt) {
                        AfterLookup::Delivered => return delivered(&shared, &flight).await,
                        AfterLookup::Send => {
                            if absent {
                                maybe_applied = false;
                            }
                            None
                        }
                        AfterLookup::Report(reason) => {
                            flight.phase.store(IN_DOUBT, Ordering::Release);
                            let message = format!(
                                "{}; the request may have been applied and the lookup could not tell ({reason}), so it is not sent again",
                                error_text.as_deref().unwrap_or("no answer")
                            );
                            (shared.events)(Event::InDoubt {
                                records: records.clone(),
                                message,
                            });
                            return;
                        }
                    }
                }
            },
            Action::Retry { after } => after,
        };
        match shared
            .policy
            .next(after, attempt, first.elapsed(), &mut rng)
        {
            Next::Wait { wait, pause } => {
                flight.phase.store(
                    if maybe_applied {
                        IN_FLIGHT
                    } else {
                        NOT_APPLIED
                    },
                    Ordering::Release,
                );
                if pause {
                    shared
                        .limiter
                        .pause_until(tokio::time::Instant::now() + wait);
                } else {
                    tokio::time::sleep(wait).await;
                }
            }
            Next::GiveUp(reason) => {
                if let Err(err) = &result
                    && err.kind == TransportError::Connect
                {
                    // An unreachable API is not the record's fault: dead-lettering it would mark it
                    // done. The run stops and the next one sends it.
                    flight.phase.store(
                        if maybe_applied { IN_DOUBT } else { NOT_APPLIED },
                        Ordering::Release,
                    );
                    if !maybe_applied {
                        let _ = log_write(&shared, records, LogLine::Outcome(Outcome::NotApplied))
                            .await;
                    }
                    let host = reqwest::Url::parse(&request.url)
                        .ok()
                        .and_then(|u| {
                            u.host_str().map(|h| {
                                format!(
                                    "{h}{}",
                                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                                )
                            })
                        })
                        .unwrap_or_else(|| request.url.clone());
                    let _ = shared.control.send(Control::Fatal(format!(
                        "cannot reach {host} ({reason}; last: {}); stopping, the next run sends what is left",
                        err.message
                    )));
                    return;
                }
                if maybe_applied {
                    flight.phase.store(IN_DOUBT, Ordering::Release);
                    let message = format!("{reason}; the last attempt may have been applied");
                    (shared.events)(Event::InDoubt {
                        records: records.clone(),
                        message,
                    });
                    return;
                }
                let message = match (&error_text, status) {
                    (Some(error), _) => format!("{reason}; last: {error}"),
                    (None, Some(status)) => format!("{reason}; last status {status}"),
                    (None, None) => reason,
                };
                dead_letter(
                    &shared,
                    &job,
                    &flight,
                    Reason::GaveUp,
                    status,
                    body,
                    attempt,
                    message,
                )
                .await;
                return;
            }
        }
    }
}

/// Marks the request delivered, in memory and durably.
async fn delivered(shared: &Arc<Shared>, flight: &Flight) {
    flight.phase.store(DELIVERED, Ordering::Release);
    if let Err(message) = log_write(
        shared,
        &flight.records,
        LogLine::Outcome(Outcome::Delivered),
    )
    .await
    {
        let _ = shared.control.send(Control::Fatal(message));
    }
}

/// Looks an in-doubt create up through the run's client, limiter and retry policy; each lookup
/// attempt is counted as a request and captured like any other call.
async fn look_up(shared: &Arc<Shared>, request: &Request, rng: &mut StdRng) -> Reconciled {
    let Some(lookup) = shared
        .lookup
        .and_then(|kind| Lookup::of_request(kind, request))
    else {
        return Reconciled::Unknown("its request holds nothing the API can look it up by".into());
    };
    let observe =
        |sent: &Request,
         attempt: u32,
         result: &Result<crate::client::Response, crate::client::SendError>| {
            shared.requests.fetch_add(1, Ordering::Relaxed);
            if attempt > 1 {
                shared.retries.fetch_add(1, Ordering::Relaxed);
            }
            if matches!(result, Ok(response) if response.status == 429) {
                shared.http_429.fetch_add(1, Ordering::Relaxed);
            }
            capture(shared, sent, attempt, result);
        };
    let lookups = Lookups {
        http: &shared.http,
        limiter: &shared.limiter,
        policy: &shared.policy,
        credential: &shared.credential,
        fallback: shared.fallback,
        observe: &observe,
    };
    let reconciled = reconcile::reconcile(&lookups, &lookup, request, rng).await;
    match &reconciled {
        Reconciled::Found => shared.reconciled_found.fetch_add(1, Ordering::Relaxed),
        Reconciled::NotFound => shared.reconciled_missing.fetch_add(1, Ordering::Relaxed),
        Reconciled::Unknown(_) => 0,
    };
    reconciled
}

#[allow(clippy::too_many_arguments)]
async fn dead_letter(
    shared: &Arc<Shared>,
    job: &Job,
    flight: &Flight,
    reason: Reason,
    status: Option<u16>,
    body: Option<String>,
    attempts: u32,
    message: String,
) {
    let mut letter = DeadLetter::new(reason, job.request.records.clone(), message.clone());
    letter.line = job.line;
    letter.record_values = job.values.clone();
    letter.request = Some(job.request.preview_json(shared.auth_kind));
    letter.status = status;
    letter.response_body = body;
    letter.attempts = attempts;
    let written = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || shared.dead_letters.write(&letter)).await
    };
    match written {
        Ok(Ok(())) => {
            shared.dead_letters_written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Err(err)) => {
            let _ = shared.control.send(Control::Fatal(format!(
                "cannot write the dead-letter file {}: {err}",
                shared.dead_letters.path().display()
            )));
            return;
        }
        Err(err) => {
            let _ = shared.control.send(Control::Fatal(format!(
                "cannot write the dead-letter file: {err}"
            )));
            return;
        }
    }
    flight.phase.store(DEAD, Ordering::Release);
    (shared.events)(Event::DeadLettered {
        records: job.request.records.clone(),
        message,
    });
    if let Err(message) = log_write(
        shared,
        &job.request.records,
        LogLine::Outcome(Outcome::DeadLettered),
    )
    .await
    {
        let _ = shared.control.send(Control::Fatal(message));
    }
}

fn capture(
    shared: &Shared,
    request: &Request,
    attempt: u32,
    result: &Result<crate::client::Response, crate::client::SendError>,
) {
    let (status, latency, headers, body, error) = match result {
        Ok(response) => (
            Some(response.status),
            response.latency,
            headers_object(&response.headers),
            Some(capped_body(&response.body)),
            None,
        ),
        Err(err) => (
            None,
            err.latency,
            Map::new(),
            None,
            Some(format!("{}: {}", err.kind.describe(), err.message)),
        ),
    };
    let entry = CaptureEntry {
        time: super::timestamp(SystemTime::now()),
        method: request.method.as_str().to_string(),
        url: request.url.clone(),
        records: request.records.clone(),
        attempt,
        status,
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        response_headers: headers,
        body,
        error,
    };
    if let Err(err) = shared.capture.record(&entry) {
        tracing::warn!("cannot write the response capture: {err}");
    }
}

/// The reason an Aircall error body gives (`error`, `troubleshoot`, `message`, `errors`), in one line.
fn api_reason(body: &[u8]) -> Option<String> {
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

/// A DELETE answered 404 after an earlier attempt may have been applied has done its work.
fn already_deleted(method: Method, status: Option<u16>, maybe_applied: bool) -> bool {
    method == Method::Delete && status == Some(404) && maybe_applied
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn only_a_delete_that_may_have_been_applied_takes_404_as_done() {
        assert!(already_deleted(Method::Delete, Some(404), true));
        assert!(!already_deleted(Method::Delete, Some(404), false));
        assert!(!already_deleted(Method::Delete, Some(400), true));
        assert!(!already_deleted(Method::Post, Some(404), true));
    }
}
