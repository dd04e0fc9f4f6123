//! A sync run: every record compared with the state, and only the writes it needs sent — up to
//! the destination's `concurrency` keys at once, each key's requests in order. Each write's
//! intent is stored (and synced to disk) before its request leaves; a create left in doubt is
//! looked up before it is sent again, an update left half-done reads the object back first, so
//! a run killed at any point and run again ends in the same state.

mod gone;
mod keys;
mod progress;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Instant;

use futures::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};

use super::classify::{Classifier, Verdict};
use super::forecast::{self, Forecast};
use super::matcher::{self, Baseline, Listed, MatchError};
use super::send::Sender;
use super::store::SyncStore;
use super::summary::SyncSummary;
use super::{SyncError, SyncOptions};
use crate::request::RecordWarning;

pub use keys::shown_key;
use keys::{Keys, match_values};
use progress::Watcher;
pub use progress::{SyncEvent, SyncProgress, print_lines};

/// How a sync run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEnding {
    Finished,
    /// Stopped by Ctrl-C or SIGTERM; the keys in flight finished or stay pending.
    Interrupted,
    /// Nothing more could succeed (a refused credential, the state unwritable).
    Fatal(String),
}

/// What a sync run reports.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub summary: SyncSummary,
    pub ending: SyncEnding,
    pub baseline: Baseline,
    /// The first values the mapping left out of delivered records (all are counted in
    /// `summary.base.values_left_out`).
    pub values_left_out: Vec<RecordWarning>,
}

/// Why a key's work stopped the run.
#[derive(Debug)]
enum Stop {
    Fatal(String),
    /// The run was stopped; what was in flight stays pending for the next run to reconcile.
    Interrupted,
}

impl Stop {
    fn ending(self) -> SyncEnding {
        match self {
            Stop::Fatal(message) => SyncEnding::Fatal(message),
            Stop::Interrupted => SyncEnding::Interrupted,
        }
    }
}

impl SyncReport {
    /// The exit code `run` ends with: 0 all done, 3 some records rejected, invalid or in doubt
    /// (or a delete refused), 130 interrupted, 1 a fatal error.
    pub fn exit_code(&self) -> u8 {
        use crate::cli::exit;
        let base = &self.summary.base;
        match &self.ending {
            SyncEnding::Fatal(_) => exit::ERROR,
            SyncEnding::Interrupted => exit::INTERRUPTED,
            SyncEnding::Finished
                if base.dead_lettered
                    + base.invalid
                    + base.in_doubt
                    + self.summary.delete_failed
                    > 0 =>
            {
                exit::PARTIAL
            }
            SyncEnding::Finished => exit::SUCCESS,
        }
    }
}

/// Runs a sync to the end, or until `stop` turns true, and records the run in the state file's
/// history (its `run --json` object, exit code and first error) as `run` does. Lines about
/// records go to standard error.
pub async fn execute(
    options: &SyncOptions,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<SyncReport, SyncError> {
    execute_with(options, stop, &print_lines).await
}

/// [`execute`], telling `observer` how the run stands and what did not end as asked.
pub async fn execute_with(
    options: &SyncOptions,
    stop: tokio::sync::watch::Receiver<bool>,
    observer: &dyn Fn(SyncEvent<'_>),
) -> Result<SyncReport, SyncError> {
    let prepared = super::prepare(options)?;
    let store = SyncStore::open(&prepared.state_path)?;
    let run = store.begin_run(
        &crate::state::trigger_from_env(),
        Some(&options.input.to_string()),
    )?;
    let result = sync(options, &prepared, &store, stop, observer).await;
    // Whatever the run wrote and has not committed yet is committed now (its outcomes; every
    // intent already is), or, when the state fails, left for the next run to reconcile.
    let closed = store.commit();
    let (code, summary, first_error) = match &result {
        Ok(report) => (
            report.exit_code(),
            serde_json::to_string(&report.summary).unwrap_or_default(),
            match &report.ending {
                SyncEnding::Fatal(message) => Some(message.clone()),
                _ => None,
            },
        ),
        Err(err) => (
            crate::cli::exit::ERROR,
            String::new(),
            Some(err.to_string()),
        ),
    };
    store.finish_run(run, i32::from(code), &summary, first_error.as_deref())?;
    closed?;
    result
}

async fn sync(
    options: &SyncOptions,
    prepared: &super::Prepared,
    store: &SyncStore,
    stop: tokio::sync::watch::Receiver<bool>,
    observer: &dyn Fn(SyncEvent<'_>),
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let settings = &prepared.settings;
    let classifier = Classifier {
        resource: prepared.resource,
        settings,
        plan: &prepared.plan,
        store,
        phones: prepared.phones,
    };
    let order = settings.match_order(prepared.resource);

    // Pass 1, local: the guard on deletes and the choice of baseline need the whole export.
    let mut tally = Forecast::default();
    store.begin()?;
    for record in prepared.open_input()? {
        forecast::count(&classifier, &prepared.api, &order, record, &mut tally, None)?;
    }
    if forecast::deletes(settings.mode) {
        tally.delete = store.gone_count()?;
    }
    tally.synced = store.synced_count()?;
    store.commit()?;
    if tally.deletes_over(settings.max_delete_percent) && !options.allow_deletes {
        return Err(SyncError::DeleteGuard {
            deletes: tally.delete,
            synced: tally.synced,
            percent: settings.max_delete_percent,
        });
    }
    store.reset_seen()?;

    let delivery = &options.destination.delivery;
    let client = crate::client::http::HttpClient::new(delivery, Some(&prepared.authorization))
        .map_err(|e| SyncError::Setup(e.to_string()))?;
    let keys = Keys {
        api: prepared.api.clone(),
        sender: Sender::new(
            client,
            delivery,
            &options.destination.credential,
            stop.clone(),
        ),
        store,
        plan: &prepared.plan,
        listed: RefCell::new(None),
        taken: RefCell::new(HashSet::new()),
        order,
        mode: settings.mode,
        summary: RefCell::new(SyncSummary::default()),
        left_out: RefCell::new(Vec::new()),
        lookups: Cell::new(0),
        watch: Watcher::new(observer, started, tally.records_read),
    };
    keys.report(true);
    let concurrency = delivery.concurrency.max(1);
    // From here on, writes gather in transactions that each intent's commit closes.
    store.begin()?;
    let mut ending = SyncEnding::Finished;
    let baseline = match baseline(&keys, &tally).await {
        Ok(baseline) => baseline,
        Err(stop) => {
            ending = stop.ending();
            Baseline::None
        }
    };

    keys.watch.requests_expected.set(tally.requests(baseline));
    keys.report(true);

    // Pass 2: the writes.
    if ending == SyncEnding::Finished {
        ending = writes(&keys, &classifier, prepared, concurrency, &stop).await?;
    }
    if ending == SyncEnding::Finished
        && let Err(stop) = gone::finish_orphans(&keys).await
    {
        ending = stop.ending();
    }
    if ending == SyncEnding::Finished
        && forecast::deletes(settings.mode)
        && let Err(stop) = gone::delete_gone(&keys, concurrency).await
    {
        ending = stop.ending();
    }
    store.commit()?;
    keys.watch.in_flight.set(0);
    keys.report(true);
    Ok(SyncReport {
        summary: keys.summary_now(),
        ending,
        baseline,
        values_left_out: keys.left_out.into_inner(),
    })
}

/// Reads every record again and sends what each needs: records with nothing to send are
/// counted at once; a new or changed row becomes a key in flight, up to `concurrency` at once.
/// A row that shares a phone number or email with a key in flight waits for it, so a lookup
/// never finds an object another key is creating before that key has stored it.
async fn writes(
    keys: &Keys<'_>,
    classifier: &Classifier<'_>,
    prepared: &super::Prepared,
    concurrency: usize,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<SyncEnding, SyncError> {
    let mut flights = FuturesUnordered::new();
    let mut held: HashSet<String> = HashSet::new();
    let mut first_stop: Option<Stop> = None;
    let land = |held: &mut HashSet<String>, (values, result): (Vec<String>, Result<(), Stop>)| {
        for value in &values {
            held.remove(value);
        }
        result.err()
    };
    for record in prepared.open_input()? {
        while let Some(Some(done)) = flights.next().now_or_never() {
            if let Some(stop) = land(&mut held, done) {
                first_stop.get_or_insert(stop);
            }
        }
        if *stop.borrow() {
            first_stop.get_or_insert(Stop::Interrupted);
        }
        if first_stop.is_some() {
            break;
        }
        keys.count(|s| s.base.records_read += 1);
        let verdict = classifier.classify(record)?;
        let values = match &verdict {
            Verdict::New { row, .. } | Verdict::Changed { row, .. } => Some(match_values(row)),
            _ => None,
        };
        let Some(values) = values else {
            if let Err(stop) = keys.settle_locally(verdict) {
                first_stop = Some(stop);
            }
            continue;
        };
        while flights.len() >= concurrency || values.iter().any(|v| held.contains(v)) {
            match flights.next().await {
                Some(done) => {
                    if let Some(stop) = land(&mut held, done) {
                        first_stop.get_or_insert(stop);
                    }
                }
                None => break,
            }
        }
        if first_stop.is_some() {
            break;
        }
        held.extend(values.iter().cloned());
        flights.push(async move { (values, keys.act(verdict).await) });
        keys.watch.in_flight.set(flights.len());
    }
    while let Some(done) = flights.next().await {
        keys.watch.in_flight.set(flights.len());
        if let Some(stop) = land(&mut held, done) {
            first_stop.get_or_insert(stop);
        }
    }
    Ok(first_stop.map_or(SyncEnding::Finished, Stop::ending))
}

/// Lists the account once when that is cheaper than a lookup per new key.
async fn baseline(keys: &Keys<'_>, tally: &Forecast) -> Result<Baseline, Stop> {
    let new_keys = if keys.order.is_empty() {
        0
    } else {
        tally.new_keys
    };
    if new_keys < 2 {
        return Ok(Baseline::choose(new_keys, &keys.order, None));
    }
    let stopped = |e: MatchError| match e {
        MatchError::Fatal(message) => Err(Stop::Fatal(message)),
        MatchError::Stopped => Err(Stop::Interrupted),
        // Listing refused: lookups still work.
        MatchError::Failed(_) => Ok(Baseline::Lookups),
    };
    let (first, total) = match matcher::probe(&keys.api, &keys.sender).await {
        Ok(answer) => answer,
        Err(e) => return stopped(e),
    };
    keys.count(|s| s.lookups += 1);
    let baseline = Baseline::choose(new_keys, &keys.order, total);
    if let Baseline::Listing { pages } = baseline {
        match Listed::fetch(&keys.api, &keys.sender, Some(first)).await {
            Ok(listed) => *keys.listed.borrow_mut() = Some(listed),
            Err(e) => return stopped(e),
        }
        keys.count(|s| s.lookups += pages.saturating_sub(1));
    }
    Ok(baseline)
}
