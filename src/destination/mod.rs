//! The destination file: every setting of the wizard, saved as versioned TOML.
//!
//! One module parses and writes it. Loading rejects unknown keys and wrong types with the line,
//! column, key and what was expected; saving then loading gives the same [`Destination`].

mod alerts;
mod error;
mod input;
mod model;
mod preserve;
mod schedule;
mod sync;

pub use alerts::{AlertOn, Alerts};
pub use error::{DestinationError, Located, Problem, line_column};
pub use input::*;
pub use model::*;
pub use schedule::Schedule;
pub use sync::{MatchOn, MatchRule, SyncKey, SyncMode, SyncResource, SyncSettings};

use std::path::Path;

/// The only version this build reads and writes.
pub const VERSION: u32 = 1;

impl Destination {
    /// Parses destination TOML. `origin` names the file in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, DestinationError> {
        let destination: Destination =
            toml::from_str(text).map_err(|err| DestinationError::parse(origin, text, &err))?;
        destination
            .check()
            .map_err(|problems| DestinationError::invalid(origin, text, problems))?;
        Ok(destination)
    }

    /// Reads and parses a destination file.
    pub fn load(path: &Path) -> Result<Self, DestinationError> {
        Self::read(path).map(|(_, destination)| destination)
    }

    /// Reads a destination file once: its text (for located messages, the comment-keeping save
    /// and the token check) and the settings parsed from it.
    pub fn read(path: &Path) -> Result<(String, Self), DestinationError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DestinationError::Io {
            path: origin.clone(),
            source,
        })?;
        let destination = Self::from_toml(&text, &origin)?;
        Ok((text, destination))
    }

    /// The TOML text of this destination, as [`Destination::save`] writes it.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).expect("a destination always serialises to TOML");
        format!(
            "# aircall-dest destination file (format version {VERSION}).\n\
             # Fields are documented in docs/destination-file.md. Secrets never belong here:\n\
             # `credential` names an entry of the credentials store.\n\n{body}"
        )
    }

    /// Writes the destination atomically; an existing file keeps its mode.
    pub fn save(&self, path: &Path) -> Result<(), DestinationError> {
        write_atomic(path, &self.to_toml())
    }

    /// The TOML text of this destination written over `original` (the text it was loaded from):
    /// settings whose value did not change keep their exact text, comments and layout; only the
    /// items whose values differ are rewritten, added or removed. An original that is not TOML
    /// any more gives the canonical text of [`Destination::to_toml`].
    pub fn to_toml_over(&self, original: &str) -> String {
        let body = toml::to_string_pretty(self).expect("a destination always serialises to TOML");
        let (Ok(mut document), Ok(fresh)) = (
            original.parse::<toml_edit::DocumentMut>(),
            body.parse::<toml_edit::DocumentMut>(),
        ) else {
            return self.to_toml();
        };
        let same = |text: &str| toml::from_str::<Destination>(text).is_ok_and(|d| d == *self);
        let mut merge = preserve::Merge::new(document.as_table(), fresh.as_table(), &same);
        merge.table(document.as_table_mut(), fresh.as_table());
        document.to_string()
    }

    /// Saves over the file `original` was read from, keeping its comments and layout
    /// (see [`Destination::to_toml_over`]).
    pub fn save_over(&self, path: &Path, original: &str) -> Result<(), DestinationError> {
        write_atomic(path, &self.to_toml_over(original))
    }
}

/// Replaces the file through [`crate::files::replace_atomic`]: a random O_EXCL temporary file,
/// synced, renamed, folder synced; an existing file keeps its mode, a new one is 0600.
fn write_atomic(path: &Path, text: &str) -> Result<(), DestinationError> {
    crate::files::replace_atomic(path, text.as_bytes(), crate::files::Mode::Kept).map_err(
        |source| DestinationError::Write {
            path: path.display().to_string(),
            source,
        },
    )
}
