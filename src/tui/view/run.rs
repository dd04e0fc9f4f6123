//! The run view on step 3: a progress bar, the counts, rate and time left, what is still in
//! flight (and what Stop does to it), the last records not delivered and where they were written.

use super::*;
use crate::destination::Status;
use crate::tui::msg::RunProgress;

/// Cells of the progress bar at most.
const BAR_WIDTH: usize = 40;

/// `[████░░░░] 42/100 (42%)`, or the records read when the total is not known yet.
pub(super) fn progress_bar(p: &RunProgress, width: usize) -> String {
    let finished = p.delivered + p.rejected + p.invalid + p.in_doubt + p.skipped;
    match p.total.filter(|t| *t > 0) {
        Some(total) => {
            let label = format!(
                " {finished}/{total} ({}%)",
                (finished.min(total) * 100) / total
            );
            let cells = width
                .saturating_sub(label.chars().count() + 2)
                .clamp(4, BAR_WIDTH);
            let full = ((finished.min(total) as usize) * cells) / total as usize;
            format!("[{}{}]{label}", "█".repeat(full), "░".repeat(cells - full))
        }
        None => format!("{finished} records done, {} read", p.read),
    }
}

/// The counts, one line (two for a sync: what it did to Aircall's objects, then the requests
/// and the records that did not end as asked).
fn count_lines(p: &RunProgress) -> Vec<String> {
    let skipped = match (p.skipped, &p.sync) {
        (0, _) | (_, Some(_)) => String::new(),
        (n, None) => format!(" · skipped {n} (done before)"),
    };
    let requests = format!(
        "sent {} · delivered {} · rejected {} · invalid {} · in doubt {}{skipped}",
        p.sent, p.delivered, p.rejected, p.invalid, p.in_doubt
    );
    match &p.sync {
        Some(sync) => vec![
            format!(
                "created {} · updated {} · deleted {} · unchanged {}",
                sync.created, sync.updated, sync.deleted, sync.unchanged
            ),
            requests,
        ],
        None => vec![requests],
    }
}

fn count_rows(model: &Model, p: &RunProgress) -> Vec<Row> {
    count_lines(p)
        .into_iter()
        .map(|line| info(model, line, model.theme.text))
        .collect()
}

fn pace_line(p: &RunProgress) -> String {
    let rate = if p.per_minute > 0.0 {
        format!("{:.0} records/min", p.per_minute)
    } else {
        "rate —".to_string()
    };
    let eta = p
        .eta_secs
        .map(|s| format!(" · ETA {}m{:02}s", s / 60, s % 60))
        .unwrap_or_default();
    format!("{rate}{eta}")
}

fn in_flight_line(model: &Model, p: &RunProgress) -> (String, ratatui::style::Style) {
    let t = &model.theme;
    let n = p.in_flight;
    let requests = match (n, p.sync.is_some()) {
        (1, false) => "request",
        (_, false) => "requests",
        (1, true) => "key's requests",
        (_, true) => "keys' requests",
    };
    match model.save.stopping {
        Stopping::No => (format!("{n} {requests} in flight"), t.dim),
        Stopping::Draining => (
            format!(
                "stopping: {n} {requests} in flight finish first (Stop now abandons them: \
                 their records stay in doubt)"
            ),
            t.warn,
        ),
        Stopping::Now => (
            format!("stopping now: {n} {requests} still in flight are abandoned"),
            t.warn,
        ),
    }
}

fn outputs_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    if let Some(outputs) = &model.save.run_outputs {
        rows.push(info(
            model,
            format!("dead letters → {}", outputs.dead_letters.display()),
            t.dim,
        ));
        if let Some(capture) = &outputs.capture {
            rows.push(info(
                model,
                format!("responses → {}", capture.display()),
                t.dim,
            ));
        }
    }
    rows
}

fn failure_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    if !model.save.run_failures.is_empty() {
        rows.push(info(model, "Last records not delivered:", t.label));
        for failure in &model.save.run_failures {
            rows.push(info(model, format!("  ✗ {failure}"), t.error));
        }
    }
    rows
}

/// After a save: how the destination will run without the wizard — its schedule under the
/// daemon watching the file's folder, or the command that runs it by hand.
pub(super) fn activation_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let Some((path, status)) = &model.save.saved else {
        return Vec::new();
    };
    let how = crate::tui::sections::schedule::how_it_runs(&model.dest.schedule, path);
    let file = &how.file;
    match (status, &how.daemon) {
        (Status::Active, Some((when, folder))) => vec![
            info(
                model,
                format!("runs {when} under `aircall-dest daemon {folder}`"),
                t.ok,
            ),
            info(
                model,
                format!(
                    "  start the daemon once for that folder: aircall-dest daemon {folder} \
                     (docs/operations.md: a systemd unit)"
                ),
                t.dim,
            ),
        ],
        (Status::Active, None) => vec![info(
            model,
            format!("no schedule: run it with `aircall-dest run {file}`"),
            t.ok,
        )],
        (Status::Paused, _) => vec![info(
            model,
            format!("paused: `aircall-dest activate {file}` before it runs"),
            t.dim,
        )],
    }
}

pub(super) fn run_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let width = form_width(model).saturating_sub(2) as usize;
    let mut rows = match &model.save.run {
        Run::Idle => return Vec::new(),
        Run::Running { progress, .. } => {
            let (flight, style) = in_flight_line(model, progress);
            let mut rows = vec![
                info(model, format!("{} running…", spinner(model)), t.warn),
                info(model, progress_bar(progress, width), t.ok),
            ];
            rows.extend(count_rows(model, progress));
            rows.push(info(model, pace_line(progress), t.text));
            rows.push(info(model, flight, style));
            rows
        }
        Run::Finished(Ok(p)) => {
            let mut rows = vec![
                info(
                    model,
                    if p.done {
                        "✓ run finished"
                    } else {
                        "■ run stopped"
                    },
                    t.ok,
                ),
                info(model, progress_bar(p, width), t.ok),
            ];
            rows.extend(count_rows(model, p));
            if let Some(note) = &p.note {
                rows.push(info(model, note.clone(), t.dim));
            }
            rows
        }
        Run::Finished(Err(e)) => vec![info(model, format!("✗ run failed: {e}"), t.error)],
    };
    rows.extend(failure_rows(model));
    rows.extend(outputs_rows(model));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_records_finished() {
        let p = RunProgress {
            delivered: 40,
            rejected: 2,
            total: Some(100),
            ..RunProgress::default()
        };
        let bar = progress_bar(&p, 30);
        assert!(bar.ends_with("] 42/100 (42%)"), "{bar}");
        let cells = bar.chars().filter(|c| *c == '█' || *c == '░').count();
        let full = bar.chars().filter(|c| *c == '█').count();
        assert_eq!(full, 42 * cells / 100);
        let unknown = RunProgress {
            read: 7,
            delivered: 3,
            ..RunProgress::default()
        };
        assert_eq!(progress_bar(&unknown, 30), "3 records done, 7 read");
    }

    #[test]
    fn records_done_before_fill_the_bar_of_a_resumed_run() {
        let p = RunProgress {
            delivered: 76,
            skipped: 24,
            total: Some(100),
            ..RunProgress::default()
        };
        assert!(progress_bar(&p, 30).ends_with("] 100/100 (100%)"));
        assert_eq!(
            count_lines(&p),
            [
                "sent 0 · delivered 76 · rejected 0 · invalid 0 · in doubt 0 · skipped 24 (done before)"
            ]
        );
    }

    #[test]
    fn a_sync_shows_what_it_did_to_the_objects_then_the_requests() {
        let p = RunProgress {
            sent: 7,
            delivered: 6,
            invalid: 1,
            skipped: 93,
            sync: Some(crate::tui::msg::SyncCounts {
                created: 4,
                updated: 2,
                deleted: 1,
                unchanged: 93,
            }),
            ..RunProgress::default()
        };
        assert_eq!(
            count_lines(&p),
            [
                "created 4 · updated 2 · deleted 1 · unchanged 93",
                "sent 7 · delivered 6 · rejected 0 · invalid 1 · in doubt 0",
            ]
        );
    }
}
