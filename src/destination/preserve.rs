//! Writing a destination over a hand-written file: only the items whose values changed are
//! touched, so comments, blank lines, key order and quoting of everything else survive.

use toml_edit::{ArrayOfTables, InlineTable, Item, Table, Value};

/// One step of a path from the document root: a key, or an entry of an array of tables.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Merges freshly serialised TOML into an original document, value by value.
pub(super) struct Merge<'a> {
    /// Document position for tables that did not exist in the original (after all others).
    next_position: isize,
    /// The canonical serialisation, to try a key's presence or absence against.
    fresh: Table,
    /// Whether a text means the same destination as the one being saved.
    same: &'a dyn Fn(&str) -> bool,
    path: Vec<Step>,
}

impl<'a> Merge<'a> {
    pub(super) fn new(original: &Table, fresh: &Table, same: &'a dyn Fn(&str) -> bool) -> Self {
        Self {
            next_position: max_position(original) + 1,
            fresh: fresh.clone(),
            same,
            path: Vec::new(),
        }
    }

    /// Whether the canonical text, with `key` at the current path set to `item` (or removed),
    /// still means the same destination: a key written with its default value, or left out
    /// because it has its default, is then kept as the person wrote it.
    fn harmless(&self, key: &str, item: Option<&Item>) -> bool {
        let mut trial = self.fresh.clone();
        let Some(table) = table_at(&mut trial, &self.path) else {
            return false;
        };
        match item {
            Some(item) => {
                table.insert(key, item.clone());
            }
            None => {
                table.remove(key);
            }
        }
        let mut document = toml_edit::DocumentMut::new();
        *document.as_table_mut() = trial;
        (self.same)(&document.to_string())
    }

    /// Makes `original` hold the values of `fresh`, keeping the text of every unchanged item.
    pub(super) fn table(&mut self, original: &mut Table, fresh: &Table) {
        let gone: Vec<String> = original
            .iter()
            .filter(|(key, _)| !fresh.contains_key(key))
            .map(|(key, _)| key.to_string())
            .collect();
        for key in gone {
            if !self.harmless(&key, original.get(&key)) {
                original.remove(&key);
            }
        }
        for (key, item) in fresh.iter() {
            self.path.push(Step::Key(key.to_string()));
            match original.get_mut(key) {
                Some(existing) => self.item(existing, item),
                None => {
                    self.path.pop();
                    let skip = self.harmless(key, None);
                    self.path.push(Step::Key(key.to_string()));
                    if skip {
                    } else if let Item::Table(new) = item {
                        // A new section gets only the keys that differ from their defaults.
                        let mut table = Table::new();
                        table.set_position(Some(self.next_position));
                        self.next_position += 1;
                        original.insert(key, Item::Table(table));
                        if let Some(Item::Table(table)) = original.get_mut(key) {
                            self.table(table, new);
                        }
                    } else {
                        let mut item = item.clone();
                        self.place(&mut item);
                        original.insert(key, item);
                    }
                }
            }
            self.path.pop();
        }
    }

    fn item(&mut self, original: &mut Item, fresh: &Item) {
        if normal(original) == normal(fresh) {
            return;
        }
        match (&mut *original, fresh) {
            (Item::Table(old), Item::Table(new)) => self.table(old, new),
            (Item::ArrayOfTables(old), Item::ArrayOfTables(new)) => self.tables(old, new),
            (Item::Value(Value::InlineTable(old)), Item::Table(new)) => {
                inline(old, &new.clone().into_inline_table())
            }
            (Item::Value(old), Item::Value(new)) => value(old, new),
            _ => {
                let mut item = fresh.clone();
                self.place(&mut item);
                *original = item;
            }
        }
    }

    /// Entry by entry: `[[mapping]]` tables keep their comments when their values stay.
    fn tables(&mut self, original: &mut ArrayOfTables, fresh: &ArrayOfTables) {
        while original.len() > fresh.len() {
            original.remove(original.len() - 1);
        }
        for (i, new) in fresh.iter().enumerate() {
            match original.get_mut(i) {
                Some(old) => {
                    self.path.push(Step::Index(i));
                    self.table(old, new);
                    self.path.pop();
                }
                None => {
                    let mut table = new.clone();
                    self.place_table(&mut table);
                    original.push(table);
                }
            }
        }
    }

    /// Gives a new item's tables positions after everything already in the document.
    fn place(&mut self, item: &mut Item) {
        match item {
            Item::Table(table) => self.place_table(table),
            Item::ArrayOfTables(tables) => {
                for table in tables.iter_mut() {
                    self.place_table(table);
                }
            }
            _ => {}
        }
    }

    fn place_table(&mut self, table: &mut Table) {
        table.set_position(Some(self.next_position));
        self.next_position += 1;
        for (_, item) in table.iter_mut() {
            self.place(item);
        }
    }
}

fn value(original: &mut Value, fresh: &Value) {
    if let (Value::InlineTable(old), Value::InlineTable(new)) = (&mut *original, fresh) {
        inline(old, new);
        return;
    }
    // The key's comment lives in the key's decor; the value's own spacing and trailing
    // comment live here and are kept.
    let decor = original.decor().clone();
    *original = fresh.clone();
    *original.decor_mut() = decor;
}

fn inline(original: &mut InlineTable, fresh: &InlineTable) {
    let gone: Vec<String> = original
        .iter()
        .filter(|(key, _)| !fresh.contains_key(key))
        .map(|(key, _)| key.to_string())
        .collect();
    for key in gone {
        original.remove(&key);
    }
    for (key, new) in fresh.iter() {
        match original.get_mut(key) {
            Some(old) if normal_value(old) == normal_value(new) => {}
            Some(old) => value(old, new),
            None => {
                let mut new = new.clone();
                new.decor_mut().clear();
                original.insert(key, new);
            }
        }
    }
}

/// An item's value without its formatting, to tell a changed value from a differently written one.
fn normal(item: &Item) -> Option<toml::Value> {
    match item {
        Item::None => None,
        Item::Value(value) => Some(normal_value(value)),
        Item::Table(table) => Some(toml::Value::Table(
            table
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), normal(v)?)))
                .collect(),
        )),
        Item::ArrayOfTables(tables) => Some(toml::Value::Array(
            tables
                .iter()
                .map(|t| normal(&Item::Table(t.clone())).unwrap_or(toml::Value::Boolean(false)))
                .collect(),
        )),
    }
}

fn normal_value(value: &Value) -> toml::Value {
    match value {
        Value::String(s) => toml::Value::String(s.value().clone()),
        Value::Integer(i) => toml::Value::Integer(*i.value()),
        Value::Float(f) => toml::Value::Float(*f.value()),
        Value::Boolean(b) => toml::Value::Boolean(*b.value()),
        Value::Datetime(d) => toml::Value::String(d.value().to_string()),
        Value::Array(items) => toml::Value::Array(items.iter().map(normal_value).collect()),
        Value::InlineTable(table) => toml::Value::Table(
            table
                .iter()
                .map(|(k, v)| (k.to_string(), normal_value(v)))
                .collect(),
        ),
    }
}

fn table_at<'t>(root: &'t mut Table, path: &[Step]) -> Option<&'t mut Table> {
    let mut table = root;
    let mut steps = path.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(key) = step else { return None };
        table = match table.get_mut(key)? {
            Item::Table(inner) => inner,
            Item::ArrayOfTables(tables) => match steps.next()? {
                Step::Index(i) => tables.get_mut(*i)?,
                Step::Key(_) => return None,
            },
            _ => return None,
        };
    }
    Some(table)
}

fn max_position(table: &Table) -> isize {
    let mut max = table.position().unwrap_or(0);
    for (_, item) in table.iter() {
        match item {
            Item::Table(inner) => max = max.max(max_position(inner)),
            Item::ArrayOfTables(tables) => {
                for inner in tables.iter() {
                    max = max.max(max_position(inner));
                }
            }
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use crate::destination::{Destination, Method, Transform};

    const EXAMPLE: &str = include_str!("../../assets/examples/contacts.toml");

    fn changed_lines(before: &str, after: &str) -> Vec<(usize, String, String)> {
        let a: Vec<&str> = before.lines().collect();
        let b: Vec<&str> = after.lines().collect();
        assert_eq!(a.len(), b.len(), "line count changed:\n{after}");
        a.iter()
            .zip(&b)
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
            .collect()
    }

    #[test]
    fn unchanged_destination_keeps_the_file_byte_for_byte() {
        let dest = Destination::from_toml(EXAMPLE, "contacts.toml").unwrap();
        assert_eq!(dest.to_toml_over(EXAMPLE), EXAMPLE);
    }

    #[test]
    fn a_toml_1_1_multi_line_inline_table_survives_a_save() {
        // TOML 1.1 lets an inline table span lines and end with a comma; `toml` and `toml_edit`
        // must read it alike, or the comment-keeping save rewrites it into something else.
        let original = EXAMPLE.replacen(
            "[request]\n",
            "[request]\nheaders = {\n    X-Source = \"crm\",   # who sent it\n    Accept = \"application/json\",\n}\n",
            1,
        );
        let mut dest = Destination::from_toml(&original, "contacts.toml").unwrap();
        assert_eq!(
            dest.request
                .headers
                .get("X-Source")
                .and_then(|v| v.as_str()),
            Some("crm")
        );
        dest.request.url = "/v1/contacts?source=crm".into();
        let after = dest.to_toml_over(&original);
        assert!(
            after.contains("headers = {\n    X-Source = \"crm\",   # who sent it\n    Accept = \"application/json\",\n}\n"),
            "{after}"
        );
        assert_eq!(Destination::from_toml(&after, "after").unwrap(), dest);
    }

    #[test]
    fn editing_one_setting_changes_only_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let mut dest = Destination::load(&path).unwrap();
        dest.request.url = "/v1/contacts?source=import".into();
        dest.request.method = Method::Put;
        dest.save_over(&path, EXAMPLE).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        let changes = changed_lines(EXAMPLE, &after);
        assert_eq!(
            changes
                .iter()
                .map(|(_, _, new)| new.as_str())
                .collect::<Vec<_>>(),
            ["method = \"PUT\"", "url = \"/v1/contacts?source=import\""],
            "{changes:?}"
        );
        assert_eq!(Destination::load(&path).unwrap(), dest);
    }

    #[test]
    fn mapping_edits_touch_only_their_entry_and_keep_comments() {
        let mut dest = Destination::from_toml(EXAMPLE, "contacts.toml").unwrap();
        dest.mapping[5].default_country = Some("FR".into());
        dest.mapping[7].optional = false;
        dest.mapping[0].transform = Transform::Uppercase;
        let after = dest.to_toml_over(EXAMPLE);
        assert_eq!(Destination::from_toml(&after, "after").unwrap(), dest);
        for line in EXAMPLE.lines().filter(|l| l.starts_with('#')) {
            assert!(after.contains(line), "comment lost: {line}\n{after}");
        }
        let removed: Vec<&str> = EXAMPLE
            .lines()
            .filter(|l| !after.lines().any(|a| a == *l))
            .collect();
        assert!(
            removed.iter().all(|l| [
                "default_country = \"US\"",
                "optional = true",
                "transform = \"trim\""
            ]
            .contains(l)),
            "{removed:?}"
        );
    }

    #[test]
    fn new_and_removed_sections_and_entries() {
        let mut dest = Destination::from_toml(EXAMPLE, "contacts.toml").unwrap();
        dest.batching.enabled = true;
        dest.mapping.truncate(4);
        dest.capture.file = Some("responses.jsonl".into());
        dest.request
            .headers
            .insert("X-Source".into(), toml::Value::String("crm".into()));
        let after = dest.to_toml_over(EXAMPLE);
        assert_eq!(Destination::from_toml(&after, "after").unwrap(), dest);
        assert!(after.contains("# Field mapping: the body of each request"));
        assert!(after.contains("[batching]\nenabled = true\n"), "{after}");
        assert!(
            !after.contains("max_records"),
            "defaults are not spelled out: {after}"
        );
        assert!(!after.contains("phone_numbers"));

        // And back: the entries come back as new tables, still loading to the same value.
        let restored = Destination::from_toml(EXAMPLE, "contacts.toml").unwrap();
        let again = restored.to_toml_over(&after);
        assert_eq!(Destination::from_toml(&again, "again").unwrap(), restored);
    }

    #[test]
    fn inline_tables_stay_inline() {
        let text = EXAMPLE.replace(
            "url = \"/v1/contacts\"",
            "url = \"/v1/contacts\"\nheaders = { X-Source = \"crm\" } # ours",
        );
        let mut dest = Destination::from_toml(&text, "t").unwrap();
        dest.request
            .headers
            .insert("X-Source".into(), toml::Value::String("erp".into()));
        let after = dest.to_toml_over(&text);
        assert!(
            after.contains("headers = { X-Source = \"erp\" } # ours"),
            "{after}"
        );
    }
}
