//! Alerts: which change of a destination's state deserves a notice, and the notice itself, POSTed
//! as JSON to the destination's `[alerts] webhook_url`.
//!
//! One notice per change of state, not one per run: a destination failing every 15 minutes
//! sends one failure notice, then one recovery notice when a run gets through again. The body
//! has a `text` field (what a Slack incoming webhook shows) and the same facts field by field
//! for any other consumer. It holds counts, times, exit codes and the run's first error line,
//! which `run` writes without secrets; never a token or a credential's API ID.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::client::{HttpClient, WebhookError};
use crate::destination::{AlertOn, Alerts};

/// How a finished run ended, as far as alerts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    /// Ran to the end (exit 0, or 3 with some records rejected).
    Finished,
    /// Error exit (1, 2) or killed by a signal.
    Failed,
    /// Stopped by the daemon's own shutdown: says nothing about the destination's health.
    Interrupted,
}

impl RunVerdict {
    /// From the exit code of `run` (`None`: killed by a signal).
    pub fn of_exit(code: Option<i32>) -> Self {
        match code {
            Some(0) | Some(3) => RunVerdict::Finished,
            Some(130) => RunVerdict::Interrupted,
            _ => RunVerdict::Failed,
        }
    }
}

/// What the alerts remember of a destination between runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// The last run that ended failed (and no run has finished since).
    pub failing: bool,
    /// The last finished run rejected more than the threshold.
    pub rejecting: bool,
}

/// The share of records read that were rejected (dead-lettered or invalid), in percent; `None`
/// when the summary read no record.
pub fn rejected_percent(summary: &Value) -> Option<f64> {
    let count = |name: &str| summary.get(name).and_then(Value::as_u64).unwrap_or(0);
    let read = count("records_read");
    (read > 0).then(|| (count("dead_lettered") + count("invalid")) as f64 * 100.0 / read as f64)
}

/// The notices a run calls for, and the health after it.
pub fn decide(
    before: Health,
    verdict: RunVerdict,
    summary: Option<&Value>,
    alerts: &Alerts,
) -> (Health, Vec<AlertOn>) {
    let mut after = before;
    let mut notices = Vec::new();
    match verdict {
        RunVerdict::Interrupted => {}
        RunVerdict::Failed => {
            after.failing = true;
            if !before.failing {
                notices.push(AlertOn::Failure);
            }
        }
        RunVerdict::Finished => {
            after.failing = false;
            if before.failing {
                notices.push(AlertOn::Recovery);
            }
            if let Some(threshold) = alerts.rejected_over_percent {
                let over = summary
                    .and_then(rejected_percent)
                    .is_some_and(|percent| percent > threshold);
                after.rejecting = over;
                if over && !before.rejecting {
                    notices.push(AlertOn::RejectedOver);
                }
            }
        }
    }
    notices.retain(|kind| alerts.wants(*kind));
    (after, notices)
}

/// The facts of one run a notice reports.
#[derive(Debug, Clone, Serialize)]
pub struct RunFacts {
    /// The destination's `name`.
    pub destination: String,
    /// The destination file.
    pub file: String,
    pub trigger: String,
    pub started_at: String,
    pub finished_at: String,
    /// `None` when the run was killed by a signal.
    pub exit_code: Option<i32>,
    pub first_error: Option<String>,
    /// The run's `--json` summary, when it printed one.
    pub summary: Option<Value>,
}

/// The JSON body of a notice.
pub fn body(kind: AlertOn, facts: &RunFacts, alerts: &Alerts) -> Value {
    let who = format!("{} ({})", facts.destination, facts.file);
    let counts = facts.summary.as_ref().map(|s| {
        let count = |name: &str| s.get(name).and_then(Value::as_u64).unwrap_or(0);
        format!(
            "{} read, {} delivered, {} dead-lettered, {} invalid",
            count("records_read"),
            count("delivered"),
            count("dead_lettered"),
            count("invalid")
        )
    });
    let percent = facts.summary.as_ref().and_then(rejected_percent);
    let text = match kind {
        AlertOn::Failure => format!(
            ":red_circle: aircall-dest: {who} failed at {} (exit {}): {}",
            facts.finished_at,
            facts
                .exit_code
                .map_or_else(|| "by a signal".to_string(), |c| c.to_string()),
            facts
                .first_error
                .as_deref()
                .unwrap_or("see the daemon's log")
        ),
        AlertOn::Recovery => format!(
            ":large_green_circle: aircall-dest: {who} recovered at {}{}",
            facts.finished_at,
            counts
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ),
        AlertOn::RejectedOver => format!(
            ":warning: aircall-dest: {who} rejected {:.1}% of its records (over {}%) at {}{}",
            percent.unwrap_or(0.0),
            alerts.rejected_over_percent.unwrap_or(0.0),
            facts.finished_at,
            counts
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ),
    };
    let mut value = serde_json::json!({
        "text": text,
        "event": kind.as_str(),
    });
    if let (Value::Object(object), Ok(Value::Object(fields))) =
        (&mut value, serde_json::to_value(facts))
    {
        object.extend(fields);
        if kind == AlertOn::RejectedOver {
            object.insert("rejected_percent".into(), percent.unwrap_or(0.0).into());
            object.insert(
                "threshold_percent".into(),
                alerts.rejected_over_percent.unwrap_or(0.0).into(),
            );
        }
    }
    value
}

/// POSTs one notice; a receiver that is down or answers an error is reported in the message.
pub async fn send(client: &HttpClient, url: &str, body: &Value) -> Result<(), String> {
    client
        .post_webhook(url, body.to_string(), Duration::from_secs(10))
        .await
        .map_err(|err| match err {
            WebhookError::Answered(status) => format!("the alert webhook answered {status}"),
            WebhookError::Unreachable(why) => format!("cannot reach the alert webhook: {why}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(on: &[AlertOn], percent: Option<f64>) -> Alerts {
        Alerts {
            webhook_url: Some("http://127.0.0.1:9/hook".into()),
            on: on.to_vec(),
            rejected_over_percent: percent,
        }
    }

    #[test]
    fn one_failure_notice_until_a_run_finishes_then_one_recovery() {
        let alerts = alerts(&[AlertOn::Failure, AlertOn::Recovery], None);
        let mut health = Health::default();
        let mut sent = Vec::new();
        for verdict in [
            RunVerdict::Finished,
            RunVerdict::Failed,
            RunVerdict::Failed,
            RunVerdict::Interrupted,
            RunVerdict::Failed,
            RunVerdict::Finished,
            RunVerdict::Finished,
        ] {
            let (after, notices) = decide(health, verdict, None, &alerts);
            health = after;
            sent.extend(notices);
        }
        assert_eq!(sent, vec![AlertOn::Failure, AlertOn::Recovery]);
    }

    #[test]
    fn rejected_over_fires_when_the_share_crosses_the_threshold() {
        let alerts = alerts(&[AlertOn::RejectedOver], Some(10.0));
        let summary = |rejected: u64| serde_json::json!({"records_read": 100, "dead_lettered": rejected, "invalid": 0});
        let mut health = Health::default();
        let mut sent = Vec::new();
        for rejected in [5, 10, 11, 50, 0, 20] {
            let s = summary(rejected);
            let (after, notices) = decide(health, RunVerdict::Finished, Some(&s), &alerts);
            health = after;
            sent.push(notices.len());
        }
        // 10% is not over 10%; 11% is; 50% still is (no new notice); 0% resets; 20% again.
        assert_eq!(sent, vec![0, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn kinds_not_asked_for_are_not_sent() {
        let alerts = alerts(&[AlertOn::Recovery], None);
        let (health, notices) = decide(Health::default(), RunVerdict::Failed, None, &alerts);
        assert!(notices.is_empty());
        let (_, notices) = decide(health, RunVerdict::Finished, None, &alerts);
        assert_eq!(notices, vec![AlertOn::Recovery]);
        let off = Alerts::default();
        let (_, notices) = decide(Health::default(), RunVerdict::Failed, None, &off);
        assert!(notices.is_empty(), "no webhook, no notice");
    }

    #[test]
    fn the_body_reads_as_text_and_field_by_field() {
        let alerts = alerts(&[AlertOn::Failure], None);
        let facts = RunFacts {
            destination: "contacts".into(),
            file: "/etc/aircall/contacts.toml".into(),
            trigger: "schedule".into(),
            started_at: "2026-01-01T06:00:00.000Z".into(),
            finished_at: "2026-01-01T06:00:02.000Z".into(),
            exit_code: Some(1),
            first_error: Some("error: the API refused the credentials (403)".into()),
            summary: None,
        };
        let body = body(AlertOn::Failure, &facts, &alerts);
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("contacts (/etc/aircall/contacts.toml) failed"),
            "{text}"
        );
        assert!(text.contains("(exit 1)"), "{text}");
        assert_eq!(body["event"], "failure");
        assert_eq!(body["exit_code"], 1);
        assert_eq!(body["trigger"], "schedule");
        assert_eq!(body["destination"], "contacts");
    }
}
