//! The sandbox's in-memory company: users, contacts, teams, tags, calls, dialer campaigns and
//! webhooks, with the rules Aircall applies when they are written.

mod calls;
mod contacts;
mod dialer;
pub mod fields;
mod tags;
mod teams;
mod users;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::sandbox::answer::ApiError;

pub use calls::Call;
pub use contacts::{Contact, Detail, DetailKind};
pub use dialer::{Campaign, CampaignNumber};
pub use tags::Tag;
pub use teams::Team;
pub use users::User;
pub use webhooks::Webhook;

/// Most items a list page holds (Aircall: `per_page` between 1 and 50).
pub const MAX_PER_PAGE: u64 = 50;
/// Aircall stops listing contacts (and calls) after this many items.
pub const MAX_LISTED: u64 = 10_000;
const DEFAULT_PER_PAGE: u64 = 20;

/// Everything one sandbox company holds.
#[derive(Debug, Serialize)]
pub struct Store {
    /// Base of `direct_link` and pagination links: the sandbox's own URL.
    #[serde(skip)]
    base_url: String,
    #[serde(skip)]
    next_id: HashMap<&'static str, u64>,
    #[serde(skip)]
    rng: StdRng,
    pub users: BTreeMap<u64, User>,
    pub contacts: BTreeMap<u64, Contact>,
    pub teams: BTreeMap<u64, Team>,
    pub tags: BTreeMap<u64, Tag>,
    pub calls: BTreeMap<u64, Call>,
    /// Dialer campaigns by user id (one per user).
    pub dialer_campaigns: BTreeMap<u64, Campaign>,
    /// Webhooks in creation order (their ids are UUIDs).
    pub webhooks: Vec<Webhook>,
}

impl Store {
    pub fn new(base_url: String, seed: u64) -> Self {
        Self {
            base_url,
            next_id: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
            users: BTreeMap::new(),
            contacts: BTreeMap::new(),
            teams: BTreeMap::new(),
            tags: BTreeMap::new(),
            calls: BTreeMap::new(),
            dialer_campaigns: BTreeMap::new(),
            webhooks: Vec::new(),
        }
    }

    /// Empties the company, keeping the base URL; ids start again from 1.
    pub fn clear(&mut self) {
        let base_url = std::mem::take(&mut self.base_url);
        let rng = self.rng.clone();
        *self = Self::new(base_url, 0);
        self.rng = rng;
    }

    /// The whole store as JSON, for `GET /_sandbox/state`.
    pub fn dump(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Ids are integers counted per resource from 1, like a fresh Aircall account would show.
    fn next_id(&mut self, kind: &'static str) -> u64 {
        let id = self.next_id.entry(kind).or_insert(0);
        *id += 1;
        *id
    }

    fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn uuid(&mut self) -> String {
        let bits: u128 = self.rng.random();
        // Version 4 (random) in the version nibble, RFC 4122 variant in the top bits of byte 8.
        let bits = (bits & !(0xF << 76)) | (0x4 << 76);
        let bits = (bits & !(0x3 << 62)) | (0x2 << 62);
        let hex = format!("{bits:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    fn token(&mut self) -> String {
        let bits: u128 = self.rng.random();
        format!("{bits:032x}")
    }
}

/// Query parameters of a list endpoint.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub page: u64,
    pub per_page: u64,
    pub descending: bool,
    /// Every parameter as received, for filters and for the pagination links.
    pub params: Vec<(String, String)>,
}

impl ListQuery {
    /// Reads `page`, `per_page` and `order` with Aircall's bounds; other parameters are kept.
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut list = Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            descending: false,
            params,
        };
        for (key, value) in &list.params {
            match key.as_str() {
                "page" => {
                    list.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "page must be an integer >= 1, not {value:?}"
                        ))
                    })?;
                }
                "per_page" => {
                    list.per_page = value
                        .parse()
                        .ok()
                        .filter(|p| (1..=MAX_PER_PAGE).contains(p))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "per_page must be an integer between 1 and {MAX_PER_PAGE}, not {value:?}"
                            ))
                        })?;
                }
                "order" => {
                    list.descending = match value.as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "order must be asc or desc, not {value:?}"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(list)
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn link_to(&self, base: &str, page: u64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.params {
            if key != "page" && key != "per_page" {
                query.append_pair(key, value);
            }
        }
        query.append_pair("page", &page.to_string());
        query.append_pair("per_page", &self.per_page.to_string());
        format!("{base}?{}", query.finish())
    }
}

impl Store {
    /// One page of `items` as Aircall lists them: `{"meta": {...}, "<key>": [...]}`.
    fn page<T: Serialize>(
        &self,
        path: &str,
        key: &str,
        items: Vec<&T>,
        query: &ListQuery,
    ) -> Value {
        self.page_within(path, key, items, query, u64::MAX)
    }

    /// A page of a listing that, like Aircall's contacts and calls, stops after `reachable`
    /// items: `meta.total` still counts them all, but no page goes past the limit.
    fn page_within<T: Serialize>(
        &self,
        path: &str,
        key: &str,
        mut items: Vec<&T>,
        query: &ListQuery,
        reachable: u64,
    ) -> Value {
        if query.descending {
            items.reverse();
        }
        let total = items.len() as u64;
        items.truncate(usize::try_from(reachable).unwrap_or(usize::MAX));
        let listed = items.len() as u64;
        let start = (query.page - 1).saturating_mul(query.per_page);
        let page: Vec<&T> = items
            .into_iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(query.per_page).unwrap_or(usize::MAX))
            .collect();
        let base = self.link(path);
        let next = (start + query.per_page < listed).then(|| query.link_to(&base, query.page + 1));
        let previous = (query.page > 1).then(|| query.link_to(&base, query.page - 1));
        json!({
            "meta": {
                "count": page.len(),
                "total": total,
                "current_page": query.page,
                "per_page": query.per_page,
                "next_page_link": next,
                "previous_page_link": previous,
            },
            key: page,
        })
    }
}

/// An integer id from a path segment; anything else names no object, so it is "Not found".
pub fn parse_id(segment: &str, what: &str) -> Result<u64, ApiError> {
    segment
        .parse()
        .map_err(|_| ApiError::not_found(format!("{what} {segment:?} not found")))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 UTC with milliseconds, as Aircall writes `created_at` of users, teams and webhooks.
pub use crate::timestamp::rfc3339;

pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_614_093_780_123);
        assert_eq!(rfc3339(t), "2021-02-23T15:23:00.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn uuids_are_version_4() {
        let mut store = Store::new(String::new(), 7);
        let id = store.uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }

    #[test]
    fn per_page_is_bounded() {
        assert!(ListQuery::parse(Some("per_page=50")).is_ok());
        assert_eq!(
            ListQuery::parse(Some("per_page=51"))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
        assert_eq!(
            ListQuery::parse(Some("per_page=0"))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
        assert_eq!(
            ListQuery::parse(Some("page=x"))
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }
}
