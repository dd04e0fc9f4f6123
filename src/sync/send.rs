//! One sync request through the client: paced by the rate limiter, retried as the retry policy
//! says, and ended as applied, refused, fatal or in doubt. Counts what it spent.

use std::time::{Duration, Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::client::http::HttpClient;
use crate::client::limiter::RateLimiter;
use crate::client::retry::{self, Action, Answer, Next, RetryPolicy};
use crate::request::Request;

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// 2xx; the body as JSON (`Null` when empty or not JSON).
    Applied { status: u16, body: Value },
    /// The API refused it for good (or retries ran out): the status when one came, and why.
    Refused {
        status: Option<u16>,
        message: String,
    },
    /// Nothing more can succeed with this credential.
    Fatal(String),
    /// No answer, and a non-idempotent request may have been applied.
    InDoubt(String),
}

/// Requests spent, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub requests: u64,
    pub retries: u64,
    pub http_429: u64,
}

/// Sends sync requests one at a time.
pub struct Sender {
    client: HttpClient,
    limiter: RateLimiter,
    policy: RetryPolicy,
    credential: String,
    fallback: Duration,
    rng: StdRng,
    pub spent: Spent,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("spent", &self.spent)
            .finish()
    }
}

impl Sender {
    pub fn new(
        client: HttpClient,
        delivery: &crate::destination::Delivery,
        credential: &str,
    ) -> Self {
        Self {
            client,
            limiter: RateLimiter::new(delivery.rate_limit_per_minute, delivery.burst),
            policy: RetryPolicy::from_delivery(delivery),
            credential: credential.to_string(),
            fallback: Duration::from_secs(delivery.rate_limit_fallback_secs),
            rng: StdRng::from_os_rng(),
            spent: Spent::default(),
        }
    }

    /// Sends `request` until it is applied, refused or in doubt.
    pub async fn send(&mut self, request: &Request) -> Sent {
        let started = Instant::now();
        let idempotent = request.method.is_idempotent();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            self.spent.requests += 1;
            let result = self.client.send(request).await;
            let (action, status, body, failure) = match &result {
                Ok(response) => (
                    retry::classify(
                        Ok(Answer {
                            status: response.status,
                            headers: &response.headers,
                        }),
                        idempotent,
                        &self.credential,
                        SystemTime::now(),
                        self.fallback,
                    ),
                    Some(response.status),
                    response.body.as_slice(),
                    String::new(),
                ),
                Err(err) => (
                    retry::classify(
                        Err(err.kind),
                        idempotent,
                        &self.credential,
                        SystemTime::now(),
                        self.fallback,
                    ),
                    None,
                    &[][..],
                    format!("{}: {}", err.kind.describe(), err.message),
                ),
            };
            let message = || match status {
                Some(status) => format!("HTTP {status}: {}", excerpt(body)),
                None => failure.clone(),
            };
            match action {
                Action::Success => {
                    return Sent::Applied {
                        status: status.unwrap_or(200),
                        body: serde_json::from_slice(body).unwrap_or(Value::Null),
                    };
                }
                Action::Reject => {
                    return Sent::Refused {
                        status,
                        message: message(),
                    };
                }
                Action::Fatal { message } => return Sent::Fatal(message),
                Action::InDoubt => return Sent::InDoubt(message()),
                Action::Retry { after } => {
                    if status == Some(429) {
                        self.spent.http_429 += 1;
                    }
                    match self
                        .policy
                        .next(after, attempt, started.elapsed(), &mut self.rng)
                    {
                        Next::Wait { wait, pause } => {
                            if pause {
                                self.limiter.pause_until(tokio::time::Instant::now() + wait);
                            } else {
                                tokio::time::sleep(wait).await;
                            }
                            self.spent.retries += 1;
                        }
                        Next::GiveUp(reason) => {
                            return Sent::Refused {
                                status,
                                message: format!("{}; {reason}", message()),
                            };
                        }
                    }
                }
            }
        }
    }
}

/// The start of an answer body for a message: its `message`/`troubleshoot` when JSON, else text.
fn excerpt(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        for key in ["message", "error", "troubleshoot"] {
            if let Some(text) = value.get(key).and_then(Value::as_str) {
                return text.chars().take(300).collect();
            }
        }
    }
    String::from_utf8_lossy(body).chars().take(300).collect()
}
