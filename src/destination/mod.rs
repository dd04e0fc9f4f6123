//! The destination file: every setting of the wizard, saved as versioned TOML.
//!
//! One module parses and writes it. Loading rejects unknown keys and wrong types with the line,
//! column, key and what was expected; saving then loading gives the same [`Destination`].

mod error;
mod model;

pub use error::{DestinationError, Located, Problem, line_column};
pub use model::*;

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
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DestinationError::Io {
            path: origin.clone(),
            source,
        })?;
        Self::from_toml(&text, &origin)
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

    /// Writes the destination atomically. A destination holds no secrets, so the usual mode is kept.
    pub fn save(&self, path: &Path) -> Result<(), DestinationError> {
        let text = self.to_toml();
        let origin = path.display().to_string();
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(crate::files::temporary_name(
            &path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
        ));
        let io = |source| DestinationError::Io {
            path: origin.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }
}
