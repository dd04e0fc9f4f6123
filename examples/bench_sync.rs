//! Sync benchmark: `cargo run --release --example bench_sync [-- --rows N] [--plan-only]`.
//!
//! 1. `plan` over an export of N rows (default 1,000,000) against a state that already knows
//!    every key: wall time and peak RSS of the `plan` process (targets: < 20 s, < 64 MB).
//! 2. `run` of that unchanged export: the requests it sends (target 0) and its time.
//! 3. The day-2 scenario of the sync test against the in-process sandbox (1,000 contacts; 20 rows
//!    changed — 15 names, 1 number replaced, 4 emails added — 10 new, 5 removed): requests per
//!    changed record (target 1.0 for a scalar change), and what the whole day cost.
//! 4. Concurrency: 10,000 contacts synced, then every row renamed and synced again at
//!    `concurrency` 1 and at 8, rate limit off, state on disk: changed rows per second.
//!
//! The exports and the destination are the sync tests' (`aircall_dest::sync::fixture`).
//! `--plan-only` stops after 1 (for profiling `plan`), `--concurrency-only` runs 4 alone, `--keep`
//! leaves the export and state in place and prints the `plan` command line that was measured (to
//! run it again under `perf record` or `valgrind`). The `plan` and `run` processes are this program run again as the command line (so their RSS is
//! theirs alone), measured with GNU time.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use aircall_dest::credentials::{AuthKind, Credential, TokenSource};
use aircall_dest::destination::Destination;
use aircall_dest::records::{self, Input};
use aircall_dest::request::Plan;
use aircall_dest::sandbox::{self, SandboxConfig};
use aircall_dest::secret::Secret;
use aircall_dest::sync::classify::{Classifier, Verdict};
use aircall_dest::sync::fixture::{self, ExportRow};
use aircall_dest::sync::phones::PhoneForm;
use aircall_dest::sync::store::{Origin, SyncStore};
use aircall_dest::sync::{self, SyncOptions, SyncReport};

const CLI_ENV: &str = "BENCH_SYNC_AS_CLI";

fn main() -> std::process::ExitCode {
    if std::env::var_os(CLI_ENV).is_some() {
        return aircall_dest::cli::main();
    }
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let plan_only = args.iter().any(|a| a == "--plan-only");
    if args.iter().any(|a| a == "--concurrency-only") {
        let dir = tempfile::tempdir().expect("temp dir");
        concurrency(dir.path());
        return std::process::ExitCode::SUCCESS;
    }
    let mut dir = tempfile::tempdir().expect("temp dir");
    dir.disable_cleanup(args.iter().any(|a| a == "--keep"));
    let home = dir.path().join("home");
    let state = dir.path().join("state");
    let export = dir.path().join("contacts.csv");
    let destination = dir.path().join("sync.toml");

    let started = Instant::now();
    fixture::write_export(&export, fixture::day1(rows)).expect("export");
    write_destination(&destination);
    let known = know_every_key(&destination, &state);
    println!(
        "setup: {rows} rows written and {known} keys stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let dest = destination.display().to_string();
    let state_dir = state.display().to_string();
    let (plan_out, seconds, rss_kb) =
        measured(&home, &["plan", &dest, "--state-dir", &state_dir, "--json"]);
    let plan: serde_json::Value = serde_json::from_str(plan_out.trim()).unwrap_or_default();
    println!(
        "plan over {rows} rows against {known} keys: {seconds:.2} s, peak RSS {:.1} MB (targets < 20 s, < 64 MB); unchanged {}, create {}, update {}, requests_estimate {}",
        rss_kb as f64 / 1024.0,
        plan["unchanged"],
        plan["create"],
        plan["update"],
        plan["requests_estimate"]
    );
    if args.iter().any(|a| a == "--keep") {
        println!(
            "kept: {CLI_ENV}=1 AIRCALL_DEST_HOME={} {} plan {dest} --state-dir {state_dir} --json",
            home.display(),
            std::env::current_exe().expect("own path").display()
        );
    }
    if plan_only {
        return std::process::ExitCode::SUCCESS;
    }

    add_credential(&home, "http://127.0.0.1:9");
    let (run_out, seconds, rss_kb) =
        measured(&home, &["run", &dest, "--state-dir", &state_dir, "--json"]);
    let run: serde_json::Value = serde_json::from_str(run_out.trim()).unwrap_or_default();
    println!(
        "run of the unchanged export: {} request(s) (target 0), {} unchanged, {seconds:.2} s, peak RSS {:.1} MB",
        run["requests"],
        run["unchanged"],
        rss_kb as f64 / 1024.0
    );

    day_two(dir.path());
    concurrency(dir.path());
    std::process::ExitCode::SUCCESS
}

/// The program run as the command line under GNU time: stdout, seconds, peak RSS in KB.
fn measured(home: &Path, args: &[&str]) -> (String, f64, u64) {
    let exe = std::env::current_exe().expect("own path");
    let report = home.with_file_name("time.txt");
    let out = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&report)
        .args(["-f", "%e %M"])
        .arg(&exe)
        .args(args)
        .env(CLI_ENV, "1")
        .env("AIRCALL_DEST_HOME", home)
        .output()
        .expect("GNU time at /usr/bin/time");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let timing = std::fs::read_to_string(&report).unwrap_or_default();
    let mut parts = timing.split_whitespace().rev().take(2).collect::<Vec<_>>();
    parts.reverse();
    let seconds = parts
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let rss = parts.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        seconds,
        rss,
    )
}

/// The sync tests' destination, rate limit off.
fn write_destination(path: &Path) {
    write_destination_with(path, 4);
}

fn write_destination_with(path: &Path, concurrency: usize) {
    let delivery = format!("rate_limit_per_minute = 0\nconcurrency = {concurrency}");
    let text = fixture::destination(&delivery, "key = \"Customer Id\"\nmode = \"mirror\"", "");
    std::fs::write(path, text).expect("destination");
}

/// Stores every key of the export as synced, exactly as a run would have left it.
fn know_every_key(destination_path: &Path, state_dir: &Path) -> u64 {
    let destination = Destination::load(destination_path).expect("destination");
    let settings = destination.sync.clone().expect("[sync]");
    let plan = Plan::new(&destination, "http://127.0.0.1:9").expect("plan");
    let path = sync::state_path(state_dir, destination_path);
    let store = SyncStore::open(&path).expect("state");
    let classifier = Classifier {
        resource: aircall_dest::destination::SyncResource::Contacts,
        settings: &settings,
        plan: &plan,
        store: &store,
        phones: PhoneForm::of(&destination),
    };
    let input = destination_path.with_file_name("contacts.csv");
    store.begin().expect("begin");
    let mut id = 0;
    for record in records::open(&Input::Path(input), None).expect("export") {
        if let Ok(Verdict::New { row, .. }) = classifier.classify(record) {
            id += 1;
            store
                .settle(&row.key, id, Origin::Created, &row.shape, Some(&row.digest))
                .expect("settle");
        }
    }
    store.commit().expect("commit");
    id
}

fn add_credential(home: &Path, base_url: &str) {
    use std::io::Write;
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args([
            "credentials",
            "add",
            "sandbox",
            "--api-id",
            "bench-id",
            "--token-stdin",
            "--base-url",
            base_url,
        ])
        .env(CLI_ENV, "1")
        .env("AIRCALL_DEST_HOME", home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("credentials add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"bench-token\n")
        .expect("token");
    child.wait().expect("credentials add ends");
}

/// A sandbox (rate limit off) with its own runtime, and a sync destination beside it.
struct Day {
    runtime: tokio::runtime::Runtime,
    server: aircall_dest::sandbox::Sandbox,
    dir: std::path::PathBuf,
    export: std::path::PathBuf,
    destination_path: std::path::PathBuf,
}

impl Day {
    fn new(dir: &Path) -> Day {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime
            .block_on(sandbox::start(SandboxConfig {
                rate_limit: 0,
                ..SandboxConfig::default()
            }))
            .expect("sandbox");
        let dir = dir.join("day");
        std::fs::create_dir_all(&dir).expect("day dir");
        Day {
            runtime,
            server,
            export: dir.join("contacts.csv"),
            destination_path: dir.join("sync.toml"),
            dir,
        }
    }

    /// Syncs `rows` with `concurrency`: what the run reported, and its wall time in seconds.
    fn sync(
        &self,
        rows: impl IntoIterator<Item = ExportRow>,
        concurrency: usize,
    ) -> (SyncReport, f64) {
        fixture::write_export(&self.export, rows).expect("export");
        write_destination_with(&self.destination_path, concurrency);
        let options = SyncOptions {
            destination: Destination::load(&self.destination_path).expect("destination"),
            destination_path: self.destination_path.clone(),
            input: Input::Path(self.export.clone()),
            state_dir: self.dir.join("state"),
            credential: Credential {
                name: "sandbox".into(),
                description: String::new(),
                api_id: "sandbox-id".into(),
                token: TokenSource::Stored(Secret::new("sandbox-token")),
                kind: AuthKind::Basic,
                base_url: self.server.url(),
            },
            allow_deletes: false,
        };
        let (_tx, stop) = tokio::sync::watch::channel(false);
        let started = Instant::now();
        let report = self
            .runtime
            .block_on(sync::execute(&options, stop))
            .expect("sync run");
        (report, started.elapsed().as_secs_f64())
    }
}

/// Day 1 then day 2 of the sync test against the in-process sandbox; prints what day 2 cost.
fn day_two(dir: &Path) {
    let day = Day::new(dir);
    let (day1, seconds) = day.sync(fixture::day1(1000), 4);
    println!(
        "day 1 (1,000 new rows): {} created, {} request(s), {seconds:.2} s",
        day1.summary.created, day1.summary.base.requests,
    );
    day.server.reset_journal();
    let (day2, seconds) = day.sync(fixture::day2(1000), 4);
    let journal = day.server.journal();
    // The writes for changed rows: every write but the creates and the deletes of contacts.
    let writes_for_changed = journal
        .iter()
        .filter(|e| {
            e.method != "GET"
                && e.path != "/v1/contacts"
                && !(e.method == "DELETE" && e.path.matches('/').count() == 3)
        })
        .count();
    let s = &day2.summary;
    println!(
        "day 2: {} updated, {} created, {} deleted, {} unchanged; {} request(s) in all ({} lookups), {seconds:.2} s",
        s.updated, s.created, s.deleted, s.unchanged, s.base.requests, s.lookups,
    );
    println!(
        "requests per changed record: {:.2} ({writes_for_changed} writes for {} changed rows; target 1.0 for a scalar change)",
        writes_for_changed as f64 / s.updated.max(1) as f64,
        s.updated
    );
}

/// 10,000 contacts synced, then every row renamed and synced at concurrency 1, renamed again
/// and synced at concurrency 8: changed rows per second at each.
fn concurrency(dir: &Path) {
    const ROWS: usize = 10_000;
    let day = Day::new(dir);
    let (first, seconds) = day.sync(fixture::day1(ROWS), 8);
    println!(
        "concurrency setup: {} created in {seconds:.2} s",
        first.summary.created
    );
    let renamed = |tag: &'static str| {
        fixture::day1(ROWS).map(move |mut row| {
            row.first = format!("{tag}{}", row.id);
            row
        })
    };
    let mut rates = Vec::new();
    for (tag, concurrency) in [("Once", 1), ("Twice", 8)] {
        let (report, seconds) = day.sync(renamed(tag), concurrency);
        let rate = report.summary.updated as f64 / seconds;
        println!(
            "changed rows at concurrency {concurrency}: {} updated, {} request(s), {seconds:.2} s, {rate:.0} rows/s",
            report.summary.updated, report.summary.base.requests
        );
        rates.push(rate);
    }
    println!(
        "concurrency 8 vs 1 on changed rows: {:.1}x",
        rates[1] / rates[0].max(f64::MIN_POSITIVE)
    );
}
