//! The sync tables: for each key, the Aircall object it became, whether this destination created
//! or only matched it, the shape last applied (with phone and email detail ids), a digest of it
//! and the last outcome; and the intent of a write, made durable before the request leaves.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::shape::Shape;
use crate::state::{StateError, StateStore};

/// The sync tables: migration 2 of the state file (`crate::state::schema::MIGRATIONS`).
pub const MIGRATION: &str = "
CREATE TABLE sync_objects (
    key TEXT PRIMARY KEY NOT NULL,
    object_id INTEGER,
    origin TEXT NOT NULL CHECK (origin IN ('created', 'matched')),
    digest BLOB,
    applied TEXT,
    outcome TEXT NOT NULL,
    pending TEXT
) WITHOUT ROWID;
CREATE INDEX sync_objects_object_id ON sync_objects (object_id);
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot open the sync state: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the sync state: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the sync state holds a record it cannot read for key {key:?}: {message}")]
    Corrupt { key: String, message: String },
}

/// Who brought an object into the sync: mirror deletes only what it created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Created,
    Matched,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "created",
            Origin::Matched => "matched",
        }
    }
}

/// How the last write for a key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastOutcome {
    /// Applied: the object holds the stored shape.
    Ok,
    /// Refused by the API, or invalid: not in sync, tried again next run.
    Rejected,
}

/// A write about to leave, stored first so a crash leaves a trace to reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pending {
    Create,
    Update,
    Delete,
}

/// What the state knows of one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub object_id: Option<u64>,
    pub origin: Origin,
    pub digest: Option<[u8; 16]>,
    pub outcome: LastOutcome,
    pub pending: Option<Pending>,
}

impl Entry {
    /// In sync with `digest`: nothing to send for it.
    pub fn in_sync(&self, digest: &[u8; 16]) -> bool {
        self.object_id.is_some()
            && self.pending.is_none()
            && self.outcome == LastOutcome::Ok
            && self.digest.as_ref() == Some(digest)
    }
}

/// The sync state of one destination.
pub struct SyncStore {
    conn: Connection,
    state: Option<StateStore>,
}

impl std::fmt::Debug for SyncStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncStore").finish_non_exhaustive()
    }
}

impl SyncStore {
    /// Opens (creating and migrating) the destination's state file at `path` for a run: the
    /// state store's file, whose migrations include the sync tables; WAL, every commit synced.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let state = StateStore::open(path)?;
        let shown = path.display().to_string();
        let wrap = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        let store = Self {
            conn,
            state: Some(state),
        };
        store.prepare_seen()?;
        Ok(store)
    }

    /// Opens the state for reading only (`plan`): a missing file, or one from before the sync
    /// tables, reads as an empty state and is neither created nor upgraded.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let wrap = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let existing = if path.exists() {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(wrap)?;
            let found: u32 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(wrap)?;
            let known = crate::state::schema::current_version();
            if found > known {
                return Err(StoreError::State(StateError::TooNew {
                    path: shown,
                    found,
                    known,
                }));
            }
            let has_tables: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sync_objects')",
                    [],
                    |r| r.get(0),
                )
                .map_err(wrap)?;
            has_tables.then_some(conn)
        } else {
            None
        };
        let conn = match existing {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_in_memory().map_err(wrap)?;
                conn.execute_batch(MIGRATION).map_err(wrap)?;
                conn
            }
        };
        let store = Self { conn, state: None };
        store.prepare_seen()?;
        Ok(store)
    }

    /// The state store of the file, for the run history (`None` when opened read-only).
    pub fn runs(&self) -> Option<&StateStore> {
        self.state.as_ref()
    }

    /// The keys read in this pass live in a temporary table on disk, so a million-row export
    /// costs no memory to deduplicate and to find what left it.
    fn prepare_seen(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "PRAGMA temp_store = FILE;
             PRAGMA cache_size = -8192;
             CREATE TEMP TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
             DELETE FROM temp.seen;",
        )?;
        Ok(())
    }

    /// Notes that `key` was read; false when it was already read in this pass (a duplicate).
    pub fn mark_seen(&self, key: &str) -> Result<bool, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO temp.seen (key) VALUES (?1)")?;
        Ok(statement.execute([key])? == 1)
    }

    /// Starts a new pass over the input (forgets the keys seen).
    pub fn reset_seen(&self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM temp.seen", [])?;
        Ok(())
    }

    /// Groups many small writes into one transaction (plan's reads and seen keys).
    pub fn begin(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN")?;
        Ok(())
    }

    pub fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    pub fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT object_id, origin, digest, outcome, pending FROM sync_objects WHERE key = ?1",
        )?;
        let row = statement
            .query_row([key], |row| {
                Ok((
                    row.get::<_, Option<i64>>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<Vec<u8>>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })
            .optional()?;
        let Some((object_id, origin, digest, outcome, pending)) = row else {
            return Ok(None);
        };
        let corrupt = |message: String| StoreError::Corrupt {
            key: key.to_string(),
            message,
        };
        let pending = match pending {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Pending>(&text)
                    .map_err(|e| corrupt(format!("pending {text:?}: {e}")))?,
            ),
        };
        Ok(Some(Entry {
            object_id: object_id.and_then(|id| u64::try_from(id).ok()),
            origin: if origin == "matched" {
                Origin::Matched
            } else {
                Origin::Created
            },
            digest: digest.and_then(|d| <[u8; 16]>::try_from(d.as_slice()).ok()),
            outcome: if outcome == "ok" {
                LastOutcome::Ok
            } else {
                LastOutcome::Rejected
            },
            pending,
        }))
    }

    /// The shape last applied to `key`'s object, when one was.
    pub fn applied(&self, key: &str) -> Result<Option<Shape>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT applied FROM sync_objects WHERE key = ?1")?;
        let text: Option<Option<String>> =
            statement.query_row([key], |row| row.get(0)).optional()?;
        match text.flatten() {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    key: key.to_string(),
                    message: format!("applied shape: {e}"),
                }),
        }
    }

    /// Durably notes the intent to write `key` before the request leaves. A key never seen gets
    /// a row with no object yet (`origin` says what it will be).
    pub fn intend(
        &self,
        key: &str,
        pending: Pending,
        origin: Origin,
        wanted: Option<&Shape>,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(&pending).unwrap_or_default();
        let wanted = wanted.map(|shape| serde_json::to_string(shape).unwrap_or_default());
        // A create in doubt keeps the shape it asked for, so it can be looked up even after its
        // row left the export.
        self.conn.execute(
            "INSERT INTO sync_objects (key, object_id, origin, applied, outcome, pending)
             VALUES (?1, NULL, ?2, ?4, 'rejected', ?3)
             ON CONFLICT (key) DO UPDATE SET pending = excluded.pending,
                applied = CASE WHEN sync_objects.object_id IS NULL THEN excluded.applied
                               ELSE sync_objects.applied END",
            params![key, origin.as_str(), text, wanted],
        )?;
        Ok(())
    }

    /// The object `key` became (or was matched to), with the shape it now holds. `in_sync`
    /// says whether that shape is the one asked for (`digest`), ending the pending intent.
    pub fn settle(
        &self,
        key: &str,
        object_id: u64,
        origin: Origin,
        applied: &Shape,
        digest: Option<&[u8; 16]>,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(applied).unwrap_or_default();
        let id = i64::try_from(object_id).unwrap_or(i64::MAX);
        self.conn.execute(
            "INSERT INTO sync_objects (key, object_id, origin, digest, applied, outcome, pending)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)
             ON CONFLICT (key) DO UPDATE SET object_id = excluded.object_id,
                origin = excluded.origin, digest = excluded.digest, applied = excluded.applied,
                outcome = excluded.outcome, pending = NULL",
            params![
                key,
                id,
                origin.as_str(),
                digest.map(|d| d.to_vec()),
                text,
                if digest.is_some() { "ok" } else { "rejected" }
            ],
        )?;
        Ok(())
    }

    /// A write for `key` was refused (or its record was invalid): not in sync, tried again next
    /// run. The pending intent ends: the API answered, so nothing is in doubt.
    pub fn reject(&self, key: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sync_objects SET outcome = 'rejected', pending = NULL WHERE key = ?1",
            [key],
        )?;
        Ok(())
    }

    /// The key that owns Aircall object `object_id`, if any.
    pub fn owner_of(&self, object_id: u64) -> Result<Option<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT key FROM sync_objects WHERE object_id = ?1 LIMIT 1")?;
        let id = i64::try_from(object_id).unwrap_or(i64::MAX);
        Ok(statement.query_row([id], |row| row.get(0)).optional()?)
    }

    /// Records that an object already holds what `digest` asks for (an emptied field, which
    /// Aircall cannot blank, changes the digest and nothing else; or a refused write whose
    /// retry found nothing left to send).
    pub fn note_digest(&self, key: &str, digest: &[u8; 16]) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sync_objects SET digest = ?2, outcome = 'ok'
             WHERE key = ?1 AND pending IS NULL AND object_id IS NOT NULL",
            params![key, digest.to_vec()],
        )?;
        Ok(())
    }

    /// Forgets `key` (its object was deleted, or its create was refused before it existed).
    pub fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sync_objects WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Keys with an object, known to this state.
    pub fn synced_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sync_objects WHERE object_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Objects this destination created whose keys were not seen in this pass: what a mirror
    /// deletes. At most `limit`, in key order after `after`.
    pub fn gone(&self, after: &str, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT o.key, o.object_id FROM sync_objects o
             WHERE o.origin = 'created' AND o.object_id IS NOT NULL AND o.key > ?1
               AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.key = o.key)
             ORDER BY o.key LIMIT ?2",
        )?;
        let rows = statement.query_map(params![after, limit as i64], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, id) = row?;
            out.push((key, u64::try_from(id).unwrap_or(0)));
        }
        Ok(out)
    }

    /// How many objects [`SyncStore::gone`] would list.
    pub fn gone_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sync_objects o
             WHERE o.origin = 'created' AND o.object_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.key = o.key)",
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Keys whose create was left in doubt and whose row is not in this export any more: a
    /// crash between the intent and the answer, for a row that then left the export.
    pub fn orphaned_creates(&self) -> Result<Vec<String>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT o.key FROM sync_objects o WHERE o.object_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.key = o.key)",
        )?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_settle_and_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let store = SyncStore::open(&path).unwrap();
        store
            .intend("a", Pending::Create, Origin::Created, None)
            .unwrap();
        let entry = store.get("a").unwrap().unwrap();
        assert_eq!(entry.object_id, None);
        assert_eq!(entry.pending, Some(Pending::Create));
        let shape = Shape::default();
        let digest = shape.digest();
        store
            .settle("a", 7, Origin::Created, &shape, Some(&digest))
            .unwrap();
        store
            .settle("b", 8, Origin::Matched, &shape, Some(&digest))
            .unwrap();
        assert!(store.get("a").unwrap().unwrap().in_sync(&digest));
        drop(store);
        let store = SyncStore::open(&path).unwrap();
        assert_eq!(store.synced_count().unwrap(), 2);
        // Nothing seen: only the created object is gone, never the matched one.
        assert_eq!(store.gone("", 10).unwrap(), vec![("a".to_string(), 7)]);
        assert!(store.mark_seen("a").unwrap());
        assert!(!store.mark_seen("a").unwrap());
        assert_eq!(store.gone_count().unwrap(), 0);
        store.reject("a").unwrap();
        assert!(!store.get("a").unwrap().unwrap().in_sync(&digest));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SyncStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("99") && err.contains("s.sqlite"), "{err}");
    }

    #[test]
    fn read_only_of_a_missing_file_is_empty_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.sqlite");
        let store = SyncStore::open_read_only(&path).unwrap();
        assert_eq!(store.synced_count().unwrap(), 0);
        assert!(store.mark_seen("x").unwrap());
        assert!(!path.exists());
    }
}
