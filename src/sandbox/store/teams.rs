//! Teams: create, delete, get, list, and adding or removing one user at a time.

use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{Body, required_str};
use super::{ListQuery, Store, now_rfc3339};
use crate::sandbox::answer::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: u64,
    pub name: String,
    pub direct_link: String,
    pub created_at: String,
    /// Members by id; answers embed the user objects.
    pub user_ids: Vec<u64>,
}

impl Store {
    pub fn create_team(&mut self, body: &Body) -> Result<Value, ApiError> {
        let name = required_str(body, "name")?;
        let id = self.next_id("team");
        let team = Team {
            id,
            name,
            direct_link: self.link(&format!("/v1/teams/{id}")),
            created_at: now_rfc3339(),
            user_ids: Vec::new(),
        };
        self.teams.insert(id, team);
        self.team_answer(id)
    }

    pub fn get_team(&self, id: u64) -> Result<Value, ApiError> {
        self.team_answer(id)
    }

    pub fn list_teams(&self, query: &ListQuery) -> Value {
        let teams: Vec<Value> = self.teams.keys().map(|id| self.team_json(*id)).collect();
        self.page("/v1/teams", "teams", teams.iter().collect(), query)
    }

    pub fn delete_team(&mut self, id: u64) -> Result<(), ApiError> {
        self.teams
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(format!("Team {id} not found")))
    }

    pub fn add_team_user(&mut self, team_id: u64, user_id: u64) -> Result<Value, ApiError> {
        self.team(team_id)?;
        if !self.users.contains_key(&user_id) {
            return Err(ApiError::not_found(format!("User {user_id} not found")));
        }
        let team = self.team_mut(team_id)?;
        if team.user_ids.contains(&user_id) {
            return Err(ApiError::unprocessable(format!(
                "User {user_id} is already in team {team_id}"
            )));
        }
        team.user_ids.push(user_id);
        self.team_answer(team_id)
    }

    pub fn remove_team_user(&mut self, team_id: u64, user_id: u64) -> Result<Value, ApiError> {
        let team = self.team_mut(team_id)?;
        let before = team.user_ids.len();
        team.user_ids.retain(|u| *u != user_id);
        if team.user_ids.len() == before {
            return Err(ApiError::not_found(format!(
                "User {user_id} is not in team {team_id}"
            )));
        }
        self.team_answer(team_id)
    }

    fn team(&self, id: u64) -> Result<&Team, ApiError> {
        self.teams
            .get(&id)
            .ok_or_else(|| ApiError::not_found(format!("Team {id} not found")))
    }

    fn team_mut(&mut self, id: u64) -> Result<&mut Team, ApiError> {
        self.teams
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(format!("Team {id} not found")))
    }

    fn team_answer(&self, id: u64) -> Result<Value, ApiError> {
        self.team(id)?;
        Ok(json!({ "team": self.team_json(id) }))
    }

    fn team_json(&self, id: u64) -> Value {
        let Some(team) = self.teams.get(&id) else {
            return Value::Null;
        };
        let users: Vec<Value> = team
            .user_ids
            .iter()
            .filter_map(|u| self.users.get(u))
            .map(|u| {
                json!({
                    "id": u.id,
                    "direct_link": u.direct_link,
                    "name": u.name,
                    "email": u.email,
                    "created_at": u.created_at,
                    "time_zone": u.time_zone,
                    "availability_status": u.availability_status,
                })
            })
            .collect();
        json!({
            "id": team.id,
            "name": team.name,
            "direct_link": team.direct_link,
            "created_at": team.created_at,
            "users": users,
        })
    }
}
