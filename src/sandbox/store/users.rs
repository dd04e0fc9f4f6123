//! Users: `POST /v2/users`, `PUT|GET /v2/users/{id|email}`, `GET /v2/users`, `DELETE /v1/users/{id}`.

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{
    Body, is_email, nonblank_if_defined, optional_str, optional_uint, required_str,
};
use super::{ListQuery, Store, now_rfc3339};
use crate::sandbox::answer::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: u64,
    pub direct_link: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    pub time_zone: String,
    pub wrap_up_time: u64,
    pub extension: Option<String>,
    pub default_number_id: Option<u64>,
    pub created_at: String,
    pub state: String,
    pub availability_status: String,
    pub available: bool,
    pub substatus: String,
}

impl Store {
    pub fn create_user(&mut self, body: &Body) -> Result<Value, ApiError> {
        let email = required_str(body, "email")?;
        check_email(&email)?;
        let first_name = required_str(body, "first_name")?;
        let last_name = required_str(body, "last_name")?;
        self.check_email_free(&email, None)?;
        let language = optional_str(body, "language")?.unwrap_or_else(|| "en-US".into());
        let time_zone = optional_str(body, "time_zone")?.unwrap_or_else(|| "Etc/UTC".into());
        let wrap_up_time = optional_uint(body, "wrap_up_time")?.unwrap_or(0);
        let extension = optional_str(body, "extension")?;
        let id = self.next_id("user");
        let user = User {
            id,
            direct_link: self.link(&format!("/v2/users/{id}")),
            name: format!("{first_name} {last_name}"),
            first_name,
            last_name,
            email,
            language,
            time_zone,
            wrap_up_time,
            extension,
            default_number_id: None,
            created_at: now_rfc3339(),
            state: "active".into(),
            availability_status: "available".into(),
            available: true,
            substatus: "always_opened".into(),
        };
        let answer = json!({ "user": &user });
        self.users.insert(id, user);
        Ok(answer)
    }

    pub fn update_user(&mut self, key: &str, body: &Body) -> Result<Value, ApiError> {
        let id = self.find_user(key)?;
        if body.is_empty() {
            return Err(ApiError::bad_request(
                "The request body has no field to update",
            ));
        }
        let first_name = nonblank_if_defined(body, "first_name")?;
        let last_name = nonblank_if_defined(body, "last_name")?;
        let email = nonblank_if_defined(body, "email")?;
        if let Some(email) = &email {
            check_email(email)?;
            self.check_email_free(email, Some(id))?;
        }
        let language = nonblank_if_defined(body, "language")?;
        let time_zone = nonblank_if_defined(body, "time_zone")?;
        let wrap_up_time = optional_uint(body, "wrap_up_time")?;
        let extension = optional_str(body, "extension")?;
        let default_number_id = optional_uint(body, "default_number_id")?;
        let Some(user) = self.users.get_mut(&id) else {
            return Err(ApiError::not_found(format!("User {key:?} not found")));
        };
        if let Some(v) = first_name {
            user.first_name = v;
        }
        if let Some(v) = last_name {
            user.last_name = v;
        }
        user.name = format!("{} {}", user.first_name, user.last_name);
        if let Some(v) = email {
            user.email = v;
        }
        if let Some(v) = language {
            user.language = v;
        }
        if let Some(v) = time_zone {
            user.time_zone = v;
        }
        if let Some(v) = wrap_up_time {
            user.wrap_up_time = v;
        }
        if body.contains_key("extension") {
            user.extension = extension;
        }
        if let Some(v) = default_number_id {
            user.default_number_id = Some(v);
        }
        Ok(json!({ "user": user }))
    }

    pub fn get_user(&self, key: &str) -> Result<Value, ApiError> {
        let id = self.find_user(key)?;
        Ok(json!({ "user": self.users.get(&id) }))
    }

    pub fn list_users(&self, query: &ListQuery) -> Value {
        self.page("/v2/users", "users", self.users.values().collect(), query)
    }

    /// Deleting a user also takes them out of their teams and drops their dialer campaign.
    pub fn delete_user(&mut self, id: u64) -> Result<(), ApiError> {
        if self.users.remove(&id).is_none() {
            return Err(ApiError::not_found(format!("User {id} not found")));
        }
        for team in self.teams.values_mut() {
            team.user_ids.retain(|u| *u != id);
        }
        self.dialer_campaigns.remove(&id);
        Ok(())
    }

    /// A user addressed by integer id or by email, as `/v2/users/{id|email}` allows.
    pub(super) fn find_user(&self, key: &str) -> Result<u64, ApiError> {
        let found = match key.parse::<u64>() {
            Ok(id) => self.users.contains_key(&id).then_some(id),
            Err(_) => self
                .users
                .values()
                .find(|u| u.email.eq_ignore_ascii_case(key))
                .map(|u| u.id),
        };
        found.ok_or_else(|| ApiError::not_found(format!("User {key:?} not found")))
    }

    fn check_email_free(&self, email: &str, except: Option<u64>) -> Result<(), ApiError> {
        let taken = self
            .users
            .values()
            .any(|u| Some(u.id) != except && u.email.eq_ignore_ascii_case(email));
        if taken {
            Err(ApiError::bad_request(format!(
                "email {email:?} has already been taken"
            )))
        } else {
            Ok(())
        }
    }
}

fn check_email(email: &str) -> Result<(), ApiError> {
    if is_email(email) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "email {email:?} is not a valid email address"
        )))
    }
}
