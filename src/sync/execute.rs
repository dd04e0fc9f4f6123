//! A sync run: every record compared with the state, and only the writes it needs sent, one
//! key at a time. Each write's intent is stored (and synced to disk) before its request leaves;
//! a create left in doubt is looked up before it is sent again, an update left half-done reads
//! the object back first, so a run killed at any point and run again ends in the same state.

use std::time::Instant;

use serde_json::{Map, Value};

use super::api::Api;
use super::classify::{Classifier, Row, Verdict};
use super::diff::{self, Op};
use super::forecast::{self, Forecast};
use super::matcher::{self, Baseline, Listed, MatchError};
use super::send::{Sender, Sent};
use super::shape::Shape;
use super::store::{Origin, Pending, SyncStore};
use super::summary::SyncSummary;
use super::{SyncError, SyncOptions};
use crate::destination::{MatchOn, SyncMode, SyncResource};
use crate::records::RecordNo;

/// How a sync run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEnding {
    Finished,
    /// Stopped by Ctrl-C or SIGTERM between two keys.
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
}

/// Why a key's work stopped the run.
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

/// How the update of one object ended.
enum Updated {
    Done,
    /// The object is gone from Aircall: the key is new again.
    Gone,
}

struct Exec<'a> {
    api: Api,
    sender: Sender,
    store: &'a SyncStore,
    listed: Option<Listed>,
    order: Vec<MatchOn>,
    mode: SyncMode,
    summary: SyncSummary,
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
/// history (its `run --json` object, exit code and first error) as `run` does.
pub async fn execute(
    options: &SyncOptions,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<SyncReport, SyncError> {
    let prepared = super::prepare(options)?;
    let store = SyncStore::open(&prepared.state_path)?;
    let history = store.runs().ok_or_else(|| {
        SyncError::Setup("the sync state was opened read-only for a run".to_string())
    })?;
    let run = history
        .begin_run(
            &crate::state::trigger_from_env(),
            Some(&options.input.to_string()),
        )
        .map_err(super::store::StoreError::from)?;
    let result = sync(options, &prepared, &store, stop).await;
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
    history
        .finish_run(run, i32::from(code), &summary, first_error.as_deref())
        .map_err(super::store::StoreError::from)?;
    result
}

async fn sync(
    options: &SyncOptions,
    prepared: &super::Prepared,
    store: &SyncStore,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let stopped = || *stop.borrow();
    let settings = &prepared.settings;
    let classifier = Classifier {
        resource: prepared.resource,
        settings,
        plan: &prepared.plan,
        store,
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

    let client = crate::client::http::HttpClient::new(
        &options.destination.delivery,
        Some(&prepared.authorization),
    )
    .map_err(|e| SyncError::Setup(e.to_string()))?;
    let mut exec = Exec {
        api: prepared.api.clone(),
        sender: Sender::new(
            client,
            &options.destination.delivery,
            &options.destination.credential,
            stop.clone(),
        ),
        store,
        listed: None,
        order,
        mode: settings.mode,
        summary: SyncSummary::default(),
    };
    let mut ending = SyncEnding::Finished;
    let baseline = match exec.baseline(&tally).await {
        Ok(baseline) => baseline,
        Err(stop) => {
            ending = stop.ending();
            Baseline::None
        }
    };

    // Pass 2: the writes.
    if ending == SyncEnding::Finished {
        for record in prepared.open_input()? {
            if stopped() {
                ending = SyncEnding::Interrupted;
                break;
            }
            exec.summary.base.records_read += 1;
            let verdict = classifier.classify(record)?;
            if let Err(stop) = exec.act(verdict).await {
                ending = stop.ending();
                break;
            }
        }
    }
    if ending == SyncEnding::Finished
        && let Err(stop) = exec.finish_orphans().await
    {
        ending = stop.ending();
    }
    if ending == SyncEnding::Finished
        && forecast::deletes(settings.mode)
        && let Err(stop) = exec.delete_gone().await
    {
        ending = stop.ending();
    }
    let mut summary = exec.summary;
    let spent = exec.sender.spent();
    summary.base.requests = spent.requests;
    summary.base.retries = spent.retries;
    summary.base.http_429 = spent.http_429;
    summary.base.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(SyncReport {
        summary,
        ending,
        baseline,
    })
}

impl Exec<'_> {
    /// Lists the account once when that is cheaper than a lookup per new key.
    async fn baseline(&mut self, tally: &Forecast) -> Result<Baseline, Stop> {
        let matched_keys = if self.order.is_empty() {
            0
        } else {
            tally.new_keys
        };
        if matched_keys < 2 {
            return Ok(Baseline::choose(matched_keys, &self.order, None));
        }
        let (first, total) = match matcher::probe(&self.api, &mut self.sender).await {
            Ok(answer) => answer,
            Err(MatchError::Fatal(message)) => return Err(Stop::Fatal(message)),
            Err(MatchError::Stopped) => return Err(Stop::Interrupted),
            // Listing refused: lookups still work.
            Err(MatchError::Failed(_)) => return Ok(Baseline::Lookups),
        };
        self.summary.lookups += 1;
        let baseline = Baseline::choose(matched_keys, &self.order, total);
        if let Baseline::Listing { pages } = baseline {
            match Listed::fetch(&self.api, &mut self.sender, Some(first)).await {
                Ok(listed) => self.listed = Some(listed),
                Err(MatchError::Fatal(message)) => return Err(Stop::Fatal(message)),
                Err(MatchError::Stopped) => return Err(Stop::Interrupted),
                Err(MatchError::Failed(_)) => return Ok(Baseline::Lookups),
            }
            self.summary.lookups += pages.saturating_sub(1);
        }
        Ok(baseline)
    }

    async fn act(&mut self, verdict: Verdict) -> Result<(), Stop> {
        match verdict {
            Verdict::Invalid { no, line, reason } => {
                self.summary.base.invalid += 1;
                eprintln!("invalid: record {no} (line {line}): {reason}");
            }
            Verdict::Duplicate(row) => {
                self.summary.base.invalid += 1;
                self.summary.duplicate_key += 1;
                eprintln!(
                    "duplicate key: record {} (line {}) repeats key {:?} of an earlier row; not sent",
                    row.no,
                    row.line,
                    shown_key(&row.key)
                );
            }
            Verdict::Unchanged { row, restamp } => {
                if restamp && self.mode != SyncMode::CreateOnly {
                    self.state(self.store.note_digest(&row.key, &row.digest))?;
                }
                self.unchanged();
            }
            Verdict::New { row, in_doubt } => self.new_key(&row, in_doubt).await?,
            Verdict::Changed {
                row,
                object_id,
                refresh,
                ..
            } => {
                let origin = self
                    .state(self.store.get(&row.key))?
                    .map_or(Origin::Created, |e| e.origin);
                let applied = self
                    .state(self.store.applied(&row.key))?
                    .unwrap_or_default();
                let applied = (!refresh).then_some(applied);
                match self.update(&row, object_id, origin, applied).await? {
                    Updated::Done => {}
                    Updated::Gone => {
                        self.state(self.store.forget(&row.key))?;
                        self.new_key(&row, false).await?;
                    }
                }
            }
        }
        Ok(())
    }

    fn unchanged(&mut self) {
        self.summary.unchanged += 1;
        self.summary.base.skipped_already_done += 1;
    }

    fn state<T>(&self, result: Result<T, super::store::StoreError>) -> Result<T, Stop> {
        result.map_err(|e| Stop::Fatal(e.to_string()))
    }

    fn refused(&mut self, row: &Row, what: &str, message: &str) {
        self.summary.base.dead_lettered += 1;
        eprintln!(
            "rejected: record {} (line {}, key {:?}): {what}: {message}; tried again next run",
            row.no,
            row.line,
            shown_key(&row.key)
        );
    }

    /// Finds the object `shape` may already be; `fresh` ignores the listed baseline (to look up
    /// a create of this very run).
    async fn find(
        &mut self,
        shape: &Shape,
        order: &[MatchOn],
        key: &str,
        record: RecordNo,
        fresh: bool,
    ) -> Result<Result<Option<matcher::Found>, String>, Stop> {
        let store = self.store;
        let mut failed = None;
        let mut claimed = |id: u64| match store.owner_of(id) {
            Ok(owner) => owner.is_some_and(|k| k != key),
            Err(err) => {
                failed = Some(err.to_string());
                true
            }
        };
        let listed = if fresh { None } else { self.listed.as_ref() };
        let query = matcher::Query {
            listed,
            shape,
            order,
            record,
        };
        let result = matcher::find(
            &self.api,
            &mut self.sender,
            query,
            &mut self.summary.lookups,
            &mut claimed,
        )
        .await;
        if let Some(message) = failed {
            return Err(Stop::Fatal(message));
        }
        match result {
            Ok(found) => Ok(Ok(found)),
            Err(MatchError::Fatal(message)) => Err(Stop::Fatal(message)),
            Err(MatchError::Stopped) => Err(Stop::Interrupted),
            Err(MatchError::Failed(message)) => Ok(Err(message)),
        }
    }

    /// A key with no object yet: match it, then update what was found or create.
    async fn new_key(&mut self, row: &Row, in_doubt: bool) -> Result<(), Stop> {
        let order = if in_doubt {
            reconcile_order(self.api.resource)
        } else {
            self.order.clone()
        };
        let found = if order.is_empty() {
            None
        } else {
            match self
                .find(&row.shape, &order, &row.key, row.no, in_doubt)
                .await?
            {
                Ok(found) => found,
                Err(message) => {
                    self.refused(row, "matching", &message);
                    return Ok(());
                }
            }
        };
        if let Some((id, object)) = found {
            if let Some(listed) = &mut self.listed {
                listed.remove(id);
            }
            let origin = if in_doubt {
                Origin::Created
            } else {
                self.summary.matched += 1;
                Origin::Matched
            };
            let applied = Shape::from_answer(self.api.resource, &object, &row.shape);
            if self.mode == SyncMode::CreateOnly && !in_doubt {
                // create_only never changes an object it did not create: it only remembers it.
                self.state(
                    self.store
                        .settle(&row.key, id, origin, &applied, Some(&row.digest)),
                )?;
                self.unchanged();
                return Ok(());
            }
            self.state(self.store.settle(&row.key, id, origin, &applied, None))?;
            return match self.update(row, id, origin, Some(applied)).await? {
                Updated::Done => Ok(()),
                Updated::Gone => {
                    self.state(self.store.forget(&row.key))?;
                    self.create(row).await
                }
            };
        }
        if !self.mode.creates() {
            self.summary.unmatched += 1;
            self.summary.base.skipped_already_done += 1;
            return Ok(());
        }
        self.create(row).await
    }

    async fn create(&mut self, row: &Row) -> Result<(), Stop> {
        for _ in 0..3 {
            self.state(self.store.intend(
                &row.key,
                Pending::Create,
                Origin::Created,
                Some(&row.shape),
            ))?;
            let request = self
                .api
                .op(&Op::Create, None, &row.body, &row.headers, Some(row.no));
            match self.sender.send(&request).await {
                Sent::Applied { body, .. } => {
                    let object = body
                        .get(self.api.wrapper().0)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    let Some(id) = object.get("id").and_then(Value::as_u64) else {
                        // Applied, but the answer names no object: the next run looks it up.
                        self.summary.base.in_doubt += 1;
                        eprintln!(
                            "in doubt: record {} (line {}): the create was answered without an object id; the next run looks it up",
                            row.no, row.line
                        );
                        return Ok(());
                    };
                    let answered = Shape::from_answer(self.api.resource, &object, &row.shape);
                    let applied = row.shape.with_ids_from(&answered);
                    self.state(self.store.settle(
                        &row.key,
                        id,
                        Origin::Created,
                        &applied,
                        Some(&row.digest),
                    ))?;
                    self.summary.created += 1;
                    self.summary.base.delivered += 1;
                    return Ok(());
                }
                Sent::Refused { message, .. } => {
                    self.state(self.store.forget(&row.key))?;
                    self.refused(row, "create", &message);
                    return Ok(());
                }
                Sent::Fatal(message) => {
                    self.state(self.store.forget(&row.key))?;
                    return Err(Stop::Fatal(message));
                }
                // Not sent (or answered with a retryable error): the intent stays, and the
                // next run looks the key up before creating, which costs a lookup at most.
                Sent::Stopped => return Err(Stop::Interrupted),
                Sent::InDoubt(_) => {
                    // The create may have been applied: look before sending it again.
                    let order = reconcile_order(self.api.resource);
                    match self
                        .find(&row.shape, &order, &row.key, row.no, true)
                        .await?
                    {
                        Ok(Some((id, object))) => {
                            let applied =
                                Shape::from_answer(self.api.resource, &object, &row.shape);
                            self.state(self.store.settle(
                                &row.key,
                                id,
                                Origin::Created,
                                &applied,
                                None,
                            ))?;
                            return match self
                                .update(row, id, Origin::Created, Some(applied))
                                .await?
                            {
                                Updated::Done => Ok(()),
                                Updated::Gone => {
                                    self.state(self.store.forget(&row.key))?;
                                    continue;
                                }
                            };
                        }
                        Ok(None) => continue,
                        Err(message) => {
                            self.summary.base.in_doubt += 1;
                            eprintln!(
                                "in doubt: record {} (line {}): the create may have been applied and the lookup failed ({message}); the next run looks it up",
                                row.no, row.line
                            );
                            return Ok(());
                        }
                    }
                }
            }
        }
        self.summary.base.in_doubt += 1;
        eprintln!(
            "in doubt: record {} (line {}): no answer to three creates; the next run looks it up before sending again",
            row.no, row.line
        );
        Ok(())
    }

    /// Reads object `id` back: its shape, or `None` when it is gone.
    async fn read_back(
        &mut self,
        row: &Row,
        id: u64,
    ) -> Result<Result<Option<Shape>, String>, Stop> {
        match self.sender.send(&self.api.get(id, Some(row.no))).await {
            Sent::Applied { body, .. } => {
                let object = body
                    .get(self.api.wrapper().0)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                Ok(Ok(Some(Shape::from_answer(
                    self.api.resource,
                    &object,
                    &row.shape,
                ))))
            }
            Sent::Refused {
                status: Some(404), ..
            } => Ok(Ok(None)),
            Sent::Fatal(message) => Err(Stop::Fatal(message)),
            Sent::Stopped => Err(Stop::Interrupted),
            Sent::Refused { message, .. } | Sent::InDoubt(message) => Ok(Err(message)),
        }
    }

    /// Brings object `id` to the row's shape. `applied` is what it holds, `None` to read it back.
    async fn update(
        &mut self,
        row: &Row,
        id: u64,
        origin: Origin,
        applied: Option<Shape>,
    ) -> Result<Updated, Stop> {
        let mut applied = applied;
        let mut wrote = false;
        for _ in 0..3 {
            let mut current = match applied.take() {
                Some(shape) => shape,
                None => match self.read_back(row, id).await? {
                    Ok(Some(shape)) => shape,
                    Ok(None) => return Ok(Updated::Gone),
                    Err(message) => {
                        self.state(self.store.reject(&row.key))?;
                        self.refused(row, "reading the object back", &message);
                        return Ok(Updated::Done);
                    }
                },
            };
            let ops = diff::changes(self.api.resource, &current, &row.shape);
            if ops.is_empty() {
                self.state(
                    self.store
                        .settle(&row.key, id, origin, &current, Some(&row.digest)),
                )?;
                if wrote {
                    self.summary.updated += 1;
                    self.summary.base.delivered += 1;
                } else {
                    self.unchanged();
                }
                return Ok(Updated::Done);
            }
            self.state(self.store.intend(&row.key, Pending::Update, origin, None))?;
            let mut in_doubt = false;
            for op in &ops {
                let request = self
                    .api
                    .op(op, Some(id), &row.body, &row.headers, Some(row.no));
                match self.sender.send(&request).await {
                    Sent::Applied { body, .. } => {
                        diff::apply(&mut current, op, Some(&body));
                        wrote = true;
                    }
                    Sent::Refused {
                        status: Some(404), ..
                    } if matches!(op, Op::UpdateFields(_)) => return Ok(Updated::Gone),
                    Sent::Refused { message, .. } => {
                        self.state(self.store.settle(&row.key, id, origin, &current, None))?;
                        self.refused(row, "update", &message);
                        return Ok(Updated::Done);
                    }
                    Sent::Fatal(message) => {
                        self.state(self.store.settle(&row.key, id, origin, &current, None))?;
                        return Err(Stop::Fatal(message));
                    }
                    Sent::Stopped => {
                        self.state(self.store.settle(&row.key, id, origin, &current, None))?;
                        return Err(Stop::Interrupted);
                    }
                    Sent::InDoubt(_) => {
                        in_doubt = true;
                        break;
                    }
                }
            }
            if !in_doubt {
                self.state(
                    self.store
                        .settle(&row.key, id, origin, &current, Some(&row.digest)),
                )?;
                self.summary.updated += 1;
                self.summary.base.delivered += 1;
                return Ok(Updated::Done);
            }
            // A write may or may not have been applied: read the object back and diff again.
        }
        self.summary.base.in_doubt += 1;
        eprintln!(
            "in doubt: record {} (line {}): updates kept going unanswered; the next run reads the object back",
            row.no, row.line
        );
        Ok(Updated::Done)
    }

    /// Creates left in doubt by an earlier run whose rows are not in this export: looked up,
    /// and deleted (mirror) or kept; forgotten when they never happened.
    async fn finish_orphans(&mut self) -> Result<(), Stop> {
        for key in self.state(self.store.orphaned_creates())? {
            let shape = self.state(self.store.applied(&key))?.unwrap_or_default();
            let row = Row {
                no: RecordNo(0),
                line: 0,
                key: key.clone(),
                body: Map::new(),
                headers: Default::default(),
                digest: shape.digest(),
                shape,
            };
            let order = reconcile_order(self.api.resource);
            match self.find(&row.shape, &order, &key, row.no, true).await? {
                Ok(Some((id, object))) => {
                    let applied = Shape::from_answer(self.api.resource, &object, &row.shape);
                    self.state(self.store.settle(
                        &key,
                        id,
                        Origin::Created,
                        &applied,
                        Some(&row.digest),
                    ))?;
                }
                Ok(None) => self.state(self.store.forget(&key))?,
                Err(message) => eprintln!(
                    "note: a create for key {:?} from an earlier run is still in doubt: {message}",
                    shown_key(&key)
                ),
            }
        }
        Ok(())
    }

    /// Mirror: deletes the objects this destination created whose keys left the export.
    async fn delete_gone(&mut self) -> Result<(), Stop> {
        let mut after = String::new();
        loop {
            let batch = self.state(self.store.gone(&after, 200))?;
            let Some((last, _)) = batch.last() else {
                return Ok(());
            };
            after = last.clone();
            for (key, id) in batch {
                self.state(
                    self.store
                        .intend(&key, Pending::Delete, Origin::Created, None),
                )?;
                let request = self.api.op(
                    &Op::Delete,
                    Some(id),
                    &Map::new(),
                    &Default::default(),
                    None,
                );
                match self.sender.send(&request).await {
                    Sent::Applied { .. }
                    | Sent::Refused {
                        status: Some(404), ..
                    } => {
                        self.state(self.store.forget(&key))?;
                        self.summary.deleted += 1;
                    }
                    Sent::Fatal(message) => return Err(Stop::Fatal(message)),
                    // A DELETE is safe to resend: the next run sends it again.
                    Sent::Stopped => return Err(Stop::Interrupted),
                    Sent::Refused { message, .. } | Sent::InDoubt(message) => {
                        self.state(self.store.reject(&key))?;
                        self.summary.delete_failed += 1;
                        eprintln!(
                            "rejected: delete of object {id} (key {:?}): {message}; tried again next run",
                            shown_key(&key)
                        );
                    }
                }
            }
        }
    }
}

/// An in-doubt create is looked up by everything it could be found by, whatever `match` says.
fn reconcile_order(resource: SyncResource) -> Vec<MatchOn> {
    resource.default_match()
}

/// A key as a person reads it: several attributes' values joined with ` + `.
pub fn shown_key(key: &str) -> String {
    key.replace('\u{1f}', " + ")
}
