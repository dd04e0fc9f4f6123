//! The end of a sync run: creates an earlier run left in doubt whose rows are gone from the
//! export, and (mirror) the deletes of the objects this destination created whose keys left it.

use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Map;

use super::Stop;
use super::keys::{Keys, reconcile_order, shown_key};
use crate::records::RecordNo;
use crate::sync::api::Headers;
use crate::sync::classify::Row;
use crate::sync::diff::Op;
use crate::sync::send::Sent;
use crate::sync::shape::Shape;
use crate::sync::store::{Origin, Pending};

/// Creates left in doubt by an earlier run whose rows are not in this export: looked up, and
/// kept (a mirror then deletes them with the other keys gone); forgotten when they never
/// happened.
pub(super) async fn finish_orphans(keys: &Keys<'_>) -> Result<(), Stop> {
    for key in keys.state(keys.store.orphaned_creates())? {
        let shape = keys.state(keys.store.applied(&key))?.unwrap_or_default();
        let row = Row {
            no: RecordNo(0),
            line: 0,
            key: key.clone(),
            body: Map::new(),
            headers: Headers::default(),
            digest: shape.digest(),
            shape,
            source: None,
            written: Default::default(),
        };
        let order = reconcile_order(keys.api.resource);
        match keys.find(&row, &order, true).await? {
            Ok(Some((id, object))) => {
                let applied = Shape::from_answer(keys.api.resource, &object, &row.shape);
                keys.state(keys.store.settle(
                    &key,
                    id,
                    Origin::Created,
                    &applied,
                    Some(&row.digest),
                ))?;
            }
            Ok(None) => keys.state(keys.store.forget(&key))?,
            Err(message) => keys.watch.say(&format!(
                "note: a create for key {:?} from an earlier run is still in doubt: {message}",
                shown_key(&key)
            )),
        }
    }
    Ok(())
}

/// Mirror: deletes the objects this destination created whose keys left the export, up to
/// `concurrency` at once (one request per key).
pub(super) async fn delete_gone(keys: &Keys<'_>, concurrency: usize) -> Result<(), Stop> {
    let mut after = String::new();
    let mut first_stop = None;
    loop {
        let batch = keys.state(keys.store.gone(&after, 200))?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        after = last.clone();
        let mut flights = FuturesUnordered::new();
        for (key, id) in batch {
            if flights.len() >= concurrency
                && let Some(Err(stop)) = flights.next().await
            {
                first_stop.get_or_insert(stop);
            }
            if first_stop.is_some() {
                break;
            }
            flights.push(delete(keys, key, id));
            keys.watch.in_flight.set(flights.len());
        }
        while let Some(done) = flights.next().await {
            keys.watch.in_flight.set(flights.len());
            if let Err(stop) = done {
                first_stop.get_or_insert(stop);
            }
        }
        if first_stop.is_some() {
            break;
        }
    }
    first_stop.map_or(Ok(()), Err)
}

async fn delete(keys: &Keys<'_>, key: String, id: u64) -> Result<(), Stop> {
    keys.state(
        keys.store
            .intend(&key, Pending::Delete, Origin::Created, None),
    )?;
    keys.durable().await?;
    let request = keys.api.op(&Op::Delete, Some(id), &Map::new(), None, None);
    match keys.sender.send(&request).await {
        Sent::Applied { .. }
        | Sent::Refused {
            status: Some(404), ..
        } => {
            keys.state(keys.store.forget(&key))?;
            keys.count(|s| s.deleted += 1);
            Ok(())
        }
        Sent::Fatal(message) => Err(Stop::Fatal(message)),
        // A DELETE is safe to resend: the next run sends it again.
        Sent::Stopped => Err(Stop::Interrupted),
        Sent::Refused { message, .. } | Sent::InDoubt(message) => {
            keys.state(keys.store.reject(&key))?;
            keys.count(|s| s.delete_failed += 1);
            keys.watch.say(&format!(
                "rejected: delete of object {id} (key {:?}): {message}; tried again next run",
                shown_key(&key)
            ));
            Ok(())
        }
    }
}
