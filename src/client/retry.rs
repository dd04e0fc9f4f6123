//! The retry policy: what one attempt's response (or transport error) means, and how long to
//! wait before the next attempt. One place decides; the runner and send-test only obey.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;

use crate::destination::Delivery;

/// What went wrong below HTTP, as far as it matters for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// The connection could not be made: the request never left, so resending is always safe.
    Connect,
    /// No answer in time. The server may have received and applied the request.
    Timeout,
    /// The connection broke after the request was (maybe) written: it may have been applied.
    Dropped,
}

impl TransportError {
    /// Whether the server may have applied the request although no answer came back.
    pub fn maybe_applied(self) -> bool {
        !matches!(self, TransportError::Connect)
    }

    pub fn describe(self) -> &'static str {
        match self {
            TransportError::Connect => "could not connect",
            TransportError::Timeout => "timed out waiting for the answer",
            TransportError::Dropped => "the connection dropped before the answer",
        }
    }
}

/// The parts of an answer the policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    /// Response headers, names in any case.
    pub headers: &'a [(String, String)],
}

impl Answer<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// What an attempt means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 2xx: the request was applied.
    Success,
    /// Worth another attempt. `after` is the server's own wait (429), which pauses every sender.
    Retry { after: Option<Duration> },
    /// The API refused this request for good (a 4xx other than 401, 403, 408, 429): dead letter.
    Reject,
    /// Nothing more can succeed with these credentials: stop the run.
    Fatal { message: String },
    /// No answer, and the request may have been applied: resending a non-idempotent request
    /// could apply it twice, so what happens next is the in-doubt decision's call.
    InDoubt,
}

/// Classifies one attempt. `idempotent` says whether resending after an unknown outcome is safe;
/// `credential` names the credential for the fatal message; `now` reads `X-AircallApi-Reset`.
pub fn classify(
    result: Result<Answer<'_>, TransportError>,
    idempotent: bool,
    credential: &str,
    now: SystemTime,
    fallback: Duration,
) -> Action {
    let answer = match result {
        Ok(answer) => answer,
        Err(error) if error.maybe_applied() && !idempotent => return Action::InDoubt,
        Err(_) => return Action::Retry { after: None },
    };
    match answer.status {
        200..=299 => Action::Success,
        401 => Action::Fatal {
            message: format!(
                "the API answered 401 Unauthorized: the request carried no usable Authorization header; \
                 check credential {credential:?} (`aircall-dest credentials verify {credential}`)"
            ),
        },
        403 => Action::Fatal {
            message: format!(
                "the API answered 403 Forbidden: credential {credential:?} was refused (wrong API ID and \
                 token pair, or a revoked token); check it with `aircall-dest credentials verify {credential}`"
            ),
        },
        429 => Action::Retry {
            after: Some(rate_limit_wait(&answer, now).unwrap_or(fallback)),
        },
        408 => Action::Retry { after: None },
        501 => Action::Reject,
        500..=599 => Action::Retry { after: None },
        // 1xx and 3xx never end a request in reqwest (redirects are followed, or refused and
        // reported); seeing one here means the server misbehaved, so the request is not retried.
        _ => Action::Reject,
    }
}

/// The wait a 429 asks for: `X-AircallApi-Reset` (a UNIX time in seconds, or milliseconds when
/// ≥ 1e12), else `Retry-After` (seconds or an HTTP date). `None` when neither is usable.
pub fn rate_limit_wait(answer: &Answer<'_>, now: SystemTime) -> Option<Duration> {
    if let Some(reset) = answer
        .header("x-aircallapi-reset")
        .and_then(|v| v.parse::<f64>().ok())
        && reset.is_finite()
        && reset >= 0.0
    {
        let at = if reset >= 1e12 {
            UNIX_EPOCH + Duration::from_secs_f64(reset / 1000.0)
        } else {
            UNIX_EPOCH + Duration::from_secs_f64(reset)
        };
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    let retry_after = answer.header("retry-after")?;
    if let Ok(seconds) = retry_after.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(retry_after).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Backoff and bounds, from the destination's `[delivery]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub max_total: Duration,
    pub initial: Duration,
    pub max_backoff: Duration,
    /// Waits a 429 asks for are capped here, so a wrong clock or header cannot stall a run for days.
    pub max_pause: Duration,
}

impl RetryPolicy {
    pub fn from_delivery(delivery: &Delivery) -> Self {
        Self {
            max_attempts: delivery.max_attempts.max(1),
            max_total: Duration::from_secs(delivery.max_retry_secs),
            initial: Duration::from_millis(delivery.backoff_initial_ms),
            max_backoff: Duration::from_millis(
                delivery.backoff_max_ms.max(delivery.backoff_initial_ms),
            ),
            max_pause: Duration::from_secs(delivery.max_retry_secs.max(1)),
        }
    }

    /// One attempt and no wait: for a send that is tried once (a test send, a ping).
    pub fn once() -> Self {
        Self {
            max_attempts: 1,
            max_total: Duration::ZERO,
            initial: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_pause: Duration::ZERO,
        }
    }

    /// Capped exponential backoff with full jitter: uniform in `[0, min(max, initial·2^(n-1))]`
    /// after attempt `n`, so senders that failed together do not come back together.
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(0..=millis))
    }

    /// After `attempt` attempts over `elapsed`, what to do with a `Retry` action: wait this long
    /// (`pause` says whether every sender pauses), or give up with the reason.
    ///
    /// A 429 is bounded by the total time only: a rate limit says "later", not "no", and counting
    /// it as a failed attempt would dead-letter good records whenever the account is busy.
    pub fn next(
        &self,
        after: Option<Duration>,
        attempt: u32,
        elapsed: Duration,
        rng: &mut impl Rng,
    ) -> Next {
        if after.is_none() && attempt >= self.max_attempts {
            return Next::GiveUp(format!("gave up after {attempt} attempts"));
        }
        let (wait, pause) = match after {
            Some(wait) => (wait.min(self.max_pause), true),
            None => (self.backoff(attempt, rng), false),
        };
        if elapsed + wait > self.max_total {
            return Next::GiveUp(format!(
                "gave up after {attempt} attempts: the next one would pass the {}s retry limit",
                self.max_total.as_secs()
            ));
        }
        Next::Wait { wait, pause }
    }
}

/// The step after a retryable attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Wait { wait: Duration, pause: bool },
    GiveUp(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const FALLBACK: Duration = Duration::from_secs(60);

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn status(code: u16, idempotent: bool) -> Action {
        classify(
            Ok(Answer {
                status: code,
                headers: &[],
            }),
            idempotent,
            "prod",
            now(),
            FALLBACK,
        )
    }

    #[test]
    fn status_table() {
        let retry = Action::Retry { after: None };
        let table: &[(u16, &str)] = &[
            (200, "success"),
            (201, "success"),
            (204, "success"),
            (400, "reject"),
            (401, "fatal"),
            (403, "fatal"),
            (404, "reject"),
            (405, "reject"),
            (408, "retry"),
            (409, "reject"),
            (422, "reject"),
            (429, "pause"),
            (500, "retry"),
            (501, "reject"),
            (502, "retry"),
            (503, "retry"),
            (504, "retry"),
            (599, "retry"),
            (302, "reject"),
        ];
        for &(code, expected) in table {
            for idempotent in [true, false] {
                let action = status(code, idempotent);
                let got = match &action {
                    Action::Success => "success",
                    Action::Reject => "reject",
                    Action::Fatal { .. } => "fatal",
                    Action::Retry { after: None } => "retry",
                    Action::Retry { after: Some(_) } => "pause",
                    Action::InDoubt => "in doubt",
                };
                assert_eq!(got, expected, "status {code}");
                if expected == "retry" {
                    assert_eq!(action, retry);
                }
            }
        }
    }

    #[test]
    fn fatal_messages_name_the_credential_and_tell_401_from_403() {
        let Action::Fatal { message: m401 } = status(401, false) else {
            panic!()
        };
        let Action::Fatal { message: m403 } = status(403, false) else {
            panic!()
        };
        assert!(
            m401.contains("\"prod\"") && m401.contains("no usable Authorization header"),
            "{m401}"
        );
        assert!(
            m403.contains("\"prod\"") && m403.contains("wrong API ID and token pair"),
            "{m403}"
        );
    }

    #[test]
    fn transport_errors_retry_only_when_resending_is_safe() {
        let classify_error =
            |error, idempotent| classify(Err(error), idempotent, "x", now(), FALLBACK);
        let retry = Action::Retry { after: None };
        assert_eq!(classify_error(TransportError::Connect, false), retry);
        assert_eq!(classify_error(TransportError::Connect, true), retry);
        assert_eq!(classify_error(TransportError::Timeout, true), retry);
        assert_eq!(classify_error(TransportError::Dropped, true), retry);
        assert_eq!(
            classify_error(TransportError::Timeout, false),
            Action::InDoubt
        );
        assert_eq!(
            classify_error(TransportError::Dropped, false),
            Action::InDoubt
        );
    }

    fn wait_429(headers: &[(&str, &str)]) -> Action {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        classify(
            Ok(Answer {
                status: 429,
                headers: &headers,
            }),
            false,
            "x",
            now(),
            FALLBACK,
        )
    }

    #[test]
    fn a_429_waits_for_reset_then_retry_after_then_the_fallback() {
        let after = |secs: u64| Action::Retry {
            after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(wait_429(&[("X-AircallApi-Reset", "1700000042")]), after(42));
        assert_eq!(
            wait_429(&[("x-aircallapi-reset", "1700000042000")]),
            after(42),
            "milliseconds from 1e12"
        );
        assert_eq!(
            wait_429(&[("X-AircallApi-Reset", "1700000042"), ("Retry-After", "5")]),
            after(42),
            "reset wins"
        );
        assert_eq!(wait_429(&[("Retry-After", "7")]), after(7));
        assert_eq!(
            wait_429(&[("Retry-After", "Tue, 14 Nov 2023 22:13:27 GMT")]),
            after(7),
            "HTTP date"
        );
        assert_eq!(
            wait_429(&[("X-AircallApi-Reset", "1699999000")]),
            after(0),
            "a reset in the past waits nothing"
        );
        assert_eq!(
            wait_429(&[("X-AircallApi-Reset", "soon"), ("Retry-After", "3")]),
            after(3),
            "bad reset ignored"
        );
        assert_eq!(wait_429(&[("Retry-After", "later")]), after(60));
        assert_eq!(wait_429(&[]), after(60));
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_secs(60),
            initial: Duration::from_millis(500),
            max_backoff: Duration::from_secs(4),
            max_pause: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_is_jittered_under_a_capped_exponential_ceiling() {
        let policy = policy();
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..=10u32 {
            let ceiling = Duration::from_millis(500 * (1 << (attempt - 1).min(3)));
            let waits: Vec<Duration> = (0..200)
                .map(|_| policy.backoff(attempt, &mut rng))
                .collect();
            assert!(waits.iter().all(|w| *w <= ceiling), "attempt {attempt}");
            let spread = waits
                .iter()
                .max()
                .unwrap()
                .saturating_sub(*waits.iter().min().unwrap());
            assert!(
                spread > ceiling / 2,
                "full jitter spreads waits over the range (attempt {attempt})"
            );
        }
        let again: Vec<Duration> = {
            let mut rng = StdRng::seed_from_u64(7);
            (0..5).map(|_| policy.backoff(1, &mut rng)).collect()
        };
        let first: Vec<Duration> = {
            let mut rng = StdRng::seed_from_u64(7);
            (0..5).map(|_| policy.backoff(1, &mut rng)).collect()
        };
        assert_eq!(again, first, "a seeded generator gives the same waits");
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        let policy = policy();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(matches!(
            policy.next(None, 4, Duration::ZERO, &mut rng),
            Next::Wait { pause: false, .. }
        ));
        assert_eq!(
            policy.next(None, 5, Duration::ZERO, &mut rng),
            Next::GiveUp("gave up after 5 attempts".into())
        );
        let Next::GiveUp(reason) = policy.next(
            Some(Duration::from_secs(30)),
            2,
            Duration::from_secs(40),
            &mut rng,
        ) else {
            panic!("a wait past the total limit gives up")
        };
        assert!(reason.contains("60s retry limit"), "{reason}");
        assert_eq!(
            policy.next(
                Some(Duration::from_secs(30)),
                2,
                Duration::from_secs(10),
                &mut rng
            ),
            Next::Wait {
                wait: Duration::from_secs(30),
                pause: true
            }
        );
        assert!(
            matches!(
                policy.next(Some(Duration::from_secs(1)), 9, Duration::ZERO, &mut rng),
                Next::Wait { pause: true, .. }
            ),
            "429s do not use up attempts"
        );
        let capped = RetryPolicy {
            max_pause: Duration::from_secs(5),
            ..policy
        };
        assert_eq!(
            capped.next(
                Some(Duration::from_secs(86_400)),
                1,
                Duration::ZERO,
                &mut rng
            ),
            Next::Wait {
                wait: Duration::from_secs(5),
                pause: true
            }
        );
    }
}
