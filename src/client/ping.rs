//! Checking a credential: `GET /v1/ping` against its base URL, with the outcome told apart the
//! way a person needs to fix it (missing header, wrong pair, unreachable host, success).

use std::time::Duration;

use super::http::HttpClient;
use super::retry::TransportError;
use crate::credentials::Credential;
use crate::destination::Method;
use crate::request::{Request, USER_AGENT};

/// What `GET /v1/ping` said about a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingOutcome {
    /// 2xx: the credential works.
    Ok { latency: Duration },
    /// 401: the API saw no usable `Authorization` header.
    MissingHeader,
    /// 403: the API ID and token (or the Bearer token) were refused.
    Refused,
    /// No connection could be made, or no answer came.
    Unreachable { message: String },
    /// Any other answer.
    Unexpected { status: u16, body: String },
    /// The token could not be resolved (environment variable unset, command failed).
    Token { message: String },
}

impl PingOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, PingOutcome::Ok { .. })
    }

    /// One line for a person, naming the credential and what to do.
    pub fn describe(&self, credential: &Credential) -> String {
        let name = &credential.name;
        let base = &credential.base_url;
        match self {
            PingOutcome::Ok { latency } => {
                format!(
                    "credential {name:?} works: GET {base}/v1/ping answered 200 in {} ms",
                    latency.as_millis()
                )
            }
            PingOutcome::MissingHeader => format!(
                "credential {name:?}: {base} answered 401 — it received no usable Authorization header \
                 (a proxy may strip it, or the base URL is not the Aircall API)"
            ),
            PingOutcome::Refused => format!(
                "credential {name:?}: {base} answered 403 — the API ID and token pair was refused; check both \
                 (Aircall dashboard → Integrations & API → API keys), then `aircall-dest credentials add {name} …` again"
            ),
            PingOutcome::Unreachable { message } => {
                format!("credential {name:?}: cannot reach {base}: {message}")
            }
            PingOutcome::Unexpected { status, body } => {
                format!(
                    "credential {name:?}: GET {base}/v1/ping answered {status} (expected 200): {body}"
                )
            }
            PingOutcome::Token { message } => message.clone(),
        }
    }
}

/// Calls `GET <base_url>/v1/ping` once with the credential (10 s timeout, no retries).
pub async fn ping(credential: &Credential) -> PingOutcome {
    let authorization = match credential.authorization() {
        Ok(authorization) => authorization,
        Err(err) => {
            return PingOutcome::Token {
                message: err.to_string(),
            };
        }
    };
    let client = match HttpClient::with_timeouts(
        Duration::from_secs(10),
        Duration::from_secs(5),
        Some(&authorization),
    ) {
        Ok(client) => client,
        Err(err) => {
            return PingOutcome::Token {
                message: err.to_string(),
            };
        }
    };
    let request = Request {
        method: Method::Get,
        url: format!("{}/v1/ping", credential.base_url.trim_end_matches('/')),
        headers: vec![
            ("Accept".into(), "application/json".into()),
            ("User-Agent".into(), USER_AGENT.into()),
        ],
        auth: true,
        body: None,
        records: Vec::new(),
        warnings: Vec::new(),
    };
    match super::send_once(&client, &credential.name, &request)
        .await
        .result
    {
        Ok(response) => match response.status {
            200..=299 => PingOutcome::Ok {
                latency: response.latency,
            },
            401 => PingOutcome::MissingHeader,
            403 => PingOutcome::Refused,
            status => PingOutcome::Unexpected {
                status,
                body: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect(),
            },
        },
        Err(err) => {
            let what = match err.kind {
                TransportError::Connect => "connection failed",
                TransportError::Timeout => "no answer within 10 s",
                TransportError::Dropped => "the connection dropped",
            };
            PingOutcome::Unreachable {
                message: format!("{what} ({})", err.message),
            }
        }
    }
}
