//! The store's guarantees, each on a real SQLite file in a temporary folder.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::destination::Method;
use crate::records::RecordNo;

fn nos(list: &[u64]) -> Vec<RecordNo> {
    list.iter().map(|&n| RecordNo(n)).collect()
}

fn input(dir: &Path, text: &str) -> (PathBuf, InputIdentity) {
    let path = dir.join("input.csv");
    fs::write(&path, text).unwrap();
    let identity = InputIdentity::of_file(&path).unwrap();
    (path, identity)
}

const URL: &str = "https://api.aircall.io/v1/contacts";

#[tokio::test]
async fn a_rerun_sees_what_is_done_and_what_is_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n2\n3\n4\n5\n");
    let path = dir.path().join("state").join("d.sqlite3");
    {
        let (ledger, prior) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
        assert_eq!((prior.done(), prior.in_doubt()), (0, 0));
        let a = ledger
            .intent(&nos(&[1, 2]), Method::Post, URL)
            .await
            .unwrap();
        ledger
            .outcome(Some(a), &nos(&[1, 2]), Outcome::Delivered, Some(201), None)
            .await
            .unwrap();
        let b = ledger.intent(&nos(&[3]), Method::Post, URL).await.unwrap();
        ledger
            .outcome(
                Some(b),
                &nos(&[3]),
                Outcome::DeadLettered,
                Some(422),
                Some("taken"),
            )
            .await
            .unwrap();
        ledger.intent(&nos(&[4]), Method::Put, URL).await.unwrap();
        let c = ledger.intent(&nos(&[5]), Method::Post, URL).await.unwrap();
        ledger
            .outcome(Some(c), &nos(&[5]), Outcome::NotApplied, Some(401), None)
            .await
            .unwrap();
        ledger
            .outcome_queued(None, &nos(&[6]), Outcome::Invalid, None, Some("no phone"))
            .unwrap();
        ledger.finish_run(3, "{}", None).await.unwrap();
        ledger.close();
    }
    let (_, prior) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
    assert_eq!(prior.state(RecordNo(1)), RecordState::Delivered);
    assert_eq!(prior.state(RecordNo(2)), RecordState::Delivered);
    assert_eq!(prior.state(RecordNo(3)), RecordState::DeadLettered);
    assert_eq!(
        prior.state(RecordNo(4)),
        RecordState::InDoubt {
            method: Method::Put
        }
    );
    assert_eq!(prior.state(RecordNo(5)), RecordState::Fresh);
    assert_eq!(prior.state(RecordNo(6)), RecordState::Invalid);
    assert_eq!(prior.state(RecordNo(999)), RecordState::Fresh);
    assert_eq!((prior.done(), prior.in_doubt()), (3, 1));
    let since = std::time::SystemTime::now()
        .duration_since(prior.last_sent().expect("intents carry their time"))
        .expect("in the past");
    assert!(since < std::time::Duration::from_secs(60), "{since:?}");
}

#[test]
fn a_second_opener_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n");
    let path = dir.path().join("d.sqlite3");
    let (first, _) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
    let err = Ledger::open(&path, Some(&identity), false, "manual").unwrap_err();
    assert!(
        matches!(err, StateError::Busy { .. }) && err.to_string().contains("another run"),
        "{err}"
    );
    first.close();
    drop(first);
    Ledger::open(&path, Some(&identity), false, "manual").expect("free again once the first ends");
}

#[test]
fn concurrent_intents_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n");
    let path = dir.path().join("d.sqlite3");
    let (tasks, each) = (16u64, 50u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    {
        let (ledger, _) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
        runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for t in 0..tasks {
                let ledger = ledger.clone();
                set.spawn(async move {
                    for i in 0..each {
                        let no = nos(&[1 + t * each + i]);
                        let id = ledger.intent(&no, Method::Post, URL).await.unwrap();
                        // Every third record stays in doubt: its outcome never comes.
                        if i % 3 != 0 {
                            ledger
                                .outcome(Some(id), &no, Outcome::Delivered, Some(201), None)
                                .await
                                .unwrap();
                        }
                    }
                });
            }
            while let Some(joined) = set.join_next().await {
                joined.unwrap();
            }
        });
        ledger.close();
    }
    let (_, prior) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
    let in_doubt = tasks * each.div_ceil(3);
    assert_eq!(
        (prior.done(), prior.in_doubt()),
        (tasks * each - in_doubt, in_doubt)
    );
    for t in 0..tasks {
        assert_eq!(
            prior.state(RecordNo(1 + t * each)),
            RecordState::InDoubt {
                method: Method::Post
            }
        );
        assert_eq!(prior.state(RecordNo(2 + t * each)), RecordState::Delivered);
    }
}

#[tokio::test]
async fn a_changed_input_is_refused_unless_restarting() {
    let dir = tempfile::tempdir().unwrap();
    let (path_in, identity) = input(dir.path(), "a\n1\n2\n");
    let path = dir.path().join("d.sqlite3");
    {
        let (ledger, _) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
        let id = ledger.intent(&nos(&[1]), Method::Post, URL).await.unwrap();
        ledger
            .outcome(Some(id), &nos(&[1]), Outcome::Delivered, Some(201), None)
            .await
            .unwrap();
        ledger.close();
    }
    fs::write(&path_in, "a\n9\n2\n").unwrap();
    let changed = InputIdentity::of_file(&path_in).unwrap();
    let err = Ledger::open(&path, Some(&changed), false, "manual").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("changed since an earlier run") && message.contains("--restart"),
        "{message}"
    );
    let (ledger, prior) = Ledger::open(&path, Some(&changed), true, "manual").unwrap();
    assert_eq!(prior.state(RecordNo(1)), RecordState::Fresh);
    ledger.close();
    drop(ledger);
    let (ledger, prior) = Ledger::open(&path, Some(&changed), false, "manual").unwrap();
    assert_eq!(
        prior.done(),
        0,
        "after a restart the new input is the one remembered"
    );
    ledger.close();
    drop(ledger);
    let store = StateStore::open(&path).unwrap();
    let kept: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM attempts WHERE outcome = 'delivered'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1, "the earlier input's attempts are kept, retired");
}

#[tokio::test]
async fn standard_input_starts_afresh_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    {
        let (ledger, _) = Ledger::open(&path, None, false, "manual").unwrap();
        let id = ledger.intent(&nos(&[1]), Method::Post, URL).await.unwrap();
        ledger
            .outcome(Some(id), &nos(&[1]), Outcome::Delivered, Some(201), None)
            .await
            .unwrap();
        ledger.close();
    }
    let (_, prior) = Ledger::open(&path, None, false, "manual").unwrap();
    assert_eq!(prior.state(RecordNo(1)), RecordState::Fresh);
}

#[tokio::test]
async fn runs_are_recorded_newest_first_with_their_trigger_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n");
    let path = dir.path().join("d.sqlite3");
    for (trigger, code) in [("manual", 0), ("schedule", 3)] {
        let (ledger, _) = Ledger::open(&path, Some(&identity), false, trigger).unwrap();
        let summary = format!("{{\"records_read\":{code}}}");
        let error = (code != 0).then_some("the API refused a record");
        ledger.finish_run(code, &summary, error).await.unwrap();
        ledger.close();
    }
    let store = StateStore::open(&path).unwrap();
    let runs = store.runs(10).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].trigger, "schedule");
    assert_eq!(runs[0].exit_code, Some(3));
    assert_eq!(
        runs[0].summary_json.as_deref(),
        Some("{\"records_read\":3}")
    );
    assert_eq!(
        runs[0].first_error.as_deref(),
        Some("the API refused a record")
    );
    assert_eq!(runs[1].trigger, "manual");
    assert_eq!(runs[1].first_error, None);
    assert!(runs[0].id > runs[1].id);
    assert!(runs[1].finished_at_ms.unwrap() >= runs[1].started_at_ms);
    assert_eq!(runs[0].input.as_deref(), Some(identity.path.as_str()));
    assert_eq!(store.runs(1).unwrap().len(), 1);
    assert_eq!(store.run(runs[1].id).unwrap(), Some(runs[1].clone()));
}

#[test]
fn begin_and_finish_run_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(&dir.path().join("d.sqlite3")).unwrap();
    let id = store.begin_run("input_change", Some("in.csv")).unwrap();
    let open = store.run(id).unwrap().unwrap();
    assert_eq!((open.finished_at_ms, open.exit_code), (None, None));
    store.finish_run(id, 1, "{\"x\":1}", Some("boom")).unwrap();
    let done = store.run(id).unwrap().unwrap();
    assert_eq!(done.exit_code, Some(1));
    assert_eq!(done.first_error.as_deref(), Some("boom"));
    assert!(store.finish_run(id + 1, 0, "{}", None).is_err());
}

#[test]
fn a_file_of_a_newer_schema_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = StateStore::open(&path).unwrap_err();
    let message = err.to_string();
    let known = schema::current_version().to_string();
    assert!(
        matches!(err, StateError::TooNew { found: 99, .. })
            && message.contains("99")
            && message.contains(&known)
            && message.contains("d.sqlite3")
            && message.contains("newer"),
        "{message}"
    );
}

#[test]
fn an_empty_file_is_migrated_to_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    let store = StateStore::open(&path).unwrap();
    let version: u32 = store
        .conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, schema::current_version());
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Opening again applies nothing twice.
    StateStore::open(&path).unwrap();
}

#[test]
fn a_file_that_is_not_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = StateStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("d.sqlite3"), "{err}");
}

#[cfg(unix)]
#[test]
fn the_state_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.sqlite3");
    StateStore::open(&path).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn state_paths_differ_per_destination() {
    let dir = Path::new("/state");
    let a = StateStore::path_for(dir, Path::new("/d/contacts.toml"));
    let b = StateStore::path_for(dir, Path::new("/e/contacts.toml"));
    let c = StateStore::path_for(dir, Path::new("/d/users.toml"));
    assert_ne!(a, b);
    assert_ne!(a, c);
    let name = a.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("contacts--") && name.ends_with(".sqlite3"),
        "{name}"
    );
}

#[test]
fn touching_a_fully_hashed_file_is_not_a_change_but_new_content_is() {
    let dir = tempfile::tempdir().unwrap();
    let (path_in, identity) = input(dir.path(), "a\n1\n");
    let touched = InputIdentity {
        mtime_ns: Some(1),
        ..identity.clone()
    };
    assert!(identity.same_input(&touched));
    fs::write(&path_in, "a\n1\n2\n").unwrap();
    assert!(!identity.same_input(&InputIdentity::of_file(&path_in).unwrap()));
    let big = InputIdentity {
        size: 5 << 20,
        hashed_bytes: 1 << 20,
        ..identity.clone()
    };
    assert!(
        !big.same_input(&InputIdentity {
            mtime_ns: Some(1),
            ..big.clone()
        }),
        "a partly hashed file relies on its time"
    );
}

#[test]
fn a_trigger_is_one_of_the_known_three_or_manual() {
    assert_eq!(trigger_from(Some("schedule")), "schedule");
    assert_eq!(trigger_from(Some("input_change")), "input_change");
    assert_eq!(trigger_from(Some("manual")), "manual");
    assert_eq!(trigger_from(Some("cron; DROP TABLE runs")), "manual");
    assert_eq!(trigger_from(None), "manual");
}

/// Intents waited for together: one commit answers many waiters at once (through the relay on
/// the runtime the ledger was opened in), each with its own attempt id.
async fn fifty_intents_at_once(ledger: &Ledger) -> Vec<AttemptId> {
    let waits = (1..=50u64).map(|n| {
        let records = nos(&[n]);
        async move { ledger.intent(&records, Method::Post, URL).await.unwrap() }
    });
    let ids = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        futures::future::join_all(waits),
    )
    .await
    .expect("every waiter is answered");
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 50, "one attempt id each: {ids:?}");
    ids
}

#[tokio::test]
async fn many_waiters_are_answered_by_the_commits_they_share() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n");
    let path = dir.path().join("d.sqlite3");
    let (ledger, _) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
    fifty_intents_at_once(&ledger).await;
    drop(ledger);
    let (_, prior) = Ledger::open(&path, Some(&identity), false, "manual").unwrap();
    assert_eq!(prior.in_doubt(), 50, "all fifty intents were committed");
}

#[test]
fn a_ledger_opened_on_a_runtime_that_ended_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (_, identity) = input(dir.path(), "a\n1\n");
    let path = dir.path().join("d.sqlite3");
    let opening = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ledger, _) = opening
        .block_on(async { Ledger::open(&path, Some(&identity), false, "manual") })
        .unwrap();
    // The relay task lived on this runtime; its answers now come from the writer itself.
    drop(opening);
    let using = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    using.block_on(async {
        fifty_intents_at_once(&ledger).await;
        fifty_intents_at_once(&ledger).await;
    });
    ledger.close();
}
