//! What `run` tells at its end against the sandbox: values left out of records still sent
//! (named, capped, counted in `values_left_out`), the tally of invalid reasons, and counts that
//! agree when a 403 stops the run early.

use std::fs;
use std::time::Duration;

use aircall_dest::sandbox::{self, SandboxConfig, SandboxCredentials};
use aircall_dest::secret::Secret;
use serde_json::Value;

use crate::crash_support::{Bench, Program, information, phone};
use crate::summary_support::{assert_counts_add_up, field};

const LIMIT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn program() -> Program {
    Program::new(env!("CARGO_BIN_EXE_aircall-dest"))
}

#[test]
fn values_left_out_are_named_capped_and_counted_and_invalid_reasons_tallied() {
    let runtime = runtime();
    let sandbox = crate::crash_support::sandbox(&runtime, "", 7);
    let dir = tempfile::tempdir().expect("temp dir");
    let records = 25;
    let mut bench = Bench::new(dir.path(), program(), &sandbox.url(), records, "");
    // An optional second phone from a column `other`: "12" is no possible number anywhere, so
    // it is left out of the records that are still sent. Records 3 and 5 lack their last two
    // fields: invalid, with one reason.
    let mut csv = String::from("first_name,phone,information,other\n");
    for i in 1..=records {
        if i == 3 || i == 5 {
            csv.push_str(&format!("Person {i},{}\n", phone(i)));
        } else {
            csv.push_str(&format!("Person {i},{},{},12\n", phone(i), information(i)));
        }
    }
    fs::write(&bench.input, csv).expect("write the input");
    let mut text = fs::read_to_string(&bench.destination).expect("read the destination");
    text.push_str(
        r#"
[[mapping]]
target = "phone_numbers[1].value"
from = "other"
transform = "e164"
optional = true
"#,
    );
    fs::write(&bench.destination, text).expect("write the destination");

    let end = bench.run(&[], LIMIT);
    assert_eq!(end.status.code(), Some(3), "{}", end.stderr);
    let summary = end.summary().expect("a --json summary");
    assert_counts_add_up(&summary);
    assert_eq!(field(&summary, "records_read"), 25, "{summary}");
    assert_eq!(field(&summary, "delivered"), 23, "{summary}");
    assert_eq!(field(&summary, "invalid"), 2, "{summary}");
    // One value per delivered record: a count of values, beside the records' own counts.
    assert_eq!(field(&summary, "values_left_out"), 23, "{summary}");

    let warnings: Vec<&str> = end
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: record "))
        .collect();
    assert_eq!(warnings.len(), 20, "capped at 20:\n{}", end.stderr);
    assert!(
        warnings[0].starts_with("warning: record 1 (line 2): `phone_numbers[1]` left out"),
        "{}",
        warnings[0]
    );
    assert!(
        end.stderr.contains("(3 more value(s) left out, not shown)"),
        "{}",
        end.stderr
    );
    assert!(
        end.stderr.contains("invalid records by reason (2 in all):"),
        "{}",
        end.stderr
    );
    assert!(
        end.stderr.lines().any(|l| l.starts_with("       2 × ")),
        "both invalid records share one reason:\n{}",
        end.stderr
    );

    // What the sandbox holds: the delivered contacts, each with its first phone only.
    let state = sandbox.state();
    let contacts = state["contacts"].as_object().expect("contacts");
    assert_eq!(contacts.len(), 23);
    for contact in contacts.values() {
        assert_eq!(
            contact["phone_numbers"].as_array().map(Vec::len),
            Some(1),
            "{contact}"
        );
    }
}

#[test]
fn a_403_counts_every_record_sent_as_read_and_dead_lettered() {
    let runtime = runtime();
    // The sandbox accepts another token than the one the bench saves: every request gets 403.
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            credentials: SandboxCredentials {
                api_token: Secret::new("another-token"),
                ..SandboxCredentials::default()
            },
            ..SandboxConfig::default()
        }))
        .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bench = Bench::new(dir.path(), program(), &sandbox.url(), 40, "concurrency = 4");

    let end = bench.run(&[], LIMIT);
    assert_eq!(end.status.code(), Some(1), "{}", end.stderr);
    let summary = end.summary().expect("a --json summary");
    assert_counts_add_up(&summary);
    let refused = sandbox
        .journal()
        .iter()
        .filter(|e| e.method == "POST")
        .count() as u64;
    assert!(refused >= 1, "at least one request went out");
    assert_eq!(field(&summary, "requests"), refused, "{summary}");
    // One record per request: every record sent was read and refused, none applied.
    assert_eq!(field(&summary, "records_read"), refused, "{summary}");
    assert_eq!(field(&summary, "dead_lettered"), refused, "{summary}");
    assert_eq!(field(&summary, "in_doubt"), 0, "{summary}");
    assert_eq!(field(&summary, "delivered"), 0, "{summary}");

    let letters_path = end
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("dead letters: "))
        .expect("the run names its dead-letter file");
    let letters: Vec<Value> = fs::read_to_string(letters_path)
        .expect("read the dead letters")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(letters.len() as u64, refused);
    for letter in &letters {
        assert_eq!(letter["reason"], "refused", "{letter}");
        assert_eq!(letter["status"], 403, "{letter}");
    }
}
