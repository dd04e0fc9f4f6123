//! What a run reports: the end-of-run summary (DESIGN §3, field for field) and the live progress
//! shown while it runs.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

/// The summary `run --json` prints. Every record read is counted in exactly one of
/// `delivered`, `dead_lettered`, `invalid`, `skipped_already_done` and `in_doubt`;
/// `values_left_out` counts values, not records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub records_read: u64,
    pub delivered: u64,
    pub dead_lettered: u64,
    pub invalid: u64,
    pub skipped_already_done: u64,
    pub in_doubt: u64,
    /// Optional mapped values that failed their transform and were left out of records that
    /// were still sent (or, in a dry run, would be).
    pub values_left_out: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    pub retries: u64,
    pub http_429: u64,
    pub duration_ms: u64,
}

impl Summary {
    /// The records that have an end in this run.
    pub fn accounted(&self) -> u64 {
        self.delivered
            + self.dead_lettered
            + self.invalid
            + self.skipped_already_done
            + self.in_doubt
    }

    /// The plain-text summary printed when not `--json`.
    pub fn to_text(&self) -> String {
        let left_out = if self.values_left_out > 0 {
            format!(
                "; {} value(s) left out of records still sent",
                self.values_left_out
            )
        } else {
            String::new()
        };
        format!(
            "{} record(s) read: {} delivered, {} dead-lettered, {} invalid, {} skipped (already done), {} in doubt{}\n\
             {} request(s), {} retr{}, {} answered 429, in {:.1}s",
            self.records_read,
            self.delivered,
            self.dead_lettered,
            self.invalid,
            self.skipped_already_done,
            self.in_doubt,
            left_out,
            self.requests,
            self.retries,
            if self.retries == 1 { "y" } else { "ies" },
            self.http_429,
            self.duration_ms as f64 / 1000.0
        )
    }
}

/// A live view of a run, sent after every change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub summary: Summary,
    /// How many records the input holds, once counted (not for standard input).
    pub total_records: Option<u64>,
    pub in_flight: usize,
    /// Records finished per minute over the last minute ([`Pace`]; skipped ones excluded: they
    /// cost nothing).
    pub records_per_minute: f64,
    /// Time left: the slower of the observed pace and what the rate limit allows.
    pub eta: Option<Duration>,
}

/// The time left for `remaining` records: no faster than the rate limit allows (one request per
/// `interval`, `per_request` records each), nor than the pace observed so far.
pub fn eta(
    remaining: u64,
    per_request: usize,
    interval: Option<Duration>,
    observed_per_sec: f64,
) -> Option<Duration> {
    if remaining == 0 {
        return Some(Duration::ZERO);
    }
    let per_request = per_request.max(1) as u64;
    let by_limit = interval.map(|i| {
        i.saturating_mul(u32::try_from(remaining.div_ceil(per_request)).unwrap_or(u32::MAX))
    });
    let by_pace = (observed_per_sec > 0.0)
        .then(|| Duration::from_secs_f64(remaining as f64 / observed_per_sec));
    match (by_limit, by_pace) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The rate shown ("records/min") and the time left are measured over this much of a run's
/// recent past: a minute, as the rate's unit, so a 429 pause shows within it.
pub const PACE_WINDOW: Duration = Duration::from_secs(60);

/// How fast records finish now: the rate over the last `window` of the run (the whole run while
/// it is younger), so that a pause for a 429 or a slowing server shows in the rate and the time
/// left within a window, instead of being averaged away over a long run.
#[derive(Debug)]
pub struct Pace {
    window: Duration,
    /// (time since the run began, records finished by then), oldest first; the first is the
    /// newest sample at least `window` old, or the run's start.
    samples: VecDeque<(Duration, u64)>,
}

impl Pace {
    pub fn new(window: Duration) -> Self {
        Pace {
            window,
            samples: VecDeque::from([(Duration::ZERO, 0)]),
        }
    }

    /// Notes that `done` records had finished `at` into the run; returns records per second
    /// over the window that ends there.
    pub fn per_sec(&mut self, at: Duration, done: u64) -> f64 {
        if let Some(&(last, last_done)) = self.samples.back()
            && at < last
        {
            // The run's clock never goes back: a sample that would is ignored.
            return self.rate(last, last_done);
        }
        self.samples.push_back((at, done));
        while self
            .samples
            .get(1)
            .is_some_and(|&(second, _)| at.saturating_sub(second) >= self.window)
        {
            self.samples.pop_front();
        }
        self.rate(at, done)
    }

    fn rate(&self, at: Duration, done: u64) -> f64 {
        let (since, base) = self.samples.front().copied().unwrap_or_default();
        let span = at.saturating_sub(since).as_secs_f64();
        if span > 0.0 {
            done.saturating_sub(base) as f64 / span
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_summary_has_exactly_the_designed_fields() {
        let value = serde_json::to_value(Summary::default()).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "records_read",
                "delivered",
                "dead_lettered",
                "invalid",
                "skipped_already_done",
                "in_doubt",
                "values_left_out",
                "requests",
                "retries",
                "http_429",
                "duration_ms"
            ]
        );
    }

    #[test]
    fn eta_respects_the_rate_limit_and_the_observed_pace() {
        let second = Some(Duration::from_secs(1));
        assert_eq!(
            eta(60, 1, second, 100.0),
            Some(Duration::from_secs(60)),
            "the limit is slower than the pace"
        );
        assert_eq!(
            eta(60, 10, second, 100.0),
            Some(Duration::from_secs(6)),
            "batches carry several records"
        );
        assert_eq!(
            eta(100, 1, None, 10.0),
            Some(Duration::from_secs(10)),
            "no limit: the pace decides"
        );
        assert_eq!(
            eta(100, 1, second, 0.5),
            Some(Duration::from_secs(200)),
            "a slow server is slower than the limit"
        );
        assert_eq!(eta(5, 1, None, 0.0), None, "nothing to go on yet");
        assert_eq!(eta(0, 1, None, 0.0), Some(Duration::ZERO));
    }

    #[test]
    fn the_pace_is_the_whole_run_until_a_window_has_passed() {
        let mut pace = Pace::new(Duration::from_secs(60));
        assert_eq!(pace.per_sec(Duration::from_secs(10), 100), 10.0);
        assert_eq!(pace.per_sec(Duration::from_secs(30), 600), 20.0);
    }

    #[test]
    fn the_pace_forgets_what_is_older_than_its_window() {
        let mut pace = Pace::new(Duration::from_secs(60));
        // 100 records a second for two minutes, sampled every 10 s.
        for t in (10..=120).step_by(10) {
            pace.per_sec(Duration::from_secs(t), t * 100);
        }
        // Then 30 s with nothing finished. The newest sample at least a minute old is at 90 s
        // (9,000 records): 3,000 records in the 60 s since.
        let rate = pace.per_sec(Duration::from_secs(150), 12_000);
        assert_eq!(rate, 50.0, "half the minute was a pause");
        // The cumulative average would still say 80 records a second.
        assert!(12_000.0 / 150.0 > rate);
        // A further minute without progress: the pace falls to 0.
        assert_eq!(pace.per_sec(Duration::from_secs(210), 12_000), 0.0);
    }

    #[test]
    fn the_pace_keeps_few_samples_and_ignores_time_going_back() {
        let mut pace = Pace::new(Duration::from_secs(1));
        for ms in (100..=100_000).step_by(100) {
            pace.per_sec(Duration::from_millis(ms), ms);
        }
        assert!(
            pace.samples.len() <= 12,
            "{} samples kept",
            pace.samples.len()
        );
        assert_eq!(pace.per_sec(Duration::from_millis(99_000), 5), 1000.0);
        assert_eq!(
            pace.samples.back(),
            Some(&(Duration::from_millis(100_000), 100_000))
        );
    }
}
