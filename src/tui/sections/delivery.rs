//! The Delivery section of the Advanced tab: pacing, concurrency, retries and what happens to
//! rejected, invalid and in-doubt records. Each setting is declared once here, with its range
//! or choices, how it maps onto `[delivery]` and what is said under it.

use crate::destination::{InDoubtPolicy, OnInvalid, OnRejected};
use crate::tui::sections::{Note, Section, Setting};
use crate::tui::widgets::choice::ChoiceItem;

/// Aircall's limit per company, shared by every integration, retries included.
const AIRCALL_PER_MINUTE: u32 = 120;

pub const RATE: &str = "delivery.rate_limit_per_minute";
pub const CONCURRENCY: &str = "delivery.concurrency";
pub const MAX_ATTEMPTS: &str = "delivery.max_attempts";
pub const REQUEST_TIMEOUT: &str = "delivery.request_timeout_secs";
pub const ON_REJECTED: &str = "delivery.on_rejected";
pub const ON_INVALID: &str = "delivery.on_invalid";
pub const IN_DOUBT: &str = "delivery.in_doubt";

pub fn section() -> Section {
    Section::new(
        "Delivery",
        vec![
            Setting::number(
                RATE,
                "Rate / minute",
                0..=6000,
                "requests per minute (0 turns pacing off)",
                |d| d.delivery.rate_limit_per_minute,
                |d, v| d.delivery.rate_limit_per_minute = v,
            )
            .with_notes(|d| {
                let rate = d.delivery.rate_limit_per_minute;
                let mut notes = vec![Note::explain(
                    "Aircall allows 120/min per company, shared by all its integrations: \
                     60 leaves them room. Retries count; 0 = no pacing.",
                )];
                if rate > AIRCALL_PER_MINUTE {
                    notes.push(Note::warn(format!(
                        "⚠ {rate}/min is above Aircall's {AIRCALL_PER_MINUTE}: expect 429 pauses"
                    )));
                }
                notes
            }),
            Setting::number(
                CONCURRENCY,
                "Concurrency",
                1..=64,
                "requests in flight",
                |d| d.delivery.concurrency,
                |d, v| d.delivery.concurrency = v,
            ),
            Setting::number(
                MAX_ATTEMPTS,
                "Max attempts",
                1..=100,
                "attempts (1 = no retries)",
                |d| d.delivery.max_attempts,
                |d, v| d.delivery.max_attempts = v,
            ),
            Setting::number(
                REQUEST_TIMEOUT,
                "Timeout (s)",
                1..=600,
                "seconds",
                |d| d.delivery.request_timeout_secs,
                |d, v| d.delivery.request_timeout_secs = v,
            )
            .with_notes(|_| {
                vec![Note::explain(
                    "how long one attempt may wait for the answer before it counts as failed",
                )]
            }),
            Setting::choice(
                ON_REJECTED,
                "On rejected",
                |d| d.delivery.on_rejected,
                |d, v| d.delivery.on_rejected = v,
            ),
            Setting::choice(
                ON_INVALID,
                "On invalid",
                |d| d.delivery.on_invalid,
                |d, v| d.delivery.on_invalid = v,
            ),
            Setting::choice(
                IN_DOUBT,
                "In doubt",
                |d| d.delivery.in_doubt,
                |d, v| d.delivery.in_doubt = v,
            ),
        ],
    )
}

impl ChoiceItem for OnRejected {
    const ALL: &'static [Self] = &[OnRejected::DeadLetter, OnRejected::Stop];
    fn label(self) -> &'static str {
        match self {
            OnRejected::DeadLetter => "dead_letter",
            OnRejected::Stop => "stop",
        }
    }
    fn explain(self) -> &'static str {
        match self {
            OnRejected::DeadLetter => {
                "a record the API refuses goes to the dead-letter file; go on"
            }
            OnRejected::Stop => {
                "a record the API refuses goes to the dead-letter file; stop the run"
            }
        }
    }
}

impl ChoiceItem for OnInvalid {
    const ALL: &'static [Self] = &[OnInvalid::Skip, OnInvalid::Stop];
    fn label(self) -> &'static str {
        match self {
            OnInvalid::Skip => "skip",
            OnInvalid::Stop => "stop",
        }
    }
    fn explain(self) -> &'static str {
        match self {
            OnInvalid::Skip => "an invalid record is reported (no API call); go on",
            OnInvalid::Stop => "an invalid record is reported and stops the run",
        }
    }
}

impl ChoiceItem for InDoubtPolicy {
    const ALL: &'static [Self] = &[
        InDoubtPolicy::Reconcile,
        InDoubtPolicy::Resend,
        InDoubtPolicy::Report,
    ];
    fn label(self) -> &'static str {
        match self {
            InDoubtPolicy::Reconcile => "reconcile",
            InDoubtPolicy::Resend => "resend",
            InDoubtPolicy::Report => "report",
        }
    }
    fn explain(self) -> &'static str {
        match self {
            InDoubtPolicy::Reconcile => {
                "sent, outcome unknown (crash, timeout): look it up, resend only if safe"
            }
            InDoubtPolicy::Resend => "sent, outcome unknown (crash, timeout): send it again",
            InDoubtPolicy::Report => {
                "sent, outcome unknown (crash, timeout): report it, resend nothing"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::Destination;

    fn destination() -> Destination {
        crate::tui::model::starter_destination(std::path::Path::new("x.csv"), "c")
    }

    #[test]
    fn each_setting_loads_and_applies_only_its_own_key() {
        let mut section = section();
        let mut dest = destination();
        dest.delivery.concurrency = 7;
        section.load(&dest);
        let concurrency = section.get_mut(CONCURRENCY).unwrap();
        assert_eq!(concurrency.text_input().unwrap().value(), "7");
        concurrency.text_input_mut().unwrap().set_value("12");
        let before = dest.clone();
        concurrency.apply(&mut dest).unwrap();
        let mut expected = before;
        expected.delivery.concurrency = 12;
        assert_eq!(dest, expected);
    }

    #[test]
    fn a_value_out_of_range_is_refused_and_the_destination_keeps_its_own() {
        let mut section = section();
        let mut dest = destination();
        section.load(&dest);
        let attempts = section.get_mut(MAX_ATTEMPTS).unwrap();
        attempts.text_input_mut().unwrap().set_value("0");
        assert!(attempts.apply(&mut dest).unwrap_err().contains("1 to 100"));
        assert_eq!(dest.delivery.max_attempts, 5);
    }

    #[test]
    fn the_request_timeout_is_typed_within_its_range() {
        let mut section = section();
        let mut dest = destination();
        section.load(&dest);
        let timeout = section.get_mut(REQUEST_TIMEOUT).unwrap();
        assert_eq!(timeout.text_input().unwrap().value(), "30");
        timeout.text_input_mut().unwrap().set_value("0");
        assert!(timeout.apply(&mut dest).is_err());
        timeout.text_input_mut().unwrap().set_value("45");
        timeout.apply(&mut dest).unwrap();
        assert_eq!(dest.delivery.request_timeout_secs, 45);
    }

    #[test]
    fn a_rate_above_aircalls_limit_is_warned_about() {
        let section = section();
        let mut dest = destination();
        dest.delivery.rate_limit_per_minute = 200;
        let notes = section.get(RATE).unwrap().notes(&dest);
        assert!(notes.iter().any(|n| n.text.contains("expect 429 pauses")));
    }
}
