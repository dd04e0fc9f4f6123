//! The Schedule section of the save step: when `aircall-dest daemon` runs the destination once
//! it is active (`[schedule]`, docs/operations.md). Each value is checked as it is typed by the
//! same `Schedule::timing` the daemon and `validate` use, and refused values stay off the file.

use crate::destination::{Destination, Schedule};
use crate::tui::sections::{Note, Section, Setting};
use crate::tui::widgets::choice::ChoiceItem;

pub const KIND: &str = "schedule";
pub const EVERY: &str = "schedule.every";
pub const CRON: &str = "schedule.cron";
pub const TIMEZONE: &str = "schedule.timezone";
pub const ON_INPUT_CHANGE: &str = "schedule.on_input_change";

/// What a new interval or cron expression starts from when the kind is chosen.
const FIRST_EVERY: &str = "1h";
const FIRST_CRON: &str = "0 6 * * *";

/// How the daemon times the runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    None,
    Every,
    Cron,
}

impl ChoiceItem for Timing {
    const ALL: &'static [Self] = &[Timing::None, Timing::Every, Timing::Cron];
    fn label(self) -> &'static str {
        match self {
            Timing::None => "none",
            Timing::Every => "every",
            Timing::Cron => "cron",
        }
    }
    fn explain(self) -> &'static str {
        match self {
            Timing::None => "no timed runs: run it by hand, from cron, or on input change below",
            Timing::Every => "a fixed time between two starts, kept by `aircall-dest daemon`",
            Timing::Cron => "the times of a five-field cron expression, kept by the daemon",
        }
    }
}

fn timing_of(d: &Destination) -> Timing {
    match (&d.schedule.cron, &d.schedule.every) {
        (Some(_), _) => Timing::Cron,
        (None, Some(_)) => Timing::Every,
        (None, None) => Timing::None,
    }
}

fn set_timing(d: &mut Destination, timing: Timing) {
    let schedule = &mut d.schedule;
    match timing {
        Timing::None => {
            schedule.cron = None;
            schedule.every = None;
            schedule.timezone = None;
        }
        Timing::Every => {
            schedule.cron = None;
            schedule.timezone = None;
            if schedule.every.is_none() {
                schedule.every = Some(FIRST_EVERY.into());
            }
        }
        Timing::Cron => {
            schedule.every = None;
            if schedule.cron.is_none() {
                schedule.cron = Some(FIRST_CRON.into());
            }
        }
    }
}

/// Writes `change` applied to the schedule when the result is a schedule the daemon can keep.
fn checked(d: &mut Destination, change: impl FnOnce(&mut Schedule)) -> Result<(), String> {
    let mut schedule = d.schedule.clone();
    change(&mut schedule);
    schedule.timing().map_err(|e| e.to_string())?;
    d.schedule = schedule;
    Ok(())
}

fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

pub fn section() -> Section {
    Section::new(
        "Schedule",
        vec![
            Setting::choice(KIND, "Schedule", timing_of, set_timing).with_notes(|d| {
                match d.schedule.describe() {
                    Some(how) => vec![Note::explain(format!(
                        "once active, the daemon runs it {how}"
                    ))],
                    None => Vec::new(),
                }
            }),
            Setting::text(
                EVERY,
                "Every",
                "15m, 6h, 1d",
                |d| d.schedule.every.clone().unwrap_or_default(),
                |d, text| {
                    let every = non_empty(text).ok_or_else(|| {
                        "expected an interval such as \"30s\", \"15m\" or \"6h\"".to_string()
                    })?;
                    checked(d, |s| s.every = Some(every))
                },
            )
            .shown_when(|d| d.schedule.every.is_some()),
            Setting::text(
                CRON,
                "Cron",
                "minute hour day month weekday",
                |d| d.schedule.cron.clone().unwrap_or_default(),
                |d, text| {
                    let cron = non_empty(text).ok_or_else(|| {
                        "expected five fields: minute hour day month weekday, e.g. \"0 6 * * *\""
                            .to_string()
                    })?;
                    checked(d, |s| s.cron = Some(cron))
                },
            )
            .shown_when(|d| d.schedule.cron.is_some()),
            Setting::text(
                TIMEZONE,
                "Timezone",
                "UTC, or an IANA name such as Europe/Paris",
                |d| d.schedule.timezone.clone().unwrap_or_default(),
                |d, text| checked(d, |s| s.timezone = non_empty(text)),
            )
            .shown_when(|d| d.schedule.cron.is_some()),
            Setting::toggle(
                ON_INPUT_CHANGE,
                "On change",
                "also run when the input file changes",
                |d| d.schedule.on_input_change,
                |d, on| d.schedule.on_input_change = on,
            ),
        ],
    )
    .without_heading()
}

/// How a saved destination will run, in words and commands for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HowItRuns {
    /// The file, as one shell word.
    pub file: String,
    /// With a schedule: what the daemon does (`every 15m`) and the folder it watches (one
    /// shell word).
    pub daemon: Option<(String, String)>,
}

/// What to tell someone who saved `schedule` at `path`: the daemon's folder is the absolute
/// folder of the file, since the daemon runs every destination file in it.
pub fn how_it_runs(schedule: &Schedule, path: &std::path::Path) -> HowItRuns {
    let daemon = schedule.describe().map(|how| {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let folder = absolute
            .parent()
            .map(|p| p.display().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| ".".into());
        (how, shell_word(&folder))
    });
    HowItRuns {
        file: shell_word(&path.display().to_string()),
        daemon,
    }
}

/// `text` as one word for a POSIX shell.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::widgets::Pulldown;

    fn destination() -> Destination {
        crate::tui::model::starter_destination(std::path::Path::new("x.csv"), "c")
    }

    fn choose(section: &mut Section, dest: &mut Destination, timing: Timing) {
        let index = Timing::ALL.iter().position(|t| *t == timing).unwrap();
        let kind: &mut Pulldown = section.get_mut(KIND).unwrap().pulldown_mut().unwrap();
        kind.select(index);
        section.apply_setting(KIND, dest).unwrap();
    }

    fn type_into(
        section: &mut Section,
        dest: &mut Destination,
        id: &str,
        text: &str,
    ) -> Result<(), String> {
        section
            .get_mut(id)
            .unwrap()
            .text_input_mut()
            .unwrap()
            .set_value(text);
        section.apply_setting(id, dest)
    }

    #[test]
    fn an_interval_is_written_only_when_the_daemon_can_keep_it() {
        let mut section = section();
        let mut dest = destination();
        section.load(&dest);
        let shown: Vec<_> = section.shown_ids(&dest).collect();
        assert_eq!(shown, vec![KIND, ON_INPUT_CHANGE]);
        choose(&mut section, &mut dest, Timing::Every);
        assert_eq!(dest.schedule.every.as_deref(), Some(FIRST_EVERY));
        assert!(section.shown_ids(&dest).any(|id| id == EVERY));
        type_into(&mut section, &mut dest, EVERY, "15m").unwrap();
        assert_eq!(dest.schedule.every.as_deref(), Some("15m"));
        let refused = type_into(&mut section, &mut dest, EVERY, "15x").unwrap_err();
        // The daemon's own parser says what is wrong (the unit).
        assert!(refused.contains("a number and a unit"), "{refused}");
        assert_eq!(dest.schedule.every.as_deref(), Some("15m"));
        // Another setting's edit leaves the refused text in place to be fixed.
        let toggle = section.get_mut(ON_INPUT_CHANGE).unwrap();
        toggle.checkbox_mut().unwrap().toggle();
        section.apply_setting(ON_INPUT_CHANGE, &mut dest).unwrap();
        let every = section.get(EVERY).unwrap().text_input().unwrap().value();
        assert_eq!(every, "15x");
    }

    #[test]
    fn cron_takes_a_timezone_and_none_clears_the_timing() {
        let mut section = section();
        let mut dest = destination();
        section.load(&dest);
        choose(&mut section, &mut dest, Timing::Cron);
        assert_eq!(dest.schedule.cron.as_deref(), Some(FIRST_CRON));
        // The field that appears shows what the file will hold.
        let cron = section.get(CRON).unwrap().text_input().unwrap().value();
        assert_eq!(cron, FIRST_CRON);
        let six = type_into(&mut section, &mut dest, CRON, "0 0 6 * * *").unwrap_err();
        assert!(six.contains("five fields"), "{six}");
        type_into(&mut section, &mut dest, CRON, "30 7 * * 1-5").unwrap();
        let zone = type_into(&mut section, &mut dest, TIMEZONE, "Mars/Base").unwrap_err();
        assert!(zone.contains("Mars/Base"), "{zone}");
        type_into(&mut section, &mut dest, TIMEZONE, "Europe/Paris").unwrap();
        assert_eq!(dest.schedule.timezone.as_deref(), Some("Europe/Paris"));
        let notes = section.get(KIND).unwrap().notes(&dest);
        assert!(
            notes
                .iter()
                .any(|n| n.text.contains("30 7 * * 1-5") && n.text.contains("Europe/Paris")),
            "{notes:?}"
        );
        choose(&mut section, &mut dest, Timing::None);
        assert_eq!(dest.schedule, Schedule::default());
    }

    #[test]
    fn the_daemon_watches_the_folder_of_the_file() {
        let every = Schedule {
            every: Some("15m".into()),
            ..Schedule::default()
        };
        let how = how_it_runs(
            &every,
            std::path::Path::new("/srv/aircall dests/contacts.toml"),
        );
        assert_eq!(how.file, "'/srv/aircall dests/contacts.toml'");
        assert_eq!(
            how.daemon,
            Some(("every 15m".to_string(), "'/srv/aircall dests'".to_string()))
        );
        let none = how_it_runs(&Schedule::default(), std::path::Path::new("/srv/a.toml"));
        assert_eq!(none.daemon, None);
    }
}
