//! What one record asks of a sync, decided locally (no request): its key, its normalised shape,
//! and whether it is new, changed, unchanged, a duplicate of an earlier row, or invalid. `plan`
//! counts these; `run` acts on them.

use std::cell::Cell;

use serde_json::{Map, Value};

use super::api::Headers;
use super::diff::{self, Op};
use super::phones::PhoneForm;
use super::shape::Shape;
use super::store::{Entry, LastOutcome, Pending, StoreError, SyncStore};
use crate::destination::{SyncMode, SyncResource, SyncSettings};
use crate::records::{Record, RecordError, RecordNo, get_path};
use crate::request::Plan;

/// A record, read and built, ready to be compared.
#[derive(Debug, Clone)]
pub struct Row {
    pub no: RecordNo,
    pub line: u64,
    pub key: String,
    pub body: Map<String, Value>,
    pub headers: Headers,
    pub shape: Shape,
    pub digest: [u8; 16],
    /// The record as read (`None` for a key with no row in this export): a run builds it again
    /// once delivered, to count the values its mapping left out.
    pub source: Option<Record>,
    /// A write was sent for this row in this run (its values left out are counted once).
    pub written: Cell<bool>,
}

/// What a record asks for.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Not sent: no key, or no valid request. Counted as `invalid`.
    Invalid {
        no: RecordNo,
        line: u64,
        reason: String,
    },
    /// A later row with a key already read in this input. Not sent.
    Duplicate(Row),
    /// Nothing to send (or, in `create_only`, a known key that is never updated). `restamp`
    /// when the digest changed without anything to send (a field emptied in the export, which
    /// Aircall cannot blank): the state takes the new digest.
    Unchanged { row: Row, restamp: bool },
    /// A key with no object yet: matched (when `match` asks) then created or updated. `in_doubt`
    /// when an earlier run's create may have been applied: it is looked up before resending.
    New { row: Row, in_doubt: bool },
    /// A known object whose shape differs. `refresh` when the stored shape may be stale (an
    /// earlier run stopped mid-update): the object is read again first. `ops` is the work as
    /// the state sees it.
    Changed {
        row: Row,
        object_id: u64,
        refresh: bool,
        ops: Vec<Op>,
    },
}

impl Verdict {
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Invalid { .. } => "invalid",
            Verdict::Duplicate(_) => "duplicate_key",
            Verdict::Unchanged { .. } => "unchanged",
            Verdict::New { .. } => "create",
            Verdict::Changed { .. } => "update",
        }
    }
}

/// Decides verdicts against one state.
pub struct Classifier<'a> {
    pub resource: SyncResource,
    pub settings: &'a SyncSettings,
    pub plan: &'a Plan,
    pub store: &'a SyncStore,
    /// How the mapping writes phone numbers.
    pub phones: PhoneForm,
}

/// A record read and built, before the state is asked about it.
#[derive(Debug, Clone)]
pub enum Prepared {
    Invalid {
        no: RecordNo,
        line: u64,
        reason: String,
    },
    /// Boxed: a row (with its record) is many times the size of an invalid one.
    Row(Box<Row>),
}

/// Builds records into rows (key, payload, shape, digest) without the state: the costly,
/// state-free half of classifying, which `plan` runs beside its state lookups.
#[derive(Clone, Copy)]
pub struct Preparer<'a> {
    pub resource: SyncResource,
    pub settings: &'a SyncSettings,
    pub plan: &'a Plan,
    pub phones: PhoneForm,
}

/// The text of key attribute `name` of `record`, or why the row has no key.
fn key_part(record: &Map<String, Value>, name: &str) -> Result<String, String> {
    let text = match get_path(record, name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(other) => Some(other.to_string()),
    };
    match text {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(format!(
            "sync.key: attribute {name:?} is missing or empty, so the row cannot be \
             matched to an earlier export"
        )),
    }
}

impl Preparer<'_> {
    /// The key of `record`: its key attributes' values, joined with U+001F when several.
    pub fn key(&self, record: &Map<String, Value>) -> Result<String, String> {
        if let [name] = self.settings.key.0.as_slice() {
            // One attribute (the usual key): its text is the key, with no list to join.
            return key_part(record, name);
        }
        let mut parts = Vec::with_capacity(self.settings.key.0.len());
        for name in &self.settings.key.0 {
            parts.push(key_part(record, name)?);
        }
        Ok(parts.join("\u{1f}"))
    }

    /// One record read from the input, built into a row, or why it cannot be sent.
    pub fn prepare(&self, record: Result<Record, RecordError>) -> Prepared {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                return Prepared::Invalid {
                    no: err.no,
                    line: err.line,
                    reason: err.message,
                };
            }
        };
        let invalid = |reason: String| Prepared::Invalid {
            no: record.no,
            line: record.line,
            reason,
        };
        let key = match self.key(&record.value) {
            Ok(key) => key,
            Err(reason) => return invalid(reason),
        };
        let (headers, body) = match self.plan.payload(&record) {
            Ok(parts) => parts,
            Err(reason) => return invalid(reason.to_string()),
        };
        let shape = match Shape::from_body(self.resource, &body) {
            Ok(shape) => shape,
            Err(reason) => return invalid(reason),
        };
        let digest = shape.digest_with(self.phones);
        Prepared::Row(Box::new(Row {
            no: record.no,
            line: record.line,
            key,
            body,
            headers: Headers(headers),
            shape,
            digest,
            source: Some(record),
            written: Cell::new(false),
        }))
    }
}

impl Classifier<'_> {
    /// The part of the classifier that needs no state, which may run on another thread.
    pub fn preparer(&self) -> Preparer<'_> {
        Preparer {
            resource: self.resource,
            settings: self.settings,
            plan: self.plan,
            phones: self.phones,
        }
    }

    /// The key of `record`: its key attributes' values, joined with U+001F when several.
    pub fn key(&self, record: &Map<String, Value>) -> Result<String, String> {
        self.preparer().key(record)
    }

    /// The verdict for one record read from the input.
    pub fn classify(&self, record: Result<Record, RecordError>) -> Result<Verdict, StoreError> {
        self.decide(self.preparer().prepare(record))
    }

    /// The verdict for a record already prepared (see [`Preparer::prepare`]).
    pub fn decide(&self, prepared: Prepared) -> Result<Verdict, StoreError> {
        let row = match prepared {
            Prepared::Row(row) => *row,
            Prepared::Invalid { no, line, reason } => {
                return Ok(Verdict::Invalid { no, line, reason });
            }
        };
        if !self.store.mark_seen(&row.key)? {
            return Ok(Verdict::Duplicate(row));
        }
        let entry = self.store.get(&row.key)?;
        self.judge(row, entry)
    }

    fn judge(&self, row: Row, entry: Option<Entry>) -> Result<Verdict, StoreError> {
        let Some(entry) = entry else {
            return Ok(Verdict::New {
                row,
                in_doubt: false,
            });
        };
        let Some(object_id) = entry.object_id else {
            return Ok(Verdict::New {
                in_doubt: entry.pending == Some(Pending::Create),
                row,
            });
        };
        if entry.in_sync(&row.digest) {
            return Ok(Verdict::Unchanged {
                row,
                restamp: false,
            });
        }
        if self.settings.mode == SyncMode::CreateOnly && entry.outcome == LastOutcome::Ok {
            return Ok(Verdict::Unchanged {
                row,
                restamp: false,
            });
        }
        let refresh = entry.pending.is_some();
        let applied = self.store.applied(&row.key)?.unwrap_or_default();
        let ops = diff::changes(self.resource, &applied, &row.shape);
        if ops.is_empty() && !refresh {
            return Ok(Verdict::Unchanged { row, restamp: true });
        }
        Ok(Verdict::Changed {
            row,
            object_id,
            refresh,
            ops,
        })
    }
}
