//! Classifying a large input on two threads: one builds records into rows (mapping, phone
//! normalisation, digest — the costly, state-free half), while the caller's thread reads the
//! input and asks the state about each row, in input order. Memory stays bounded: at most a few
//! batches are in flight.

use std::sync::mpsc::sync_channel;

use super::classify::{Prepared, Preparer};
use crate::records::{Record, RecordError};

/// Records per batch handed between the threads: large enough that the hand-over costs nothing
/// per record, small enough that the batches in flight stay under a few MB.
const BATCH: usize = 512;

/// Batches in flight at once (queued to, being built by, or queued from the builder thread).
const IN_FLIGHT: usize = 2;

/// Feeds every record of `records`, prepared by `preparer` on a second thread, to `decide` in
/// input order. Stops at the first error `decide` returns.
pub fn prepare_alongside<E>(
    records: impl Iterator<Item = Result<Record, RecordError>>,
    preparer: Preparer<'_>,
    mut decide: impl FnMut(Prepared) -> Result<(), E>,
) -> Result<(), E> {
    std::thread::scope(|scope| {
        let (to_builder, builder_in) = sync_channel::<Vec<Result<Record, RecordError>>>(IN_FLIGHT);
        let (builder_out, from_builder) = sync_channel::<Vec<Prepared>>(IN_FLIGHT);
        scope.spawn(move || {
            for batch in builder_in {
                let built = batch.into_iter().map(|r| preparer.prepare(r)).collect();
                if builder_out.send(built).is_err() {
                    // The caller stopped on an error: nothing more is wanted.
                    return;
                }
            }
        });
        let mut sent = 0usize;
        let mut take = |sent: &mut usize| -> Result<(), E> {
            // The builder ends only when its input closes, so a batch sent is a batch answered.
            if let Ok(built) = from_builder.recv() {
                *sent -= 1;
                for prepared in built {
                    decide(prepared)?;
                }
            }
            Ok(())
        };
        let mut batch = Vec::with_capacity(BATCH);
        for record in records {
            batch.push(record);
            if batch.len() == BATCH {
                if sent == IN_FLIGHT {
                    take(&mut sent)?;
                }
                if to_builder.send(std::mem::take(&mut batch)).is_err() {
                    break;
                }
                sent += 1;
                batch.reserve(BATCH);
            }
        }
        if !batch.is_empty() && to_builder.send(batch).is_ok() {
            sent += 1;
        }
        drop(to_builder);
        while sent > 0 {
            let before = sent;
            take(&mut sent)?;
            if sent == before {
                break;
            }
        }
        Ok(())
    })
}
