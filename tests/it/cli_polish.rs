//! What a new user meets on the command line: help with examples and every argument explained,
//! the environment listed, `--json` that parses, a clear word when the wizard has no terminal,
//! and `activate`/`pause` that change one line and never write through a symlink.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use clap::CommandFactory;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("aircall-dest").unwrap();
    cmd.env("AIRCALL_DEST_HOME", home)
        .env_remove("SSL_CERT_FILE");
    cmd
}

fn stdout_json(out: &std::process::Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every command path (`run`, `credentials add`, ...), the way a person types it.
fn command_paths(command: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    for sub in command.get_subcommands() {
        let mut path = prefix.clone();
        path.push(sub.get_name().to_string());
        out.push(path.clone());
        command_paths(sub, path, out);
    }
}

#[test]
fn every_command_has_examples_and_every_argument_a_description() {
    let cli = aircall_dest::cli::Cli::command();
    let mut paths = vec![Vec::new()];
    command_paths(&cli, Vec::new(), &mut paths);
    assert!(paths.len() > 14, "{paths:?}");
    for path in &paths {
        let mut command = cli.clone();
        for name in path {
            command = command.find_subcommand(name).unwrap().clone();
        }
        let help = command.render_long_help().to_string();
        assert!(
            help.contains("Examples:"),
            "`{}` --help:\n{help}",
            path.join(" ")
        );
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            assert!(
                builtin || arg.get_help().is_some(),
                "`{}` {} has no help",
                path.join(" "),
                arg.get_id()
            );
        }
    }
    // And through the binary, as a person sees it.
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path()).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Examples:") && help.contains("--dry-run"),
        "{help}"
    );
}

#[test]
fn the_environment_variables_are_listed_in_the_help() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "AIRCALL_DEST_HOME",
        "AIRCALL_DEST_LOG",
        "RUST_LOG",
        "SSL_CERT_FILE",
        "AIRCALL_DEST_SEED",
    ] {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}

#[test]
fn the_wizard_without_a_terminal_says_what_to_run_instead() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["setup", "x.toml"][..], &[]] {
        let out = cmd(home.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("needs a terminal"), "{stderr}");
        for instead in ["credentials add", "validate", "preview", "aircall-dest run"] {
            assert!(stderr.contains(instead), "{instead}: {stderr}");
        }
        assert!(!stderr.contains("os error"), "{stderr}");
    }
    assert!(!home.path().join("x.toml").exists());
}

#[test]
fn templates_json_lists_what_the_text_lists() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .args(["templates", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let all = stdout_json(&out);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let known: Vec<&str> = aircall_dest::templates::all()
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(ids, known);
    let out = cmd(home.path())
        .args(["templates", "create_records", "--json"])
        .output()
        .unwrap();
    let one = stdout_json(&out);
    assert_eq!(one["id"], "create_records");
    let contacts = one["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "contacts")
        .unwrap();
    assert_eq!(contacts["method"], "POST");
    assert!(
        contacts["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "first_name")
    );
}

#[test]
fn credentials_list_json_names_the_token_source_never_the_token() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .args(["credentials", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out), serde_json::json!([]));
    let added = cmd(home.path())
        .args([
            "credentials",
            "add",
            "prod",
            "--api-id",
            "id-1",
            "--token-stdin",
        ])
        .write_stdin("tok-canary-7781\n")
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let out = cmd(home.path())
        .args(["credentials", "list", "--json"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tok-canary-7781"));
    let list = stdout_json(&out);
    assert_eq!(list[0]["name"], "prod");
    assert_eq!(list[0]["auth"], "Basic");
    assert_eq!(list[0]["api_id"], "id-1");
    assert_eq!(list[0]["token"], "stored");
    assert_eq!(list[0]["base_url"], aircall_dest::rules::DEFAULT_BASE_URL);
}

#[test]
fn validate_json_gives_the_result_or_the_located_errors() {
    let home = tempfile::tempdir().unwrap();
    let example = root().join("assets/examples/contacts.toml");
    let out = cmd(home.path())
        .arg("validate")
        .arg(&example)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let result = stdout_json(&out);
    assert_eq!(result["valid"], true);
    assert_eq!(result["name"], "contacts-from-customers-csv");
    assert_eq!(result["template"]["id"], "create_records");
    assert!(
        result["warnings"][0]
            .as_str()
            .unwrap()
            .contains("is not saved here"),
        "{result}"
    );

    let text = std::fs::read_to_string(&example)
        .unwrap()
        .replace("concurrency = 4", "concurrency = \"four\"");
    let bad = home.path().join("bad.toml");
    std::fs::write(&bad, &text).unwrap();
    let out = cmd(home.path())
        .arg("validate")
        .arg(&bad)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result = stdout_json(&out);
    assert_eq!(result["valid"], false);
    let line = text
        .lines()
        .position(|l| l.contains("concurrency = \"four\""))
        .unwrap()
        + 1;
    assert_eq!(result["errors"][0]["line"], line, "{result}");
    assert_eq!(result["errors"][0]["column"], 15, "{result}");
}

#[test]
fn activate_changes_only_the_status_line_keeps_the_mode_and_writes_through_no_symlink() {
    let home = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("assets/examples/contacts.toml"))
        .unwrap()
        .replace("status = \"paused\"", "status   =   'paused'   # not yet");
    let dest = folder.path().join("contacts.toml");
    std::fs::write(&dest, &original).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Symlinks at the names the earlier writer used, pointing at a file that must not change.
    let victim = home.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    for name in [
        ".contacts.toml.tmp",
        ".contacts.toml.tmp-1",
        ".contacts.toml..tmp",
    ] {
        symlink(&victim, folder.path().join(name)).unwrap();
    }

    let out = cmd(home.path())
        .arg("activate")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&dest).unwrap();
    let changed: Vec<(&str, &str)> = original
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [(
            "status   =   'paused'   # not yet",
            "status   =   \"active\"   # not yet"
        )],
        "{after}"
    );
    assert_eq!(original.lines().count(), after.lines().count());
    let meta = std::fs::symlink_metadata(&dest).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

    let out = cmd(home.path()).arg("pause").arg(&dest).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let paused = std::fs::read_to_string(&dest).unwrap();
    assert!(
        paused.contains("status   =   \"paused\"   # not yet"),
        "{paused}"
    );
}

#[test]
fn configuration_and_state_live_in_the_xdg_folders_without_aircall_dest_home() {
    let home = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let xdg = |cmd: &mut Command| {
        cmd.env("HOME", home.path())
            .env_remove("AIRCALL_DEST_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_STATE_HOME")
            .env_remove("SSL_CERT_FILE");
    };
    let mut add = Command::cargo_bin("aircall-dest").unwrap();
    xdg(&mut add);
    let base_url = format!("http://{closed}");
    let out = add
        .args(["credentials", "add", "Local sandbox", "--api-id", "id"])
        .args(["--token-stdin", "--base-url", &base_url])
        .write_stdin("tok-123456\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dest = home.path().join("contacts.toml");
    let data = root().join("assets/data/customers-100.csv");
    let text = std::fs::read_to_string(root().join("assets/examples/contacts.toml"))
        .unwrap()
        .replace("../data/customers-100.csv", &data.display().to_string())
        .replace("status = \"paused\"", "status = \"active\"")
        .replace("max_attempts = 5", "max_attempts = 1");
    std::fs::write(&dest, text).unwrap();
    let mut run = Command::cargo_bin("aircall-dest").unwrap();
    xdg(&mut run);
    let out = run.arg("run").arg(&dest).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "nothing answers: {out:?}");

    let config = home.path().join(".config/aircall-dest");
    let state = home.path().join(".local/state/aircall-dest");
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&config), ["credentials.toml"]);
    let state_files = names(&state);
    // The run's state (its outcome log) is here, named after the destination.
    assert!(
        state_files.iter().any(|n| n.starts_with("contacts")),
        "{state_files:?}"
    );
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o700
    );
}
