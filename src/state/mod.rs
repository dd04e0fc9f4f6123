//! The state store: one SQLite database per destination (WAL, bundled SQLite) holding its runs,
//! the inputs it read and every request's intent and outcome — the single crash-safe source of
//! truth a rerun, `history` and sync read.

mod input;
mod ledger;
mod prior;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

pub use input::InputIdentity;
pub use ledger::{AttemptId, Ledger, Outcome};
pub use prior::{PriorOutcomes, RecordState};

/// The environment variable naming what started a run (`manual`, `schedule`, `input_change`).
pub const TRIGGER_ENV: &str = "AIRCALL_DEST_TRIGGER";

/// Problems opening, reading or writing a state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "state file {path} has schema version {found}, but this aircall-dest knows versions up to {known}: \
         it was written by a newer aircall-dest. Use that version (or move the file away to start over)"
    )]
    TooNew {
        path: String,
        found: u32,
        known: u32,
    },
    #[error("state file {path}: {message}")]
    Corrupt { path: String, message: String },
    #[error(
        "another run of this destination is under way (it holds {path}); \
         wait for it to end: two runs at once would both send the records not yet done"
    )]
    Busy { path: String },
    #[error(
        "the input {input} changed since an earlier run of this destination (state file {path}: {was}; now: {now}).\n\
         Records are known by their position, so mixing the two would skip or repeat the wrong ones.\n\
         Run again with --restart to forget the earlier run and send this input from the start."
    )]
    InputChanged {
        path: String,
        input: String,
        was: String,
        now: String,
    },
    #[error("state file {path}: the writer stopped ({message})")]
    WriterGone { path: String, message: String },
}

/// A row of `runs`.
pub type RunId = i64;

/// One past run, as `history` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub trigger: String,
    pub input: Option<String>,
    pub exit_code: Option<i64>,
    /// Exactly the object `run --json` printed.
    pub summary_json: Option<String>,
    pub first_error: Option<String>,
}

const RUN_COLUMNS: &str =
    "id, started_at_ms, finished_at_ms, trigger, input, exit_code, summary_json, first_error";

fn run_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        started_at_ms: row.get(1)?,
        finished_at_ms: row.get(2)?,
        trigger: row.get(3)?,
        input: row.get(4)?,
        exit_code: row.get(5)?,
        summary_json: row.get(6)?,
        first_error: row.get(7)?,
    })
}

/// An open state file.
#[derive(Debug)]
pub struct StateStore {
    conn: Connection,
    path: PathBuf,
}

/// Milliseconds since the UNIX epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(0)
}

/// Opens a connection the way every user of a state file does: WAL, full sync, a wait on a
/// busy file instead of an instant error.
fn connect(path: &Path) -> Result<Connection, StateError> {
    let shown = path.display().to_string();
    let sql = |source| StateError::Sql {
        path: shown.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::create_private_dir_all(dir).map_err(|source| StateError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    // Created 0600 before SQLite sees it; SQLite gives its -wal and -shm files the same mode.
    if !path.exists() {
        crate::files::open_private_append(path).map_err(|source| StateError::Io {
            path: shown.clone(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StateError::Corrupt {
            path: shown,
            message: format!("cannot switch to WAL (journal mode stays {mode})"),
        });
    }
    // FULL: in WAL mode every commit syncs the log, so a committed intent survives power loss.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sql)?;
    Ok(conn)
}

impl StateStore {
    /// Opens (creating when missing) and migrates the state file at `path`; refuses a file of a
    /// newer schema than this build knows.
    pub fn open(path: &Path) -> Result<StateStore, StateError> {
        let mut conn = connect(path)?;
        let shown = path.display().to_string();
        let check: Result<String, _> = conn.query_row("PRAGMA quick_check", [], |row| row.get(0));
        match check {
            Ok(answer) if answer == "ok" => {}
            Ok(answer) => {
                return Err(StateError::Corrupt {
                    path: shown,
                    message: answer,
                });
            }
            Err(source) => {
                return Err(StateError::Sql {
                    path: shown,
                    source,
                });
            }
        }
        schema::migrate(&mut conn, &shown)?;
        Ok(StateStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The one naming rule: `<destination file stem>--<hash of its absolute path>.sqlite3`.
    pub fn path_for(state_dir: &Path, destination_path: &Path) -> PathBuf {
        let canonical =
            std::fs::canonicalize(destination_path).unwrap_or_else(|_| destination_path.into());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let stem: String = destination_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        state_dir.join(format!("{stem}--{hash}.sqlite3"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> StateError {
        StateError::Sql {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Records that a run began; `trigger` is what started it, `input` what it reads.
    pub fn begin_run(&self, trigger: &str, input: Option<&str>) -> Result<RunId, StateError> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at_ms, trigger, input) VALUES (?1, ?2, ?3)",
                params![now_ms(), trigger, input],
            )
            .map_err(|e| self.sql(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a run ended: its exit code, the `run --json` object and the first error.
    pub fn finish_run(
        &self,
        run: RunId,
        exit_code: i32,
        summary_json: &str,
        first_error: Option<&str>,
    ) -> Result<(), StateError> {
        let changed = self
            .conn
            .execute(
                "UPDATE runs SET finished_at_ms = ?2, exit_code = ?3, summary_json = ?4, first_error = ?5 WHERE id = ?1",
                params![run, now_ms(), exit_code, summary_json, first_error],
            )
            .map_err(|e| self.sql(e))?;
        if changed == 0 {
            return Err(StateError::Corrupt {
                path: self.path.display().to_string(),
                message: format!("no run {run} to finish"),
            });
        }
        Ok(())
    }

    /// Up to `limit` runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StateError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = statement
            .query_map([limit], run_record)
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.sql(e))
    }

    /// One run by id.
    pub fn run(&self, id: RunId) -> Result<Option<RunRecord>, StateError> {
        self.conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                run_record,
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The connection, for modules keeping their own tables in this file (sync): their
    /// statements and transactions run on it.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// The trigger of this process's run, from [`TRIGGER_ENV`]; `manual` when unset or unknown.
pub fn trigger_from_env() -> String {
    trigger_from(std::env::var(TRIGGER_ENV).ok().as_deref())
}

/// The trigger a value of [`TRIGGER_ENV`] names; `manual` for none or one not known.
pub fn trigger_from(value: Option<&str>) -> String {
    match value {
        Some(value @ ("manual" | "schedule" | "input_change")) => value.to_string(),
        Some(other) => {
            tracing::warn!(
                "{TRIGGER_ENV}={other:?} is not a known trigger; the run is recorded as manual"
            );
            "manual".to_string()
        }
        None => "manual".to_string(),
    }
}

#[cfg(test)]
mod tests;
