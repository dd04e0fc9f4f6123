//! What to do with a record whose request may or may not have been applied: sent by an earlier
//! run that never learned the outcome, or sent now and answered by a timeout or a dropped
//! connection. One function decides, for reruns and for retries alike.

use crate::destination::{InDoubtPolicy, Method};

/// The decision for an in-doubt request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InDoubtAction {
    /// Send it (again): safe for idempotent methods, or asked for.
    Resend,
    /// Leave it unsent and report it in doubt, so a person can check before anything is duplicated.
    Report,
}

/// Decides for one in-doubt request.
///
/// Idempotent methods (GET, PUT, DELETE) are always resent. Creates are resent only with
/// `--resend-in-doubt` (`resend_asked`) or `delivery.in_doubt = "resend"`. The default policy,
/// `reconcile`, is where looking a create up first (contacts by phone or email, users by email)
/// belongs: this function is the seam for it. Where no lookup is possible, `reconcile` reports.
pub fn decide(method: Method, policy: InDoubtPolicy, resend_asked: bool) -> InDoubtAction {
    if method.is_idempotent() || resend_asked || policy == InDoubtPolicy::Resend {
        InDoubtAction::Resend
    } else {
        InDoubtAction::Report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods_are_resent_and_creates_only_when_asked() {
        use InDoubtAction::*;
        for policy in [
            InDoubtPolicy::Reconcile,
            InDoubtPolicy::Report,
            InDoubtPolicy::Resend,
        ] {
            for method in [Method::Get, Method::Put, Method::Delete] {
                assert_eq!(
                    decide(method, policy, false),
                    Resend,
                    "{method} under {policy:?}"
                );
            }
            for method in [Method::Post, Method::Patch] {
                assert_eq!(decide(method, policy, true), Resend, "--resend-in-doubt");
                let expected = if policy == InDoubtPolicy::Resend {
                    Resend
                } else {
                    Report
                };
                assert_eq!(
                    decide(method, policy, false),
                    expected,
                    "{method} under {policy:?}"
                );
            }
        }
    }
}
