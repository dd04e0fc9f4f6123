//! One delivery's own account: the phase it reached and what it cost (requests, retries, 429s,
//! lookups, dead letters). A delivery returns it at its end as an [`Ended`], and the dispatcher
//! folds those into the run's summary: no counter is shared between deliveries. While a
//! delivery goes, the dispatcher only reads a snapshot of its account, for the live progress
//! line and for a delivery cut off by a hard stop (which returns nothing).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::client::{Response, SendError};
use crate::records::RecordNo;
use crate::state::AttemptId;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// No attempt left: not part of this run.
    NotSent,
    /// An attempt may be at the server.
    InFlight,
    /// Attempted, and known not to have been applied: the next run sends it.
    NotApplied,
    Delivered,
    DeadLettered,
    InDoubt,
}

/// What one delivery cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cost {
    /// Requests sent, lookups and retries included.
    pub requests: u64,
    pub retries: u64,
    pub http_429: u64,
    /// An in-doubt create looked up and found (recorded as delivered) or not found (sent).
    pub found: u64,
    pub missing: u64,
    /// Dead letters written.
    pub dead_letters: u64,
}

impl Cost {
    /// Adds `other` to this cost.
    pub fn add(&mut self, other: Cost) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.http_429 += other.http_429;
        self.found += other.found;
        self.missing += other.missing;
        self.dead_letters += other.dead_letters;
    }
}

/// How a delivery ended: the phase it ended in and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ended {
    pub phase: Phase,
    pub cost: Cost,
}

/// What a lookup of an in-doubt create learned, for the cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Looked {
    Found,
    Missing,
}

#[derive(Debug)]
struct Account {
    phase: Phase,
    attempt: Option<AttemptId>,
    /// An intent was handed to the state store and no outcome has been since: a delivery cut
    /// off now leaves a record the store would otherwise call in doubt.
    open_intent: bool,
    /// Everything but `requests`, which the attempt loop counts in [`Flight::sent`].
    cost: Cost,
}

/// A delivery's records and its account, written only by its own task.
#[derive(Debug)]
pub(super) struct Flight {
    pub records: Vec<RecordNo>,
    /// Attempts put on the wire, counted by the attempt loop as each leaves (before its
    /// answer), so a delivery cut off while its request is out still counts it.
    pub sent: AtomicU64,
    account: Mutex<Account>,
}

impl Flight {
    pub fn new(records: Vec<RecordNo>) -> Flight {
        Flight {
            records,
            sent: AtomicU64::new(0),
            account: Mutex::new(Account {
                phase: Phase::NotSent,
                attempt: None,
                open_intent: false,
                cost: Cost::default(),
            }),
        }
    }

    fn account(&self) -> std::sync::MutexGuard<'_, Account> {
        // Plain values: a panic elsewhere cannot leave them torn.
        self.account
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn phase(&self) -> Phase {
        self.account().phase
    }

    /// Notes `phase` and returns it (a delivery's end is the phase it reached).
    pub fn set(&self, phase: Phase) -> Phase {
        self.account().phase = phase;
        phase
    }

    pub fn attempt(&self) -> Option<AttemptId> {
        self.account().attempt
    }

    pub fn set_attempt(&self, id: AttemptId) {
        self.account().attempt = Some(id);
    }

    /// Notes that an intent is being handed to the state store (before its commit is awaited,
    /// so a delivery cut off during that wait still knows).
    pub fn intent_asked(&self) {
        self.account().open_intent = true;
    }

    /// Notes that the outcome is being handed to the state store.
    pub fn outcome_asked(&self) {
        self.account().open_intent = false;
    }

    /// Whether the store holds (or is about to commit) an intent of this delivery's with no
    /// outcome after it.
    pub fn open_intent(&self) -> bool {
        self.account().open_intent
    }

    /// Counts an attempt that was answered (or failed): a retry when it was not the first, a
    /// 429 when the API asked to slow down.
    pub fn observe(&self, attempt: u32, result: &Result<Response, SendError>) {
        let mut account = self.account();
        if attempt > 1 {
            account.cost.retries += 1;
        }
        if matches!(result, Ok(response) if response.status == 429) {
            account.cost.http_429 += 1;
        }
    }

    pub fn looked_up(&self, looked: Looked) {
        let mut account = self.account();
        match looked {
            Looked::Found => account.cost.found += 1,
            Looked::Missing => account.cost.missing += 1,
        }
    }

    pub fn dead_lettered(&self) {
        self.account().cost.dead_letters += 1;
    }

    /// What the delivery has cost so far.
    pub fn cost(&self) -> Cost {
        let mut cost = self.account().cost;
        cost.requests = self.sent.load(Ordering::Relaxed);
        cost
    }

    /// The delivery's end: `phase` and its cost.
    pub fn ended(&self, phase: Phase) -> Ended {
        Ended {
            phase: self.set(phase),
            cost: self.cost(),
        }
    }

    /// What a delivery cut off by a hard stop counts as: the phase it last reached, the cost
    /// so far.
    pub fn cut_off(&self) -> Ended {
        Ended {
            phase: self.phase(),
            cost: self.cost(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::TransportError;

    fn answer(status: u16) -> Result<Response, SendError> {
        Ok(Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            latency: std::time::Duration::ZERO,
        })
    }

    #[test]
    fn a_flight_remembers_the_last_phase_it_reached() {
        let flight = Flight::new(vec![RecordNo(1)]);
        assert_eq!(flight.phase(), Phase::NotSent);
        assert_eq!(flight.set(Phase::InFlight), Phase::InFlight);
        assert_eq!(flight.phase(), Phase::InFlight);
        assert_eq!(flight.attempt(), None);
        flight.set_attempt(7);
        assert_eq!(flight.attempt(), Some(7));
        assert_eq!(flight.cut_off().phase, Phase::InFlight);
    }

    #[test]
    fn an_intent_stays_open_until_its_outcome_is_asked_for() {
        let flight = Flight::new(vec![RecordNo(1)]);
        assert!(!flight.open_intent());
        flight.intent_asked();
        assert!(flight.open_intent());
        flight.outcome_asked();
        assert!(!flight.open_intent());
    }

    #[test]
    fn a_flight_counts_its_own_retries_429s_lookups_and_dead_letters() {
        let flight = Flight::new(vec![RecordNo(1)]);
        // Three attempts went out: a 429, a dropped connection, then a 201.
        flight.sent.store(3, Ordering::Relaxed);
        flight.observe(1, &answer(429));
        flight.observe(
            2,
            &Err(SendError {
                kind: TransportError::Dropped,
                message: "reset".into(),
                latency: std::time::Duration::ZERO,
            }),
        );
        flight.observe(3, &answer(201));
        flight.looked_up(Looked::Missing);
        let ended = flight.ended(Phase::Delivered);
        assert_eq!(ended.phase, Phase::Delivered);
        assert_eq!(
            ended.cost,
            Cost {
                requests: 3,
                retries: 2,
                http_429: 1,
                found: 0,
                missing: 1,
                dead_letters: 0,
            }
        );
    }

    #[test]
    fn costs_add_field_by_field() {
        let mut total = Cost {
            requests: 1,
            dead_letters: 1,
            ..Cost::default()
        };
        total.add(Cost {
            requests: 2,
            retries: 1,
            http_429: 1,
            found: 1,
            missing: 0,
            dead_letters: 0,
        });
        assert_eq!(
            total,
            Cost {
                requests: 3,
                retries: 1,
                http_429: 1,
                found: 1,
                missing: 0,
                dead_letters: 1,
            }
        );
    }
}
