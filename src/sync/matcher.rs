//! Finding the Aircall object a new key may already have: per-row lookups
//! (`GET /v1/contacts/search`, `GET /v2/users/{email}`), or, when cheaper, a baseline listed once
//! (`GET /v1/contacts`, 50 per page; Aircall lists at most 10,000 items) and matched locally.

use std::cell::Cell;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::api::{Api, Headers};
use super::send::{Sender, Sent};
use super::shape::{DetailKind, Shape};
use crate::destination::{MatchOn, SyncResource};
use crate::records::RecordNo;

/// Aircall stops listing after this many items.
pub const LIST_LIMIT: u64 = 10_000;
/// Items per listing page.
pub const PAGE_SIZE: u64 = 50;

/// How new keys are matched in a run, and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// No matching (`match = "none"`, or no new keys).
    None,
    /// One or two lookups per new key.
    Lookups,
    /// The whole account listed once (`pages` requests), then matched locally.
    Listing { pages: u64 },
}

impl Baseline {
    pub fn name(self) -> &'static str {
        match self {
            Baseline::None => "none",
            Baseline::Lookups => "lookups",
            Baseline::Listing { .. } => "listing",
        }
    }

    /// Chooses for `new_keys` keys to match, given the account's size when it was asked
    /// (`None`: unknown, so lookups). Listing wins when it is allowed (≤ 10,000 objects) and
    /// costs fewer requests than one lookup per key.
    pub fn choose(new_keys: u64, order: &[MatchOn], account_total: Option<u64>) -> Baseline {
        if new_keys == 0 || order.is_empty() {
            return Baseline::None;
        }
        match account_total {
            Some(total) if total <= LIST_LIMIT => {
                let pages = total.div_ceil(PAGE_SIZE).max(1);
                if pages < new_keys {
                    Baseline::Listing { pages }
                } else {
                    Baseline::Lookups
                }
            }
            _ => Baseline::Lookups,
        }
    }
}

/// A match: the object's id and its fields as Aircall answered them.
pub type Found = (u64, Map<String, Value>);

/// Why matching could not finish.
#[derive(Debug, Clone)]
pub enum MatchError {
    Fatal(String),
    /// A lookup failed for good: the key stays new and is tried next run.
    Failed(String),
    /// The run was stopped.
    Stopped,
}

/// The listed baseline, indexed by normalised phone number and email.
#[derive(Debug, Default)]
pub struct Listed {
    by_phone: HashMap<String, Vec<u64>>,
    by_email: HashMap<String, Vec<u64>>,
    objects: HashMap<u64, Map<String, Value>>,
}

impl Listed {
    /// Lists every page. `first` is page 1 when it was fetched already (to read the total).
    pub async fn fetch(
        api: &Api,
        sender: &Sender,
        first: Option<Value>,
    ) -> Result<Listed, MatchError> {
        let mut listed = Listed::default();
        let mut page = 1;
        let mut answer = first;
        loop {
            let body = match answer.take() {
                Some(body) => body,
                None => fetch_page(api, sender, page).await?,
            };
            let items = body
                .get(api.wrapper().1)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in &items {
                listed.add(api.resource, item);
            }
            let more = body
                .get("meta")
                .and_then(|m| m.get("next_page_link"))
                .is_some_and(|l| !l.is_null());
            if !more || items.is_empty() || page * PAGE_SIZE >= LIST_LIMIT {
                return Ok(listed);
            }
            page += 1;
        }
    }

    fn add(&mut self, resource: SyncResource, item: &Value) {
        let Some(object) = item.as_object() else {
            return;
        };
        let Some(id) = object.get("id").and_then(Value::as_u64) else {
            return;
        };
        match resource {
            SyncResource::Contacts => {
                for (kind, list) in [
                    (DetailKind::Phone, &mut self.by_phone),
                    (DetailKind::Email, &mut self.by_email),
                ] {
                    for detail in object
                        .get(kind.list_key())
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(value) = detail.get("value").and_then(Value::as_str) {
                            list.entry(kind.normalise(value)).or_default().push(id);
                        }
                    }
                }
            }
            SyncResource::Users => {
                if let Some(email) = object.get("email").and_then(Value::as_str) {
                    self.by_email
                        .entry(DetailKind::Email.normalise(email))
                        .or_default()
                        .push(id);
                }
            }
        }
        self.objects.insert(id, object.clone());
    }

    fn candidates(&self, kind: DetailKind, value: &str) -> Vec<Found> {
        let index = match kind {
            DetailKind::Phone => &self.by_phone,
            DetailKind::Email => &self.by_email,
        };
        index
            .get(value)
            .into_iter()
            .flatten()
            .filter_map(|id| self.objects.get(id).map(|o| (*id, o.clone())))
            .collect()
    }

    /// Forgets an object once a key took it, so no second key matches it.
    pub fn remove(&mut self, id: u64) {
        self.objects.remove(&id);
    }

    /// Adds an object this run created, so a later row of the same run can match it.
    pub fn insert(&mut self, resource: SyncResource, object: &Map<String, Value>) {
        self.add(resource, &Value::Object(object.clone()));
    }
}

async fn fetch_page(api: &Api, sender: &Sender, page: u64) -> Result<Value, MatchError> {
    match sender.send(&api.list(page)).await {
        Sent::Applied { body, .. } => Ok(body),
        Sent::Fatal(message) => Err(MatchError::Fatal(message)),
        Sent::Stopped => Err(MatchError::Stopped),
        Sent::Refused { message, .. } | Sent::InDoubt(message) => Err(MatchError::Failed(format!(
            "listing page {page} failed: {message}"
        ))),
    }
}

/// Page 1 of the listing, and the account's total it reports.
pub async fn probe(api: &Api, sender: &Sender) -> Result<(Value, Option<u64>), MatchError> {
    let body = fetch_page(api, sender, 1).await?;
    let total = body
        .get("meta")
        .and_then(|m| m.get("total"))
        .and_then(Value::as_u64);
    Ok((body, total))
}

/// What one match looks for: `shape`'s phone number and email, tried in `order`; lookups carry
/// the record's `headers` (`None`: a key with no row in this export).
pub struct Query<'a> {
    pub shape: &'a Shape,
    pub order: &'a [MatchOn],
    pub headers: Option<&'a Headers>,
    pub record: RecordNo,
}

/// The values `query` is looked up by, in order: the first phone number and the first email.
fn tried<'q>(
    resource: SyncResource,
    query: &'q Query<'_>,
) -> impl Iterator<Item = (DetailKind, String)> + 'q {
    query.order.iter().filter_map(move |on| {
        let kind = match on {
            MatchOn::Phone => DetailKind::Phone,
            MatchOn::Email => DetailKind::Email,
        };
        query.shape.first(kind, resource).map(|value| (kind, value))
    })
}

/// The candidate with the lowest id that no other key owns (`claimed`).
fn pick(candidates: Vec<Found>, claimed: &mut dyn FnMut(u64) -> bool) -> Option<Found> {
    candidates
        .into_iter()
        .filter(|(id, _)| !claimed(*id))
        .min_by_key(|(id, _)| *id)
}

impl Listed {
    /// Matches `query` against the listing, without a request: the first value that finds an
    /// object no other key owns wins.
    pub fn find(
        &self,
        resource: SyncResource,
        query: &Query<'_>,
        claimed: &mut dyn FnMut(u64) -> bool,
    ) -> Option<Found> {
        tried(resource, query)
            .find_map(|(kind, value)| pick(self.candidates(kind, &value), claimed))
    }
}

/// Looks `query` up in Aircall, one request per value tried, until one finds an object no
/// other key owns (`claimed`). `lookups` counts the requests made.
pub async fn find(
    api: &Api,
    sender: &Sender,
    query: Query<'_>,
    lookups: &Cell<u64>,
    claimed: &mut dyn FnMut(u64) -> bool,
) -> Result<Option<Found>, MatchError> {
    for (kind, value) in tried(api.resource, &query) {
        let request = api.lookup(kind, &value, query.headers, Some(query.record));
        let sent = sender.send(&request).await;
        // A lookup stopped before it left costs nothing, and is not counted as one.
        if !matches!(sent, Sent::Stopped) {
            lookups.set(lookups.get() + 1);
        }
        let candidates = match sent {
            Sent::Applied { body, .. } => objects_in(api, &body),
            Sent::Refused {
                status: Some(404), ..
            } => Vec::new(),
            Sent::Fatal(message) => return Err(MatchError::Fatal(message)),
            Sent::Stopped => return Err(MatchError::Stopped),
            Sent::Refused { message, .. } | Sent::InDoubt(message) => {
                return Err(MatchError::Failed(format!("lookup failed: {message}")));
            }
        };
        if let Some(found) = pick(candidates, claimed) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The objects of a search answer (`{"contacts": [...]}`) or a single-object one (`{"user": {}}`).
fn objects_in(api: &Api, body: &Value) -> Vec<Found> {
    let (one, many) = api.wrapper();
    let items: Vec<&Value> = match (body.get(many), body.get(one)) {
        (Some(Value::Array(items)), _) => items.iter().collect(),
        (_, Some(object)) => vec![object],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| {
            let object = item.as_object()?;
            Some((object.get("id")?.as_u64()?, object.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_wins_only_when_cheaper_and_allowed() {
        let order = [MatchOn::Phone, MatchOn::Email];
        assert_eq!(
            Baseline::choose(1000, &order, Some(0)),
            Baseline::Listing { pages: 1 }
        );
        assert_eq!(
            Baseline::choose(1000, &order, Some(5000)),
            Baseline::Listing { pages: 100 }
        );
        assert_eq!(Baseline::choose(50, &order, Some(5000)), Baseline::Lookups);
        assert_eq!(
            Baseline::choose(100_000, &order, Some(20_000)),
            Baseline::Lookups
        );
        assert_eq!(Baseline::choose(1000, &order, None), Baseline::Lookups);
        assert_eq!(Baseline::choose(1000, &[], Some(0)), Baseline::None);
        assert_eq!(Baseline::choose(0, &order, Some(0)), Baseline::None);
    }
}
