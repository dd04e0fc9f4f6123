//! The destination file's `[schedule]` section: when the daemon runs an active destination.

use serde::{Deserialize, Serialize};

use super::error::Problem;
use crate::schedule::{self, ScheduleError, Timing};

/// When `aircall-dest daemon` runs this destination. Empty (the default): the daemon leaves it
/// alone unless `on_input_change` is set; `run` can always be called by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// A five-field cron expression (`"0 6 * * *"`), read in `timezone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The IANA time zone of `cron` (`"Europe/Paris"`); UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A fixed interval between two starts: `"30s"`, `"15m"`, `"6h"`, `"1d"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// Also run when the source file changes (size or modification time).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_input_change: bool,
}

impl Schedule {
    /// No schedule at all: nothing for the daemon to do.
    pub fn is_empty(&self) -> bool {
        *self == Schedule::default()
    }

    /// The parsed timing: `None` when neither `cron` nor `every` is set.
    pub fn timing(&self) -> Result<Option<Timing>, ScheduleError> {
        match (&self.cron, &self.every) {
            (Some(_), Some(_)) => Err(ScheduleError::CronAndEvery),
            (Some(cron), None) => {
                let zone = match &self.timezone {
                    Some(name) => schedule::parse_zone(name)?,
                    None => jiff::tz::TimeZone::UTC,
                };
                Ok(Some(Timing::Cron {
                    cron: Box::new(schedule::parse_cron(cron)?),
                    zone,
                }))
            }
            (None, Some(every)) => Ok(Some(Timing::Every(schedule::parse_every(every)?))),
            (None, None) => Ok(None),
        }
    }

    /// How the daemon will run it, for people: `every 15m`, `cron "0 6 * * *" (UTC) and when the
    /// input changes`, or `None` when it has no schedule.
    pub fn describe(&self) -> Option<String> {
        let timing = self.timing().ok().flatten();
        let mut parts = Vec::new();
        if let Some(timing) = &timing {
            parts.push(timing.describe(self.every.as_deref()));
        }
        if self.on_input_change {
            parts.push("when the input changes".to_string());
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    pub(super) fn check(&self, problems: &mut Vec<Problem>) {
        let mut add = |key: &str, message: String| {
            problems.push(Problem::new(&["schedule", key], message));
        };
        if self.cron.is_some() && self.every.is_some() {
            add("every", ScheduleError::CronAndEvery.to_string());
            return;
        }
        if let Some(cron) = &self.cron
            && let Err(error) = schedule::parse_cron(cron)
        {
            add("cron", error.to_string());
        }
        if let Some(every) = &self.every
            && let Err(error) = schedule::parse_every(every)
        {
            add("every", error.to_string());
        }
        if let Some(zone) = &self.timezone {
            if self.cron.is_none() {
                add(
                    "timezone",
                    "`timezone` applies to `cron` only; set `cron` or remove `timezone`".into(),
                );
            } else if let Err(error) = schedule::parse_zone(zone) {
                add("timezone", error.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::destination::Destination;

    const BASE: &str = "version = 1\nname = \"n\"\ncredential = \"c\"\nmode = \"manual\"\n\
                        [source]\npath = \"in.csv\"\n[request]\nmethod = \"POST\"\nurl = \"/v1/tags\"\n";

    fn error(schedule: &str) -> String {
        let text = format!("{BASE}[schedule]\n{schedule}");
        Destination::from_toml(&text, "d.toml")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn a_bad_schedule_is_located_and_explained() {
        // The [schedule] table starts on line 10; its first key is on line 11.
        let bad_every = error("every = \"soon\"\n");
        assert!(bad_every.contains("d.toml:11:"), "{bad_every}");
        assert!(bad_every.contains("schedule.every"), "{bad_every}");
        assert!(bad_every.contains("\"15m\""), "{bad_every}");
        let six = error("cron = \"0 0 6 * * *\"\n");
        assert!(
            six.contains("d.toml:11:") && six.contains("five fields"),
            "{six}"
        );
        let zone = error("cron = \"0 6 * * *\"\ntimezone = \"Mars/Base\"\n");
        assert!(
            zone.contains("d.toml:12:") && zone.contains("Mars/Base"),
            "{zone}"
        );
        let both = error("cron = \"0 6 * * *\"\nevery = \"1h\"\n");
        assert!(both.contains("not both"), "{both}");
        let stray = error("every = \"1h\"\ntimezone = \"UTC\"\n");
        assert!(stray.contains("applies to `cron` only"), "{stray}");
        let unknown = error("evry = \"1h\"\n");
        assert!(
            unknown.contains("d.toml:11:") && unknown.contains("evry"),
            "{unknown}"
        );
    }

    #[test]
    fn a_good_schedule_loads_and_saves_back_the_same() {
        let text = format!(
            "{BASE}[schedule]\ncron = \"0 6 * * 1-5\"\ntimezone = \"Europe/Paris\"\non_input_change = true\n"
        );
        let destination = Destination::from_toml(&text, "d.toml").unwrap();
        let schedule = &destination.schedule;
        assert_eq!(schedule.cron.as_deref(), Some("0 6 * * 1-5"));
        assert!(schedule.on_input_change);
        assert_eq!(
            schedule.describe().as_deref(),
            Some("cron \"0 6 * * 1-5\" (Europe/Paris) and when the input changes")
        );
        let again = Destination::from_toml(&destination.to_toml(), "again").unwrap();
        assert_eq!(again, destination);
        let none = Destination::from_toml(BASE, "d.toml").unwrap();
        assert!(none.schedule.is_empty());
        assert!(!none.to_toml().contains("[schedule]"));
    }
}
