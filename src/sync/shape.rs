//! The normalised form of one Aircall object, for comparing what the export wants with what was
//! last applied: scalar fields, and (contacts) phone numbers and emails compared in normalised
//! form — numbers as E.164 through the request module, emails in lower case — so a CRM that
//! reformats a number does not look like a change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::phones::PhoneForm;
use crate::destination::SyncResource;

/// Which list of a contact a detail belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetailKind {
    Phone,
    Email,
}

impl DetailKind {
    /// The body key of a contact create (`phone_numbers`, `emails`).
    pub fn list_key(self) -> &'static str {
        match self {
            DetailKind::Phone => "phone_numbers",
            DetailKind::Email => "emails",
        }
    }

    /// The sub-resource that changes one detail (`phone_details`, `email_details`).
    pub fn endpoint(self) -> &'static str {
        match self {
            DetailKind::Phone => "phone_details",
            DetailKind::Email => "email_details",
        }
    }

    /// The wrapper of a sub-resource's answer (`phone_detail`, `email_detail`).
    pub fn wrapper(self) -> &'static str {
        match self {
            DetailKind::Phone => "phone_detail",
            DetailKind::Email => "email_detail",
        }
    }

    /// The form two values are compared in.
    pub fn normalise(self, value: &str) -> String {
        match self {
            DetailKind::Phone => phone_key(value),
            DetailKind::Email => value.trim().to_lowercase(),
        }
    }
}

/// A number as compared: E.164 through the request module (numbers without a `+` read as US
/// numbers), or its digits with a `+` when it does not parse, so two spellings of one invalid
/// number still compare equal.
pub fn phone_key(value: &str) -> String {
    crate::request::phone::normalise(value, "US", crate::destination::PhoneCheck::Possible)
        .unwrap_or_else(|_| {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            format!("+{digits}")
        })
}

/// One phone number or email of a contact. `id` is Aircall's detail id once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub label: String,
    /// The value as sent (or as Aircall showed it).
    pub value: String,
}

/// An object in normalised form: what the export asks for, or what was last applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Every field but the contact's phone numbers and emails, by name.
    #[serde(default)]
    pub scalars: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Detail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Detail>,
}

/// The contact fields `POST /v1/contacts/{id}` changes.
pub const CONTACT_SCALARS: [&str; 4] = ["first_name", "last_name", "company_name", "information"];

impl Shape {
    /// The shape a mapped create body asks for. Null and blank scalars are left out: Aircall
    /// cannot blank a field once set, so an emptied cell asks for nothing.
    pub fn from_body(resource: SyncResource, body: &Map<String, Value>) -> Result<Shape, String> {
        let mut shape = Shape::default();
        for (name, value) in body {
            let kind = match (resource, name.as_str()) {
                (SyncResource::Contacts, "phone_numbers") => DetailKind::Phone,
                (SyncResource::Contacts, "emails") => DetailKind::Email,
                _ => {
                    if !is_blank(value) {
                        let value = match (resource, name.as_str(), value) {
                            (SyncResource::Users, "email", Value::String(s)) => {
                                Value::String(s.trim().to_lowercase())
                            }
                            _ => value.clone(),
                        };
                        shape.scalars.insert(name.clone(), value);
                    }
                    continue;
                }
            };
            *shape.details_mut(kind) = details(value, name)?;
        }
        Ok(shape)
    }

    /// The shape of an object as Aircall answers it (`{"contact": {...}}` or `{"user": {...}}`),
    /// keeping only the fields `wanted` names, so fields Aircall adds do not count as changes.
    pub fn from_answer(
        resource: SyncResource,
        object: &Map<String, Value>,
        wanted: &Shape,
    ) -> Shape {
        let mut shape = Shape::default();
        for name in wanted.scalars.keys() {
            if let Some(value) = object.get(name).filter(|v| !is_blank(v)) {
                shape.scalars.insert(name.clone(), value.clone());
            }
        }
        if resource == SyncResource::Contacts {
            for kind in [DetailKind::Phone, DetailKind::Email] {
                let list = object.get(kind.list_key()).and_then(Value::as_array);
                *shape.details_mut(kind) = list
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|item| {
                                Some(Detail {
                                    id: item.get("id").and_then(Value::as_u64),
                                    label: item.get("label")?.as_str()?.to_string(),
                                    value: item.get("value")?.as_str()?.to_string(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            }
        }
        shape
    }

    /// This shape (what a create sent) with the detail ids Aircall gave in `answer`, paired by
    /// normalised value. What a create sent is what the object holds, even where the answer does
    /// not echo a field (Aircall's user answers carry `name`, not `first_name`).
    pub fn with_ids_from(&self, answer: &Shape) -> Shape {
        let mut shape = self.clone();
        for kind in [DetailKind::Phone, DetailKind::Email] {
            let mut unused: Vec<&Detail> = answer.details(kind).iter().collect();
            for detail in shape.details_mut(kind) {
                let key = kind.normalise(&detail.value);
                if let Some(at) = unused.iter().position(|d| kind.normalise(&d.value) == key) {
                    detail.id = unused.remove(at).id;
                }
            }
        }
        shape
    }

    pub fn details(&self, kind: DetailKind) -> &[Detail] {
        match kind {
            DetailKind::Phone => &self.phones,
            DetailKind::Email => &self.emails,
        }
    }

    pub fn details_mut(&mut self, kind: DetailKind) -> &mut Vec<Detail> {
        match kind {
            DetailKind::Phone => &mut self.phones,
            DetailKind::Email => &mut self.emails,
        }
    }

    /// A digest of the normalised shape (detail ids and the order of details left out): equal
    /// digests mean nothing to send.
    pub fn digest(&self) -> [u8; 16] {
        self.digest_with(PhoneForm::Any)
    }

    /// [`Shape::digest`] of a shape whose phone numbers were written as `phones` says: the same
    /// digest, with no second parse of numbers the `e164` transform already wrote.
    pub fn digest_with(&self, phones: PhoneForm) -> [u8; 16] {
        let mut hasher = Sha256::new();
        for (name, value) in &self.scalars {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            match value {
                Value::Object(_) | Value::Array(_) => hasher.update(canonical(value).as_bytes()),
                // A scalar's canonical text is its JSON text: written straight into the hasher,
                // without a string per field of every row.
                scalar => {
                    let _ = serde_json::to_writer(Hashing(&mut hasher), scalar);
                }
            }
            hasher.update([1]);
        }
        for kind in [DetailKind::Phone, DetailKind::Email] {
            hasher.update([2]);
            let mut items: Vec<(String, &str)> = self
                .details(kind)
                .iter()
                .map(|d| {
                    let value = match kind {
                        DetailKind::Phone => phones.key(&d.value),
                        DetailKind::Email => kind.normalise(&d.value),
                    };
                    (value, d.label.as_str())
                })
                .collect();
            items.sort();
            for (value, label) in items {
                hasher.update(value.as_bytes());
                hasher.update([0]);
                hasher.update(label.as_bytes());
                hasher.update([1]);
            }
        }
        let full = hasher.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// The first phone number and first email, normalised: what matching looks up.
    pub fn first(&self, kind: DetailKind, resource: SyncResource) -> Option<String> {
        match (resource, kind) {
            (SyncResource::Users, DetailKind::Email) => self
                .scalars
                .get("email")
                .and_then(Value::as_str)
                .map(|s| s.trim().to_lowercase()),
            (SyncResource::Users, DetailKind::Phone) => None,
            (SyncResource::Contacts, kind) => {
                self.details(kind).first().map(|d| kind.normalise(&d.value))
            }
        }
    }
}

/// Writes JSON text into a hasher, as [`canonical`] would have returned it.
struct Hashing<'a>(&'a mut Sha256);

impl std::io::Write for Hashing<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// JSON text with object keys sorted, so equal values give equal text.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            let parts: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

fn details(value: &Value, name: &str) -> Result<Vec<Detail>, String> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(format!(
                "`{name}` must be a list of {{label, value}} entries"
            ));
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |key: &str| item.get(key).and_then(Value::as_str).map(str::trim);
        match (field("label"), field("value")) {
            (_, None) | (_, Some("")) => continue,
            (label, Some(value)) => out.push(Detail {
                id: None,
                label: label.unwrap_or_default().to_string(),
                value: value.to_string(),
            }),
        }
        if out.last().is_some_and(|d| d.label.is_empty()) {
            return Err(format!("`{name}[{i}].label` is missing"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn reformatted_numbers_and_emails_digest_the_same() {
        let a = Shape::from_body(
            SyncResource::Contacts,
            &body(json!({"first_name": "Ann", "phone_numbers": [{"label": "Work", "value": "+1 (415) 555-0100"}],
                         "emails": [{"label": "Work", "value": "Ann@Example.com"}]})),
        )
        .unwrap();
        let b = Shape::from_body(
            SyncResource::Contacts,
            &body(json!({"first_name": "Ann", "phone_numbers": [{"label": "Work", "value": "+14155550100"}],
                         "emails": [{"label": "Work", "value": "ann@example.com "}]})),
        )
        .unwrap();
        assert_eq!(a.digest(), b.digest());
        let c = Shape::from_body(
            SyncResource::Contacts,
            &body(json!({"first_name": "Anne", "phone_numbers": [{"label": "Work", "value": "+14155550100"}]})),
        )
        .unwrap();
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn a_scalar_is_hashed_as_its_canonical_text() {
        for value in [
            json!("Ann \"Q\" \u{e9}\n"),
            json!(12.5),
            json!(true),
            json!(-3),
        ] {
            let mut direct = Sha256::new();
            serde_json::to_writer(Hashing(&mut direct), &value).unwrap();
            let mut text = Sha256::new();
            text.update(canonical(&value).as_bytes());
            assert_eq!(direct.finalize(), text.finalize(), "{value}");
        }
    }

    #[test]
    fn blank_scalars_ask_for_nothing() {
        let shape = Shape::from_body(
            SyncResource::Contacts,
            &body(json!({"first_name": "Ann", "company_name": " ", "last_name": null, "phone_numbers": []})),
        )
        .unwrap();
        assert_eq!(shape.scalars.len(), 1);
        assert!(shape.phones.is_empty());
    }

    #[test]
    fn a_create_keeps_what_it_sent_with_the_ids_aircall_gave() {
        let sent = Shape::from_body(
            SyncResource::Contacts,
            &body(json!({"first_name": "Ann", "phone_numbers": [{"label": "Work", "value": "+1 415 555 0100"}]})),
        )
        .unwrap();
        let answer = Shape::from_answer(
            SyncResource::Contacts,
            &body(
                json!({"id": 7, "phone_numbers": [{"id": 3, "label": "Work", "value": "+14155550100"}]}),
            ),
            &sent,
        );
        let applied = sent.with_ids_from(&answer);
        assert_eq!(applied.scalars, sent.scalars);
        assert_eq!(applied.phones[0].id, Some(3));
        assert_eq!(applied.digest(), sent.digest());
    }

    #[test]
    fn answer_keeps_only_wanted_scalars() {
        let wanted =
            Shape::from_body(SyncResource::Contacts, &body(json!({"first_name": "Ann"}))).unwrap();
        let answer = body(json!({"id": 7, "first_name": "Ann", "is_shared": true,
            "phone_numbers": [{"id": 3, "label": "Work", "value": "+14155550100"}], "emails": []}));
        let shape = Shape::from_answer(SyncResource::Contacts, &answer, &wanted);
        assert_eq!(shape.scalars.len(), 1);
        assert_eq!(shape.phones[0].id, Some(3));
    }
}
