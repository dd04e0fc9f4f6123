//! What identifies an input between runs: size, modification time and a SHA-256 of its start,
//! so a rerun over a changed file is caught instead of mixing two inputs' record numbers.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of the input hashed to recognise it; smaller inputs are hashed whole.
const HASHED_PREFIX: u64 = 1 << 20;

/// What identifies an input between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// The input's path as given (for messages), or `-` for standard input.
    pub path: String,
    pub size: u64,
    /// Modification time in nanoseconds since the UNIX epoch, when the platform gives one.
    #[serde(default)]
    pub mtime_ns: Option<u64>,
    /// SHA-256 (hex) of the first `hashed_bytes` bytes.
    pub sha256: String,
    pub hashed_bytes: u64,
}

impl InputIdentity {
    /// Reads a file's size, modification time and the hash of its start (all of it when small).
    pub fn of_file(path: &Path) -> io::Result<Self> {
        let metadata = fs::metadata(path)?;
        let mtime_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok());
        let mut hasher = Sha256::new();
        let mut reader = File::open(path)?.take(HASHED_PREFIX);
        let hashed_bytes = io::copy(&mut reader, &mut HashWriter(&mut hasher))?;
        Ok(Self {
            path: path.display().to_string(),
            size: metadata.len(),
            mtime_ns,
            sha256: hex(&hasher.finalize()),
            hashed_bytes,
        })
    }

    /// Whether `now` is the same input as `self` (the identity an earlier run stored). Size and
    /// hash must agree; the modification time must too unless the hash covers the whole input,
    /// since copying or touching a file changes its time but not its content.
    pub fn same_input(&self, now: &InputIdentity) -> bool {
        let whole = self.hashed_bytes == self.size;
        self.size == now.size
            && self.sha256 == now.sha256
            && self.hashed_bytes == now.hashed_bytes
            && (whole || self.mtime_ns == now.mtime_ns)
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A short description for messages: size and the start of the hash.
pub(super) fn describe(identity: &InputIdentity) -> String {
    format!(
        "{} bytes, sha256 of the first {} bytes {}",
        identity.size,
        identity.hashed_bytes,
        &identity.sha256[..12.min(identity.sha256.len())]
    )
}
