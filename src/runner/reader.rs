//! The reader thread: records stream through the skip and in-doubt decisions (what earlier runs
//! left) and the request builder into a small bounded queue for the dispatcher.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::in_doubt::{self, InDoubtAction};
use crate::destination::InDoubtPolicy;
use crate::records::{self, Record, RecordError, RecordNo};
use crate::request::{Builder, Built, Invalid, Plan, Request};
use crate::state::{PriorOutcomes, RecordState};

/// What the dispatcher asks of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// Go on reading.
    On,
    /// Read no more records, but hand on the requests of batches still open (a drain).
    Flush,
    /// Hand on nothing more.
    Halt,
}

/// What the reader hands the dispatcher.
pub(super) enum Work {
    Send(Job),
    Invalid {
        invalid: Invalid,
        value: Option<Map<String, Value>>,
    },
    /// Records an earlier run finished.
    Skipped(u64),
    /// Records an earlier run left in doubt and that are not to be resent.
    InDoubt(Vec<RecordNo>),
}

/// One request and the records it carries (their values, for the dead-letter file).
pub(super) struct Job {
    pub request: Request,
    pub values: Vec<Map<String, Value>>,
    pub line: Option<u64>,
    /// An earlier run sent it without learning the outcome: look it up before sending.
    pub reconcile: bool,
    /// An earlier run sent it without learning the outcome, and it is sent again as it is
    /// (idempotent, or resending was asked for): its first attempt may find it already applied.
    pub resent_in_doubt: bool,
}

/// The reader thread: records → skip/in-doubt decisions → builder → queue.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_records(
    reader: records::RecordReader,
    plan: Plan,
    prior: PriorOutcomes,
    in_doubt_policy: InDoubtPolicy,
    resend: bool,
    can_look_up: bool,
    tx: mpsc::Sender<Work>,
    stop: watch::Receiver<Reading>,
) {
    let reading = || *stop.borrow();
    let mut builder = plan.builder();
    // Values of records inside open batches, kept for dead letters until their request is built.
    let mut pending: HashMap<RecordNo, Record> = HashMap::new();
    // In-doubt records of earlier runs whose request is to be looked up before it is sent.
    let mut reconciling: HashSet<RecordNo> = HashSet::new();
    // In-doubt records of earlier runs that are sent again without a lookup.
    let mut resending: HashSet<RecordNo> = HashSet::new();
    let mut skipped = 0u64;
    let send = |work: Work| tx.blocking_send(work).is_ok();
    let emit = |built: Built,
                pending: &mut HashMap<RecordNo, Record>,
                reconciling: &mut HashSet<RecordNo>,
                resending: &mut HashSet<RecordNo>|
     -> bool {
        match built {
            Built::Request(request) => {
                let mut values = Vec::with_capacity(request.records.len());
                let mut line = None;
                let mut reconcile = false;
                let mut resent_in_doubt = false;
                for no in &request.records {
                    if let Some(record) = pending.remove(no) {
                        line = line.or(Some(record.line));
                        values.push(record.value);
                    }
                    reconcile |= reconciling.remove(no);
                    resent_in_doubt |= resending.remove(no);
                }
                send(Work::Send(Job {
                    request,
                    values,
                    line,
                    reconcile,
                    resent_in_doubt,
                }))
            }
            Built::Invalid(invalid) => {
                reconciling.remove(&invalid.record);
                resending.remove(&invalid.record);
                let value = pending.remove(&invalid.record).map(|r| r.value);
                send(Work::Invalid { invalid, value })
            }
        }
    };
    // In-doubt records to look up go last, so the earlier run's requests have had the longest
    // time to land before they are looked for, and fresh records need not wait for them.
    let mut deferred = Vec::new();
    let mut flushed = false;
    for item in reader {
        match reading() {
            Reading::On => {}
            Reading::Flush => {
                flushed = true;
                break;
            }
            Reading::Halt => return,
        }
        let no = match &item {
            Ok(record) => record.no,
            Err(err) => err.no,
        };
        match prior.state(no) {
            state if state.is_done() => {
                skipped += 1;
                continue;
            }
            RecordState::InDoubt { method } => {
                match in_doubt::decide(method, in_doubt_policy, resend, can_look_up) {
                    InDoubtAction::Report => {
                        if !send(Work::InDoubt(vec![no])) {
                            return;
                        }
                        continue;
                    }
                    InDoubtAction::Reconcile => {
                        reconciling.insert(no);
                        deferred.push(item);
                        continue;
                    }
                    InDoubtAction::Resend => {
                        resending.insert(no);
                    }
                }
            }
            _ => {}
        }
        if skipped > 0 {
            if !send(Work::Skipped(skipped)) {
                return;
            }
            skipped = 0;
        }
        for built in build(&mut builder, &mut pending, item) {
            if !emit(built, &mut pending, &mut reconciling, &mut resending) {
                return;
            }
        }
    }
    if reading() == Reading::Halt {
        return;
    }
    for item in deferred {
        // A drain stops reading: records not yet handed on stay as the store says, in doubt.
        if flushed || reading() != Reading::On {
            break;
        }
        for built in build(&mut builder, &mut pending, item) {
            if !emit(built, &mut pending, &mut reconciling, &mut resending) {
                return;
            }
        }
    }
    if reading() == Reading::Halt {
        return;
    }
    for built in builder.finish() {
        if !emit(built, &mut pending, &mut reconciling, &mut resending) {
            return;
        }
    }
    if skipped > 0 {
        send(Work::Skipped(skipped));
    }
    // Every record pushed must have come out; one that did not would be silently lost.
    let mut lost: Vec<Record> = pending.into_values().collect();
    lost.sort_by_key(|r| r.no);
    for record in lost {
        let invalid = Invalid {
            record: record.no,
            line: record.line,
            reason: "the request builder produced no request for this record".into(),
        };
        send(Work::Invalid {
            invalid,
            value: Some(record.value),
        });
    }
}

/// Builds one record read, keeping its value in `pending` (for a dead letter) until its request
/// is handed on.
fn build(
    builder: &mut Builder<'_>,
    pending: &mut HashMap<RecordNo, Record>,
    item: Result<Record, RecordError>,
) -> Vec<Built> {
    match item {
        Ok(record) => {
            let record = pending.entry(record.no).insert_entry(record).into_mut();
            builder.add(record)
        }
        Err(err) => builder.push(Err(err)),
    }
}
