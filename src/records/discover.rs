//! Attribute discovery: which attributes the first records hold, with their JSON kinds, and a
//! cheap record count for the wizard.

use std::collections::HashMap;
use std::fmt;
use std::fs;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Format, Input, Record, open};

/// Files larger than this are not counted: counting reads the whole file.
const COUNT_LIMIT: u64 = 64 * 1024 * 1024;

/// How long an example value may be before it is cut.
const EXAMPLE_CHARS: usize = 60;

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonKind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    pub fn of(value: &Value) -> JsonKind {
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Boolean,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "boolean",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        }
    }

    /// The kind as a noun phrase for messages: "an array", "a string", "null".
    pub fn with_article(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attribute found in the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// Top-level key, or dotted path into nested objects (`user.id`). A nested object appears
    /// itself (`user`, kind object) before its members.
    pub path: String,
    /// Kinds seen for this attribute, in the order first seen.
    pub kinds: Vec<JsonKind>,
    /// The first non-null value seen, as text (strings unquoted), cut to a readable length.
    pub example: Option<String>,
    /// How many of the records looked at hold this attribute.
    pub present_in: usize,
}

/// The attributes of `records`, in the order first seen. Arrays are not looked into: their
/// members have no stable name.
pub fn discover<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<Attribute> {
    let mut found = Discovery::default();
    for record in records {
        found.visit(&record.value, "");
    }
    found.attributes
}

#[derive(Default)]
struct Discovery {
    attributes: Vec<Attribute>,
    index: HashMap<String, usize>,
}

impl Discovery {
    fn visit(&mut self, object: &Map<String, Value>, prefix: &str) {
        for (key, value) in object {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            self.note(&path, value);
            if let Value::Object(inner) = value {
                self.visit(inner, &path);
            }
        }
    }

    fn note(&mut self, path: &str, value: &Value) {
        let at = match self.index.get(path) {
            Some(&at) => at,
            None => {
                self.index.insert(path.to_string(), self.attributes.len());
                self.attributes.push(Attribute {
                    path: path.to_string(),
                    kinds: Vec::new(),
                    example: None,
                    present_in: 0,
                });
                self.attributes.len() - 1
            }
        };
        let attribute = &mut self.attributes[at];
        attribute.present_in += 1;
        let kind = JsonKind::of(value);
        if !attribute.kinds.contains(&kind) {
            attribute.kinds.push(kind);
        }
        if attribute.example.is_none() && !value.is_null() {
            attribute.example = Some(example(value));
        }
    }
}

fn example(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= EXAMPLE_CHARS {
        text
    } else {
        let mut cut: String = text.chars().take(EXAMPLE_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// How many records (readable or not) `input` holds, when that is cheap to know: `None` for
/// standard input, for files over 64 MiB, and when the file cannot be read. The count matches
/// the number of items the reader yields.
pub fn count_records(input: &Input, format: Option<Format>) -> Option<u64> {
    let path = match input {
        Input::Path(path) => path,
        Input::Stdin => return None,
    };
    if fs::metadata(path).ok()?.len() > COUNT_LIMIT {
        return None;
    }
    open(input, format).ok()?.count_rest().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RecordNo;
    use serde_json::json;

    fn record(no: u64, value: Value) -> Record {
        let Value::Object(value) = value else {
            panic!("test records are objects")
        };
        Record {
            no: RecordNo(no),
            line: no,
            value,
        }
    }

    #[test]
    fn nested_paths_kinds_and_presence() {
        let records = [
            record(
                1,
                json!({"id": 1, "user": {"id": "u1", "tags": ["a"]}, "note": null}),
            ),
            record(2, json!({"id": "2", "user": {"id": "u2"}, "extra": true})),
        ];
        let found = discover(&records);
        let paths: Vec<&str> = found.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            ["id", "user", "user.id", "user.tags", "note", "extra"]
        );
        assert_eq!(found[0].kinds, [JsonKind::Number, JsonKind::String]);
        assert_eq!(found[0].present_in, 2);
        assert_eq!(found[0].example.as_deref(), Some("1"));
        assert_eq!(found[2].example.as_deref(), Some("u1"));
        assert_eq!(found[3].present_in, 1);
        assert_eq!(found[3].kinds, [JsonKind::Array]);
        assert_eq!(found[4].example, None);
        assert_eq!(found[4].kinds, [JsonKind::Null]);
    }

    #[test]
    fn long_examples_are_cut() {
        let long = "é".repeat(200);
        let found = discover(&[record(1, json!({ "bio": long }))]);
        let example = found[0].example.as_deref().unwrap_or_default();
        assert_eq!(example.chars().count(), EXAMPLE_CHARS);
        assert!(example.ends_with('…'));
    }
}
