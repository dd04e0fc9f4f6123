//! Soak test of crash-safe delivery: thousands of contacts through a sandbox with heavy faults,
//! the real `run` SIGKILLed at random points many times, rerun until done, then every record
//! counted at the sandbox. Prints the figures; exits 1 if anything was lost or duplicated.
//!
//! ```text
//! cargo run --release --example soak -- [--records 5000] [--kills 50] [--seed N]
//!     [--faults 500=0.05,503=0.05,429=0.03,drop=0.03,apply_then_drop=0.03,latency=1..10ms]
//!     [--concurrency 4] [--delays 20..400]
//! ```
//!
//! The harness is its own `aircall-dest`: it re-runs itself with `AIRCALL_DEST_SOAK_CHILD=1`,
//! which hands the command line to the program's real entry point, so no separate binary needs
//! building and the code killed is exactly the code shipped.

#[path = "../tests/it/crash_support.rs"]
mod crash_support;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use aircall_dest::sandbox::{self, FaultSpec, JournalStatus, SandboxConfig};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crash_support::{Bench, Program, Tally};

const CHILD: &str = "AIRCALL_DEST_SOAK_CHILD";

struct Options {
    records: usize,
    kills: usize,
    seed: u64,
    faults: String,
    concurrency: usize,
    delays: std::ops::Range<u64>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        records: 5000,
        kills: 50,
        seed: 42,
        faults: "500=0.05,503=0.05,429=0.03,drop=0.03,apply_then_drop=0.03,latency=1..10ms".into(),
        concurrency: 4,
        delays: 20..400,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: {text:?} is not a number"))
        };
        match flag.as_str() {
            "--records" => options.records = number(value()?)? as usize,
            "--kills" => options.kills = number(value()?)? as usize,
            "--seed" => options.seed = number(value()?)?,
            "--faults" => options.faults = value()?,
            "--concurrency" => options.concurrency = number(value()?)? as usize,
            "--delays" => {
                let text = value()?;
                let (low, high) = text
                    .split_once("..")
                    .ok_or(format!("--delays {text:?}: expected MIN..MAX in ms"))?;
                options.delays = number(low.to_string())?..number(high.to_string())?;
                if options.delays.is_empty() {
                    return Err(format!("--delays {text:?}: MIN must be below MAX"));
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return aircall_dest::cli::main();
    }
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("soak: {message}");
            return ExitCode::from(2);
        }
    };
    match soak(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("soak: {message}");
            ExitCode::from(2)
        }
    }
}

fn soak(options: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let faults: FaultSpec = options
        .faults
        .parse()
        .map_err(|e| format!("--faults: {e}"))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            faults,
            seed: Some(options.seed),
            ..SandboxConfig::default()
        }))
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let program = Program {
        path: std::env::current_exe().map_err(|e| e.to_string())?,
        prefix: Vec::new(),
        env: vec![(CHILD.to_string(), "1".to_string())],
    };
    let delivery = format!(
        "rate_limit_per_minute = 120000\nburst = 4\nconcurrency = {}\nmax_attempts = 30\nbackoff_initial_ms = 5\n\
         backoff_max_ms = 100\nrate_limit_fallback_secs = 1\nrequest_timeout_secs = 5\ndrain_timeout_secs = 5",
        options.concurrency
    );
    let mut bench = Bench::new(
        dir.path(),
        program,
        &sandbox.url(),
        options.records,
        &delivery,
    );
    println!(
        "soak: {} records, {} kills at {}..{} ms, concurrency {}, faults {}, seed {}",
        options.records,
        options.kills,
        options.delays.start,
        options.delays.end,
        options.concurrency,
        options.faults,
        options.seed
    );

    let mut rng = StdRng::seed_from_u64(options.seed);
    let kills = bench.kill_runs(options.kills, options.delays.clone(), &mut rng);
    let mid = Tally::of_state(&sandbox.state(), options.records);
    println!(
        "after {} kill(s) ({} run(s) ended on their own): {} of {} records at the sandbox",
        kills.killed,
        kills.ended.len(),
        options.records - mid.lost.len(),
        options.records
    );
    let last = if kills.completed {
        kills.ended.into_iter().last().ok_or("no run")?
    } else {
        bench.rerun_until_done(10, Duration::from_secs(600))
    };
    let summary = last.summary();

    let tally = Tally::of_state(&sandbox.state(), options.records);
    let journal = sandbox.journal();
    let posts = journal.iter().filter(|e| e.method == "POST").count();
    let applied_unanswered = journal
        .iter()
        .filter(|e| e.method == "POST" && e.fault.as_deref() == Some("apply_then_drop"))
        .count();
    let dropped = journal
        .iter()
        .filter(|e| {
            e.method == "POST"
                && e.status == JournalStatus::Dropped
                && e.fault.as_deref() == Some("drop")
        })
        .count();
    let lookups = journal
        .iter()
        .filter(|e| e.method == "GET" && e.path == "/v1/contacts/search")
        .count();
    let injected = journal
        .iter()
        .filter(|e| {
            e.fault
                .as_deref()
                .is_some_and(|f| f.chars().all(|c| c.is_ascii_digit()))
        })
        .count();

    println!(
        "requests received:   {} ({posts} creates, {lookups} lookups)",
        journal.len()
    );
    println!(
        "faults injected:     {injected} error statuses, {dropped} creates dropped unapplied, {applied_unanswered} applied then dropped"
    );
    if kills.completed {
        println!(
            "kills:               {} (the input finished before the last kill was due)",
            kills.killed
        );
    } else {
        println!("kills:               {}", kills.killed);
    }
    match &summary {
        Some(summary) => println!(
            "last run:            exit {:?}, {summary}",
            last.status.code()
        ),
        None => println!(
            "last run:            exit {:?}, no summary; stderr:\n{}",
            last.status.code(),
            last.stderr
        ),
    }
    println!("contacts at sandbox: {}", tally.contacts);
    println!("lost = {}", tally.lost.len());
    println!("duplicated = {}", tally.duplicated.len());
    println!("contacts of no record = {}", tally.strangers);
    println!("elapsed {:.1}s", started.elapsed().as_secs_f64());
    if !tally.exact() {
        println!("{}", tally.describe());
    }
    let clean_end = last.status.success() && summary.is_some_and(|s| s["in_doubt"] == 0);
    if !clean_end {
        println!(
            "the last run did not finish cleanly; stderr:\n{}",
            last.stderr
        );
    }
    Ok(tally.exact() && clean_end)
}
