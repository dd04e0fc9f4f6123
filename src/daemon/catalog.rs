//! The destination files of the daemon's folder, as they are now: found by polling the folder
//! (size and modification time tell a file changed), loaded again when they change, and the
//! invalid ones kept with their error so they are reported once per change, not once per poll.
//!
//! A destination file is a `*.toml` file directly in the folder; everything else (the inputs
//! beside them, hidden files, the temporary files an atomic save leaves for an instant) is not
//! looked at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::destination::{Destination, Status};
use crate::schedule::Timing;

/// What tells that a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    modified: Option<SystemTime>,
    len: u64,
    /// An atomic save (write a temporary file, rename it over) makes a new inode.
    inode: u64,
}

impl Fingerprint {
    /// The file's fingerprint now; `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}

/// A destination file that loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub destination: Destination,
    /// `None`: no `cron` nor `every` (it may still run on input change).
    pub timing: Option<Timing>,
    /// The dataset the destination reads, for `on_input_change`.
    pub input: PathBuf,
}

impl Loaded {
    pub fn is_active(&self) -> bool {
        self.destination.status == Status::Active
    }
}

/// One file of the folder.
#[derive(Debug, Clone)]
pub struct Entry {
    pub fingerprint: Fingerprint,
    pub state: Result<Loaded, String>,
}

/// What a scan found different from the one before.
#[derive(Debug, Clone)]
pub enum Change {
    /// New or changed and loaded (the previous version, if any, is replaced).
    Loaded(PathBuf),
    /// New or changed and invalid: the message says why.
    Invalid(PathBuf, String),
    Removed(PathBuf),
}

/// The folder's destination files.
#[derive(Debug, Default)]
pub struct Catalog {
    pub entries: BTreeMap<PathBuf, Entry>,
}

impl Catalog {
    /// Reads the folder again; returns what changed. A folder that cannot be read is an error
    /// (the entries are kept as they were).
    pub fn scan(&mut self, dir: &Path) -> std::io::Result<Vec<Change>> {
        let mut seen = Vec::new();
        for item in std::fs::read_dir(dir)? {
            let Ok(item) = item else { continue };
            let path = item.path();
            if is_destination_file(&path) && path.is_file() {
                seen.push(path);
            }
        }
        let mut changes = Vec::new();
        let gone: Vec<PathBuf> = self
            .entries
            .keys()
            .filter(|p| !seen.contains(p))
            .cloned()
            .collect();
        for path in gone {
            self.entries.remove(&path);
            changes.push(Change::Removed(path));
        }
        for path in seen {
            let Some(fingerprint) = Fingerprint::of(&path) else {
                continue;
            };
            if self
                .entries
                .get(&path)
                .is_some_and(|e| e.fingerprint == fingerprint)
            {
                continue;
            }
            let state = load(&path);
            changes.push(match &state {
                Ok(_) => Change::Loaded(path.clone()),
                Err(message) => Change::Invalid(path.clone(), message.clone()),
            });
            self.entries.insert(path, Entry { fingerprint, state });
        }
        Ok(changes)
    }

    /// The loaded destination of `path`, if it is valid.
    pub fn loaded(&self, path: &Path) -> Option<&Loaded> {
        self.entries.get(path).and_then(|e| e.state.as_ref().ok())
    }

    /// How many files are active, paused and invalid.
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut counts = (0, 0, 0);
        for entry in self.entries.values() {
            match &entry.state {
                Ok(loaded) if loaded.is_active() => counts.0 += 1,
                Ok(_) => counts.1 += 1,
                Err(_) => counts.2 += 1,
            }
        }
        counts
    }
}

fn is_destination_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    !hidden && path.extension().is_some_and(|e| e == "toml")
}

fn load(path: &Path) -> Result<Loaded, String> {
    let destination = Destination::load(path).map_err(|err| err.to_string())?;
    let timing = destination
        .schedule
        .timing()
        .map_err(|err| err.to_string())?;
    let source = &destination.source.path;
    let input = path.parent().map_or(source.clone(), |dir| dir.join(source));
    Ok(Loaded {
        destination,
        timing,
        input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESTINATION: &str = r#"
version = 1
name = "contacts"
status = "active"
credential = "Local sandbox"
mode = "manual"
[source]
path = "contacts.csv"
[request]
method = "POST"
url = "/v1/contacts"
[schedule]
every = "15m"
"#;

    #[test]
    fn only_toml_files_are_destinations_and_changes_are_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("contacts.csv"), "a,b\n1,2\n").unwrap();
        std::fs::write(dir.path().join("contacts.toml"), DESTINATION).unwrap();
        std::fs::write(dir.path().join(".contacts.toml.tmp-1-0"), "half").unwrap();
        std::fs::write(dir.path().join("broken.toml"), "version = 1\nname = 3\n").unwrap();
        let mut catalog = Catalog::default();
        let changes = catalog.scan(dir.path()).unwrap();
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(catalog.counts(), (1, 0, 1));
        let broken = changes
            .iter()
            .find_map(|c| match c {
                Change::Invalid(path, message) => Some((path.clone(), message.clone())),
                _ => None,
            })
            .unwrap();
        assert!(broken.0.ends_with("broken.toml"));
        assert!(broken.1.contains("broken.toml:2"), "{}", broken.1);
        let loaded = catalog.loaded(&dir.path().join("contacts.toml")).unwrap();
        assert_eq!(loaded.input, dir.path().join("contacts.csv"));
        assert!(matches!(loaded.timing, Some(Timing::Every(_))));

        assert!(
            catalog.scan(dir.path()).unwrap().is_empty(),
            "nothing changed"
        );
        std::fs::write(
            dir.path().join("contacts.toml"),
            DESTINATION.replace("active", "paused").replace("15m", "1h"),
        )
        .unwrap();
        std::fs::remove_file(dir.path().join("broken.toml")).unwrap();
        let changes = catalog.scan(dir.path()).unwrap();
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(catalog.counts(), (0, 1, 0));
    }
}
