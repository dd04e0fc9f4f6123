//! When a scheduled destination is due: a five-field cron expression in a time zone, or a fixed
//! interval (`every = "15m"`). The destination file's `[schedule]` section is parsed into a
//! [`Timing`] here; the daemon asks it for the next start after a given instant.

use std::time::{Duration, SystemTime};

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Why a `[schedule]` value cannot be used; each message names the value it refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("expected either `cron` or `every`, not both")]
    CronAndEvery,
    #[error(
        "expected five fields (minute hour day-of-month month day-of-week), found {found} in {expression:?}"
    )]
    CronFields { expression: String, found: usize },
    #[error("{expression:?} is not a cron expression: {reason}")]
    NotCron { expression: String, reason: String },
    #[error("unknown time zone {0:?}: expected an IANA name such as \"UTC\" or \"Europe/Paris\"")]
    UnknownZone(String),
    #[error(
        "expected a number and a unit (s, m, h or d) such as \"30s\", \"15m\" or \"6h\", found {0:?}"
    )]
    NotAnInterval(String),
    #[error("{0:?} is too long an interval")]
    IntervalTooLong(String),
    #[error("{0:?}: the interval must be at least 1s")]
    IntervalZero(String),
}

/// How often a destination runs.
#[derive(Debug, Clone)]
pub enum Timing {
    /// At each time the expression matches, read as wall-clock time in `zone`.
    Cron { cron: Box<Cron>, zone: TimeZone },
    /// A fixed time between two starts.
    Every(Duration),
}

impl Timing {
    /// The first start strictly after `after`; `None` when the expression never matches again.
    pub fn next_after(&self, after: SystemTime) -> Option<SystemTime> {
        match self {
            Timing::Every(interval) => after.checked_add(*interval),
            Timing::Cron { cron, zone } => {
                let now = Timestamp::try_from(after).ok()?.to_zoned(zone.clone());
                let next = cron.find_next_occurrence(&now, false).ok()?;
                Some(SystemTime::from(next.timestamp()))
            }
        }
    }

    /// How a person reads it: `every 15m`, `cron "0 6 * * *" (Europe/Paris)`.
    pub fn describe(&self, every: Option<&str>) -> String {
        match self {
            Timing::Every(interval) => {
                format!(
                    "every {}",
                    every.map_or_else(|| format!("{interval:?}"), str::to_owned)
                )
            }
            Timing::Cron { cron, zone } => format!(
                "cron {:?} ({})",
                cron.pattern.to_string(),
                zone.iana_name().unwrap_or("UTC")
            ),
        }
    }
}

/// Parses a five-field cron expression (minute hour day-of-month month day-of-week, or a
/// nickname such as `@daily`). Seconds and years are refused: a destination runs at most once a
/// minute by cron; `every` serves shorter intervals.
pub fn parse_cron(expression: &str) -> Result<Cron, ScheduleError> {
    let found = expression.split_whitespace().count();
    if !expression.trim_start().starts_with('@') && found != 5 {
        return Err(ScheduleError::CronFields {
            expression: expression.to_string(),
            found,
        });
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expression)
        .map_err(|err| ScheduleError::NotCron {
            expression: expression.to_string(),
            reason: err.to_string(),
        })
}

/// Looks up an IANA time zone name (`Europe/Paris`, `America/New_York`, `UTC`).
pub fn parse_zone(name: &str) -> Result<TimeZone, ScheduleError> {
    TimeZone::get(name).map_err(|_| ScheduleError::UnknownZone(name.to_string()))
}

/// Parses `every`: a whole number followed by `s`, `m`, `h` or `d` (`"30s"`, `"15m"`, `"6h"`,
/// `"1d"`), at least one second.
pub fn parse_every(text: &str) -> Result<Duration, ScheduleError> {
    let expected = || ScheduleError::NotAnInterval(text.to_string());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(expected)?;
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| expected())?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3_600),
        "d" => number.checked_mul(86_400),
        _ => return Err(expected()),
    }
    .ok_or_else(|| ScheduleError::IntervalTooLong(text.to_string()))?;
    if seconds == 0 {
        return Err(ScheduleError::IntervalZero(text.to_string()));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> SystemTime {
        SystemTime::from(rfc3339.parse::<Timestamp>().unwrap())
    }

    #[test]
    fn every_takes_a_number_and_a_unit() {
        assert_eq!(parse_every("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_every("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_every("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_every("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "15", "m", "15 minutes", "1.5h", "-1m", "0s", "15M"] {
            assert!(parse_every(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn cron_needs_exactly_five_fields() {
        assert!(parse_cron("0 6 * * *").is_ok());
        assert!(parse_cron("@daily").is_ok());
        let six = parse_cron("0 0 6 * * *").unwrap_err();
        assert!(
            matches!(six, ScheduleError::CronFields { found: 6, .. }),
            "{six}"
        );
        assert!(
            six.to_string().contains("found 6 in \"0 0 6 * * *\""),
            "{six}"
        );
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("* * * * bogus").is_err());
    }

    #[test]
    fn cron_is_read_in_its_time_zone() {
        let cron = Box::new(parse_cron("0 6 * * *").unwrap());
        let paris = Timing::Cron {
            cron: cron.clone(),
            zone: parse_zone("Europe/Paris").unwrap(),
        };
        // 06:00 in Paris is 05:00 UTC in winter and 04:00 UTC in summer.
        assert_eq!(
            paris.next_after(at("2026-01-10T12:00:00Z")),
            Some(at("2026-01-11T05:00:00Z"))
        );
        assert_eq!(
            paris.next_after(at("2026-07-10T12:00:00Z")),
            Some(at("2026-07-11T04:00:00Z"))
        );
        let utc = Timing::Cron {
            cron,
            zone: TimeZone::UTC,
        };
        assert_eq!(
            utc.next_after(at("2026-01-10T06:00:00Z")),
            Some(at("2026-01-11T06:00:00Z")),
            "strictly after"
        );
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn every_counts_from_the_instant_given() {
        let timing = Timing::Every(Duration::from_secs(900));
        assert_eq!(
            timing.next_after(at("2026-01-10T12:00:00Z")),
            Some(at("2026-01-10T12:15:00Z"))
        );
    }
}
