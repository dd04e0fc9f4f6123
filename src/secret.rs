//! A value that must never be shown: API tokens, bearer tokens, secret header values.

use std::borrow::Cow;
use std::fmt;

/// What every secret prints as, wherever it would otherwise appear.
pub const MASK: &str = "•••";

/// A secret string. `Debug` and `Display` print [`MASK`]; the value is read only through
/// [`Secret::expose`], which makes every use of the real value easy to find.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that needs it (building an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// `bytes` with every occurrence of each secret replaced by [`MASK`], for text that came from
/// elsewhere (a server's answer) and may hold a secret we sent. Secrets are tried in order, so
/// give longer ones first.
pub fn redact(bytes: &[u8], secrets: &[Secret]) -> Vec<u8> {
    Redactor::new(secrets).redact(bytes).into_owned()
}

/// [`redact`] for many texts against the same secrets: each secret's searcher is built once (a
/// client redacts every header and body of every answer).
#[derive(Clone, Default)]
pub struct Redactor {
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Redactor {
    /// Searches for `secrets` in the order given (longer ones first); empty ones are skipped.
    pub fn new(secrets: &[Secret]) -> Self {
        let finders = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| memchr::memmem::Finder::new(s.expose().as_bytes()).into_owned())
            .collect();
        Self { finders }
    }

    /// `bytes` with every occurrence of each secret replaced by [`MASK`]; borrowed when it holds
    /// none, as almost every answer does.
    pub fn redact<'b>(&self, bytes: &'b [u8]) -> Cow<'b, [u8]> {
        let mut out = Cow::Borrowed(bytes);
        for finder in &self.finders {
            let Some(first) = finder.find(&out) else {
                continue;
            };
            let needle = finder.needle().len();
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest: &[u8] = &out;
            let mut at = Some(first);
            while let Some(found) = at {
                replaced.extend_from_slice(&rest[..found]);
                replaced.extend_from_slice(MASK.as_bytes());
                rest = &rest[found + needle..];
                at = finder.find(rest);
            }
            replaced.extend_from_slice(rest);
            out = Cow::Owned(replaced);
        }
        out
    }
}

impl fmt::Debug for Redactor {
    /// The searchers hold the secrets: only their number is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.finders.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_occurrence_longest_first() {
        let secrets = [Secret::new("Bearer tok-1"), Secret::new("tok-1")];
        assert_eq!(
            redact(b"a Bearer tok-1 b tok-1tok-1 c", &secrets),
            "a ••• b •••••• c".as_bytes()
        );
        assert_eq!(redact(b"nothing here", &secrets), b"nothing here");
        assert_eq!(redact(b"tok", &secrets), b"tok");
        assert_eq!(
            redact(&[0xff, b't', b'o', b'k', b'-', b'1'], &secrets),
            [&[0xff][..], MASK.as_bytes()].concat()
        );
    }

    #[test]
    fn a_redactor_serves_many_texts_copies_only_what_holds_a_secret_and_never_shows_one() {
        let redactor = Redactor::new(&[Secret::new("canary-123"), Secret::new("")]);
        assert!(matches!(
            redactor.redact(b"a clean answer"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            redactor.redact(b"x canary-123 y").as_ref(),
            "x ••• y".as_bytes()
        );
        // The same searcher again, on another text.
        assert_eq!(redactor.redact(b"canary-123").as_ref(), MASK.as_bytes());
        assert_eq!(format!("{redactor:?}"), "Redactor(1 secrets)");
    }

    #[test]
    fn debug_and_display_mask_the_value() {
        let secret = Secret::new("canary-123");
        assert_eq!(format!("{secret}"), MASK);
        assert_eq!(format!("{secret:?}"), MASK);
        assert_eq!(
            format!("{:?}", Some(secret.clone())),
            format!("Some({MASK})")
        );
        assert_eq!(secret.expose(), "canary-123");
    }
}
