//! The state file a real run leaves: its `runs` row (trigger, exit code, the exact `run --json`
//! object, the first error), the queries docs/reliability.md gives answering what they promise,
//! and a state file from a newer aircall-dest refused with a message.
#![cfg(unix)]

use std::path::PathBuf;

use aircall_dest::state::StateStore;
use serde_json::Value;

use crate::crash_support::{Bench, Program};
use crate::summary_support::field;

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

/// docs/reliability.md, "What failed in the last run, and why".
const FAILED_LAST_RUN: &str = "
SELECT records, outcome, status, detail
FROM attempts
WHERE run_id = (SELECT max(id) FROM runs)
  AND outcome IN ('dead_lettered', 'invalid', 'not_applied')
ORDER BY first_record;";

/// docs/reliability.md, "What is in doubt".
const IN_DOUBT: &str = "
SELECT a.records, a.method, a.url, datetime(a.sent_at_ms / 1000, 'unixepoch') AS sent_at
FROM attempts a
JOIN inputs i ON i.id = a.input_id AND i.retired_at_ms IS NULL
WHERE a.sent_at_ms IS NOT NULL AND a.outcome IS NULL
  AND NOT EXISTS (SELECT 1 FROM attempts later
                  WHERE later.input_id = a.input_id AND later.first_record = a.first_record
                    AND later.id > a.id)
ORDER BY a.first_record;";

/// docs/reliability.md, "What was sent for record N" (here N = 1).
const RECORD_1: &str = "
SELECT a.run_id, a.method, a.url, datetime(a.sent_at_ms / 1000, 'unixepoch') AS sent_at,
       a.outcome, a.status, a.detail
FROM attempts a
JOIN inputs i ON i.id = a.input_id AND i.retired_at_ms IS NULL,
     json_each(a.records) r
WHERE r.value = 1
ORDER BY a.id;";

fn state_file(bench: &Bench) -> PathBuf {
    std::fs::read_dir(&bench.state)
        .expect("state folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite3"))
        .expect("a state file")
}

#[test]
fn a_run_is_recorded_and_the_documented_queries_answer() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = crate::crash_support::sandbox(&runtime, "422=0.2", 11);
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 40;
    let bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 0\nconcurrency = 4",
    );
    let destination = bench.destination.display().to_string();
    let state = bench.state.display().to_string();
    let out = bench
        .command(&["run", &destination, "--state-dir", &state, "--json"])
        .env("AIRCALL_DEST_TRIGGER", "schedule")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let rejected = field(&printed, "dead_lettered");
    assert!(rejected > 0 && rejected < records as u64, "{printed}");

    let path = state_file(&bench);
    let mut store = StateStore::open(&path).expect("the state file opens");
    let runs = store.runs(10).expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.trigger, "schedule");
    assert_eq!(run.exit_code, Some(3));
    let stored: Value =
        serde_json::from_str(run.summary_json.as_deref().expect("summary")).unwrap();
    assert_eq!(
        stored, printed,
        "the runs row holds exactly what run --json printed"
    );
    assert!(
        run.first_error
            .as_deref()
            .is_some_and(|e| e.contains("refused the request with 422")),
        "{:?}",
        run.first_error
    );
    assert!(run.finished_at_ms.expect("finished") >= run.started_at_ms);

    let conn = store.connection();
    let failed: Vec<(String, String, Option<i64>, Option<String>)> = conn
        .prepare(FAILED_LAST_RUN)
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(failed.len() as u64, rejected);
    for (_, outcome, status, detail) in &failed {
        assert_eq!((outcome.as_str(), *status), ("dead_lettered", Some(422)));
        assert!(
            detail.as_deref().is_some_and(|d| d.contains("422")),
            "{detail:?}"
        );
    }
    let in_doubt: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM ({})", IN_DOUBT.trim_end_matches(';')),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_doubt, 0);
    let sent: Vec<(i64, String, String, String)> = conn
        .prepare(RECORD_1)
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, run.id);
    assert_eq!(sent[0].1, "POST");
    assert!(sent[0].2.ends_with("/v1/contacts"), "{sent:?}");
    assert!(
        ["delivered", "dead_lettered"].contains(&sent[0].3.as_str()),
        "{sent:?}"
    );

    // An intent without an outcome (a run killed mid-request) is what the in-doubt query finds.
    conn.execute(
        "INSERT INTO attempts (input_id, run_id, first_record, records, method, url, sent_at_ms)
         SELECT input_id, run_id, 999, '[999]', 'POST', url, sent_at_ms FROM attempts LIMIT 1",
        [],
    )
    .unwrap();
    let doubtful: String = conn.query_row(IN_DOUBT, [], |r| r.get(0)).unwrap();
    assert_eq!(doubtful, "[999]");
    drop(store);

    // A state file from a newer aircall-dest is refused, not misread.
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 1000)
        .unwrap();
    let refused = bench
        .command(&["run", &destination, "--state-dir", &state, "--json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("schema version 1000")
            && stderr.contains("newer")
            && stderr.contains(".sqlite3"),
        "{stderr}"
    );
    assert_eq!(
        sandbox.journal().len() as u64,
        field(&printed, "requests"),
        "the refused run sent nothing"
    );
}
