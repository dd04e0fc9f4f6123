//! `aircall-dest history DEST`: the past runs of a destination from its state file, newest first;
//! `--json` prints them as one JSON array.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;
use serde_json::{Value, json};

use super::context::Outcome;
use super::exit;
use crate::state::{RunRecord, StateStore};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Print the runs as one JSON array on standard output.
    #[arg(long)]
    pub json: bool,
    /// Show at most N runs.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Where the state files live (default: the state folder, as for `run`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

pub fn run(args: &HistoryArgs) -> Outcome {
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(crate::runner::default_state_dir);
    let path = StateStore::path_for(&state_dir, &args.dest);
    // Opening creates a state file; asking about the past must not.
    let runs = if path.exists() {
        StateStore::open(&path)?.runs(args.limit)?
    } else {
        Vec::new()
    };
    if args.json {
        let array: Vec<Value> = runs.iter().map(run_json).collect();
        println!("{}", Value::Array(array));
        return Ok(exit::SUCCESS);
    }
    if runs.is_empty() {
        println!(
            "no runs recorded for {} (state file {})",
            args.dest.display(),
            path.display()
        );
        return Ok(exit::SUCCESS);
    }
    println!(
        "{:<24}  {:<12}  {:>4}  {:>8}  {:>7}  {:>9}  {:>8}  {:>7}  {:>5}  first error",
        "started", "trigger", "exit", "duration", "read", "delivered", "rejected", "invalid", "429"
    );
    for run in &runs {
        let summary = summary(run);
        let count = |name: &str| {
            summary
                .as_ref()
                .and_then(|s| s.get(name))
                .and_then(Value::as_u64)
                .map_or_else(|| "-".to_string(), |n| n.to_string())
        };
        println!(
            "{:<24}  {:<12}  {:>4}  {:>8}  {:>7}  {:>9}  {:>8}  {:>7}  {:>5}  {}",
            rfc3339(run.started_at_ms),
            run.trigger,
            run.exit_code
                .map_or_else(|| "-".to_string(), |c| c.to_string()),
            duration_ms(run).map_or_else(
                || "running".to_string(),
                |ms| format!("{:.1}s", ms as f64 / 1000.0)
            ),
            count("records_read"),
            count("delivered"),
            count("dead_lettered"),
            count("invalid"),
            count("http_429"),
            run.first_error.as_deref().unwrap_or("")
        );
    }
    Ok(exit::SUCCESS)
}

fn summary(run: &RunRecord) -> Option<Value> {
    run.summary_json
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .filter(Value::is_object)
}

fn duration_ms(run: &RunRecord) -> Option<i64> {
    run.finished_at_ms
        .map(|finished| finished.saturating_sub(run.started_at_ms))
}

fn rfc3339(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    crate::timestamp::rfc3339(UNIX_EPOCH + Duration::from_millis(ms))
}

/// One run as `history --json` prints it. `summary` is the object `run --json` printed (its
/// counts), `null` for a run that never finished.
fn run_json(run: &RunRecord) -> Value {
    json!({
        "id": run.id,
        "started": rfc3339(run.started_at_ms),
        "finished": run.finished_at_ms.map(rfc3339),
        "trigger": run.trigger,
        "input": run.input,
        "exit_code": run.exit_code,
        "duration_ms": duration_ms(run),
        "summary": summary(run),
        "first_error": run.first_error,
    })
}
