//! The destination file's `[alerts]` section: whom the daemon tells when a run fails, recovers
//! or rejects too many records.

use serde::{Deserialize, Serialize};

use super::error::Problem;

/// A webhook the daemon POSTs a JSON notice to when the state of this destination changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// `https://…`, or `http://` to a loopback address. No user name or password in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Which changes are sent.
    #[serde(default = "default_on")]
    pub on: Vec<AlertOn>,
    /// For `rejected_over`: the share of the records read (dead-lettered plus invalid), in
    /// percent, above which a run is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_over_percent: Option<f64>,
}

impl Default for Alerts {
    fn default() -> Self {
        Self {
            webhook_url: None,
            on: default_on(),
            rejected_over_percent: None,
        }
    }
}

fn default_on() -> Vec<AlertOn> {
    vec![AlertOn::Failure, AlertOn::Recovery]
}

/// The changes of state an alert can be sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOn {
    /// A run failed (exit code 1, or stopped by a signal) after one that did not.
    Failure,
    /// A run finished after one that failed.
    Recovery,
    /// A run rejected more than `rejected_over_percent` of the records it read.
    RejectedOver,
}

impl AlertOn {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertOn::Failure => "failure",
            AlertOn::Recovery => "recovery",
            AlertOn::RejectedOver => "rejected_over",
        }
    }
}

impl Alerts {
    /// The section as written by default (no webhook): nothing to save.
    pub fn is_default(&self) -> bool {
        *self == Alerts::default()
    }

    /// Whether notices of this kind go out.
    pub fn wants(&self, kind: AlertOn) -> bool {
        self.webhook_url.is_some() && self.on.contains(&kind)
    }

    pub(super) fn check(&self, problems: &mut Vec<Problem>) {
        let mut add = |key: &str, message: String| {
            problems.push(Problem::new(&["alerts", key], message));
        };
        match &self.webhook_url {
            Some(url) => {
                if let Some(message) = super::model::webhook_url_problem(url) {
                    add("webhook_url", message);
                }
            }
            None if !self.is_default() => add(
                "webhook_url",
                "expected `webhook_url`: the URL that receives the alerts".into(),
            ),
            None => {}
        }
        let wants_rejected = self.on.contains(&AlertOn::RejectedOver);
        match self.rejected_over_percent {
            Some(percent) if !(0.0..=100.0).contains(&percent) || percent.is_nan() => add(
                "rejected_over_percent",
                format!("expected a percentage from 0 to 100, found {percent}"),
            ),
            Some(_) if !wants_rejected => add(
                "rejected_over_percent",
                "set, but `on` does not hold \"rejected_over\"; add it or remove this".into(),
            ),
            None if wants_rejected => add(
                "on",
                "\"rejected_over\" needs `rejected_over_percent` (e.g. 5 for 5%)".into(),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::destination::{AlertOn, Destination};

    const BASE: &str = "version = 1\nname = \"n\"\ncredential = \"c\"\nmode = \"manual\"\n\
                        [source]\npath = \"in.csv\"\n[request]\nmethod = \"POST\"\nurl = \"/v1/tags\"\n";

    fn load(alerts: &str) -> Result<Destination, String> {
        Destination::from_toml(&format!("{BASE}[alerts]\n{alerts}"), "d.toml")
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bad_alerts_are_located_and_explained() {
        let plain = load("webhook_url = \"http://hooks.example.com/x\"\n").unwrap_err();
        assert!(
            plain.contains("d.toml:11:") && plain.contains("use https://"),
            "{plain}"
        );
        let secret = load("webhook_url = \"https://user:pw@hooks.example.com/x\"\n").unwrap_err();
        assert!(secret.contains("user name or password"), "{secret}");
        let kind =
            load("webhook_url = \"https://h.example/x\"\non = [\"failure\", \"sometimes\"]\n")
                .unwrap_err();
        assert!(
            kind.contains("d.toml:12:") && kind.contains("sometimes"),
            "{kind}"
        );
        let percent = load(
            "webhook_url = \"https://h.example/x\"\non = [\"rejected_over\"]\nrejected_over_percent = 140\n",
        )
        .unwrap_err();
        assert!(
            percent.contains("d.toml:13:") && percent.contains("0 to 100"),
            "{percent}"
        );
        let missing =
            load("webhook_url = \"https://h.example/x\"\non = [\"rejected_over\"]\n").unwrap_err();
        assert!(
            missing.contains("needs `rejected_over_percent`"),
            "{missing}"
        );
        let no_url = load("on = [\"failure\"]\n").unwrap_err();
        assert!(no_url.contains("expected `webhook_url`"), "{no_url}");
    }

    #[test]
    fn good_alerts_load_with_failure_and_recovery_by_default() {
        let loopback = load("webhook_url = \"http://127.0.0.1:9000/hook\"\n").unwrap();
        assert_eq!(
            loopback.alerts.on,
            vec![AlertOn::Failure, AlertOn::Recovery]
        );
        assert!(loopback.alerts.wants(AlertOn::Failure));
        assert!(!loopback.alerts.wants(AlertOn::RejectedOver));
        let full = load(
            "webhook_url = \"https://hooks.slack.com/services/T/B/X\"\non = [\"failure\", \"rejected_over\"]\nrejected_over_percent = 5\n",
        )
        .unwrap();
        let again = Destination::from_toml(&full.to_toml(), "again").unwrap();
        assert_eq!(again, full);
        let none = Destination::from_toml(BASE, "d.toml").unwrap();
        assert!(!none.to_toml().contains("[alerts]"));
    }
}
