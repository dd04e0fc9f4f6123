//! Record macros in URLs and header values: `{record.id}`, `{record.user.id}`.
//!
//! A value inserted into a URL is percent-encoded as one path segment (before `?`) or as one
//! query value (after it), so no record value can change the path, host or query of a URL.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::records::get_path as lookup;

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field { path: String, place: Place },
}

/// Where a macro stands, which decides its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    PathSegment,
    QueryValue,
    Header,
}

/// A template that cannot be parsed, or a record that cannot fill it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacroError {
    #[error("record macros may not stand in the host of the URL")]
    MacroInHost,
    #[error("a URL template may not contain a fragment (`#`)")]
    Fragment,
    #[error("unclosed `{{` in {0:?}")]
    Unclosed(String),
    #[error("unknown macro `{{{inner}}}` in {text:?}: expected `{{record.<attribute>}}`")]
    Unknown { inner: String, text: String },
    #[error("empty or malformed macro `{{{inner}}}` in {text:?}")]
    Malformed { inner: String, text: String },
    #[error("`}}` without `{{` in {0:?}")]
    StrayClose(String),
    #[error("attribute `{0}` is missing (used as {{record.{0}}})")]
    Missing(String),
    #[error("attribute `{path}` is {kind} and cannot be put into {place}")]
    NotScalar {
        path: String,
        kind: &'static str,
        place: &'static str,
    },
    #[error("attribute `{0}` is empty and would leave an empty path segment")]
    EmptySegment(String),
    #[error("attribute `{path}` is {text:?}, which would change the URL path")]
    DotSegment { path: String, text: String },
    #[error(
        "attribute `{path}` holds the control character {c:?}, which is not allowed in a header"
    )]
    Control { path: String, c: char },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a URL template. Macros may stand only in the path or the query, never in the
    /// scheme or host.
    pub fn url(text: &str) -> Result<Self, MacroError> {
        let parts = parse(text, Place::PathSegment)?;
        let template = Self { parts };
        if let Some(rest) = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
        {
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            if rest[..authority_end].contains('{') {
                return Err(MacroError::MacroInHost);
            }
        }
        if text.contains('#') {
            return Err(MacroError::Fragment);
        }
        Ok(template)
    }

    /// Parses a header value template.
    pub fn header(text: &str) -> Result<Self, MacroError> {
        Ok(Self {
            parts: parse(text, Place::Header)?,
        })
    }

    /// The attribute paths the template uses, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field { path, .. } => Some(path.as_str()),
            Part::Literal(_) => None,
        })
    }

    pub fn has_macros(&self) -> bool {
        self.fields().next().is_some()
    }

    /// Fills the template from a record. Fails, naming the attribute, when a value is missing,
    /// is not a scalar, or would be unsafe where it stands.
    pub fn render(&self, record: &Map<String, Value>) -> Result<String, MacroError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field { path, place } => {
                    let value =
                        lookup(record, path).ok_or_else(|| MacroError::Missing(path.clone()))?;
                    let text = scalar_text(value).ok_or_else(|| MacroError::NotScalar {
                        path: path.clone(),
                        kind: kind(value),
                        place: place.name(),
                    })?;
                    match place {
                        Place::PathSegment => {
                            if text.is_empty() {
                                return Err(MacroError::EmptySegment(path.clone()));
                            }
                            if text == "." || text == ".." {
                                return Err(MacroError::DotSegment {
                                    path: path.clone(),
                                    text,
                                });
                            }
                            out.extend(utf8_percent_encode(&text, COMPONENT));
                        }
                        Place::QueryValue => out.extend(utf8_percent_encode(&text, COMPONENT)),
                        Place::Header => {
                            if let Some(c) = text.chars().find(|c| c.is_control()) {
                                return Err(MacroError::Control {
                                    path: path.clone(),
                                    c,
                                });
                            }
                            out.push_str(&text);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The template text with macros shown as written, for messages.
    pub fn source(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.clone(),
                Part::Field { path, .. } => format!("{{record.{path}}}"),
            })
            .collect()
    }
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::PathSegment => "a URL path",
            Place::QueryValue => "a URL query",
            Place::Header => "a header",
        }
    }
}

fn parse(text: &str, first_place: Place) -> Result<Vec<Part>, MacroError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut place = first_place;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            let close = rest
                .find('}')
                .ok_or_else(|| MacroError::Unclosed(text.to_string()))?;
            let inner = &rest[1..close];
            let path = inner
                .strip_prefix("record.")
                .ok_or_else(|| MacroError::Unknown {
                    inner: inner.to_string(),
                    text: text.to_string(),
                })?;
            if path.is_empty() || path.contains('{') {
                return Err(MacroError::Malformed {
                    inner: inner.to_string(),
                    text: text.to_string(),
                });
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Field {
                path: path.to_string(),
                place,
            });
            rest = &rest[close + 1..];
            continue;
        }
        if c == '}' {
            return Err(MacroError::StrayClose(text.to_string()));
        }
        if c == '?' && place == Place::PathSegment {
            place = Place::QueryValue;
        }
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

/// The text of a scalar JSON value; `None` for objects, arrays and null.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The kind of a JSON value as a noun phrase for messages ("a string", "an array").
pub fn kind(value: &Value) -> &'static str {
    crate::records::JsonKind::of(value).with_article()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn record(id: Value) -> Map<String, Value> {
        json!({"id": id, "user": {"id": 42}})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn renders_nested_fields_and_encodes_segments() {
        let t =
            Template::url("/v1/users/{record.user.id}/contacts/{record.id}?q={record.id}").unwrap();
        assert_eq!(
            t.render(&record(json!("a/b?c#d"))).unwrap(),
            "/v1/users/42/contacts/a%2Fb%3Fc%23d?q=a%2Fb%3Fc%23d"
        );
    }

    #[test]
    fn hostile_values_stay_inside_one_segment() {
        let t = Template::url("/v1/contacts/{record.id}").unwrap();
        for hostile in [
            "../../v2/users",
            "a/b",
            "?x=1",
            "#f",
            "%2F",
            "é ü 漢",
            "a b",
        ] {
            let url = t.render(&record(json!(hostile))).unwrap();
            let tail = url.strip_prefix("/v1/contacts/").unwrap();
            assert!(
                !tail.contains(['/', '?', '#', ' ']),
                "{hostile:?} became {url:?}"
            );
        }
        let long = "x".repeat(10_000);
        assert_eq!(
            t.render(&record(json!(long))).unwrap().len(),
            "/v1/contacts/".len() + 10_000
        );
    }

    #[test]
    fn dot_segments_empty_and_missing_values_are_refused() {
        let t = Template::url("/v1/contacts/{record.id}").unwrap();
        for bad in [
            json!("."),
            json!(".."),
            json!(""),
            json!(null),
            json!({"a": 1}),
        ] {
            assert!(
                t.render(&record(bad.clone())).is_err(),
                "{bad} should be refused"
            );
        }
        let missing = Template::url("/v1/contacts/{record.nope}").unwrap();
        assert!(
            missing
                .render(&record(json!(1)))
                .unwrap_err()
                .to_string()
                .contains("`nope` is missing")
        );
    }

    #[test]
    fn malformed_templates_are_errors() {
        for bad in [
            "/v1/{record.id",
            "/v1/{id}",
            "/v1/}",
            "https://{record.host}/x",
            "/v1/x#frag",
            "/v1/{record.}",
        ] {
            assert!(Template::url(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn header_values_refuse_control_characters() {
        let t = Template::header("Bearer {record.id}").unwrap();
        assert!(t.render(&record(json!("ok"))).is_ok());
        assert!(
            t.render(&record(json!("a\r\nX-Evil: 1")))
                .unwrap_err()
                .to_string()
                .contains("control character")
        );
    }

    proptest! {
        #[test]
        fn any_value_is_one_segment(value in "\\PC{0,40}") {
            let t = Template::url("/v1/contacts/{record.id}/x").unwrap();
            if let Ok(url) = t.render(&record(json!(value))) {
                let segments: Vec<&str> = url.split('/').collect();
                prop_assert_eq!(segments.len(), 5);
                prop_assert_eq!(segments[4], "x");
                prop_assert!(!url.contains(['?', '#']));
                let decoded = percent_encoding::percent_decode_str(segments[3]).decode_utf8().unwrap();
                prop_assert_eq!(decoded, value);
            }
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,60}") {
            let _ = Template::url(&text);
            let _ = Template::header(&text);
        }
    }
}
