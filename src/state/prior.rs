//! What the earlier runs left, per record: one byte per record number (a million records cost
//! 1 MB), replayed from the attempts table in the order it was written.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Outcome;
use crate::destination::Method;
use crate::records::RecordNo;

/// Where a record stands after the earlier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// No earlier run sent it (or it was known not to be applied).
    Fresh,
    /// Sent, outcome unknown.
    InDoubt {
        method: Method,
    },
    Delivered,
    DeadLettered,
    /// Found invalid before; it is checked again, since the destination may have been fixed.
    Invalid,
}

impl RecordState {
    /// Whether a rerun skips the record as already done.
    pub fn is_done(self) -> bool {
        matches!(self, RecordState::Delivered | RecordState::DeadLettered)
    }
}

/// The earlier runs' record states.
#[derive(Debug, Default, Clone)]
pub struct PriorOutcomes {
    states: Vec<u8>,
    done: u64,
    in_doubt: u64,
    last_sent_ms: Option<i64>,
}

const FRESH: u8 = 0;
const DELIVERED: u8 = 1;
const DEAD: u8 = 2;
const INVALID: u8 = 3;
// In doubt: this base plus the method's index in `Method::ALL`.
const SENT_BASE: u8 = 16;
/// Record numbers beyond this are refused as corrupt rather than allocated for.
const MAX_RECORD: u64 = 1 << 34;

impl PriorOutcomes {
    pub fn state(&self, no: RecordNo) -> RecordState {
        let index = usize::try_from(no.0).unwrap_or(usize::MAX);
        match self.states.get(index).copied().unwrap_or(FRESH) {
            DELIVERED => RecordState::Delivered,
            DEAD => RecordState::DeadLettered,
            INVALID => RecordState::Invalid,
            sent if sent >= SENT_BASE => {
                let method = Method::ALL
                    .get(usize::from(sent - SENT_BASE))
                    .copied()
                    .unwrap_or(Method::Post);
                RecordState::InDoubt { method }
            }
            _ => RecordState::Fresh,
        }
    }

    /// Records an earlier run finished (delivered or dead-lettered).
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Records an earlier run sent without learning the outcome.
    pub fn in_doubt(&self) -> u64 {
        self.in_doubt
    }

    /// When an earlier run last sent a request: a request of that run may still be at the
    /// server until some time after it.
    pub fn last_sent(&self) -> Option<SystemTime> {
        let ms = u64::try_from(self.last_sent_ms?).ok()?;
        Some(UNIX_EPOCH + Duration::from_millis(ms))
    }

    fn set(&mut self, no: u64, value: u8) -> Result<(), String> {
        if no > MAX_RECORD {
            return Err(format!("record number {no} is out of range"));
        }
        let index =
            usize::try_from(no).map_err(|_| format!("record number {no} is out of range"))?;
        if self.states.len() <= index {
            self.states.resize(index + 1, FRESH);
        }
        self.states[index] = value;
        Ok(())
    }

    /// A request for `records` left at `at_ms`.
    pub(super) fn sent(
        &mut self,
        records: &[u64],
        method: Method,
        at_ms: i64,
    ) -> Result<(), String> {
        self.last_sent_ms = self.last_sent_ms.max(Some(at_ms));
        let index = Method::ALL.iter().position(|m| *m == method).unwrap_or(1) as u8;
        for &no in records {
            // A later resend of a record already done cannot undo "done".
            if !self.state(RecordNo(no)).is_done() {
                self.set(no, SENT_BASE + index)?;
            }
        }
        Ok(())
    }

    /// `records` ended with `outcome`.
    pub(super) fn ended(&mut self, records: &[u64], outcome: Outcome) -> Result<(), String> {
        let value = match outcome {
            Outcome::Delivered => DELIVERED,
            Outcome::DeadLettered => DEAD,
            Outcome::Invalid => INVALID,
            Outcome::NotApplied => FRESH,
        };
        for &no in records {
            if !self.state(RecordNo(no)).is_done() {
                self.set(no, value)?;
            }
        }
        Ok(())
    }

    pub(super) fn tally(&mut self) {
        self.done = 0;
        self.in_doubt = 0;
        for &state in &self.states {
            match state {
                DELIVERED | DEAD => self.done += 1,
                s if s >= SENT_BASE => self.in_doubt += 1,
                _ => {}
            }
        }
    }
}
