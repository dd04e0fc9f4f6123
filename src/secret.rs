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

#[cfg(test)]
mod tests {
    use super::*;

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
