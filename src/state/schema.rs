//! The state file's schema: an ordered list of migrations, applied in one transaction each and
//! counted in `PRAGMA user_version`, so a file is always at a version this build understands.
//!
//! Migrations are append-only: once one is merged it is never edited; a change is a new entry.

use rusqlite::Connection;

use super::StateError;

/// Migration `i` (0-based) takes a file from version `i` to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, the inputs records are numbered in, and every request's intent and outcome.
    "
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER,
        trigger TEXT NOT NULL DEFAULT 'manual',
        input TEXT,
        exit_code INTEGER,
        summary_json TEXT,
        first_error TEXT
    );
    CREATE TABLE inputs (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER,
        sha256 TEXT NOT NULL,
        hashed_bytes INTEGER NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        retired_at_ms INTEGER
    );
    CREATE UNIQUE INDEX inputs_current ON inputs(key) WHERE retired_at_ms IS NULL;
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        input_id INTEGER NOT NULL REFERENCES inputs(id),
        run_id INTEGER REFERENCES runs(id),
        first_record INTEGER NOT NULL,
        records TEXT NOT NULL,
        method TEXT,
        url TEXT,
        sent_at_ms INTEGER,
        outcome TEXT,
        outcome_at_ms INTEGER,
        status INTEGER,
        detail TEXT
    );
    CREATE INDEX attempts_by_input ON attempts(input_id, id);
    CREATE INDEX attempts_by_record ON attempts(input_id, first_record);
    CREATE INDEX attempts_by_run ON attempts(run_id);
    ",
    // 2: sync: each key's Aircall object, its applied shape and digest, and pending intents.
    crate::sync::store::MIGRATION,
];

/// The version this build writes and reads.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Brings the file to the current version, or refuses one written by a newer build.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StateError> {
    let sql = |source| StateError::Sql {
        path: path.to_string(),
        source,
    };
    let found: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql)?;
    let known = current_version();
    if found > known {
        return Err(StateError::TooNew {
            path: path.to_string(),
            found,
            known,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        // Another process may have migrated between our read and this lock.
        let now: u32 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql)?;
        if now as usize > index {
            continue;
        }
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}
