//! Modes, atomic replacement, and that no write goes through a planted symlink.

use super::*;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).unwrap().file_type().is_file()
}

#[test]
fn private_files_are_0600_even_when_they_existed_with_wider_modes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    fs::write(&path, b"old\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut file = open_private_append(&path).unwrap();
    file.write_all(b"new\n").unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(fs::read_to_string(&path).unwrap(), "old\nnew\n");
}

#[test]
fn appending_refuses_a_symlink_instead_of_following_it() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"keep").unwrap();
    let path = dir.path().join("log.jsonl");
    symlink(&victim, &path).unwrap();
    assert!(open_private_append(&path).is_err());
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
}

#[test]
fn new_folders_are_0700_and_existing_ones_keep_their_mode() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing");
    fs::create_dir(&existing).unwrap();
    fs::set_permissions(&existing, fs::Permissions::from_mode(0o755)).unwrap();
    let nested = existing.join("a").join("b");
    create_private_dir_all(&nested).unwrap();
    assert_eq!(mode(&existing), 0o755);
    assert_eq!(mode(&existing.join("a")), 0o700);
    assert_eq!(mode(&nested), 0o700);
    create_private_dir_all(&nested).unwrap();
}

#[test]
fn atomic_write_replaces_contents_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("store.toml");
    write_private_atomic(&path, b"one").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    write_private_atomic(&path, b"two").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "two");
    assert_eq!(mode(&path), 0o600);
    let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn a_kept_mode_survives_and_a_new_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dest.toml");
    replace_atomic(&path, b"one", Mode::Kept).unwrap();
    assert_eq!(mode(&path), 0o600);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    replace_atomic(&path, b"two", Mode::Kept).unwrap();
    assert_eq!(mode(&path), 0o640);
    assert_eq!(fs::read_to_string(&path).unwrap(), "two");
}

#[test]
fn concurrent_replacements_of_one_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.toml");
    std::thread::scope(|scope| {
        for i in 0..8 {
            let path = &path;
            scope.spawn(move || write_private_atomic(path, format!("v{i}").as_bytes()).unwrap());
        }
    });
    assert!(fs::read_to_string(&path).unwrap().starts_with('v'));
}

#[test]
fn a_temporary_file_never_opens_a_name_that_is_taken() {
    // With no random characters the temporary file has exactly one name it could take: plant a
    // symlink there and the create fails (O_EXCL) instead of writing through it.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"keep").unwrap();
    symlink(&victim, dir.path().join(".dest.toml..tmp")).unwrap();
    let err = temporary_in(dir.path(), "dest.toml", 0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
    // A dangling symlink (which a plain create would follow and create) is refused too.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("created-through-link");
    symlink(&target, dir.path().join(".dest.toml..tmp")).unwrap();
    assert!(temporary_in(dir.path(), "dest.toml", 0).is_err());
    assert!(!target.exists());
}

#[test]
fn temporary_names_are_random() {
    let dir = tempfile::tempdir().unwrap();
    let names: std::collections::BTreeSet<PathBuf> = (0..20)
        .map(|_| {
            let file = temporary_in(dir.path(), "dest.toml", RANDOM_CHARS).unwrap();
            let name = file
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                name.starts_with(".dest.toml.") && name.ends_with(".tmp"),
                "{name}"
            );
            assert_eq!(
                name.len(),
                ".dest.toml.".len() + RANDOM_CHARS + ".tmp".len()
            );
            file.keep().unwrap().1
        })
        .collect();
    assert_eq!(names.len(), 20, "every draw gives a new name");
}

#[test]
fn a_save_never_writes_through_planted_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    fs::write(&victim, b"keep").unwrap();
    let path = dir.path().join("dest.toml");
    fs::write(&path, b"old").unwrap();
    // Every name the earlier writers used (`.NAME.tmp-PID` and `.NAME.tmp-PID-N`), and the
    // sibling names a guess at the new scheme would try, all point at the victim.
    let pid = std::process::id();
    let mut planted = vec![
        format!(".dest.toml.tmp-{pid}"),
        ".dest.toml..tmp".to_string(),
    ];
    planted.extend((0..64).map(|n| format!(".dest.toml.tmp-{pid}-{n}")));
    planted.extend((0..64).map(|n| format!(".dest.toml.{n:0>12}.tmp")));
    for name in &planted {
        symlink(&victim, dir.path().join(name)).unwrap();
    }
    for round in 0..32 {
        replace_atomic(&path, format!("new {round}").as_bytes(), Mode::Kept).unwrap();
    }
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
    assert!(is_regular_file(&path));
    assert_eq!(fs::read_to_string(&path).unwrap(), "new 31");
    for name in &planted {
        let link = dir.path().join(name);
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    let entries = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        entries,
        planted.len() + 1,
        "no temporary file is left behind"
    );
}

#[test]
fn a_destination_that_is_a_symlink_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"keep").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    let path = dir.path().join("dest.toml");
    symlink(&victim, &path).unwrap();
    replace_atomic(&path, b"new", Mode::Kept).unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
    assert!(is_regular_file(&path));
    assert_eq!(
        mode(&path),
        0o600,
        "the link's target's mode is not taken over"
    );
}
