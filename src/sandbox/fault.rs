//! Fault injection for testing clients: error statuses, latency, dropped connections, stalls,
//! and writes applied without an answer, drawn from a seeded generator so runs repeat.
//!
//! Grammar (comma-separated items, each at most once):
//! `STATUS=P` (STATUS 400–599), `drop=P`, `stall=P[:DURATION]`, `apply_then_drop=P`,
//! `latency=DURATION[..DURATION]`; P is a probability in [0, 1]; DURATION is a number with
//! `ms` or `s`. The probabilities of the outcomes together must not exceed 1.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How long a stalled request is held when the spec gives no duration.
pub const DEFAULT_STALL: Duration = Duration::from_secs(30);

/// A parsed `--fault` spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    pub errors: Vec<(StatusCode, f64)>,
    pub drop: f64,
    pub stall: f64,
    pub stall_for: Option<Duration>,
    pub apply_then_drop: f64,
    pub latency: Option<(Duration, Duration)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault spec item {item:?}: {reason}")]
pub struct FaultSpecError {
    pub item: String,
    pub reason: String,
}

fn spec_error(item: &str, reason: impl Into<String>) -> FaultSpecError {
    FaultSpecError {
        item: item.to_owned(),
        reason: reason.into(),
    }
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut spec = FaultSpec::default();
        let mut seen: Vec<String> = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item.split_once('=').ok_or_else(|| {
                spec_error(item, "expected KEY=VALUE (e.g. 500=0.05, latency=20..80ms)")
            })?;
            let key = key.trim();
            let value = value.trim();
            if seen.iter().any(|k| k == key) {
                return Err(spec_error(item, format!("{key} is given twice")));
            }
            seen.push(key.to_owned());
            match key {
                "drop" => spec.drop = probability(item, value)?,
                "apply_then_drop" => spec.apply_then_drop = probability(item, value)?,
                "stall" => {
                    let (p, duration) = match value.split_once(':') {
                        Some((p, d)) => (p, Some(duration(item, d)?)),
                        None => (value, None),
                    };
                    spec.stall = probability(item, p)?;
                    spec.stall_for = duration;
                }
                "latency" => {
                    let (low, high) = match value.split_once("..") {
                        Some((low, high)) => {
                            // `20..80ms`: a unit on the upper bound alone applies to both.
                            let unit = unit_of(high);
                            let low = if unit_of(low).is_empty() {
                                format!("{low}{unit}")
                            } else {
                                low.to_owned()
                            };
                            (duration(item, &low)?, duration(item, high)?)
                        }
                        None => {
                            let d = duration(item, value)?;
                            (d, d)
                        }
                    };
                    if low > high {
                        return Err(spec_error(item, "the lower bound exceeds the upper bound"));
                    }
                    spec.latency = Some((low, high));
                }
                status => {
                    let code: u16 = status.parse().map_err(|_| {
                        spec_error(
                            item,
                            "unknown key; expected an HTTP status (400-599), drop, stall, apply_then_drop or latency",
                        )
                    })?;
                    if !(400..=599).contains(&code) {
                        return Err(spec_error(
                            item,
                            "error statuses must be between 400 and 599",
                        ));
                    }
                    let code = StatusCode::from_u16(code)
                        .map_err(|_| spec_error(item, "not an HTTP status"))?;
                    spec.errors.push((code, probability(item, value)?));
                }
            }
        }
        let total = spec.outcome_probability();
        if total > 1.0 + 1e-9 {
            return Err(spec_error(
                text,
                format!("the probabilities add up to {total}, more than 1"),
            ));
        }
        Ok(spec)
    }
}

impl FaultSpec {
    fn outcome_probability(&self) -> f64 {
        self.errors.iter().map(|(_, p)| p).sum::<f64>()
            + self.drop
            + self.stall
            + self.apply_then_drop
    }

    pub fn is_empty(&self) -> bool {
        self.outcome_probability() == 0.0 && self.latency.is_none()
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self
            .errors
            .iter()
            .map(|(s, p)| format!("{}={p}", s.as_u16()))
            .collect();
        if self.drop > 0.0 {
            items.push(format!("drop={}", self.drop));
        }
        if self.stall > 0.0 {
            let d = self.stall_for.unwrap_or(DEFAULT_STALL);
            items.push(format!("stall={}:{}ms", self.stall, d.as_millis()));
        }
        if self.apply_then_drop > 0.0 {
            items.push(format!("apply_then_drop={}", self.apply_then_drop));
        }
        if let Some((low, high)) = self.latency {
            items.push(format!(
                "latency={}..{}ms",
                low.as_millis(),
                high.as_millis()
            ));
        }
        f.write_str(&items.join(","))
    }
}

fn probability(item: &str, value: &str) -> Result<f64, FaultSpecError> {
    let p: f64 = value
        .parse()
        .map_err(|_| spec_error(item, format!("{value:?} is not a probability")))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(spec_error(item, "a probability must be between 0 and 1"))
    }
}

fn unit_of(value: &str) -> &str {
    value.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
}

fn duration(item: &str, value: &str) -> Result<Duration, FaultSpecError> {
    let value = value.trim();
    let unit = unit_of(value);
    let number: f64 = value[..value.len() - unit.len()].parse().map_err(|_| {
        spec_error(
            item,
            format!("{value:?} is not a duration like 80ms or 30s"),
        )
    })?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        _ => return Err(spec_error(item, format!("{value:?} needs a unit: ms or s"))),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| spec_error(item, "duration out of range"))
}

/// What the fault plan does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve the request normally.
    Serve,
    /// Answer this error status without touching the store.
    Error(StatusCode),
    /// Close the connection without answering, before applying anything.
    Drop,
    /// Hold the request this long, then close the connection; nothing is applied.
    Stall(Duration),
    /// Apply the request to the store, then close the connection without answering.
    ApplyThenDrop,
}

impl FaultAction {
    /// The name the journal records.
    pub fn name(self) -> Option<String> {
        match self {
            Self::Serve => None,
            Self::Error(status) => Some(status.as_u16().to_string()),
            Self::Drop => Some("drop".into()),
            Self::Stall(_) => Some("stall".into()),
            Self::ApplyThenDrop => Some("apply_then_drop".into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultDecision {
    pub latency: Duration,
    pub action: FaultAction,
}

/// The spec and its seeded generator: the n-th request received gets the n-th decision.
#[derive(Debug)]
pub struct FaultPlan {
    spec: FaultSpec,
    rng: Mutex<StdRng>,
}

impl FaultPlan {
    pub fn new(spec: FaultSpec, seed: u64) -> Self {
        Self {
            spec,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub fn decide(&self) -> FaultDecision {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Always two draws per request, so one request's outcome never shifts the next one's.
        let roll: f64 = rng.random();
        let latency_roll: f64 = rng.random();
        drop(rng);
        let latency = match self.spec.latency {
            Some((low, high)) => low + (high - low).mul_f64(latency_roll),
            None => Duration::ZERO,
        };
        let mut threshold = 0.0;
        let mut pick = |p: f64| {
            threshold += p;
            p > 0.0 && roll < threshold
        };
        let mut action = FaultAction::Serve;
        for (status, p) in &self.spec.errors {
            if pick(*p) {
                action = FaultAction::Error(*status);
                break;
            }
        }
        if action == FaultAction::Serve {
            if pick(self.spec.drop) {
                action = FaultAction::Drop;
            } else if pick(self.spec.stall) {
                action = FaultAction::Stall(self.spec.stall_for.unwrap_or(DEFAULT_STALL));
            } else if pick(self.spec.apply_then_drop) {
                action = FaultAction::ApplyThenDrop;
            }
        }
        FaultDecision { latency, action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_grammar() {
        let spec: FaultSpec =
            "500=0.05,503=0.02,429=0.02, latency=20..80ms, drop=0.05, stall=0.01:30s, apply_then_drop=0.05"
                .parse()
                .unwrap();
        assert_eq!(spec.errors.len(), 3);
        assert_eq!(spec.errors[0], (StatusCode::INTERNAL_SERVER_ERROR, 0.05));
        assert_eq!(
            spec.latency,
            Some((Duration::from_millis(20), Duration::from_millis(80)))
        );
        assert_eq!(spec.stall_for, Some(Duration::from_secs(30)));
        assert_eq!(spec.apply_then_drop, 0.05);
        let again: FaultSpec = spec.to_string().parse().unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn rejects_bad_items_with_a_reason() {
        for bad in [
            "500",
            "600=0.1",
            "drop=2",
            "latency=80..20ms",
            "latency=20",
            "x=0.1",
            "500=0.6,503=0.6",
            "drop=0.1,drop=0.2",
        ] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad} should be refused");
        }
        let err = "latency=20".parse::<FaultSpec>().unwrap_err();
        assert!(err.to_string().contains("needs a unit"), "{err}");
    }

    #[test]
    fn the_same_seed_gives_the_same_decisions() {
        let spec: FaultSpec = "500=0.3,drop=0.3,latency=1..9ms".parse().unwrap();
        let a = FaultPlan::new(spec.clone(), 42);
        let b = FaultPlan::new(spec, 42);
        let first: Vec<_> = (0..50).map(|_| a.decide()).collect();
        let second: Vec<_> = (0..50).map(|_| b.decide()).collect();
        assert_eq!(first, second);
        assert!(first.iter().any(|d| d.action == FaultAction::Drop));
        assert!(first.iter().any(|d| d.action == FaultAction::Serve));
        assert!(first.iter().all(
            |d| d.latency >= Duration::from_millis(1) && d.latency <= Duration::from_millis(9)
        ));
    }

    #[test]
    fn rate_one_always_fires() {
        let plan = FaultPlan::new("apply_then_drop=1".parse().unwrap(), 1);
        assert!((0..20).all(|_| plan.decide().action == FaultAction::ApplyThenDrop));
        let plan = FaultPlan::new("stall=1:2s".parse().unwrap(), 1);
        assert_eq!(
            plan.decide().action,
            FaultAction::Stall(Duration::from_secs(2))
        );
    }
}
