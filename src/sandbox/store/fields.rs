//! Reading and checking the fields of a request body the way Aircall validates them.

use serde_json::{Map, Value};

use crate::sandbox::answer::ApiError;

pub type Body = Map<String, Value>;

/// Parses a request body: an empty body reads as `{}`, anything else must be a JSON object.
pub fn parse_body(bytes: &[u8]) -> Result<Body, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "The request body must be a JSON object, not {}",
            kind(&other)
        ))),
        Err(err) => Err(ApiError::bad_request(format!(
            "The request body is not valid JSON: {err}"
        ))),
    }
}

/// The kind of a JSON value as a noun phrase for messages ("a string", "an array").
pub fn kind(value: &Value) -> &'static str {
    crate::records::JsonKind::of(value).with_article()
}

/// A string field that must be present and not blank.
pub fn required_str(body: &Body, key: &str) -> Result<String, ApiError> {
    match optional_str(body, key)? {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ApiError::bad_request(format!("{key} can't be blank"))),
    }
}

/// A string field that may be absent or null; any other type is an error.
pub fn optional_str(body: &Body, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key} must be a string, not {}",
            kind(other)
        ))),
    }
}

/// A string field that may be absent, but once given must not be blank (contact updates).
pub fn nonblank_if_defined(body: &Body, key: &str) -> Result<Option<String>, ApiError> {
    if !body.contains_key(key) {
        return Ok(None);
    }
    match optional_str(body, key)? {
        Some(value) if !value.trim().is_empty() => Ok(Some(value)),
        _ => Err(ApiError::bad_request(format!(
            "{key}: Can't be blank if defined"
        ))),
    }
}

/// A non-negative integer field that may be absent or null.
pub fn optional_uint(body: &Body, key: &str) -> Result<Option<u64>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{key} must be a non-negative integer, not {}",
                shown(value)
            ))
        }),
    }
}

pub fn optional_bool(body: &Body, key: &str) -> Result<Option<bool>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key} must be a boolean, not {}",
            kind(other)
        ))),
    }
}

/// A value as it appears in an error message, cut short so a huge value cannot flood it.
pub fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// E.164 as Aircall requires it where it dials: `+`, a country code not starting with 0, 7 to 15
/// digits in all, nothing else.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A plausible email address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !value.chars().any(char::is_whitespace)
        && domain.split('.').count() >= 2
        && domain.split('.').all(|part| !part.is_empty())
}

/// `#RGB` or `#RRGGBB`.
pub fn is_hex_color(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        (hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A URL a webhook can be delivered to: http or https with a host.
pub fn is_web_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !value.chars().any(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_needs_plus_country_code_and_7_to_15_digits() {
        assert!(is_e164("+33612345678"));
        assert!(is_e164("+1234567"));
        assert!(!is_e164("+123456"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("33612345678"));
        assert!(!is_e164("+0612345678"));
        assert!(!is_e164("+1 812-641-5139"));
    }

    #[test]
    fn emails_and_colours() {
        assert!(is_email("john.doe@aircall.io"));
        assert!(!is_email("john.doe@aircall"));
        assert!(!is_email("@aircall.io"));
        assert!(!is_email("a b@aircall.io"));
        assert!(is_hex_color("#00B388"));
        assert!(is_hex_color("#abc"));
        assert!(!is_hex_color("00B388"));
        assert!(!is_hex_color("#00B38G"));
    }

    #[test]
    fn bodies_must_be_objects() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert_eq!(parse_body(b"[1]").unwrap_err().status.as_u16(), 400);
        assert_eq!(parse_body(b"{").unwrap_err().status.as_u16(), 400);
    }
}
