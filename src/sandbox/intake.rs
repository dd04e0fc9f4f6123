//! What every API request goes through before a route sees it: the journal, authentication,
//! the JSON Content-Type Aircall asks of every POST, PUT, PATCH and DELETE, the rate limit and
//! the fault plan. `/_sandbox/*` skips all of it.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use super::answer::ApiError;
use super::fault::FaultAction;
use super::journal::{JournalEntry, JournalStatus};
use super::rate_limit::Admission;
use super::server::ConnectionControl;

/// Largest request body the sandbox reads.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

pub async fn intake(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let seq = app.journal.next_seq();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut entry =
                JournalEntry::received(seq, &parts.method, &parts.uri, &parts.headers, b"");
            let error = ApiError::payload_too_large(format!("The body exceeds {MAX_BODY} bytes"));
            entry.status = JournalStatus::Answered(error.status.as_u16());
            app.journal.record(entry);
            return error.into_response();
        }
    };
    let mut entry = JournalEntry::received(seq, &parts.method, &parts.uri, &parts.headers, &bytes);
    let control = parts.extensions.get::<ConnectionControl>().cloned();

    if let Err(error) = app.credentials.check(&parts.headers) {
        return answer(&app, entry, error.into_response(), None);
    }
    if let Err(error) = check_content_type(&parts.method, &parts.headers) {
        return answer(&app, entry, error.into_response(), None);
    }

    let admission = app.limiter.as_ref().map(|limiter| {
        limiter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(Instant::now())
    });
    if let Some(admission) = admission.filter(|a| !a.allowed) {
        let error = ApiError::too_many_requests(format!(
            "The sandbox allows {} requests per minute per company; retry after the time in X-AircallApi-Reset",
            admission.limit
        ));
        return answer(&app, entry, error.into_response(), Some(admission));
    }

    let decision = app.faults.as_ref().map(|plan| plan.decide());
    let action = decision.map_or(FaultAction::Serve, |d| d.action);
    entry.fault = action.name();
    if let Some(latency) = decision.map(|d| d.latency).filter(|l| !l.is_zero()) {
        tokio::time::sleep(latency).await;
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    match action {
        FaultAction::Serve => {
            let response = next.run(request).await;
            answer(&app, entry, response, admission)
        }
        FaultAction::Error(status) => {
            let mut response = ApiError::injected(status).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                // An injected 429 looks like a real one: nothing left, come back in a second.
                let limit = admission.map_or(app.config_limit(), |a| a.limit);
                put_limit_headers(response.headers_mut(), limit, 0, unix_seconds_after(1.0));
                return answer(&app, entry, response, None);
            }
            answer(&app, entry, response, admission)
        }
        FaultAction::Drop => drop_connection(&app, entry, control).await,
        FaultAction::Stall(duration) => {
            // Recorded now, not after the stall, so a test can see it while the client waits.
            entry.status = JournalStatus::Dropped;
            app.journal.record(entry);
            tokio::time::sleep(duration).await;
            close(control).await
        }
        FaultAction::ApplyThenDrop => {
            let _applied = next.run(request).await;
            drop_connection(&app, entry, control).await
        }
    }
}

/// Aircall's reference: "Every POST, PUT and DELETE ... must specify the Content-Type entity
/// header to application/json", with a body or without one. PATCH is held to the same rule.
fn check_content_type(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if !matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return Ok(());
    }
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = value.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else if value.is_empty() {
        Err(ApiError::unsupported_media_type(format!(
            "{method} requests must specify Content-Type: application/json, with or without a body"
        )))
    } else {
        Err(ApiError::unsupported_media_type(format!(
            "Content-Type is {value:?}; {method} requests must specify application/json"
        )))
    }
}

async fn drop_connection(
    app: &App,
    mut entry: JournalEntry,
    control: Option<ConnectionControl>,
) -> Response {
    entry.status = JournalStatus::Dropped;
    app.journal.record(entry);
    close(control).await
}

/// Asks the connection's task to close the socket, then waits to be dropped with it.
async fn close(control: Option<ConnectionControl>) -> Response {
    match control {
        Some(control) => {
            control.close();
            std::future::pending::<Response>().await
        }
        // Only reachable if the router is served by something else than `server::serve`.
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn answer(
    app: &App,
    mut entry: JournalEntry,
    mut response: Response,
    admission: Option<Admission>,
) -> Response {
    if let Some(admission) = admission {
        let reset = unix_seconds_after(admission.reset_after.as_secs_f64());
        put_limit_headers(
            response.headers_mut(),
            admission.limit,
            admission.remaining,
            reset,
        );
    }
    entry.status = JournalStatus::Answered(response.status().as_u16());
    app.journal.record(entry);
    response
}

fn put_limit_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    headers.insert("x-aircallapi-limit", HeaderValue::from(limit));
    headers.insert("x-aircallapi-remaining", HeaderValue::from(remaining));
    headers.insert("x-aircallapi-reset", HeaderValue::from(reset));
}

/// UNIX seconds, rounded up so that waiting until then is always long enough.
fn unix_seconds_after(seconds: f64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    (now + seconds).ceil() as u64
}
