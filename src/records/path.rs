//! Looking up an attribute of a record by name or dotted path.

use serde_json::{Map, Value};

/// The value at `dotted` in `record`.
///
/// The whole string is tried as a key first, since CSV headers may hold dots and spaces
/// (`Phone 1`, `e.mail`); then each dot, left to right, is tried as a step into a nested object,
/// so `user.id` finds `{"user": {"id": 1}}` and `a.b.c` finds `{"a": {"b.c": 1}}`. A step that
/// is a number indexes an array (`phone_numbers.0.value`).
pub fn get_path<'a>(record: &'a Map<String, Value>, dotted: &str) -> Option<&'a Value> {
    if let Some(value) = record.get(dotted) {
        return Some(value);
    }
    for (at, _) in dotted.match_indices('.') {
        let (head, rest) = (&dotted[..at], &dotted[at + 1..]);
        if let Some(found) = record.get(head).and_then(|inner| descend(inner, rest)) {
            return Some(found);
        }
    }
    None
}

fn descend<'a>(value: &'a Value, rest: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => get_path(map, rest),
        Value::Array(items) => {
            let (index, after) = match rest.split_once('.') {
                Some((index, after)) => (index, Some(after)),
                None => (rest, None),
            };
            let item = items.get(index.parse::<usize>().ok()?)?;
            match after {
                Some(after) => descend(item, after),
                None => Some(item),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn literal_keys_win_over_nesting() {
        let record = map(json!({"Phone 1": "+33", "a.b": 1, "a": {"b": 2}}));
        assert_eq!(get_path(&record, "Phone 1"), Some(&json!("+33")));
        assert_eq!(get_path(&record, "a.b"), Some(&json!(1)));
    }

    #[test]
    fn dotted_paths_descend_objects_and_arrays() {
        let record = map(json!({
            "user": {"id": 7, "x.y": {"z": true}},
            "phone_numbers": [{"value": "+1"}, {"value": "+2"}]
        }));
        assert_eq!(get_path(&record, "user.id"), Some(&json!(7)));
        assert_eq!(get_path(&record, "user.x.y.z"), Some(&json!(true)));
        assert_eq!(
            get_path(&record, "phone_numbers.1.value"),
            Some(&json!("+2"))
        );
        assert_eq!(get_path(&record, "phone_numbers.2.value"), None);
        assert_eq!(get_path(&record, "user.missing"), None);
        assert_eq!(get_path(&record, "user.id.deeper"), None);
        assert_eq!(get_path(&record, ""), None);
        assert_eq!(get_path(&record, "."), None);
    }
}
