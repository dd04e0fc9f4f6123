//! The sandbox over real loopback HTTP: auth, every endpoint's success and error paths, the
//! rate limit, each fault kind with a fixed seed, the journal, and the binary's first line.

use std::time::{Duration, Instant};

use aircall_dest::sandbox::{self, FaultSpec, JournalStatus, Sandbox, SandboxConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// reqwest is built without its `json` feature; these two stand in for it.
trait JsonRequest {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonRequest for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(body.to_string())
    }
}

async fn read_json(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body read");
    serde_json::from_str(&text).expect("JSON body")
}

async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    sandbox::start(config).await.expect("sandbox starts")
}

async fn sandbox() -> Sandbox {
    sandbox_with(SandboxConfig {
        rate_limit: 0,
        ..SandboxConfig::default()
    })
    .await
}

fn faulty(spec: &str, seed: u64) -> SandboxConfig {
    SandboxConfig {
        rate_limit: 0,
        faults: spec.parse::<FaultSpec>().expect("valid spec"),
        seed: Some(seed),
        ..SandboxConfig::default()
    }
}

struct Api {
    client: Client,
    base: String,
}

impl Api {
    fn new(sandbox: &Sandbox) -> Self {
        Self {
            client: Client::new(),
            base: sandbox.url(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth("sandbox-id", Some("sandbox-token"));
        if method != Method::GET && body.is_none() {
            // Aircall asks for it on every POST, PUT and DELETE, bodies or not.
            request = request.header("Content-Type", "application/json");
        }
        if let Some(body) = body {
            request = request.json_body(&body);
        }
        let response = request.send().await.expect("request answered");
        let status = response.status();
        let text = response.text().await.expect("body read");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None).await
    }
}

fn contact_body(phone: &str) -> Value {
    json!({"first_name": "Ada", "last_name": "Lovelace", "phone_numbers": [{"label": "Work", "value": phone}]})
}

fn troubleshoot(body: &Value) -> &str {
    body["troubleshoot"].as_str().unwrap_or_default()
}

// Auth

#[tokio::test]
async fn auth_answers_401_without_header_and_403_with_wrong_credentials() {
    let sb = sandbox().await;
    let client = Client::new();
    let url = format!("{}/v1/ping", sb.url());

    let ok = client
        .get(&url)
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(read_json(ok).await, json!({"ping": "pong"}));

    let bearer = client
        .get(&url)
        .bearer_auth("sandbox-bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);

    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(read_json(none).await, json!({"message": "Unauthorized"}));

    let unknown_scheme = client
        .get(&url)
        .header("Authorization", "Token x")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_scheme.status(), 401);

    let wrong_pair = client
        .get(&url)
        .basic_auth("sandbox-id", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_pair.status(), 403);
    assert_eq!(read_json(wrong_pair).await, json!({"message": "Forbidden"}));

    let wrong_bearer = client.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong_bearer.status(), 403);

    // Unauthenticated requests never reach the store.
    let create = client
        .post(format!("{}/v1/contacts", sb.url()))
        .json_body(&contact_body("+33612345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 401);
    assert_eq!(sb.state()["contacts"], json!({}));
}

#[tokio::test]
async fn credentials_are_configurable() {
    let sb = sandbox_with(SandboxConfig {
        credentials: sandbox::SandboxCredentials {
            api_id: "other".into(),
            api_token: aircall_dest::secret::Secret::new("pair"),
            bearer: aircall_dest::secret::Secret::new("tok"),
        },
        ..SandboxConfig::default()
    })
    .await;
    let client = Client::new();
    let url = format!("{}/v1/ping", sb.url());
    let default_pair = client
        .get(&url)
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(default_pair.status(), 403);
    let pair = client
        .get(&url)
        .basic_auth("other", Some("pair"))
        .send()
        .await
        .unwrap();
    assert_eq!(pair.status(), 200);
    let bearer = client.get(&url).bearer_auth("tok").send().await.unwrap();
    assert_eq!(bearer.status(), 200);
}

// Routing

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    let (status, body) = api.get("/v1/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Not found");
    let (status, body) = api
        .send(Method::PATCH, "/v1/contacts/1", Some(json!({})))
        .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"], "Method Not Allowed");
    let (status, _) = api.put("/v1/contacts/1", json!({})).await;
    assert_eq!(status, 405, "contact update is POST, not PUT");
    let (status, _) = api.get("/v1/users/1").await;
    assert_eq!(status, 405, "only DELETE lives under /v1/users/{{id}}");
}

// Users

#[tokio::test]
async fn users_create_read_update_list_delete() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    let (status, body) = api
        .post(
            "/v2/users",
            json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "L"}),
        )
        .await;
    assert_eq!(status, 201);
    let user = &body["user"];
    assert_eq!(user["id"], 1);
    assert_eq!(user["name"], "Ada L");
    assert_eq!(user["language"], "en-US");
    assert_eq!(user["time_zone"], "Etc/UTC");

    let (status, body) = api
        .post(
            "/v2/users",
            json!({"email": "ADA@example.com", "first_name": "A", "last_name": "B"}),
        )
        .await;
    assert_eq!(status, 400, "emails are unique: {body}");
    assert!(troubleshoot(&body).contains("already been taken"));

    let (status, body) = api
        .post(
            "/v2/users",
            json!({"email": "bob@example.com", "first_name": "Bob"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("last_name"), "{body}");

    let (status, _) = api
        .post(
            "/v2/users",
            json!({"email": "not-an-email", "first_name": "x", "last_name": "y"}),
        )
        .await;
    assert_eq!(status, 400);

    let (status, body) = api.get("/v2/users/ada@example.com").await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["id"], 1);

    let (status, body) = api
        .put(
            "/v2/users/ada@example.com",
            json!({"wrap_up_time": 30, "last_name": "Lovelace"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["wrap_up_time"], 30);
    assert_eq!(body["user"]["name"], "Ada Lovelace");

    let (status, _) = api.put("/v2/users/1", json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = api.put("/v2/users/1", json!({"first_name": ""})).await;
    assert_eq!(status, 400);
    let (status, _) = api.put("/v2/users/99", json!({"wrap_up_time": 1})).await;
    assert_eq!(status, 404);

    for i in 0..3 {
        let (status, _) = api
            .post(
                "/v2/users",
                json!({"email": format!("u{i}@example.com"), "first_name": "U", "last_name": "V"}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = api.get("/v2/users?per_page=2&page=2").await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 4);
    assert_eq!(body["meta"]["count"], 2);
    assert_eq!(body["meta"]["current_page"], 2);
    assert_eq!(body["meta"]["next_page_link"], Value::Null);
    assert!(
        body["meta"]["previous_page_link"]
            .as_str()
            .unwrap()
            .contains("page=1")
    );
    assert_eq!(body["users"][0]["email"], "u1@example.com");

    let (status, body) = api.delete("/v1/users/1").await;
    assert_eq!(status, 204);
    assert_eq!(body, Value::Null);
    let (status, _) = api.delete("/v1/users/1").await;
    assert_eq!(status, 404);
    let (status, _) = api.get("/v2/users/1").await;
    assert_eq!(status, 404);
}

// Contacts

#[tokio::test]
async fn contacts_create_with_aircall_rules() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    let (status, body) = api
        .post(
            "/v1/contacts",
            json!({
                "first_name": "Ada",
                "information": "external_custom_id:87123",
                "phone_numbers": [{"label": "Work", "value": "+19001112222"}],
                "emails": [{"label": "Work", "value": "ada@example.com"}],
            }),
        )
        .await;
    assert_eq!(status, 201);
    let contact = &body["contact"];
    assert_eq!(contact["id"], 1);
    assert_eq!(contact["is_shared"], true);
    assert_eq!(contact["last_name"], Value::Null);
    assert_eq!(contact["phone_numbers"][0]["value"], "+19001112222");
    assert!(contact["phone_numbers"][0]["id"].is_u64());
    assert!(contact["created_at"].is_u64(), "contacts use UNIX seconds");

    let (status, body) = api
        .post("/v1/contacts", json!({"first_name": "NoPhone"}))
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("phone_numbers"));

    let (status, _) = api.post("/v1/contacts", json!({"phone_numbers": []})).await;
    assert_eq!(status, 400);

    let (status, body) = api
        .post("/v1/contacts", contact_body("+1 812-641-5139"))
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("E.164"), "{body}");

    let (status, body) = api
        .post(
            "/v1/contacts",
            json!({"phone_numbers": [{"value": "+19001112222"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("label"), "{body}");

    let many: Vec<Value> = (0..21)
        .map(|i| json!({"label": "Work", "value": format!("+3361234{i:04}")}))
        .collect();
    let (status, body) = api
        .post("/v1/contacts", json!({"phone_numbers": many}))
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("20"), "{body}");

    let emails: Vec<Value> = (0..21)
        .map(|i| json!({"label": "Work", "value": format!("a{i}@example.com")}))
        .collect();
    let (status, _) = api
        .post(
            "/v1/contacts",
            json!({"phone_numbers": [{"label": "W", "value": "+19001112222"}], "emails": emails}),
        )
        .await;
    assert_eq!(status, 400);

    let twenty: Vec<Value> = (0..20)
        .map(|i| json!({"label": "Work", "value": format!("+3361234{i:04}")}))
        .collect();
    let (status, _) = api
        .post("/v1/contacts", json!({"phone_numbers": twenty}))
        .await;
    assert_eq!(status, 201, "20 numbers is the maximum, not over it");

    let (status, body) = api
        .client
        .post(format!("{}/v1/contacts", api.base))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, 400, "{body:?}");

    let (status, _) = api.post("/v1/contacts", contact_body("+19001112222")).await;
    assert_eq!(status, 201, "the same payload twice makes two contacts");
    assert_eq!(sb.state()["contacts"].as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn contacts_update_get_delete() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    api.post("/v1/contacts", contact_body("+33612345678")).await;

    let (status, body) = api
        .post(
            "/v1/contacts/1",
            json!({"company_name": "Analytical Engines"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["contact"]["company_name"], "Analytical Engines");
    assert_eq!(
        body["contact"]["first_name"], "Ada",
        "absent fields are kept"
    );

    let (status, body) = api.post("/v1/contacts/1", json!({"first_name": ""})).await;
    assert_eq!(status, 400);
    assert!(
        troubleshoot(&body).contains("Can't be blank if defined"),
        "{body}"
    );
    let (status, _) = api.post("/v1/contacts/1", json!({"last_name": null})).await;
    assert_eq!(status, 400);

    let (status, body) = api.get("/v1/contacts/1").await;
    assert_eq!(status, 200);
    assert_eq!(body["contact"]["first_name"], "Ada");

    let (status, _) = api
        .post("/v1/contacts/42", json!({"first_name": "X"}))
        .await;
    assert_eq!(status, 404);
    let (status, body) = api.get("/v1/contacts/abc").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Not found");

    let (status, _) = api.delete("/v1/contacts/1").await;
    assert_eq!(status, 204);
    let (status, _) = api.get("/v1/contacts/1").await;
    assert_eq!(status, 404);
    let (status, _) = api.delete("/v1/contacts/1").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn contacts_list_paginates_and_search_filters() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    for i in 0..5 {
        let mut body = contact_body(&format!("+3361234500{i}"));
        body["emails"] = json!([{"label": "Work", "value": format!("c{i}@example.com")}]);
        api.post("/v1/contacts", body).await;
    }
    let (status, body) = api.get("/v1/contacts?per_page=2").await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["count"], 2);
    assert_eq!(body["meta"]["total"], 5);
    assert_eq!(body["meta"]["per_page"], 2);
    let next = body["meta"]["next_page_link"].as_str().unwrap().to_owned();
    assert!(next.starts_with(&sb.url()), "{next}");
    let (status, page2) = api.get(next.strip_prefix(&sb.url()).unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(page2["meta"]["current_page"], 2);
    assert_eq!(page2["contacts"][0]["id"], 3);

    let (status, body) = api.get("/v1/contacts?order=desc&per_page=1").await;
    assert_eq!(status, 200);
    assert_eq!(body["contacts"][0]["id"], 5);

    let (status, body) = api.get("/v1/contacts?per_page=51").await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("per_page"));

    let (status, body) = api
        .get("/v1/contacts/search?phone_number=%2B33612345003")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 1);
    assert_eq!(body["contacts"][0]["id"], 4);

    let (status, body) = api.get("/v1/contacts/search?email=C1@example.com").await;
    assert_eq!(status, 200);
    assert_eq!(body["contacts"][0]["id"], 2);

    let (status, body) = api
        .get("/v1/contacts/search?email=nobody@example.com")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 0);

    let (status, _) = api.get("/v1/contacts/search").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn contact_phone_and_email_details() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    api.post("/v1/contacts", contact_body("+33612345678")).await;

    let (status, body) = api
        .post(
            "/v1/contacts/1/phone_details",
            json!({"label": "Home", "value": "+33700000000"}),
        )
        .await;
    assert_eq!(status, 201);
    let phone_id = body["phone_detail"]["id"].as_u64().unwrap();
    assert_eq!(body["phone_detail"]["label"], "Home");

    let (status, _) = api
        .post(
            "/v1/contacts/1/phone_details",
            json!({"label": "Home", "value": "0700000000"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post("/v1/contacts/1/phone_details", json!({"label": "Home"}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post(
            "/v1/contacts/9/phone_details",
            json!({"label": "H", "value": "+33700000000"}),
        )
        .await;
    assert_eq!(status, 404);

    let (status, body) = api
        .put(
            &format!("/v1/contacts/1/phone_details/{phone_id}"),
            json!({"label": "Mobile"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["phone_detail"]["label"], "Mobile");
    assert_eq!(body["phone_detail"]["value"], "+33700000000");
    let (status, _) = api
        .put("/v1/contacts/1/phone_details/999", json!({"label": "x"}))
        .await;
    assert_eq!(status, 404);

    let (status, _) = api
        .delete(&format!("/v1/contacts/1/phone_details/{phone_id}"))
        .await;
    assert_eq!(status, 204);
    let (_, contact) = api.get("/v1/contacts/1").await;
    assert_eq!(
        contact["contact"]["phone_numbers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, body) = api
        .post(
            "/v1/contacts/1/email_details",
            json!({"label": "Work", "value": "ada@example.com"}),
        )
        .await;
    assert_eq!(status, 201);
    let email_id = body["email_detail"]["id"].as_u64().unwrap();
    let (status, body) = api
        .put(
            &format!("/v1/contacts/1/email_details/{email_id}"),
            json!({"value": "ada@work.example"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["email_detail"]["value"], "ada@work.example");
    let (status, _) = api
        .delete(&format!("/v1/contacts/1/email_details/{email_id}"))
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .delete(&format!("/v1/contacts/1/email_details/{email_id}"))
        .await;
    assert_eq!(status, 404);

    // The 20-per-contact cap also holds when adding one at a time.
    for i in 1..20 {
        let (status, _) = api
            .post(
                "/v1/contacts/1/phone_details",
                json!({"label": "X", "value": format!("+3361111{i:04}")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = api
        .post(
            "/v1/contacts/1/phone_details",
            json!({"label": "X", "value": "+33622220000"}),
        )
        .await;
    assert_eq!(status, 400);
}

// Teams

#[tokio::test]
async fn teams_and_their_users() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    api.post(
        "/v2/users",
        json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "L"}),
    )
    .await;

    let (status, body) = api.post("/v1/teams", json!({"name": "Support"})).await;
    assert_eq!(status, 201);
    assert_eq!(body["team"]["name"], "Support");
    assert_eq!(body["team"]["users"], json!([]));
    let (status, _) = api.post("/v1/teams", json!({})).await;
    assert_eq!(status, 400);

    let (status, body) = api.post("/v1/teams/1/users/1", json!({})).await;
    assert_eq!(status, 201);
    assert_eq!(body["team"]["users"][0]["email"], "ada@example.com");
    let (status, body) = api.post("/v1/teams/1/users/1", json!({})).await;
    assert_eq!(status, 422);
    assert!(troubleshoot(&body).contains("already"));
    let (status, _) = api.post("/v1/teams/1/users/7", json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = api.post("/v1/teams/7/users/1", json!({})).await;
    assert_eq!(status, 404);

    let (status, body) = api.delete("/v1/teams/1/users/1").await;
    assert_eq!(status, 200);
    assert_eq!(body["team"]["users"], json!([]));
    let (status, _) = api.delete("/v1/teams/1/users/1").await;
    assert_eq!(status, 404);

    let (status, body) = api.get("/v1/teams").await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 1);
    let (status, _) = api.delete("/v1/teams/1").await;
    assert_eq!(status, 204);
    let (status, _) = api.get("/v1/teams/1").await;
    assert_eq!(status, 404);
}

// Tags

#[tokio::test]
async fn tags_with_unique_names_and_hex_colours() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    let (status, body) = api
        .post(
            "/v1/tags",
            json!({"name": "VIP", "color": "#00B388", "description": "d"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["tag"],
        json!({"id": 1, "name": "VIP", "color": "#00B388", "description": null})
    );

    let (status, body) = api
        .post("/v1/tags", json!({"name": "VIP", "color": "#000000"}))
        .await;
    assert_eq!(status, 400);
    assert!(troubleshoot(&body).contains("taken"));
    let (status, _) = api
        .post("/v1/tags", json!({"name": "Red", "color": "red"}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api.post("/v1/tags", json!({"name": "NoColour"})).await;
    assert_eq!(status, 400);

    api.post("/v1/tags", json!({"name": "Lead", "color": "#abc"}))
        .await;
    let (status, body) = api
        .put("/v1/tags/1", json!({"name": "Very Important"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["tag"]["name"], "Very Important");
    assert_eq!(body["tag"]["color"], "#00B388");
    let (status, _) = api.put("/v1/tags/1", json!({"name": "Lead"})).await;
    assert_eq!(status, 400, "renaming onto another tag's name");
    let (status, _) = api.put("/v1/tags/1", json!({"color": "#GGGGGG"})).await;
    assert_eq!(status, 400);
    let (status, _) = api.put("/v1/tags/9", json!({"name": "x"})).await;
    assert_eq!(status, 404);

    let (status, body) = api.get("/v1/tags").await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 2);
    assert_eq!(body["tags"][1]["name"], "Lead");

    let (status, _) = api.delete("/v1/tags/1").await;
    assert_eq!(status, 204);
    let (status, _) = api.delete("/v1/tags/1").await;
    assert_eq!(status, 404);
}

// Calls

#[tokio::test]
async fn call_comments_stop_at_five_and_call_tags_need_real_tags() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    for i in 0..5 {
        let (status, _) = api
            .post(
                "/v1/calls/123/comments",
                json!({"content": format!("note {i}")}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = api
        .post("/v1/calls/123/comments", json!({"content": "sixth"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        troubleshoot(&body),
        "Maximum of 5 notes can be added to a Call."
    );
    let (status, _) = api
        .post("/v1/calls/124/comments", json!({"content": "other call"}))
        .await;
    assert_eq!(status, 201, "the cap is per call");
    let (status, _) = api.post("/v1/calls/124/comments", json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post("/v1/calls/not-a-call/comments", json!({"content": "x"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        sb.state()["calls"]["123"]["comments"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    api.post("/v1/tags", json!({"name": "VIP", "color": "#00B388"}))
        .await;
    let (status, _) = api.post("/v1/calls/123/tags", json!({"tags": [1]})).await;
    assert_eq!(status, 201);
    let (status, _) = api.post("/v1/calls/123/tags", json!({"tags": [99]})).await;
    assert_eq!(status, 404);
    let (status, _) = api
        .post("/v1/calls/123/tags", json!({"tags": ["VIP"]}))
        .await;
    assert_eq!(status, 400, "tags are ids, not names");
    let (status, _) = api.post("/v1/calls/123/tags", json!({"tags": []})).await;
    assert_eq!(status, 400);
    assert_eq!(sb.state()["calls"]["123"]["tag_ids"], json!([1]));
}

// Dialer campaigns

#[tokio::test]
async fn dialer_campaign_numbers() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    api.post(
        "/v2/users",
        json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "L"}),
    )
    .await;
    let path = "/v1/users/1/dialer_campaign";

    let (status, _) = api
        .post(
            path,
            json!({"phone_numbers": ["+33612345678", "+33612345679"]}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = api
        .post(path, json!({"phone_numbers": ["+33612345678"]}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"]["dialer_campaign"][0],
        "+33612345678 already imported, but not called"
    );
    assert_eq!(body["success"], false);
    let (status, _) = api
        .post(path, json!({"phone_numbers": ["0612345678"]}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .post(
            "/v1/users/9/dialer_campaign",
            json!({"phone_numbers": ["+33612345670"]}),
        )
        .await;
    assert_eq!(status, 404);

    let (status, _) = api
        .post(
            "/v1/users/1/dialer_campaign/phone_numbers",
            json!({"phone_numbers": ["+33612345670"]}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = api.get("/v1/users/1/dialer_campaign/phone_numbers").await;
    assert_eq!(status, 200);
    let numbers = body["numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 3);
    assert_eq!(numbers[2]["number"], "+33612345670");
    let number_id = numbers[0]["id"].as_u64().unwrap();

    let (status, _) = api
        .delete(&format!(
            "/v1/users/1/dialer_campaign/phone_numbers/{number_id}"
        ))
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .delete(&format!(
            "/v1/users/1/dialer_campaign/phone_numbers/{number_id}"
        ))
        .await;
    assert_eq!(status, 404);
    let (_, body) = api.get("/v1/users/1/dialer_campaign/phone_numbers").await;
    assert_eq!(body["meta"]["total"], 2);

    let (status, _) = api.delete(path).await;
    assert_eq!(status, 204);
    let (status, _) = api.get("/v1/users/1/dialer_campaign/phone_numbers").await;
    assert_eq!(status, 404);
    let (status, _) = api
        .post(
            "/v1/users/1/dialer_campaign/phone_numbers",
            json!({"phone_numbers": ["+33612345670"]}),
        )
        .await;
    assert_eq!(status, 404, "adding numbers needs a campaign");
}

// Webhooks

#[tokio::test]
async fn webhooks_with_uuid_ids_and_all_events_by_default() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    let (status, body) = api
        .post("/v1/webhooks", json!({"url": "https://example.com/hook"}))
        .await;
    assert_eq!(status, 201);
    let hook = &body["webhook"];
    let id = hook["webhook_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(hook["custom_name"], "Webhook");
    assert_eq!(hook["active"], true);
    assert_eq!(hook["token"].as_str().unwrap().len(), 32);
    let all_events = hook["events"].as_array().unwrap().len();
    assert!(all_events > 10);

    let (status, _) = api
        .post("/v1/webhooks", json!({"url": "ftp://example.com"}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api.post("/v1/webhooks", json!({"custom_name": "x"})).await;
    assert_eq!(status, 400);

    let (status, body) = api
        .put(
            &format!("/v1/webhooks/{id}"),
            json!({"events": ["contact.created"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["webhook"]["events"], json!(["contact.created"]));
    let (status, body) = api
        .put(
            &format!("/v1/webhooks/{id}?events_action=add"),
            json!({"events": ["call.created"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["webhook"]["events"],
        json!(["contact.created", "call.created"])
    );
    let (status, body) = api
        .put(
            &format!("/v1/webhooks/{id}?events_action=remove"),
            json!({"events": ["contact.created"]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["webhook"]["events"], json!(["call.created"]));
    let (status, body) = api
        .put(&format!("/v1/webhooks/{id}"), json!({"active": false}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["webhook"]["active"], false);
    assert_eq!(
        body["webhook"]["events"].as_array().unwrap().len(),
        all_events,
        "an update without events re-subscribes to all events"
    );

    let (status, body) = api.get("/v1/webhooks").await;
    assert_eq!(status, 200);
    assert_eq!(body["webhooks"][0]["webhook_id"], id.as_str());
    let (status, _) = api.delete(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = api.delete(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(status, 404);
}

// Rate limit

#[tokio::test]
async fn rate_limit_refuses_past_the_bucket_and_capacity_returns() {
    // 600/min drains one request every 100 ms, so the test waits well under a second.
    let sb = sandbox_with(SandboxConfig {
        rate_limit: 600,
        ..SandboxConfig::default()
    })
    .await;
    let api = Api::new(&sb);
    let client = &api.client;
    let url = format!("{}/v1/ping", sb.url());
    let first = client
        .get(&url)
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.headers()["x-aircallapi-limit"], "600");
    assert_eq!(first.headers()["x-aircallapi-remaining"], "599");

    let mut sent = 1;
    let refused = loop {
        let response = client
            .get(&url)
            .basic_auth("sandbox-id", Some("sandbox-token"))
            .send()
            .await
            .unwrap();
        sent += 1;
        if response.status() == 429 {
            break response;
        }
        assert_eq!(response.status(), 200);
        assert!(sent < 2000, "the limit never refused");
    };
    assert!(
        sent > 600,
        "the full burst of 600 passes first (refused at {sent})"
    );
    let headers = refused.headers().clone();
    assert_eq!(headers["x-aircallapi-limit"], "600");
    assert_eq!(headers["x-aircallapi-remaining"], "0");
    let reset: u64 = headers["x-aircallapi-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset >= now && reset <= now + 2,
        "reset {reset} vs now {now}"
    );
    let body = read_json(refused).await;
    assert_eq!(body["error"], "Too Many Requests");

    // A refused write does not touch the store.
    let (status, _) = api.post("/v1/contacts", contact_body("+33612345678")).await;
    assert_eq!(status, 429);
    assert_eq!(sb.state()["contacts"], json!({}));

    // Capacity comes back as the bucket drains: one request per 100 ms.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (status, _) = api.post("/v1/contacts", contact_body("+33612345678")).await;
    assert_eq!(status, 201);
    assert_eq!(sb.state()["contacts"].as_object().unwrap().len(), 1);
    let statuses: Vec<JournalStatus> = sb.journal().iter().map(|e| e.status).collect();
    assert!(
        statuses.contains(&JournalStatus::Answered(429)),
        "the journal records 429s"
    );
}

#[tokio::test]
async fn rate_limit_zero_means_off_and_no_headers() {
    let sb = sandbox().await;
    let client = Client::new();
    for _ in 0..200 {
        let r = client
            .get(format!("{}/v1/ping", sb.url()))
            .basic_auth("sandbox-id", Some("sandbox-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-aircallapi-limit").is_none());
    }
}

// Faults

#[tokio::test]
async fn injected_error_statuses_do_not_apply_writes() {
    let sb = sandbox_with(faulty("503=1", 1)).await;
    let api = Api::new(&sb);
    let (status, body) = api.post("/v1/contacts", contact_body("+33612345678")).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "Service Unavailable");
    assert_eq!(sb.state()["contacts"], json!({}));
    let entry = sb.journal().pop().unwrap();
    assert_eq!(entry.status, JournalStatus::Answered(503));
    assert_eq!(entry.fault.as_deref(), Some("503"));

    let sb = sandbox_with(faulty("429=1", 1)).await;
    let response = Client::new()
        .get(format!("{}/v1/ping", sb.url()))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["x-aircallapi-remaining"], "0");
    let reset: u64 = response.headers()["x-aircallapi-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 2,
        "an injected 429 says when to retry: {reset} vs {now}"
    );
}

#[tokio::test]
async fn the_same_seed_repeats_the_same_faults() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let sb = sandbox_with(faulty("500=0.5", seed)).await;
        let client = Client::new();
        let mut out = Vec::new();
        for _ in 0..30 {
            let r = client
                .get(format!("{}/v1/ping", sb.url()))
                .basic_auth("sandbox-id", Some("sandbox-token"))
                .send()
                .await
                .unwrap();
            out.push(r.status().as_u16());
        }
        out
    }
    let first = statuses(7).await;
    assert_eq!(first, statuses(7).await);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    assert_ne!(first, statuses(8).await, "another seed, another sequence");
}

#[tokio::test]
async fn drop_closes_the_connection_before_applying() {
    let sb = sandbox_with(faulty("drop=1", 3)).await;
    let error = Client::new()
        .post(format!("{}/v1/contacts", sb.url()))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .json_body(&contact_body("+33612345678"))
        .send()
        .await
        .expect_err("no answer");
    assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
    assert_eq!(sb.state()["contacts"], json!({}));
    let entry = sb.journal().pop().unwrap();
    assert_eq!(entry.status, JournalStatus::Dropped);
    assert_eq!(entry.fault.as_deref(), Some("drop"));
}

#[tokio::test]
async fn apply_then_drop_applies_the_write_without_answering() {
    let sb = sandbox_with(faulty("apply_then_drop=1", 3)).await;
    let error = Client::new()
        .post(format!("{}/v1/contacts", sb.url()))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .json_body(&contact_body("+33612345678"))
        .send()
        .await
        .expect_err("no answer");
    assert!(!error.is_timeout(), "{error:?}");
    let contacts = sb.state()["contacts"].clone();
    assert_eq!(
        contacts.as_object().unwrap().len(),
        1,
        "the write was applied: {contacts}"
    );
    assert_eq!(contacts["1"]["phone_numbers"][0]["value"], "+33612345678");
    let entry = sb.journal().pop().unwrap();
    assert_eq!(entry.status, JournalStatus::Dropped);
    assert_eq!(entry.fault.as_deref(), Some("apply_then_drop"));
}

#[tokio::test]
async fn stall_outlasts_the_client_timeout_and_applies_nothing() {
    let sb = sandbox_with(faulty("stall=1:30s", 3)).await;
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .post(format!("{}/v1/contacts", sb.url()))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .json_body(&contact_body("+33612345678"))
        .send()
        .await
        .expect_err("no answer in time");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(sb.state()["contacts"], json!({}));
    assert_eq!(sb.journal()[0].fault.as_deref(), Some("stall"));
    // Shutting down does not wait for the 30 s stall.
    tokio::time::timeout(Duration::from_secs(5), sb.shutdown())
        .await
        .expect("shutdown is prompt");
}

#[tokio::test]
async fn latency_delays_every_answer_by_the_drawn_amount() {
    let sb = sandbox_with(faulty("latency=150..150ms", 3)).await;
    let api = Api::new(&sb);
    let started = Instant::now();
    let (status, _) = api.get("/v1/ping").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

// Journal

#[tokio::test]
async fn journal_records_requests_exactly_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let sb = sandbox_with(SandboxConfig {
        rate_limit: 0,
        journal: Some(path.clone()),
        ..SandboxConfig::default()
    })
    .await;
    let client = Client::new();
    let raw = "{ \"phone_numbers\" : [ {\"label\":\"W\",\"value\":\"+33612345678\"} ] }\n";
    let response = client
        .post(format!("{}/v1/contacts?source=test", sb.url()))
        .basic_auth("sandbox-id", Some("sandbox-token"))
        .header("Content-Type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    client
        .get(format!("{}/v1/ping", sb.url()))
        .bearer_auth("sandbox-bearer")
        .send()
        .await
        .unwrap();
    client
        .get(format!("{}/v1/ping", sb.url()))
        .send()
        .await
        .unwrap();

    let journal = sb.journal();
    assert_eq!(journal.len(), 3);
    let first = &journal[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/contacts");
    assert_eq!(first.query.as_deref(), Some("source=test"));
    assert_eq!(first.body, raw, "the body exactly as received");
    assert_eq!(first.status, JournalStatus::Answered(201));
    assert_eq!(first.headers["authorization"], "Basic •••");
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(journal[1].headers["authorization"], "Bearer •••");
    assert_eq!(journal[2].status, JournalStatus::Answered(401));

    let over_http = read_json(
        client
            .get(format!("{}/_sandbox/journal", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        over_http.as_array().unwrap().len(),
        3,
        "journal reads are not journaled"
    );
    assert_eq!(over_http[0]["status"], 201);
    assert_eq!(over_http[0]["body"], raw);

    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file.lines().count(), 3);
    assert!(!file.contains("sandbox-token") && !file.contains("c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu"));
    assert!(!file.contains("sandbox-bearer"));
    let line: Value = serde_json::from_str(file.lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], 201);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let reset = client
        .delete(format!("{}/_sandbox/journal", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert!(sb.journal().is_empty());
    client
        .get(format!("{}/v1/ping", sb.url()))
        .bearer_auth("sandbox-bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(sb.journal().len(), 1);
    sb.reset_journal();
    assert!(sb.journal().is_empty());
}

#[tokio::test]
async fn state_introspection_and_reset() {
    let sb = sandbox().await;
    let api = Api::new(&sb);
    api.post("/v1/contacts", contact_body("+33612345678")).await;
    let client = Client::new();
    let state = read_json(
        client
            .get(format!("{}/_sandbox/state", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(state["contacts"]["1"]["first_name"], "Ada");
    let reset = client
        .delete(format!("{}/_sandbox/state", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(sb.state()["contacts"], json!({}));
    let (_, body) = api.post("/v1/contacts", contact_body("+33612345678")).await;
    assert_eq!(body["contact"]["id"], 1, "ids start again after a reset");
}

// Lifecycle

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sandboxes_start_concurrently_and_stop() {
    let started =
        futures::future::join_all((0..16).map(|_| sandbox::start(SandboxConfig::default()))).await;
    let sandboxes: Vec<Sandbox> = started.into_iter().map(|s| s.unwrap()).collect();
    let mut ports: Vec<u16> = sandboxes.iter().map(|s| s.addr.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 16);
    let client = Client::new();
    for sb in &sandboxes {
        let r = client
            .get(format!("{}/v1/ping", sb.url()))
            .bearer_auth("sandbox-bearer")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let mut sandboxes = sandboxes;
    let last = sandboxes.pop().unwrap();
    let url = last.url();
    last.shutdown().await;
    let after = Client::new().get(format!("{url}/v1/ping")).send().await;
    assert!(after.is_err(), "nothing listens after shutdown");
    drop(sandboxes);
}

#[test]
fn the_binary_prints_its_address_first_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(assert_cmd::cargo::cargo_bin("aircall-dest"))
        .args(["sandbox", "--addr", "127.0.0.1:0", "--rate-limit", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("first line names the address")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        Client::new()
            .get(format!("{url}/v1/ping"))
            .bearer_auth("sandbox-bearer")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the sandbox did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn bad_fault_specs_are_usage_errors() {
    assert_cmd::Command::cargo_bin("aircall-dest")
        .unwrap()
        .args(["sandbox", "--fault", "500=2"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("between 0 and 1"));
}
