//! What a sync run would do, counted without writing anything: the verdict of every record, the
//! deletes a mirror would make, the lookups new keys need, and the requests and time it costs.

use serde::Serialize;
use serde_json::{Value, json};

use super::api::Api;
use super::classify::{Classifier, Prepared, Verdict};
use super::diff::Op;
use super::matcher::Baseline;
use super::shape::DetailKind;
use super::store::StoreError;
use crate::credentials::AuthKind;
use crate::destination::{MatchOn, SyncMode};
use crate::records::{Record, RecordError};

/// Counts, as `plan --json` prints them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Forecast {
    pub records_read: u64,
    pub create: u64,
    pub update: u64,
    pub delete: u64,
    pub unchanged: u64,
    pub invalid: u64,
    pub duplicate_key: u64,
    /// New keys: each is matched (when `match` asks) before it is created or updated.
    pub new_keys: u64,
    /// Lookups the new keys need at most (one per phone number or email tried).
    pub lookups: u64,
    /// Objects the state knows (the base of `max_delete_percent`).
    pub synced: u64,
    /// Requests the writes need (lookups and listing not included).
    pub writes: u64,
}

impl Forecast {
    /// Requests a run would send with `baseline`.
    pub fn requests(&self, baseline: Baseline) -> u64 {
        let matching = match baseline {
            Baseline::None => 0,
            Baseline::Lookups => self.lookups,
            // The probe of page 1 is the listing's first page.
            Baseline::Listing { pages } => pages,
        };
        matching + self.writes
    }

    /// Whether the deletes pass `max_delete_percent` of the synced objects.
    pub fn deletes_over(&self, percent: f64) -> bool {
        self.delete > 0 && (self.delete as f64) * 100.0 > percent * (self.synced as f64)
    }
}

/// The first few records of each kind, with the requests they need.
#[derive(Debug, Default)]
pub struct Examples {
    limit: usize,
    /// How the credential is shown (masked) in the examples' headers.
    pub auth_kind: Option<AuthKind>,
    pub by_kind: Vec<(&'static str, Vec<Value>)>,
}

impl Examples {
    pub fn new(limit: usize, auth_kind: Option<AuthKind>) -> Self {
        Self {
            limit,
            auth_kind,
            by_kind: [
                "create",
                "update",
                "delete",
                "unchanged",
                "invalid",
                "duplicate_key",
            ]
            .into_iter()
            .map(|k| (k, Vec::new()))
            .collect(),
        }
    }

    fn wants(&self, kind: &str) -> bool {
        self.by_kind
            .iter()
            .any(|(k, list)| *k == kind && list.len() < self.limit)
    }

    pub fn push(&mut self, kind: &str, example: Value) {
        if let Some((_, list)) = self.by_kind.iter_mut().find(|(k, _)| *k == kind)
            && list.len() < self.limit
        {
            list.push(example);
        }
    }
}

/// Adds one record's verdict to `forecast` (and `examples`). New keys count as creates, or, in
/// `update_only`, as nothing until a lookup finds them.
pub fn count(
    classifier: &Classifier<'_>,
    api: &Api,
    order: &[MatchOn],
    record: Result<Record, RecordError>,
    forecast: &mut Forecast,
    examples: Option<&mut Examples>,
) -> Result<Verdict, StoreError> {
    let prepared = classifier.preparer().prepare(record);
    tally(classifier, api, order, prepared, forecast, examples)
}

/// [`count`] for a record already prepared (plan prepares records on another thread).
pub fn tally(
    classifier: &Classifier<'_>,
    api: &Api,
    order: &[MatchOn],
    prepared: Prepared,
    forecast: &mut Forecast,
    examples: Option<&mut Examples>,
) -> Result<Verdict, StoreError> {
    forecast.records_read += 1;
    let verdict = classifier.decide(prepared)?;
    match &verdict {
        Verdict::Invalid { .. } => forecast.invalid += 1,
        Verdict::Duplicate(_) => forecast.duplicate_key += 1,
        Verdict::Unchanged { .. } => forecast.unchanged += 1,
        Verdict::New { row, in_doubt } => {
            forecast.new_keys += 1;
            let tried: Vec<MatchOn> = if *in_doubt {
                vec![MatchOn::Phone, MatchOn::Email]
            } else {
                order.to_vec()
            };
            forecast.lookups += tried
                .iter()
                .filter(|on| row.shape.first(detail_kind(**on), api.resource).is_some())
                .count() as u64;
            if classifier.settings.mode.creates() {
                forecast.create += 1;
                forecast.writes += 1;
            }
        }
        Verdict::Changed { ops, refresh, .. } => {
            forecast.update += 1;
            forecast.writes += ops.len() as u64 + u64::from(*refresh);
        }
    }
    if let Some(examples) = examples
        && examples.wants(verdict.kind())
    {
        examples.push(
            verdict.kind(),
            example(api, order, &verdict, examples.auth_kind),
        );
    }
    Ok(verdict)
}

pub fn detail_kind(on: MatchOn) -> DetailKind {
    match on {
        MatchOn::Phone => DetailKind::Phone,
        MatchOn::Email => DetailKind::Email,
    }
}

/// A record and the requests its verdict needs, secrets never included.
pub fn example(
    api: &Api,
    order: &[MatchOn],
    verdict: &Verdict,
    auth_kind: Option<AuthKind>,
) -> Value {
    let shown = |request: crate::request::Request, operation: &str| {
        let mut value = request.preview_json(auth_kind);
        if let Some(object) = value.as_object_mut() {
            object.insert("operation".into(), json!(operation));
        }
        value
    };
    match verdict {
        Verdict::Invalid { no, line, reason } => {
            json!({"record": no, "line": line, "reason": reason})
        }
        Verdict::Duplicate(row) | Verdict::Unchanged { row, .. } => {
            json!({"record": row.no, "line": row.line, "key": row.key})
        }
        Verdict::New { row, .. } => {
            let mut requests: Vec<Value> = order
                .iter()
                .filter_map(|on| {
                    let kind = detail_kind(*on);
                    row.shape.first(kind, api.resource).map(|value| {
                        let lookup = api.lookup(kind, &value, Some(&row.headers), Some(row.no));
                        shown(lookup, "lookup")
                    })
                })
                .collect();
            requests.push(shown(
                api.op(
                    &Op::Create,
                    None,
                    &row.body,
                    Some(&row.headers),
                    Some(row.no),
                ),
                "create",
            ));
            json!({"record": row.no, "line": row.line, "key": row.key, "requests": requests})
        }
        Verdict::Changed {
            row,
            object_id,
            ops,
            ..
        } => {
            let requests: Vec<Value> = ops
                .iter()
                .map(|op| {
                    shown(
                        api.op(
                            op,
                            Some(*object_id),
                            &row.body,
                            Some(&row.headers),
                            Some(row.no),
                        ),
                        op.name(),
                    )
                })
                .collect();
            json!({"record": row.no, "line": row.line, "key": row.key, "object_id": object_id, "requests": requests})
        }
    }
}

/// The example of a delete: the key and its request.
pub fn delete_example(api: &Api, key: &str, object_id: u64, auth_kind: Option<AuthKind>) -> Value {
    let mut request = api
        .op(
            &Op::Delete,
            Some(object_id),
            &Default::default(),
            None,
            None,
        )
        .preview_json(auth_kind);
    if let Some(object) = request.as_object_mut() {
        object.insert("operation".into(), json!("delete"));
    }
    json!({"key": key, "object_id": object_id, "requests": [request]})
}

/// Whether mode `mode` may delete.
pub fn deletes(mode: SyncMode) -> bool {
    mode == SyncMode::Mirror
}
