//! One sync request through the client's one attempt loop ([`Attempts`]): paced by the rate
//! limiter, retried as the retry policy says, stopped with the run, and ended as applied,
//! refused, fatal or in doubt. Counts what it spent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use tokio::sync::watch;

use crate::client::{
    Action, Attempts, HttpClient, RateLimiter, Response, RetryPolicy, SendError, Then,
};
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
    /// The run was stopped before the request (or its next attempt) left: not applied.
    Stopped,
}

/// Requests spent, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub requests: u64,
    pub retries: u64,
    pub http_429: u64,
}

/// Sends sync requests; shared by the keys in flight (every method takes `&self`).
pub struct Sender {
    client: HttpClient,
    limiter: RateLimiter,
    policy: RetryPolicy,
    credential: String,
    fallback: Duration,
    stop: watch::Receiver<bool>,
    /// Seeds each request's own jitter generator (requests in flight cannot share one).
    seed: u64,
    sends: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    http_429: AtomicU64,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("spent", &self.spent())
            .finish()
    }
}

impl Sender {
    pub fn new(
        client: HttpClient,
        delivery: &crate::destination::Delivery,
        credential: &str,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            client,
            limiter: RateLimiter::new(delivery.rate_limit_per_minute, delivery.burst),
            policy: RetryPolicy::from_delivery(delivery),
            credential: credential.to_string(),
            fallback: Duration::from_secs(delivery.rate_limit_fallback_secs),
            stop,
            seed: rand::RngCore::next_u64(&mut StdRng::from_os_rng()),
            sends: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            http_429: AtomicU64::new(0),
        }
    }

    pub fn spent(&self) -> Spent {
        Spent {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            http_429: self.http_429.load(Ordering::Relaxed),
        }
    }

    /// Sends `request` until it is applied, refused, in doubt or the run is stopped.
    pub async fn send(&self, request: &Request) -> Sent {
        let nth = self.sends.fetch_add(1, Ordering::Relaxed);
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(nth));
        let observe = |_: &Request, _: u32, result: &Result<Response, SendError>| {
            if matches!(result, Ok(response) if response.status == 429) {
                self.http_429.fetch_add(1, Ordering::Relaxed);
            }
        };
        let attempts = Attempts {
            http: &self.client,
            limiter: &self.limiter,
            policy: &self.policy,
            credential: &self.credential,
            fallback: self.fallback,
            stop: self.stop.clone(),
            observe: &observe,
            sent: &self.requests,
        };
        let first = tokio::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if !attempts.slot().await {
                return Sent::Stopped;
            }
            let tried = attempts.send(request, attempt).await;
            let status = tried.status();
            let message = match &tried.result {
                Ok(response) => format!("HTTP {}: {}", response.status, excerpt(&response.body)),
                Err(_) => tried.last(),
            };
            match tried.action {
                Action::Success => {
                    let body = tried
                        .result
                        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
                        .unwrap_or(Value::Null);
                    return Sent::Applied {
                        status: status.unwrap_or(200),
                        body,
                    };
                }
                Action::Reject => return Sent::Refused { status, message },
                Action::Fatal { message } => return Sent::Fatal(message),
                Action::InDoubt => return Sent::InDoubt(message),
                Action::Retry { after } => {
                    match attempts.retry_wait(after, attempt, first, &mut rng).await {
                        Then::Again => {
                            self.retries.fetch_add(1, Ordering::Relaxed);
                        }
                        Then::Stopped => return Sent::Stopped,
                        Then::GiveUp(reason) => {
                            return Sent::Refused {
                                status,
                                message: format!("{message}; {reason}"),
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
