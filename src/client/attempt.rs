//! The attempt loop, once: wait for a rate-limit slot, send, classify the answer, then wait as
//! the policy says (or give up) — and stop waiting the moment the run is stopped, so no request
//! starts after a stop. Delivery, reconcile lookups, sync, and the one-off sends (send-test,
//! the wizard's Send Test, a credential's ping) all step through it.

use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use tokio::sync::watch;

use super::{Action, Answer, HttpClient, Next, RateLimiter, Response, RetryPolicy, SendError};
use crate::request::Request;

/// Sends `request` once, as a test does (`send-test`, the wizard's Send Test, a ping): attempt 1
/// of the attempt loop, with no pacing and no retry, its answer classified as a run's would be
/// (so a 401/403 reads as it does in `run`). `credential` names the credential for that message.
pub async fn send_once(http: &HttpClient, credential: &str, request: &Request) -> Tried {
    let limiter = RateLimiter::new(0, 1);
    let policy = RetryPolicy::once();
    // Nothing stops a single send but its caller dropping it.
    let (_keep, stop) = watch::channel(false);
    let sent = std::sync::atomic::AtomicU64::new(0);
    let observe = |_: &Request, _: u32, _: &Result<Response, SendError>| {};
    let attempts = Attempts {
        http,
        limiter: &limiter,
        policy: &policy,
        credential,
        fallback: Duration::ZERO,
        stop,
        observe: &observe,
        sent: &sent,
    };
    attempts.slot().await;
    attempts.send(request, 1).await
}

/// Sees every attempt that was sent (for counting and the response capture).
pub type Observer<'a> = dyn Fn(&Request, u32, &Result<Response, SendError>) + Send + Sync + 'a;

/// What every attempt of a run shares.
pub struct Attempts<'a> {
    pub http: &'a HttpClient,
    pub limiter: &'a RateLimiter,
    pub policy: &'a RetryPolicy,
    /// The credential's name, for the message of a 401/403.
    pub credential: &'a str,
    /// Pause after a 429 without reset headers.
    pub fallback: Duration,
    /// Becomes true when the run is stopped.
    pub stop: watch::Receiver<bool>,
    pub observe: &'a Observer<'a>,
    /// Counts each attempt as it goes on the wire, before its answer: a run stopped at once
    /// still counts the requests it had out.
    pub sent: &'a std::sync::atomic::AtomicU64,
}

/// One attempt that was sent, and what it means.
pub struct Tried {
    pub result: Result<Response, SendError>,
    pub action: Action,
}

impl Tried {
    pub fn status(&self) -> Option<u16> {
        self.result.as_ref().ok().map(|r| r.status)
    }

    /// The last thing that went wrong, for messages: a status or a transport error.
    pub fn last(&self) -> String {
        match &self.result {
            Ok(response) => format!("status {}", response.status),
            Err(err) => format!("{}: {}", err.kind.describe(), err.message),
        }
    }
}

/// What to do after a retryable attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    /// Waited as the policy asked: attempt again.
    Again,
    /// The run was stopped while waiting.
    Stopped,
    /// The policy's bounds are reached.
    GiveUp(String),
}

impl Attempts<'_> {
    /// Whether the run has been stopped.
    pub fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once the run is stopped (never, if the stop signal is gone without one).
    pub async fn until_stopped(&self) {
        let mut stop = self.stop.clone();
        if stop.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits for a rate-limit slot; false when the run was stopped first (or meanwhile), in
    /// which case nothing may be sent.
    pub async fn slot(&self) -> bool {
        tokio::select! {
            biased;
            () = self.until_stopped() => false,
            () = self.limiter.acquire() => !self.stopped(),
        }
    }

    /// Sends attempt number `attempt` of `request` (after [`Attempts::slot`]) and classifies it.
    pub async fn send(&self, request: &Request, attempt: u32) -> Tried {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let result = self.http.send(request).await;
        (self.observe)(request, attempt, &result);
        let answer = result
            .as_ref()
            .map(|r| Answer {
                status: r.status,
                headers: &r.headers,
            })
            .map_err(|e| e.kind);
        let action = super::classify(
            answer,
            request.method.is_idempotent(),
            self.credential,
            SystemTime::now(),
            self.fallback,
        );
        Tried { result, action }
    }

    /// Sleeps `wait`; false when the run was stopped meanwhile.
    pub async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            biased;
            () = self.until_stopped() => false,
            () = tokio::time::sleep(wait) => true,
        }
    }

    /// After a retryable attempt (`after`: the server's own wait, from a 429), waits as the
    /// policy says — a server wait pauses every sender — or gives up.
    pub async fn retry_wait(
        &self,
        after: Option<Duration>,
        attempt: u32,
        first: tokio::time::Instant,
        rng: &mut StdRng,
    ) -> Then {
        match self.policy.next(after, attempt, first.elapsed(), rng) {
            Next::Wait { wait, pause: true } => {
                self.limiter.pause_until(tokio::time::Instant::now() + wait);
                Then::Again
            }
            Next::Wait { wait, pause: false } => {
                if self.sleep(wait).await {
                    Then::Again
                } else {
                    Then::Stopped
                }
            }
            Next::GiveUp(reason) => Then::GiveUp(reason),
        }
    }

    /// Sends an idempotent request (a lookup) until it has an answer: a 2xx or a 404 is one;
    /// anything else that does not come right in the end is the reason it failed.
    pub async fn answer(&self, request: &Request, rng: &mut StdRng) -> Result<Response, String> {
        let first = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if !self.slot().await {
                return Err(format!("GET {}: the run was stopped", request.url));
            }
            let tried = self.send(request, attempt).await;
            let after = match tried.action {
                Action::Success => return tried.result.map_err(|e| e.message),
                Action::Reject => {
                    let last = tried.last();
                    return match tried.result {
                        Ok(response) if response.status == 404 => Ok(response),
                        _ => Err(format!("GET {} was refused ({last})", request.url)),
                    };
                }
                Action::Fatal { message } => return Err(message),
                // A GET: resending it is always safe.
                Action::InDoubt => None,
                Action::Retry { after } => after,
            };
            match self.retry_wait(after, attempt, first, rng).await {
                Then::Again => {}
                Then::Stopped => return Err(format!("GET {}: the run was stopped", request.url)),
                Then::GiveUp(reason) => {
                    return Err(format!(
                        "GET {}: {reason}; last: {}",
                        request.url,
                        tried.last()
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::destination::{Delivery, Method};

    /// A server answering every request with `status_line`; counts the requests it read.
    async fn server(status_line: &'static str) -> (String, Arc<AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let counted = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        counted.fetch_add(1, Ordering::SeqCst);
                        let answer = format!("{status_line}\r\ncontent-length: 2\r\n\r\n{{}}");
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), seen)
    }

    fn post(base: &str) -> Request {
        Request {
            method: Method::Post,
            url: format!("{base}/v1/contacts"),
            headers: vec![("Content-Type".into(), "application/json".into())],
            auth: true,
            body: Some("{}".into()),
            records: vec![crate::records::RecordNo(1)],
            warnings: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_test_send_is_sent_once_and_judged_as_a_run_would() {
        let client = HttpClient::new(&Delivery::default(), None).unwrap();

        let (base, seen) = server("HTTP/1.1 403 Forbidden").await;
        let tried = send_once(&client, "prod", &post(&base)).await;
        assert_eq!(tried.status(), Some(403));
        match &tried.action {
            Action::Fatal { message } => {
                assert!(message.contains("403 Forbidden"), "{message}");
                assert!(message.contains("\"prod\""), "{message}");
            }
            other => panic!("a 403 stops a run, got {other:?}"),
        }
        assert_eq!(seen.load(Ordering::SeqCst), 1);

        // A run would retry a 503; a test send reports it and sends nothing more.
        let (base, seen) = server("HTTP/1.1 503 Service Unavailable").await;
        let tried = send_once(&client, "prod", &post(&base)).await;
        assert_eq!(tried.action, Action::Retry { after: None });
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
