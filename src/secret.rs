//! A value that must never be shown: API tokens, bearer tokens, secret header values.

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
    let mut out = bytes.to_vec();
    for secret in secrets {
        let needle = secret.expose().as_bytes();
        if needle.is_empty() {
            continue;
        }
        // Every answer is searched, and almost none holds a secret: find the first one before
        // building a copy.
        let finder = memchr::memmem::Finder::new(needle);
        let Some(first) = finder.find(&out) else {
            continue;
        };
        let mut replaced = Vec::with_capacity(out.len());
        let mut rest = out.as_slice();
        let mut at = Some(first);
        while let Some(found) = at {
            replaced.extend_from_slice(&rest[..found]);
            replaced.extend_from_slice(MASK.as_bytes());
            rest = &rest[found + needle.len()..];
            at = finder.find(rest);
        }
        replaced.extend_from_slice(rest);
        out = replaced;
    }
    out
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
