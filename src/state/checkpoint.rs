//! Checkpoints off the commit path. The run's writer turns SQLite's automatic checkpoint off
//! (it would copy the log's pages into the database file and sync it inside some commit, while
//! every delivery waits on that commit); this thread, on its own connection, copies them after
//! every few commits instead. A commit stays durable exactly as before: its log frames are
//! synced by the commit itself, and a checkpoint only moves already durable pages.
//!
//! The log cannot grow without bound: the checkpointer reports how many frames the log held,
//! and past [`LOG_FRAMES_LIMIT`] the writer checkpoints itself between two commits, after which
//! SQLite starts the log again from its beginning.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;

/// Commits between two checkpoints by the checkpointer (SQLite's own default is every 1,000
/// pages of log, a few commits' worth of pages each).
const COMMITS_PER_CHECKPOINT: u32 = 64;

/// Log frames (pages, 4 KiB each by default) past which the writer checkpoints itself: about
/// 64 MiB, reached only when the checkpointer cannot keep up.
pub(super) const LOG_FRAMES_LIMIT: i64 = 16_384;

/// A checkpoint's answer: whether it was blocked, the frames in the log, the frames copied.
pub(super) fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}

/// The checkpointer thread, fed one message per commit.
pub(super) struct Checkpointer {
    tx: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Frames in the log at the last checkpoint (by either thread).
    pub(super) log_frames: Arc<AtomicI64>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`; `None` when that fails, and the
    /// writer then checkpoints by itself (at [`LOG_FRAMES_LIMIT`]) and the run goes on.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = match super::connect(path) {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!("state checkpoints run inside commits: {err}");
                return None;
            }
        };
        let log_frames = Arc::new(AtomicI64::new(0));
        let frames = Arc::clone(&log_frames);
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("state-checkpoint".into())
            .spawn(move || checkpoint_loop(&conn, &rx, &frames));
        match thread {
            Ok(thread) => Some(Checkpointer {
                tx: Some(tx),
                thread: Some(thread),
                log_frames,
            }),
            Err(err) => {
                tracing::warn!("state checkpoints run inside commits: {err}");
                None
            }
        }
    }

    /// Tells the thread one more commit landed.
    pub(super) fn committed(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(());
        }
    }

    /// Stops the thread (after its checkpoint under way, if any).
    pub(super) fn stop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn checkpoint_loop(conn: &Connection, rx: &mpsc::Receiver<()>, log_frames: &AtomicI64) {
    let mut commits = 0u32;
    while rx.recv().is_ok() {
        commits += 1;
        while rx.try_recv().is_ok() {
            commits += 1;
        }
        if commits < COMMITS_PER_CHECKPOINT {
            continue;
        }
        commits = 0;
        match checkpoint(conn) {
            Ok((_, frames, _)) => log_frames.store(frames, Ordering::Relaxed),
            Err(err) => tracing::debug!("state checkpoint: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL database whose own connection never checkpoints, with `commits` commits in its log.
    fn logged(path: &Path, commits: u32) -> Connection {
        let conn = crate::state::connect(path).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..commits {
            conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                .unwrap();
        }
        conn
    }

    #[test]
    fn the_checkpointer_copies_the_log_into_the_database_file_after_enough_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let _writer = logged(&path, COMMITS_PER_CHECKPOINT);
        let before = std::fs::metadata(&path).unwrap().len();
        let mut checkpointer = Checkpointer::start(&path).unwrap();
        for _ in 0..COMMITS_PER_CHECKPOINT {
            checkpointer.committed();
        }
        checkpointer.stop();
        let after = std::fs::metadata(&path).unwrap().len();
        // 64 rows of 3,000 bytes are at least 64 pages of 4 KiB that were only in the log.
        assert!(after >= before + 64 * 4096, "{before} -> {after}");
        assert!(checkpointer.log_frames.load(Ordering::Relaxed) >= 64);
    }

    #[test]
    fn fewer_commits_leave_the_log_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let _writer = logged(&path, 8);
        let before = std::fs::metadata(&path).unwrap().len();
        let mut checkpointer = Checkpointer::start(&path).unwrap();
        for _ in 0..COMMITS_PER_CHECKPOINT - 1 {
            checkpointer.committed();
        }
        checkpointer.stop();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), before);
        assert_eq!(checkpointer.log_frames.load(Ordering::Relaxed), 0);
    }
}
