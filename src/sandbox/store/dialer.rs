//! Dialer campaigns (Power Dialer): one per user, a queue of E.164 numbers to call.

use serde::Serialize;
use serde_json::Value;

use super::fields::{Body, is_e164, shown};
use super::{ListQuery, Store, now_rfc3339};
use crate::sandbox::answer::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: u64,
    pub user_id: u64,
    pub created_at: String,
    pub numbers: Vec<CampaignNumber>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignNumber {
    pub id: u64,
    pub number: String,
    pub called: bool,
    pub created_at: String,
}

impl Store {
    /// `POST /v1/users/{id}/dialer_campaign`: creates the user's campaign or appends to it.
    pub fn create_campaign(&mut self, user_id: u64, body: &Body) -> Result<(), ApiError> {
        self.find_user(&user_id.to_string())?;
        let numbers = campaign_numbers(body)?;
        let existing = self
            .dialer_campaigns
            .get(&user_id)
            .map(|c| c.numbers.as_slice())
            .unwrap_or(&[]);
        check_not_queued(existing, &numbers)?;
        if !self.dialer_campaigns.contains_key(&user_id) {
            let campaign = Campaign {
                id: self.next_id("dialer_campaign"),
                user_id,
                created_at: now_rfc3339(),
                numbers: Vec::new(),
            };
            self.dialer_campaigns.insert(user_id, campaign);
        }
        self.queue_numbers(user_id, numbers)
    }

    pub fn delete_campaign(&mut self, user_id: u64) -> Result<(), ApiError> {
        self.find_user(&user_id.to_string())?;
        self.dialer_campaigns
            .remove(&user_id)
            .map(|_| ())
            .ok_or_else(|| no_campaign(user_id))
    }

    pub fn add_campaign_numbers(&mut self, user_id: u64, body: &Body) -> Result<(), ApiError> {
        self.find_user(&user_id.to_string())?;
        let numbers = campaign_numbers(body)?;
        let campaign = self
            .dialer_campaigns
            .get(&user_id)
            .ok_or_else(|| no_campaign(user_id))?;
        check_not_queued(&campaign.numbers, &numbers)?;
        self.queue_numbers(user_id, numbers)
    }

    pub fn list_campaign_numbers(
        &self,
        user_id: u64,
        query: &ListQuery,
    ) -> Result<Value, ApiError> {
        self.find_user(&user_id.to_string())?;
        let campaign = self
            .dialer_campaigns
            .get(&user_id)
            .ok_or_else(|| no_campaign(user_id))?;
        let path = format!("/v1/users/{user_id}/dialer_campaign/phone_numbers");
        Ok(self.page(&path, "numbers", campaign.numbers.iter().collect(), query))
    }

    pub fn delete_campaign_number(&mut self, user_id: u64, number_id: u64) -> Result<(), ApiError> {
        self.find_user(&user_id.to_string())?;
        let campaign = self
            .dialer_campaigns
            .get_mut(&user_id)
            .ok_or_else(|| no_campaign(user_id))?;
        let before = campaign.numbers.len();
        campaign.numbers.retain(|n| n.id != number_id);
        if campaign.numbers.len() == before {
            return Err(ApiError::not_found(format!(
                "Number {number_id} is not in the dialer campaign of user {user_id}"
            )));
        }
        Ok(())
    }

    fn queue_numbers(&mut self, user_id: u64, numbers: Vec<String>) -> Result<(), ApiError> {
        let entries: Vec<CampaignNumber> = numbers
            .into_iter()
            .map(|number| CampaignNumber {
                id: self.next_id("dialer_number"),
                number,
                called: false,
                created_at: now_rfc3339(),
            })
            .collect();
        let campaign = self
            .dialer_campaigns
            .get_mut(&user_id)
            .ok_or_else(|| no_campaign(user_id))?;
        campaign.numbers.extend(entries);
        Ok(())
    }
}

fn no_campaign(user_id: u64) -> ApiError {
    ApiError::not_found(format!("User {user_id} has no dialer campaign"))
}

fn campaign_numbers(body: &Body) -> Result<Vec<String>, ApiError> {
    let Some(Value::Array(items)) = body.get("phone_numbers") else {
        return Err(ApiError::bad_request(
            "phone_numbers can't be blank: give an array of E.164 numbers",
        ));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "phone_numbers can't be blank: give an array of E.164 numbers",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_str() {
            Some(number) if is_e164(number) => Ok(number.to_owned()),
            _ => Err(ApiError::bad_request(format!(
                "phone_numbers[{i}]: {} is not an E.164 phone number (e.g. +19001112222)",
                shown(item)
            ))),
        })
        .collect()
}

/// Numbers already waiting in the campaign, or given twice, are refused with Aircall's 422.
fn check_not_queued(existing: &[CampaignNumber], numbers: &[String]) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = existing
        .iter()
        .filter(|n| !n.called)
        .map(|n| n.number.as_str())
        .collect();
    let mut conflicts = Vec::new();
    for number in numbers {
        if seen.contains(&number.as_str()) {
            conflicts.push(format!("{number} already imported, but not called"));
        } else {
            seen.push(number);
        }
    }
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable_errors("dialer_campaign", conflicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_reported_per_number() {
        let existing = vec![CampaignNumber {
            id: 1,
            number: "+33612345678".into(),
            called: false,
            created_at: String::new(),
        }];
        let err = check_not_queued(&existing, &["+33612345678".into(), "+33700000000".into()])
            .unwrap_err();
        assert_eq!(err.status.as_u16(), 422);
        assert_eq!(
            err.body["errors"]["dialer_campaign"][0],
            "+33612345678 already imported, but not called"
        );
        assert!(check_not_queued(&existing, &["+33700000000".into()]).is_ok());
    }
}
