//! `run`, `send-test`, `activate`/`pause` and `credentials verify` through the real binary,
//! against a small Aircall-like stub served over loopback inside the test: what the server
//! receives must be exactly what `preview` prints, and every record must be accounted for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::summary_support;
use summary_support::{assert_counts_add_up, field};

const AUTH: &str = "Basic c2FuZGJveC1pZDpzYW5kYm94LXRva2Vu"; // sandbox-id:sandbox-token

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One request the stub received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
    /// Whether the stub applied it (created the contact) — also true when it then withheld the answer.
    applied: bool,
}

/// What the stub does with the n-th request (from 0).
#[derive(Debug, Clone)]
enum Reply {
    /// Apply and answer with this status.
    Apply(u16),
    /// Do not apply; answer with this status and body.
    Refuse(u16, &'static str),
    /// 429 with `Retry-After: 0`, not applied.
    RateLimited,
    /// Apply, then take this long to answer (longer than the client waits).
    ApplyThenStall(Duration),
}

type Behaviour = Arc<dyn Fn(u64, &Seen) -> Reply + Send + Sync>;

struct Stub {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    fn start(behaviour: Behaviour) -> Stub {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let journal = seen.clone();
        let counter = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let journal = journal.clone();
                    let behaviour = behaviour.clone();
                    let counter = counter.clone();
                    async move {
                        let mut seen = Seen {
                            method: method.to_string(),
                            path: uri.path().to_string(),
                            authorization: headers
                                .get("authorization")
                                .map(|v| v.to_str().unwrap().to_string()),
                            body: String::from_utf8(body.to_vec()).unwrap(),
                            applied: false,
                        };
                        match seen.authorization.as_deref() {
                            None => {
                                return (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#)
                                    .into_response();
                            }
                            Some(AUTH) => {}
                            Some(_) => {
                                return (
                                    StatusCode::FORBIDDEN,
                                    r#"{"error":"Forbidden","troubleshoot":"Invalid API key"}"#,
                                )
                                    .into_response();
                            }
                        }
                        if uri.path() == "/v1/ping" {
                            return (StatusCode::OK, r#"{"ping":"pong"}"#).into_response();
                        }
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let reply = behaviour(n, &seen);
                        seen.applied = matches!(reply, Reply::Apply(_) | Reply::ApplyThenStall(_));
                        journal.lock().unwrap().push(seen);
                        let response: Response = match reply {
                            Reply::Apply(status) => (
                                StatusCode::from_u16(status).unwrap(),
                                [("x-aircallapi-remaining", "59")],
                                r#"{"contact":{"id":1}}"#,
                            )
                                .into_response(),
                            Reply::Refuse(status, body) => {
                                (StatusCode::from_u16(status).unwrap(), body).into_response()
                            }
                            Reply::RateLimited => (
                                StatusCode::TOO_MANY_REQUESTS,
                                [("retry-after", "0")],
                                r#"{"error":"Too Many Requests"}"#,
                            )
                                .into_response(),
                            Reply::ApplyThenStall(wait) => {
                                tokio::time::sleep(wait).await;
                                (StatusCode::CREATED, "{}").into_response()
                            }
                        };
                        response
                    }
                };
                let app = axum::Router::new().fallback(handler);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Stub {
            base: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn always(status: u16) -> Behaviour {
    Arc::new(move |_, _| Reply::Apply(status))
}

/// A configuration home with a credential named like the example's, pointing at `base`.
struct Setup {
    home: tempfile::TempDir,
    dest: PathBuf,
}

impl Setup {
    fn new(base: &str, token: &str) -> Setup {
        Self::with(base, token, |text| text)
    }

    /// The contacts example, active, reading the bundled CSV, unpaced and with quick retries;
    /// `edit` changes its text further.
    fn with(base: &str, token: &str, edit: impl Fn(String) -> String) -> Setup {
        let home = tempfile::tempdir().unwrap();
        let out = cmd(home.path())
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
            .write_stdin(token)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(root().join("assets/examples/contacts.toml")).unwrap();
        let csv = root().join("assets/data/customers-100.csv");
        let text = text
            .replace("status = \"paused\"", "status = \"active\"")
            .replace("path = \"../data/customers-100.csv\"", &format!("path = {:?}", csv.display().to_string()))
            .replace("rate_limit_per_minute = 60", "rate_limit_per_minute = 0")
            // The stub has no contact search, so creates in doubt cannot be reconciled here:
            // these tests pin the no-lookup policy (reconciling is tested in tests/crash*.rs).
            .replace("max_attempts = 5", "max_attempts = 5\nin_doubt = \"report\"\nbackoff_initial_ms = 1\nbackoff_max_ms = 10\nrequest_timeout_secs = 2\ndrain_timeout_secs = 5");
        let text = edit(text);
        let dest = home.path().join("contacts.toml");
        std::fs::write(&dest, text).unwrap();
        Setup { home, dest }
    }

    fn cmd(&self) -> Command {
        cmd(self.home.path())
    }

    fn run(&self, extra: &[&str]) -> (Option<i32>, Value, String) {
        let out = self
            .cmd()
            .arg("run")
            .arg(&self.dest)
            .arg("--json")
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let summary = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        (out.status.code(), summary, stderr)
    }

    fn preview_bodies(&self) -> Vec<Value> {
        let out = self.cmd().arg("preview").arg(&self.dest).output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn cmd(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("aircall-dest").unwrap();
    cmd.env("AIRCALL_DEST_HOME", home)
        .env("AIRCALL_DEST_SEED", "7")
        .timeout(Duration::from_secs(120));
    cmd
}

/// The first record number a request body stands for, read from the CSV's `Customer Id`
/// (mapped to `information`), so a body can be traced to its record.
fn customer(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap();
    value["information"].as_str().unwrap().to_string()
}

#[test]
fn the_contacts_example_sends_exactly_what_preview_prints_and_a_rerun_skips_it_all() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let preview = setup.preview_bodies();
    assert_eq!(preview.len(), 100);

    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(field(&summary, "records_read"), 100);
    assert_eq!(field(&summary, "delivered"), 100);
    assert_eq!(field(&summary, "requests"), 100);
    assert_eq!(field(&summary, "retries"), 0);
    assert_counts_add_up(&summary);
    let keys: Vec<&str> = summary
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "records_read",
            "delivered",
            "dead_lettered",
            "invalid",
            "skipped_already_done",
            "in_doubt",
            "values_left_out",
            "requests",
            "retries",
            "http_429",
            "duration_ms"
        ]
    );

    let seen = stub.seen();
    assert_eq!(
        seen.len(),
        preview.len(),
        "as many requests as preview shows"
    );
    let mut sent: Vec<(String, String, String)> = seen
        .iter()
        .map(|s| {
            (
                s.method.clone(),
                format!("{}{}", stub.base, s.path),
                s.body.clone(),
            )
        })
        .collect();
    let mut shown: Vec<(String, String, String)> = preview
        .iter()
        .map(|p| {
            (
                p["method"].as_str().unwrap().into(),
                p["url"].as_str().unwrap().into(),
                p["body"].as_str().unwrap().into(),
            )
        })
        .collect();
    sent.sort();
    shown.sort();
    assert_eq!(sent, shown, "byte for byte the bodies preview printed");
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some(AUTH))
    );

    // A rerun sends nothing: every record is already done.
    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(field(&summary, "skipped_already_done"), 100);
    assert_eq!(field(&summary, "requests"), 0);
    assert_counts_add_up(&summary);
    assert_eq!(stub.seen().len(), 100);
}

#[test]
fn rejected_records_go_to_the_dead_letter_file_with_the_answer() {
    let behaviour: Behaviour = Arc::new(|_, seen: &Seen| {
        if seen.body.contains("\"last_name\":\"F") {
            Reply::Refuse(
                422,
                r#"{"error":"Unprocessable Entity","troubleshoot":"phone_numbers already taken"}"#,
            )
        } else {
            Reply::Apply(201)
        }
    });
    let stub = Stub::start(behaviour);
    let setup = Setup::new(&stub.base, "sandbox-token");
    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(3), "{stderr}");
    let rejected = stub
        .seen()
        .iter()
        .filter(|s| s.body.contains("\"last_name\":\"F"))
        .count() as u64;
    assert!(rejected > 0);
    assert_eq!(field(&summary, "dead_lettered"), rejected);
    assert_eq!(field(&summary, "delivered"), 100 - rejected);
    assert_counts_add_up(&summary);
    assert!(
        stderr.contains("dead letter: record") && stderr.contains("phone_numbers already taken"),
        "{stderr}"
    );
    let path = setup
        .home
        .path()
        .join("state")
        .join("contacts.dead-letter.jsonl");
    let letters: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len() as u64, rejected);
    let letter = &letters[0];
    assert_eq!(letter["reason"], "rejected");
    assert_eq!(letter["status"], 422);
    assert_eq!(letter["attempts"], 1);
    assert!(
        letter["response_body"]
            .as_str()
            .unwrap()
            .contains("already taken")
    );
    assert!(
        letter["record_values"][0]["Last Name"]
            .as_str()
            .unwrap()
            .starts_with('F')
    );
    assert_eq!(letter["request"]["headers"]["Authorization"], "Basic •••");
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("sandbox-token")
    );
    assert!(!std::fs::read_to_string(&path).unwrap().contains(&AUTH[6..]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Dead-lettered records are done: a rerun does not send them again.
    let (code, summary, _) = setup.run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(field(&summary, "skipped_already_done"), 100);
}

#[test]
fn with_faults_every_record_ends_somewhere_and_none_is_created_twice_unless_in_doubt() {
    // A fixed pattern standing in for `500=0.1,429=0.05` plus stalls: about one request in ten
    // fails with 500, one in twenty is rate limited, one in fifty is applied but answered too late.
    let behaviour: Behaviour = Arc::new(|n, _| match n * 7919 % 100 {
        0..=9 => Reply::Refuse(500, r#"{"error":"Internal Server Error"}"#),
        10..=14 => Reply::RateLimited,
        15..=16 => Reply::ApplyThenStall(Duration::from_secs(4)),
        _ => Reply::Apply(201),
    });
    let stub = Stub::start(behaviour);
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        format!("{t}\n[capture]\nfile = \"responses.jsonl\"\n")
    });
    let (code, summary, stderr) = setup.run(&[]);
    assert_counts_add_up(&summary);
    assert_eq!(field(&summary, "records_read"), 100, "{stderr}");
    // Response capture: one line per call, retries and unanswered calls included.
    let captured: Vec<Value> = std::fs::read_to_string(setup.home.path().join("responses.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(captured.len() as u64, field(&summary, "requests"));
    assert!(
        captured
            .iter()
            .any(|c| c["status"] == 429 && c["response_headers"]["retry-after"] == "0")
    );
    assert!(
        captured
            .iter()
            .any(|c| c["status"].is_null() && c["error"].as_str().unwrap().contains("timed out"))
    );
    assert!(
        captured
            .iter()
            .all(|c| c["records"].as_array().unwrap().len() == 1 && c["latency_ms"].is_u64())
    );
    assert!(captured.iter().any(|c| c["attempt"].as_u64().unwrap() > 1));
    assert!(
        field(&summary, "retries") > 0 && field(&summary, "http_429") > 0,
        "{summary}"
    );
    let in_doubt = field(&summary, "in_doubt");
    assert!(in_doubt > 0, "stalled creates are in doubt: {summary}");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("in doubt: record"), "{stderr}");

    let mut created: HashMap<String, usize> = HashMap::new();
    for seen in stub.seen().iter().filter(|s| s.applied) {
        *created.entry(customer(&seen.body)).or_default() += 1;
    }
    assert!(
        created.values().all(|&n| n == 1),
        "no contact created twice: {created:?}"
    );
    assert_eq!(
        created.len() as u64,
        field(&summary, "delivered") + in_doubt,
        "delivered and in-doubt ones exist"
    );

    // A rerun does not resend the in-doubt creates (they were in fact created) and says so.
    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(3));
    assert_eq!(field(&summary, "in_doubt"), in_doubt);
    assert_eq!(field(&summary, "skipped_already_done"), 100 - in_doubt);
    assert!(stderr.contains("never learned their outcome"), "{stderr}");
    let created_after: usize = stub.seen().iter().filter(|s| s.applied).count();
    assert_eq!(created_after, created.len(), "nothing more was created");
}

#[test]
fn in_doubt_creates_are_resent_only_when_asked() {
    // The first request is applied but answered after the client gave up.
    let behaviour: Behaviour = Arc::new(|n, _| {
        if n == 0 {
            Reply::ApplyThenStall(Duration::from_secs(4))
        } else {
            Reply::Apply(201)
        }
    });
    let stub = Stub::start(behaviour);
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        t.replace("concurrency = 4", "concurrency = 1")
    });
    let (code, summary, _) = setup.run(&[]);
    assert_eq!(code, Some(3));
    assert_eq!(
        (field(&summary, "in_doubt"), field(&summary, "delivered")),
        (1, 99)
    );
    let (_, summary, _) = setup.run(&["--resend-in-doubt"]);
    assert_eq!(
        (
            field(&summary, "delivered"),
            field(&summary, "skipped_already_done"),
            field(&summary, "requests")
        ),
        (1, 99, 1)
    );
    let first = customer(&stub.seen()[0].body);
    assert_eq!(
        stub.seen()
            .iter()
            .filter(|s| customer(&s.body) == first)
            .count(),
        2,
        "sent again as asked"
    );
}

#[test]
fn a_changed_input_is_refused_unless_restart() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let input = setup.home.path().join("few.csv");
    let csv = std::fs::read_to_string(root().join("assets/data/customers-100.csv")).unwrap();
    std::fs::write(&input, csv.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    let input_arg = input.display().to_string();
    let (code, summary, _) = setup.run(&["--input", &input_arg]);
    assert_eq!((code, field(&summary, "delivered")), (Some(0), 3));
    std::fs::write(&input, csv.lines().take(6).collect::<Vec<_>>().join("\n")).unwrap();
    let (code, _, stderr) = setup.run(&["--input", &input_arg]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("changed since an earlier run") && stderr.contains("--restart"),
        "{stderr}"
    );
    let (code, summary, _) = setup.run(&["--input", &input_arg, "--restart"]);
    assert_eq!((code, field(&summary, "delivered")), (Some(0), 5));
}

#[test]
fn bad_credentials_stop_the_run_with_a_message_naming_them() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "wrong-token");
    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("403") && stderr.contains("\"Local sandbox\""),
        "{stderr}"
    );
    assert_counts_add_up(&summary);
    assert_eq!(field(&summary, "delivered"), 0);
    assert!(
        field(&summary, "requests") <= 4,
        "the run stops at once: {summary}"
    );
    // Records refused with 403 were read and sent: dead-lettered with the answer (one record
    // per request here), and sent again by the next run.
    assert_eq!(
        field(&summary, "records_read"),
        field(&summary, "requests"),
        "{summary}"
    );
    assert_eq!(
        field(&summary, "dead_lettered"),
        field(&summary, "records_read"),
        "{summary}"
    );
    assert!(stub.seen().is_empty(), "nothing was applied");

    let out = setup
        .cmd()
        .args(["credentials", "verify", "Local sandbox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("answered 403"));
}

#[test]
fn credentials_verify_tells_the_cases_apart() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let out = setup
        .cmd()
        .args(["credentials", "verify", "Local sandbox"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("works"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let unreachable = Setup::new(&format!("http://{closed}"), "sandbox-token");
    let out = unreachable
        .cmd()
        .args(["credentials", "verify", "Local sandbox"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot reach"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unreachable_host_stops_the_run_without_dead_lettering_anything() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let setup = Setup::with(&format!("http://{closed}"), "sandbox-token", |t| {
        t.replace("max_attempts = 5", "max_attempts = 2")
    });
    let (code, summary, stderr) = setup.run(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach {closed}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: the credential \"Local sandbox\" points at the sandbox the wizard runs inside itself; without the wizard, start it first: aircall-dest sandbox --addr {closed}"
        )),
        "the Local sandbox credential says how to start its sandbox: {stderr}"
    );
    assert_eq!(field(&summary, "dead_lettered"), 0);
    assert_counts_add_up(&summary);
}

#[test]
fn a_paused_destination_is_not_run_until_activated() {
    let stub = Stub::start(always(201));
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        t.replace("status = \"active\"", "status = \"paused\"  # not yet")
    });
    let (code, _, stderr) = setup.run(&[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("is paused") && stderr.contains("aircall-dest activate"),
        "{stderr}"
    );
    assert!(stub.seen().is_empty());

    let out = setup
        .cmd()
        .arg("activate")
        .arg(&setup.dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&setup.dest).unwrap();
    assert!(
        text.contains("status = \"active\"  # not yet"),
        "only the value changed: {text}"
    );
    assert!(
        text.contains("# Create one Aircall contact per row"),
        "comments are kept"
    );
    let (code, summary, _) = setup.run(&[]);
    assert_eq!((code, field(&summary, "delivered")), (Some(0), 100));

    let out = setup.cmd().arg("pause").arg(&setup.dest).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(setup.run(&[]).0, Some(1));
}

#[test]
fn an_invalid_destination_file_or_input_gives_a_located_message() {
    let stub = Stub::start(always(201));
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        t.replace("concurrency = 4", "concurrency = \"four\"")
    });
    let (code, _, stderr) = setup.run(&[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("contacts.toml") && stderr.contains("concurrency"),
        "{stderr}"
    );

    let setup = Setup::new(&stub.base, "sandbox-token");
    let (code, _, stderr) = setup.run(&["--input", "/nonexistent/customers.csv"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("/nonexistent/customers.csv"), "{stderr}");
    assert!(stub.seen().is_empty());
}

#[test]
fn invalid_records_are_reported_and_never_sent() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let bad = root().join("tests/data/customers-bad-phones.csv");
    let (code, summary, stderr) = setup.run(&["--input", &bad.display().to_string()]);
    assert_eq!(code, Some(3), "{stderr}");
    let invalid = field(&summary, "invalid");
    assert!(invalid > 0);
    assert!(stderr.contains("invalid: record"), "{stderr}");
    assert_eq!(stub.seen().len() as u64, field(&summary, "delivered"));
    assert_counts_add_up(&summary);
}

#[test]
fn a_dry_run_sends_nothing() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let (code, summary, stderr) = setup.run(&["--dry-run"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(field(&summary, "would_send_records"), 100);
    assert_eq!(field(&summary, "requests"), 0);
    assert!(stub.seen().is_empty());
}

#[test]
fn batched_requests_are_the_ones_preview_shows() {
    let batchings = [
        "[batching]\nenabled = true\nmax_records = 7\nalgorithm = \"array\"\n",
        "[batching]\nenabled = true\nmax_records = 10\nalgorithm = \"wrap\"\nwrap_key = \"contacts\"\n",
        "[batching]\nenabled = true\nmax_records = 50\nalgorithm = \"group_by\"\ngroup_by = \"Country\"\ngroup_shape = \"wrap\"\n",
    ];
    for batching in batchings {
        let stub = Stub::start(always(200));
        let setup = Setup::with(&stub.base, "sandbox-token", |t| {
            t.replace("[delivery]", &format!("{batching}\n[delivery]"))
        });
        let preview = setup.preview_bodies();
        let (code, summary, stderr) = setup.run(&[]);
        assert_eq!(code, Some(0), "{batching}: {stderr}");
        assert_eq!(field(&summary, "delivered"), 100);
        assert_eq!(
            field(&summary, "requests") as usize,
            preview.len(),
            "{batching}"
        );
        let mut sent: Vec<(String, String)> = stub
            .seen()
            .iter()
            .map(|s| (format!("{}{}", stub.base, s.path), s.body.clone()))
            .collect();
        let mut shown: Vec<(String, String)> = preview
            .iter()
            .map(|p| {
                (
                    p["url"].as_str().unwrap().into(),
                    p["body"].as_str().unwrap().into(),
                )
            })
            .collect();
        sent.sort();
        shown.sort();
        assert_eq!(sent, shown, "{batching}");
        assert!(preview.len() < 100, "{batching}: records were batched");
    }
}

#[test]
fn send_test_prints_the_answer_and_exits_by_status() {
    let stub = Stub::start(always(201));
    let setup = Setup::new(&stub.base, "sandbox-token");
    let out = setup
        .cmd()
        .arg("send-test")
        .arg(&setup.dest)
        .args(["--sample", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("status: 201 Created")
            && stdout.contains("latency:")
            && stdout.contains("x-aircallapi-remaining: 59"),
        "{stdout}"
    );
    let preview = setup.preview_bodies();
    assert_eq!(
        stub.seen()[0].body,
        preview[1]["body"].as_str().unwrap(),
        "sample 2 is preview's second request"
    );

    let body = setup.home.path().join("body.json");
    std::fs::write(&body, "{\"first_name\":\"Edited\"}").unwrap();
    let out = setup
        .cmd()
        .arg("send-test")
        .arg(&setup.dest)
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stub.seen()[1].body, "{\"first_name\":\"Edited\"}");

    let refusing = Stub::start(Arc::new(|_, _| {
        Reply::Refuse(422, r#"{"error":"Unprocessable Entity"}"#)
    }));
    let setup = Setup::new(&refusing.base, "sandbox-token");
    let out = setup
        .cmd()
        .arg("send-test")
        .arg(&setup.dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("status: 422"));
}

#[cfg(unix)]
#[test]
fn sigint_drains_in_flight_requests_exits_130_and_a_rerun_finishes() {
    use std::process::Stdio;
    // Slow answers and a low rate keep the run going long enough to interrupt it.
    let behaviour: Behaviour = Arc::new(|_, _| Reply::Apply(201));
    let stub = Stub::start(behaviour);
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        t.replace("rate_limit_per_minute = 0", "rate_limit_per_minute = 600")
    });
    let binary = assert_cmd::cargo::cargo_bin("aircall-dest");
    let child = std::process::Command::new(binary)
        .env("AIRCALL_DEST_HOME", setup.home.path())
        .arg("run")
        .arg(&setup.dest)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until some records are through, then interrupt.
    while stub.seen().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = std::process::Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping") && stderr.contains("interrupted"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_counts_add_up(&summary);
    let first = field(&summary, "delivered");
    assert_eq!(
        field(&summary, "in_doubt"),
        0,
        "the drain let in-flight requests finish"
    );
    assert!(first < 100, "{summary}");
    assert_eq!(
        stub.seen().len() as u64,
        first,
        "every request sent was counted"
    );

    let (code, summary, _) = setup.run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(field(&summary, "skipped_already_done"), first);
    assert_eq!(field(&summary, "delivered"), 100 - first);
    let mut created: HashMap<String, usize> = HashMap::new();
    for seen in stub.seen() {
        *created.entry(customer(&seen.body)).or_default() += 1;
    }
    assert_eq!(created.len(), 100);
    assert!(
        created.values().all(|&n| n == 1),
        "no duplicates across the interruption"
    );
}

#[cfg(unix)]
#[test]
fn a_second_sigint_stops_at_once_and_leaves_in_flight_records_in_doubt() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    // The first four requests are applied, then answered only after 20 s: in flight when stopped.
    let stub = Stub::start(Arc::new(|n, _| {
        if n < 4 {
            Reply::ApplyThenStall(Duration::from_secs(20))
        } else {
            Reply::Apply(201)
        }
    }));
    let setup = Setup::with(&stub.base, "sandbox-token", |t| {
        t.replace("request_timeout_secs = 2", "request_timeout_secs = 60")
            .replace("drain_timeout_secs = 5", "drain_timeout_secs = 60")
    });
    let binary = assert_cmd::cargo::cargo_bin("aircall-dest");
    let mut child = std::process::Command::new(binary)
        .env("AIRCALL_DEST_HOME", setup.home.path())
        .arg("run")
        .arg(&setup.dest)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while stub.seen().len() < 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let interrupt = |pid: u32| {
        assert!(
            std::process::Command::new("kill")
                .arg("-INT")
                .arg(pid.to_string())
                .status()
                .unwrap()
                .success()
        )
    };
    interrupt(child.id());
    // The second signal only after the first was handled (the drain message is printed).
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("stopping:") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr ended before the drain message"
        );
    }
    interrupt(child.id());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("stopping now"), "{rest}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_counts_add_up(&summary);
    assert_eq!(
        field(&summary, "in_doubt"),
        4,
        "the four requests in flight: {summary}"
    );
    assert_eq!(field(&summary, "delivered"), 0);

    // They were in fact applied: a rerun reports them and does not create them again.
    let (code, again, stderr) = setup.run(&[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(
        (field(&again, "in_doubt"), field(&again, "delivered")),
        (4, 96),
        "{again}"
    );
    let mut created: HashMap<String, usize> = HashMap::new();
    for seen in stub.seen() {
        *created.entry(customer(&seen.body)).or_default() += 1;
    }
    assert_eq!(created.len(), 100);
    assert!(created.values().all(|&n| n == 1), "no duplicates");
}
