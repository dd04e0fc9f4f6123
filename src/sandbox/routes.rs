//! The sandbox's endpoints: Aircall's paths mapped onto the store, plus `/_sandbox/*`
//! introspection for tests.

use std::sync::{Arc, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, Uri};
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use super::App;
use super::answer::{Answer, ApiError, Reply};
use super::store::DetailKind;
use super::store::fields::parse_body;
use super::store::{ListQuery, Store, parse_id};

type Shared = State<Arc<App>>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/ping", get(ping))
        .route("/v2/users", get(list_users).post(create_user))
        .route("/v2/users/{key}", get(get_user).put(update_user))
        .route("/v1/users/{id}", delete(delete_user))
        .route(
            "/v1/users/{id}/dialer_campaign",
            post(create_campaign).delete(delete_campaign),
        )
        .route(
            "/v1/users/{id}/dialer_campaign/phone_numbers",
            get(list_campaign_numbers).post(add_campaign_numbers),
        )
        .route(
            "/v1/users/{id}/dialer_campaign/phone_numbers/{number_id}",
            delete(delete_campaign_number),
        )
        .route("/v1/contacts", get(list_contacts).post(create_contact))
        .route("/v1/contacts/search", get(search_contacts))
        .route(
            "/v1/contacts/{id}",
            get(get_contact).post(update_contact).delete(delete_contact),
        )
        .route("/v1/contacts/{id}/phone_details", post(add_phone))
        .route(
            "/v1/contacts/{id}/phone_details/{detail_id}",
            put(update_phone).delete(delete_phone),
        )
        .route("/v1/contacts/{id}/email_details", post(add_email))
        .route(
            "/v1/contacts/{id}/email_details/{detail_id}",
            put(update_email).delete(delete_email),
        )
        .route("/v1/teams", get(list_teams).post(create_team))
        .route("/v1/teams/{id}", get(get_team).delete(delete_team))
        .route(
            "/v1/teams/{id}/users/{user_id}",
            post(add_team_user).delete(remove_team_user),
        )
        .route("/v1/tags", get(list_tags).post(create_tag))
        .route(
            "/v1/tags/{id}",
            get(get_tag).put(update_tag).delete(delete_tag),
        )
        .route("/v1/calls/{id}/comments", post(comment_call))
        .route("/v1/calls/{id}/tags", post(tag_call))
        .route("/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/v1/webhooks/{id}",
            get(get_webhook).put(update_webhook).delete(delete_webhook),
        )
        .route("/_sandbox/journal", get(read_journal).delete(reset_journal))
        .route("/_sandbox/state", get(read_state).delete(reset_state))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(app)
}

fn store(app: &App) -> MutexGuard<'_, Store> {
    app.store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn unknown_path(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No endpoint {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

async fn ping() -> Answer {
    Ok(Reply::ok(json!({ "ping": "pong" })))
}

// Users

async fn create_user(State(app): Shared, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::created(store(&app).create_user(&body)?))
}

async fn update_user(State(app): Shared, Path(key): Path<String>, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::ok(store(&app).update_user(&key, &body)?))
}

async fn get_user(State(app): Shared, Path(key): Path<String>) -> Answer {
    Ok(Reply::ok(store(&app).get_user(&key)?))
}

async fn list_users(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_users(&query)))
}

async fn delete_user(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "User")?;
    store(&app).delete_user(id)?;
    Ok(Reply::no_content())
}

// Dialer campaigns

async fn create_campaign(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "User")?;
    let body = parse_body(&body)?;
    store(&app).create_campaign(id, &body)?;
    Ok(Reply::created_empty())
}

async fn delete_campaign(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "User")?;
    store(&app).delete_campaign(id)?;
    Ok(Reply::no_content())
}

async fn add_campaign_numbers(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "User")?;
    let body = parse_body(&body)?;
    store(&app).add_campaign_numbers(id, &body)?;
    Ok(Reply::created_empty())
}

async fn list_campaign_numbers(
    State(app): Shared,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let id = parse_id(&id, "User")?;
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_campaign_numbers(id, &query)?))
}

async fn delete_campaign_number(
    State(app): Shared,
    Path((id, number_id)): Path<(String, String)>,
) -> Answer {
    let id = parse_id(&id, "User")?;
    let number_id = parse_id(&number_id, "Number")?;
    store(&app).delete_campaign_number(id, number_id)?;
    Ok(Reply::no_content())
}

// Contacts

async fn create_contact(State(app): Shared, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::created(store(&app).create_contact(&body)?))
}

async fn update_contact(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "Contact")?;
    let body = parse_body(&body)?;
    Ok(Reply::ok(store(&app).update_contact(id, &body)?))
}

async fn get_contact(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Contact")?;
    Ok(Reply::ok(store(&app).get_contact(id)?))
}

async fn delete_contact(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Contact")?;
    store(&app).delete_contact(id)?;
    Ok(Reply::no_content())
}

async fn list_contacts(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_contacts(&query)?))
}

async fn search_contacts(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).search_contacts(&query)?))
}

async fn add_detail(app: &App, id: &str, kind: DetailKind, body: &[u8]) -> Answer {
    let id = parse_id(id, "Contact")?;
    let body = parse_body(body)?;
    Ok(Reply::created(store(app).add_detail(id, kind, &body)?))
}

async fn update_detail(app: &App, ids: (String, String), kind: DetailKind, body: &[u8]) -> Answer {
    let id = parse_id(&ids.0, "Contact")?;
    let detail_id = parse_id(&ids.1, "Detail")?;
    let body = parse_body(body)?;
    Ok(Reply::ok(
        store(app).update_detail(id, kind, detail_id, &body)?,
    ))
}

async fn delete_detail(app: &App, ids: (String, String), kind: DetailKind) -> Answer {
    let id = parse_id(&ids.0, "Contact")?;
    let detail_id = parse_id(&ids.1, "Detail")?;
    store(app).delete_detail(id, kind, detail_id)?;
    Ok(Reply::no_content())
}

async fn add_phone(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    add_detail(&app, &id, DetailKind::Phone, &body).await
}

async fn update_phone(
    State(app): Shared,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    update_detail(&app, ids, DetailKind::Phone, &body).await
}

async fn delete_phone(State(app): Shared, Path(ids): Path<(String, String)>) -> Answer {
    delete_detail(&app, ids, DetailKind::Phone).await
}

async fn add_email(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    add_detail(&app, &id, DetailKind::Email, &body).await
}

async fn update_email(
    State(app): Shared,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    update_detail(&app, ids, DetailKind::Email, &body).await
}

async fn delete_email(State(app): Shared, Path(ids): Path<(String, String)>) -> Answer {
    delete_detail(&app, ids, DetailKind::Email).await
}

// Teams

async fn create_team(State(app): Shared, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::created(store(&app).create_team(&body)?))
}

async fn get_team(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Team")?;
    Ok(Reply::ok(store(&app).get_team(id)?))
}

async fn list_teams(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_teams(&query)))
}

async fn delete_team(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Team")?;
    store(&app).delete_team(id)?;
    Ok(Reply::no_content())
}

async fn add_team_user(State(app): Shared, Path((id, user_id)): Path<(String, String)>) -> Answer {
    let id = parse_id(&id, "Team")?;
    let user_id = parse_id(&user_id, "User")?;
    Ok(Reply::created(store(&app).add_team_user(id, user_id)?))
}

async fn remove_team_user(
    State(app): Shared,
    Path((id, user_id)): Path<(String, String)>,
) -> Answer {
    let id = parse_id(&id, "Team")?;
    let user_id = parse_id(&user_id, "User")?;
    Ok(Reply::ok(store(&app).remove_team_user(id, user_id)?))
}

// Tags

async fn create_tag(State(app): Shared, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::created(store(&app).create_tag(&body)?))
}

async fn update_tag(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "Tag")?;
    let body = parse_body(&body)?;
    Ok(Reply::ok(store(&app).update_tag(id, &body)?))
}

async fn get_tag(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Tag")?;
    Ok(Reply::ok(store(&app).get_tag(id)?))
}

async fn delete_tag(State(app): Shared, Path(id): Path<String>) -> Answer {
    let id = parse_id(&id, "Tag")?;
    store(&app).delete_tag(id)?;
    Ok(Reply::no_content())
}

async fn list_tags(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_tags(&query)))
}

// Calls

async fn comment_call(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "Call")?;
    let body = parse_body(&body)?;
    store(&app).add_call_comment(id, &body)?;
    Ok(Reply::created_empty())
}

async fn tag_call(State(app): Shared, Path(id): Path<String>, body: Bytes) -> Answer {
    let id = parse_id(&id, "Call")?;
    let body = parse_body(&body)?;
    store(&app).tag_call(id, &body)?;
    Ok(Reply::created_empty())
}

// Webhooks

async fn create_webhook(State(app): Shared, body: Bytes) -> Answer {
    let body = parse_body(&body)?;
    Ok(Reply::created(store(&app).create_webhook(&body)?))
}

async fn update_webhook(
    State(app): Shared,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Answer {
    let body = parse_body(&body)?;
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).update_webhook(
        &id,
        query.param("events_action"),
        &body,
    )?))
}

async fn get_webhook(State(app): Shared, Path(id): Path<String>) -> Answer {
    Ok(Reply::ok(store(&app).get_webhook(&id)?))
}

async fn delete_webhook(State(app): Shared, Path(id): Path<String>) -> Answer {
    store(&app).delete_webhook(&id)?;
    Ok(Reply::no_content())
}

async fn list_webhooks(State(app): Shared, RawQuery(query): RawQuery) -> Answer {
    let query = ListQuery::parse(query.as_deref())?;
    Ok(Reply::ok(store(&app).list_webhooks(&query)))
}

// Introspection

async fn read_journal(State(app): Shared) -> Answer {
    let entries = serde_json::to_value(app.journal.entries()).unwrap_or(Value::Array(Vec::new()));
    Ok(Reply::ok(entries))
}

async fn reset_journal(State(app): Shared) -> Answer {
    app.journal.reset();
    Ok(Reply::no_content())
}

async fn read_state(State(app): Shared) -> Answer {
    Ok(Reply::ok(store(&app).dump()))
}

async fn reset_state(State(app): Shared) -> Answer {
    store(&app).clear();
    Ok(Reply::no_content())
}
