//! A sync destination started from the wizard: the same sync as `aircall-dest run` (matching,
//! only the writes that changed, deletes in mirror mode), on a thread of its own because a
//! sync's keys share state that stays on one thread. Its progress, and a line for each record
//! that did not end as asked, come back as the run view's messages.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use tokio::sync::{mpsc::UnboundedSender, oneshot, watch};

use crate::client::RateLimiter;
use crate::credentials::Credential;
use crate::destination::Destination;
use crate::runner::StopRequest;
use crate::runner::summary::{PACE_WINDOW, Pace, eta};
use crate::sync::{SyncEnding, SyncEvent, SyncOptions, SyncProgress, SyncReport, SyncSummary};
use crate::tui::msg::{Msg, RunProgress, SyncCounts, TaskId};

/// Runs `destination` (read from `dest_path`, with `[sync]`) to its end or until stopped.
pub async fn run_sync(
    id: TaskId,
    dest_path: &Path,
    destination: Destination,
    credential: Credential,
    tx: &UnboundedSender<Msg>,
    mut stop: watch::Receiver<StopRequest>,
) -> Result<RunProgress, String> {
    let delivery = &destination.delivery;
    let interval = RateLimiter::new(delivery.rate_limit_per_minute, delivery.burst).interval();
    let options = SyncOptions {
        input: crate::cli::input(&destination, dest_path, None),
        destination,
        destination_path: dest_path.to_path_buf(),
        state_dir: crate::runner::default_state_dir(),
        credential,
        // The delete guard holds in the wizard: `run --allow-deletes` is the way past it.
        allow_deletes: false,
    };
    // Stop finishes the keys in flight; Stop now abandons them (their intents are stored, so
    // the next run reconciles them, as after a second Ctrl-C).
    let (drain_tx, drain) = watch::channel(false);
    let (now_tx, now) = oneshot::channel::<()>();
    let forward = tokio::spawn(async move {
        let mut now_tx = Some(now_tx);
        loop {
            match *stop.borrow_and_update() {
                StopRequest::None => {}
                StopRequest::Drain => {
                    drain_tx.send_replace(true);
                }
                StopRequest::Now => {
                    drain_tx.send_replace(true);
                    if let Some(now_tx) = now_tx.take() {
                        let _ = now_tx.send(());
                    }
                }
            }
            if stop.changed().await.is_err() {
                // The wizard is gone: keep the sync's own stop open until it ends.
                std::future::pending::<()>().await;
            }
        }
    });
    let events = tx.clone();
    // The counts last shown, kept for the view of a run abandoned by Stop now.
    let last = std::sync::Arc::new(std::sync::Mutex::new(RunProgress::default()));
    let shown = last.clone();
    let ran = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the sync's runtime: {e}"))?;
        let paces = RefCell::new(Paces::default());
        let observer = |event: SyncEvent<'_>| {
            let msg = match event {
                SyncEvent::Progress(progress) => {
                    let progress = paces.borrow_mut().progress(progress, interval);
                    if let Ok(mut shown) = shown.lock() {
                        *shown = progress.clone();
                    }
                    Msg::RunProgress { id, progress }
                }
                SyncEvent::Line(line) => Msg::RunFailure {
                    id,
                    text: line.to_string(),
                },
            };
            let _ = events.send(msg);
        };
        let abandoned = async {
            if now.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        Ok::<_, String>(runtime.block_on(async {
            tokio::select! {
                report = crate::sync::execute_with(&options, drain, &observer) => Some(report),
                () = abandoned => None,
            }
        }))
    })
    .await;
    forward.abort();
    match ran.map_err(|e| format!("the sync stopped unexpectedly: {e}"))?? {
        Some(report) => finished(report.map_err(|e| e.to_string())?),
        None => Ok(RunProgress {
            note: Some(
                "stopped now: the keys in flight were abandoned; the next run reconciles them \
                 (`aircall-dest run` resumes)"
                    .into(),
            ),
            in_flight: 0,
            eta_secs: None,
            done: false,
            ..last.lock().map(|p| p.clone()).unwrap_or_default()
        }),
    }
}

/// The rate of records finished and of requests sent, each over the last minute.
struct Paces {
    records: Pace,
    requests: Pace,
}

impl Default for Paces {
    fn default() -> Self {
        Paces {
            records: Pace::new(PACE_WINDOW),
            requests: Pace::new(PACE_WINDOW),
        }
    }
}

impl Paces {
    fn progress(&mut self, progress: &SyncProgress, interval: Option<Duration>) -> RunProgress {
        let summary = &progress.summary;
        let at = Duration::from_millis(summary.base.duration_ms);
        let records = self.records.per_sec(at, summary.base.accounted());
        let requests = self.requests.per_sec(at, summary.base.requests);
        // Unchanged rows finish at once; the time left is the requests still to send. The
        // expectation is an estimate and can fall short: once the run has spent it with rows
        // still to go, no time is guessed rather than a wrong "0 s".
        let remaining = progress
            .requests_expected
            .saturating_sub(summary.base.requests);
        let rows_left = summary.base.accounted() < progress.total_records;
        let knows = progress.requests_expected > 0 && (remaining > 0 || !rows_left);
        RunProgress {
            total: Some(progress.total_records),
            per_minute: records * 60.0,
            eta_secs: knows
                .then(|| eta(remaining, 1, interval, requests))
                .flatten()
                .map(|d| d.as_secs()),
            in_flight: progress.in_flight as u64,
            ..counts(summary)
        }
    }
}

/// The run view's counts of a sync summary.
fn counts(summary: &SyncSummary) -> RunProgress {
    RunProgress {
        sync: Some(SyncCounts {
            created: summary.created,
            updated: summary.updated,
            deleted: summary.deleted,
            unchanged: summary.unchanged,
        }),
        ..RunProgress::counts(&summary.base)
    }
}

/// The run view's last state: the counts, and what the run's end means for the next one; a
/// fatal end (a refused credential, the state unwritable) is the run's failure, as for `run`.
fn finished(report: SyncReport) -> Result<RunProgress, String> {
    let summary = &report.summary;
    let done = report.ending == SyncEnding::Finished;
    let mut notes = Vec::new();
    match report.ending {
        SyncEnding::Finished => {}
        SyncEnding::Interrupted => {
            notes.push("stopped: the next run carries on from the state".to_string())
        }
        SyncEnding::Fatal(message) => return Err(message),
    }
    if summary.matched > 0 {
        notes.push(format!(
            "{} new key(s) matched an existing object",
            summary.matched
        ));
    }
    if summary.duplicate_key > 0 {
        notes.push(format!(
            "{} duplicate key(s) not sent",
            summary.duplicate_key
        ));
    }
    if summary.delete_failed > 0 {
        notes.push(format!(
            "{} delete(s) refused, tried again next run",
            summary.delete_failed
        ));
    }
    notes.push(format!("{} lookup(s)", summary.lookups));
    Ok(RunProgress {
        done,
        note: Some(notes.join("; ")),
        ..counts(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, finished: u64, requests: u64) -> SyncProgress {
        let mut summary = SyncSummary::default();
        summary.base.duration_ms = seconds * 1000;
        summary.base.records_read = finished;
        summary.base.delivered = requests;
        summary.base.skipped_already_done = finished - requests;
        summary.base.requests = requests;
        summary.unchanged = finished - requests;
        SyncProgress {
            summary,
            total_records: 1000,
            requests_expected: 100,
            in_flight: 2,
        }
    }

    #[test]
    fn the_time_left_is_the_requests_still_to_send() {
        let mut paces = Paces::default();
        // 900 unchanged rows at once, then 40 writes in 60 s at a limit of one a second.
        paces.progress(&at(1, 900, 0), Some(Duration::from_secs(1)));
        let p = paces.progress(&at(60, 940, 40), Some(Duration::from_secs(1)));
        // 60 requests left: 60 s by the limit, 90 s at the 40-a-minute pace seen: the slower.
        assert_eq!(p.eta_secs, Some(90));
        assert_eq!(p.per_minute, 940.0);
        assert_eq!(p.total, Some(1000));
        assert_eq!(p.in_flight, 2);
        assert_eq!(p.skipped, 900);
        assert_eq!(p.sync.map(|s| s.unchanged), Some(900));
        // Before the baseline is chosen nothing is expected yet, so no time is guessed.
        let mut early = at(1, 0, 0);
        early.requests_expected = 0;
        assert_eq!(Paces::default().progress(&early, None).eta_secs, None);
        // The expected requests all spent with rows still to go: no time, rather than 0 s.
        let over = paces.progress(&at(70, 990, 100), Some(Duration::from_secs(1)));
        assert_eq!(over.eta_secs, None);
        // And at the end, nothing is left.
        let end = paces.progress(&at(80, 1000, 110), Some(Duration::from_secs(1)));
        assert_eq!(end.eta_secs, Some(0));
    }

    #[test]
    fn a_fatal_end_is_the_runs_failure_and_a_stop_is_not_done() {
        let report = |ending| SyncReport {
            summary: SyncSummary::default(),
            ending,
            baseline: crate::sync::matcher::Baseline::None,
            values_left_out: Vec::new(),
        };
        assert_eq!(
            finished(report(SyncEnding::Fatal(
                "the credential was refused".into()
            ))),
            Err("the credential was refused".to_string())
        );
        let stopped = finished(report(SyncEnding::Interrupted)).unwrap();
        assert!(!stopped.done);
        assert!(
            stopped
                .note
                .unwrap()
                .starts_with("stopped: the next run carries on")
        );
        assert!(finished(report(SyncEnding::Finished)).unwrap().done);
    }
}
