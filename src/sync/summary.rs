//! What `run --json` prints for a sync: the first version's summary, field for field, and the
//! sync's own counts. Every record read is still counted once in the first version's fields:
//! created and updated records in `delivered`; unchanged ones (and, in `update_only`, new keys
//! that matched nothing) in `skipped_already_done`; duplicate keys in `invalid`.

use serde::Serialize;

use crate::runner::Summary;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    #[serde(flatten)]
    pub base: Summary,
    pub created: u64,
    pub updated: u64,
    /// Objects deleted (mirror): keys, not records read, so outside the record counts.
    pub deleted: u64,
    pub unchanged: u64,
    pub duplicate_key: u64,
    /// New keys that found an existing object and took it over.
    pub matched: u64,
    /// `update_only`: new keys that matched nothing, so nothing was sent.
    pub unmatched: u64,
    /// Requests spent on matching (search, get by email, listing pages).
    pub lookups: u64,
    /// Deletes the API refused; tried again next run.
    pub delete_failed: u64,
}

impl SyncSummary {
    pub fn to_text(&self) -> String {
        format!(
            "{}\nsync: {} created, {} updated ({} matched), {} deleted, {} unchanged, {} duplicate key(s), {} lookup(s)",
            self.base.to_text(),
            self.created,
            self.updated,
            self.matched,
            self.deleted,
            self.unchanged,
            self.duplicate_key,
            self.lookups
        )
    }
}
