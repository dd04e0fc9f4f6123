//! Parsing one JSON record while noticing keys that appear twice in an object: serde_json keeps
//! the last silently, which would send a value the person may not have meant. Such a record is
//! reported instead, naming the key.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The dotted path (`user.email`) of the first key an object of `text` names twice, if any.
/// Text that is not JSON gives `None`: parsing it reports that.
pub(super) fn duplicate_key(text: &str) -> Option<String> {
    let mut duplicate = None;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let _ = Check {
        place: Place::Root,
        duplicate: &mut duplicate,
        depth: 0,
    }
    .deserialize(&mut deserializer);
    duplicate
}

/// [`duplicate_key`] of `text`, given `value`: the same text as parsed. Nearly every record
/// has no duplicate, and that shows without parsing it again: each member of an object has
/// exactly one colon outside strings, so the text holds as many members as the parsed objects
/// hold keys exactly when no key repeats. Only a record short of keys is walked to name the key.
pub(super) fn duplicate_key_of(text: &str, value: &Value) -> Option<String> {
    if members_in(text) == keys_in(value) {
        None
    } else {
        duplicate_key(text)
    }
}

/// Object members written in `text` (JSON that parsed): its colons outside strings.
fn members_in(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut count = 0;
    let mut at = 0;
    while let Some(found) = bytes
        .get(at..)
        .and_then(|rest| memchr::memchr2(b'"', b':', rest))
    {
        at += found + 1;
        if bytes[at - 1] == b':' {
            count += 1;
            continue;
        }
        // A string: on to its closing quote, stepping over escaped characters.
        loop {
            match bytes
                .get(at..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            {
                Some(found) if bytes[at + found] == b'\\' => at += found + 2,
                Some(found) => {
                    at += found + 1;
                    break;
                }
                None => return count,
            }
        }
    }
    count
}

/// Keys held by the objects of `value`, nested ones included.
fn keys_in(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.len() + map.values().map(keys_in).sum::<usize>(),
        Value::Array(items) => items.iter().map(keys_in).sum(),
        _ => 0,
    }
}

/// Nesting deeper than this is left to the parser, which refuses it.
const MAX_DEPTH: usize = 128;

/// Objects with more keys than this are checked through a hash set; smaller ones (nearly every
/// record) by comparing with each key seen, which allocates nothing.
const SCAN_KEYS: usize = 32;

/// Where a value sits: its parent's place and its own key or index. Written out only when a
/// duplicate is found: every record is checked, so the check allocates no path of its own.
#[derive(Clone, Copy)]
enum Place<'p> {
    Root,
    Key(&'p Place<'p>, &'p str),
    Index(&'p Place<'p>, usize),
}

impl Place<'_> {
    /// The dotted path: `user.email`, `tags.0`.
    fn path(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Place::Root => {}
            Place::Key(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Place::Index(parent, index) => {
                parent.write(out);
                out.push('.');
                out.push_str(&index.to_string());
            }
        }
    }
}

/// Walks a JSON value, noting the first duplicate key.
struct Check<'a> {
    place: Place<'a>,
    duplicate: &'a mut Option<String>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A key, borrowed from the text unless it holds an escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_string()))
    }
    fn visit_string<E: de::Error>(self, key: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key))
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
        let mut seen: Vec<Cow<'de, str>> = Vec::new();
        let mut many: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key_seed(Key)? {
            let place = Place::Key(&self.place, &key);
            map.next_value_seed(Check {
                place,
                duplicate: &mut *self.duplicate,
                depth: self.depth + 1,
            })?;
            let again = match &many {
                Some(set) => set.contains(&key),
                None => seen.contains(&key),
            };
            if again && self.duplicate.is_none() {
                *self.duplicate = Some(place.path());
            }
            match &mut many {
                Some(set) => {
                    set.insert(key);
                }
                None if seen.len() < SCAN_KEYS => seen.push(key),
                None => {
                    let mut set: HashSet<_> = seen.drain(..).collect();
                    set.insert(key);
                    many = Some(set);
                }
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
                place: Place::Index(&self.place, index),
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

    /// The shortcut (members counted in the text against keys parsed) must agree with the full
    /// walk on every text, above all where colons, quotes and backslashes sit inside strings.
    #[test]
    fn the_member_count_agrees_with_the_full_walk() {
        let texts = [
            r#"{"a":1,"a":2}"#,
            r#"{"a":"x:y","b":"::"}"#,
            r#"{"a":"x:y","a":"::"}"#,
            r#"{"a\":":1,"b":"\"::\""}"#,
            r#"{"a\":":1,"a\":":2}"#,
            r#"{"k":"ends in a backslash \\","k2":":"}"#,
            r#"{"k":"ends in a backslash \\","k":":"}"#,
            r#"{"caf\u00e9":1,"café":2}"#,
            r#"{"t":[{"x":1},{"y":1,"y":2}],"n":123456789012345678901234567890}"#,
            r#"{"t":[{"x":1},{"y":1,"z":2}],"n":-1.5e300}"#,
            r#"{"u":{"e":"a@b","e":"c@d"},"v":{}}"#,
            r#"{ "spaced" : { "in" : [ 1 , 2 ] } , "other" : null }"#,
            r#"[{"a":1},{"a":1,"a":2}]"#,
            r#"{"":1,"":2}"#,
            r#"{"":{"":{"":[]}}}"#,
        ];
        for text in texts {
            let value: Value = serde_json::from_str(text).expect(text);
            assert_eq!(
                duplicate_key_of(text, &value),
                duplicate_key(text),
                "{text}"
            );
            // Without a duplicate, the counts match (no second parse); with one, they cannot.
            let shortcut = members_in(text) == keys_in(&value);
            assert_eq!(shortcut, duplicate_key(text).is_none(), "{text}");
        }
        assert_eq!(members_in(r#"{"a\":":"b:c","d":[{"e":":"}]}"#), 3);
        assert_eq!(
            duplicate_key_of(
                r#"{"a\":":1,"a\":":2}"#,
                &serde_json::from_str(r#"{"a\":":1,"a\":":2}"#).unwrap()
            )
            .as_deref(),
            Some("a\":")
        );
    }

    #[test]
    fn paths_name_array_places_and_escaped_keys_and_wide_objects() {
        assert_eq!(
            duplicate_key(r#"{"tags":[{"x":1},{"y":1,"y":2}]}"#).as_deref(),
            Some("tags.1.y")
        );
        assert_eq!(
            duplicate_key(r#"[{"a":1},{"a":1,"a":2}]"#).as_deref(),
            Some(".1.a")
        );
        // The same key written once plainly and once with an escape.
        assert_eq!(
            duplicate_key(r#"{"caf\u00e9":1,"café":2}"#).as_deref(),
            Some("café")
        );
        // Past the keys compared one by one: the 40th repeats the 3rd.
        let mut wide: Vec<String> = (0..39).map(|i| format!("\"k{i}\":{i}")).collect();
        wide.push("\"k2\":0".to_string());
        assert_eq!(
            duplicate_key(&format!("{{{}}}", wide.join(","))).as_deref(),
            Some("k2")
        );
        wide.pop();
        assert_eq!(duplicate_key(&format!("{{{}}}", wide.join(","))), None);
        // Only the first duplicate is named.
        assert_eq!(
            duplicate_key(r#"{"a":{"b":1,"b":2},"a":3}"#).as_deref(),
            Some("a.b")
        );
    }
}
