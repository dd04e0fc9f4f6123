//! The Sync section of the Advanced tab (`[sync]`, docs/sync.md): keep Aircall in step with an
//! export. Offered only for what a sync can keep (contacts and users created with POST); the key
//! is picked among the dataset's attributes, those unique in the sample first. What a run would
//! do with each sample is judged by the sync's own classifier against the destination's state
//! file, read only.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use crate::destination::{Destination, MatchRule, SyncKey, SyncMode, SyncResource, SyncSettings};
use crate::records::{Record, RecordError, get_path};
use crate::sync::classify::Classifier;
use crate::sync::store::SyncStore;
use crate::tui::sections::{Note, Section, Setting};
use crate::tui::widgets::choice::ChoiceItem;

pub const ENABLED: &str = "sync";
pub const KEY: &str = "sync.key";
pub const MODE: &str = "sync.mode";
pub const MATCH: &str = "sync.match";
pub const MAX_DELETE: &str = "sync.max_delete_percent";

/// What a sync can keep: the destination creates contacts or users.
pub fn supported(d: &Destination) -> bool {
    SyncResource::of(d.request.method, &d.request.url).is_some()
}

fn on(d: &Destination) -> bool {
    d.sync.is_some()
}

fn settings_mut(d: &mut Destination) -> Option<&mut SyncSettings> {
    d.sync.as_mut()
}

/// How a new key finds an object that may exist already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Defaults,
    Off,
}

impl ChoiceItem for Matching {
    const ALL: &'static [Self] = &[Matching::Defaults, Matching::Off];
    fn label(self) -> &'static str {
        match self {
            Matching::Defaults => "defaults",
            Matching::Off => "none",
        }
    }
    fn explain(self) -> &'static str {
        match self {
            Matching::Defaults => {
                "a new key is looked up first (contacts: phone, then email; users: email)"
            }
            Matching::Off => "a new key is created without looking: trust the state alone",
        }
    }
}

impl ChoiceItem for SyncMode {
    const ALL: &'static [Self] = &[
        SyncMode::Upsert,
        SyncMode::CreateOnly,
        SyncMode::UpdateOnly,
        SyncMode::Mirror,
    ];
    fn label(self) -> &'static str {
        self.as_str()
    }
    fn explain(self) -> &'static str {
        match self {
            SyncMode::Upsert => "create new keys (after matching), update changed rows",
            SyncMode::CreateOnly => "create new keys only; known objects are never changed",
            SyncMode::UpdateOnly => "update objects that exist; never create",
            SyncMode::Mirror => {
                "upsert, and delete the objects it created whose rows left the export"
            }
        }
    }
}

pub fn section() -> Section {
    Section::new(
        "Sync",
        vec![
            Setting::toggle(
                ENABLED,
                "Sync",
                "send only changes",
                on,
                |d, enabled| match (enabled, d.sync.is_some()) {
                    (true, false) => {
                        d.sync = Some(SyncSettings {
                            key: SyncKey(Vec::new()),
                            mode: SyncMode::default(),
                            matching: None,
                            max_delete_percent: 10.0,
                        })
                    }
                    (false, true) => d.sync = None,
                    _ => {}
                },
            )
            .shown_when(|d| supported(d) || on(d))
            .with_notes(|d| {
                if on(d) && !supported(d) {
                    vec![Note::warn(
                        "⚠ sync keeps contacts (POST /v1/contacts) or users (POST /v2/users) only",
                    )]
                } else {
                    Vec::new()
                }
            }),
            Setting::pick(
                KEY,
                "Key",
                |d| {
                    d.sync
                        .as_ref()
                        .map(|s| s.key.to_string())
                        .unwrap_or_default()
                },
                |d, key| {
                    if let Some(settings) = settings_mut(d)
                        && settings.key.to_string() != key
                    {
                        settings.key = SyncKey(vec![key]);
                    }
                },
            )
            .shown_when(on)
            .with_notes(|_| {
                vec![Note::explain(
                    "identifies a row from one export to the next (a CRM id, not a phone number)",
                )]
            }),
            Setting::choice(
                MODE,
                "Mode",
                |d| d.sync.as_ref().map(|s| s.mode).unwrap_or_default(),
                |d, mode| {
                    if let Some(settings) = settings_mut(d) {
                        settings.mode = mode;
                    }
                },
            )
            .shown_when(on),
            Setting::choice(
                MATCH,
                "Match",
                |d| match d.sync.as_ref().and_then(|s| s.matching.as_ref()) {
                    Some(MatchRule::None) => Matching::Off,
                    _ => Matching::Defaults,
                },
                |d, matching| {
                    if let Some(settings) = settings_mut(d) {
                        match (matching, &settings.matching) {
                            (Matching::Off, _) => settings.matching = Some(MatchRule::None),
                            // A list the file gives keeps meaning "look up".
                            (Matching::Defaults, Some(MatchRule::On(_))) => {}
                            (Matching::Defaults, _) => settings.matching = None,
                        }
                    }
                },
            )
            .shown_when(on)
            .with_notes(
                |d| match d.sync.as_ref().and_then(|s| s.matching.as_ref()) {
                    Some(MatchRule::On(list)) => {
                        let names: Vec<&str> = list
                            .iter()
                            .map(|m| match m {
                                crate::destination::MatchOn::Phone => "phone",
                                crate::destination::MatchOn::Email => "email",
                            })
                            .collect();
                        vec![Note::explain(format!(
                            "the file says: by {}",
                            names.join(", then ")
                        ))]
                    }
                    _ => Vec::new(),
                },
            ),
            Setting::number(
                MAX_DELETE,
                "Max delete %",
                0..=100,
                "percent",
                |d| {
                    d.sync
                        .as_ref()
                        .map(|s| s.max_delete_percent.round() as u64)
                        .unwrap_or(10)
                },
                |d, percent: u64| {
                    if let Some(settings) = settings_mut(d) {
                        settings.max_delete_percent = percent as f64;
                    }
                },
            )
            .shown_when(|d| d.sync.as_ref().is_some_and(|s| s.mode == SyncMode::Mirror))
            .with_notes(|_| {
                vec![Note::explain(
                    "a run deleting more of the synced objects than this is refused",
                )]
            }),
        ],
    )
    .without_heading()
}

/// The attributes to offer as the key: those whose sample values are all present and distinct
/// first (named like an id before the others: a CRM id outlives a row number), then the rest,
/// each group in the dataset's order.
pub fn key_suggestions(
    attributes: &[String],
    records: &[Result<Record, RecordError>],
) -> Vec<String> {
    let read: Vec<&Record> = records.iter().filter_map(|r| r.as_ref().ok()).collect();
    let unique = |name: &str| {
        let mut seen = HashSet::new();
        !read.is_empty()
            && read.iter().all(|record| {
                let text = match get_path(&record.value, name) {
                    None | Some(Value::Null) => return false,
                    Some(Value::String(s)) => s.trim().to_string(),
                    Some(other) => other.to_string(),
                };
                !text.is_empty() && seen.insert(text)
            })
    };
    let id_like = |name: &str| {
        let plain: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        plain == "id" || plain.ends_with("id") || plain.ends_with("key")
    };
    let (unique_ones, rest): (Vec<String>, Vec<String>) =
        attributes.iter().cloned().partition(|a| unique(a));
    let (mut first, others): (Vec<String>, Vec<String>) =
        unique_ones.into_iter().partition(|a| id_like(a));
    first.extend(others);
    first.extend(rest);
    first
}

/// What a sync run would do with each sample record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOperations {
    /// The state knows no object yet: every new key is looked up (when matching) then created.
    pub first_sync: bool,
    /// Whether new keys are looked up before they are created.
    pub matching: bool,
    /// Record number and operation (`create`, `update`, `unchanged`, `invalid`, `duplicate_key`).
    pub operations: Vec<(u64, &'static str)>,
}

/// Judges `records` (in input order, so duplicates count as a run would) against the state file
/// at `state_path`, read only: a missing file is an empty state and is not created.
pub fn sample_operations(
    dest: &Destination,
    state_path: &Path,
    base_url: &str,
    records: &[Result<Record, RecordError>],
) -> Result<SampleOperations, String> {
    let settings = dest.sync.as_ref().ok_or("sync is off")?;
    let resource = SyncResource::of(dest.request.method, &dest.request.url)
        .ok_or("sync needs a destination that creates contacts or users")?;
    let plan = crate::request::Plan::new(dest, base_url).map_err(|e| e.to_string())?;
    let store = SyncStore::open_read_only(state_path).map_err(|e| e.to_string())?;
    let first_sync = store.synced_count().map_err(|e| e.to_string())? == 0;
    let classifier = Classifier {
        resource,
        settings,
        plan: &plan,
        store: &store,
        phones: crate::sync::phones::PhoneForm::of(dest),
    };
    let mut operations = Vec::with_capacity(records.len());
    for record in records {
        let no = match record {
            Ok(r) => r.no.0,
            Err(e) => e.no.0,
        };
        let verdict = classifier
            .classify(record.clone())
            .map_err(|e| e.to_string())?;
        operations.push((no, verdict.kind()));
    }
    Ok(SampleOperations {
        first_sync,
        matching: !settings.match_order(resource).is_empty(),
        operations,
    })
}

impl SampleOperations {
    /// One line per operation with the records it concerns, for the form.
    pub fn lines(&self) -> Vec<String> {
        let mut kinds: Vec<&'static str> = Vec::new();
        for (_, kind) in &self.operations {
            if !kinds.contains(kind) {
                kinds.push(kind);
            }
        }
        kinds
            .into_iter()
            .map(|kind| {
                let records: Vec<u64> = self
                    .operations
                    .iter()
                    .filter(|(_, k)| *k == kind)
                    .map(|(no, _)| *no)
                    .collect();
                let what = match kind {
                    "create" if self.first_sync && self.matching => {
                        "first sync: would look up then create"
                    }
                    "create" if self.first_sync => "first sync: would create",
                    "create" if self.matching => "new key: would look up then create",
                    other => other,
                };
                format!("{what}: {}", ranges(&records))
            })
            .collect()
    }
}

/// `1–4, 7, 9–10`.
fn ranges(numbers: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        parts.push(if start == end {
            format!("{start}")
        } else {
            format!("{start}–{end}")
        });
        i += 1;
    }
    let label = if numbers.len() == 1 {
        "record"
    } else {
        "records"
    };
    format!("{label} {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RecordNo;

    fn record(no: u64, fields: &[(&str, &str)]) -> Result<Record, RecordError> {
        let mut value = serde_json::Map::new();
        for (k, v) in fields {
            value.insert(k.to_string(), Value::String(v.to_string()));
        }
        Ok(Record {
            no: RecordNo(no),
            line: no + 1,
            value,
        })
    }

    #[test]
    fn unique_attributes_are_suggested_first() {
        let records = vec![
            record(
                1,
                &[
                    ("Row", "1"),
                    ("Country", "FR"),
                    ("Customer Id", "a1"),
                    ("Email", "x@y.z"),
                ],
            ),
            record(
                2,
                &[
                    ("Row", "2"),
                    ("Country", "FR"),
                    ("Customer Id", "a2"),
                    ("Email", ""),
                ],
            ),
        ];
        let attributes: Vec<String> = ["Row", "Country", "Email", "Customer Id"]
            .map(String::from)
            .to_vec();
        // Country repeats and Email is empty once: only Row and Customer Id are unique, the
        // id first.
        assert_eq!(
            key_suggestions(&attributes, &records),
            vec!["Customer Id", "Row", "Country", "Email"]
        );
    }

    #[test]
    fn the_section_is_offered_only_for_contacts_and_users() {
        let mut dest = crate::tui::model::starter_destination(Path::new("x.csv"), "c");
        dest.request.method = crate::destination::Method::Post;
        dest.request.url = "/v1/tags".into();
        let section = section();
        assert_eq!(section.shown_ids(&dest).count(), 0);
        dest.request.url = "/v1/contacts".into();
        assert_eq!(section.shown_ids(&dest).collect::<Vec<_>>(), vec![ENABLED]);
    }

    #[test]
    fn operations_read_as_ranges() {
        let ops = SampleOperations {
            first_sync: true,
            matching: true,
            operations: vec![(1, "create"), (2, "create"), (3, "invalid"), (4, "create")],
        };
        assert_eq!(
            ops.lines(),
            vec![
                "first sync: would look up then create: records 1–2, 4",
                "invalid: record 3"
            ]
        );
    }
}
