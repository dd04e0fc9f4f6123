//! The work of one key: match a new key, create or update its object, each write's intent made
//! durable before its request leaves. Keys run side by side (up to `concurrency`), each one's
//! requests in order; what they share — the state, the sender, the listed baseline, the summary —
//! they reach through `&Keys` between two awaits.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use serde_json::Value;

use super::Stop;
use super::progress::Watcher;
use crate::destination::{MatchOn, SyncMode, SyncResource};
use crate::request::{Built, Plan, RecordWarning};
use crate::sync::api::Api;
use crate::sync::classify::{Row, Verdict};
use crate::sync::diff::{self, Op};
use crate::sync::matcher::{self, Found, Listed, MatchError};
use crate::sync::send::{Sender, Sent};
use crate::sync::shape::Shape;
use crate::sync::store::{Origin, Pending, StoreError, SyncStore};
use crate::sync::summary::SyncSummary;

/// How many values left out a run names (as `run` keeps them: the runner's `LEFT_OUT_KEPT`);
/// the rest are counted.
const LEFT_OUT_KEPT: usize = 20;

/// How the update of one object ended.
pub(super) enum Updated {
    Done,
    /// The object is gone from Aircall: the key is new again.
    Gone,
}

/// What the keys of a run share.
pub(super) struct Keys<'a> {
    pub api: Api,
    pub sender: Sender,
    pub store: &'a SyncStore,
    /// Builds a delivered record once more, to name the values its mapping left out.
    pub plan: &'a Plan,
    pub listed: RefCell<Option<Listed>>,
    /// Objects a key of this run has taken, settled in the state or not yet: never a second's.
    pub taken: RefCell<HashSet<u64>>,
    pub order: Vec<MatchOn>,
    pub mode: SyncMode,
    pub summary: RefCell<SyncSummary>,
    /// The first values left out, named (the rest are only counted).
    pub left_out: RefCell<Vec<RecordWarning>>,
    pub lookups: Cell<u64>,
    /// Who watches the run: its progress, and a line for each record that did not end as asked.
    pub watch: Watcher<'a>,
}

/// A key as a person reads it: several attributes' values joined with ` + `.
pub fn shown_key(key: &str) -> String {
    key.replace('\u{1f}', " + ")
}

/// An in-doubt create is looked up by everything it could be found by, whatever `match` says.
pub(super) fn reconcile_order(resource: SyncResource) -> Vec<MatchOn> {
    resource.default_match()
}

impl Keys<'_> {
    pub fn count(&self, change: impl FnOnce(&mut SyncSummary)) {
        change(&mut self.summary.borrow_mut());
        self.report(false);
    }

    /// Tells the watcher how the run stands (at most ten times a second unless `now`).
    pub fn report(&self, now: bool) {
        self.watch.report(now, || self.summary_now());
    }

    /// The counts so far, with the requests the sender has spent.
    pub fn summary_now(&self) -> SyncSummary {
        let mut summary = *self.summary.borrow();
        let spent = self.sender.spent();
        summary.lookups += self.lookups.get();
        summary.base.requests = spent.requests;
        summary.base.retries = spent.retries;
        summary.base.http_429 = spent.http_429;
        summary.base.duration_ms =
            u64::try_from(self.watch.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        summary
    }

    pub fn state<T>(&self, result: Result<T, StoreError>) -> Result<T, Stop> {
        result.map_err(|e| Stop::Fatal(e.to_string()))
    }

    /// Waits until what this key wrote to the state is on disk (shared with the keys in flight).
    pub async fn durable(&self) -> Result<(), Stop> {
        self.state(self.store.durable().await)
    }

    /// Counts a record whose verdict needs no request: invalid, a duplicate key, or unchanged.
    pub fn settle_locally(&self, verdict: Verdict) -> Result<(), Stop> {
        match verdict {
            Verdict::Invalid { no, line, reason } => {
                self.count(|s| s.base.invalid += 1);
                self.watch
                    .say(&format!("invalid: record {no} (line {line}): {reason}"));
            }
            Verdict::Duplicate(row) => {
                self.count(|s| {
                    s.base.invalid += 1;
                    s.duplicate_key += 1;
                });
                self.watch.say(&format!(
                    "duplicate key: record {} (line {}) repeats key {:?} of an earlier row; not sent",
                    row.no,
                    row.line,
                    shown_key(&row.key)
                ));
            }
            Verdict::Unchanged { row, restamp } => {
                if restamp && self.mode != SyncMode::CreateOnly {
                    self.state(self.store.note_digest(&row.key, &row.digest))?;
                }
                self.unchanged();
            }
            Verdict::New { .. } | Verdict::Changed { .. } => {}
        }
        Ok(())
    }

    /// The requests a new or changed row needs, in order.
    pub async fn act(&self, verdict: Verdict) -> Result<(), Stop> {
        match verdict {
            Verdict::New { row, in_doubt } => self.new_key(&row, in_doubt).await,
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
                    Updated::Done => Ok(()),
                    Updated::Gone => {
                        self.state(self.store.forget(&row.key))?;
                        self.new_key(&row, false).await
                    }
                }
            }
            other => self.settle_locally(other),
        }
    }

    fn unchanged(&self) {
        self.count(|s| {
            s.unchanged += 1;
            s.base.skipped_already_done += 1;
        });
    }

    /// A record created or updated in this run.
    fn delivered(&self, change: impl FnOnce(&mut SyncSummary)) {
        self.count(|s| {
            s.base.delivered += 1;
            change(s);
        });
    }

    /// Before the first write a record sends in this run: the values its mapping left out
    /// (optional values whose transform failed) are counted and named, as `run` does for the
    /// records it sends.
    fn writing(&self, row: &Row) {
        if row.written.replace(true) {
            return;
        }
        let Some(record) = &row.source else {
            return;
        };
        let warnings: Vec<RecordWarning> = self
            .plan
            .builder()
            .push(Ok(record.clone()))
            .into_iter()
            .flat_map(|built| match built {
                Built::Request(request) => request.warnings,
                Built::Invalid(_) => Vec::new(),
            })
            .collect();
        if warnings.is_empty() {
            return;
        }
        self.count(|s| s.base.values_left_out += warnings.len() as u64);
        let mut kept = self.left_out.borrow_mut();
        let room = LEFT_OUT_KEPT.saturating_sub(kept.len());
        kept.extend(warnings.into_iter().take(room));
    }

    fn refused(&self, row: &Row, what: &str, message: &str) {
        self.count(|s| s.base.dead_lettered += 1);
        self.watch.say(&format!(
            "rejected: record {} (line {}, key {:?}): {what}: {message}; tried again next run",
            row.no,
            row.line,
            shown_key(&row.key)
        ));
    }

    /// Finds the object `row` may already be; `fresh` ignores the listed baseline (to look up a
    /// create of this very run). The object found is taken at once, before any other key can
    /// see it.
    pub async fn find(
        &self,
        row: &Row,
        order: &[MatchOn],
        fresh: bool,
    ) -> Result<Result<Option<Found>, String>, Stop> {
        let store = self.store;
        let failed = RefCell::new(None);
        let mut claimed = |id: u64| {
            if self.taken.borrow().contains(&id) {
                return true;
            }
            match store.owner_of(id) {
                Ok(owner) => owner.is_some_and(|k| k != row.key),
                Err(err) => {
                    *failed.borrow_mut() = Some(err.to_string());
                    true
                }
            }
        };
        let query = matcher::Query {
            shape: &row.shape,
            order,
            headers: row.source.is_some().then_some(&row.headers),
            record: row.no,
        };
        let listed = if fresh {
            None
        } else {
            self.listed
                .borrow()
                .as_ref()
                .map(|listed| listed.find(self.api.resource, &query, &mut claimed))
        };
        let result = match listed {
            Some(found) => Ok(found),
            None => {
                matcher::find(&self.api, &self.sender, query, &self.lookups, &mut claimed).await
            }
        };
        if let Some(message) = failed.into_inner() {
            return Err(Stop::Fatal(message));
        }
        match result {
            Ok(found) => {
                if let Some((id, _)) = &found {
                    self.taken.borrow_mut().insert(*id);
                    if let Some(listed) = self.listed.borrow_mut().as_mut() {
                        listed.remove(*id);
                    }
                }
                Ok(Ok(found))
            }
            Err(MatchError::Fatal(message)) => Err(Stop::Fatal(message)),
            Err(MatchError::Stopped) => Err(Stop::Interrupted),
            Err(MatchError::Failed(message)) => Ok(Err(message)),
        }
    }

    /// A key with no object yet: match it, then update what was found or create.
    async fn new_key(&self, row: &Row, in_doubt: bool) -> Result<(), Stop> {
        let order = if in_doubt {
            reconcile_order(self.api.resource)
        } else {
            self.order.clone()
        };
        let found = if order.is_empty() {
            None
        } else {
            match self.find(row, &order, in_doubt).await? {
                Ok(found) => found,
                Err(message) => {
                    self.refused(row, "matching", &message);
                    return Ok(());
                }
            }
        };
        if let Some((id, object)) = found {
            let origin = if in_doubt {
                Origin::Created
            } else {
                self.count(|s| s.matched += 1);
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
            self.count(|s| {
                s.unmatched += 1;
                s.base.skipped_already_done += 1;
            });
            self.watch.say(&format!(
                "skipped: record {} (line {}, key {:?}): no Aircall object matched it, and mode \
                 update_only creates none",
                row.no,
                row.line,
                shown_key(&row.key)
            ));
            return Ok(());
        }
        self.create(row).await
    }

    /// The object of an answer (`{"contact": {...}}`), or an empty one.
    fn object_of(&self, body: &Value) -> serde_json::Map<String, Value> {
        body.get(self.api.wrapper().0)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    async fn create(&self, row: &Row) -> Result<(), Stop> {
        for _ in 0..3 {
            self.state(self.store.intend(
                &row.key,
                Pending::Create,
                Origin::Created,
                Some(&row.shape),
            ))?;
            self.durable().await?;
            self.writing(row);
            let request = self.api.op(
                &Op::Create,
                None,
                &row.body,
                Some(&row.headers),
                Some(row.no),
            );
            match self.sender.send(&request).await {
                Sent::Applied { body, .. } => {
                    let object = self.object_of(&body);
                    let Some(id) = object.get("id").and_then(Value::as_u64) else {
                        // Applied, but the answer names no object: the next run looks it up.
                        self.count(|s| s.base.in_doubt += 1);
                        self.watch.say(&format!(
                            "in doubt: record {} (line {}): the create was answered without an object id; the next run looks it up",
                            row.no, row.line
                        ));
                        return Ok(());
                    };
                    self.taken.borrow_mut().insert(id);
                    let answered = Shape::from_answer(self.api.resource, &object, &row.shape);
                    let applied = row.shape.with_ids_from(&answered);
                    self.state(self.store.settle(
                        &row.key,
                        id,
                        Origin::Created,
                        &applied,
                        Some(&row.digest),
                    ))?;
                    self.delivered(|s| s.created += 1);
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
                // Not sent: the intent stays, and the next run looks the key up before
                // creating, which costs a lookup at most.
                Sent::Stopped => return Err(Stop::Interrupted),
                Sent::InDoubt(_) => {
                    // The create may have been applied: look before sending it again.
                    let order = reconcile_order(self.api.resource);
                    match self.find(row, &order, true).await? {
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
                            match self.update(row, id, Origin::Created, Some(applied)).await? {
                                Updated::Done => return Ok(()),
                                Updated::Gone => {
                                    self.state(self.store.forget(&row.key))?;
                                }
                            }
                        }
                        Ok(None) => {}
                        Err(message) => {
                            self.count(|s| s.base.in_doubt += 1);
                            self.watch.say(&format!(
                                "in doubt: record {} (line {}): the create may have been applied and the lookup failed ({message}); the next run looks it up",
                                row.no, row.line
                            ));
                            return Ok(());
                        }
                    }
                }
            }
        }
        self.count(|s| s.base.in_doubt += 1);
        self.watch.say(&format!(
            "in doubt: record {} (line {}): no answer to three creates; the next run looks it up before sending again",
            row.no, row.line
        ));
        Ok(())
    }

    /// Reads object `id` back: its shape, or `None` when it is gone.
    async fn read_back(&self, row: &Row, id: u64) -> Result<Result<Option<Shape>, String>, Stop> {
        let request = self.api.get(id, Some(&row.headers), Some(row.no));
        match self.sender.send(&request).await {
            Sent::Applied { body, .. } => Ok(Ok(Some(Shape::from_answer(
                self.api.resource,
                &self.object_of(&body),
                &row.shape,
            )))),
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
        &self,
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
                    self.delivered(|s| s.updated += 1);
                } else {
                    self.unchanged();
                }
                return Ok(Updated::Done);
            }
            self.state(self.store.intend(&row.key, Pending::Update, origin, None))?;
            self.durable().await?;
            self.writing(row);
            let mut in_doubt = false;
            for op in &ops {
                let request =
                    self.api
                        .op(op, Some(id), &row.body, Some(&row.headers), Some(row.no));
                let sent = self.sender.send(&request).await;
                let keep = |current: &Shape| {
                    self.state(self.store.settle(&row.key, id, origin, current, None))
                };
                match sent {
                    Sent::Applied { body, .. } => {
                        diff::apply(&mut current, op, Some(&body));
                        wrote = true;
                    }
                    Sent::Refused {
                        status: Some(404), ..
                    } if matches!(op, Op::UpdateFields(_)) => return Ok(Updated::Gone),
                    Sent::Refused { message, .. } => {
                        keep(&current)?;
                        self.refused(row, "update", &message);
                        return Ok(Updated::Done);
                    }
                    Sent::Fatal(message) => {
                        keep(&current)?;
                        return Err(Stop::Fatal(message));
                    }
                    Sent::Stopped => {
                        keep(&current)?;
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
                self.delivered(|s| s.updated += 1);
                return Ok(Updated::Done);
            }
            // A write may or may not have been applied: read the object back and diff again.
        }
        self.count(|s| s.base.in_doubt += 1);
        self.watch.say(&format!(
            "in doubt: record {} (line {}): updates kept going unanswered; the next run reads the object back",
            row.no, row.line
        ));
        Ok(Updated::Done)
    }
}

/// The values a new key may be matched by, or an object found by: its phone numbers and emails
/// in normalised form. Two keys sharing one are never in flight together, so a lookup never
/// finds the object another key of the run is creating before that key has stored it.
pub(super) fn match_values(row: &Row) -> Vec<String> {
    use crate::sync::shape::DetailKind;
    let mut values = Vec::new();
    for kind in [DetailKind::Phone, DetailKind::Email] {
        for detail in row.shape.details(kind) {
            values.push(kind.normalise(&detail.value));
        }
    }
    if let Some(email) = row.shape.scalars.get("email").and_then(Value::as_str) {
        values.push(DetailKind::Email.normalise(email));
    }
    values
}
