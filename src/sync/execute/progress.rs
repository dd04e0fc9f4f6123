//! What a sync run tells whoever watches it (the wizard's run view, `run`'s progress bar): how it
//! stands, at most ten times a second and at each turn of the run, and a line for each record
//! that did not end as asked.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::sync::summary::SyncSummary;

/// Progress goes out at most this often (and the run's end always comes in its report).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// How a sync run stands while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncProgress {
    /// The counts so far, with the requests sent so far.
    pub summary: SyncSummary,
    /// Records in the export (counted by the run's first pass).
    pub total_records: u64,
    /// Requests the run expects to send in all (writes, and lookups or listing pages), once
    /// known; 0 before.
    pub requests_expected: u64,
    /// Keys whose requests are going now.
    pub in_flight: usize,
}

/// What a sync run tells whoever watches it.
#[derive(Debug, Clone, Copy)]
pub enum SyncEvent<'a> {
    /// How the run stands (at most ten times a second).
    Progress(&'a SyncProgress),
    /// A record or object that did not end as asked (invalid, a duplicate key, rejected, in
    /// doubt, skipped), one line saying which and why.
    Line(&'a str),
}

/// What `run` shows of a sync without a terminal: each [`SyncEvent::Line`] on standard error.
pub fn print_lines(event: SyncEvent<'_>) {
    if let SyncEvent::Line(line) = event {
        eprintln!("{line}");
    }
}

/// The run's side of the watching: what the observer is told, and when.
pub(super) struct Watcher<'a> {
    observer: &'a dyn Fn(SyncEvent<'_>),
    pub started: Instant,
    total_records: u64,
    /// Requests the run expects to send, once the baseline is chosen.
    pub requests_expected: Cell<u64>,
    pub in_flight: Cell<usize>,
    reported: Cell<Option<Instant>>,
}

impl<'a> Watcher<'a> {
    pub fn new(observer: &'a dyn Fn(SyncEvent<'_>), started: Instant, total_records: u64) -> Self {
        Watcher {
            observer,
            started,
            total_records,
            requests_expected: Cell::new(0),
            in_flight: Cell::new(0),
            reported: Cell::new(None),
        }
    }

    /// Tells the observer how the run stands (`summary`, asked for only then): at most every
    /// [`PROGRESS_EVERY`] unless `now`.
    pub fn report(&self, now: bool, summary: impl FnOnce() -> SyncSummary) {
        let at = Instant::now();
        if !now
            && self
                .reported
                .get()
                .is_some_and(|last| at.duration_since(last) < PROGRESS_EVERY)
        {
            return;
        }
        self.reported.set(Some(at));
        (self.observer)(SyncEvent::Progress(&SyncProgress {
            summary: summary(),
            total_records: self.total_records,
            requests_expected: self.requests_expected.get(),
            in_flight: self.in_flight.get(),
        }));
    }

    /// A record (or object) that did not end as asked, said once to the observer.
    pub fn say(&self, line: &str) {
        (self.observer)(SyncEvent::Line(line));
    }
}
