//! Data fidelity through the real binary: phone numbers, bodyless requests' Content-Type,
//! exclusion before the mapping, records of any size, misshapen inputs diagnosed once and read
//! with their setting, and `validate`'s attribute checks. Requests go to the sandbox over
//! loopback where a request is involved.

use std::path::{Path, PathBuf};

use aircall_dest::sandbox::{self, JournalStatus, Sandbox, SandboxConfig};
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

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(home: &Path, args: &[&str]) -> Output {
    let out = cmd(home).args(args).output().unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn requests(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

/// A sandbox served by its own runtime, alive as long as this value.
struct Running {
    sandbox: Sandbox,
    _runtime: tokio::runtime::Runtime,
}

fn start_sandbox() -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = SandboxConfig {
        rate_limit: 0,
        ..SandboxConfig::default()
    };
    let sandbox = runtime.block_on(sandbox::start(config)).unwrap();
    Running {
        sandbox,
        _runtime: runtime,
    }
}

fn add_credential(home: &Path, base: &str) {
    let out = cmd(home)
        .args([
            "credentials",
            "add",
            "Local sandbox",
            "--api-id",
            "sandbox-id",
            "--token-stdin",
            "--base-url",
            base,
        ])
        .write_stdin("sandbox-token")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An example destination written into `dir`, active, its source `source` (absolute), with
/// `edit` applied to its TOML table.
fn destination(
    dir: &Path,
    example: &str,
    source: &Path,
    edit: impl FnOnce(&mut toml::Table),
) -> PathBuf {
    let text = std::fs::read_to_string(root().join("assets/examples").join(example)).unwrap();
    let mut table: toml::Table = toml::from_str(&text).unwrap();
    table.insert("status".into(), "active".into());
    let src = table["source"].as_table_mut().unwrap();
    src.insert("path".into(), source.display().to_string().into());
    if let Some(delivery) = table.get_mut("delivery").and_then(|d| d.as_table_mut()) {
        delivery.insert("rate_limit_per_minute".into(), 0.into());
    }
    edit(&mut table);
    let path = dir.join(example);
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

fn source_table(table: &mut toml::Table) -> &mut toml::Table {
    table["source"].as_table_mut().unwrap()
}

fn customers() -> String {
    std::fs::read_to_string(root().join("assets/data/customers-100.csv")).unwrap()
}

#[test]
fn bodyless_post_and_delete_carry_the_json_content_type_the_sandbox_asks_for() {
    let running = start_sandbox();
    let base = running.sandbox.url();
    // Without it the sandbox refuses, as Aircall's reference says it must be given.
    let refused = running._runtime.block_on(async {
        reqwest::Client::new()
            .delete(format!("{base}/v1/contacts/1"))
            .basic_auth("sandbox-id", Some("sandbox-token"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(refused, 415);
    let before = running.sandbox.journal().len();

    let home = tempfile::tempdir().unwrap();
    add_credential(home.path(), &base);
    let dir = tempfile::tempdir().unwrap();
    let members = destination(
        dir.path(),
        "team-members.toml",
        &root().join("assets/data/team-members.csv"),
        |_| {},
    );
    let deletes = destination(
        dir.path(),
        "delete-contacts.toml",
        &root().join("assets/data/contact-updates.jsonl"),
        |_| {},
    );
    let state = dir.path().join("state");
    for dest in [&members, &deletes] {
        let out = run(
            home.path(),
            &[
                "run",
                dest.to_str().unwrap(),
                "--state-dir",
                state.to_str().unwrap(),
                "--json",
            ],
        );
        assert!(matches!(out.code, Some(0 | 3)), "{}", out.stderr);
    }
    let journal = running.sandbox.journal();
    let sent: Vec<_> = journal[before..]
        .iter()
        .filter(|e| e.method != "GET")
        .collect();
    assert!(sent.iter().any(|e| e.method == "POST" && e.body.is_empty()));
    assert!(sent.iter().any(|e| e.method == "DELETE"));
    for entry in &sent {
        assert_eq!(
            entry.headers.get("content-type").and_then(Value::as_str),
            Some("application/json"),
            "{} {}",
            entry.method,
            entry.path
        );
        assert!(
            !matches!(entry.status, JournalStatus::Answered(415)),
            "{} {}",
            entry.method,
            entry.path
        );
    }
}

#[test]
fn a_record_with_a_bad_optional_phone_is_delivered_without_it() {
    let running = start_sandbox();
    let home = tempfile::tempdir().unwrap();
    add_credential(home.path(), &running.sandbox.url());
    let dir = tempfile::tempdir().unwrap();
    let mut text = customers();
    // Record 1's second phone dials Peru's international prefix with too few digits.
    text = text.replacen("323-571-0575", "011-512-9780", 1);
    let input = dir.path().join("customers.csv");
    std::fs::write(&input, text).unwrap();
    let dest = destination(dir.path(), "contacts.toml", &input, |_| {});
    let state = dir.path().join("state");
    let out = run(
        home.path(),
        &[
            "run",
            dest.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let summary: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(summary["delivered"], 100, "{summary}");
    assert_eq!(summary["invalid"], 0, "{summary}");
    let contacts = running.sandbox.state()["contacts"].clone();
    let first = contacts
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["first_name"] == "Stephanie")
        .expect("record 1 delivered");
    assert_eq!(
        first["phone_numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].clone())
            .collect::<Vec<_>>(),
        [serde_json::json!("+19409863836")]
    );
}

#[test]
fn excluding_a_mapped_source_removes_its_field() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = destination(
        dir.path(),
        "contacts.toml",
        &root().join("assets/data/customers-100.csv"),
        |t| {
            t["request"].as_table_mut().unwrap().insert(
                "exclude".into(),
                toml::Value::Array(vec!["Email".into(), "Website".into()]),
            );
        },
    );
    let out = run(
        home.path(),
        &["preview", dest.to_str().unwrap(), "--limit", "2"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for request in requests(&out.stdout) {
        let body = body(&request);
        assert!(body.get("emails").is_none(), "{body}");
        assert_eq!(body["phone_numbers"][0]["label"], "Work");
    }
    assert!(out.stderr.contains("`Email` is excluded"), "{}", out.stderr);
    let out = run(home.path(), &["validate", dest.to_str().unwrap()]);
    assert!(
        out.stderr.contains("excluding `Website` changes nothing"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_five_megabyte_cell_is_read_and_so_are_the_rows_after_it() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = customers().lines().take(4).map(String::from).collect();
    let big = "x".repeat(5 * 1024 * 1024);
    lines[2] = lines[2].replacen(
        "\"Peterson, Hammond and Mathews\"",
        &format!("\"{big}\""),
        1,
    );
    let input = dir.path().join("big.csv");
    std::fs::write(&input, lines.join("\r\n") + "\r\n").unwrap();
    let dest = destination(dir.path(), "contacts.toml", &input, |_| {});
    let out = run(home.path(), &["preview", dest.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let sent = requests(&out.stdout);
    assert_eq!(sent.len(), 3);
    assert_eq!(
        body(&sent[1])["company_name"].as_str().unwrap().len(),
        big.len()
    );
    // Under a lower cap that record alone is invalid, with the setting named, and reading goes on.
    let capped = destination(dir.path(), "contacts.toml", &input, |t| {
        source_table(t).insert("max_record_bytes".into(), 1_000_000.into());
    });
    let out = run(home.path(), &["preview", capped.to_str().unwrap()]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let sent = requests(&out.stdout);
    assert_eq!(
        sent.iter()
            .map(|r| r["records"][0].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 3]
    );
    assert!(
        out.stderr
            .contains("invalid: record 2 (line 3): the record on lines 3 to 3 is larger than 1000000 bytes (source.max_record_bytes); skipped"),
        "{}",
        out.stderr
    );
}

/// Each misshapen kind of file: refused (or noted) once with the setting, read whole with it.
#[test]
fn misshapen_files_are_diagnosed_once_then_read_with_their_setting() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = customers();
    let semicolon = text.replace(
        "\"Gillespie, Chapman and Evans\"",
        "Gillespie Chapman and Evans",
    );
    let semicolon: String = semicolon
        .lines()
        .map(|line| {
            let mut out = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => {
                        quoted = !quoted;
                        out.push(c)
                    }
                    ',' if !quoted => out.push(';'),
                    c => out.push(c),
                }
            }
            out + "\r\n"
        })
        .collect();
    let wrapped: String = text
        .lines()
        .map(|line| format!("\"{}\"\r\n", line.replace('"', "\"\"")))
        .collect();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.replacen("Stephanie", "Stéphanie", 1).encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let latin1: Vec<u8> = text
        .replacen("Stephanie", "Stéphanie", 1)
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    type Setting = (&'static str, &'static str, toml::Value);
    let kinds: Vec<(&str, Vec<u8>, &str, Setting)> = vec![
        (
            "semicolon.csv",
            semicolon.into_bytes(),
            "delimiter = \"semicolon\"",
            ("csv", "delimiter", "semicolon".into()),
        ),
        (
            "wrapped.csv",
            wrapped.into_bytes(),
            "unwrap_rows = true",
            ("csv", "unwrap_rows", true.into()),
        ),
        (
            "utf16.csv",
            utf16,
            "encoding = \"utf-16\"",
            ("", "encoding", "utf-16".into()),
        ),
        (
            "latin1.csv",
            latin1,
            "encoding = \"latin-1\"",
            ("", "encoding", "latin-1".into()),
        ),
    ];
    for (name, bytes, advice, (table, key, value)) in kinds {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let plain = destination(dir.path(), "contacts.toml", &input, |_| {});
        let out = run(home.path(), &["preview", plain.to_str().unwrap()]);
        assert_ne!(out.code, Some(0), "{name}: {}", out.stderr);
        assert_eq!(
            out.stderr.matches(advice).count(),
            1,
            "{name}: {}",
            out.stderr
        );
        let fixed = destination(dir.path(), "contacts.toml", &input, |t| {
            let source = source_table(t);
            if table.is_empty() {
                source.insert(key.into(), value);
            } else {
                let mut csv = toml::Table::new();
                csv.insert(key.into(), value);
                source.insert(table.into(), csv.into());
            }
        });
        let out = run(home.path(), &["preview", fixed.to_str().unwrap()]);
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let sent = requests(&out.stdout);
        assert_eq!(sent.len(), 100, "{name}");
        let first = body(&sent[0]);
        assert!(
            matches!(
                first["first_name"].as_str(),
                Some("Stephanie" | "Stéphanie")
            ),
            "{name}: {first}"
        );
        assert_eq!(
            first["company_name"],
            if name == "semicolon.csv" {
                "Gillespie Chapman and Evans"
            } else {
                "Gillespie, Chapman and Evans"
            }
        );
        assert_eq!(first["phone_numbers"][0]["value"], "+19409863836", "{name}");
    }
}

#[test]
fn an_empty_input_says_it_is_empty() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("empty.csv");
    std::fs::write(&input, "").unwrap();
    let dest = destination(dir.path(), "contacts.toml", &input, |_| {});
    let out = run(home.path(), &["preview", dest.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("empty.csv is empty: there are no records to read"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_input_extension_decides_the_format_unless_format_is_given() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.jsonl");
    std::fs::write(
        &input,
        "{\"First Name\":\"Ada\",\"Last Name\":\"King\",\"Company\":\"A\",\"Customer Id\":\"x\",\"Phone 1\":\"+44 20 7946 0958\",\"Email\":\"ada@example.com\"}\n\
         {\"First Name\":\"Bo\",\"First Name\":\"Bob\",\"Last Name\":\"B\",\"Company\":\"B\",\"Customer Id\":\"y\",\"Phone 1\":\"(818)877-7517\",\"Email\":\"b@example.com\"}\n",
    )
    .unwrap();
    // contacts.toml says format = "csv"; the .jsonl given with --input is read as JSON Lines.
    let example = root().join("assets/examples/contacts.toml");
    let out = run(
        home.path(),
        &[
            "preview",
            example.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let sent = requests(&out.stdout);
    assert_eq!(sent.len(), 1);
    assert_eq!(body(&sent[0])["first_name"], "Ada");
    // A duplicate key is that record's problem, said on its line.
    assert!(
        out.stderr
            .contains("invalid: record 2 (line 2): the key `First Name` appears twice"),
        "{}",
        out.stderr
    );
    let out = run(
        home.path(),
        &[
            "preview",
            example.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    assert_ne!(out.code, Some(0), "{}", out.stdout);
}

#[test]
fn validate_checks_the_inputs_attributes_and_suggests_the_closest() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = destination(
        dir.path(),
        "contacts.toml",
        &root().join("assets/data/customers-100.csv"),
        |t| {
            let mapping = t["mapping"].as_array_mut().unwrap();
            mapping[0]
                .as_table_mut()
                .unwrap()
                .insert("from".into(), "FirstName".into());
        },
    );
    let out = run(home.path(), &["validate", dest.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "mapping[0] (`first_name`) reads `FirstName`, which the input does not have (did you mean `First Name`?)"
        ),
        "{}",
        out.stderr
    );
    let example = root().join("assets/examples/contacts.toml");
    let out = run(home.path(), &["validate", example.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn preview_limit_caps_invalid_lines_and_a_tally_counts_them_all() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut text = customers();
    for (i, line) in customers().lines().skip(1).take(30).enumerate() {
        let phone = line.split(',').nth(8).unwrap().to_string();
        if i % 2 == 0 && !phone.starts_with('"') {
            text = text.replacen(&format!(",{phone},"), ",12,", 1);
        }
    }
    let input = dir.path().join("short.csv");
    std::fs::write(&input, &text).unwrap();
    let dest = destination(dir.path(), "contacts.toml", &input, |t| {
        let mapping = t["mapping"].as_array_mut().unwrap();
        let second = mapping
            .iter_mut()
            .find(|m| m["target"].as_str() == Some("phone_numbers[1].value"))
            .unwrap();
        second.as_table_mut().unwrap().remove("optional");
    });
    let out = run(
        home.path(),
        &["preview", dest.to_str().unwrap(), "--limit", "2"],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert_eq!(requests(&out.stdout).len(), 2);
    assert_eq!(
        out.stderr.matches("invalid: record").count(),
        2,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("invalid records by reason ("),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("× `phone_numbers[N].value`: \"…\" is too short for a +N (US) phone number"),
        "{}",
        out.stderr
    );
}
