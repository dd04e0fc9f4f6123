//! The foundation commands through the real binary: preview, validate, templates, credentials.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("aircall-dest").unwrap();
    cmd.env("AIRCALL_DEST_HOME", home);
    cmd
}

fn preview_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn preview_of_the_contacts_example_maps_names_and_e164_phones() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .arg("preview")
        .arg(root().join("assets/examples/contacts.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = preview_lines(&out.stdout);
    assert_eq!(requests.len(), 100);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not saved here"), "{stderr}");
    let first = &requests[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["url"], "https://api.aircall.io/v1/contacts");
    assert_eq!(first["records"], serde_json::json!([1]));
    let body: Value = serde_json::from_str(first["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["first_name"], "Stephanie");
    assert_eq!(body["last_name"], "Fuentes");
    assert_eq!(body["company_name"], "Gillespie, Chapman and Evans");
    assert_eq!(body["phone_numbers"][0]["value"], "+19409863836");
    assert_eq!(body["phone_numbers"][1]["value"], "+13235710575");
    for request in &requests {
        let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        for phone in body["phone_numbers"].as_array().unwrap() {
            assert!(
                aircall_dest::templates::is_e164(phone["value"].as_str().unwrap()),
                "{phone}"
            );
        }
    }
}

#[test]
fn records_with_unusable_phones_are_reported_and_left_out() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .arg("preview")
        .arg(root().join("assets/examples/contacts.toml"))
        .arg("--input")
        .arg(root().join("tests/data/customers-bad-phones.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let requests = preview_lines(&out.stdout);
    let sent: Vec<u64> = requests
        .iter()
        .map(|r| r["records"][0].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [1, 2, 3, 4, 5]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid: record 6 (line 7): `phone_numbers[0].value`: \"555-0100\""),
        "{stderr}"
    );
    assert!(stderr.contains("invalid: record 7 (line 8):"), "{stderr}");
    assert!(
        stderr.contains("\"call me maybe\" is not a phone number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("invalid records by reason (2 in all):"),
        "{stderr}"
    );
}

#[test]
fn preview_limit_and_saved_credential_show_masked_auth_and_its_base_url() {
    let home = tempfile::tempdir().unwrap();
    cmd(home.path())
        .args([
            "credentials",
            "add",
            "Local sandbox",
            "--api-id",
            "sandbox-id",
            "--token-stdin",
            "--base-url",
            "http://127.0.0.1:9",
        ])
        .write_stdin("canary-token-5150\n")
        .assert()
        .success();
    let out = cmd(home.path())
        .arg("preview")
        .arg(root().join("assets/examples/contacts.toml"))
        .args(["--limit", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let requests = preview_lines(&out.stdout);
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["url"], "http://127.0.0.1:9/v1/contacts");
    assert_eq!(requests[0]["headers"]["Authorization"], "Basic •••");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("canary-token-5150"));

    let list = cmd(home.path())
        .args(["credentials", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("Local sandbox") && text.contains("stored"),
        "{text}"
    );
    assert!(!text.contains("canary-token-5150"));
}

#[test]
fn credentials_are_never_taken_as_arguments() {
    let home = tempfile::tempdir().unwrap();
    cmd(home.path())
        .args([
            "credentials",
            "add",
            "x",
            "--api-id",
            "a",
            "--token",
            "secret",
        ])
        .assert()
        .code(2);
    // Without a terminal and without a token flag, it refuses instead of hanging.
    cmd(home.path())
        .args(["credentials", "add", "x", "--api-id", "a"])
        .write_stdin("")
        .assert()
        .code(2);
    cmd(home.path())
        .args([
            "credentials",
            "add",
            "env-based",
            "--api-id",
            "a",
            "--token-env",
            "MY_AIRCALL_TOKEN",
        ])
        .assert()
        .success();
    let stored = std::fs::read_to_string(home.path().join("credentials.toml")).unwrap();
    assert!(
        stored.contains("token_env = \"MY_AIRCALL_TOKEN\""),
        "{stored}"
    );
    cmd(home.path())
        .args(["credentials", "remove", "env-based"])
        .assert()
        .success();
    cmd(home.path())
        .args(["credentials", "remove", "env-based"])
        .assert()
        .code(1);
}

#[test]
fn every_example_validates() {
    let home = tempfile::tempdir().unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("assets/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            cmd(home.path())
                .arg("validate")
                .arg(&path)
                .assert()
                .success();
            count += 1;
        }
    }
    assert!(count >= 7);
}

#[test]
fn validate_reports_located_errors_with_exit_1_and_usage_errors_with_2() {
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("broken.toml");
    std::fs::write(&dest, "version = 1\nname = \"x\"\ncredential = \"c\"\nmode = \"manual\"\n[source]\npath = \"a.csv\"\n[request]\nmethod = \"POST\"\nurl = \"/v1/{record.id\"\n").unwrap();
    let out = cmd(home.path())
        .arg("validate")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:9:1: `request.url`: unclosed `{`"),
        "{stderr}"
    );
    cmd(home.path()).args(["validate"]).assert().code(2);
    cmd(home.path())
        .args(["preview", "x.toml", "--limit", "many"])
        .assert()
        .code(2);
}

#[test]
fn templates_lists_and_describes() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path()).arg("templates").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "create_records",
        "update_records",
        "delete_records",
        "dialer_campaign_numbers",
    ] {
        assert!(text.contains(id), "{text}");
    }
    let out = cmd(home.path())
        .args(["templates", "create_records"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("phone_numbers") && text.contains("required"),
        "{text}"
    );
    cmd(home.path())
        .args(["templates", "nope"])
        .assert()
        .code(2);
}
