//! Field mapping: builds a body from record attributes, constants and small transforms.

use serde_json::{Map, Value};

use super::path::{Step, Tree, parse_target};
use super::phone;
use crate::destination::{FieldMapping, Transform};
use crate::records::get_path as lookup;

/// A mapping entry ready to apply.
#[derive(Debug, Clone)]
pub struct Entry {
    target: Vec<Step>,
    target_text: String,
    source: Source,
    transform: Transform,
    default_country: String,
    optional: bool,
    if_present: Option<String>,
}

#[derive(Debug, Clone)]
enum Source {
    Attribute(String),
    Constant(Value),
}

/// Compiles mapping entries, naming the entry that is wrong.
pub fn compile(entries: &[FieldMapping]) -> Result<Vec<Entry>, String> {
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let target =
                parse_target(&entry.target).map_err(|e| format!("mapping[{i}] target: {e}"))?;
            let source = match (&entry.from, &entry.value) {
                (Some(attribute), None) => Source::Attribute(attribute.clone()),
                (None, Some(constant)) => Source::Constant(toml_to_json(constant)),
                _ => {
                    return Err(format!(
                        "mapping[{i}] ({}): expected exactly one of `from` and `value`",
                        entry.target
                    ));
                }
            };
            let default_country = entry
                .default_country
                .clone()
                .unwrap_or_else(|| "US".to_string());
            if phone::country_code(&default_country).is_none() {
                return Err(format!(
                    "mapping[{i}]: unknown default_country {default_country:?}"
                ));
            }
            Ok(Entry {
                target,
                target_text: entry.target.clone(),
                source,
                transform: entry.transform,
                default_country,
                optional: entry.optional,
                if_present: entry.if_present.clone(),
            })
        })
        .collect()
}

/// Builds the body of one record. The error is the reason the record is invalid.
pub fn apply(entries: &[Entry], record: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut tree = Tree::default();
    for entry in entries {
        if let Some(condition) = &entry.if_present
            && lookup(record, condition).is_none_or(is_blank)
        {
            continue;
        }
        let value = match &entry.source {
            Source::Constant(value) => value.clone(),
            Source::Attribute(attribute) => match lookup(record, attribute) {
                Some(value) if !(entry.optional && is_blank(value)) => value.clone(),
                Some(_) => continue,
                None if entry.optional => continue,
                None => {
                    return Err(format!(
                        "attribute `{attribute}` is missing (mapped to `{}`)",
                        entry.target_text
                    ));
                }
            },
        };
        let value = transform(entry, value)
            .map_err(|reason| format!("`{}`: {reason}", entry.target_text))?;
        tree.set(&entry.target, value);
    }
    Ok(tree.into_value())
}

fn transform(entry: &Entry, value: Value) -> Result<Value, String> {
    let text = match &value {
        _ if entry.transform == Transform::None => return Ok(value),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(format!(
                "cannot apply `{}` to {}",
                entry.transform.as_str(),
                super::macros::kind(other)
            ));
        }
    };
    let out = match entry.transform {
        Transform::None | Transform::Trim => text.trim().to_string(),
        Transform::Lowercase => text.to_lowercase(),
        Transform::Uppercase => text.to_uppercase(),
        Transform::E164 => phone::normalise(&text, &entry.default_country)?,
        Transform::FirstName => text.split_whitespace().next().unwrap_or("").to_string(),
        Transform::LastName => {
            let mut words = text.split_whitespace();
            words.next();
            words.collect::<Vec<_>>().join(" ")
        }
    };
    Ok(Value::String(out))
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A TOML constant as JSON. TOML dates become their text.
pub fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(
        target: &str,
        from: Option<&str>,
        value: Option<&str>,
        transform: Transform,
    ) -> FieldMapping {
        FieldMapping {
            target: target.into(),
            from: from.map(String::from),
            value: value.map(|v| toml::Value::String(v.into())),
            transform,
            default_country: None,
            optional: false,
            if_present: None,
        }
    }

    #[test]
    fn maps_a_csv_row_onto_a_contact() {
        let mut second = entry(
            "phone_numbers[1].value",
            Some("Phone 2"),
            None,
            Transform::E164,
        );
        second.optional = true;
        let mut second_label = entry(
            "phone_numbers[1].label",
            None,
            Some("Other"),
            Transform::None,
        );
        second_label.if_present = Some("Phone 2".into());
        let entries = compile(&[
            entry("first_name", Some("Name"), None, Transform::FirstName),
            entry("last_name", Some("Name"), None, Transform::LastName),
            entry(
                "phone_numbers[0].label",
                None,
                Some("Work"),
                Transform::None,
            ),
            entry(
                "phone_numbers[0].value",
                Some("Phone 1"),
                None,
                Transform::E164,
            ),
            second_label,
            second,
        ])
        .unwrap();
        let row =
            json!({"Name": " Ada  King Lovelace ", "Phone 1": "(818)877-7517", "Phone 2": ""});
        let body = apply(&entries, row.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"first_name": "Ada", "last_name": "King Lovelace",
                   "phone_numbers": [{"label": "Work", "value": "+18188777517"}]})
        );
    }

    #[test]
    fn missing_attributes_and_bad_phones_make_the_record_invalid() {
        let entries = compile(&[entry(
            "phone_numbers[0].value",
            Some("Phone 1"),
            None,
            Transform::E164,
        )])
        .unwrap();
        let err = apply(&entries, json!({}).as_object().unwrap()).unwrap_err();
        assert!(err.contains("`Phone 1` is missing"), "{err}");
        let err = apply(&entries, json!({"Phone 1": "12"}).as_object().unwrap()).unwrap_err();
        assert!(err.starts_with("`phone_numbers[0].value`:"), "{err}");
    }
}
