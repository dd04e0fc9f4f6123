//! The sync tables: for each key, the Aircall object it became, whether this destination created
//! or only matched it, the shape last applied (with phone and email detail ids), a digest of it
//! and the last outcome; and the intent of a write, made durable before the request leaves.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::fs::{File, TryLockError};
use std::ops::Deref;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::shape::Shape;
use crate::state::{RunId, StateError, StateStore};

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

/// The most memory (KiB) the table of keys seen keeps cached: a million keys of eight
/// characters take about 15 MB of it.
const SEEN_CACHE_KIB: u32 = 32 * 1024;

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
    #[error("the sync state was opened read-only, for `plan`, not for a run")]
    ReadOnly,
    #[error("the sync state holds a record it cannot read for key {key:?}: {message}")]
    Corrupt { key: String, message: String },
}

fn corrupt(key: &str, message: String) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        message,
    }
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

/// The state file's one connection: a run's, opened, checked and migrated by the state store
/// (which also keeps the run history on it); or `plan`'s, read-only and never migrated.
enum Db {
    Run(RefCell<StateStore>),
    ReadOnly(Connection),
}

/// A borrow of the connection, held only between two awaits.
enum Conn<'a> {
    Run(RefMut<'a, Connection>),
    ReadOnly(&'a Connection),
}

impl Deref for Conn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Conn::Run(conn) => conn,
            Conn::ReadOnly(conn) => conn,
        }
    }
}

/// The sync state of one destination.
pub struct SyncStore {
    db: Db,
    /// A run's lock on the destination (the state store's lock file): two runs at once would
    /// both create what neither had stored yet. Released by the OS when the process ends.
    _lock: Option<File>,
    /// A transaction is open: writes wait in it for the next commit.
    open: Cell<bool>,
    /// Commits made so far, so a key waiting for its intent to be durable knows when another
    /// key's commit carried it.
    commits: Cell<u64>,
}

impl std::fmt::Debug for SyncStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncStore").finish_non_exhaustive()
    }
}

/// Takes the run lock of the state file at `path`: the same lock file, taken the same way, as
/// a plain run's ledger (`crate::state::ledger`), so a sync and any other run of the destination
/// exclude each other.
fn lock_runs(path: &Path) -> Result<File, StoreError> {
    let shown = path.display().to_string();
    let io = |source| {
        StoreError::State(StateError::Io {
            path: shown.clone(),
            source,
        })
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::create_private_dir_all(dir).map_err(io)?;
    }
    let lock = crate::files::open_private_append(&path.with_extension("lock")).map_err(io)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => Err(StoreError::State(StateError::Busy {
            path: shown.clone(),
        })),
        Err(TryLockError::Error(source)) => Err(io(source)),
    }
}

impl SyncStore {
    /// Opens the destination's state file at `path` for a run: takes the destination's run
    /// lock, then opens it through the state store (created when missing, checked, migrated to
    /// the version whose migration 2 is the sync tables; WAL, every commit synced). The sync
    /// tables and the run history share that one connection.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let lock = lock_runs(path)?;
        let state = StateStore::open(path)?;
        let store = Self {
            db: Db::Run(RefCell::new(state)),
            _lock: Some(lock),
            open: Cell::new(false),
            commits: Cell::new(0),
        };
        store.prepare_seen()?;
        Ok(store)
    }

    /// Opens the state for reading only (`plan`): a missing file, or one from before the sync
    /// tables, reads as an empty state and is neither created nor upgraded. It takes no lock:
    /// it reads the last committed state, even while a run goes on.
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
        let store = Self {
            db: Db::ReadOnly(conn),
            _lock: None,
            open: Cell::new(false),
            commits: Cell::new(0),
        };
        store.prepare_seen()?;
        Ok(store)
    }

    fn conn(&self) -> Conn<'_> {
        match &self.db {
            Db::Run(state) => Conn::Run(RefMut::map(state.borrow_mut(), StateStore::connection)),
            Db::ReadOnly(conn) => Conn::ReadOnly(conn),
        }
    }

    /// The state store of the file, for the run history; a read-only store has none.
    fn history(&self) -> Result<Ref<'_, StateStore>, StoreError> {
        match &self.db {
            Db::Run(state) => Ok(state.borrow()),
            Db::ReadOnly(_) => Err(StoreError::ReadOnly),
        }
    }

    /// Records in the history that a run began (as `run` does); its writes join the open
    /// transaction, if any.
    pub fn begin_run(&self, trigger: &str, input: Option<&str>) -> Result<RunId, StoreError> {
        Ok(self.history()?.begin_run(trigger, input)?)
    }

    /// Records how run `run` ended: exit code, `run --json` object and first error.
    pub fn finish_run(
        &self,
        run: RunId,
        exit_code: i32,
        summary_json: &str,
        first_error: Option<&str>,
    ) -> Result<(), StoreError> {
        Ok(self
            .history()?
            .finish_run(run, exit_code, summary_json, first_error)?)
    }

    /// The keys read in this pass live in a temporary table, kept in its own page cache of up
    /// to [`SEEN_CACHE_KIB`] and on disk beyond, so memory stays bounded however long the export.
    ///
    /// The temporary table needs its own cache size: left at SQLite's default for it, the bundled
    /// SQLite (built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`, so all page caches share one LRU)
    /// recycled a page of the state file for nearly every page the table touched, and each state
    /// lookup read its three B-tree pages from the file again (3.5 million `pread`s for a
    /// million rows, against 75,000 with the table's own cache).
    fn prepare_seen(&self) -> Result<(), StoreError> {
        self.conn().execute_batch(&format!(
            "PRAGMA temp_store = FILE;
             PRAGMA cache_size = -8192;
             CREATE TEMP TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
             PRAGMA temp.cache_size = -{SEEN_CACHE_KIB};
             DELETE FROM temp.seen;",
        ))?;
        Ok(())
    }

    /// Notes that `key` was read; false when it was already read in this pass (a duplicate).
    pub fn mark_seen(&self, key: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("INSERT OR IGNORE INTO temp.seen (key) VALUES (?1)")?;
        Ok(statement.execute([key])? == 1)
    }

    /// Starts a new pass over the input (forgets the keys seen).
    pub fn reset_seen(&self) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM temp.seen", [])?;
        Ok(())
    }

    /// Opens a transaction (when none is open): the writes that follow wait in it, unsynced,
    /// until [`SyncStore::commit`] or [`SyncStore::durable`].
    pub fn begin(&self) -> Result<(), StoreError> {
        if !self.open.get() {
            self.conn().execute_batch("BEGIN")?;
            self.open.set(true);
        }
        Ok(())
    }

    /// Commits the open transaction, if any: everything written so far is on disk.
    pub fn commit(&self) -> Result<(), StoreError> {
        if self.open.replace(false) {
            self.conn().execute_batch("COMMIT")?;
            self.commits.set(self.commits.get() + 1);
        }
        Ok(())
    }

    /// Returns once everything this key wrote is on disk — its intent, before its request
    /// leaves. Keys in flight at once share one commit (one sync to disk): this first lets the
    /// others reach their own intents, then commits unless one of them already did, and opens
    /// the next transaction.
    pub async fn durable(&self) -> Result<(), StoreError> {
        if !self.open.get() {
            return Ok(());
        }
        let mine = self.commits.get();
        tokio::task::yield_now().await;
        if self.commits.get() > mine || !self.open.get() {
            return Ok(());
        }
        self.commit()?;
        self.begin()
    }

    /// What the state knows of `key`. Read once per row of every pass, so the columns are read
    /// in place, without allocating.
    pub fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
            "SELECT object_id, origin, digest, outcome, pending FROM sync_objects WHERE key = ?1",
        )?;
        let mut rows = statement.query([key])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let text = |i: usize| -> Result<Option<&[u8]>, StoreError> {
            Ok(match row.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(bytes),
                other => {
                    return Err(corrupt(
                        key,
                        format!("column {i} holds {:?}", other.data_type()),
                    ));
                }
            })
        };
        let pending = match text(4)? {
            None => None,
            Some(text) => Some(serde_json::from_slice::<Pending>(text).map_err(|e| {
                corrupt(
                    key,
                    format!("pending {:?}: {e}", String::from_utf8_lossy(text)),
                )
            })?),
        };
        Ok(Some(Entry {
            object_id: row
                .get::<_, Option<i64>>(0)?
                .and_then(|id| u64::try_from(id).ok()),
            origin: if text(1)? == Some(b"matched".as_slice()) {
                Origin::Matched
            } else {
                Origin::Created
            },
            digest: text(2)?.and_then(|d| <[u8; 16]>::try_from(d).ok()),
            outcome: if text(3)? == Some(b"ok".as_slice()) {
                LastOutcome::Ok
            } else {
                LastOutcome::Rejected
            },
            pending,
        }))
    }

    /// The shape last applied to `key`'s object, when one was.
    pub fn applied(&self, key: &str) -> Result<Option<Shape>, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT applied FROM sync_objects WHERE key = ?1")?;
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
        self.conn().execute(
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
        self.conn().execute(
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
        self.conn().execute(
            "UPDATE sync_objects SET outcome = 'rejected', pending = NULL WHERE key = ?1",
            [key],
        )?;
        Ok(())
    }

    /// The key that owns Aircall object `object_id`, if any.
    pub fn owner_of(&self, object_id: u64) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare_cached("SELECT key FROM sync_objects WHERE object_id = ?1 LIMIT 1")?;
        let id = i64::try_from(object_id).unwrap_or(i64::MAX);
        Ok(statement.query_row([id], |row| row.get(0)).optional()?)
    }

    /// Records that an object already holds what `digest` asks for (an emptied field, which
    /// Aircall cannot blank, changes the digest and nothing else; or a refused write whose
    /// retry found nothing left to send).
    pub fn note_digest(&self, key: &str, digest: &[u8; 16]) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sync_objects SET digest = ?2, outcome = 'ok'
             WHERE key = ?1 AND pending IS NULL AND object_id IS NOT NULL",
            params![key, digest.to_vec()],
        )?;
        Ok(())
    }

    /// Forgets `key` (its object was deleted, or its create was refused before it existed).
    pub fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM sync_objects WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Keys with an object, known to this state.
    pub fn synced_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM sync_objects WHERE object_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Objects this destination created whose keys were not seen in this pass: what a mirror
    /// deletes. At most `limit`, in key order after `after`.
    pub fn gone(&self, after: &str, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(
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
        let n: i64 = self.conn().query_row(
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
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT o.key FROM sync_objects o WHERE o.object_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.key = o.key)",
        )?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests;
