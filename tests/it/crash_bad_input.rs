//! Bad input never loses data in `run`: over files of the bad-input corpus, every record the
//! reader yields (good or not) is counted in exactly one summary field, each invalid one is
//! reported with its record number, and what the summary calls delivered is what the API holds.

use crate::crash_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aircall_dest::records::{Input, open};
use aircall_dest::sandbox::{self, SandboxConfig};
use serde_json::Value;

use crash_support::{Bench, Program};

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

/// Files with unreadable records between good ones, of every format, plus an empty one.
const FILES: [&str; 11] = [
    "broken-quoting.csv",
    "wrong-field-count.csv",
    "invalid-utf8.csv",
    "crlf.csv",
    "empty.csv",
    "malformed-line.jsonl",
    "invalid-utf8.jsonl",
    "not-objects.jsonl",
    "big-numbers.jsonl",
    "truncated.json",
    "bad-element.json",
];

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bad-input")
        .join(name)
}

/// The corpus files, plus two generated ones too big to commit: a 10 MB line and 10,000-deep
/// nesting, each between good records.
fn inputs(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut inputs: Vec<(String, PathBuf)> = FILES
        .iter()
        .map(|name| (name.to_string(), corpus(name)))
        .collect();
    let huge = dir.join("ten-megabyte-line.jsonl");
    let long = "x".repeat(10 << 20);
    std::fs::write(
        &huge,
        format!("{{\"id\":1}}\n{{\"id\":2,\"name\":\"{long}\"}}\n{{\"id\":3}}\n"),
    )
    .expect("write");
    inputs.push(("ten-megabyte-line.jsonl".into(), huge));
    let deep = dir.join("deep-nesting.jsonl");
    let nested = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    std::fs::write(&deep, format!("{{\"id\":1}}\n{nested}\n{{\"id\":3}}\n")).expect("write");
    inputs.push(("deep-nesting.jsonl".into(), deep));
    inputs
}

/// What the reader yields for a file: how many items, and the numbers of the unreadable ones.
fn reader_report(path: &Path) -> (u64, BTreeSet<u64>) {
    let reader = open(&Input::Path(path.to_path_buf()), None).expect("the corpus file opens");
    let mut items = 0;
    let mut errors = BTreeSet::new();
    for item in reader {
        items += 1;
        if let Err(error) = item {
            errors.insert(error.no.0);
        }
    }
    (items, errors)
}

fn field(summary: &Value, name: &str) -> u64 {
    summary[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

/// Record numbers the run reported invalid on standard error (`invalid: record N (line L): …`).
fn reported_invalid(stderr: &str) -> BTreeSet<u64> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("invalid: record "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// A contacts destination over whatever attributes a record has: `name` and `id` when present,
/// a fixed first phone number, and `phone` as a second one when present — so records are sent
/// unless unreadable or holding a phone that is no phone number.
fn bench(dir: &Path, base_url: &str) -> Bench {
    let bench = Bench::new(
        dir,
        Program::new(BIN),
        base_url,
        1,
        "rate_limit_per_minute = 0\nconcurrency = 2",
    );
    let text = std::fs::read_to_string(&bench.destination).expect("read the destination");
    let start = text.find("[[mapping]]").expect("a mapping");
    let end = text.find("[delivery]").expect("a delivery table");
    let mapping = r#"[[mapping]]
target = "first_name"
from = "name"
optional = true

[[mapping]]
target = "information"
from = "id"
optional = true

[[mapping]]
target = "phone_numbers[0].label"
value = "Work"

[[mapping]]
target = "phone_numbers[0].value"
value = "+14155550100"

[[mapping]]
target = "phone_numbers[1].label"
value = "Other"
if_present = "phone"

[[mapping]]
target = "phone_numbers[1].value"
from = "phone"
transform = "e164"
if_present = "phone"

"#;
    let text =
        format!("{}{mapping}{}", &text[..start], &text[end..]).replace("format = \"csv\"\n", "");
    std::fs::write(&bench.destination, text).expect("write the destination");
    bench
}

#[test]
fn dry_runs_count_every_record_of_bad_input_once_and_name_each_invalid_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = bench(dir.path(), "http://127.0.0.1:9");
    for (name, path) in inputs(dir.path()) {
        let (items, unreadable) = reader_report(&path);
        let destination = bench.destination.display().to_string();
        let input = path.display().to_string();
        let out = bench
            .command(&[
                "run",
                &destination,
                "--input",
                &input,
                "--dry-run",
                "--json",
            ])
            .output()
            .expect("run the dry run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let summary: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{name}: no JSON summary ({e}): {stdout}\n{stderr}"));
        assert_eq!(field(&summary, "records_read"), items, "{name}: {summary}");
        let would_send = field(&summary, "would_send_records");
        let invalid = field(&summary, "invalid");
        assert_eq!(
            would_send + invalid,
            items,
            "{name}: every record once: {summary}"
        );
        for other in [
            "delivered",
            "dead_lettered",
            "skipped_already_done",
            "in_doubt",
        ] {
            assert_eq!(
                field(&summary, other),
                0,
                "{name}: a dry run sends nothing: {summary}"
            );
        }
        let named = reported_invalid(&stderr);
        assert_eq!(
            named.len() as u64,
            invalid,
            "{name}: each invalid record is named once:\n{stderr}"
        );
        assert!(
            unreadable.is_subset(&named),
            "{name}: unreadable records {unreadable:?} are all reported:\n{stderr}"
        );
        let expected_code = if invalid > 0 { 3 } else { 0 };
        assert_eq!(out.status.code(), Some(expected_code), "{name}:\n{stderr}");
    }
}

#[test]
fn real_runs_over_bad_input_account_for_every_record_and_deliver_the_good_ones() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            ..SandboxConfig::default()
        }))
        .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bench = bench(dir.path(), &sandbox.url());
    let mut delivered_total = 0;
    let mut invalid_total = 0;
    for (name, path) in inputs(dir.path()) {
        let (items, unreadable) = reader_report(&path);
        let input = path.display().to_string();
        let end = bench.run(&["--input", &input], Duration::from_secs(60));
        let summary = end
            .summary()
            .unwrap_or_else(|| panic!("{name}: no summary: {}\n{}", end.stdout, end.stderr));
        assert_eq!(field(&summary, "records_read"), items, "{name}: {summary}");
        let counted: u64 = [
            "delivered",
            "dead_lettered",
            "invalid",
            "skipped_already_done",
            "in_doubt",
        ]
        .iter()
        .map(|f| field(&summary, f))
        .sum();
        assert_eq!(
            counted, items,
            "{name}: every record in exactly one field: {summary}"
        );
        let named = reported_invalid(&end.stderr);
        assert_eq!(
            named.len() as u64,
            field(&summary, "invalid"),
            "{name}:\n{}",
            end.stderr
        );
        assert!(
            unreadable.is_subset(&named),
            "{name}: {unreadable:?} reported:\n{}",
            end.stderr
        );
        delivered_total += field(&summary, "delivered");
        invalid_total += field(&summary, "invalid");
        let stored = sandbox.state()["contacts"]
            .as_object()
            .map_or(0, |c| c.len()) as u64;
        assert_eq!(
            stored, delivered_total,
            "{name}: the API holds what the summaries call delivered"
        );

        // A rerun of the same input sends nothing twice: the delivered are skipped as done,
        // the invalid are checked and reported again.
        let again = bench.run(&["--input", &input], Duration::from_secs(60));
        let rerun = again.summary().expect("rerun summary");
        assert_eq!(field(&rerun, "records_read"), items, "{name}: {rerun}");
        assert_eq!(field(&rerun, "delivered"), 0, "{name}: {rerun}");
        assert_eq!(
            field(&rerun, "skipped_already_done"),
            field(&summary, "delivered") + field(&summary, "dead_lettered"),
            "{name}: {rerun}"
        );
        assert_eq!(
            field(&rerun, "invalid"),
            field(&summary, "invalid"),
            "{name}: {rerun}"
        );
    }
    assert!(
        delivered_total > 0 && invalid_total > 0,
        "the corpus gives both outcomes"
    );
    let stored = sandbox.state()["contacts"]
        .as_object()
        .map_or(0, |c| c.len()) as u64;
    assert_eq!(stored, delivered_total);
}
