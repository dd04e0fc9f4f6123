//! Each edge rule lives once, in `aircall_dest::rules`: every place that applies a rule gives
//! the rule's own error, word for word, so a change to the rule reaches all of them.

use std::path::Path;

use aircall_dest::credentials::{AuthKind, Credential, TokenSource};
use aircall_dest::destination::Destination;
use aircall_dest::request::Plan;
use aircall_dest::rules::{self, RuleError};
use aircall_dest::secret::Secret;

const EXAMPLE: &str = include_str!("../../assets/examples/contacts.toml");

fn destination_with(request_lines: &str) -> Result<Destination, String> {
    let text = EXAMPLE.replacen("[request]\n", &format!("[request]\n{request_lines}\n"), 1);
    Destination::from_toml(&text, "dest.toml").map_err(|e| e.to_string())
}

fn credential(base_url: &str) -> Credential {
    Credential {
        name: "c".into(),
        description: String::new(),
        api_id: "id".into(),
        token: TokenSource::Stored(Secret::new("tok-123456")),
        kind: AuthKind::Basic,
        base_url: base_url.into(),
    }
}

fn plain_http(origin: &str) -> String {
    RuleError::PlainHttp {
        origin: origin.into(),
    }
    .to_string()
}

#[test]
fn plain_http_to_a_remote_host_is_the_one_rule_everywhere() {
    let expected = plain_http("http://api.example.com");
    // the credential's base URL
    let err = credential("http://api.example.com").check().unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    // the request URL of a plan
    let destination = Destination::from_toml(EXAMPLE, "dest.toml").unwrap();
    let err = Plan::new(&destination, "http://api.example.com").unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    // the capture webhook of a destination file
    let text = format!("{EXAMPLE}\n[capture]\nwebhook_url = \"http://api.example.com/hook\"\n");
    let err = Destination::from_toml(&text, "dest.toml").unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    // and loopback is allowed by all three
    credential("http://127.0.0.1:8787").check().unwrap();
    Plan::new(&destination, "http://localhost:8787").unwrap();
    let text = format!("{EXAMPLE}\n[capture]\nwebhook_url = \"http://[::1]:9/hook\"\n");
    Destination::from_toml(&text, "dest.toml").unwrap();
}

#[test]
fn user_info_in_a_url_is_the_one_rule_everywhere() {
    let expected = RuleError::UserInfo {
        origin: "https://api.aircall.io".into(),
    }
    .to_string();
    let err = credential("https://id:tok@api.aircall.io")
        .check()
        .unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    let destination = Destination::from_toml(EXAMPLE, "dest.toml").unwrap();
    let err = Plan::new(&destination, "https://id:tok@api.aircall.io").unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    let text =
        format!("{EXAMPLE}\n[capture]\nwebhook_url = \"https://id:tok@api.aircall.io/hook\"\n");
    let err = Destination::from_toml(&text, "dest.toml").unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
}

#[test]
fn header_names_and_values_are_the_one_rule_in_destination_files() {
    let err = destination_with(r#"headers = { "X Note" = "1" }"#).unwrap_err();
    let expected = rules::check_header_name("X Note").unwrap_err().to_string();
    assert!(err.contains(&expected), "{err}");
    let err = destination_with(r#"headers = { "X-Note" = "a\r\nInjected: 1" }"#).unwrap_err();
    let expected = rules::check_header_value("X-Note", "a\r\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains(&expected), "{err}");
    destination_with(r#"headers = { "X-Note" = "crm" }"#).unwrap();
}

#[test]
fn the_default_base_url_is_the_one_new_credentials_and_previews_use() {
    assert_eq!(
        aircall_dest::request::DEFAULT_BASE_URL,
        rules::DEFAULT_BASE_URL
    );
    let help = assert_cmd::Command::cargo_bin("aircall-dest")
        .unwrap()
        .args(["credentials", "add", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains(&format!("[default: {}]", rules::DEFAULT_BASE_URL)),
        "{help}"
    );
}

#[test]
fn source_paths_are_relative_to_the_destination_file_in_run_and_preview() {
    // `preview` reads the example's `../data/customers-100.csv` from the file's folder, not from
    // the working directory: run it from elsewhere and it still finds the dataset.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let elsewhere = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::cargo_bin("aircall-dest")
        .unwrap()
        .current_dir(elsewhere.path())
        .env("AIRCALL_DEST_HOME", elsewhere.path())
        .arg("preview")
        .arg(root.join("assets/examples/contacts.toml"))
        .args(["--limit", "1"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        rules::relative_to_destination(
            &root.join("assets/examples/contacts.toml"),
            Path::new("../data/customers-100.csv")
        ),
        root.join("assets/examples/../data/customers-100.csv")
    );
}
