//! The dispatcher: takes the reader's work, keeps up to `depth` deliveries going, and
//! is the one place that counts outcomes: it folds what each delivery returns ([`Ended`]) into
//! the summary, so every record read ends in exactly one summary field. Stops (a signal, the
//! wizard, a fatal answer) reach every delivery at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::dead_letter::{DeadLetter, Reason};
use super::deliver::{Control, Shared, deliver};
use super::flight::{Cost, Ended, Flight, Phase};
use super::reader::{Reading, Work};
use super::summary::{Pace, Progress, Summary, eta};
use super::{DryRun, Ending, Event, EventFn, StopRequest};
use crate::destination::OnInvalid;
use crate::request::RecordWarning;
use crate::state::Outcome;

/// How many values left out a run keeps to show by name; the rest are counted.
pub const LEFT_OUT_KEPT: usize = 20;

/// Deliveries per wire permit with the rate limit off. Every delivery waits for two commits
/// (its intent, its outcome), each one `fsync` of the state file's log, and one commit serves
/// every change waiting for it: the more deliveries wait, the more records share a sync. At 2,
/// one record per request, concurrency 32, about 32 changes made each commit and the syncs
/// bounded the run; 4 cut the commits by a third to a half. Since the state writer gathers up to
/// 128 changes (up to 1 ms) while it is busy, deliveries wait longer for their commits, and 8
/// keeps the wire full meanwhile: 29,415 against 26,385 rec/s at 4 (medians of eight
/// alternated runs, docs/benchmarks.md). A crash leaves at most this many times `concurrency`
/// intents without outcome, for the next run to reconcile.
pub(super) const UNPACED_DEPTH: usize = 8;

/// The same for requests of many records: one commit already serves a whole batch, so more
/// deliveries waiting buy nothing, and each holds its records (kept for dead letters) while it
/// waits: at 8, batches of 100 at concurrency 32 peaked at 37.4 MB over 1,000,000 records
/// against 34.3 MB at 4.
pub(super) const UNPACED_BATCHED_DEPTH: usize = 4;

/// Live progress goes out at most this often; the last state always goes out (a report held
/// back is sent when this much time has passed, and the run's end is always reported). Sending
/// it on every record read and every delivery's end cost a tenth of the dispatcher's thread at
/// ten thousand records a second, for a screen that redraws a few times a second.
const REPORT_EVERY: Duration = Duration::from_millis(100);

pub(super) struct Dispatcher {
    pub shared: Arc<Shared>,
    pub started: Instant,
    pub dry_run: bool,
    /// Deliveries going at once: `concurrency` when paced; [`UNPACED_DEPTH`] times that with the
    /// rate limit off, where the others commit their intents and outcomes while `concurrency`
    /// requests are on the wire (the wire permits keep that many out at most).
    pub depth: usize,
    pub drain_timeout: Duration,
    pub on_invalid: OnInvalid,
    pub records_per_request: usize,
    /// How many records the input holds, once a count beside the run has finished.
    pub total: watch::Receiver<Option<u64>>,
    pub events: EventFn,
    pub seed: u64,
    pub next_task: u64,
    /// The records' ends so far; `requests`, `retries` and `http_429` come from `cost`.
    pub counts: Summary,
    /// What the deliveries that ended cost (what each returned), plus the dead letters of
    /// invalid records written here.
    pub cost: Cost,
    /// Records counted as read whose delivery never started or is known not to have applied.
    pub abandoned: u64,
    /// Of those, records whose request was sent and is known not to have been applied
    /// (refused with 401/403, or its retry stopped): they cost requests but have no end here.
    pub sent_not_applied: u64,
    pub would_send: DryRun,
    /// The first values left out of records sent (their count is in `counts`), for the report.
    pub left_out: Vec<RecordWarning>,
    pub flights: HashMap<tokio::task::Id, Arc<Flight>>,
    pub tasks: JoinSet<Ended>,
    /// Tells the reader thread whether to go on.
    pub reader: watch::Sender<Reading>,
    pub ending: Option<Ending>,
    /// When progress last went out, and whether a newer state is waiting to go.
    pub reported_at: Option<tokio::time::Instant>,
    pub report_due: bool,
    /// Records finished per second lately, for the rate shown and the time left.
    pub pace: Pace,
}

impl Dispatcher {
    pub async fn run(
        &mut self,
        mut work: mpsc::Receiver<Vec<Work>>,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut stop: watch::Receiver<StopRequest>,
    ) {
        let mut taking = true;
        let mut stop_open = true;
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut halt = false;
        // The rest of the chunk the reader handed on last.
        let mut chunk = Vec::new().into_iter();
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
            let room = taking && self.tasks.len() < self.depth;
            let drain_at = deadline;
            let report_at = self
                .reported_at
                .filter(|_| self.report_due)
                .map(|at| at + REPORT_EVERY);
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
                () = sleep_until(report_at), if report_at.is_some() => self.report_now(),
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    match joined {
                        Ok((id, ended)) => self.settle(id, Some(ended)),
                        Err(err) => self.settle(err.id(), None),
                    }
                }
                item = next_work(&mut chunk, &mut work), if room => match item {
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
        self.reader.send_replace(Reading::Halt);
        let _ = self.shared.stop_all.send(true);
        work.close();
        self.tasks.abort_all();
        while let Some(joined) = self.tasks.join_next_with_id().await {
            match joined {
                Ok((id, ended)) => self.settle(id, Some(ended)),
                Err(err) => self.settle(err.id(), None),
            }
        }
        self.report_now();
    }

    fn begin_drain(
        &mut self,
        ending: Ending,
        flush: bool,
        deadline: &mut Option<tokio::time::Instant>,
    ) {
        self.ending.get_or_insert(ending);
        // Stop means stop: no delivery starts another attempt (or its first) after this.
        let _ = self.shared.stop_all.send(true);
        self.reader
            .send_replace(if flush { Reading::Flush } else { Reading::Halt });
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
                        Ok(()) => self.cost.dead_letters += 1,
                        Err(err) => tracing::warn!("cannot write the dead-letter file: {err}"),
                    }
                    if let Some(ledger) = &self.shared.ledger
                        && let Err(err) = ledger.outcome_queued(
                            None,
                            &[invalid.record],
                            Outcome::Invalid,
                            None,
                            Some(&invalid.reason),
                        )
                    {
                        tracing::warn!("cannot write the state file: {err}");
                    }
                }
                self.report();
                return self.on_invalid == OnInvalid::Stop;
            }
            Work::Send(job) => {
                let n = job.request.records.len() as u64;
                self.counts.records_read += n;
                self.counts.values_left_out += job.request.warnings.len() as u64;
                let room = LEFT_OUT_KEPT.saturating_sub(self.left_out.len());
                self.left_out
                    .extend(job.request.warnings.iter().take(room).cloned());
                if self.dry_run {
                    self.would_send.records += n;
                    self.would_send.requests += 1;
                } else {
                    let flight = Arc::new(Flight::new(job.request.records.clone()));
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

    /// Folds a delivery's end into the counts: what it returned, or (`None`: cut off by a
    /// hard stop, so it returned nothing) the phase it last reached and its cost so far.
    fn settle(&mut self, id: tokio::task::Id, ended: Option<Ended>) {
        let Some(flight) = self.flights.remove(&id) else {
            return;
        };
        let cut_off = ended.is_none();
        let ended = ended.unwrap_or_else(|| flight.cut_off());
        self.cost.add(ended.cost);
        let n = flight.records.len() as u64;
        match ended.phase {
            Phase::Delivered => self.counts.delivered += n,
            Phase::DeadLettered => self.counts.dead_lettered += n,
            Phase::InFlight | Phase::InDoubt => self.counts.in_doubt += n,
            phase @ (Phase::NotSent | Phase::NotApplied) => {
                // Never sent, or known not applied: not an attempt at all, so not a record "read"
                // for this run's accounting; the state store sends it next time. A delivery cut
                // off after its intent went to the store (waiting for the commit, the wire or a
                // retry) gets its outcome here, or the next run would look it up as in doubt
                // while this run's summary says it never left.
                if cut_off
                    && flight.open_intent()
                    && let Some(ledger) = &self.shared.ledger
                    && let Err(err) = ledger.outcome_queued(
                        flight.attempt(),
                        &flight.records,
                        Outcome::NotApplied,
                        None,
                        Some("the run was stopped"),
                    )
                {
                    tracing::warn!("cannot write the state file: {err}");
                }
                if phase == Phase::NotApplied {
                    self.sent_not_applied += n;
                }
                self.abandoned += n;
            }
        }
        self.report();
    }

    /// The summary of the deliveries that ended, with `cost` for the requests they made.
    pub fn summary(&self, cost: Cost) -> Summary {
        let mut summary = self.counts;
        summary.records_read = summary.records_read.saturating_sub(self.abandoned);
        summary.requests = cost.requests;
        summary.retries = cost.retries;
        summary.http_429 = cost.http_429;
        summary.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        summary
    }

    /// Sends the live progress now, or marks it due when it went out less than
    /// [`REPORT_EVERY`] ago.
    fn report(&mut self) {
        let now = tokio::time::Instant::now();
        if self
            .reported_at
            .is_some_and(|at| now.duration_since(at) < REPORT_EVERY)
        {
            self.report_due = true;
            return;
        }
        self.report_now();
    }

    /// Sends the live progress: the ended deliveries' counts, and the requests of those
    /// still going as far as their own accounts show.
    fn report_now(&mut self) {
        self.reported_at = Some(tokio::time::Instant::now());
        self.report_due = false;
        let mut cost = self.cost;
        for flight in self.flights.values() {
            cost.add(flight.cost());
        }
        let summary = self.summary(cost);
        let elapsed = self.started.elapsed();
        let total = *self.total.borrow();
        let worked = summary.accounted() - summary.skipped_already_done + self.would_send.records;
        let per_sec = self.pace.per_sec(elapsed, worked);
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

/// The next item of work: the rest of the last chunk first, then the next chunk. Cancel-safe:
/// nothing is taken from either while it waits.
async fn next_work(
    chunk: &mut std::vec::IntoIter<Work>,
    work: &mut mpsc::Receiver<Vec<Work>>,
) -> Option<Work> {
    loop {
        if let Some(item) = chunk.next() {
            return Some(item);
        }
        *chunk = work.recv().await?.into_iter();
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
