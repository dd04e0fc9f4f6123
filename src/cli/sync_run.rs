//! `aircall-dest run` for a destination with `[sync]`: the sync executor, its summary (the
//! first version's fields plus created, updated, deleted, unchanged) and exit code.

use std::time::Duration;

use tokio::sync::watch;

use serde_json::Value;

use super::context::{self, Failure, Outcome};
use super::{RunArgs, exit};
use crate::destination::Destination;
use crate::sync::{self, SyncEnding, SyncEvent, SyncOptions};

pub fn run(args: &RunArgs, destination: Destination) -> Outcome {
    if args.dry_run {
        return Err(Failure::usage(format!(
            "{} syncs: `aircall-dest plan {}` shows what a run would do without sending anything",
            args.dest.display(),
            args.dest.display()
        )));
    }
    let credential = context::credential(&destination)?;
    let input = context::input(&destination, &args.dest, args.input.as_deref());
    let options = SyncOptions {
        destination,
        destination_path: args.dest.clone(),
        input,
        state_dir: args
            .state_dir
            .clone()
            .unwrap_or_else(crate::runner::default_state_dir),
        credential,
        allow_deletes: args.allow_deletes,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    let (stop_tx, stop) = watch::channel(false);
    let bar = super::run::progress_bar();
    // On a terminal, a bar with the sync's counts; the lines about records print above it.
    let observer = |event: SyncEvent<'_>| match (event, &bar) {
        (SyncEvent::Line(line), Some(bar)) => bar.println(line),
        (SyncEvent::Progress(progress), Some(bar)) => {
            let s = &progress.summary;
            bar.set_length(progress.total_records);
            bar.set_position(s.base.accounted());
            bar.set_message(format!(
                "{} created, {} updated, {} deleted, {} unchanged",
                s.created, s.updated, s.deleted, s.unchanged
            ));
        }
        (event, None) => sync::print_lines(event),
    };
    let report = runtime.block_on(async {
        tokio::spawn(watch_signals(stop_tx));
        sync::execute_with(&options, stop, &observer).await
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = report.map_err(|e| Failure::error(e.to_string()))?;
    let summary = &report.summary;
    for warning in &report.values_left_out {
        eprintln!("warning: {warning}");
    }
    let unnamed = summary
        .base
        .values_left_out
        .saturating_sub(report.values_left_out.len() as u64);
    if unnamed > 0 {
        eprintln!("({unnamed} more value(s) left out, not shown)");
    }
    if args.json {
        println!("{}", serde_json::to_value(summary).unwrap_or(Value::Null));
    } else {
        println!("{}", summary.to_text());
    }
    let code = report.exit_code();
    match report.ending {
        SyncEnding::Fatal(message) => {
            eprintln!("error: {message}");
            eprintln!("stopped: the next run carries on from the state");
        }
        SyncEnding::Interrupted => {
            eprintln!("interrupted: run the same command again to finish the sync");
        }
        SyncEnding::Finished => {}
    }
    Ok(code)
}

/// The first Ctrl-C or SIGTERM stops the sync between two keys; the second ends the process at
/// once (the state is safe at every point: the next run reconciles what was in flight).
async fn watch_signals(stop: watch::Sender<bool>) {
    for count in 1.. {
        #[cfg(unix)]
        let received = {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => tokio::select! {
                    result = tokio::signal::ctrl_c() => result.is_ok(),
                    received = term.recv() => received.is_some(),
                },
                Err(_) => tokio::signal::ctrl_c().await.is_ok(),
            }
        };
        #[cfg(not(unix))]
        let received = tokio::signal::ctrl_c().await.is_ok();
        if !received {
            return;
        }
        if count == 1 {
            eprintln!("stopping: no new request starts (press Ctrl-C again to stop at once)");
            let _ = stop.send(true);
        } else {
            std::process::exit(i32::from(exit::INTERRUPTED));
        }
    }
}
