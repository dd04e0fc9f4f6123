//! What one attempt's result means for its records, as a pure function: delivered, dead letter,
//! retry, in doubt (report or look up), or fatal for the run; and, once the retry policy gives
//! up, which end the records take.

use std::time::Duration;

use super::in_doubt::InDoubtAction;
use crate::client::{Action, TransportError};
use crate::destination::Method;

/// The step an attempt's result leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Delivered,
    /// The API refused the request for good.
    DeadLetter,
    /// Nothing more can succeed (401/403): the run stops; the request was not applied.
    Fatal(String),
    /// Try again, after the server's own wait when it gave one.
    Retry(Option<Duration>),
    /// No answer and it may have been applied: reported, not sent again.
    ReportInDoubt,
    /// No answer and it may have been applied: look the object up before sending again.
    LookUp,
}

/// `action` is the policy's reading of the answer; `earlier_maybe_applied` whether an earlier
/// attempt of this request may have been applied; `on_in_doubt` the in-doubt decision for it.
pub fn disposition(
    action: Action,
    method: Method,
    status: Option<u16>,
    earlier_maybe_applied: bool,
    on_in_doubt: InDoubtAction,
) -> Disposition {
    match action {
        Action::Success => Disposition::Delivered,
        // An earlier attempt of this DELETE may have been applied without an answer: "not
        // found" now means the object is gone, which is what was asked.
        Action::Reject
            if method == Method::Delete && status == Some(404) && earlier_maybe_applied =>
        {
            Disposition::Delivered
        }
        Action::Reject => Disposition::DeadLetter,
        Action::Fatal { message } => Disposition::Fatal(message),
        Action::InDoubt => match on_in_doubt {
            InDoubtAction::Report => Disposition::ReportInDoubt,
            InDoubtAction::Resend => Disposition::Retry(None),
            InDoubtAction::Reconcile => Disposition::LookUp,
        },
        Action::Retry { after } => Disposition::Retry(after),
    }
}

/// Where records end when the retry policy gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// The API could not be reached at all: not the record's fault, so not dead-lettered; the
    /// run stops and the next one sends it.
    Unreachable,
    /// The last attempt may have been applied.
    InDoubt,
    DeadLetter,
}

/// `last_error` is the last attempt's transport error, if it had no answer.
pub fn gave_up(last_error: Option<TransportError>, maybe_applied: bool) -> GaveUp {
    match last_error {
        Some(TransportError::Connect) => GaveUp::Unreachable,
        _ if maybe_applied => GaveUp::InDoubt,
        _ => GaveUp::DeadLetter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(action: Action, method: Method, status: Option<u16>, earlier: bool) -> Disposition {
        disposition(action, method, status, earlier, InDoubtAction::Report)
    }

    #[test]
    fn answers_map_to_their_step() {
        assert_eq!(
            of(Action::Success, Method::Post, Some(201), false),
            Disposition::Delivered
        );
        assert_eq!(
            of(Action::Reject, Method::Post, Some(422), false),
            Disposition::DeadLetter
        );
        assert_eq!(
            of(
                Action::Retry {
                    after: Some(Duration::from_secs(3))
                },
                Method::Post,
                Some(429),
                false
            ),
            Disposition::Retry(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            of(
                Action::Fatal {
                    message: "403".into()
                },
                Method::Post,
                Some(403),
                false
            ),
            Disposition::Fatal("403".into())
        );
    }

    #[test]
    fn only_a_delete_that_may_have_been_applied_takes_404_as_done() {
        assert_eq!(
            of(Action::Reject, Method::Delete, Some(404), true),
            Disposition::Delivered
        );
        assert_eq!(
            of(Action::Reject, Method::Delete, Some(404), false),
            Disposition::DeadLetter
        );
        assert_eq!(
            of(Action::Reject, Method::Delete, Some(400), true),
            Disposition::DeadLetter
        );
        assert_eq!(
            of(Action::Reject, Method::Post, Some(404), true),
            Disposition::DeadLetter
        );
    }

    #[test]
    fn no_answer_follows_the_in_doubt_decision() {
        let with = |decision| disposition(Action::InDoubt, Method::Post, None, false, decision);
        assert_eq!(with(InDoubtAction::Report), Disposition::ReportInDoubt);
        assert_eq!(with(InDoubtAction::Resend), Disposition::Retry(None));
        assert_eq!(with(InDoubtAction::Reconcile), Disposition::LookUp);
    }

    #[test]
    fn giving_up_ends_by_what_the_last_attempt_may_have_done() {
        assert_eq!(
            gave_up(Some(TransportError::Connect), false),
            GaveUp::Unreachable
        );
        assert_eq!(
            gave_up(Some(TransportError::Timeout), true),
            GaveUp::InDoubt
        );
        assert_eq!(gave_up(None, true), GaveUp::InDoubt);
        assert_eq!(gave_up(None, false), GaveUp::DeadLetter);
    }
}
