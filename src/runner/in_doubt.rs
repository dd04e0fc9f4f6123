//! What to do with a record whose request may or may not have been applied: sent by an earlier
//! run that never learned the outcome, or sent now and answered by a timeout or a dropped
//! connection. One function decides, for reruns and for retries alike; a second one reads the
//! answer of a lookup (see [`super::reconcile`]).

use super::reconcile::Reconciled;
use crate::destination::{InDoubtPolicy, Method};

/// The decision for an in-doubt request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InDoubtAction {
    /// Send it (again): safe for idempotent methods, or asked for.
    Resend,
    /// Look the object up first; send only if it does not exist.
    Reconcile,
    /// Leave it unsent and report it in doubt, so a person can check before anything is duplicated.
    Report,
}

/// Decides for one in-doubt request. `lookup` says whether Aircall lets this create be looked up
/// (contacts by phone or email, users by email; never a batch).
///
/// Idempotent methods (GET, PUT, DELETE) are always resent. Creates under `in_doubt = "resend"`
/// are resent unchecked, as the destination asks. Under the default `reconcile`, a create that
/// can be looked up is; one that cannot is reported, and resent only with `--resend-in-doubt`
/// (`resend_asked`). Under `report`, creates are reported unless `--resend-in-doubt`.
pub fn decide(
    method: Method,
    policy: InDoubtPolicy,
    resend_asked: bool,
    lookup: bool,
) -> InDoubtAction {
    if method.is_idempotent() || policy == InDoubtPolicy::Resend {
        InDoubtAction::Resend
    } else if policy == InDoubtPolicy::Reconcile && lookup {
        InDoubtAction::Reconcile
    } else if resend_asked {
        InDoubtAction::Resend
    } else {
        InDoubtAction::Report
    }
}

/// What a lookup's conclusion means for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterLookup {
    /// The object exists: record the request as delivered, send nothing.
    Delivered,
    /// It does not: the earlier attempt was not applied, so sending it is safe.
    Send,
    /// The lookup could not tell: leave the request in doubt, with the reason.
    Report(String),
}

/// Reads a lookup's conclusion. A lookup that failed leaves the request in doubt, unless the
/// person asked for in-doubt requests to be resent anyway.
pub fn after_lookup(reconciled: Reconciled, resend_asked: bool) -> AfterLookup {
    match reconciled {
        Reconciled::Found => AfterLookup::Delivered,
        Reconciled::NotFound => AfterLookup::Send,
        Reconciled::Unknown(_) if resend_asked => AfterLookup::Send,
        Reconciled::Unknown(reason) => AfterLookup::Report(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InDoubtAction::*;

    const POLICIES: [InDoubtPolicy; 3] = [
        InDoubtPolicy::Reconcile,
        InDoubtPolicy::Report,
        InDoubtPolicy::Resend,
    ];

    #[test]
    fn idempotent_methods_are_always_resent() {
        for policy in POLICIES {
            for method in [Method::Get, Method::Put, Method::Delete] {
                for (asked, lookup) in [(false, false), (true, false), (false, true), (true, true)]
                {
                    assert_eq!(
                        decide(method, policy, asked, lookup),
                        Resend,
                        "{method} under {policy:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn creates_are_reconciled_where_a_lookup_exists_and_reported_elsewhere() {
        for method in [Method::Post, Method::Patch] {
            // The default policy: look up what can be looked up, report the rest.
            assert_eq!(
                decide(method, InDoubtPolicy::Reconcile, false, true),
                Reconcile
            );
            assert_eq!(
                decide(method, InDoubtPolicy::Reconcile, true, true),
                Reconcile,
                "a lookup beats a blind resend"
            );
            assert_eq!(
                decide(method, InDoubtPolicy::Reconcile, false, false),
                Report
            );
            assert_eq!(
                decide(method, InDoubtPolicy::Reconcile, true, false),
                Resend,
                "--resend-in-doubt"
            );
            // `report` never looks up; the flag still resends.
            assert_eq!(decide(method, InDoubtPolicy::Report, false, true), Report);
            assert_eq!(decide(method, InDoubtPolicy::Report, true, true), Resend);
            // `resend` resends unchecked.
            assert_eq!(decide(method, InDoubtPolicy::Resend, false, true), Resend);
            assert_eq!(decide(method, InDoubtPolicy::Resend, false, false), Resend);
        }
    }

    #[test]
    fn a_found_object_is_delivered_a_missing_one_sent_and_an_unclear_one_reported() {
        assert_eq!(
            after_lookup(Reconciled::Found, false),
            AfterLookup::Delivered
        );
        assert_eq!(
            after_lookup(Reconciled::Found, true),
            AfterLookup::Delivered
        );
        assert_eq!(after_lookup(Reconciled::NotFound, false), AfterLookup::Send);
        assert_eq!(
            after_lookup(Reconciled::Unknown("503".into()), false),
            AfterLookup::Report("503".into())
        );
        assert_eq!(
            after_lookup(Reconciled::Unknown("503".into()), true),
            AfterLookup::Send
        );
    }
}
