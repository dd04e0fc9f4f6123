//! What the sync tests share: a sandbox with its own runtime, a bench whose destination and
//! export are the shared fixture's (`aircall_dest::sync::fixture`), and checks of what the
//! sandbox holds and what it was sent.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use aircall_dest::sandbox::{self, Sandbox, SandboxConfig};
use aircall_dest::sync::fixture::{self, ExportRow};
use serde_json::Value;

use crate::crash_support::{Bench, Program, RunEnd};

pub const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");
pub const LIMIT: Duration = Duration::from_secs(120);

/// The `[delivery]` of the tests: no rate limit, quick retries.
pub const DELIVERY: &str = "rate_limit_per_minute = 0
max_attempts = 20
backoff_initial_ms = 5
backoff_max_ms = 50
request_timeout_secs = 5";

/// Writes the export of `rows` as the bench's input.
pub fn write_export(path: &Path, rows: &[ExportRow]) {
    fixture::write_export(path, rows.iter().cloned()).unwrap();
}

/// Writes the fixture's destination with `sync` (the `[sync]` lines) and `extra` TOML.
pub fn write_destination(path: &Path, sync: &str, extra: &str) {
    fs::write(path, fixture::destination(DELIVERY, sync, extra)).unwrap();
}

/// A sandbox with its own runtime, alive as long as this value.
pub struct Running {
    pub sandbox: Sandbox,
    pub runtime: tokio::runtime::Runtime,
}

pub fn start(faults: &str) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            faults: faults.parse().unwrap(),
            seed: Some(7),
            ..SandboxConfig::default()
        }))
        .unwrap();
    Running { sandbox, runtime }
}

impl Running {
    /// Creates a contact directly, as another integration would have.
    pub fn create_contact(&self, body: Value) -> u64 {
        let url = format!("{}/v1/contacts", self.sandbox.url());
        let bytes = self.runtime.block_on(async {
            reqwest::Client::new()
                .post(url)
                .basic_auth("sandbox-id", Some("sandbox-token"))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        });
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        answer["contact"]["id"].as_u64().unwrap()
    }
}

/// A bench whose destination and input are the sync's.
pub fn bench(dir: &Path, running: &Running, sync: &str) -> Bench {
    bench_with(dir, running, sync, "")
}

/// [`bench`] with `extra` TOML appended to the destination.
pub fn bench_with(dir: &Path, running: &Running, sync: &str, extra: &str) -> Bench {
    let bench = Bench::new(dir, Program::new(BIN), &running.sandbox.url(), 0, "");
    write_destination(&bench.destination, sync, extra);
    bench
}

/// The sandbox's contacts, by `information`, as (first, last, phones, emails); and the number
/// of contacts in all.
pub type Seen = (String, String, Vec<String>, Vec<String>);

pub fn contacts(sandbox: &Sandbox) -> (BTreeMap<String, Vec<Seen>>, Vec<Value>) {
    let state = sandbox.state();
    let list: Vec<Value> = state["contacts"]
        .as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    let mut by_key: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    for contact in &list {
        let values = |list: &str| -> Vec<String> {
            let mut v: Vec<String> = contact[list]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["value"].as_str().map(str::to_string))
                .collect();
            v.sort();
            v
        };
        let text = |name: &str| contact[name].as_str().unwrap_or_default().to_string();
        by_key.entry(text("information")).or_default().push((
            text("first_name"),
            text("last_name"),
            values("phone_numbers"),
            values("emails"),
        ));
    }
    (by_key, list)
}

/// The sandbox holds exactly one contact per row, equal to it, and nothing else (besides the
/// contacts named in `others`).
pub fn assert_mirrors(sandbox: &Sandbox, rows: &[ExportRow], others: usize) {
    let (by_key, list) = contacts(sandbox);
    assert_eq!(
        list.len(),
        rows.len() + others,
        "contact count: {} in the sandbox for {} rows",
        list.len(),
        rows.len()
    );
    for row in rows {
        let seen = by_key.get(&row.key()).map(Vec::as_slice).unwrap_or(&[]);
        let expected: Seen = (
            row.first.clone(),
            row.last.clone(),
            vec![row.phone.clone()],
            row.email.iter().cloned().collect(),
        );
        assert_eq!(seen, [expected], "contact for {}", row.key());
    }
}

/// Requests of the journal as `METHOD path-pattern` (ids replaced by `{id}`) and their counts.
pub fn journal_shape(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let mut shape = BTreeMap::new();
    for entry in sandbox.journal() {
        let path: Vec<String> = entry
            .path
            .split('/')
            .map(|part| {
                if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
                    "{id}".to_string()
                } else {
                    part.to_string()
                }
            })
            .collect();
        *shape
            .entry(format!("{} {}", entry.method, path.join("/")))
            .or_insert(0) += 1;
    }
    shape
}

/// A run that must succeed; its summary.
pub fn run_ok(bench: &mut Bench, extra: &[&str]) -> Value {
    let end = bench.run(extra, LIMIT);
    let day = summary(&end);
    assert!(end.status.success(), "{day}\n{}", end.stderr);
    day
}

/// A scratch folder in memory when the machine has one: every intent is synced to disk before
/// its request leaves, and on a disk shared with busy neighbours those syncs, not the sync logic,
/// would set the pace of these tests. A SIGKILL loses nothing the kernel holds either way.
pub fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

pub fn summary(end: &RunEnd) -> Value {
    end.summary()
        .unwrap_or_else(|| panic!("no summary; stderr:\n{}", end.stderr))
}

pub fn plan_json(bench: &Bench) -> Value {
    let destination = bench.destination.display().to_string();
    let state = bench.state.display().to_string();
    let out = bench
        .command(&["plan", &destination, "--state-dir", &state, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `preview` of the bench's destination: how many requests of each operation it prints.
pub fn preview_operations(bench: &Bench) -> BTreeMap<String, usize> {
    let destination = bench.destination.display().to_string();
    let state = bench.state.display().to_string();
    let out = bench
        .command(&["preview", &destination, "--state-dir", &state])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "preview failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut operations = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let request: Value = serde_json::from_str(line).unwrap();
        let operation = request["operation"].as_str().unwrap().to_string();
        *operations.entry(operation).or_insert(0) += 1;
    }
    operations
}
