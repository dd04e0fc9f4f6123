//! `aircall-dest history DEST`: the runs of the state store, newest first, with their counts.
//! The runs are written through the store's own API, as the runner writes them.

use std::process::Command;

use aircall_dest::state::StateStore;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

fn history(dest: &std::path::Path, state: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("history")
        .arg(dest)
        .arg("--state-dir")
        .arg(state)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn history_lists_runs_newest_first_with_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let dest = dir.path().join("contacts.toml");
    std::fs::write(&dest, "# only its path matters here\n").unwrap();

    // Never run: an empty list, and no state file made by asking.
    let (ok, text) = history(&dest, state.path(), &["--json"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([]));
    assert!(!StateStore::path_for(state.path(), &dest).exists());

    let first_summary = json!({"records_read": 5, "delivered": 3, "dead_lettered": 1, "invalid": 1,
        "skipped_already_done": 0, "in_doubt": 0, "requests": 4, "retries": 0, "http_429": 0, "duration_ms": 40});
    let second_summary = json!({"records_read": 5, "delivered": 0, "dead_lettered": 0, "invalid": 0,
        "skipped_already_done": 5, "in_doubt": 0, "requests": 0, "retries": 0, "http_429": 0, "duration_ms": 2});
    let store = StateStore::open(&StateStore::path_for(state.path(), &dest)).unwrap();
    let first = store
        .begin_run("schedule", Some("/data/contacts.csv"))
        .unwrap();
    store
        .finish_run(first, 3, &first_summary.to_string(), None)
        .unwrap();
    let second = store
        .begin_run("input_change", Some("/data/contacts.csv"))
        .unwrap();
    store
        .finish_run(
            second,
            1,
            &second_summary.to_string(),
            Some("the API refused the credentials (403)"),
        )
        .unwrap();
    let third = store.begin_run("manual", None).unwrap();
    let records: Vec<_> = [first, second, third]
        .iter()
        .map(|id| store.run(*id).unwrap().unwrap())
        .collect();
    drop(store);

    let (ok, text) = history(&dest, state.path(), &["--json"]);
    assert!(ok);
    let runs: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(runs.len(), 3);
    let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![third, second, first], "newest first");

    let (unfinished, failed, partial) = (&runs[0], &runs[1], &runs[2]);
    assert_eq!(unfinished["trigger"], "manual");
    assert_eq!(unfinished["finished"], Value::Null);
    assert_eq!(unfinished["exit_code"], Value::Null);
    assert_eq!(unfinished["duration_ms"], Value::Null);

    assert_eq!(failed["trigger"], "input_change");
    assert_eq!(failed["exit_code"], 1);
    assert_eq!(
        failed["first_error"],
        "the API refused the credentials (403)"
    );
    assert_eq!(failed["summary"], second_summary);

    assert_eq!(partial["trigger"], "schedule");
    assert_eq!(partial["exit_code"], 3);
    assert_eq!(partial["input"], "/data/contacts.csv");
    assert_eq!(partial["summary"], first_summary);
    assert_eq!(partial["summary"]["delivered"], 3);
    assert_eq!(partial["summary"]["dead_lettered"], 1);
    let finished = records[0].finished_at_ms.unwrap();
    assert_eq!(partial["duration_ms"], finished - records[0].started_at_ms);
    assert!(partial["started"].as_str().unwrap().ends_with('Z'));

    let (ok, text) = history(&dest, state.path(), &["--json", "--limit", "1"]);
    assert!(ok);
    let runs: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["id"], third);

    let (ok, table) = history(&dest, state.path(), &[]);
    assert!(ok);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("started"));
    assert!(
        lines[1].contains("manual") && lines[1].contains("running"),
        "{table}"
    );
    assert!(
        lines[2].contains("input_change") && lines[2].contains("(403)"),
        "{table}"
    );
    let partial_line: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(&partial_line[1..3], &["schedule", "3"], "{table}");
    assert_eq!(&partial_line[4..9], &["5", "3", "1", "1", "0"], "{table}");
}
