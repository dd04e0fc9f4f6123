//! Tags: create, update, delete, get and list; names are unique, colours are hex.

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{Body, is_hex_color, nonblank_if_defined, required_str};
use super::{ListQuery, Store};
use crate::sandbox::answer::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub id: u64,
    pub name: String,
    pub color: String,
    /// Accepted on create but answered `null`, as observed at Aircall.
    pub description: Option<String>,
}

impl Store {
    pub fn create_tag(&mut self, body: &Body) -> Result<Value, ApiError> {
        let name = required_str(body, "name")?;
        let color = required_str(body, "color")?;
        check_color(&color)?;
        self.check_tag_name_free(&name, None)?;
        let id = self.next_id("tag");
        let tag = Tag {
            id,
            name,
            color,
            description: None,
        };
        let answer = json!({ "tag": &tag });
        self.tags.insert(id, tag);
        Ok(answer)
    }

    pub fn update_tag(&mut self, id: u64, body: &Body) -> Result<Value, ApiError> {
        self.tag(id)?;
        let name = nonblank_if_defined(body, "name")?;
        let color = nonblank_if_defined(body, "color")?;
        if name.is_none() && color.is_none() {
            return Err(ApiError::bad_request(
                "Give a name and/or a color to update",
            ));
        }
        if let Some(color) = &color {
            check_color(color)?;
        }
        if let Some(name) = &name {
            self.check_tag_name_free(name, Some(id))?;
        }
        let tag = self.tags.get_mut(&id).ok_or_else(|| not_found(id))?;
        if let Some(name) = name {
            tag.name = name;
        }
        if let Some(color) = color {
            tag.color = color;
        }
        Ok(json!({ "tag": tag }))
    }

    /// Deleting a tag also removes it from every call.
    pub fn delete_tag(&mut self, id: u64) -> Result<(), ApiError> {
        self.tags.remove(&id).ok_or_else(|| not_found(id))?;
        for call in self.calls.values_mut() {
            call.tag_ids.retain(|t| *t != id);
        }
        Ok(())
    }

    pub fn get_tag(&self, id: u64) -> Result<Value, ApiError> {
        Ok(json!({ "tag": self.tag(id)? }))
    }

    pub fn list_tags(&self, query: &ListQuery) -> Value {
        self.page("/v1/tags", "tags", self.tags.values().collect(), query)
    }

    fn tag(&self, id: u64) -> Result<&Tag, ApiError> {
        self.tags.get(&id).ok_or_else(|| not_found(id))
    }

    fn check_tag_name_free(&self, name: &str, except: Option<u64>) -> Result<(), ApiError> {
        if self
            .tags
            .values()
            .any(|t| Some(t.id) != except && t.name.eq_ignore_ascii_case(name))
        {
            Err(ApiError::bad_request(format!(
                "name {name:?} has already been taken"
            )))
        } else {
            Ok(())
        }
    }
}

fn not_found(id: u64) -> ApiError {
    ApiError::not_found(format!("Tag {id} not found"))
}

fn check_color(color: &str) -> Result<(), ApiError> {
    if is_hex_color(color) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "color {color:?} is not a hexadecimal colour such as #00B388"
        )))
    }
}
