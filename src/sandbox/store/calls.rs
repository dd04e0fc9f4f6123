//! Calls: the API cannot create calls, so any integer call id is accepted; the sandbox keeps
//! each call's comments (at most 5) and tags.

use serde::Serialize;
use serde_json::Value;

use super::fields::{Body, required_str, shown};
use super::{Store, unix_now};
use crate::sandbox::answer::ApiError;

/// Most comments Aircall lets one call hold.
pub const MAX_COMMENTS: usize = 5;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Call {
    pub comments: Vec<Comment>,
    pub tag_ids: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: u64,
    pub content: String,
    pub posted_at: u64,
}

impl Store {
    pub fn add_call_comment(&mut self, call_id: u64, body: &Body) -> Result<(), ApiError> {
        let content = required_str(body, "content")?;
        if self
            .calls
            .get(&call_id)
            .is_some_and(|c| c.comments.len() >= MAX_COMMENTS)
        {
            return Err(ApiError::bad_request(
                "Maximum of 5 notes can be added to a Call.",
            ));
        }
        let comment = Comment {
            id: self.next_id("comment"),
            content,
            posted_at: unix_now(),
        };
        self.calls
            .entry(call_id)
            .or_default()
            .comments
            .push(comment);
        Ok(())
    }

    pub fn tag_call(&mut self, call_id: u64, body: &Body) -> Result<(), ApiError> {
        let Some(Value::Array(items)) = body.get("tags") else {
            return Err(ApiError::bad_request(
                "tags can't be blank: give an array of tag ids",
            ));
        };
        if items.is_empty() {
            return Err(ApiError::bad_request(
                "tags can't be blank: give an array of tag ids",
            ));
        }
        let mut ids = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let id = item.as_u64().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "tags[{i}] must be a tag id (integer), not {}",
                    shown(item)
                ))
            })?;
            if !self.tags.contains_key(&id) {
                return Err(ApiError::not_found(format!(
                    "tags[{i}]: Tag {id} not found"
                )));
            }
            ids.push(id);
        }
        let call = self.calls.entry(call_id).or_default();
        for id in ids {
            if !call.tag_ids.contains(&id) {
                call.tag_ids.push(id);
            }
        }
        Ok(())
    }
}
