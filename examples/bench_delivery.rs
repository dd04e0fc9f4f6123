//! Delivery benchmark: `cargo run --release --example bench_delivery [-- --quick]`.
//!
//! 1. 600 contacts against the sandbox limited to 600 requests/minute, the destination paced at
//!    the same 600/minute: prints the 429 count (target 0) and the achieved rate (target ≥ 98%).
//! 2. The limit off: records per second at concurrency 1, 8 and 32 (outcome log synced as usual).
//!
//! Everything runs in-process over loopback: the real runner, HTTP client and sandbox server.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use aircall_dest::credentials::{AuthKind, Credential, TokenSource};
use aircall_dest::destination::Destination;
use aircall_dest::records::Input;
use aircall_dest::request::Plan;
use aircall_dest::runner::{self, RunOptions, StopRequest};
use aircall_dest::sandbox::{self, SandboxConfig};
use aircall_dest::secret::Secret;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let paced_records = if quick { 120 } else { 600 };
    let input = dir.path().join("contacts.csv");
    write_contacts(&input, 6000);

    println!("Delivery benchmark (release build, in-process sandbox over loopback)\n");
    let paced = dir.path().join("paced.csv");
    write_contacts(&paced, paced_records);
    let rate = 600;
    let (summary, seconds) = runtime.block_on(deliver(dir.path(), &paced, rate, 1, 8, rate));
    let per_minute = summary.requests as f64 / seconds * 60.0;
    // The first request goes at once and each next one an interval later, so N requests span
    // (N - 1) intervals: the ideal rate over the run's own duration.
    let ideal_seconds = (summary.requests.saturating_sub(1)) as f64 * 60.0 / f64::from(rate);
    println!(
        "paced: {paced_records} records, sandbox limit {rate}/min, destination {rate}/min, burst 1, concurrency 8"
    );
    println!(
        "  delivered {}  requests {}  http_429 {}  {:.1}s (ideal {:.1}s)  achieved {:.1} requests/min = {:.1}% of the limit",
        summary.delivered,
        summary.requests,
        summary.http_429,
        seconds,
        ideal_seconds,
        per_minute,
        per_minute / f64::from(rate) * 100.0
    );

    println!("\nunpaced: limit off, 6000 records, sandbox without a limit");
    println!("  concurrency   records/s   requests   seconds");
    for concurrency in [1, 8, 32] {
        let (summary, seconds) =
            runtime.block_on(deliver(dir.path(), &input, 0, 1, concurrency, 0));
        assert_eq!(
            summary.delivered, summary.records_read,
            "every record delivered"
        );
        println!(
            "  {concurrency:>11}   {:>9.0}   {:>8}   {seconds:>7.2}",
            summary.delivered as f64 / seconds,
            summary.requests
        );
    }
}

/// Runs the contacts example over `input` against a fresh sandbox; returns the summary and seconds.
async fn deliver(
    dir: &Path,
    input: &Path,
    rate: u32,
    burst: u32,
    concurrency: usize,
    sandbox_rate: u32,
) -> (runner::Summary, f64) {
    let server = sandbox::start(SandboxConfig {
        rate_limit: sandbox_rate,
        seed: Some(1),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/contacts.toml"),
    )
    .expect("example");
    let mut table: toml::Table = toml::from_str(&example).expect("example parses");
    table.insert("status".into(), "active".into());
    let delivery =
        format!("rate_limit_per_minute = {rate}\nburst = {burst}\nconcurrency = {concurrency}\n");
    table.insert(
        "delivery".into(),
        toml::Value::Table(toml::from_str(&delivery).expect("delivery")),
    );
    let destination = Destination::from_toml(&toml::to_string(&table).expect("toml"), "bench")
        .expect("destination");
    let state_dir = tempfile::tempdir_in(dir).expect("state dir");
    let credential = Credential {
        name: "Local sandbox".into(),
        description: String::new(),
        api_id: "sandbox-id".into(),
        token: TokenSource::Stored(Secret::new("sandbox-token")),
        kind: AuthKind::Basic,
        base_url: server.url(),
    };
    let options = RunOptions {
        plan: Plan::new(&destination, &credential.base_url).expect("plan"),
        destination,
        destination_path: dir.join("bench.toml"),
        input: Input::Path(input.to_path_buf()),
        state_dir: state_dir.path().to_path_buf(),
        authorization: Some(credential.authorization().expect("authorization")),
        credential: Some(credential),
        dry_run: false,
        restart: false,
        resend_in_doubt: false,
        seed: Some(1),
    };
    let (_stop, stop_rx) = tokio::sync::watch::channel(StopRequest::None);
    let started = Instant::now();
    let report = runner::run(options, stop_rx, Arc::new(|_| {}))
        .await
        .expect("run");
    let seconds = started.elapsed().as_secs_f64();
    server.shutdown().await;
    (report.summary, seconds)
}

/// Writes `n` distinct contacts in the bundled CSV's layout.
fn write_contacts(path: &Path, n: usize) {
    let mut text = String::from(
        "Index,Customer Id,First Name,Last Name,Company,City,Country,Phone 1,Phone 2,Email,Subscription Date,Website\n",
    );
    for i in 1..=n {
        text.push_str(&format!(
            "{i},C{i:09},First{i},Last{i},Company {i},City,Country,+1415555{:04},,person{i}@example.com,2024-01-01,http://example.com/\n",
            i % 10_000
        ));
    }
    std::fs::write(path, text).expect("write input");
}
