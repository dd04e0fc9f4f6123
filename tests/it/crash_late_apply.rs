//! A crash followed by an immediate restart, against a server that keeps working on a request
//! after its client is gone (as a real API does; the sandbox stops when the client hangs up).
//! The rerun must find the creates that land after it started, not send them again.

use crate::crash_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crash_support::{Bench, Program};

const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

/// How long the server takes to apply a create, whether or not its client still waits.
const LAND_AFTER: Duration = Duration::from_millis(800);

#[derive(Default)]
struct Server {
    received: AtomicUsize,
    contacts: Mutex<Vec<Value>>,
}

async fn create(State(server): State<Arc<Server>>, body: Bytes) -> (StatusCode, String) {
    server.received.fetch_add(1, Ordering::SeqCst);
    let contact: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // A task of its own: dropping this handler when the client hangs up does not stop it.
    let landing = tokio::spawn(async move {
        tokio::time::sleep(LAND_AFTER).await;
        let mut contacts = server.contacts.lock().unwrap_or_else(|p| p.into_inner());
        let mut contact = contact;
        contact["id"] = json!(contacts.len() + 1);
        contacts.push(contact.clone());
        contact
    });
    match landing.await {
        Ok(contact) => (
            StatusCode::CREATED,
            json!({ "contact": contact }).to_string(),
        ),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    }
}

async fn search(
    State(server): State<Arc<Server>>,
    Query(query): Query<Vec<(String, String)>>,
) -> String {
    let phone = query
        .iter()
        .find(|(k, _)| k == "phone_number")
        .map(|(_, v)| v.clone());
    let contacts = server.contacts.lock().unwrap_or_else(|p| p.into_inner());
    let found: Vec<&Value> = contacts
        .iter()
        .filter(|c| {
            c["phone_numbers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|d| d["value"].as_str() == phone.as_deref())
        })
        .collect();
    json!({ "meta": { "count": found.len(), "next_page_link": null }, "contacts": found })
        .to_string()
}

#[test]
fn creates_landing_after_a_crash_are_found_by_the_restarted_run_not_sent_again() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = Arc::new(Server::default());
    let router = Router::new()
        .route("/v1/contacts", post(create))
        .route("/v1/contacts/search", get(search))
        .with_state(server.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(async move { axum::serve(listener, router).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let records = 3;
    let mut bench = Bench::new(
        dir.path(),
        Program::new(BIN),
        &base,
        records,
        "rate_limit_per_minute = 0\nconcurrency = 3\nrequest_timeout_secs = 2",
    );

    // Kill the run as soon as all three creates have reached the server, long before they land.
    let (mut child, _, _) = bench.start_run(&[]);
    let started = std::time::Instant::now();
    while server.received.load(Ordering::SeqCst) < records {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the creates never arrived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert!(
        server.contacts.lock().unwrap().is_empty(),
        "killed before anything landed"
    );

    // Restart at once, as a supervisor would.
    let rerun = bench.run(&[], Duration::from_secs(60));
    assert_eq!(rerun.status.code(), Some(0), "{}", rerun.stderr);
    let summary = rerun.summary().expect("summary");
    assert_eq!(summary["delivered"], records as u64, "{summary}");
    assert!(
        rerun
            .stderr
            .contains("looked up 3 in-doubt create(s) at the API: 3 already existed"),
        "{}",
        rerun.stderr
    );
    assert_eq!(
        server.received.load(Ordering::SeqCst),
        records,
        "no create was sent twice"
    );
    assert_eq!(server.contacts.lock().unwrap().len(), records);
}
