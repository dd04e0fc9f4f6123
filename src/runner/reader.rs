//! The reader thread: records stream through the skip and in-doubt decisions (what earlier runs
//! left) and the request builder into a small bounded queue for the dispatcher.

use std::collections::{HashMap, HashSet};

use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};

use super::dead_letter::raw_values;
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
        value: Option<Box<RawValue>>,
    },
    /// Records an earlier run finished.
    Skipped(u64),
    /// Records an earlier run left in doubt and that are not to be resent.
    InDoubt(Vec<RecordNo>),
}

/// One request and the records it carries (their values, for the dead-letter file).
pub(super) struct Job {
    pub request: Request,
    pub values: Vec<Box<RawValue>>,
    pub line: Option<u64>,
    /// An earlier run sent it without learning the outcome: look it up before sending.
    pub reconcile: bool,
    /// An earlier run sent it without learning the outcome, and it is sent again as it is
    /// (idempotent, or resending was asked for): its first attempt may find it already applied.
    pub resent_in_doubt: bool,
}

/// Records the reader gathers before it hands them on in one go. Handed on one at a time, the
/// reader was woken each time the full queue had a free slot again, and woke the dispatcher's
/// thread each time it waited; a chunk shares those wakes among its records. A dispatcher that
/// waits for work gets what there is at once instead (see [`Outbox::push`]), so a slow input is
/// not held back.
pub(super) const HANDOFF_RECORDS: usize = 16;

/// Chunks the queue between the reader and the dispatcher holds: about `concurrency` records
/// (what one item per slot held before chunks), and at least two chunks so the reader fills
/// one while the dispatcher empties another. Requests of many records are each a chunk.
pub(super) fn queue_chunks(concurrency: usize, records_per_request: usize) -> usize {
    let per_chunk = HANDOFF_RECORDS.div_ceil(records_per_request.max(1));
    concurrency.div_ceil(per_chunk).max(2)
}

/// The reader's end of the queue: work gathered into chunks of about [`HANDOFF_RECORDS`].
pub(super) struct Outbox {
    tx: mpsc::Sender<Vec<Work>>,
    chunk: Vec<Work>,
    /// Records in `chunk` (at least one per item, so items of no record still fill it).
    records: usize,
}

impl Outbox {
    pub(super) fn new(tx: mpsc::Sender<Vec<Work>>) -> Self {
        Outbox {
            tx,
            chunk: Vec::new(),
            records: 0,
        }
    }

    /// Adds `work` to the chunk, handing the chunk on when it is full or when the queue is
    /// empty (the dispatcher may be waiting for it). False when the dispatcher is gone.
    pub(super) fn push(&mut self, work: Work) -> bool {
        self.records += match &work {
            Work::Send(job) => job.request.records.len().max(1),
            Work::InDoubt(records) => records.len().max(1),
            Work::Invalid { .. } | Work::Skipped(_) => 1,
        };
        self.chunk.push(work);
        if self.records >= HANDOFF_RECORDS || self.tx.capacity() == self.tx.max_capacity() {
            return self.flush();
        }
        true
    }

    /// Hands on what is gathered, waiting for room in the queue. False when the dispatcher is
    /// gone.
    pub(super) fn flush(&mut self) -> bool {
        if self.chunk.is_empty() {
            return true;
        }
        self.records = 0;
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(HANDOFF_RECORDS));
        self.tx.blocking_send(chunk).is_ok()
    }
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
    tx: mpsc::Sender<Vec<Work>>,
    stop: watch::Receiver<Reading>,
) {
    let reading = || *stop.borrow();
    let mut outbox = Outbox::new(tx);
    let mut builder = plan.builder();
    // Values of records inside open batches, kept for dead letters until their request is built.
    let mut pending: HashMap<RecordNo, Record> = HashMap::new();
    // In-doubt records of earlier runs whose request is to be looked up before it is sent.
    let mut reconciling: HashSet<RecordNo> = HashSet::new();
    // In-doubt records of earlier runs that are sent again without a lookup.
    let mut resending: HashSet<RecordNo> = HashSet::new();
    let mut skipped = 0u64;
    let emit = |built: Built,
                outbox: &mut Outbox,
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
                        values.push(raw_values(&record.value));
                    }
                    reconcile |= reconciling.remove(no);
                    resent_in_doubt |= resending.remove(no);
                }
                outbox.push(Work::Send(Job {
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
                let value = pending
                    .remove(&invalid.record)
                    .map(|r| raw_values(&r.value));
                outbox.push(Work::Invalid { invalid, value })
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
                        if !outbox.push(Work::InDoubt(vec![no])) {
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
            if !outbox.push(Work::Skipped(skipped)) {
                return;
            }
            skipped = 0;
        }
        for built in build(&mut builder, &mut pending, item) {
            if !emit(
                built,
                &mut outbox,
                &mut pending,
                &mut reconciling,
                &mut resending,
            ) {
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
            if !emit(
                built,
                &mut outbox,
                &mut pending,
                &mut reconciling,
                &mut resending,
            ) {
                return;
            }
        }
    }
    if reading() == Reading::Halt {
        return;
    }
    for built in builder.finish() {
        if !emit(
            built,
            &mut outbox,
            &mut pending,
            &mut reconciling,
            &mut resending,
        ) {
            return;
        }
    }
    if skipped > 0 && !outbox.push(Work::Skipped(skipped)) {
        return;
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
        if !outbox.push(Work::Invalid {
            invalid,
            value: Some(raw_values(&record.value)),
        }) {
            return;
        }
    }
    // What is gathered goes on, unless the dispatcher asked for nothing more.
    if reading() != Reading::Halt {
        outbox.flush();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(no: u64) -> Work {
        Work::Invalid {
            invalid: Invalid {
                record: RecordNo(no),
                line: no,
                reason: "test".into(),
            },
            value: None,
        }
    }

    fn records_of(chunk: &[Work]) -> Vec<u64> {
        chunk
            .iter()
            .map(|work| match work {
                Work::Invalid { invalid, .. } => invalid.record.0,
                _ => panic!("only invalid records were pushed"),
            })
            .collect()
    }

    #[test]
    fn a_waiting_dispatcher_gets_each_record_at_once() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut outbox = Outbox::new(tx);
        for no in 1..=3 {
            assert!(outbox.push(invalid(no)));
            // The queue was empty: the record went on alone, without waiting for a full chunk.
            let chunk = rx.try_recv().expect("handed on at once");
            assert_eq!(records_of(&chunk), vec![no]);
        }
    }

    #[test]
    fn a_busy_dispatcher_gets_full_chunks_and_the_rest_on_flush() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut outbox = Outbox::new(tx);
        // The first goes on alone (the queue was empty) and stays there: the dispatcher is busy.
        assert!(outbox.push(invalid(1)));
        let pushed = 1 + 2 * HANDOFF_RECORDS as u64 + 3;
        for no in 2..=pushed {
            assert!(outbox.push(invalid(no)));
        }
        let mut chunks = Vec::new();
        while let Ok(chunk) = rx.try_recv() {
            chunks.push(records_of(&chunk));
        }
        assert_eq!(chunks.len(), 3, "{chunks:?}");
        assert_eq!(chunks[0], vec![1]);
        assert_eq!(chunks[1].len(), HANDOFF_RECORDS);
        assert_eq!(chunks[2].len(), HANDOFF_RECORDS);
        // Three are gathered, not yet handed on; the flush at the end hands them on.
        assert!(outbox.flush());
        let rest = records_of(&rx.try_recv().expect("flushed"));
        assert_eq!(rest, vec![pushed - 2, pushed - 1, pushed]);
        let all: Vec<u64> = chunks.into_iter().flatten().chain(rest).collect();
        assert_eq!(all, (1..=pushed).collect::<Vec<_>>(), "in order, none lost");
    }

    #[test]
    fn a_gone_dispatcher_stops_the_reader() {
        let (tx, rx) = mpsc::channel(2);
        drop(rx);
        let mut outbox = Outbox::new(tx);
        assert!(!outbox.push(invalid(1)));
    }

    #[test]
    fn the_queue_holds_about_concurrency_records() {
        assert_eq!(queue_chunks(32, 1), 2);
        assert_eq!(queue_chunks(64, 1), 4);
        assert_eq!(queue_chunks(1, 1), 2);
        // Requests of 16 or more records are a chunk each: one per slot, as before chunks.
        assert_eq!(queue_chunks(32, 100), 32);
        assert_eq!(queue_chunks(32, 4), 8);
    }
}
