//! Parsing one JSON record while noticing keys that appear twice in an object: serde_json keeps
//! the last silently, which would send a value the person may not have meant. Such a record is
//! reported instead, naming the key.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The dotted path (`user.email`) of the first key an object of `text` names twice, if any.
/// Text that is not JSON gives `None`: parsing it reports that.
pub(super) fn duplicate_key(text: &str) -> Option<String> {
    let mut duplicate = None;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let _ = Check {
        path: String::new(),
        duplicate: &mut duplicate,
        depth: 0,
    }
    .deserialize(&mut deserializer);
    duplicate
}

/// Nesting deeper than this is left to the parser, which refuses it.
const MAX_DEPTH: usize = 128;

/// Walks a JSON value, noting the first duplicate key.
struct Check<'a> {
    path: String,
    duplicate: &'a mut Option<String>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            map.next_value_seed(Check {
                path: path.clone(),
                duplicate: &mut *self.duplicate,
                depth: self.depth + 1,
            })?;
            if !seen.insert(key) && self.duplicate.is_none() {
                *self.duplicate = Some(path);
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("too deep"));
        }
        let mut index = 0;
        while seq
            .next_element_seed(Check {
                path: format!("{}.{index}", self.path),
                duplicate: &mut *self.duplicate,
                depth: self.depth + 1,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(IgnoredAny).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_named_with_their_path() {
        assert_eq!(
            duplicate_key(r#"{"a":1,"user":{"email":"x","email":"y"}}"#).as_deref(),
            Some("user.email")
        );
        assert_eq!(duplicate_key(r#"{"a":1,"a":2}"#).as_deref(), Some("a"));
        assert_eq!(
            duplicate_key(r#"{"a":[{"b":1},{"b":2}],"n":123456789012345678901234567890}"#),
            None
        );
        assert_eq!(duplicate_key("{"), None);
    }
}
