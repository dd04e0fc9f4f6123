//! One run of a destination as a child process: `aircall-dest run DEST --json`, with
//! `AIRCALL_DEST_TRIGGER` saying why it runs. The child's summary (its standard output) is read
//! for metrics and alerts; its standard error goes to the daemon's, each line prefixed with the
//! destination file's name. The process boundary keeps runs apart (a crash in one is its own)
//! and is what the shared rate budget is built for.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Why a run was started; the value of `AIRCALL_DEST_TRIGGER`, which the run records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    InputChange,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::InputChange => "input_change",
        }
    }
}

pub use crate::state::TRIGGER_ENV;

/// A run that ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub path: PathBuf,
    pub trigger: Trigger,
    pub started: SystemTime,
    pub finished: SystemTime,
    /// `None` when killed by a signal (or it could not be started: see `first_error`).
    pub exit_code: Option<i32>,
    /// The `--json` summary, when the run printed one.
    pub summary: Option<Value>,
    /// The first `error:` line the run wrote, without the prefix.
    pub first_error: Option<String>,
}

/// How runs are started.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// This program (the daemon's own executable).
    pub program: PathBuf,
    pub state_dir: PathBuf,
}

impl Launcher {
    /// Starts a run of `path`; returns its process id. When it ends, [`Ended`] is sent on `done`.
    pub fn start(
        &self,
        path: &Path,
        trigger: Trigger,
        done: mpsc::UnboundedSender<Ended>,
    ) -> Result<u32, String> {
        let mut command = Command::new(&self.program);
        command
            .arg("run")
            .arg(path)
            .arg("--json")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env(TRIGGER_ENV, trigger.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(false);
        // Its own process group: a Ctrl-C at the daemon's terminal reaches the daemon only, which
        // then tells each run once, so runs drain instead of taking it as a second interrupt.
        #[cfg(unix)]
        command.process_group(0);
        let started = SystemTime::now();
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", self.program.display()))?;
        let pid = child.id().unwrap_or(0);
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let label = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let path = path.to_path_buf();
        tokio::spawn(async move {
            let read_out = async {
                let mut text = String::new();
                if let Some(mut stdout) = stdout {
                    let _ = stdout.read_to_string(&mut text).await;
                }
                text
            };
            let read_err = async {
                let mut first_error = None;
                if let Some(stderr) = stderr {
                    let mut lines = BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if first_error.is_none()
                            && let Some(message) = line.strip_prefix("error: ")
                        {
                            first_error = Some(message.to_string());
                        }
                        super::say(&format!("{label}: {line}"));
                    }
                }
                first_error
            };
            let (text, first_error) = tokio::join!(read_out, read_err);
            let status = child.wait().await;
            let exit_code = status.as_ref().ok().and_then(|s| s.code());
            let first_error = match status {
                Err(err) => Some(format!("cannot wait for the run: {err}")),
                Ok(_) => first_error,
            };
            let summary = serde_json::from_str::<Value>(text.trim())
                .ok()
                .filter(Value::is_object);
            let _ = done.send(Ended {
                path,
                trigger,
                started,
                finished: SystemTime::now(),
                exit_code,
                summary,
                first_error,
            });
        });
        Ok(pid)
    }
}

/// Asks a run to stop: SIGTERM, which makes it drain (a second one stops it at once).
#[cfg(unix)]
pub fn terminate(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid > 0 {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. The id is one this
        // daemon started; it forgets it as soon as the run's end is reported.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

#[cfg(not(unix))]
pub fn terminate(_pid: u32) {}
