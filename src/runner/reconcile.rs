//! Reconciling creates whose outcome is unknown: looking the object up at Aircall (contacts by
//! phone number or email, users by email) to learn whether the earlier attempt was applied, so a
//! create that did land is recorded as delivered instead of being made twice.
//!
//! Aircall has no idempotency key, so this is the only way to resend a create safely. The pure
//! part (what to look up, which request asks it, whether an answer shows the object) is separate
//! from the driver that sends the lookups through the run's client, rate limiter and retry policy.

use rand::rngs::StdRng;
use serde_json::{Map, Value};
use url::Url;

use crate::client::Attempts;
use crate::destination::{ContentFormat, Destination, Method};
use crate::request::Request;

/// Lookup pages read at most for one contact search: fifty contacts each; more than a thousand
/// contacts sharing one phone number is no longer a lookup worth trusting.
const MAX_PAGES: u32 = 20;
const PER_PAGE: u32 = 50;

/// Scalar contact fields that a found contact must carry with the same value as the create's
/// body, so a contact that merely shares a phone number (made earlier, by hand or by another
/// record) is not mistaken for this create.
const CONTACT_FIELDS: [&str; 4] = ["first_name", "last_name", "company_name", "information"];

/// Which kind of object a destination creates, when Aircall lets it be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    /// `POST /v1/contacts`, looked up with `GET /v1/contacts/search?phone_number=…` (or `email=`).
    Contact,
    /// `POST /v2/users`, looked up with `GET /v2/users/{email}`.
    User,
}

impl LookupKind {
    /// Reads a template resource's `reconcile` hint.
    pub fn from_hint(hint: &str) -> Option<Self> {
        match hint {
            "contact" => Some(LookupKind::Contact),
            "user" => Some(LookupKind::User),
            _ => None,
        }
    }

    /// The lookup a destination's creates allow, if any. It needs a template resource with a
    /// `reconcile` hint, and requests that are still that resource's: one record per request
    /// (a batch cannot be looked up), a JSON body, POST to the resource's own path. A destination
    /// edited by hand into something else gets no lookup, so nothing is matched on a guess.
    pub fn of_destination(destination: &Destination) -> Option<Self> {
        let reference = destination.template.as_ref()?;
        let resource = crate::templates::get(&reference.id)?.resource(&reference.resource)?;
        let kind = LookupKind::from_hint(resource.reconcile.as_deref()?)?;
        let request = &destination.request;
        let same_path =
            url_path(&request.url).trim_end_matches('/') == resource.path.trim_end_matches('/');
        (request.method == Method::Post
            && request.content_format == ContentFormat::Json
            && !destination.batching.enabled
            && same_path)
            .then_some(kind)
    }
}

/// The path of an absolute or `/`-relative URL, without its query.
fn url_path(url: &str) -> String {
    if url.starts_with('/') {
        url.split(['?', '#']).next().unwrap_or(url).to_string()
    } else {
        Url::parse(url)
            .map(|u| u.path().to_string())
            .unwrap_or_default()
    }
}

/// What identifies the object one create request would make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Contact(ContactKey),
    User { email: String },
}

/// A contact create's identifying values, normalised the way Aircall compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactKey {
    /// Phone numbers as `+` and digits.
    pub phones: Vec<String>,
    /// Emails in lower case.
    pub emails: Vec<String>,
    /// The scalar fields the create sets, which a match must carry too.
    pub fields: Vec<(String, String)>,
}

/// What one answer to a lookup shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Found,
    NotFound { more: bool },
}

/// What reconciling an in-doubt create concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// The object exists: the earlier attempt was applied.
    Found,
    /// No such object: the earlier attempt was not applied, so sending is safe.
    NotFound,
    /// The lookup could not tell (it failed, or its answer was unreadable); the reason.
    Unknown(String),
}

impl Lookup {
    /// The lookup for one create request, or `None` when it carries several records (a batch)
    /// or its body holds nothing to look up by.
    pub fn of_request(kind: LookupKind, request: &Request) -> Option<Lookup> {
        if request.records.len() != 1 || request.method != Method::Post {
            return None;
        }
        let body: Map<String, Value> = serde_json::from_str(request.body.as_deref()?).ok()?;
        match kind {
            LookupKind::Contact => {
                let phones: Vec<String> = detail_values(&body, "phone_numbers")
                    .map(|v| compact_phone(&v))
                    .filter(|p| p.len() > 1)
                    .collect();
                let emails: Vec<String> = detail_values(&body, "emails")
                    .map(|e| e.trim().to_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect();
                if phones.is_empty() && emails.is_empty() {
                    return None;
                }
                let fields = CONTACT_FIELDS
                    .iter()
                    .filter_map(|&name| {
                        body.get(name)
                            .and_then(Value::as_str)
                            .map(|v| (name.to_string(), v.to_string()))
                    })
                    .collect();
                Some(Lookup::Contact(ContactKey {
                    phones,
                    emails,
                    fields,
                }))
            }
            LookupKind::User => {
                let email = body.get("email")?.as_str()?.trim();
                (!email.is_empty()).then(|| Lookup::User {
                    email: email.to_string(),
                })
            }
        }
    }

    /// The `page`th (from 1) lookup request for `create`: same origin, headers and credential as
    /// the create, without its body.
    pub fn query(&self, create: &Request, page: u32) -> Result<Request, String> {
        let mut url = Url::parse(&create.url)
            .map_err(|e| format!("cannot read the URL {}: {e}", create.url))?;
        let base = url.path().trim_end_matches('/').to_string();
        url.set_fragment(None);
        url.set_query(None);
        match self {
            Lookup::Contact(key) => {
                url.set_path(&format!("{base}/search"));
                let mut pairs = url.query_pairs_mut();
                // One identifier is enough: a contact made by this create carries all of them.
                match (key.phones.first(), key.emails.first()) {
                    (Some(phone), _) => pairs.append_pair("phone_number", phone),
                    (None, Some(email)) => pairs.append_pair("email", email),
                    (None, None) => {
                        return Err(
                            "the contact has neither phone number nor email to look up".into()
                        );
                    }
                };
                pairs.append_pair("per_page", &PER_PAGE.to_string());
                pairs.append_pair("page", &page.to_string());
            }
            Lookup::User { email } => {
                url.set_path(&base);
                url.path_segments_mut()
                    .map_err(|()| format!("the URL {} cannot take a path", create.url))?
                    .push(email);
            }
        }
        Ok(Request {
            method: Method::Get,
            url: url.to_string(),
            headers: create
                .headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
                .cloned()
                .collect(),
            auth: create.auth,
            body: None,
            records: create.records.clone(),
            warnings: Vec::new(),
        })
    }

    /// Reads a 2xx answer to [`Lookup::query`].
    pub fn read_page(&self, body: &[u8]) -> Result<Page, String> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the lookup's answer is not JSON ({e})"))?;
        match self {
            Lookup::Contact(key) => {
                let contacts = value
                    .get("contacts")
                    .and_then(Value::as_array)
                    .ok_or("the contact search answer has no `contacts` list")?;
                if contacts.iter().any(|c| key.matches(c)) {
                    return Ok(Page::Found);
                }
                let more = value
                    .pointer("/meta/next_page_link")
                    .is_some_and(|link| !link.is_null());
                Ok(Page::NotFound { more })
            }
            Lookup::User { email } => {
                let user = value
                    .get("user")
                    .ok_or("the user answer has no `user` object")?;
                let same = user
                    .get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email));
                Ok(if same {
                    Page::Found
                } else {
                    Page::NotFound { more: false }
                })
            }
        }
    }
}

impl ContactKey {
    /// Whether `contact` (an object from a contact search) is the one this create makes: it
    /// shares a phone number or an email with the body, and carries the same value for every
    /// scalar field the body sets.
    pub fn matches(&self, contact: &Value) -> bool {
        let Some(contact) = contact.as_object() else {
            return false;
        };
        let phone_shared = detail_values(contact, "phone_numbers")
            .any(|v| self.phones.contains(&compact_phone(&v)));
        let email_shared = detail_values(contact, "emails")
            .any(|v| self.emails.contains(&v.trim().to_lowercase()));
        (phone_shared || email_shared)
            && self.fields.iter().all(|(name, value)| {
                contact.get(name).and_then(Value::as_str) == Some(value.as_str())
            })
    }
}

/// The `value`s of a `[{label, value}]` list.
fn detail_values<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = String> + 'a {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|detail| {
            detail
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// A phone number as `+` and its digits: Aircall formats numbers for display (`+1 415-555-0100`).
fn compact_phone(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

/// Looks up the object `create` would make, reading every page of a contact search; each
/// page goes through the run's one attempt loop (its client, rate limiter, retry policy, stop).
pub async fn reconcile(
    attempts: &Attempts<'_>,
    lookup: &Lookup,
    create: &Request,
    rng: &mut StdRng,
) -> Reconciled {
    for page in 1..=MAX_PAGES {
        let request = match lookup.query(create, page) {
            Ok(request) => request,
            Err(reason) => return Reconciled::Unknown(reason),
        };
        let response = match attempts.answer(&request, rng).await {
            Ok(response) => response,
            Err(reason) => return Reconciled::Unknown(format!("the lookup {reason}")),
        };
        if response.status == 404 {
            return Reconciled::NotFound;
        }
        match lookup.read_page(&response.body) {
            Ok(Page::Found) => return Reconciled::Found,
            Ok(Page::NotFound { more: false }) => return Reconciled::NotFound,
            Ok(Page::NotFound { more: true }) => {}
            Err(reason) => return Reconciled::Unknown(format!("GET {}: {reason}", request.url)),
        }
    }
    Reconciled::Unknown(format!(
        "more than {} contacts share the phone number or email looked up",
        MAX_PAGES * PER_PAGE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RecordNo;
    use serde_json::json;

    fn create(url: &str, body: Value, records: &[u64]) -> Request {
        Request {
            method: Method::Post,
            url: url.to_string(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), "aircall-dest/test".into()),
            ],
            auth: true,
            body: Some(body.to_string()),
            records: records.iter().map(|&n| RecordNo(n)).collect(),
            warnings: Vec::new(),
        }
    }

    fn contact_body() -> Value {
        json!({
            "first_name": "Ada",
            "last_name": "Lovelace",
            "information": "crm 42",
            "phone_numbers": [{"label": "Work", "value": "+1 (415) 555-0100"}, {"label": "Other", "value": "+33612345678"}],
            "emails": [{"label": "Work", "value": " Ada@Example.com "}]
        })
    }

    fn contact_key() -> ContactKey {
        match Lookup::of_request(
            LookupKind::Contact,
            &create("https://api.aircall.io/v1/contacts", contact_body(), &[7]),
        ) {
            Some(Lookup::Contact(key)) => key,
            other => panic!("expected a contact lookup, got {other:?}"),
        }
    }

    #[test]
    fn a_contact_create_is_looked_up_by_its_first_phone_number() {
        let request = create("https://api.aircall.io/v1/contacts", contact_body(), &[7]);
        let lookup = Lookup::of_request(LookupKind::Contact, &request).unwrap();
        let Lookup::Contact(key) = &lookup else {
            panic!("{lookup:?}")
        };
        assert_eq!(key.phones, ["+14155550100", "+33612345678"]);
        assert_eq!(key.emails, ["ada@example.com"]);
        assert_eq!(key.fields.len(), 3, "{:?}", key.fields);
        let query = lookup.query(&request, 2).unwrap();
        assert_eq!(query.method, Method::Get);
        assert_eq!(
            query.url,
            "https://api.aircall.io/v1/contacts/search?phone_number=%2B14155550100&per_page=50&page=2"
        );
        assert_eq!(query.body, None);
        assert!(query.auth, "the lookup carries the create's credential");
        assert_eq!(query.records, request.records);
        assert!(
            query.headers.iter().all(|(n, _)| n != "Content-Type"),
            "{:?}",
            query.headers
        );
    }

    #[test]
    fn a_contact_without_phone_is_looked_up_by_email() {
        let body = json!({"emails": [{"label": "Work", "value": "a+b@example.com"}]});
        let request = create("http://127.0.0.1:9/v1/contacts", body, &[1]);
        let query = Lookup::of_request(LookupKind::Contact, &request)
            .unwrap()
            .query(&request, 1)
            .unwrap();
        assert_eq!(
            query.url,
            "http://127.0.0.1:9/v1/contacts/search?email=a%2Bb%40example.com&per_page=50&page=1"
        );
    }

    #[test]
    fn a_user_create_is_looked_up_by_email_as_one_path_segment() {
        let body = json!({"email": "jo/../x@example.com", "first_name": "Jo", "last_name": "X"});
        let request = create("https://api.aircall.io/v2/users", body, &[3]);
        let lookup = Lookup::of_request(LookupKind::User, &request).unwrap();
        let query = lookup.query(&request, 1).unwrap();
        assert_eq!(
            query.url,
            "https://api.aircall.io/v2/users/jo%2F..%2Fx@example.com"
        );
        assert_eq!(
            lookup.read_page(br#"{"user":{"id":1,"email":"JO/../X@example.com"}}"#),
            Ok(Page::Found)
        );
        assert_eq!(
            lookup.read_page(br#"{"user":{"id":1,"email":"other@example.com"}}"#),
            Ok(Page::NotFound { more: false })
        );
        assert!(lookup.read_page(b"{}").is_err());
    }

    #[test]
    fn batches_and_bodies_without_identifiers_cannot_be_looked_up() {
        let url = "https://api.aircall.io/v1/contacts";
        assert_eq!(
            Lookup::of_request(LookupKind::Contact, &create(url, contact_body(), &[1, 2])),
            None
        );
        assert_eq!(
            Lookup::of_request(
                LookupKind::Contact,
                &create(url, json!({"first_name": "A"}), &[1])
            ),
            None
        );
        assert_eq!(
            Lookup::of_request(LookupKind::User, &create(url, json!({"email": "  "}), &[1])),
            None
        );
        let mut not_json = create(url, json!({}), &[1]);
        not_json.body = Some("first_name=A".into());
        assert_eq!(Lookup::of_request(LookupKind::Contact, &not_json), None);
    }

    #[test]
    fn a_contact_matches_on_any_shared_phone_or_email_with_the_same_fields() {
        let key = contact_key();
        let found = |phones: Value, emails: Value, info: &str| {
            json!({"id": 1, "first_name": "Ada", "last_name": "Lovelace", "company_name": null, "information": info,
                   "phone_numbers": phones, "emails": emails})
        };
        let phone = |v: &str| json!([{"id": 9, "label": "Work", "value": v}]);
        assert!(
            key.matches(&found(phone("+14155550100"), json!([]), "crm 42")),
            "same first phone"
        );
        assert!(
            key.matches(&found(phone("+33 6 12 34 56 78"), json!([]), "crm 42")),
            "second phone, formatted"
        );
        assert!(
            key.matches(&found(json!([]), phone("ADA@example.com"), "crm 42")),
            "email, any case"
        );
        assert!(
            !key.matches(&found(phone("+14155550199"), json!([]), "crm 42")),
            "no identifier in common"
        );
        assert!(
            !key.matches(&found(phone("+14155550100"), json!([]), "crm 43")),
            "same phone, another record"
        );
        assert!(!key.matches(&json!("not an object")));
    }

    #[test]
    fn a_search_page_is_found_not_found_or_has_more() {
        let lookup = Lookup::Contact(contact_key());
        let page = |contacts: Value, next: Value| {
            json!({"meta": {"count": 1, "next_page_link": next}, "contacts": contacts})
                .to_string()
                .into_bytes()
        };
        let same = json!([{"first_name": "Ada", "last_name": "Lovelace", "information": "crm 42",
                           "phone_numbers": [{"label": "Work", "value": "+14155550100"}], "emails": []}]);
        let other = json!([{"first_name": "Bob", "phone_numbers": [{"label": "Work", "value": "+14155550100"}]}]);
        assert_eq!(lookup.read_page(&page(same, Value::Null)), Ok(Page::Found));
        assert_eq!(
            lookup.read_page(&page(other.clone(), Value::Null)),
            Ok(Page::NotFound { more: false })
        );
        assert_eq!(
            lookup.read_page(&page(other, json!("http://x/v1/contacts/search?page=2"))),
            Ok(Page::NotFound { more: true })
        );
        assert!(lookup.read_page(b"<html>").is_err());
        assert!(lookup.read_page(b"{\"users\":[]}").is_err());
    }

    #[test]
    fn only_unbatched_json_posts_to_the_templates_own_path_are_looked_up() {
        let contacts = include_str!("../../assets/examples/contacts.toml");
        let mut destination: Destination = toml::from_str(contacts).unwrap();
        assert_eq!(
            LookupKind::of_destination(&destination),
            Some(LookupKind::Contact)
        );
        destination.request.url = "https://api.aircall.io/v1/contacts".into();
        assert_eq!(
            LookupKind::of_destination(&destination),
            Some(LookupKind::Contact),
            "absolute URL, same path"
        );
        destination.request.url = "/v1/tags".into();
        assert_eq!(
            LookupKind::of_destination(&destination),
            None,
            "edited to another path"
        );
        destination.request.url = "/v1/contacts".into();
        destination.batching.enabled = true;
        assert_eq!(LookupKind::of_destination(&destination), None, "batched");
        destination.batching.enabled = false;
        destination.request.content_format = ContentFormat::Form;
        assert_eq!(LookupKind::of_destination(&destination), None, "not JSON");
        destination.request.content_format = ContentFormat::Json;
        destination.template = None;
        assert_eq!(
            LookupKind::of_destination(&destination),
            None,
            "manual, no template"
        );

        let users: Destination =
            toml::from_str(include_str!("../../assets/examples/users.toml")).unwrap();
        assert_eq!(LookupKind::of_destination(&users), Some(LookupKind::User));
        for other in [
            "update-contacts.toml",
            "delete-contacts.toml",
            "team-members.toml",
        ] {
            let text = std::fs::read_to_string(format!(
                "{}/assets/examples/{other}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let destination: Destination = toml::from_str(&text).unwrap();
            assert_eq!(LookupKind::of_destination(&destination), None, "{other}");
        }
    }
}
