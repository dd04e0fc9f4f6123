//! DESIGN §7 as tested guarantees, through the real binary against real sandboxes over loopback:
//! a canary token that appears nowhere but the credentials store, credentials that go only to
//! their own origin (redirects included), hostile record values that stay inert, files that stay
//! private, and destination files that may not hold a secret. `docs/security.md` maps each
//! guarantee to its test here.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::{Arc, Mutex};

use aircall_dest::sandbox::{self, JournalEntry, Sandbox, SandboxConfig};
use assert_cmd::Command;
use base64::Engine;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Harness

/// A config home (`AIRCALL_DEST_HOME`) and a working folder, private to one test.
struct Workspace {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("temp home"),
            work: tempfile::tempdir().expect("temp work folder"),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.work.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create folder");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// The binary, run in the working folder with this home and no inherited log settings.
    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("aircall-dest").expect("binary built");
        cmd.env("AIRCALL_DEST_HOME", self.home())
            .env_remove("RUST_LOG")
            .env_remove("AIRCALL_DEST_LOG")
            .current_dir(self.work.path());
        cmd
    }

    /// Saves a Basic credential through `credentials add --token-stdin`.
    fn add_credential(&self, name: &str, api_id: &str, token: &str, base_url: &str) {
        let out = self
            .cmd()
            .args([
                "credentials",
                "add",
                name,
                "--api-id",
                api_id,
                "--token-stdin",
            ])
            .args(["--base-url", base_url])
            .write_stdin(format!("{token}\n"))
            .output()
            .expect("credentials add runs");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A tokio runtime that serves in-process sandboxes while the test thread runs the binary.
struct Servers {
    runtime: tokio::runtime::Runtime,
}

impl Servers {
    fn new() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    /// A sandbox without rate limit, accepting `sandbox-id` / `sandbox-token`.
    fn sandbox(&self) -> Sandbox {
        self.runtime
            .block_on(sandbox::start(SandboxConfig {
                rate_limit: 0,
                ..SandboxConfig::default()
            }))
            .expect("sandbox starts")
    }
}

const SANDBOX_ID: &str = "sandbox-id";
const SANDBOX_TOKEN: &str = "sandbox-token";

/// A manual destination: POST JSON records to `url`, fast delivery, one attempt.
fn manual_destination(credential: &str, url: &str, request_extra: &str, rest: &str) -> String {
    format!(
        r#"version = 1
name = "security-test"
status = "active"
credential = "{credential}"
mode = "manual"

[source]
path = "records.jsonl"

[request]
method = "POST"
url = "{url}"
{request_extra}

{rest}

[delivery]
rate_limit_per_minute = 60000
burst = 2
max_attempts = 1
"#
    )
}

fn header<'a>(entry: &'a JournalEntry, name: &str) -> Option<&'a str> {
    entry.headers.get(name).and_then(Value::as_str)
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

fn journal_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("journal line is JSON"))
        .collect()
}

/// `aircall-dest sandbox` as its own process, its standard error in a file of the workspace.
struct SandboxProcess {
    child: Option<Child>,
    url: String,
    rest_of_stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl SandboxProcess {
    fn start(ws: &Workspace, args: &[&str]) -> Self {
        let stderr = std::fs::File::create(ws.path("sandbox.stderr")).expect("stderr file");
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aircall-dest"))
            .args(["sandbox", "--addr", "127.0.0.1:0", "--rate-limit", "0"])
            .args(args)
            .env("AIRCALL_DEST_HOME", ws.home())
            .env("AIRCALL_DEST_LOG", "trace")
            .current_dir(ws.work.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("sandbox starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("first line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        let rest_of_stdout = std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
            rest
        });
        Self {
            child: Some(child),
            url,
            rest_of_stdout: Some(rest_of_stdout),
        }
    }

    /// Stops the sandbox with SIGTERM (a clean stop) and returns the rest of its stdout.
    fn stop(mut self) -> Vec<u8> {
        let mut child = self.child.take().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = child.wait().expect("sandbox exits");
        assert!(
            exit.success(),
            "the sandbox stops cleanly on SIGTERM: {exit}"
        );
        self.rest_of_stdout
            .take()
            .map(|t| t.join().expect("stdout reader"))
            .unwrap_or_default()
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Every command's standard output and error, labelled, for the final search.
#[derive(Default)]
struct Transcript {
    outputs: Vec<(String, Vec<u8>)>,
}

impl Transcript {
    fn run(&mut self, label: &str, cmd: &mut Command, expected: &[i32]) -> Output {
        let out = cmd.output().expect("command runs");
        self.outputs
            .push((format!("{label}: stdout"), out.stdout.clone()));
        self.outputs
            .push((format!("{label}: stderr"), out.stderr.clone()));
        assert!(
            out.status.code().is_some_and(|c| expected.contains(&c)),
            "{label}: exit {:?}, expected one of {expected:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets never leak

/// A token no other test or file could hold by chance.
fn unique_canary() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("cnry{:x}x{:x}Q7", std::process::id(), nanos)
}

/// One complete flow — credentials added (stored, env and command tokens) and verified,
/// `validate`, `preview`, `send-test`, `run` with response capture, dead letters, a rerun, a dry
/// run, a refused credential, all with trace logging on — against a sandbox process that accepts
/// only the canary. Then every file written, every output and the sandbox journal are searched:
/// the canary, its Basic form and the refused variant appear only in the credentials store.
#[test]
fn the_canary_token_appears_nowhere_but_the_credentials_store() {
    let ws = Workspace::new();
    let canary = unique_canary();
    let api_id = "canary-id";
    let pair = format!("{api_id}:{canary}");
    let sandbox = SandboxProcess::start(
        &ws,
        &["--basic", &pair, "--journal", "sandbox-journal.jsonl"],
    );
    let url = sandbox.url.clone();
    let mut t = Transcript::default();
    let traced = |mut cmd: Command| {
        cmd.env("AIRCALL_DEST_LOG", "trace")
            .env("CANARY_TOKEN_VAR", &canary);
        cmd
    };

    let add = |name: &str, source: &[&str]| {
        let mut cmd = traced(ws.cmd());
        cmd.args(["credentials", "add", name, "--api-id", api_id])
            .args(source)
            .args(["--base-url", &url, "--description", "canary test"]);
        cmd
    };
    t.run(
        "add stored",
        add("canary", &["--token-stdin"]).write_stdin(format!("{canary}\n")),
        &[0],
    );
    t.run(
        "add env",
        &mut add("canary-env", &["--token-env", "CANARY_TOKEN_VAR"]),
        &[0],
    );
    t.run(
        "add cmd",
        &mut add(
            "canary-cmd",
            &["--token-cmd", "printf '%s' \"$CANARY_TOKEN_VAR\""],
        ),
        &[0],
    );
    // A wrong token that contains the canary: any leak of it is caught by the same search.
    t.run(
        "add wrong",
        add("wrong", &["--token-stdin"]).write_stdin(format!("{canary}-wrong\n")),
        &[0],
    );
    t.run("list", traced(ws.cmd()).args(["credentials", "list"]), &[0]);
    for name in ["canary", "canary-env", "canary-cmd"] {
        t.run(
            &format!("verify {name}"),
            traced(ws.cmd()).args(["credentials", "verify", name]),
            &[0],
        );
    }
    let refused = t.run(
        "verify wrong",
        traced(ws.cmd()).args(["credentials", "verify", "wrong"]),
        &[1],
    );
    assert!(
        text(&refused.stderr).contains("403"),
        "{}",
        text(&refused.stderr)
    );

    // Records: two good, two the sandbox rejects (400, not E.164), one invalid (no `ref` for
    // the header macro), one good.
    ws.write(
        "records.jsonl",
        concat!(
            r#"{"ref":"r1","first_name":"Ada","phone_numbers":[{"label":"Work","value":"+33612345678"}]}"#,
            "\n",
            r#"{"ref":"r2","first_name":"Bad","phone_numbers":[{"label":"Work","value":"not a phone"}]}"#,
            "\n",
            r#"{"first_name":"NoRef","phone_numbers":[{"label":"Work","value":"+33612345679"}]}"#,
            "\n",
            r#"{"ref":"r4","first_name":"Grace","phone_numbers":[{"label":"Work","value":"+33612345680"}]}"#,
            "\n",
            r#"{"ref":"r5","first_name":"Worse","phone_numbers":[{"label":"Work","value":"12"}]}"#,
            "\n",
        ),
    );
    let rest = "[capture]\nfile = \"capture/responses.jsonl\"\n";
    let dest = |credential: &str, dead_letters: &str| {
        manual_destination(
            credential,
            "/v1/contacts",
            r#"headers = { "X-Ref" = "{record.ref}" }"#,
            rest,
        )
        .replace(
            "max_attempts = 1",
            &format!("max_attempts = 1\ndead_letter_file = \"{dead_letters}\""),
        )
    };
    ws.write("dest.toml", &dest("canary", "dead/letters.jsonl"));
    ws.write(
        "dest-env.toml",
        &dest("canary-env", "dead/env-letters.jsonl"),
    );
    ws.write(
        "dest-cmd.toml",
        &dest("canary-cmd", "dead/cmd-letters.jsonl"),
    );
    ws.write(
        "dest-wrong.toml",
        &dest("wrong", "dead/wrong-letters.jsonl"),
    );

    t.run(
        "validate",
        traced(ws.cmd()).args(["validate", "dest.toml"]),
        &[0],
    );
    let preview = t.run(
        "preview",
        traced(ws.cmd()).args(["preview", "dest.toml"]),
        &[3],
    );
    assert!(
        text(&preview.stdout).contains("Basic •••"),
        "{}",
        text(&preview.stdout)
    );
    let sent = t.run(
        "send-test 1",
        traced(ws.cmd()).args(["send-test", "dest.toml"]),
        &[0],
    );
    assert!(
        text(&sent.stdout).contains("status: 201"),
        "{}",
        text(&sent.stdout)
    );
    let rejected = t.run(
        "send-test 2",
        traced(ws.cmd()).args(["send-test", "dest.toml", "--sample", "2"]),
        &[1],
    );
    assert!(
        text(&rejected.stdout).contains("status: 400"),
        "{}",
        text(&rejected.stdout)
    );

    let run = t.run(
        "run",
        traced(ws.cmd()).args(["run", "dest.toml", "--state-dir", "state", "--json"]),
        &[3],
    );
    let summary: Value = serde_json::from_slice(&run.stdout).expect("run --json summary");
    assert_eq!(summary["delivered"], 2, "{summary}");
    assert_eq!(summary["dead_lettered"], 2, "{summary}");
    assert_eq!(summary["invalid"], 1, "{summary}");
    assert!(
        text(&run.stderr).contains("TRACE"),
        "trace logging is on, so the search covers real logs:\n{}",
        text(&run.stderr)
    );
    t.run(
        "rerun",
        traced(ws.cmd()).args(["run", "dest.toml", "--state-dir", "state", "--json"]),
        &[0, 3],
    );
    t.run(
        "dry run",
        traced(ws.cmd()).args(["run", "dest.toml", "--state-dir", "state", "--dry-run"]),
        &[0, 3],
    );
    for dest in ["dest-env.toml", "dest-cmd.toml"] {
        t.run(
            &format!("run {dest}"),
            traced(ws.cmd()).args(["run", dest, "--state-dir", "state", "--json"]),
            &[3],
        );
    }
    let wrong = t.run(
        "run with the refused credential",
        traced(ws.cmd()).args(["run", "dest-wrong.toml", "--state-dir", "state"]),
        &[1],
    );
    assert!(
        text(&wrong.stderr).contains("403"),
        "{}",
        text(&wrong.stderr)
    );
    let refused = t.run(
        "send-test with the refused credential",
        traced(ws.cmd()).args(["send-test", "dest-wrong.toml"]),
        &[1],
    );
    // `run` and `send-test` explain a 403 in the same words (the retry policy's).
    let explanation = "the API answered 403 Forbidden: credential";
    assert!(
        text(&wrong.stderr).contains(explanation),
        "{}",
        text(&wrong.stderr)
    );
    assert!(
        text(&refused.stderr).contains(explanation),
        "{}",
        text(&refused.stderr)
    );

    let sandbox_stdout = sandbox.stop();
    t.outputs.push(("sandbox stdout".into(), sandbox_stdout));

    // The flow really happened: the journal saw the credential (masked), created contacts,
    // rejections and refusals; capture, dead letters and state were written.
    let journal = journal_lines(&ws.path("sandbox-journal.jsonl"));
    let statuses: BTreeSet<u64> = journal
        .iter()
        .filter_map(|e| e["status"].as_u64())
        .collect();
    for status in [200, 201, 400, 403] {
        assert!(statuses.contains(&status), "journal statuses {statuses:?}");
    }
    assert!(
        journal
            .iter()
            .all(|e| e["headers"]["authorization"] == "Basic •••"),
        "every request carried the credential, masked in the journal"
    );
    let lines = |p: &str| {
        std::fs::read_to_string(ws.path(p))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(
        lines("capture/responses.jsonl") >= 10,
        "response capture written"
    );
    assert!(lines("dead/letters.jsonl") >= 3, "dead letters written");
    assert!(!files_under(&ws.path("state")).is_empty(), "state written");

    // The search. The credentials store is the one place the stored token may be; it proves
    // the search finds what it looks for.
    let needles = [
        canary.clone(),
        b64(&pair),
        b64(&pair).trim_end_matches('=').to_string(),
        b64(&format!("{pair}-wrong"))
            .trim_end_matches('=')
            .to_string(),
        b64(&canary).trim_end_matches('=').to_string(),
    ];
    let store = ws.home().join("credentials.toml");
    let store_text = std::fs::read(&store).expect("credentials store");
    assert!(
        contains(&store_text, &canary),
        "the search finds the canary where it is"
    );

    let mut searched = Vec::new();
    let mut leaks = Vec::new();
    for file in files_under(ws.home())
        .into_iter()
        .chain(files_under(ws.work.path()))
    {
        if file == store {
            continue;
        }
        let bytes = std::fs::read(&file).expect("readable file");
        for needle in &needles {
            if contains(&bytes, needle) {
                leaks.push(format!("{} holds {needle}", file.display()));
            }
        }
        searched.push(file);
    }
    for (label, bytes) in &t.outputs {
        for needle in &needles {
            if contains(bytes, needle) {
                leaks.push(format!("{label} holds {needle}"));
            }
        }
    }
    let names: Vec<String> = searched
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for expected in [
        "sandbox-journal.jsonl",
        "sandbox.stderr",
        "responses.jsonl",
        "letters.jsonl",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} searched; searched {names:?}"
        );
    }
    assert!(
        leaks.is_empty(),
        "the canary leaked:\n{}\n(searched {} files and {} outputs)",
        leaks.join("\n"),
        searched.len(),
        t.outputs.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Credentials go only to their own origin

/// The credential's base URL is sandbox A; the destination sends to sandbox B. B receives the
/// requests without any `Authorization` header and a warning says so; once B's host and port
/// are listed in `allow_credential_hosts`, B receives it.
#[test]
fn a_url_on_another_origin_gets_no_credential_unless_allowed() {
    let servers = Servers::new();
    let own = servers.sandbox();
    let other = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &own.url());
    ws.write(
        "records.jsonl",
        "{\"first_name\":\"Ada\",\"phone_numbers\":[{\"label\":\"Work\",\"value\":\"+33612345678\"}]}\n",
    );
    let elsewhere = format!("{}/v1/contacts", other.url());
    ws.write(
        "dest.toml",
        &manual_destination("local", &elsewhere, "", ""),
    );

    let validate = ws.cmd().args(["validate", "dest.toml"]).output().unwrap();
    assert_eq!(code(&validate), Some(0), "{}", text(&validate.stderr));
    assert!(
        text(&validate.stderr).contains("without the credential"),
        "{}",
        text(&validate.stderr)
    );
    let preview = ws.cmd().args(["preview", "dest.toml"]).output().unwrap();
    let shown: Value = serde_json::from_slice(&preview.stdout).expect("one preview line");
    assert!(shown["headers"].get("Authorization").is_none(), "{shown}");

    let test = ws.cmd().args(["send-test", "dest.toml"]).output().unwrap();
    assert!(
        text(&test.stderr).contains("without the credential"),
        "{}",
        text(&test.stderr)
    );
    assert!(
        text(&test.stdout).contains("status: 401"),
        "{}",
        text(&test.stdout)
    );
    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state"])
        .output()
        .unwrap();
    assert!(
        text(&run.stderr).contains("without the credential"),
        "{}",
        text(&run.stderr)
    );

    let received = other.journal();
    assert_eq!(
        received.len(),
        2,
        "send-test and run both reached the other host"
    );
    for entry in &received {
        assert_eq!(header(entry, "authorization"), None, "{:?}", entry.headers);
        assert_eq!(entry.status, sandbox::JournalStatus::Answered(401));
    }
    assert!(
        own.journal().is_empty(),
        "nothing went to the credential's own host"
    );

    // Allowed explicitly: the same requests now carry the credential (masked in the journal,
    // so its presence shows) and the other sandbox accepts them.
    other.reset_journal();
    let allowed = format!("allow_credential_hosts = [\"{}\"]", other.addr);
    ws.write(
        "dest.toml",
        &manual_destination("local", &elsewhere, &allowed, ""),
    );
    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state", "--restart"])
        .output()
        .unwrap();
    assert_eq!(code(&run), Some(0), "{}", text(&run.stderr));
    assert!(
        !text(&run.stderr).contains("without the credential"),
        "{}",
        text(&run.stderr)
    );
    let received = other.journal();
    assert_eq!(received.len(), 1);
    assert_eq!(header(&received[0], "authorization"), Some("Basic •••"));
    assert_eq!(received[0].status, sandbox::JournalStatus::Answered(201));
}

/// A server at the credential's own origin answers every request with `307` to another host.
/// The client follows no redirect: the other host receives nothing at all — neither the
/// credential nor the record — and the answer is reported as it came.
#[test]
fn a_redirect_to_another_host_is_not_followed() {
    let servers = Servers::new();
    let target = servers.sandbox();
    let location = format!("{}/v1/contacts", target.url());
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let redirector = {
        let seen = seen.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            let location = location.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split(' ').next().unwrap_or_default().to_string());
                seen.lock().unwrap().push(auth);
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [("location", location)],
                    "",
                )
            }
        });
        servers.runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            format!("http://{addr}")
        })
    };
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &redirector);
    ws.write(
        "records.jsonl",
        "{\"first_name\":\"Ada\",\"phone_numbers\":[{\"label\":\"Work\",\"value\":\"+33612345678\"}]}\n",
    );
    ws.write(
        "dest.toml",
        &manual_destination("local", "/v1/contacts", "", ""),
    );

    let test = ws.cmd().args(["send-test", "dest.toml"]).output().unwrap();
    assert!(
        text(&test.stdout).contains("status: 307"),
        "{}",
        text(&test.stdout)
    );
    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        code(&run),
        Some(3),
        "a 3xx is not a delivery: {}",
        text(&run.stderr)
    );
    let verify = ws
        .cmd()
        .args(["credentials", "verify", "local"])
        .output()
        .unwrap();
    assert_eq!(code(&verify), Some(1), "{}", text(&verify.stderr));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![Some("Basic".to_string()); 3],
        "the credential's own origin received it (send-test, run, verify)"
    );
    assert!(
        target.journal().is_empty(),
        "the redirect target received nothing: {:?}",
        target.journal()
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile record values stay inert

/// Percent-decodes one path segment.
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .expect("UTF-8 segment")
        .into_owned()
}

fn hostile_ids() -> Vec<String> {
    let mut ids: Vec<String> = [
        "../../v2/users",
        "a/b",
        "?x=1",
        "#f",
        "%2F",
        "%2e%2e",
        "..%2F..%2Fv2",
        "/v2/users",
        "a\\b",
        "x;y=1",
        "@evil.example",
        "http://evil.example/",
        " spaced out ",
        "+33 6 12",
        "...",
        "Zoë/日本語/🦀",
        "%",
        "&admin=true",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ids.push("a/../".repeat(2048)); // 10 kB
    ids
}

/// Update (`POST /v1/contacts/{record.id}`) and delete (`DELETE /v1/contacts/{record.id}`)
/// destinations from the templates, run over records whose ids try to change the path, the
/// query or the host: every request the sandbox received has exactly the template's segments
/// (`v1`, `contacts`, one id segment that decodes to the record's id) and no query.
#[test]
fn hostile_record_ids_stay_one_path_segment() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &sandbox.url());
    let ids = hostile_ids();
    assert!(ids.last().unwrap().len() >= 10_000);
    let mut records = String::new();
    for id in &ids {
        records.push_str(&serde_json::json!({"id": id, "information": "hostile"}).to_string());
        records.push('\n');
    }
    ws.write("records.jsonl", &records);
    let template = |id: &str, resource_method: &str| {
        format!(
            r#"version = 1
name = "hostile-{id}"
status = "active"
credential = "local"
mode = "template"

[source]
path = "records.jsonl"

[template]
id = "{id}"
resource = "contacts"

[request]
method = "{resource_method}"
url = "/v1/contacts/{{record.id}}"
exclude = ["id"]

[delivery]
rate_limit_per_minute = 60000
max_attempts = 1
"#
        )
    };
    ws.write("update.toml", &template("update_records", "POST"));
    ws.write("delete.toml", &template("delete_records", "DELETE"));

    for (dest, method) in [("update.toml", "POST"), ("delete.toml", "DELETE")] {
        sandbox.reset_journal();
        let preview = ws.cmd().args(["preview", dest]).output().unwrap();
        assert_eq!(code(&preview), Some(0), "{}", text(&preview.stderr));
        let run = ws
            .cmd()
            .args(["run", dest, "--state-dir", "state", "--json"])
            .output()
            .unwrap();
        let summary: Value = serde_json::from_slice(&run.stdout)
            .unwrap_or_else(|_| panic!("{dest}: {}", text(&run.stderr)));
        assert_eq!(summary["records_read"], ids.len(), "{summary}");
        assert_eq!(summary["invalid"], 0, "{dest}: {}", text(&run.stderr));

        let received = sandbox.journal();
        assert_eq!(received.len(), ids.len(), "{dest}: one request per record");
        let mut seen = BTreeSet::new();
        for entry in &received {
            assert_eq!(entry.method, method);
            assert_eq!(
                entry.query, None,
                "{dest}: no record value made a query: {}",
                entry.path
            );
            let segments: Vec<&str> = entry.path.split('/').collect();
            assert_eq!(
                segments.len(),
                4,
                "{dest}: /v1/contacts/<one segment>, got {}",
                entry.path
            );
            assert_eq!(&segments[..3], ["", "v1", "contacts"], "{}", entry.path);
            seen.insert(decode(segments[3]));
        }
        let expected: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(
            seen, expected,
            "{dest}: each id arrived whole, as one segment"
        );
    }
}

/// `.`, `..` and an empty id would change the path even when encoded: those records are invalid,
/// each named by its number, and never sent.
#[test]
fn dot_segments_and_empty_ids_make_their_record_invalid() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &sandbox.url());
    ws.write(
        "records.jsonl",
        "{\"id\":\"..\",\"information\":\"x\"}\n{\"id\":\".\",\"information\":\"x\"}\n{\"id\":\"\",\"information\":\"x\"}\n",
    );
    ws.write(
        "dest.toml",
        &manual_destination(
            "local",
            "/v1/contacts/{record.id}",
            "exclude = [\"id\"]",
            "",
        ),
    );
    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&run), Some(3), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    for no in 1..=3 {
        assert!(
            stderr.contains(&format!("invalid: record {no} (line {no})")),
            "{stderr}"
        );
    }
    assert!(sandbox.journal().is_empty(), "{:?}", sandbox.journal());
}

// ---------------------------------------------------------------------------------------------
// Header names and values with control characters

/// A destination file whose header name or value holds CR, LF or another control character is
/// refused by `validate` (and `run`), naming the header, its line and what is wrong.
#[test]
fn control_characters_in_header_names_and_values_are_refused_by_validate_and_run() {
    let ws = Workspace::new();
    ws.write("records.jsonl", "{\"a\":1}\n");
    let cases = [
        (
            r#"headers = { "X-Note" = "a\r\nX-Injected: 1" }"#,
            "control character",
        ),
        (
            r#"headers = { "X-Note" = "line\nbreak" }"#,
            "control character",
        ),
        (
            r#"headers = { "X-Note" = "nul\u0000byte" }"#,
            "control character",
        ),
        (
            r#"headers = { "X-Note" = "del\u007f" }"#,
            "control character",
        ),
        (
            r#"headers = { "X-Note\r\nX-Injected" = "1" }"#,
            "not a valid header name",
        ),
        (r#"headers = { "X Note" = "1" }"#, "not a valid header name"),
        (
            r#"headers = { "X-Note:" = "1" }"#,
            "not a valid header name",
        ),
    ];
    for (headers, expected) in cases {
        ws.write(
            "dest.toml",
            &manual_destination("local", "https://api.aircall.io/v1/contacts", headers, ""),
        );
        for command in ["validate", "run"] {
            let out = ws.cmd().args([command, "dest.toml"]).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(code(&out), Some(1), "{command} {headers}: {stderr}");
            assert!(stderr.contains(expected), "{command} {headers}: {stderr}");
            assert!(
                stderr.contains("request.headers"),
                "names the key: {stderr}"
            );
            assert!(stderr.contains("dest.toml:13:"), "names the line: {stderr}");
        }
    }
}

/// A record value with CR/LF put into a header by a macro makes that record invalid, named by
/// its number; the other records go out and no injected header reaches the server.
#[test]
fn control_characters_from_a_record_make_that_record_invalid() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &sandbox.url());
    let phone = |n: u8| format!("[{{\"label\":\"Work\",\"value\":\"+3361234567{n}\"}}]");
    ws.write(
        "records.jsonl",
        &format!(
            "{{\"ref\":\"ok-1\",\"phone_numbers\":{}}}\n{{\"ref\":\"x\\r\\nX-Injected: yes\",\"phone_numbers\":{}}}\n{{\"ref\":\"tab\\there\",\"phone_numbers\":{}}}\n{{\"ref\":\"ok-4\",\"phone_numbers\":{}}}\n",
            phone(1),
            phone(2),
            phone(3),
            phone(4)
        ),
    );
    ws.write(
        "dest.toml",
        &manual_destination(
            "local",
            "/v1/contacts",
            r#"headers = { "X-Ref" = "{record.ref}" }
exclude = ["ref"]"#,
            "",
        ),
    );
    let preview = ws.cmd().args(["preview", "dest.toml"]).output().unwrap();
    assert_eq!(code(&preview), Some(3));
    assert!(
        text(&preview.stderr).contains("invalid: record 2 (line 2)"),
        "{}",
        text(&preview.stderr)
    );

    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&run), Some(3), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("invalid: record 2 (line 2): header X-Ref: attribute `ref` holds the control character '\\r'"),
        "{stderr}"
    );
    assert!(stderr.contains("invalid: record 3 (line 3)"), "{stderr}");
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["delivered"], 2, "{summary}");
    assert_eq!(summary["invalid"], 2, "{summary}");
    let received = sandbox.journal();
    assert_eq!(received.len(), 2);
    for entry in &received {
        assert_eq!(header(entry, "x-injected"), None, "{:?}", entry.headers);
        assert!(header(entry, "x-ref").is_some_and(|v| v.starts_with("ok-")));
    }
}

// ---------------------------------------------------------------------------------------------
// Files stay private

/// Runs the binary under `umask 000`, so a file it does not create 0600 itself would come out
/// world-readable.
#[cfg(unix)]
fn under_open_umask(ws: &Workspace, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("aircall-dest"))
        .args(args)
        .env("AIRCALL_DEST_HOME", ws.home())
        .env_remove("RUST_LOG")
        .env_remove("AIRCALL_DEST_LOG")
        .current_dir(ws.work.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("stdin written");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("command ends")
}

/// After a real run under `umask 000`: the credentials store, every state file (outcome log,
/// dead letters), the response capture — even one that existed 0644 before — and the sandbox's
/// journal are all 0600, and the state folders the run created are 0700.
#[cfg(unix)]
#[test]
fn files_holding_secrets_or_record_data_are_0600_after_a_real_run() {
    let ws = Workspace::new();
    let servers = Servers::new();
    let journal = ws.path("sandbox-journal.jsonl");
    let sandbox = servers
        .runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            journal: Some(journal.clone()),
            ..SandboxConfig::default()
        }))
        .expect("sandbox starts");

    // The umask really is open: a file made without care comes out 0666.
    let probe = std::process::Command::new("sh")
        .args(["-c", "umask 000 && : > probe"])
        .current_dir(ws.work.path())
        .status()
        .unwrap();
    assert!(probe.success());
    assert_eq!(mode(&ws.path("probe")), 0o666);

    let add = under_open_umask(
        &ws,
        &[
            "credentials",
            "add",
            "local",
            "--api-id",
            SANDBOX_ID,
            "--token-stdin",
            "--base-url",
            &sandbox.url(),
        ],
        Some(SANDBOX_TOKEN),
    );
    assert_eq!(code(&add), Some(0), "{}", text(&add.stderr));
    ws.write(
        "records.jsonl",
        concat!(
            r#"{"first_name":"Ada","phone_numbers":[{"label":"Work","value":"+33612345678"}]}"#,
            "\n",
            r#"{"first_name":"Bad","phone_numbers":[{"label":"Work","value":"nope"}]}"#,
            "\n",
        ),
    );
    let capture = ws.write("capture/responses.jsonl", "{\"old\":true}\n");
    std::fs::set_permissions(
        &capture,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    ws.write(
        "dest.toml",
        &manual_destination(
            "local",
            "/v1/contacts",
            "",
            "[capture]\nfile = \"capture/responses.jsonl\"",
        ),
    );
    let run = under_open_umask(
        &ws,
        &["run", "dest.toml", "--state-dir", "state/deep"],
        None,
    );
    assert_eq!(code(&run), Some(3), "{}", text(&run.stderr));

    let store = ws.home().join("credentials.toml");
    assert_eq!(mode(&store), 0o600, "credentials store");
    // Folders the run made are the owner's alone: nobody else can swap the files inside.
    assert_eq!(mode(&ws.path("state")), 0o700);
    assert_eq!(mode(&ws.path("state/deep")), 0o700);
    let state = files_under(&ws.path("state"));
    let names: Vec<String> = state
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".sqlite3")), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".dead-letter.jsonl")),
        "{names:?}"
    );
    for file in &state {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert!(std::fs::read_to_string(&capture).unwrap().lines().count() >= 3);
    assert_eq!(mode(&capture), 0o600, "response capture");
    assert!(!journal_lines(&journal).is_empty());
    assert_eq!(mode(&journal), 0o600, "sandbox journal");
}

// ---------------------------------------------------------------------------------------------
// Destination files never hold a secret

/// A literal `Authorization` (or other credential-carrying) header in a destination file is
/// refused by every command that reads it, with the way to do it right; nothing is sent.
#[test]
fn a_literal_authorization_header_is_refused_by_every_command() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &sandbox.url());
    ws.write("records.jsonl", "{\"first_name\":\"Ada\"}\n");
    for headers in [
        r#"headers = { "Authorization" = "Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu" }"#,
        r#"headers = { "authorization" = "Bearer abc" }"#,
        r#"headers = { "Proxy-Authorization" = "Basic eA==" }"#,
        r#"headers = { "X-Api-Token" = "abc123" }"#,
    ] {
        ws.write(
            "dest.toml",
            &manual_destination("local", "/v1/contacts", headers, ""),
        );
        for command in ["validate", "run", "send-test", "preview"] {
            let out = ws.cmd().args([command, "dest.toml"]).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(code(&out), Some(1), "{command} {headers}: {stderr}");
            assert!(
                stderr.contains("would put a secret in the destination file")
                    && stderr.contains("credentials add"),
                "{command} {headers}: {stderr}"
            );
        }
    }
    assert!(sandbox.journal().is_empty(), "nothing was sent");
}

/// A destination file holding its credential's token (anywhere: a description, a header) or
/// the Basic form of it is refused by `validate`, `run`, `send-test` and `preview` — for a
/// stored token and for one from an environment variable — without repeating the secret;
/// nothing is sent. `run` also catches a token that comes from a command.
#[test]
fn a_destination_holding_the_token_is_refused_before_anything_is_sent() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    let token = SANDBOX_TOKEN;
    ws.add_credential("stored", SANDBOX_ID, token, &sandbox.url());
    let url = sandbox.url();
    for (name, source) in [
        ("from-env", vec!["--token-env", "SECURITY_TEST_TOKEN"]),
        (
            "from-cmd",
            vec!["--token-cmd", "printf '%s' \"$SECURITY_TEST_TOKEN\""],
        ),
    ] {
        let out = ws
            .cmd()
            .args(["credentials", "add", name, "--api-id", SANDBOX_ID])
            .args(&source)
            .args(["--base-url", &url])
            .output()
            .unwrap();
        assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    }
    ws.write(
        "records.jsonl",
        "{\"first_name\":\"Ada\",\"phone_numbers\":[{\"label\":\"Work\",\"value\":\"+33612345678\"}]}\n",
    );
    let basic = b64(&format!("{SANDBOX_ID}:{token}"));
    let holders = [
        format!("description = \"token {token}\"\n"),
        format!("#  {token}\n"),
        format!("# the header value was Basic {basic}\n"),
    ];
    // Refused with exit code 1, naming the credential and never repeating its secret.
    let refused = |out: &std::process::Output, what: &str, credential: &str| {
        let stderr = text(&out.stderr);
        assert_eq!(code(out), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("of credential \"{credential}\"")),
            "{what}: {stderr}"
        );
        assert!(
            !stderr.contains(token) && !stderr.contains(&basic),
            "{stderr}"
        );
    };
    for credential in ["stored", "from-env", "from-cmd"] {
        for holder in &holders {
            let dest = manual_destination(credential, "/v1/contacts", "", "").replacen(
                "status = ",
                &format!("{holder}status = "),
                1,
            );
            ws.write("dest.toml", &dest);
            for command in ["validate", "run", "send-test", "preview"] {
                let mut args = vec![command, "dest.toml"];
                if command == "run" {
                    args.extend(["--state-dir", "state"]);
                }
                let out = ws
                    .cmd()
                    .env("SECURITY_TEST_TOKEN", token)
                    .args(&args)
                    .output()
                    .unwrap();
                // Checking a token that comes from a command means running it; only the
                // commands that send (and need the token anyway) do.
                let checked = credential != "from-cmd" || matches!(command, "run" | "send-test");
                if checked {
                    refused(
                        &out,
                        &format!("{credential} {command} {holder}"),
                        credential,
                    );
                }
            }
            // A sync destination is run by the sync executor (from `run` or the wizard): the
            // same refusal, before any lookup or write.
            let sync = manual_destination(
                credential,
                "/v1/contacts",
                "",
                "[sync]\nkey = \"first_name\"\n",
            )
            .replacen("status = ", &format!("{holder}status = "), 1);
            ws.write("sync.toml", &sync);
            let out = ws
                .cmd()
                .env("SECURITY_TEST_TOKEN", token)
                .args(["run", "sync.toml", "--state-dir", "state"])
                .output()
                .unwrap();
            refused(&out, &format!("{credential} sync run {holder}"), credential);
        }
    }
    assert!(sandbox.journal().is_empty(), "{:?}", sandbox.journal());
}

// ---------------------------------------------------------------------------------------------
// Plain http:// only to loopback

/// A credential's base URL, a destination URL and a response webhook over plain `http://` are
/// refused unless the host is loopback.
#[test]
fn plain_http_is_refused_beyond_loopback() {
    let ws = Workspace::new();
    let add = ws
        .cmd()
        .args([
            "credentials",
            "add",
            "plain",
            "--api-id",
            "x",
            "--token-stdin",
        ])
        .args(["--base-url", "http://api.aircall.io"])
        .write_stdin("secret-token\n")
        .output()
        .unwrap();
    assert_eq!(code(&add), Some(1));
    assert!(
        text(&add.stderr).contains("use https://"),
        "{}",
        text(&add.stderr)
    );
    assert!(
        !ws.home().join("credentials.toml").exists(),
        "nothing saved"
    );

    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, "http://127.0.0.1:9");
    ws.write("records.jsonl", "{\"a\":1}\n");
    let cases = [
        ("http://hooks.example.com/in", "", false),
        ("http://10.0.0.8/in", "", false),
        (
            "/v1/contacts",
            "[capture]\nwebhook_url = \"http://hooks.example.com/cap\"",
            false,
        ),
        ("http://127.0.0.1:9/in", "", true),
        ("http://localhost:9/in", "", true),
        ("https://hooks.example.com/in", "", true),
        (
            "/v1/contacts",
            "[capture]\nwebhook_url = \"http://127.0.0.1:9/cap\"",
            true,
        ),
    ];
    for (url, rest, accepted) in cases {
        ws.write("dest.toml", &manual_destination("local", url, "", rest));
        let out = ws.cmd().args(["validate", "dest.toml"]).output().unwrap();
        let stderr = text(&out.stderr);
        if accepted {
            assert_eq!(code(&out), Some(0), "{url} {rest}: {stderr}");
        } else {
            assert_eq!(code(&out), Some(1), "{url} {rest}: {stderr}");
            assert!(stderr.contains("use https://"), "{url} {rest}: {stderr}");
        }
    }
}

/// `user:pass@` in a URL is a secret in plain sight (and reqwest would send it as Basic auth):
/// refused in a credential's base URL, a destination URL and a response webhook.
#[test]
fn urls_holding_a_user_name_or_password_are_refused() {
    let ws = Workspace::new();
    let add = ws
        .cmd()
        .args([
            "credentials",
            "add",
            "userinfo",
            "--api-id",
            "x",
            "--token-stdin",
        ])
        .args(["--base-url", "https://me:hunter2@api.aircall.io"])
        .write_stdin("secret-token\n")
        .output()
        .unwrap();
    assert_eq!(code(&add), Some(1));
    assert!(
        text(&add.stderr).contains("user name or password"),
        "{}",
        text(&add.stderr)
    );
    assert!(
        !text(&add.stderr).contains("hunter2"),
        "{}",
        text(&add.stderr)
    );

    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, "https://api.aircall.io");
    ws.write("records.jsonl", "{\"a\":1}\n");
    for (url, rest) in [
        ("https://me:hunter2@hooks.example.com/in", ""),
        ("https://me@hooks.example.com/in", ""),
        (
            "/v1/contacts",
            "[capture]\nwebhook_url = \"https://me:hunter2@hooks.example.com/cap\"",
        ),
    ] {
        ws.write("dest.toml", &manual_destination("local", url, "", rest));
        for command in ["validate", "run"] {
            let out = ws.cmd().args([command, "dest.toml"]).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(code(&out), Some(1), "{command} {url} {rest}: {stderr}");
            assert!(
                stderr.contains("user name or password"),
                "{command} {url}: {stderr}"
            );
        }
    }
}

/// The same hostile values as one query value (`GET /v1/contacts/search?phone={record.id}`):
/// every request arrives at exactly that path with exactly one query parameter, `phone`,
/// decoding to the record's value.
#[test]
fn hostile_record_values_stay_one_query_value() {
    let servers = Servers::new();
    let sandbox = servers.sandbox();
    let ws = Workspace::new();
    ws.add_credential("local", SANDBOX_ID, SANDBOX_TOKEN, &sandbox.url());
    let ids = hostile_ids();
    let mut records = String::new();
    for id in &ids {
        records.push_str(&serde_json::json!({ "id": id }).to_string());
        records.push('\n');
    }
    ws.write("records.jsonl", &records);
    ws.write(
        "dest.toml",
        &manual_destination("local", "/v1/contacts/search?phone={record.id}", "", "")
            .replace("method = \"POST\"", "method = \"GET\""),
    );
    let run = ws
        .cmd()
        .args(["run", "dest.toml", "--state-dir", "state", "--json"])
        .output()
        .unwrap();
    let summary: Value =
        serde_json::from_slice(&run.stdout).unwrap_or_else(|_| panic!("{}", text(&run.stderr)));
    assert_eq!(summary["invalid"], 0, "{}", text(&run.stderr));
    let received = sandbox.journal();
    assert_eq!(received.len(), ids.len());
    let mut seen = BTreeSet::new();
    for entry in &received {
        assert_eq!(entry.method, "GET");
        assert_eq!(entry.path, "/v1/contacts/search");
        let query = entry.query.as_deref().expect("a query");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(pairs.len(), 1, "one parameter: {query}");
        assert_eq!(pairs[0].0, "phone");
        // Spaces are %20 and `+` is %2B, so the query decodes the same way as a path segment.
        seen.insert(decode(query.strip_prefix("phone=").expect("phone first")));
    }
    let expected: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(seen, expected);
}

/// A server at the credential's own origin that echoes the `Authorization` header back, in its
/// body and in a response header (as debugging endpoints and some proxies' error pages do):
/// `send-test`, `credentials verify`, the response capture and the dead letters show `•••`
/// where the echo was, and the token appears nowhere but the credentials store.
#[test]
fn a_server_echoing_the_credential_back_cannot_leak_it() {
    let servers = Servers::new();
    let echo = {
        let app = axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let encoded = auth.split(' ').nth(1).unwrap_or_default().to_string();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&encoded)
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .unwrap_or_default();
            let body = serde_json::json!({
                "error": "Bad Request",
                "echo": { "authorization": auth, "encoded": encoded, "decoded": decoded },
            });
            (
                axum::http::StatusCode::BAD_REQUEST,
                [("x-echo-authorization", auth)],
                body.to_string(),
            )
        });
        servers.runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            format!("http://{addr}")
        })
    };
    let ws = Workspace::new();
    let canary = unique_canary();
    ws.add_credential("echoed", "echo-id", &canary, &echo);
    ws.write("records.jsonl", "{\"first_name\":\"Ada\"}\n");
    ws.write(
        "dest.toml",
        &manual_destination(
            "echoed",
            "/v1/contacts",
            "",
            "[capture]\nfile = \"capture.jsonl\"",
        )
        .replace(
            "max_attempts = 1",
            "max_attempts = 1\ndead_letter_file = \"dead.jsonl\"",
        ),
    );
    let mut t = Transcript::default();
    let test = t.run("send-test", ws.cmd().args(["send-test", "dest.toml"]), &[1]);
    assert!(
        text(&test.stdout).contains("status: 400"),
        "{}",
        text(&test.stdout)
    );
    assert!(text(&test.stdout).contains("•••"), "{}", text(&test.stdout));
    t.run(
        "verify",
        ws.cmd().args(["credentials", "verify", "echoed"]),
        &[1],
    );
    t.run(
        "run",
        ws.cmd()
            .args(["run", "dest.toml", "--state-dir", "state"])
            .env("AIRCALL_DEST_LOG", "trace"),
        &[3],
    );
    let capture = std::fs::read_to_string(ws.path("capture.jsonl")).expect("capture written");
    assert!(
        capture.contains("•••"),
        "the echo was there, redacted: {capture}"
    );
    assert!(std::fs::read_to_string(ws.path("dead.jsonl")).is_ok_and(|d| d.contains("•••")));

    let pair = format!("echo-id:{canary}");
    let needles = [canary.clone(), b64(&pair).trim_end_matches('=').to_string()];
    let store = ws.home().join("credentials.toml");
    let mut leaks = Vec::new();
    for file in files_under(ws.home())
        .into_iter()
        .chain(files_under(ws.work.path()))
    {
        let bytes = std::fs::read(&file).unwrap();
        for needle in &needles {
            if file != store && contains(&bytes, needle) {
                leaks.push(format!("{} holds {needle}", file.display()));
            }
        }
    }
    for (label, bytes) in &t.outputs {
        for needle in &needles {
            if contains(bytes, needle) {
                leaks.push(format!("{label} holds {needle}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "the echoed credential leaked:\n{}",
        leaks.join("\n")
    );
}
