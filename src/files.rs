//! Writing files: every whole-file write goes through [`replace_atomic`] (a random same-folder
//! temporary file opened with O_EXCL, synced, renamed over the target, folder synced), files
//! this program creates are 0600, and nothing is ever written through a symlink.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The mode of every file this program creates: owner read/write only.
#[cfg(unix)]
const PRIVATE_MODE: u32 = 0o600;

/// What a replaced file's mode becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always 0600, even when the file existed with a wider mode (it holds secrets).
    Private,
    /// The mode the file had, or 0600 for a new file (a file the person owns and may share).
    Kept,
}

/// Opens `path` for appending, creating it with mode 0600 (owner read/write only) if absent.
/// A symlink at `path` is refused rather than followed.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    restrict(&mut options);
    let file = options.open(path)?;
    ensure_private(&file)?;
    Ok(file)
}

/// Creates `dir` and any missing parents with mode 0700 (owner only); folders that exist keep
/// their mode. A folder others could write to would let them swap the private files inside it.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Replaces `path` with `contents`, always leaving it 0600 (see [`replace_atomic`]).
pub fn write_private_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_atomic(path, contents, Mode::Private)
}

/// Replaces `path` with `contents` atomically: a reader sees the old file or the new one, never
/// half of one, and after a crash the file is one or the other.
///
/// The temporary file gets a random name in the same folder and is created with O_EXCL, so a
/// file or symlink someone planted at a name it could take is never opened; it is written,
/// given its mode, synced, and renamed over `path`, and then the folder is synced so the rename
/// itself is durable. A symlink at `path` is replaced by the new file, never written through.
pub fn replace_atomic(path: &Path, contents: &[u8], mode: Mode) -> io::Result<()> {
    let dir = folder_of(path);
    create_private_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let kept = match mode {
        Mode::Private => None,
        Mode::Kept => existing_mode(path)?,
    };
    let mut temporary = temporary_in(dir, &name.to_string_lossy(), RANDOM_CHARS)?;
    temporary.write_all(contents)?;
    set_mode(temporary.as_file(), kept)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    sync_folder(dir)
}

/// Random characters in a temporary file's name: 62^12 names, none guessable in advance.
const RANDOM_CHARS: usize = 12;

/// A new file `.NAME.<random>.tmp` in `dir`, created 0600 with O_CREAT|O_EXCL: it never opens
/// a file or symlink that is already there (another name is drawn instead).
fn temporary_in(dir: &Path, name: &str, random: usize) -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .rand_bytes(random)
        .tempfile_in(dir)
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The permission bits of the regular file at `path`; `None` when there is none (a symlink
/// counts as none: its target's mode is not this file's).
#[cfg(unix)]
fn existing_mode(path: &Path) -> io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Ok(Some(meta.permissions().mode() & 0o7777)),
        Ok(_) => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> io::Result<Option<u32>> {
    Ok(None)
}

/// Gives the open file `mode`, or 0600 (tempfile creates it 0600 already; this states it).
#[cfg(unix)]
fn set_mode(file: &File, mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode.unwrap_or(PRIVATE_MODE)))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: Option<u32>) -> io::Result<()> {
    Ok(())
}

/// Syncing the folder makes a rename in it durable. A file system that cannot sync a folder
/// (EINVAL, as some network and FUSE ones answer) has nothing more to offer; other errors count.
#[cfg(unix)]
fn sync_folder(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Folders cannot be opened for syncing on every platform; there the rename is left to the OS.
#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn restrict(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(PRIVATE_MODE).custom_flags(libc::O_NOFOLLOW);
}

#[cfg(not(unix))]
fn restrict(_options: &mut OpenOptions) {}

/// A file that already existed keeps its mode on open; tighten it so old files become private too.
#[cfg(unix)]
fn ensure_private(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata()?.permissions().mode() & 0o777;
    if mode != PRIVATE_MODE {
        file.set_permissions(fs::Permissions::from_mode(PRIVATE_MODE))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn ensure_private(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests;
