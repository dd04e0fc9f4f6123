//! What the daemon, shared-budget and history tests share: a sandbox limited to N requests a
//! minute, a folder of destination files on one credential, the daemon as a real process whose
//! log lines can be waited for, and checks on the sandbox journal.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aircall_dest::sandbox::{self, JournalStatus, Sandbox, SandboxConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_aircall-dest");

/// A sandbox served by its own runtime, alive as long as this value.
pub struct Running {
    pub sandbox: Sandbox,
    pub runtime: tokio::runtime::Runtime,
}

/// A sandbox that refuses (429) what goes over `per_minute`.
pub fn sandbox(per_minute: u32) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: per_minute,
            seed: Some(5),
            ..SandboxConfig::default()
        }))
        .unwrap();
    Running { sandbox, runtime }
}

/// A configuration home with the credential "Local sandbox", a folder for destination files and
/// a state folder.
pub struct Site {
    pub home: tempfile::TempDir,
    pub dir: tempfile::TempDir,
    pub state: tempfile::TempDir,
}

impl Site {
    pub fn new(base_url: &str) -> Site {
        let site = Site {
            home: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
        };
        let mut add = site.command();
        add.args([
            "credentials",
            "add",
            "Local sandbox",
            "--api-id",
            "sandbox-id",
            "--token-env",
            "SANDBOX_TOKEN",
            "--base-url",
            base_url,
        ]);
        let out = add.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        site
    }

    /// The program with this site's home and the token's variable.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("AIRCALL_DEST_HOME", self.home.path())
            .env("SANDBOX_TOKEN", "sandbox-token")
            .env("AIRCALL_DEST_SEED", "3")
            .env_remove("AIRCALL_DEST_TRIGGER");
        command
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `records` contacts as JSON Lines to `input` in the folder.
    pub fn input(&self, input: &str, records: usize, tag: &str) {
        let lines: String = (0..records)
            .map(|i| {
                format!(
                    "{{\"first_name\":\"{tag}{i}\",\"phone_numbers\":[{{\"label\":\"Work\",\"value\":\"+1415555{i:04}\"}}]}}\n"
                )
            })
            .collect();
        std::fs::write(self.path(input), lines).unwrap();
    }

    /// Writes destination file `file`: active, creating contacts from `input`, at `per_minute`,
    /// with `extra` TOML appended (a [schedule], [alerts]).
    pub fn destination(&self, file: &str, input: &str, per_minute: u32, extra: &str) {
        let text = format!(
            r#"version = 1
name = "{file}"
status = "active"
credential = "Local sandbox"
mode = "manual"

[source]
path = "{input}"
format = "jsonl"

[request]
method = "POST"
url = "/v1/contacts"

[delivery]
rate_limit_per_minute = {per_minute}
burst = 1
concurrency = 2
max_attempts = 3
{extra}
"#
        );
        // Written beside and renamed over, as an editor or the wizard saves.
        let tmp = self.dir.path().join(format!(".{file}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(tmp, self.path(file)).unwrap();
    }

    /// `aircall-dest history FILE --json` on this site's state folder.
    pub fn history(&self, file: &str) -> Vec<serde_json::Value> {
        let out = self
            .command()
            .arg("history")
            .arg(self.path(file))
            .arg("--json")
            .arg("--state-dir")
            .arg(self.state.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Starts `aircall-dest daemon` on the folder, with `extra` arguments.
    pub fn daemon(&self, extra: &[&str]) -> Daemon {
        let mut command = self.command();
        command
            .arg("daemon")
            .arg(self.dir.path())
            .arg("--state-dir")
            .arg(self.state.path())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Daemon { child, lines }
    }
}

/// A daemon process and the lines it has logged so far.
pub struct Daemon {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// How many log lines contain every one of `parts`.
    pub fn count(&self, parts: &[&str]) -> usize {
        self.log()
            .iter()
            .filter(|line| parts.iter().all(|p| line.contains(p)))
            .count()
    }

    /// Waits until at least `n` lines contain every one of `parts`.
    pub fn wait_for(&self, n: usize, parts: &[&str], limit: Duration) {
        wait_until(
            limit,
            || self.count(parts) >= n,
            || {
                format!(
                    "{n} line(s) with {parts:?}; log:\n{}",
                    self.log().join("\n")
                )
            },
        );
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the daemon did not stop; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `ready` every 20 ms; fails the test with `what()` after `limit`.
pub fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool, what: impl Fn() -> String) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "gave up waiting for {}", what());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The arrival times (ms since the epoch) of the API requests in the journal, and how many were
/// answered 429.
pub fn arrivals(sandbox: &Sandbox) -> (Vec<i64>, usize) {
    let journal = sandbox.journal();
    let too_many = journal
        .iter()
        .filter(|e| e.status == JournalStatus::Answered(429))
        .count();
    let mut times: Vec<i64> = journal
        .iter()
        .filter(|e| e.path.starts_with("/v1/"))
        .map(|e| e.time.parse::<jiff::Timestamp>().unwrap().as_millisecond())
        .collect();
    times.sort();
    (times, too_many)
}

/// Asserts that the requests together kept to `per_minute`: n arrivals span at least n − 1
/// intervals, less `jitter_ms`. The check is over the whole run, not pair by pair: slots are
/// handed out evenly, but a request's intent is synced to its state file after its slot and
/// before it leaves, so a stalled sync (a loaded disk) delays some requests and lets them arrive
/// bunched behind it; a request never arrives before its slot.
pub fn assert_paced(times: &[i64], per_minute: u32, jitter_ms: i64) {
    let interval = 60_000 / i64::from(per_minute);
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return;
    };
    let needed = (times.len() as i64 - 1) * interval - jitter_ms;
    assert!(
        last - first >= needed,
        "{} requests arrived within {} ms; at {per_minute}/min they need {needed} ms at least: {times:?}",
        times.len(),
        last - first
    );
}
