//! `run`: a reader thread streams records through the request builder into a small bounded
//! queue; the dispatcher keeps up to `concurrency` deliveries in flight and is the one place
//! that counts outcomes, so every record read ends in exactly one summary field. What a run
//! needs (destination, credential, compiled plan, paths) is set up once by the command that
//! starts it and handed over in [`RunOptions`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::capture::ResponseCapture;
use super::dead_letter::DeadLetterFile;
use super::deliver::Shared;
use super::dispatcher::{Dispatcher, UNPACED_BATCHED_DEPTH, UNPACED_DEPTH};
use super::flight::Cost;
use super::reader::{Reading, Work, queue_chunks, read_records};
use super::reconcile::LookupKind;
use super::summary::{PACE_WINDOW, Pace, Progress, Summary};
use crate::client::{HttpClient, RateLimiter, RetryPolicy};
use crate::credentials::Credential;
use crate::destination::{Destination, InDoubtPolicy, Status};
use crate::records::{self, Input, OpenError, RecordNo};
use crate::request::{Invalid, Plan, RecordWarning};
use crate::secret::Secret;
use crate::state::{InputIdentity, Ledger, PriorOutcomes, StateError, StateStore};

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

/// Everything a run needs, set up once by the command that starts it (`cli::Session`): the
/// runner checks, reads and compiles none of it again.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub destination: Destination,
    /// The destination file (for relative paths and the state file's name).
    pub destination_path: PathBuf,
    /// The destination compiled against the credential's base URL.
    pub plan: Plan,
    pub input: Input,
    pub state_dir: PathBuf,
    /// Required unless `dry_run`.
    pub credential: Option<Credential>,
    /// The credential's `Authorization` value, already checked against the destination file;
    /// required unless `dry_run`.
    pub authorization: Option<Secret>,
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
    /// Stopped because nothing more could succeed (401/403, an unwritable state file).
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
    /// The destination's state file (not for a dry run).
    pub state_file: Option<PathBuf>,
    /// Set when at least one dead letter was written.
    pub dead_letter_file: Option<PathBuf>,
    /// Things the person should know (in-doubt records from earlier runs, webhook trouble…).
    pub notes: Vec<String>,
    /// The first values left out of records that were sent (at most
    /// [`LEFT_OUT_KEPT`](super::dispatcher::LEFT_OUT_KEPT)); `summary.values_left_out` counts
    /// them all.
    pub values_left_out: Vec<RecordWarning>,
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
    #[error("no credential given for a run that sends requests")]
    NoCredential,
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

/// The default state folder (see [`crate::paths::state_dir`]).
pub fn default_state_dir() -> PathBuf {
    crate::paths::state_dir()
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
    // The run's first error (a dead letter or an in-doubt record), for the state file's `runs`.
    let first_error: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let events: EventFn = {
        let first_error = first_error.clone();
        Arc::new(move |event: Event| {
            let message = match &event {
                Event::DeadLettered { records, message } | Event::InDoubt { records, message } => {
                    records.first().map(|no| format!("record {no}: {message}"))
                }
                Event::Invalid(invalid) => Some(invalid.to_string()),
                Event::Progress(_) => None,
            };
            if let Some(message) = message
                && let Ok(mut first) = first_error.lock()
                && first.is_none()
            {
                *first = Some(message);
            }
            events(event)
        })
    };
    let shown_path = options.destination_path.display().to_string();
    if destination.status == Status::Paused && !options.dry_run {
        return Err(RunError::Paused {
            name: destination.name.clone(),
            path: shown_path,
        });
    }
    let auth_kind = options.credential.as_ref().map(|c| c.kind);
    let authorization = if options.dry_run {
        None
    } else {
        match (&options.credential, &options.authorization) {
            (Some(_), Some(authorization)) => Some(authorization),
            _ => return Err(RunError::NoCredential),
        }
    };
    // The reader thread owns its copy; `options` stays whole for the shared rate budget.
    let plan = options.plan.clone();
    let reader = records::open_with(
        &options.input,
        records::ReadOptions::for_source(&destination.source, false, None),
    )?;
    let relative =
        |path: &Path| crate::rules::relative_to_destination(&options.destination_path, path);

    // The plan's warnings (e.g. requests going elsewhere than the credential's host, so without
    // it) are part of what a person must be told about the run.
    let mut notes: Vec<String> = plan.warnings().to_vec();
    notes.extend(reader.notes().iter().cloned());

    let delivery = destination.delivery.clone();
    let dead_letter_path = delivery
        .dead_letter_file
        .as_deref()
        .map(relative)
        .unwrap_or_else(|| default_dead_letter_path(&options.destination_path, &options.state_dir));
    let dead_letters = DeadLetterFile::new(dead_letter_path.clone());
    let http = HttpClient::new(&delivery, authorization)?;
    let capture = if options.dry_run {
        ResponseCapture::off()
    } else {
        let file = destination.capture.file.as_deref().map(relative);
        ResponseCapture::open(
            file.as_deref(),
            destination.capture.webhook_url.as_deref(),
            http.clone(),
        )
        .map_err(|source| RunError::Io {
            what: "cannot open the response capture file".into(),
            source,
        })?
    };

    // The state file is opened after the set-up that can fail, so a run it records gets its end.
    let (ledger, prior) = if options.dry_run {
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
        let path = StateStore::path_for(&options.state_dir, &options.destination_path);
        let (ledger, prior) = Ledger::open(
            &path,
            identity.as_ref(),
            options.restart,
            &crate::state::trigger_from_env(),
        )?;
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
        (Some(ledger), prior)
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
    // Counting the input is a second pass over it, done beside the run: the ETA needs it, the run does not.
    let (count_tx, total) = watch::channel(None);
    if let Input::Path(_) = &options.input {
        let input = options.input.clone();
        let format = destination.source.format;
        tokio::task::spawn_blocking(move || {
            if let Some(count) = records::count_records(&input, format) {
                count_tx.send_replace(Some(count));
            }
        });
    }

    let concurrency = delivery.concurrency.max(1);
    let records_per_request = plan.records_per_request();
    let (work_tx, work_rx) =
        mpsc::channel::<Vec<Work>>(queue_chunks(concurrency, records_per_request));
    let (reading, reader_stop) = watch::channel(Reading::On);
    let lookup = LookupKind::of_destination(destination);
    {
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
    let limiter = RateLimiter::new(delivery.rate_limit_per_minute, delivery.burst)
        .with_budget(crate::budget::for_run(&options, &delivery));
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (stop_tasks, stop_tasks_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        http,
        interval: limiter.interval(),
        limiter,
        policy: RetryPolicy::from_delivery(&delivery),
        fallback: Duration::from_secs(delivery.rate_limit_fallback_secs),
        ledger,
        dead_letters,
        capture,
        credential: destination.credential.clone(),
        auth_kind,
        in_doubt: delivery.in_doubt,
        resend_in_doubt: options.resend_in_doubt,
        lookup,
        reconcile_after,
        on_rejected: delivery.on_rejected,
        wire: tokio::sync::Semaphore::new(concurrency),
        stop: stop_tasks_rx,
        stop_all: stop_tasks,
        control: control_tx,
        events: events.clone(),
    });

    let mut dispatcher = Dispatcher {
        shared: shared.clone(),
        started,
        dry_run: options.dry_run,
        depth: match (shared.interval, records_per_request) {
            (Some(_), _) => concurrency,
            (None, 1) => concurrency * UNPACED_DEPTH,
            (None, _) => concurrency * UNPACED_BATCHED_DEPTH,
        },
        drain_timeout: Duration::from_secs(delivery.drain_timeout_secs),
        on_invalid: delivery.on_invalid,
        records_per_request,
        total,
        events: events.clone(),
        seed,
        next_task: 0,
        counts: Summary::default(),
        cost: Cost::default(),
        abandoned: 0,
        sent_not_applied: 0,
        would_send: DryRun {
            records: 0,
            requests: 0,
        },
        left_out: Vec::new(),
        flights: HashMap::new(),
        tasks: JoinSet::new(),
        reader: reading,
        ending: None,
        reported_at: None,
        report_due: false,
        pace: Pace::new(PACE_WINDOW),
    };
    dispatcher.run(work_rx, control_rx, stop).await;

    // The summary is what the deliveries returned, folded by the dispatcher.
    let counts = dispatcher.summary(dispatcher.cost);
    let Dispatcher {
        cost,
        sent_not_applied,
        ending,
        would_send,
        left_out,
        ..
    } = dispatcher;
    debug_assert_eq!(
        counts.records_read,
        counts.accounted()
            + if options.dry_run {
                would_send.records
            } else {
                0
            }
    );
    let (found, missing) = (cost.found, cost.missing);
    if found + missing > 0 {
        notes.push(format!(
            "looked up {} in-doubt create(s) at the API: {found} already existed and were recorded as delivered, {missing} did not and were sent",
            found + missing
        ));
    }
    if sent_not_applied > 0 {
        notes.push(format!(
            "{sent_not_applied} record(s) were sent but not applied (the run stopped before their retry): they are not counted in records_read, which counts records that ended in this run, although their requests are counted in requests; the next run sends them"
        ));
    }
    if let Some(note) = shared.capture.close(Duration::from_secs(5)).await {
        notes.push(note);
    }
    let report = RunReport {
        summary: counts,
        ending: ending.unwrap_or(Ending::Finished),
        dry_run: options.dry_run.then_some(would_send),
        state_file: shared.ledger.as_ref().map(|l| l.path().to_path_buf()),
        dead_letter_file: (cost.dead_letters > 0).then_some(dead_letter_path),
        notes,
        values_left_out: left_out,
    };
    if let Some(ledger) = &shared.ledger {
        // The run's end goes after every outcome queued before it, in the same writer.
        let summary_json = serde_json::to_string(&report.summary).unwrap_or_default();
        let first_error = match &report.ending {
            Ending::Fatal(message) => Some(message.clone()),
            _ => first_error.lock().ok().and_then(|first| first.clone()),
        };
        let finished = ledger
            .finish_run(
                i32::from(report.exit_code()),
                &summary_json,
                first_error.as_deref(),
            )
            .await;
        let closing = ledger.clone();
        let _ = tokio::task::spawn_blocking(move || closing.close()).await;
        if let Err(err) = finished {
            return Err(RunError::State(err));
        }
    }
    Ok(report)
}

impl RunReport {
    /// The exit code `run` ends with: 0 all done, 3 some records dead-lettered, invalid or in
    /// doubt (or stopped by `on_rejected`/`on_invalid`), 130 interrupted, 1 a fatal error.
    pub fn exit_code(&self) -> u8 {
        use crate::cli::exit;
        let summary = &self.summary;
        match &self.ending {
            Ending::Fatal(_) => exit::ERROR,
            Ending::Interrupted => exit::INTERRUPTED,
            Ending::StoppedOnRejected | Ending::StoppedOnInvalid => exit::PARTIAL,
            Ending::Finished if summary.dead_lettered + summary.invalid + summary.in_doubt > 0 => {
                exit::PARTIAL
            }
            Ending::Finished => exit::SUCCESS,
        }
    }
}
