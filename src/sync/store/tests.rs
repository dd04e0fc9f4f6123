//! The sync tables: intents and outcomes, the run lock, commits shared by the keys in flight.

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

#[test]
fn a_second_run_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let first = SyncStore::open(&path).unwrap();
    let err = SyncStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("another run"), "{err}");
    // plan reads while a run holds the lock.
    assert!(SyncStore::open_read_only(&path).is_ok());
    drop(first);
    assert!(SyncStore::open(&path).is_ok());
}

#[test]
fn what_is_not_committed_is_lost_whole_and_an_intent_made_durable_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let shape = Shape::default();
    let digest = shape.digest();
    {
        let store = SyncStore::open(&path).unwrap();
        store.begin().unwrap();
        store
            .intend("a", Pending::Create, Origin::Created, Some(&shape))
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(store.durable()).unwrap();
        // Written after the last commit: lost with the process, as by a crash.
        store
            .settle("a", 7, Origin::Created, &shape, Some(&digest))
            .unwrap();
        store
            .intend("b", Pending::Create, Origin::Created, Some(&shape))
            .unwrap();
        std::mem::forget(store);
    }
    let store = SyncStore::open_read_only(&path).unwrap();
    let a = store.get("a").unwrap().unwrap();
    assert_eq!((a.object_id, a.pending), (None, Some(Pending::Create)));
    assert_eq!(store.get("b").unwrap(), None);
}

#[test]
fn the_sync_tables_come_with_the_state_files_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    drop(SyncStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, crate::state::schema::current_version());
    assert!(version >= 2, "the sync tables are migration 2");
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('sync_objects', 'runs')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2);
}

#[test]
fn gone_follows_the_keys_seen_and_the_state_after_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = SyncStore::open(&dir.path().join("s.sqlite")).unwrap();
    let shape = Shape::default();
    let digest = shape.digest();
    store
        .settle("a", 1, Origin::Created, &shape, Some(&digest))
        .unwrap();
    assert!(store.mark_seen("a").unwrap());
    assert_eq!(store.gone_count().unwrap(), 0);
    assert_eq!(store.gone("", 10).unwrap(), vec![]);
    // A key created after the count, never seen: gone.
    store
        .settle("b", 2, Origin::Created, &shape, Some(&digest))
        .unwrap();
    assert_eq!(store.gone("", 10).unwrap(), vec![("b".to_string(), 2)]);
    store.forget("b").unwrap();
    assert_eq!(store.gone_count().unwrap(), 0);
    // A new pass has seen nothing yet: everything created is gone.
    store.reset_seen().unwrap();
    assert_eq!(store.gone("", 10).unwrap(), vec![("a".to_string(), 1)]);
}
