//! The bench the crash, signal and soak checks share: a contacts destination over a generated
//! CSV whose every record carries unique values, runs of the real program killed at random
//! points, and a count of what the sandbox ended up holding.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use aircall_dest::sandbox::{self, FaultSpec, Sandbox, SandboxConfig};

/// The program under test, and how to start it.
#[derive(Debug, Clone)]
pub struct Program {
    pub path: PathBuf,
    /// Arguments put before the command's own (a harness re-running itself passes none).
    pub prefix: Vec<String>,
    /// Extra environment (e.g. the marker a re-run harness looks for).
    pub env: Vec<(String, String)>,
}

impl Program {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            prefix: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// A destination, its input and its state, in a folder of their own.
pub struct Bench {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub state: PathBuf,
    pub destination: PathBuf,
    pub input: PathBuf,
    pub records: usize,
    program: Program,
    runs: usize,
}

/// How a run ended.
#[derive(Debug)]
pub struct RunEnd {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunEnd {
    /// The `--json` summary, when the run printed one.
    pub fn summary(&self) -> Option<Value> {
        self.stdout
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str::<Value>(line).ok())
    }
}

/// The phone number of record `i` (from 1): unique per record, valid E.164.
pub fn phone(i: usize) -> String {
    format!("+1415{:07}", 5_000_000 + i)
}

/// The `information` of record `i`: what the final count goes by.
pub fn information(i: usize) -> String {
    format!("record {i}")
}

impl Bench {
    /// Writes `records` contacts, a destination sending them to `base_url` with `delivery`
    /// (TOML lines for the `[delivery]` table), and a credential for the sandbox.
    pub fn new(
        dir: &Path,
        program: Program,
        base_url: &str,
        records: usize,
        delivery: &str,
    ) -> Bench {
        let home = dir.join("home");
        let state = dir.join("state");
        let input = dir.join("contacts.csv");
        let destination = dir.join("contacts.toml");
        let mut csv = String::from("first_name,phone,information\n");
        for i in 1..=records {
            csv.push_str(&format!("Person {i},{},{}\n", phone(i), information(i)));
        }
        fs::write(&input, csv).expect("write the input");
        fs::write(
            &destination,
            format!(
                r#"version = 1
name = "crash-contacts"
status = "active"
credential = "sandbox"
mode = "template"

[source]
path = "contacts.csv"
format = "csv"

[template]
id = "create_records"
resource = "contacts"

[request]
method = "POST"
content_format = "json"
url = "/v1/contacts"

[[mapping]]
target = "first_name"
from = "first_name"

[[mapping]]
target = "information"
from = "information"

[[mapping]]
target = "phone_numbers[0].label"
value = "Work"

[[mapping]]
target = "phone_numbers[0].value"
from = "phone"

[delivery]
{delivery}
"#
            ),
        )
        .expect("write the destination");
        let bench = Bench {
            dir: dir.to_path_buf(),
            home,
            state,
            destination,
            input,
            records,
            program,
            runs: 0,
        };
        let mut add = bench.command(&[
            "credentials",
            "add",
            "sandbox",
            "--api-id",
            "sandbox-id",
            "--token-stdin",
            "--base-url",
            base_url,
        ]);
        add.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = add.spawn().expect("start `credentials add`");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"sandbox-token\n")
            .expect("write the token");
        let out = child.wait_with_output().expect("`credentials add` ends");
        assert!(
            out.status.success(),
            "credentials add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        bench
    }

    /// The program with `args`, pointed at this bench's configuration folder.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program.path);
        command
            .args(&self.program.prefix)
            .args(args)
            .env("AIRCALL_DEST_HOME", &self.home)
            .env_remove("AIRCALL_DEST_SEED")
            .current_dir(&self.dir);
        for (key, value) in &self.program.env {
            command.env(key, value);
        }
        command
    }

    /// Starts `run DEST --state-dir STATE --json [extra]`, its output going to files (a pipe
    /// nobody reads could fill and stall the run).
    pub fn start_run(&mut self, extra: &[&str]) -> (Child, PathBuf, PathBuf) {
        self.runs += 1;
        let out = self.dir.join(format!("run-{}.out", self.runs));
        let err = self.dir.join(format!("run-{}.err", self.runs));
        let destination = self.destination.display().to_string();
        let state = self.state.display().to_string();
        let mut args = vec![
            "run",
            destination.as_str(),
            "--state-dir",
            state.as_str(),
            "--json",
        ];
        args.extend_from_slice(extra);
        let mut command = self.command(&args);
        command
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("create the stdout file"))
            .stderr(File::create(&err).expect("create the stderr file"));
        let child = command.spawn().expect("start `run`");
        (child, out, err)
    }

    /// Runs to the end (or `limit`, after which the run is killed and the test fails).
    pub fn run(&mut self, extra: &[&str], limit: Duration) -> RunEnd {
        let (mut child, out, err) = self.start_run(extra);
        let status = wait(&mut child, limit).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run did not end within {limit:?}; stderr:\n{}",
                fs::read_to_string(&err).unwrap_or_default()
            )
        });
        RunEnd {
            status,
            stdout: fs::read_to_string(&out).unwrap_or_default(),
            stderr: fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// Starts runs and SIGKILLs each after a random delay in `delays`, until `kills` of them were
    /// killed while still running, or a run delivered the whole input before its kill.
    pub fn kill_runs(
        &mut self,
        kills: usize,
        delays: std::ops::Range<u64>,
        rng: &mut StdRng,
    ) -> Kills {
        let mut result = Kills::default();
        while result.killed < kills {
            let (mut child, out, err) = self.start_run(&[]);
            // The deliberate random kill point: this sleep is the experiment, not a wait for a state.
            std::thread::sleep(Duration::from_millis(rng.random_range(delays.clone())));
            match child.try_wait().expect("poll the run") {
                None => {
                    child.kill().expect("SIGKILL the run");
                    child.wait().expect("reap the run");
                    result.killed += 1;
                }
                Some(status) => {
                    let end = RunEnd {
                        status,
                        stdout: fs::read_to_string(&out).unwrap_or_default(),
                        stderr: fs::read_to_string(&err).unwrap_or_default(),
                    };
                    let complete = status.success();
                    result.ended.push(end);
                    if complete {
                        result.completed = true;
                        break;
                    }
                }
            }
        }
        result
    }

    /// Reruns until a run ends with exit code 0, at most `runs` times; the last run's end.
    pub fn rerun_until_done(&mut self, runs: usize, limit: Duration) -> RunEnd {
        let mut last = None;
        for _ in 0..runs {
            let end = self.run(&[], limit);
            let ok = end.status.success();
            last = Some(end);
            if ok {
                break;
            }
        }
        last.expect("at least one run")
    }
}

/// Waits for `child` up to `limit`; `None` when it is still running then.
/// A sandbox without a rate limit, injecting `faults` (a `--fault` spec) drawn from `seed`.
pub fn sandbox(runtime: &tokio::runtime::Runtime, faults: &str, seed: u64) -> Sandbox {
    let faults: FaultSpec = faults.parse().expect("fault spec");
    runtime
        .block_on(sandbox::start(SandboxConfig {
            rate_limit: 0,
            faults,
            seed: Some(seed),
            ..SandboxConfig::default()
        }))
        .expect("sandbox starts")
}

pub fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return Some(status);
        }
        if started.elapsed() > limit {
            return None;
        }
        // Polling a child for its exit: no portable blocking wait with a deadline exists.
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a series of killed runs did.
#[derive(Debug, Default)]
pub struct Kills {
    /// Runs SIGKILLed while still running.
    pub killed: usize,
    /// Runs that ended on their own before their kill came.
    pub ended: Vec<RunEnd>,
    /// Whether one of those finished the whole input (exit 0), which ends the series.
    pub completed: bool,
}

/// What the sandbox holds, against what was sent.
#[derive(Debug, Default)]
pub struct Tally {
    /// Records (by number) with no contact.
    pub lost: Vec<usize>,
    /// Records with more than one contact, and how many.
    pub duplicated: Vec<(usize, usize)>,
    /// Contacts that belong to no record.
    pub strangers: usize,
    pub contacts: usize,
}

impl Tally {
    /// Counts the contacts of a sandbox store dump (`GET /_sandbox/state`) per record.
    pub fn of_state(state: &Value, records: usize) -> Tally {
        let mut per_record: BTreeMap<usize, usize> = BTreeMap::new();
        let mut tally = Tally::default();
        let contacts: Vec<&Value> = match &state["contacts"] {
            Value::Object(map) => map.values().collect(),
            Value::Array(list) => list.iter().collect(),
            _ => Vec::new(),
        };
        for contact in contacts {
            tally.contacts += 1;
            let number = contact["information"]
                .as_str()
                .and_then(|info| info.strip_prefix("record "))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=records).contains(n));
            let phone_agrees = number.is_some_and(|n| {
                contact["phone_numbers"][0]["value"].as_str() == Some(phone(n).as_str())
            });
            match number {
                Some(n) if phone_agrees => *per_record.entry(n).or_default() += 1,
                _ => tally.strangers += 1,
            }
        }
        for i in 1..=records {
            match per_record.get(&i).copied().unwrap_or(0) {
                0 => tally.lost.push(i),
                1 => {}
                n => tally.duplicated.push((i, n)),
            }
        }
        tally
    }

    /// A short account for failure messages: counts, and the first few record numbers.
    pub fn describe(&self) -> String {
        let first: Vec<String> = self.lost.iter().take(10).map(|n| n.to_string()).collect();
        let dup: Vec<String> = self
            .duplicated
            .iter()
            .take(10)
            .map(|(n, c)| format!("{n}×{c}"))
            .collect();
        format!(
            "{} contact(s); lost {} [{}], duplicated {} [{}], {} of no record",
            self.contacts,
            self.lost.len(),
            first.join(", "),
            self.duplicated.len(),
            dup.join(", "),
            self.strangers
        )
    }

    pub fn exact(&self) -> bool {
        self.lost.is_empty() && self.duplicated.is_empty() && self.strangers == 0
    }
}
