//! `aircall-dest run`: sends every record of a destination's dataset, headless, with a progress
//! bar on a terminal, the summary at the end and an exit code a scheduler can act on.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use tokio::sync::watch;

use super::RunArgs;
use super::context::{self, Failure, Outcome, Session};
use crate::destination::Destination;
use crate::records::RecordNo;
use crate::request::ReasonTally;
use crate::runner::{self, Ending, Event, RunOptions, RunReport, StopRequest};

pub fn run(args: &RunArgs) -> Outcome {
    let (text, mut destination) = Destination::read(&args.dest)?;
    // Another input than the file's: its extension decides the format, unless --format does.
    if args.input.is_some() || args.format.is_some() {
        destination.source.format = args.format;
    }
    if destination.sync.is_some() {
        return super::sync_run::run(args, destination);
    }
    let credential = match context::credential(&destination) {
        Ok(credential) => Some(credential),
        // A dry run needs no credential: it only builds and checks requests.
        Err(_) if args.dry_run => None,
        Err(err) => return Err(err.into()),
    };
    let sandbox_hint = credential
        .as_ref()
        .and_then(crate::tui::embedded::unreachable_hint);
    // Set up once: the runner checks and compiles nothing again.
    let (session, authorization) =
        Session::for_running(&args.dest, text, destination, credential, args.dry_run)?;
    let options = RunOptions {
        input: session.input(args.input.as_deref()),
        destination: session.destination,
        destination_path: session.path,
        plan: session.plan,
        state_dir: args
            .state_dir
            .clone()
            .unwrap_or_else(runner::default_state_dir),
        credential: session.credential,
        authorization,
        dry_run: args.dry_run,
        restart: args.restart,
        resend_in_doubt: args.resend_in_doubt,
        seed: std::env::var("AIRCALL_DEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok()),
    };
    let drain_secs = options.destination.delivery.drain_timeout_secs;
    // One thread for the deliveries, the dispatcher and the HTTP connections; the records are
    // read and built on the reader's own thread and the state is written on the writer's.
    // Alternated with the two-worker default on 2 cores (docs/benchmarks.md), it used 10–27 %
    // less CPU per record and sent as many records/s or up to 16 % more: no task moves between
    // workers, and a waking delivery never has to wake a second worker.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    let bar = progress_bar();
    let tally: Arc<Mutex<ReasonTally>> = Arc::default();
    let report = runtime.block_on(async {
        let (stop_tx, stop_rx) = watch::channel(StopRequest::None);
        tokio::spawn(watch_signals(stop_tx, drain_secs, bar.clone()));
        runner::run(options, stop_rx, events(bar.clone(), tally.clone())).await
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // Deliveries still waiting on a pause or a server are abandoned with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match report {
        Ok(report) => {
            let tally = tally.lock().map(|t| t.clone()).unwrap_or_default();
            Ok(finish(&report, &tally, args.json, sandbox_hint.as_deref()))
        }
        Err(err) => Err(Failure::error(err.to_string())),
    }
}

/// Prints the summary, the values left out, the tally of invalid reasons and the notes;
/// returns the exit code.
fn finish(report: &RunReport, tally: &ReasonTally, json: bool, sandbox_hint: Option<&str>) -> u8 {
    let summary = &report.summary;
    for warning in &report.values_left_out {
        eprintln!("warning: {warning}");
    }
    let unnamed = summary
        .values_left_out
        .saturating_sub(report.values_left_out.len() as u64);
    if unnamed > 0 {
        eprintln!("({unnamed} more value(s) left out, not shown)");
    }
    for line in tally.lines(super::preview::TALLY_REASONS) {
        eprintln!("{line}");
    }
    if json {
        let mut value = serde_json::to_value(summary).unwrap_or(Value::Null);
        if let (Some(dry), Some(object)) = (report.dry_run, value.as_object_mut()) {
            object.insert("dry_run".into(), Value::Bool(true));
            object.insert("would_send_records".into(), dry.records.into());
            object.insert("would_send_requests".into(), dry.requests.into());
        }
        println!("{value}");
    } else if let Some(dry) = report.dry_run {
        println!(
            "dry run: {} record(s) read; {} would be sent in {} request(s); {} invalid",
            summary.records_read, dry.records, dry.requests, summary.invalid
        );
    } else {
        println!("{}", summary.to_text());
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    if let Some(path) = &report.dead_letter_file {
        eprintln!("dead letters: {}", path.display());
    }
    match &report.ending {
        Ending::Fatal(message) => {
            eprintln!("error: {message}");
            if let Some(hint) = sandbox_hint.filter(|_| message.starts_with("cannot reach")) {
                eprintln!("hint: {hint}");
            }
            eprintln!("stopped: records not sent yet are sent by the next run");
        }
        Ending::Interrupted => {
            eprintln!("interrupted: run the same command again to send the rest");
        }
        Ending::StoppedOnRejected => {
            eprintln!(
                "stopped: a record was rejected and the destination says on_rejected = \"stop\""
            );
        }
        Ending::StoppedOnInvalid => {
            eprintln!(
                "stopped: a record was invalid and the destination says on_invalid = \"stop\""
            );
        }
        Ending::Finished => {}
    }
    report.exit_code()
}

/// First Ctrl-C (or SIGTERM) drains, the second stops at once.
async fn watch_signals(
    stop: watch::Sender<StopRequest>,
    drain_secs: u64,
    bar: Option<ProgressBar>,
) {
    let say = |text: String| match &bar {
        Some(bar) => bar.println(text),
        None => eprintln!("{text}"),
    };
    let mut count = 0;
    loop {
        if !next_signal().await {
            return;
        }
        count += 1;
        if count == 1 {
            say(format!(
                "stopping: no new request starts; waiting up to {drain_secs}s for requests in flight (press Ctrl-C again to stop at once)"
            ));
            let _ = stop.send(StopRequest::Drain);
        } else {
            say("stopping now: records in flight are left in doubt".to_string());
            let _ = stop.send(StopRequest::Now);
            return;
        }
    }
}

/// Waits for Ctrl-C or SIGTERM; false when signals cannot be watched.
async fn next_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.is_ok(),
            received = term.recv() => received.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

pub(super) fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
    let style = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} records  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn events(bar: Option<ProgressBar>, tally: Arc<Mutex<ReasonTally>>) -> runner::EventFn {
    Arc::new(move |event| {
        let say = |text: String| match &bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        };
        match event {
            Event::Progress(progress) => {
                let Some(bar) = &bar else { return };
                let s = progress.summary;
                if let Some(total) = progress.total_records {
                    bar.set_length(total);
                }
                bar.set_position(s.accounted());
                let eta = progress
                    .eta
                    .map_or_else(|| "–".to_string(), |eta| format!("{}s", eta.as_secs()));
                bar.set_message(format!(
                    "{} sent, {} rejected, {} invalid, {} skipped, {} in doubt · {:.0}/min · ETA {eta}",
                    s.delivered, s.dead_lettered, s.invalid, s.skipped_already_done, s.in_doubt, progress.records_per_minute
                ));
            }
            Event::Invalid(invalid) => {
                if let Ok(mut tally) = tally.lock() {
                    tally.add(&invalid.reason);
                }
                say(format!("invalid: {invalid}"))
            }
            Event::DeadLettered { records, message } => {
                say(format!("dead letter: {}: {message}", list(&records)))
            }
            Event::InDoubt { records, message } => {
                say(format!("in doubt: {}: {message}", list(&records)))
            }
        }
    })
}

fn list(records: &[RecordNo]) -> String {
    let shown: Vec<String> = records.iter().take(10).map(|n| n.to_string()).collect();
    let more = if records.len() > 10 {
        format!(" and {} more", records.len() - 10)
    } else {
        String::new()
    };
    format!(
        "record{} {}{more}",
        if records.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )
}
