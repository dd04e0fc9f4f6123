//! The Aircall calls a sync makes, as [`Request`]s: create, the update calls, delete, and the
//! reads (search, get, list) that match and reconcile. Built from the destination's own request
//! settings, so they carry the same headers and credential as `run` would send.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::diff::Op;
use super::shape::DetailKind;
use crate::destination::{Destination, Method, SyncResource};
use crate::records::RecordNo;
use crate::request::macros::Template;
use crate::request::{Request, USER_AGENT, encode};

/// Characters left as they are in a path segment or query value.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'@');

/// Where and how sync requests go.
#[derive(Debug, Clone)]
pub struct Api {
    pub resource: SyncResource,
    /// `scheme://host[:port]` the resource paths are joined to.
    origin: String,
    auth: bool,
    /// The headers of requests that belong to no record (see [`Headers::record_less`]).
    plain: Headers,
}

/// The headers of one record's requests (the destination's, rendered for the record), or the
/// plain ones for requests that belong to no record.
#[derive(Debug, Clone, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The headers of requests that belong to no record — the listing, and the deletes of keys
    /// gone from the export: `Accept`, `User-Agent` and every `[request] headers` entry whose
    /// value uses no record macro. (One that does cannot be rendered without a record: it goes
    /// with each record's own requests — its lookups, reads and writes — only.)
    pub fn record_less(destination: &Destination) -> Headers {
        let mut headers = vec![
            ("Accept".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
        ];
        for (name, value) in &destination.request.headers {
            let Some(rendered) = value
                .as_str()
                .and_then(|text| Template::header(text).ok())
                .filter(|template| !template.has_macros())
                .and_then(|template| template.render(&Map::new()).ok())
            else {
                continue;
            };
            match headers
                .iter_mut()
                .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
            {
                Some(slot) => slot.1 = rendered,
                None => headers.push((name.clone(), rendered)),
            }
        }
        Headers(headers)
    }

    fn for_request(&self, content_type: bool) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = if self.0.is_empty() {
            vec![
                ("Accept".to_string(), "application/json".to_string()),
                ("User-Agent".to_string(), USER_AGENT.to_string()),
            ]
        } else {
            self.0
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
                .cloned()
                .collect()
        };
        if content_type {
            headers.insert(
                1.min(headers.len()),
                ("Content-Type".to_string(), "application/json".to_string()),
            );
        }
        headers
    }
}

impl Api {
    /// `request_url` is the destination's (`/v1/contacts` or an absolute URL); `base_url` the
    /// credential's.
    /// `plain` are the headers of requests that belong to no record ([`Headers::record_less`]).
    pub fn new(
        resource: SyncResource,
        request_url: &str,
        base_url: &str,
        auth: bool,
        plain: Headers,
    ) -> Self {
        let url = request_url.trim();
        let origin = match url::Url::parse(url) {
            Ok(parsed) if url.starts_with("http") => parsed.origin().ascii_serialization(),
            _ => base_url.trim_end_matches('/').to_string(),
        };
        Self {
            resource,
            origin,
            auth,
            plain,
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Map<String, Value>>,
        headers: Option<&Headers>,
        record: Option<RecordNo>,
    ) -> Request {
        let headers = headers.unwrap_or(&self.plain);
        Request {
            method,
            url: format!("{}{path}", self.origin),
            // Aircall asks for the JSON content type on every POST, PUT and DELETE, bodyless too.
            headers: headers.for_request(body.is_some() || method != Method::Get),
            auth: self.auth,
            body: body.map(encode::json),
            records: record.into_iter().collect(),
            warnings: Vec::new(),
        }
    }

    fn collection(&self) -> &'static str {
        match self.resource {
            SyncResource::Contacts => "/v1/contacts",
            SyncResource::Users => "/v2/users",
        }
    }

    /// The request that performs `op` on object `id` (`create` takes the mapped body).
    /// `headers` are the record's; `None` for a request that belongs to no record.
    pub fn op(
        &self,
        op: &Op,
        id: Option<u64>,
        create_body: &Map<String, Value>,
        headers: Option<&Headers>,
        record: Option<RecordNo>,
    ) -> Request {
        let id = id.unwrap_or_default();
        let contact = format!("/v1/contacts/{id}");
        match op {
            Op::Create => self.request(
                Method::Post,
                self.collection(),
                Some(create_body),
                headers,
                record,
            ),
            Op::UpdateFields(fields) => match self.resource {
                SyncResource::Contacts => {
                    self.request(Method::Post, &contact, Some(fields), headers, record)
                }
                SyncResource::Users => self.request(
                    Method::Put,
                    &format!("/v2/users/{id}"),
                    Some(fields),
                    headers,
                    record,
                ),
            },
            Op::AddDetail { kind, label, value } => {
                let body = object(json!({"label": label, "value": value}));
                let path = format!("{contact}/{}", kind.endpoint());
                self.request(Method::Post, &path, Some(&body), headers, record)
            }
            Op::UpdateDetail {
                kind,
                id: detail,
                label,
                value,
            } => {
                let mut body = Map::new();
                if let Some(label) = label {
                    body.insert("label".into(), json!(label));
                }
                if let Some(value) = value {
                    body.insert("value".into(), json!(value));
                }
                let path = format!("{contact}/{}/{detail}", kind.endpoint());
                self.request(Method::Put, &path, Some(&body), headers, record)
            }
            Op::DeleteDetail { kind, id: detail } => {
                let path = format!("{contact}/{}/{detail}", kind.endpoint());
                self.request(Method::Delete, &path, None, headers, record)
            }
            Op::Delete => {
                let path = match self.resource {
                    SyncResource::Contacts => contact,
                    SyncResource::Users => format!("/v1/users/{id}"),
                };
                self.request(Method::Delete, &path, None, headers, record)
            }
        }
    }

    /// Finds objects holding `value`: `GET /v1/contacts/search?phone_number=…|email=…`, or
    /// `GET /v2/users/{email}` for users; with the record's `headers` (`None`: no record).
    pub fn lookup(
        &self,
        kind: DetailKind,
        value: &str,
        headers: Option<&Headers>,
        record: Option<RecordNo>,
    ) -> Request {
        let encoded = utf8_percent_encode(value, ENCODE).to_string();
        let path = match (self.resource, kind) {
            (SyncResource::Users, _) => format!("/v2/users/{encoded}"),
            (SyncResource::Contacts, DetailKind::Phone) => {
                format!("/v1/contacts/search?phone_number={encoded}")
            }
            (SyncResource::Contacts, DetailKind::Email) => {
                format!("/v1/contacts/search?email={encoded}")
            }
        };
        self.request(Method::Get, &path, None, headers, record)
    }

    /// `GET` one object, to learn what it holds now.
    pub fn get(&self, id: u64, headers: Option<&Headers>, record: Option<RecordNo>) -> Request {
        let path = format!("{}/{id}", self.collection());
        self.request(Method::Get, &path, None, headers, record)
    }

    /// One page (from 1) of the listing, 50 per page.
    pub fn list(&self, page: u64) -> Request {
        let path = format!("{}?per_page=50&page={page}", self.collection());
        self.request(Method::Get, &path, None, None, None)
    }

    /// The key objects are wrapped in, in answers (`contact`, `user`) and listings (`contacts`,
    /// `users`).
    pub fn wrapper(&self) -> (&'static str, &'static str) {
        match self.resource {
            SyncResource::Contacts => ("contact", "contacts"),
            SyncResource::Users => ("user", "users"),
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_percent_encode_the_plus() {
        let api = Api::new(
            SyncResource::Contacts,
            "/v1/contacts",
            "http://127.0.0.1:9/",
            true,
            Headers::default(),
        );
        let request = api.lookup(DetailKind::Phone, "+14155550100", None, None);
        assert_eq!(
            request.url,
            "http://127.0.0.1:9/v1/contacts/search?phone_number=%2B14155550100"
        );
        let users = Api::new(
            SyncResource::Users,
            "https://api.aircall.io/v2/users",
            "x",
            true,
            Headers::default(),
        );
        assert_eq!(
            users.lookup(DetailKind::Email, "a.b@x.io", None, None).url,
            "https://api.aircall.io/v2/users/a.b@x.io"
        );
    }

    #[test]
    fn contact_updates_are_posts_and_user_updates_puts() {
        let contacts = Api::new(
            SyncResource::Contacts,
            "/v1/contacts",
            "http://h",
            true,
            Headers::default(),
        );
        let mut fields = Map::new();
        fields.insert("first_name".into(), json!("Ann"));
        let op = Op::UpdateFields(fields);
        let request = contacts.op(&op, Some(5), &Map::new(), None, None);
        assert_eq!(
            (request.method, request.url.as_str()),
            (Method::Post, "http://h/v1/contacts/5")
        );
        assert_eq!(request.body.as_deref(), Some(r#"{"first_name":"Ann"}"#));
        assert!(
            request
                .headers
                .iter()
                .any(|(n, v)| n == "Content-Type" && v == "application/json")
        );
        let users = Api::new(
            SyncResource::Users,
            "/v2/users",
            "http://h",
            true,
            Headers::default(),
        );
        let request = users.op(&op, Some(5), &Map::new(), None, None);
        assert_eq!(
            (request.method, request.url.as_str()),
            (Method::Put, "http://h/v2/users/5")
        );
        let delete = users.op(&Op::Delete, Some(5), &Map::new(), None, None);
        assert_eq!(delete.url, "http://h/v1/users/5");
        assert!(delete.body.is_none());
    }

    #[test]
    fn record_less_requests_carry_the_headers_that_need_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.toml");
        let extra = "\n[request.headers]\nX-Team = \"sales\"\nX-Row = \"{record.Phone}\"\n";
        let text = crate::sync::fixture::destination("", "key = \"Customer Id\"", extra);
        std::fs::write(&path, text).unwrap();
        let destination = Destination::load(&path).unwrap();
        let api = Api::new(
            SyncResource::Contacts,
            "/v1/contacts",
            "http://h",
            true,
            Headers::record_less(&destination),
        );
        for request in [
            api.op(&Op::Delete, Some(5), &Map::new(), None, None),
            api.list(1),
        ] {
            let header = |name: &str| {
                request
                    .headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(header("X-Team"), Some("sales"), "{}", request.url);
            assert_eq!(header("X-Row"), None, "{}", request.url);
            assert_eq!(header("User-Agent"), Some(USER_AGENT));
        }
        // A record's own lookup carries the record's headers as given.
        let row = Headers(vec![("X-Row".into(), "+1 415".into())]);
        let lookup = api.lookup(DetailKind::Email, "a@b.io", Some(&row), None);
        assert_eq!(
            lookup.headers,
            vec![("X-Row".to_string(), "+1 415".to_string())]
        );
    }
}
