//! One request's delivery: paced attempts through the client's one attempt loop, the intent
//! made durable before the first leaves, each result turned into a step by the pure
//! disposition, and one end written to the state store. A stop ends it before any new attempt.
//! Each delivery returns how it ended and what it cost ([`Ended`]); nothing is counted in
//! state shared with other deliveries.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use rand::rngs::StdRng;
use tokio::sync::{mpsc, watch};

use super::capture::{ResponseCapture, capped_body};
use super::dead_letter::{DeadLetter, DeadLetterFile, Reason, api_reason};
use super::disposition::{Disposition, GaveUp, disposition, gave_up};
use super::flight::{Ended, Flight, Looked, Phase};
use super::in_doubt::{self, AfterLookup};
use super::reader::Job;
use super::reconcile::{self, Lookup, LookupKind, Reconciled};
use super::{Event, EventFn};
use crate::client::{
    Attempts, HttpClient, RateLimiter, Response, RetryPolicy, SendError, Then, Tried,
};
use crate::credentials::AuthKind;
use crate::destination::{InDoubtPolicy, OnRejected};
use crate::records::RecordNo;
use crate::request::Request;
use crate::state::{Ledger, Outcome};

/// What delivery tasks share.
pub(super) struct Shared {
    pub http: HttpClient,
    pub limiter: RateLimiter,
    pub interval: Option<Duration>,
    pub policy: RetryPolicy,
    pub fallback: Duration,
    pub ledger: Option<Ledger>,
    pub dead_letters: DeadLetterFile,
    pub capture: ResponseCapture,
    pub credential: String,
    pub auth_kind: Option<AuthKind>,
    pub in_doubt: InDoubtPolicy,
    pub resend_in_doubt: bool,
    /// How this destination's creates can be looked up, if they can.
    pub lookup: Option<LookupKind>,
    /// No lookup of an earlier run's in-doubt request before this (see `run`).
    pub reconcile_after: Option<tokio::time::Instant>,
    pub on_rejected: OnRejected,
    /// One permit per request on the wire: `concurrency` of them. With the rate limit off the
    /// dispatcher runs more deliveries than that, so the next requests' intents are committed
    /// while the current ones are out (see `Dispatcher::depth`).
    pub wire: tokio::sync::Semaphore,
    /// True once the run is stopped: no attempt starts after that.
    pub stop: watch::Receiver<bool>,
    /// Stops every delivery: the dispatcher's stop, and a delivery's own on a fatal answer, so
    /// no other delivery starts a request while the dispatcher hears of it.
    pub stop_all: watch::Sender<bool>,
    pub control: mpsc::UnboundedSender<Control>,
    pub events: EventFn,
}

/// What a delivery task tells the dispatcher besides its own end.
pub(super) enum Control {
    Fatal(String),
    StopOnRejected,
}

impl Shared {
    /// The attempt loop for one delivery: its attempts are counted in its own `sent`.
    fn attempts<'a>(
        &'a self,
        observe: &'a crate::client::Observer<'a>,
        sent: &'a AtomicU64,
    ) -> Attempts<'a> {
        Attempts {
            http: &self.http,
            limiter: &self.limiter,
            policy: &self.policy,
            credential: &self.credential,
            fallback: self.fallback,
            stop: self.stop.clone(),
            observe,
            sent,
        }
    }

    /// Ends `flight` in `phase` and writes `outcome` to the state store, waiting for the
    /// commit. The phase is set first: a delivery cut off while it waits still counts as what
    /// it ended in, since its outcome is queued and committed before the run's end.
    async fn end(
        &self,
        flight: &Flight,
        phase: Phase,
        outcome: Outcome,
        status: Option<u16>,
        detail: Option<&str>,
    ) -> Phase {
        flight.set(phase);
        let Some(ledger) = &self.ledger else {
            return phase;
        };
        flight.outcome_asked();
        if let Err(err) = ledger
            .outcome(flight.attempt(), &flight.records, outcome, status, detail)
            .await
        {
            let _ = self.control.send(Control::Fatal(err.to_string()));
        }
        phase
    }

    fn in_doubt_event(&self, records: &[RecordNo], message: String) {
        (self.events)(Event::InDoubt {
            records: records.to_vec(),
            message,
        });
    }
}

// The lookups and dead letters below are boxed where they are awaited: they are rare, and
// inline they would size every delivery's future (moved into its task at spawn) by their own.

/// Delivers one request and returns how it ended and what it cost.
pub(super) async fn deliver(
    shared: Arc<Shared>,
    job: Job,
    flight: Arc<Flight>,
    rng: StdRng,
) -> Ended {
    let phase = attempt_all(&shared, &job, &flight, rng).await;
    flight.ended(phase)
}

/// The attempts of one request, to the phase it ends in.
async fn attempt_all(shared: &Arc<Shared>, job: &Job, flight: &Flight, mut rng: StdRng) -> Phase {
    let observe = |request: &Request, attempt: u32, result: &Result<Response, SendError>| {
        flight.observe(attempt, result);
        shared.capture.attempt(request, attempt, result);
    };
    let attempts = shared.attempts(&observe, &flight.sent);
    let request = &job.request;
    let records = &request.records;
    let method = request.method;
    if job.reconcile {
        // An earlier run sent this create and never learned the outcome: look before sending.
        flight.set(Phase::InFlight);
        if let Some(at) = shared.reconcile_after
            && !attempts
                .sleep(at.saturating_duration_since(tokio::time::Instant::now()))
                .await
        {
            // Stopped before looking: the record stays as the store says, in doubt.
            return flight.set(Phase::NotSent);
        }
        let reconciled = Box::pin(look_up(shared, &attempts, flight, request, &mut rng)).await;
        if attempts.stopped() && matches!(reconciled, Reconciled::Unknown(_)) {
            return flight.set(Phase::NotSent);
        }
        match in_doubt::after_lookup(reconciled, shared.resend_in_doubt) {
            AfterLookup::Delivered => return delivered(shared, flight, None).await,
            AfterLookup::Send => flight.set(Phase::NotSent),
            AfterLookup::Report(reason) => {
                shared.in_doubt_event(
                    records,
                    format!("sent by an earlier run whose outcome is unknown, and the lookup could not tell: {reason}"),
                );
                return flight.set(Phase::InDoubt);
            }
        };
    }
    let first = tokio::time::Instant::now();
    let mut attempt = 0u32;
    // Once an attempt may have been applied, the request stays in doubt until an answer settles it.
    let mut maybe_applied = job.resent_in_doubt;
    loop {
        attempt += 1;
        if !attempts.slot().await {
            return stopped(shared, flight, maybe_applied, attempt > 1).await;
        }
        // The intent is durable before the request leaves; written after the slot so a run
        // stopped while waiting for it leaves no false "in doubt" behind.
        if attempt == 1
            && let Some(ledger) = &shared.ledger
        {
            flight.intent_asked();
            match ledger.intent(records, method, &request.url).await {
                Ok(id) => flight.set_attempt(id),
                Err(err) => {
                    let _ = shared.control.send(Control::Fatal(err.to_string()));
                    return flight.set(Phase::NotSent);
                }
            }
        }
        let permit = tokio::select! {
            biased;
            () = attempts.until_stopped() => None,
            permit = shared.wire.acquire() => permit.ok(),
        };
        if permit.is_none() {
            return stopped(shared, flight, maybe_applied, attempt > 1).await;
        }
        // In flight only once it holds the wire: a run stopped at once while this delivery
        // waits for a wire permit reports it not sent rather than in doubt.
        flight.set(Phase::InFlight);
        let tried = attempts.send(request, attempt).await;
        let earlier_maybe_applied = maybe_applied;
        match &tried.result {
            Err(err) if err.kind.maybe_applied() => maybe_applied = true,
            Ok(_) => maybe_applied = false,
            Err(_) => {}
        }
        let on_in_doubt = in_doubt::decide(
            method,
            shared.in_doubt,
            shared.resend_in_doubt,
            shared.lookup.is_some(),
        );
        let error_text = tried
            .result
            .as_ref()
            .err()
            .map(|e| format!("{}: {}", e.kind.describe(), e.message));
        let step = disposition(
            tried.action.clone(),
            method,
            tried.status(),
            earlier_maybe_applied,
            on_in_doubt,
        );
        // An answer that stops the run stops every other delivery before this one's wire
        // permit goes to the next in line; otherwise the permit goes at once, so the wire is not
        // idle while this delivery's outcome commits.
        let stops_run = matches!(step, Disposition::Fatal(_))
            || (step == Disposition::DeadLetter && shared.on_rejected == OnRejected::Stop);
        if stops_run {
            let _ = shared.stop_all.send(true);
        }
        drop(permit);
        let after = match step {
            Disposition::Delivered => return delivered(shared, flight, tried.status()).await,
            Disposition::DeadLetter => {
                let mut message = format!(
                    "the API refused the request with {}",
                    tried.status().map_or("no status".into(), |s| s.to_string())
                );
                if let Some(reason) = tried.result.as_ref().ok().and_then(|r| api_reason(&r.body)) {
                    message.push_str(": ");
                    message.push_str(&reason);
                }
                let phase = Box::pin(dead_letter(
                    shared,
                    job,
                    flight,
                    Reason::Rejected,
                    &tried,
                    attempt,
                    message,
                ))
                .await;
                if shared.on_rejected == OnRejected::Stop {
                    let _ = shared.control.send(Control::StopOnRejected);
                }
                return phase;
            }
            Disposition::Fatal(message) => {
                // A 401/403 answer means the request was not applied: its records go to the
                // dead-letter file with the answer (so this run accounts for them), while the
                // store keeps them not applied, so a rerun sends them again.
                let letter = format!(
                    "the API refused the credential with {}: {message}; not applied, the next run sends it again",
                    tried.status().map_or("no status".into(), |s| s.to_string())
                );
                let phase = Box::pin(dead_letter(
                    shared,
                    job,
                    flight,
                    Reason::Refused,
                    &tried,
                    attempt,
                    letter,
                ))
                .await;
                let _ = shared.control.send(Control::Fatal(message));
                return phase;
            }
            Disposition::ReportInDoubt => {
                shared.in_doubt_event(records, format!(
                    "{}; the request may have been applied, so it is not sent again (use --resend-in-doubt to send it anyway)",
                    error_text.as_deref().unwrap_or("no answer")
                ));
                return flight.set(Phase::InDoubt);
            }
            Disposition::LookUp => {
                // A server that gave no answer may still be applying the request: wait as a
                // retry would before looking, so the lookup sees a create that was landing.
                if !attempts
                    .sleep(shared.policy.backoff(attempt, &mut rng))
                    .await
                {
                    return stopped(shared, flight, maybe_applied, true).await;
                }
                let reconciled =
                    Box::pin(look_up(shared, &attempts, flight, request, &mut rng)).await;
                let absent = reconciled == Reconciled::NotFound;
                match in_doubt::after_lookup(reconciled, shared.resend_in_doubt) {
                    AfterLookup::Delivered => return delivered(shared, flight, None).await,
                    AfterLookup::Send => {
                        if absent {
                            maybe_applied = false;
                        }
                        None
                    }
                    AfterLookup::Report(reason) => {
                        shared.in_doubt_event(records, format!(
                            "{}; the request may have been applied and the lookup could not tell ({reason}), so it is not sent again",
                            error_text.as_deref().unwrap_or("no answer")
                        ));
                        return flight.set(Phase::InDoubt);
                    }
                }
            }
            Disposition::Retry(after) => after,
        };
        // While it waits, a cut-off delivery is in doubt only if an attempt may have applied.
        flight.set(if maybe_applied {
            Phase::InFlight
        } else {
            Phase::NotApplied
        });
        match attempts.retry_wait(after, attempt, first, &mut rng).await {
            Then::Again => {}
            Then::Stopped => return stopped(shared, flight, maybe_applied, true).await,
            Then::GiveUp(reason) => {
                let last_error = tried.result.as_ref().err().map(|e| e.kind);
                return match gave_up(last_error, maybe_applied) {
                    GaveUp::Unreachable => {
                        let phase = if maybe_applied {
                            flight.set(Phase::InDoubt)
                        } else {
                            shared
                                .end(
                                    flight,
                                    Phase::NotApplied,
                                    Outcome::NotApplied,
                                    None,
                                    Some(&reason),
                                )
                                .await
                        };
                        let _ = shared.control.send(Control::Fatal(format!(
                            "cannot reach {} ({reason}; last: {}); stopping, the next run sends what is left",
                            host_of(&request.url),
                            tried.last()
                        )));
                        phase
                    }
                    GaveUp::InDoubt => {
                        shared.in_doubt_event(
                            records,
                            format!("{reason}; the last attempt may have been applied"),
                        );
                        flight.set(Phase::InDoubt)
                    }
                    GaveUp::DeadLetter => {
                        let message = match (&error_text, tried.status()) {
                            (Some(error), _) => format!("{reason}; last: {error}"),
                            (None, Some(status)) => format!("{reason}; last status {status}"),
                            (None, None) => reason,
                        };
                        Box::pin(dead_letter(
                            shared,
                            job,
                            flight,
                            Reason::GaveUp,
                            &tried,
                            attempt,
                            message,
                        ))
                        .await
                    }
                };
            }
        }
    }
}

/// The run was stopped before the next attempt: an attempt that may have been applied leaves
/// the records in doubt; otherwise they were never sent, or are known not applied.
/// `sent`: whether this run sent an attempt of it (an intent may be committed without one).
async fn stopped(shared: &Shared, flight: &Flight, maybe_applied: bool, sent: bool) -> Phase {
    if maybe_applied {
        shared.in_doubt_event(
            &flight.records,
            "the run was stopped before an answer settled whether the request was applied".into(),
        );
        return flight.set(Phase::InDoubt);
    }
    if flight.attempt().is_some() {
        let phase = if sent {
            Phase::NotApplied
        } else {
            Phase::NotSent
        };
        return shared
            .end(
                flight,
                phase,
                Outcome::NotApplied,
                None,
                Some("the run was stopped"),
            )
            .await;
    }
    flight.set(Phase::NotSent)
}

/// `scheme://host:port` of a URL, for messages.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_else(|| url.to_string())
}

/// Marks the request delivered, in memory and durably.
async fn delivered(shared: &Shared, flight: &Flight, status: Option<u16>) -> Phase {
    shared
        .end(flight, Phase::Delivered, Outcome::Delivered, status, None)
        .await
}

/// Looks an in-doubt create up through the run's attempt loop; each lookup attempt is counted
/// as a request and captured like any other call.
async fn look_up(
    shared: &Shared,
    attempts: &Attempts<'_>,
    flight: &Flight,
    request: &Request,
    rng: &mut StdRng,
) -> Reconciled {
    let Some(lookup) = shared
        .lookup
        .and_then(|kind| Lookup::of_request(kind, request))
    else {
        return Reconciled::Unknown("its request holds nothing the API can look it up by".into());
    };
    let reconciled = reconcile::reconcile(attempts, &lookup, request, rng).await;
    match &reconciled {
        Reconciled::Found => flight.looked_up(Looked::Found),
        Reconciled::NotFound => flight.looked_up(Looked::Missing),
        Reconciled::Unknown(_) => {}
    }
    reconciled
}

/// Writes the request's records to the dead-letter file and the store: dead-lettered, or, for
/// records refused with 401/403, not applied (so a rerun sends them again).
async fn dead_letter(
    shared: &Arc<Shared>,
    job: &Job,
    flight: &Flight,
    reason: Reason,
    tried: &Tried,
    attempts: u32,
    message: String,
) -> Phase {
    let mut letter = DeadLetter::new(reason, job.request.records.clone(), message.clone());
    letter.line = job.line;
    letter.record_values = job.values.clone();
    letter.request = Some(job.request.preview_json(shared.auth_kind));
    letter.status = tried.status();
    letter.response_body = tried.result.as_ref().ok().map(|r| capped_body(&r.body));
    letter.attempts = attempts;
    let written = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || shared.dead_letters.write(&letter)).await
    };
    let failure = match written {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(format!(
            "cannot write the dead-letter file {}: {err}",
            shared.dead_letters.path().display()
        )),
        Err(err) => Some(format!("cannot write the dead-letter file: {err}")),
    };
    if let Some(failure) = failure {
        let _ = shared.control.send(Control::Fatal(failure));
        return flight.set(Phase::InDoubt);
    }
    flight.dead_lettered();
    (shared.events)(Event::DeadLettered {
        records: job.request.records.clone(),
        message: message.clone(),
    });
    let stored = if reason == Reason::Refused {
        Outcome::NotApplied
    } else {
        Outcome::DeadLettered
    };
    shared
        .end(
            flight,
            Phase::DeadLettered,
            stored,
            tried.status(),
            Some(&message),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_shown_with_their_port() {
        assert_eq!(
            host_of("http://127.0.0.1:8080/v1/contacts"),
            "127.0.0.1:8080"
        );
        assert_eq!(
            host_of("https://api.aircall.io/v1/contacts"),
            "api.aircall.io"
        );
        assert_eq!(host_of("not a url"), "not a url");
    }
}
