//! Crash safety of `run`, end to end: the real binary SIGKILLed at random points against a
//! sandbox that drops connections (some after applying the write), rerun until it finishes,
//! and then every input record must exist at the "API" exactly once.

use crate::crash_support;

use std::time::Duration;

use aircall_dest::sandbox::JournalStatus;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crash_support::{Bench, Program, Tally};

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

/// A seed from `CRASH_SEED`, else a fixed one, so a failure can be replayed.
fn seed() -> u64 {
    std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0de)
}

#[test]
fn sigkill_at_random_points_loses_and_duplicates_nothing() {
    let seed = seed();
    eprintln!("seed {seed} (replay with CRASH_SEED={seed})");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = crash_support::sandbox(
        &runtime,
        "latency=20..60ms,apply_then_drop=0.05,drop=0.03,500=0.03",
        seed,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 400;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 60000\nburst = 2\nconcurrency = 2\nmax_attempts = 30\n\
         backoff_initial_ms = 5\nbackoff_max_ms = 50\nrequest_timeout_secs = 2\ndrain_timeout_secs = 5",
    );
    let mut rng = StdRng::seed_from_u64(seed);

    let kills = bench.kill_runs(20, 30..300, &mut rng);
    assert!(
        !kills.completed && kills.killed == 20,
        "the input was delivered after {} kill(s): the bench needs more records",
        kills.killed
    );
    let before_last = Tally::of_state(&sandbox.state(), records);
    assert!(
        before_last.duplicated.is_empty() && before_last.strangers == 0,
        "duplicates while being killed: {}",
        before_last.describe()
    );
    assert!(
        !before_last.lost.is_empty(),
        "the kills left nothing to do: the bench needs more records"
    );

    let last = bench.rerun_until_done(5, Duration::from_secs(90));
    let summary = last
        .summary()
        .unwrap_or_else(|| panic!("no summary; stderr:\n{}", last.stderr));
    assert!(
        last.status.success(),
        "the last run failed: {summary}\n{}",
        last.stderr
    );
    assert_eq!(summary["records_read"], records as u64, "{summary}");
    assert_eq!(summary["in_doubt"], 0, "{summary}");
    assert_eq!(summary["dead_lettered"], 0, "{summary}");
    assert_eq!(summary["invalid"], 0, "{summary}");
    assert!(
        summary["skipped_already_done"].as_u64().unwrap_or(0) > 0,
        "the rerun skipped what the killed runs had delivered: {summary}"
    );

    let tally = Tally::of_state(&sandbox.state(), records);
    assert!(tally.exact(), "{}", tally.describe());
    assert_eq!(tally.contacts, records);

    // The bench did exercise what it claims to: writes applied without an answer, and lookups
    // that settled them.
    let journal = sandbox.journal();
    let applied_unanswered = journal
        .iter()
        .filter(|e| e.method == "POST" && e.fault.as_deref() == Some("apply_then_drop"))
        .count();
    let lookups = journal
        .iter()
        .filter(|e| {
            e.method == "GET"
                && e.path == "/v1/contacts/search"
                && e.status == JournalStatus::Answered(200)
        })
        .count();
    assert!(applied_unanswered > 0, "no write was applied then dropped");
    assert!(
        lookups >= applied_unanswered,
        "{lookups} lookup(s) for {applied_unanswered} unanswered write(s)"
    );
    eprintln!(
        "{} runs ({} ended before their kill), {applied_unanswered} writes applied without an answer, {lookups} lookups; lost 0, duplicated 0",
        kills.killed + kills.ended.len() + 1,
        kills.ended.len()
    );
}

#[test]
fn a_second_run_at_the_same_time_is_refused_instead_of_sending_everything_twice() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = crash_support::sandbox(&runtime, "latency=30..60ms", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 60;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 0\nconcurrency = 2",
    );
    let (mut first, out, err) = bench.start_run(&[]);
    // Once a contact exists, the first run holds its outcome log.
    let started = std::time::Instant::now();
    while sandbox.state()["contacts"]
        .as_object()
        .is_none_or(|c| c.is_empty())
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run sent nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = bench.run(&[], Duration::from_secs(30));
    assert_eq!(second.status.code(), Some(1), "{}", second.stderr);
    assert!(
        second.stderr.contains("another run of this destination"),
        "{}",
        second.stderr
    );
    let status =
        crash_support::wait(&mut first, Duration::from_secs(60)).expect("the first run ends");
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(err).unwrap_or_default()
    );
    let summary: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(out).expect("stdout").trim())
            .expect("summary");
    assert_eq!(summary["delivered"], records as u64, "{summary}");
    let tally = Tally::of_state(&sandbox.state(), records);
    assert!(tally.exact(), "{}", tally.describe());
}

#[test]
fn users_created_without_an_answer_are_found_by_email_not_invited_twice() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = crash_support::sandbox(&runtime, "apply_then_drop=0.4,latency=2..5ms", 11);
    let dir = tempfile::tempdir().expect("tempdir");
    // The bench brings the credential; the destination is the users example, pointed at it.
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        1,
        "rate_limit_per_minute = 0",
    );
    let users = 40;
    let mut jsonl = String::new();
    for i in 1..=users {
        jsonl.push_str(&format!(
            "{{\"email\":\"User.{i}@Example.com\",\"name\":\"User Number{i}\"}}\n"
        ));
    }
    std::fs::write(&bench.input, jsonl).expect("write users");
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/users.toml"),
    )
    .expect("users example");
    let destination = example
        .replace("status = \"paused\"", "status = \"active\"")
        .replace("credential = \"Local sandbox\"", "credential = \"sandbox\"")
        .replace("path = \"../data/users.jsonl\"", "path = \"contacts.csv\"")
        .replace(
            "rate_limit_per_minute = 60",
            "rate_limit_per_minute = 0\nmax_attempts = 30\nbackoff_initial_ms = 5\nbackoff_max_ms = 20",
        );
    assert!(destination.contains("status = \"active\"") && destination.contains("\"sandbox\""));
    std::fs::write(&bench.destination, destination).expect("write the destination");

    let end = bench.run(&[], Duration::from_secs(60));
    assert_eq!(end.status.code(), Some(0), "{}", end.stderr);
    let summary = end.summary().expect("summary");
    assert_eq!(summary["delivered"], users as u64, "{summary}");

    let state = sandbox.state();
    let stored: Vec<String> = state["users"]
        .as_object()
        .expect("users")
        .values()
        .filter_map(|u| u["email"].as_str().map(str::to_lowercase))
        .collect();
    for i in 1..=users {
        let email = format!("user.{i}@example.com");
        assert_eq!(
            stored.iter().filter(|e| **e == email).count(),
            1,
            "{email} in {stored:?}"
        );
    }
    assert_eq!(stored.len(), users);
    let journal = sandbox.journal();
    let unanswered = journal
        .iter()
        .filter(|e| e.method == "POST" && e.fault.as_deref() == Some("apply_then_drop"))
        .count();
    let lookups = journal
        .iter()
        .filter(|e| e.method == "GET" && e.path.starts_with("/v2/users/user."))
        .count();
    assert!(unanswered > 0, "no create went unanswered");
    assert!(
        lookups >= unanswered,
        "{lookups} lookups for {unanswered} unanswered creates"
    );
    assert!(end.stderr.contains("already existed"), "{}", end.stderr);
}
