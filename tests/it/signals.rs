//! Stopping `run` by signal, end to end: the first SIGINT (or SIGTERM) drains what is in flight
//! and exits 130 with the summary; a second one stops at once, leaving in-flight records in doubt;
//! either way a rerun completes the rest and every record exists exactly once.
#![cfg(unix)]

use crate::crash_support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aircall_dest::sandbox::Sandbox;

use crash_support::{Bench, Program, RunEnd, Tally};

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

fn sandbox(runtime: &tokio::runtime::Runtime, faults: &str) -> Sandbox {
    crash_support::sandbox(runtime, faults, 7)
}

fn contacts(sandbox: &Sandbox) -> usize {
    sandbox.state()["contacts"]
        .as_object()
        .map_or(0, |c| c.len())
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

/// Polls until `ready` holds, failing the test after `limit`.
fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn end(child: &mut Child, out: &Path, err: &Path) -> RunEnd {
    let status = crash_support::wait(child, Duration::from_secs(60)).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the run did not stop")
    });
    RunEnd {
        status,
        stdout: std::fs::read_to_string(out).unwrap_or_default(),
        stderr: std::fs::read_to_string(err).unwrap_or_default(),
    }
}

fn count(summary: &serde_json::Value, field: &str) -> u64 {
    summary[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {summary}"))
}

#[test]
fn sigint_drains_in_flight_requests_and_a_rerun_sends_the_rest() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = sandbox(&runtime, "latency=20..40ms");
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 200;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 3000\nburst = 2\nconcurrency = 4\ndrain_timeout_secs = 30",
    );

    let (mut child, out, err) = bench.start_run(&[]);
    wait_for("20 contacts", Duration::from_secs(30), || {
        contacts(&sandbox) >= 20
    });
    signal(&child, "INT");
    let first = end(&mut child, &out, &err);
    assert_eq!(first.status.code(), Some(130), "{}", first.stderr);
    assert!(
        first
            .stderr
            .contains("interrupted: run the same command again"),
        "{}",
        first.stderr
    );
    let summary = first
        .summary()
        .unwrap_or_else(|| panic!("no summary on stdout: {:?}", first.stdout));
    let delivered = count(&summary, "delivered");
    // Nothing in flight was cut off: every record the run took is delivered and stored.
    assert_eq!(count(&summary, "in_doubt"), 0, "{summary}");
    assert_eq!(count(&summary, "records_read"), delivered, "{summary}");
    assert!(delivered >= 20 && delivered < records as u64, "{summary}");
    assert_eq!(
        contacts(&sandbox) as u64,
        delivered,
        "the store holds exactly what the summary says"
    );

    let second = bench.run(&[], Duration::from_secs(60));
    assert_eq!(second.status.code(), Some(0), "{}", second.stderr);
    let rest = second.summary().expect("summary");
    assert_eq!(count(&rest, "skipped_already_done"), delivered, "{rest}");
    assert_eq!(
        count(&rest, "delivered"),
        records as u64 - delivered,
        "{rest}"
    );
    assert_eq!(count(&rest, "records_read"), records as u64, "{rest}");
    let tally = Tally::of_state(&sandbox.state(), records);
    assert!(tally.exact(), "{}", tally.describe());
}

#[test]
fn a_second_signal_stops_at_once_and_a_rerun_settles_what_was_in_doubt() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Slow answers, so requests are surely in flight when the second signal comes.
    let sandbox = sandbox(&runtime, "latency=1500..2500ms");
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 12;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 0\nconcurrency = 4\nrequest_timeout_secs = 5\ndrain_timeout_secs = 30",
    );

    let (mut child, out, err) = bench.start_run(&[]);
    wait_for("4 contacts", Duration::from_secs(30), || {
        contacts(&sandbox) >= 4
    });
    signal(&child, "TERM");
    wait_for("the drain to begin", Duration::from_secs(10), || {
        std::fs::read_to_string(&err).is_ok_and(|e| e.contains("stopping: no new request starts"))
    });
    signal(&child, "INT");
    let first = end(&mut child, &out, &err);
    assert_eq!(first.status.code(), Some(130), "{}", first.stderr);
    assert!(first.stderr.contains("stopping now"), "{}", first.stderr);
    let summary = first
        .summary()
        .unwrap_or_else(|| panic!("no summary: {:?}", first.stdout));
    let (delivered, in_doubt) = (count(&summary, "delivered"), count(&summary, "in_doubt"));
    assert!(
        in_doubt >= 1,
        "requests in flight at the second signal are in doubt: {summary}"
    );
    assert_eq!(
        count(&summary, "records_read"),
        delivered + in_doubt,
        "{summary}"
    );
    let stored_now = contacts(&sandbox) as u64;
    assert!(
        stored_now >= delivered && stored_now <= delivered + in_doubt,
        "{stored_now} stored for {summary}"
    );

    let second = bench.run(&[], Duration::from_secs(60));
    assert_eq!(second.status.code(), Some(0), "{}", second.stderr);
    let rest = second.summary().expect("summary");
    assert_eq!(count(&rest, "skipped_already_done"), delivered, "{rest}");
    assert_eq!(
        count(&rest, "delivered"),
        records as u64 - delivered,
        "{rest}"
    );
    assert_eq!(count(&rest, "in_doubt"), 0, "{rest}");
    assert!(
        second
            .stderr
            .contains(&format!("looked up {in_doubt} in-doubt create(s)")),
        "the rerun looks the in-doubt records up: {}",
        second.stderr
    );
    let tally = Tally::of_state(&sandbox.state(), records);
    assert!(tally.exact(), "{}", tally.describe());
}

/// Stop means stop: at 60 requests a minute with four senders, three of them are always waiting
/// for a rate-limit slot. After SIGINT none of them may send; only a request already at the
/// server may still be answered.
#[test]
fn after_a_stop_no_request_starts() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = sandbox(&runtime, "latency=20..40ms");
    let dir = tempfile::tempdir().expect("tempdir");
    let records = 60;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &sandbox.url(),
        records,
        "rate_limit_per_minute = 60\nburst = 1\nconcurrency = 4\ndrain_timeout_secs = 30",
    );

    let (mut child, out, err) = bench.start_run(&[]);
    wait_for("4 contacts", Duration::from_secs(30), || {
        contacts(&sandbox) >= 4
    });
    let before = sandbox.journal().len();
    signal(&child, "INT");
    let first = end(&mut child, &out, &err);
    assert_eq!(first.status.code(), Some(130), "{}", first.stderr);
    let received = sandbox.journal().len();
    // The one request that may have been on its way when the signal came (one a second, each
    // answered within 40 ms) is all the sandbox may see after it; the old drain went on sending
    // every request already waiting for a slot, one a second.
    assert!(
        received <= before + 1,
        "{} request(s) reached the sandbox after the stop",
        received - before
    );
    let summary = first.summary().expect("summary");
    let delivered = count(&summary, "delivered");
    assert_eq!(count(&summary, "in_doubt"), 0, "{summary}");
    assert_eq!(count(&summary, "records_read"), delivered, "{summary}");
    assert_eq!(count(&summary, "requests"), received as u64, "{summary}");
    assert_eq!(contacts(&sandbox) as u64, delivered, "{summary}");
}
