//! What the wizard knows about the dataset: its format, the attributes of its first records
//! (nested ones as dotted paths), those first records as samples, and its size.

use std::path::{Path, PathBuf};

use crate::records::{self, Format, Record, RecordError};

/// How many records are read for attributes and the sample pane. Enough to fill one full batch
/// of the default size, small enough to read instantly from the start of any file.
pub const SAMPLE_RECORDS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub path: PathBuf,
    pub format: Format,
    pub attributes: Vec<String>,
    pub samples: Vec<Result<Record, RecordError>>,
    pub size_bytes: u64,
    /// Whether the first [`SAMPLE_RECORDS`] records were the whole file.
    pub complete: bool,
    /// The reader's diagnosis of the whole input (wrong delimiter, quote-wrapped rows, encoding,
    /// an empty file), to show on step 1.
    pub notes: Vec<String>,
}

impl Dataset {
    /// The record count when it is already known from reading the samples.
    pub fn known_count(&self) -> Option<u64> {
        self.complete.then_some(self.samples.len() as u64)
    }

    pub fn records(&self) -> impl Iterator<Item = Result<Record, RecordError>> + '_ {
        self.samples.iter().cloned()
    }
}

/// Reads the start of `path` with the destination's reading settings (`run` reads it the same
/// way). Blocking: run it off the UI loop.
pub fn inspect(path: &Path, options: records::ReadOptions) -> Result<Dataset, String> {
    let size_bytes = std::fs::metadata(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?
        .len();
    let mut reader = records::open_with(&records::Input::Path(path.to_path_buf()), options)
        .map_err(|e| e.to_string())?;
    let format = reader.format();
    let mut samples = Vec::new();
    let mut complete = true;
    for item in reader.by_ref() {
        if samples.len() == SAMPLE_RECORDS {
            complete = false;
            break;
        }
        samples.push(item);
    }
    let mut attributes = reader.columns().map(<[String]>::to_vec).unwrap_or_default();
    for attribute in records::discover(samples.iter().flatten()) {
        if !attributes.contains(&attribute.path) {
            attributes.push(attribute.path);
        }
    }
    Ok(Dataset {
        path: path.to_path_buf(),
        format,
        attributes,
        samples,
        size_bytes,
        complete,
        notes: reader.notes().to_vec(),
    })
}

/// Counts every record of `path` when that is cheap (`None` for large files). Blocking and
/// proportional to the file: run it in the background.
pub fn count(path: &Path, format: Option<Format>) -> Option<u64> {
    records::count_records(&records::Input::Path(path.to_path_buf()), format)
}

/// File-system completions for a partly typed path: the entries of its folder starting with the
/// typed name, folders ending in `/`. Blocking (reads one directory).
pub fn complete_path(typed: &str) -> Vec<String> {
    let (dir, stem) = match typed.rfind('/') {
        Some(at) => (&typed[..=at], &typed[at + 1..]),
        None => ("", typed),
    };
    let expanded_dir = if let Some(rest) = dir.strip_prefix("~/") {
        directories::BaseDirs::new()
            .map(|b| b.home_dir().join(rest))
            .unwrap_or_else(|| PathBuf::from(dir))
    } else if dir.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(dir)
    };
    let Ok(entries) = std::fs::read_dir(&expanded_dir) else {
        return Vec::new();
    };
    let mut items: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            Some(format!("{dir}{name}{}", if is_dir { "/" } else { "" }))
        })
        .collect();
    items.sort();
    items
}

/// The longest text every item starts with, for Tab completion of a unique prefix.
pub fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut end = first.len();
    for item in &items[1..] {
        end = end.min(
            first
                .bytes()
                .zip(item.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_become_dotted_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.jsonl");
        std::fs::write(
            &path,
            "{\"id\": 1, \"user\": {\"id\": 2, \"email\": \"a@b\"}}\n",
        )
        .unwrap();
        let dataset = inspect(&path, records::ReadOptions::default()).unwrap();
        assert_eq!(
            dataset.attributes,
            vec!["id", "user", "user.id", "user.email"]
        );
        assert_eq!(dataset.known_count(), Some(1));
        assert_eq!(dataset.format, Format::Jsonl);
    }

    #[test]
    fn completes_paths_in_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("contacts.csv"), "a\n1\n").unwrap();
        std::fs::create_dir(dir.path().join("cont")).unwrap();
        let typed = format!("{}/con", dir.path().display());
        let items = complete_path(&typed);
        assert_eq!(
            items,
            vec![
                format!("{}/cont/", dir.path().display()),
                format!("{}/contacts.csv", dir.path().display())
            ]
        );
        assert_eq!(
            common_prefix(&items),
            format!("{}/cont", dir.path().display())
        );
    }
}
