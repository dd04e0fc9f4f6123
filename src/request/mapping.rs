//! Field mapping: builds a body from record attributes, constants and small transforms.
//!
//! A required entry whose value is missing or fails its transform makes the record invalid. An
//! optional one is left out instead, with a warning on that record; when it sat in an array
//! element (`phone_numbers[1].value`), the whole element goes, so no half-filled
//! `{"label": "Other"}` is sent.

use serde_json::{Map, Value};

use super::path::{Step, Tree, parse_target};
use super::phone::{self, PhoneCheck, PhoneError};
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
    phone_check: PhoneCheck,
    optional: bool,
    if_present: Option<String>,
}

impl Entry {
    /// The record attribute this entry reads, if it reads one.
    pub fn source_attribute(&self) -> Option<&str> {
        match &self.source {
            Source::Attribute(attribute) => Some(attribute),
            Source::Constant(_) => None,
        }
    }

    /// The attribute named by `if_present`, if any.
    pub fn condition(&self) -> Option<&str> {
        self.if_present.as_deref()
    }

    pub fn target(&self) -> &str {
        &self.target_text
    }

    pub(super) fn steps(&self) -> &[Step] {
        &self.target
    }

    /// The array element this entry's target sits in, else the target itself.
    pub(super) fn element(&self) -> &[Step] {
        element(&self.target)
    }
}

#[derive(Debug, Clone)]
enum Source {
    Attribute(String),
    Constant(Value),
}

/// A mapping entry that cannot be compiled; `key` is the entry's key in the destination file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping[{index}].{key}: {message}")]
pub struct CompileError {
    pub index: usize,
    pub key: &'static str,
    pub message: String,
}

/// Why a record's body cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("attribute `{attribute}` is missing (mapped to `{target}`)")]
    Missing { attribute: String, target: String },
    #[error("`{target}`: {reason}")]
    Transform {
        target: String,
        reason: TransformError,
    },
}

/// Why a value cannot take its transform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("cannot apply `{transform}` to {kind}")]
    Kind {
        transform: &'static str,
        kind: &'static str,
    },
    #[error(transparent)]
    Phone(#[from] PhoneError),
}

/// Compiles mapping entries, naming the entry (and its key) that is wrong.
pub fn compile(entries: &[FieldMapping]) -> Result<Vec<Entry>, CompileError> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let error = |key: &'static str, message: String| CompileError {
                index,
                key,
                message,
            };
            let target =
                parse_target(&entry.target).map_err(|e| error("target", e.to_string()))?;
            let source = match (&entry.from, &entry.value) {
                (Some(attribute), None) => Source::Attribute(attribute.clone()),
                (None, Some(constant)) => Source::Constant(toml_to_json(constant)),
                (None, None) => {
                    return Err(error(
                        "from",
                        format!(
                            "mapping for `{}`: expected `from` (an attribute) or `value` (a constant)",
                            entry.target
                        ),
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(error(
                        "value",
                        format!(
                            "mapping for `{}`: expected either `from` or `value`, not both",
                            entry.target
                        ),
                    ));
                }
            };
            let default_country = entry
                .default_country
                .clone()
                .unwrap_or_else(|| "US".to_string());
            if phone::country_code(&default_country).is_none() {
                return Err(error(
                    "default_country",
                    phone::PhoneError::UnknownCountry(default_country).to_string(),
                ));
            }
            Ok(Entry {
                target,
                target_text: entry.target.clone(),
                source,
                transform: entry.transform,
                default_country,
                phone_check: entry.phone_check,
                optional: entry.optional,
                if_present: entry.if_present.clone(),
            })
        })
        .collect()
}

/// A body and what was left out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub body: Map<String, Value>,
    /// Optional values that failed their transform and were left out, with the reason.
    pub warnings: Vec<String>,
}

/// Builds the body of one record. The error is the reason the record is invalid.
pub fn apply(entries: &[Entry], record: &Map<String, Value>) -> Result<Mapped, ApplyError> {
    let mut values: Vec<(&Entry, Value)> = Vec::with_capacity(entries.len());
    let mut dropped: Vec<&[Step]> = Vec::new();
    let mut warnings = Vec::new();
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
                    return Err(ApplyError::Missing {
                        attribute: attribute.clone(),
                        target: entry.target_text.clone(),
                    });
                }
            },
        };
        match transform(entry, value) {
            Ok(value) => values.push((entry, value)),
            Err(reason) if entry.optional => {
                warnings.push(format!(
                    "`{}` left out: {reason}",
                    element_text(&entry.target_text)
                ));
                dropped.push(element(&entry.target));
            }
            Err(reason) => {
                return Err(ApplyError::Transform {
                    target: entry.target_text.clone(),
                    reason,
                });
            }
        }
    }
    let mut tree = Tree::default();
    for (entry, value) in values {
        if !dropped.iter().any(|gone| entry.target.starts_with(gone)) {
            tree.set(&entry.target, value);
        }
    }
    Ok(Mapped {
        body: tree.into_value(),
        warnings,
    })
}

/// The part of a target that goes when its value is left out: the array element it sits in
/// (`phone_numbers[1]` for `phone_numbers[1].value`), else the target itself.
fn element(target: &[Step]) -> &[Step] {
    match target
        .iter()
        .rposition(|step| matches!(step, Step::Index(_)))
    {
        Some(at) => &target[..=at],
        None => target,
    }
}

fn element_text(target: &str) -> &str {
    match target.rfind(']') {
        Some(at) => &target[..=at],
        None => target,
    }
}

fn transform(entry: &Entry, value: Value) -> Result<Value, TransformError> {
    let text = match &value {
        _ if entry.transform == Transform::None => return Ok(value),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(TransformError::Kind {
                transform: entry.transform.as_str(),
                kind: super::macros::kind(other),
            });
        }
    };
    let out = match entry.transform {
        Transform::None | Transform::Trim => text.trim().to_string(),
        Transform::Lowercase => text.to_lowercase(),
        Transform::Uppercase => text.to_uppercase(),
        Transform::E164 => phone::normalise(&text, &entry.default_country, entry.phone_check)?,
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
            phone_check: Default::default(),
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
        let mapped = apply(&entries, row.as_object().unwrap()).unwrap();
        assert!(mapped.warnings.is_empty());
        assert_eq!(
            Value::Object(mapped.body),
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
        let err = apply(&entries, json!({}).as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`Phone 1` is missing"), "{err}");
        let err = apply(&entries, json!({"Phone 1": "12"}).as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`phone_numbers[0].value`:"), "{err}");
        assert!(err.contains("too short"), "{err}");
    }

    #[test]
    fn a_bad_optional_phone_leaves_its_whole_element_out_with_a_warning() {
        let mut second = entry(
            "phone_numbers[1].value",
            Some("Phone 2"),
            None,
            Transform::E164,
        );
        second.optional = true;
        let mut label = entry(
            "phone_numbers[1].label",
            None,
            Some("Other"),
            Transform::None,
        );
        label.if_present = Some("Phone 2".into());
        let entries = compile(&[
            entry(
                "phone_numbers[0].value",
                Some("Phone 1"),
                None,
                Transform::E164,
            ),
            label,
            second,
        ])
        .unwrap();
        let row = json!({"Phone 1": "(818)877-7517", "Phone 2": "011-512-9780"});
        let mapped = apply(&entries, row.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(mapped.body),
            json!({"phone_numbers": [{"value": "+18188777517"}]})
        );
        assert_eq!(mapped.warnings.len(), 1);
        assert!(
            mapped.warnings[0].starts_with("`phone_numbers[1]` left out: \"011-512-9780\""),
            "{:?}",
            mapped.warnings
        );
    }

    #[test]
    fn compile_errors_name_the_entry_key() {
        let mut bad = entry("x", Some("A"), None, Transform::E164);
        bad.default_country = Some("XX".into());
        let err = compile(&[entry("ok", Some("A"), None, Transform::None), bad]).unwrap_err();
        assert_eq!((err.index, err.key), (1, "default_country"));
        let err = compile(&[entry("x", None, None, Transform::None)]).unwrap_err();
        assert_eq!((err.index, err.key), (0, "from"));
    }
}
