//! Paths into bodies: removing dotted attributes (`user.id`) and setting mapping targets with
//! array indexes (`phone_numbers[0].value`). Lookups use `records::get_path`.

use serde_json::{Map, Value};

/// Removes an attribute (literal key first, then dotted path). Returns whether it was there.
pub fn remove(record: &mut Map<String, Value>, path: &str) -> bool {
    if record.shift_remove(path).is_some() {
        return true;
    }
    let Some((head, rest)) = path.split_once('.') else {
        return false;
    };
    match record.get_mut(head) {
        Some(Value::Object(inner)) => remove(inner, rest),
        _ => false,
    }
}

/// One step of a mapping target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A mapping target that is not a body path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("expected a field name such as `first_name` or `phone_numbers[0].value`")]
    Empty,
    #[error("empty name in {0:?}")]
    EmptyName(String),
    #[error("unclosed `[` in {0:?}")]
    Unclosed(String),
    #[error("expected an array index such as [0] in {0:?}")]
    BadIndex(String),
    #[error("array index {index} is too large in {path:?}")]
    IndexTooLarge { index: usize, path: String },
    #[error("unexpected {rest:?} after `]` in {path:?}")]
    AfterBracket { rest: String, path: String },
    #[error("{0:?} must start with a field name")]
    StartsWithIndex(String),
}

/// Parses `phone_numbers[0].value` into steps. Keys are non-empty; indexes are below 1,000.
pub fn parse_target(path: &str) -> Result<Vec<Step>, TargetError> {
    if path.trim().is_empty() {
        return Err(TargetError::Empty);
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && (steps.is_empty() || rest.is_empty()) {
            return Err(TargetError::EmptyName(path.to_string()));
        }
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| TargetError::Unclosed(path.to_string()))?;
            let index: usize = rest[1..close]
                .parse()
                .map_err(|_| TargetError::BadIndex(path.to_string()))?;
            if index >= 1000 {
                return Err(TargetError::IndexTooLarge {
                    index,
                    path: path.to_string(),
                });
            }
            steps.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(TargetError::AfterBracket {
                    rest: rest.to_string(),
                    path: path.to_string(),
                });
            }
        }
    }
    if matches!(steps.first(), Some(Step::Index(_))) {
        return Err(TargetError::StartsWithIndex(path.to_string()));
    }
    Ok(steps)
}

/// A body under construction. Arrays are sparse while mapping entries are applied and become
/// dense (holes dropped) when the body is finished, so optional entries can leave gaps.
#[derive(Debug, Default)]
pub struct Tree {
    root: Vec<(String, Node)>,
}

#[derive(Debug)]
enum Node {
    Leaf(Value),
    Object(Vec<(String, Node)>),
    Array(std::collections::BTreeMap<usize, Node>),
}

impl Tree {
    /// Sets the value at `steps`, replacing whatever stood there.
    pub fn set(&mut self, steps: &[Step], value: Value) {
        let Some((Step::Key(first), rest)) = steps.split_first() else {
            return;
        };
        let slot = object_slot(&mut self.root, first);
        set_node(slot, rest, value);
    }

    pub fn into_value(self) -> Map<String, Value> {
        object_into_map(self.root)
    }
}

fn object_slot<'a>(entries: &'a mut Vec<(String, Node)>, key: &str) -> &'a mut Node {
    let index = match entries.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            entries.push((key.to_string(), Node::Leaf(Value::Null)));
            entries.len() - 1
        }
    };
    &mut entries[index].1
}

fn set_node(node: &mut Node, steps: &[Step], value: Value) {
    match steps.split_first() {
        None => *node = Node::Leaf(value),
        Some((Step::Key(key), rest)) => {
            if !matches!(node, Node::Object(_)) {
                *node = Node::Object(Vec::new());
            }
            if let Node::Object(entries) = node {
                set_node(object_slot(entries, key), rest, value);
            }
        }
        Some((Step::Index(index), rest)) => {
            if !matches!(node, Node::Array(_)) {
                *node = Node::Array(Default::default());
            }
            if let Node::Array(items) = node {
                let slot = items.entry(*index).or_insert(Node::Leaf(Value::Null));
                set_node(slot, rest, value);
            }
        }
    }
}

fn object_into_map(entries: Vec<(String, Node)>) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, node)| (k, node_into_value(node)))
        .collect()
}

fn node_into_value(node: Node) -> Value {
    match node {
        Node::Leaf(value) => value,
        Node::Object(entries) => Value::Object(object_into_map(entries)),
        Node::Array(items) => Value::Array(items.into_values().map(node_into_value).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse_and_reject_malformed_paths() {
        assert_eq!(
            parse_target("phone_numbers[0].value").unwrap(),
            vec![
                Step::Key("phone_numbers".into()),
                Step::Index(0),
                Step::Key("value".into())
            ]
        );
        for bad in ["", "[0]", "a[", "a[x]", "a..b", "a[0]b", "a[5000]"] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn sparse_arrays_become_dense_in_index_order() {
        let mut tree = Tree::default();
        tree.set(&parse_target("phones[2].value").unwrap(), json!("+2"));
        tree.set(&parse_target("name").unwrap(), json!("n"));
        tree.set(&parse_target("phones[0].value").unwrap(), json!("+0"));
        tree.set(&parse_target("phones[0].label").unwrap(), json!("Work"));
        let body = Value::Object(tree.into_value());
        assert_eq!(
            body,
            json!({"phones": [{"value": "+0", "label": "Work"}, {"value": "+2"}], "name": "n"})
        );
        assert_eq!(
            body.to_string(),
            r#"{"phones":[{"value":"+0","label":"Work"},{"value":"+2"}],"name":"n"}"#
        );
    }

    #[test]
    fn remove_handles_literal_and_nested_paths() {
        let mut record = json!({"a": {"b": 1, "c": 2}, "x.y": 3})
            .as_object()
            .unwrap()
            .clone();
        assert!(remove(&mut record, "a.b"));
        assert!(remove(&mut record, "x.y"));
        assert!(!remove(&mut record, "a.zzz"));
        assert_eq!(Value::Object(record), json!({"a": {"c": 2}}));
    }
}
