//! Contacts (v1 only): create, update by POST, delete, get, list, search, and the
//! `phone_details` / `email_details` sub-resources.

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{Body, is_e164, kind, nonblank_if_defined, optional_str, shown};
use super::{ListQuery, Store, unix_now};
use crate::sandbox::answer::ApiError;

/// Most phone numbers, and most emails, one contact holds.
pub const MAX_DETAILS: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub id: u64,
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: u64,
    pub direct_link: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_name: Option<String>,
    pub information: Option<String>,
    pub is_shared: bool,
    pub created_at: u64,
    pub updated_at: u64,
    pub phone_numbers: Vec<Detail>,
    pub emails: Vec<Detail>,
}

/// Which list of a contact a detail belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKind {
    Phone,
    Email,
}

impl DetailKind {
    fn list(self) -> &'static str {
        match self {
            Self::Phone => "phone_numbers",
            Self::Email => "emails",
        }
    }

    /// The key the answer is wrapped in: `phone_detail` or `email_detail`.
    fn wrapper(self) -> &'static str {
        match self {
            Self::Phone => "phone_detail",
            Self::Email => "email_detail",
        }
    }

    fn check_value(self, value: &str, at: &str) -> Result<(), ApiError> {
        if self == Self::Phone && !is_e164(value) {
            return Err(ApiError::bad_request(format!(
                "{at}: {value:?} is not an E.164 phone number (e.g. +19001112222)"
            )));
        }
        Ok(())
    }
}

impl Store {
    pub fn create_contact(&mut self, body: &Body) -> Result<Value, ApiError> {
        let first_name = optional_str(body, "first_name")?;
        let last_name = optional_str(body, "last_name")?;
        let company_name = optional_str(body, "company_name")?;
        let information = optional_str(body, "information")?;
        let phones = match body.get("phone_numbers") {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request("phone_numbers can't be blank"));
            }
            Some(value) => self.detail_list(value, DetailKind::Phone)?,
        };
        if phones.is_empty() {
            return Err(ApiError::bad_request("phone_numbers can't be blank"));
        }
        let emails = match body.get("emails") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => self.detail_list(value, DetailKind::Email)?,
        };
        let id = self.next_id("contact");
        let phone_numbers = self.number_details(phones);
        let emails = self.number_details(emails);
        let now = unix_now();
        let contact = Contact {
            id,
            direct_link: self.link(&format!("/v1/contacts/{id}")),
            first_name,
            last_name,
            company_name,
            information,
            is_shared: true,
            created_at: now,
            updated_at: now,
            phone_numbers,
            emails,
        };
        let answer = json!({ "contact": &contact });
        self.contacts.insert(id, contact);
        Ok(answer)
    }

    /// Scalars only, each not blank once present. Aircall changes numbers and emails through
    /// `phone_details`/`email_details`, so `phone_numbers`/`emails` here are ignored.
    pub fn update_contact(&mut self, id: u64, body: &Body) -> Result<Value, ApiError> {
        self.contact(id)?;
        let first_name = nonblank_if_defined(body, "first_name")?;
        let last_name = nonblank_if_defined(body, "last_name")?;
        let company_name = nonblank_if_defined(body, "company_name")?;
        let information = nonblank_if_defined(body, "information")?;
        let contact = self.contact_mut(id)?;
        for (slot, value) in [
            (&mut contact.first_name, first_name),
            (&mut contact.last_name, last_name),
            (&mut contact.company_name, company_name),
            (&mut contact.information, information),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        contact.updated_at = unix_now();
        Ok(json!({ "contact": contact }))
    }

    pub fn get_contact(&self, id: u64) -> Result<Value, ApiError> {
        Ok(json!({ "contact": self.contact(id)? }))
    }

    pub fn delete_contact(&mut self, id: u64) -> Result<(), ApiError> {
        self.contacts
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(format!("Contact {id} not found")))
    }

    pub fn list_contacts(&self, query: &ListQuery) -> Result<Value, ApiError> {
        let mut items: Vec<&Contact> = self.contacts.values().collect();
        match query.param("order_by") {
            None | Some("created_at") => {}
            Some("updated_at") => items.sort_by_key(|c| (c.updated_at, c.id)),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "order_by must be created_at or updated_at, not {other:?}"
                )));
            }
        }
        Ok(self.page_within("/v1/contacts", "contacts", items, query, super::MAX_LISTED))
    }

    /// `GET /v1/contacts/search`: only `phone_number` and `email` filter, as at Aircall.
    pub fn search_contacts(&self, query: &ListQuery) -> Result<Value, ApiError> {
        let phone = query.param("phone_number");
        let email = query.param("email");
        if phone.is_none() && email.is_none() {
            return Err(ApiError::bad_request(
                "Search needs a phone_number or an email query parameter",
            ));
        }
        let phone = phone.map(compact_phone);
        let items: Vec<&Contact> = self
            .contacts
            .values()
            .filter(|c| {
                phone.as_ref().is_none_or(|p| {
                    c.phone_numbers
                        .iter()
                        .any(|d| compact_phone(&d.value) == *p)
                }) && email.is_none_or(|e| c.emails.iter().any(|d| d.value.eq_ignore_ascii_case(e)))
            })
            .collect();
        Ok(self.page("/v1/contacts/search", "contacts", items, query))
    }

    pub fn add_detail(
        &mut self,
        id: u64,
        kind: DetailKind,
        body: &Body,
    ) -> Result<Value, ApiError> {
        let count = detail_vec(self.contact(id)?, kind).len();
        if count >= MAX_DETAILS {
            return Err(ApiError::bad_request(format!(
                "A contact can have at most {MAX_DETAILS} {}",
                kind.list()
            )));
        }
        let label = detail_field(body, "label", kind.wrapper())?;
        let value = detail_field(body, "value", kind.wrapper())?;
        kind.check_value(&value, "value")?;
        let detail = Detail {
            id: self.next_id("detail"),
            label,
            value,
        };
        let answer = json!({ kind.wrapper(): &detail });
        let contact = self.contact_mut(id)?;
        detail_vec_mut(contact, kind).push(detail);
        contact.updated_at = unix_now();
        Ok(answer)
    }

    pub fn update_detail(
        &mut self,
        id: u64,
        kind: DetailKind,
        detail_id: u64,
        body: &Body,
    ) -> Result<Value, ApiError> {
        let label = nonblank_if_defined(body, "label")?;
        let value = nonblank_if_defined(body, "value")?;
        if label.is_none() && value.is_none() {
            return Err(ApiError::bad_request(
                "Give a label and/or a value to update",
            ));
        }
        if let Some(value) = &value {
            kind.check_value(value, "value")?;
        }
        let contact = self.contact_mut(id)?;
        let detail = detail_vec_mut(contact, kind)
            .iter_mut()
            .find(|d| d.id == detail_id)
            .ok_or_else(|| {
                ApiError::not_found(format!("{} {detail_id} not found", kind.wrapper()))
            })?;
        if let Some(label) = label {
            detail.label = label;
        }
        if let Some(value) = value {
            detail.value = value;
        }
        let answer = json!({ kind.wrapper(): &*detail });
        contact.updated_at = unix_now();
        Ok(answer)
    }

    pub fn delete_detail(
        &mut self,
        id: u64,
        kind: DetailKind,
        detail_id: u64,
    ) -> Result<(), ApiError> {
        let contact = self.contact_mut(id)?;
        let list = detail_vec_mut(contact, kind);
        let before = list.len();
        list.retain(|d| d.id != detail_id);
        if list.len() == before {
            return Err(ApiError::not_found(format!(
                "{} {detail_id} not found",
                kind.wrapper()
            )));
        }
        contact.updated_at = unix_now();
        Ok(())
    }

    fn contact(&self, id: u64) -> Result<&Contact, ApiError> {
        self.contacts
            .get(&id)
            .ok_or_else(|| ApiError::not_found(format!("Contact {id} not found")))
    }

    fn contact_mut(&mut self, id: u64) -> Result<&mut Contact, ApiError> {
        self.contacts
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(format!("Contact {id} not found")))
    }

    /// Checks a `phone_numbers` or `emails` array: at most 20 `{label, value}` entries.
    fn detail_list(
        &self,
        value: &Value,
        kind: DetailKind,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let key = kind.list();
        let Value::Array(items) = value else {
            return Err(ApiError::bad_request(format!(
                "{key} must be an array, not {}",
                super::fields::kind(value)
            )));
        };
        if items.len() > MAX_DETAILS {
            return Err(ApiError::bad_request(format!(
                "{key}: at most {MAX_DETAILS} per contact, got {}",
                items.len()
            )));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("{key}[{i}]");
                let Value::Object(entry) = item else {
                    return Err(ApiError::bad_request(format!(
                        "{at} must be an object with label and value, not {}",
                        shown(item)
                    )));
                };
                let label = detail_field(entry, "label", &at)?;
                let value = detail_field(entry, "value", &at)?;
                kind.check_value(&value, &format!("{at}.value"))?;
                Ok((label, value))
            })
            .collect()
    }

    fn number_details(&mut self, entries: Vec<(String, String)>) -> Vec<Detail> {
        entries
            .into_iter()
            .map(|(label, value)| Detail {
                id: self.next_id("detail"),
                label,
                value,
            })
            .collect()
    }
}

fn detail_field(entry: &Body, key: &str, at: &str) -> Result<String, ApiError> {
    match entry.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::bad_request(format!("{at}.{key} can't be blank")))
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "{at}.{key} must be a string, not {}",
            kind(other)
        ))),
    }
}

fn detail_vec(contact: &Contact, kind: DetailKind) -> &Vec<Detail> {
    match kind {
        DetailKind::Phone => &contact.phone_numbers,
        DetailKind::Email => &contact.emails,
    }
}

fn detail_vec_mut(contact: &mut Contact, kind: DetailKind) -> &mut Vec<Detail> {
    match kind {
        DetailKind::Phone => &mut contact.phone_numbers,
        DetailKind::Email => &mut contact.emails,
    }
}

/// Search matches numbers regardless of spaces, dashes and brackets; a `+` typed in a query
/// string arrives as a space, so a missing `+` is put back.
fn compact_phone(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}
