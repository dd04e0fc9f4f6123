//! Webhooks: UUID ids, a secret token each, at most 100; no `events` means every event.

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{
    Body, is_web_url, nonblank_if_defined, optional_bool, optional_str, required_str, shown,
};
use super::{ListQuery, Store, now_rfc3339};
use crate::sandbox::answer::ApiError;

/// Most webhooks one company holds.
pub const MAX_WEBHOOKS: usize = 100;

/// The events a webhook subscribed to "all events" lists in the sandbox (a subset of Aircall's).
pub const ALL_EVENTS: &[&str] = &[
    "call.created",
    "call.ringing_on_agent",
    "call.agent_declined",
    "call.answered",
    "call.transferred",
    "call.unsuccessful_transfer",
    "call.hungup",
    "call.ended",
    "call.voicemail_left",
    "call.assigned",
    "call.archived",
    "call.tagged",
    "call.untagged",
    "call.commented",
    "call.comm_assets_generated",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "user.created",
    "user.deleted",
    "user.connected",
    "user.disconnected",
    "user.opened",
    "user.closed",
    "user.wut_start",
    "user.wut_end",
    "number.created",
    "number.deleted",
    "number.opened",
    "number.closed",
    "message.sent",
    "message.received",
    "message.status_updated",
];

#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub webhook_id: String,
    pub direct_link: String,
    pub created_at: String,
    pub url: String,
    pub custom_name: String,
    pub active: bool,
    pub token: String,
    pub events: Vec<String>,
}

impl Store {
    pub fn create_webhook(&mut self, body: &Body) -> Result<Value, ApiError> {
        if self.webhooks.len() >= MAX_WEBHOOKS {
            return Err(ApiError::bad_request(format!(
                "A company can have at most {MAX_WEBHOOKS} webhooks"
            )));
        }
        let url = required_str(body, "url")?;
        check_url(&url)?;
        let custom_name = optional_str(body, "custom_name")?.unwrap_or_else(|| "Webhook".into());
        let events = events(body)?.unwrap_or_default();
        let webhook_id = self.uuid();
        let webhook = Webhook {
            direct_link: self.link(&format!("/v1/webhooks/{webhook_id}")),
            webhook_id,
            created_at: now_rfc3339(),
            url,
            custom_name,
            active: true,
            token: self.token(),
            events: all_if_empty(events),
        };
        let answer = json!({ "webhook": &webhook });
        self.webhooks.push(webhook);
        Ok(answer)
    }

    /// `events_action=add|remove` edits the list; without it, the given events replace it and an
    /// absent `events` re-subscribes to all events, as Aircall's reference warns.
    pub fn update_webhook(
        &mut self,
        id: &str,
        action: Option<&str>,
        body: &Body,
    ) -> Result<Value, ApiError> {
        self.webhook_index(id)?;
        let url = nonblank_if_defined(body, "url")?;
        if let Some(url) = &url {
            check_url(url)?;
        }
        let custom_name = nonblank_if_defined(body, "custom_name")?;
        let active = optional_bool(body, "active")?;
        let events = events(body)?;
        let index = self.webhook_index(id)?;
        let webhook = &mut self.webhooks[index];
        if let Some(url) = url {
            webhook.url = url;
        }
        if let Some(name) = custom_name {
            webhook.custom_name = name;
        }
        if let Some(active) = active {
            webhook.active = active;
        }
        webhook.events = match (action, events) {
            (None, events) => all_if_empty(events.unwrap_or_default()),
            (Some("add"), Some(events)) => {
                let mut list = webhook.events.clone();
                list.extend(events.into_iter().filter(|e| !webhook.events.contains(e)));
                list
            }
            (Some("remove"), Some(events)) => webhook
                .events
                .iter()
                .filter(|e| !events.contains(e))
                .cloned()
                .collect(),
            (Some("add" | "remove"), None) => {
                return Err(ApiError::bad_request("events_action needs an events array"));
            }
            (Some(other), _) => {
                return Err(ApiError::bad_request(format!(
                    "events_action must be add or remove, not {other:?}"
                )));
            }
        };
        Ok(json!({ "webhook": webhook }))
    }

    pub fn delete_webhook(&mut self, id: &str) -> Result<(), ApiError> {
        let index = self.webhook_index(id)?;
        self.webhooks.remove(index);
        Ok(())
    }

    pub fn get_webhook(&self, id: &str) -> Result<Value, ApiError> {
        Ok(json!({ "webhook": self.webhooks[self.webhook_index(id)?] }))
    }

    pub fn list_webhooks(&self, query: &ListQuery) -> Value {
        self.page(
            "/v1/webhooks",
            "webhooks",
            self.webhooks.iter().collect(),
            query,
        )
    }

    fn webhook_index(&self, id: &str) -> Result<usize, ApiError> {
        self.webhooks
            .iter()
            .position(|w| w.webhook_id == id)
            .ok_or_else(|| ApiError::not_found(format!("Webhook {id:?} not found")))
    }
}

fn check_url(url: &str) -> Result<(), ApiError> {
    if is_web_url(url) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "url {url:?} is not an http(s) URL"
        )))
    }
}

fn events(body: &Body) -> Result<Option<Vec<String>>, ApiError> {
    match body.get("events") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item.as_str() {
                Some(name) if is_event_name(name) => Ok(name.to_owned()),
                _ => Err(ApiError::bad_request(format!(
                    "events[{i}]: {} is not a webhook event",
                    shown(item)
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(ApiError::bad_request(format!(
            "events must be an array of event names, not {}",
            shown(other)
        ))),
    }
}

/// Aircall has about 90 events named `resource.action`; the sandbox accepts any such name.
fn is_event_name(name: &str) -> bool {
    let valid =
        |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    name.split_once('.')
        .is_some_and(|(resource, action)| valid(resource) && valid(action))
}

fn all_if_empty(events: Vec<String>) -> Vec<String> {
    if events.is_empty() {
        ALL_EVENTS.iter().map(|e| (*e).to_owned()).collect()
    } else {
        events
    }
}
