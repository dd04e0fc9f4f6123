//! Background work started by the wizard's commands, over the shared client and runner:
//! Send Test, saving, and a run started on activation. Each reports back as messages.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc::UnboundedSender, watch};

use crate::cli::Session;
use crate::client::HttpClient;
use crate::credentials::Credential;
use crate::destination::Destination;
use crate::runner::{self, Event, RunOptions, StopRequest};
use crate::tui::msg::{Msg, RunOutputs, RunProgress, TaskId, TestRequest, TestResponse};

/// "record 3" or "records 3–4".
fn records_label(records: &[crate::records::RecordNo]) -> String {
    match records {
        [one] => format!("record {one}"),
        [first, .., last] => format!("records {first}–{last}"),
        [] => "no record".to_string(),
    }
}

/// Response bodies longer than this are cut for display.
const BODY_LIMIT: usize = 256 * 1024;

/// Sends one test request with the shared HTTP client, once through the client's attempt loop
/// (as `send-test` does), and reads the whole response.
pub async fn send_test(test: TestRequest) -> Result<TestResponse, String> {
    let authorization = match &test.credential {
        Some(credential) => Some(credential.authorization().map_err(|e| e.to_string())?),
        None => None,
    };
    let client = HttpClient::with_timeouts(
        Duration::from_secs(test.timeout_secs),
        Duration::from_secs(test.connect_timeout_secs),
        authorization.as_ref(),
    )
    .map_err(|e| e.to_string())?;
    let credential_name = test.credential.as_ref().map_or("", |c| c.name.as_str());
    let response = crate::client::send_once(&client, credential_name, &test.request)
        .await
        .result
        .map_err(|e| format!("no answer from {}: {}", test.request.url, e.message))?;
    let mut body =
        String::from_utf8_lossy(&response.body[..response.body.len().min(BODY_LIMIT)]).to_string();
    if response.body.len() > BODY_LIMIT {
        body.push_str(&format!("\n… ({} bytes in all)", response.body.len()));
    }
    Ok(TestResponse {
        status: response.status,
        elapsed_ms: response.latency.as_millis(),
        headers: response.headers,
        body,
    })
}

/// Writes the destination file, saving first the credential it names when that is new here.
pub fn save(
    path: &Path,
    destination: &Destination,
    text: &str,
    credential: Option<Credential>,
) -> Result<(PathBuf, crate::destination::Status), String> {
    if let Some(credential) = credential {
        let name = credential.name.clone();
        crate::credentials::CredentialStore::open_default()
            .add(credential)
            .map_err(|e| format!("cannot save credential {name:?}: {e}"))?;
    }
    crate::files::replace_atomic(path, text.as_bytes(), crate::files::Mode::Kept)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((path.to_path_buf(), destination.status))
}

fn progress_of(progress: &runner::Progress) -> RunProgress {
    RunProgress {
        total: progress.total_records,
        per_minute: progress.records_per_minute,
        eta_secs: progress.eta.map(|d| d.as_secs()),
        in_flight: progress.in_flight as u64,
        ..RunProgress::counts(&progress.summary)
    }
}

/// Runs a saved, active destination with the shared runner (outcome log, retries, dead
/// letters, capture, rate limit: the same as `aircall-dest run`), reporting its progress.
pub async fn run(
    id: TaskId,
    dest_path: PathBuf,
    credential: Credential,
    tx: UnboundedSender<Msg>,
    stop: watch::Receiver<StopRequest>,
) {
    let result = run_inner(id, &dest_path, credential, &tx, stop).await;
    let _ = tx.send(Msg::RunFinished { id, result });
}

async fn run_inner(
    id: TaskId,
    dest_path: &Path,
    credential: Credential,
    tx: &UnboundedSender<Msg>,
    stop: watch::Receiver<StopRequest>,
) -> Result<RunProgress, String> {
    // Set up once, as `aircall-dest run` does: the runner checks and compiles nothing again.
    let (text, destination) = Destination::read(dest_path).map_err(|e| e.to_string())?;
    if destination.sync.is_some() {
        return crate::tui::sync_task::run_sync(id, dest_path, destination, credential, tx, stop)
            .await;
    }
    let (session, authorization) =
        Session::for_running(dest_path, text, destination, Some(credential), false)
            .map_err(|failure| failure.message)?;
    let destination = &session.destination;
    let state_dir = runner::default_state_dir();
    let resolve = |p: &Path| crate::tui::model::resolve_source(p, Some(dest_path));
    let _ = tx.send(Msg::RunOutputs {
        id,
        outputs: RunOutputs {
            dead_letters: destination
                .delivery
                .dead_letter_file
                .as_deref()
                .map(resolve)
                .unwrap_or_else(|| runner::default_dead_letter_path(dest_path, &state_dir)),
            capture: destination.capture.file.as_deref().map(resolve),
        },
    });
    let options = RunOptions {
        input: session.input(None),
        destination: session.destination,
        destination_path: session.path,
        plan: session.plan,
        state_dir,
        credential: session.credential,
        authorization,
        dry_run: false,
        restart: false,
        resend_in_doubt: false,
        seed: None,
    };
    let events = tx.clone();
    let on_event: runner::EventFn = Arc::new(move |event| {
        let msg = match event {
            Event::Progress(progress) => Msg::RunProgress {
                id,
                progress: progress_of(&progress),
            },
            Event::Invalid(invalid) => Msg::RunFailure {
                id,
                text: format!("invalid: {invalid}"),
            },
            Event::DeadLettered { records, message } => Msg::RunFailure {
                id,
                text: format!("rejected, {}: {message}", records_label(&records)),
            },
            Event::InDoubt { records, message } => Msg::RunFailure {
                id,
                text: format!("in doubt, {}: {message}", records_label(&records)),
            },
        };
        let _ = events.send(msg);
    });
    let report = runner::run(options, stop, on_event)
        .await
        .map_err(|e| e.to_string())?;
    let mut progress = RunProgress {
        done: report.ending == runner::Ending::Finished,
        ..RunProgress::counts(&report.summary)
    };
    let mut notes = report.notes;
    match report.ending {
        runner::Ending::Finished => {}
        runner::Ending::Interrupted => notes.insert(
            0,
            "stopped: records not yet sent stay unsent; `aircall-dest run` resumes".into(),
        ),
        runner::Ending::Fatal(reason) => return Err(reason),
        runner::Ending::StoppedOnRejected => notes.insert(
            0,
            "stopped: the API rejected a record (on_rejected = \"stop\")".into(),
        ),
        runner::Ending::StoppedOnInvalid => notes.insert(
            0,
            "stopped: a record was invalid (on_invalid = \"stop\")".into(),
        ),
    }
    if let Some(path) = report.dead_letter_file {
        notes.push(format!("dead letters: {}", path.display()));
    }
    progress.note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok(progress)
}
