//! What makes a mapped body acceptable to a template's resource: each field's rules (required,
//! not blank, its kind, list sizes), checked before a request is built; the error is the reason
//! the record is invalid.

use serde_json::Value;

use super::{FieldKind, FieldSpec};

/// Why a body does not meet a resource's field rules: the reason its record is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("required field `{0}` is missing or empty")]
    Missing(String),
    #[error("`{0}` can't be blank if defined")]
    Blank(String),
    #[error("`{0}` must be a string")]
    NotString(String),
    #[error("`{0}` must be a whole number")]
    NotInteger(String),
    #[error("`{0}` must be a hex colour such as #00B388")]
    NotHexColour(String),
    #[error("`{0}` must be a list of {{label, value}}")]
    NotList(String),
    #[error("`{name}` needs at least {min} entries")]
    TooFew { name: String, min: usize },
    #[error("`{name}` has {count} entries; Aircall accepts at most {max}")]
    TooMany {
        name: String,
        count: usize,
        max: usize,
    },
    #[error("`{0}` must be an object {{label, value}}")]
    NotEntry(String),
    #[error("`{0}` is required")]
    EntryKeyMissing(String),
    #[error("`{name}` must be an email address, found {found}")]
    NotEmail { name: String, found: String },
    #[error(
        "`{name}` must be an E.164 phone number such as +14155550100, found {found} (map it with transform = \"e164\")"
    )]
    NotE164 { name: String, found: String },
}

/// Checks one body against a resource's fields; the error is the reason the record is invalid.
pub fn check_fields(
    fields: &[FieldSpec],
    body: &serde_json::Map<String, Value>,
) -> Result<(), FieldError> {
    for field in fields {
        let value = body.get(&field.name);
        let blank = match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(items)) => items.is_empty(),
            _ => false,
        };
        if blank {
            if field.required {
                return Err(FieldError::Missing(field.name.clone()));
            }
            if field.not_blank && value.is_some() {
                return Err(FieldError::Blank(field.name.clone()));
            }
            continue;
        }
        let Some(value) = value else { continue };
        check_kind(field, value)?;
    }
    Ok(())
}

fn check_kind(field: &FieldSpec, value: &Value) -> Result<(), FieldError> {
    let name = &field.name;
    match field.kind {
        FieldKind::String => {
            if !value.is_string() {
                return Err(FieldError::NotString(name.clone()));
            }
        }
        FieldKind::Integer => {
            let ok = value.is_i64()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<i64>().is_ok());
            if !ok {
                return Err(FieldError::NotInteger(name.clone()));
            }
        }
        FieldKind::Email => check_email(name, value)?,
        FieldKind::E164 => check_e164(name, value)?,
        FieldKind::HexColor => {
            let ok = value.as_str().is_some_and(|s| {
                let hex = s.strip_prefix('#').unwrap_or("");
                (hex.len() == 6 || hex.len() == 3) && hex.chars().all(|c| c.is_ascii_hexdigit())
            });
            if !ok {
                return Err(FieldError::NotHexColour(name.clone()));
            }
        }
        FieldKind::PhoneList | FieldKind::EmailList => {
            let items = value
                .as_array()
                .ok_or_else(|| FieldError::NotList(name.clone()))?;
            if let Some(min) = field.min_items
                && items.len() < min
            {
                return Err(FieldError::TooFew {
                    name: name.clone(),
                    min,
                });
            }
            if let Some(max) = field.max_items
                && items.len() > max
            {
                return Err(FieldError::TooMany {
                    name: name.clone(),
                    count: items.len(),
                    max,
                });
            }
            for (i, item) in items.iter().enumerate() {
                let entry = format!("{name}[{i}]");
                let object = item
                    .as_object()
                    .ok_or_else(|| FieldError::NotEntry(entry.clone()))?;
                for key in ["label", "value"] {
                    if object
                        .get(key)
                        .and_then(Value::as_str)
                        .is_none_or(|s| s.trim().is_empty())
                    {
                        return Err(FieldError::EntryKeyMissing(format!("{entry}.{key}")));
                    }
                }
                let inner = &object["value"];
                if field.kind == FieldKind::PhoneList {
                    check_e164(&format!("{entry}.value"), inner)?;
                } else {
                    check_email(&format!("{entry}.value"), inner)?;
                }
            }
        }
    }
    Ok(())
}

fn check_email(name: &str, value: &Value) -> Result<(), FieldError> {
    let ok = value.as_str().is_some_and(|s| {
        let s = s.trim();
        s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !s.contains(' ')
        })
    });
    if ok {
        Ok(())
    } else {
        Err(FieldError::NotEmail {
            name: name.to_string(),
            found: value.to_string(),
        })
    }
}

fn check_e164(name: &str, value: &Value) -> Result<(), FieldError> {
    let ok = value.as_str().is_some_and(is_e164);
    if ok {
        Ok(())
    } else {
        Err(FieldError::NotE164 {
            name: name.to_string(),
            found: value.to_string(),
        })
    }
}

/// `+` then 7 to 15 digits, the first not 0.
pub fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_checks_name_the_field_and_the_rule() {
        let fields = &crate::templates::get("create_records")
            .unwrap()
            .resource("contacts")
            .unwrap()
            .fields;
        let ok = json!({"phone_numbers": [{"label": "Work", "value": "+14155550100"}]});
        assert!(check_fields(fields, ok.as_object().unwrap()).is_ok());
        let cases = [
            (json!({}), "required field `phone_numbers`"),
            (
                json!({"phone_numbers": [{"label": "Work", "value": "415"}]}),
                "E.164",
            ),
            (
                json!({"phone_numbers": [{"value": "+14155550100"}]}),
                "`phone_numbers[0].label` is required",
            ),
            (
                json!({"phone_numbers": vec![json!({"label": "W", "value": "+14155550100"}); 21]}),
                "at most 20",
            ),
            (
                json!({"phone_numbers": [{"label": "W", "value": "+14155550100"}], "emails": [{"label": "W", "value": "nope"}]}),
                "email",
            ),
        ];
        for (body, want) in cases {
            let err = check_fields(fields, body.as_object().unwrap()).unwrap_err();
            assert!(err.to_string().contains(want), "{body}: {err}");
        }
    }
}
