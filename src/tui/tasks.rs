//! Background work started by the wizard's commands: reading the dataset, Verify, Send Test
//! and a run started on activation. Each reports back as one or more messages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc::UnboundedSender, watch};

use crate::credentials::Credential;
use crate::destination::Destination;
use crate::request::{Built, Plan};
use crate::secret::Secret;
use crate::tui::msg::{Msg, RunProgress, TaskId, TestRequest, TestResponse, VerifyOutcome};

/// Response bodies longer than this are cut for display.
const BODY_LIMIT: usize = 256 * 1024;

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(crate::request::USER_AGENT)
        .build()
        .map_err(|e| format!("cannot set up HTTP: {e}"))
}

/// `GET {base_url}/v1/ping` with the credential's header.
pub async fn verify(base_url: &str, authorization: &Secret) -> VerifyOutcome {
    let client = match client(Duration::from_secs(15)) {
        Ok(c) => c,
        Err(e) => return VerifyOutcome::Unreachable(e),
    };
    let url = format!("{}/v1/ping", base_url.trim_end_matches('/'));
    match client
        .get(&url)
        .header("Authorization", authorization.expose())
        .send()
        .await
    {
        Ok(response) => match response.status().as_u16() {
            200..=299 => VerifyOutcome::Ok,
            401 => VerifyOutcome::Unauthorized,
            403 => VerifyOutcome::Forbidden,
            code => VerifyOutcome::Status(code),
        },
        Err(e) => VerifyOutcome::Unreachable(format!("cannot reach {url}: {}", error_chain(&e))),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Sends one test request and reads the whole response.
pub async fn send_test(request: TestRequest) -> Result<TestResponse, String> {
    let client = client(Duration::from_secs(request.timeout_secs))?;
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(authorization) = &request.authorization {
        builder = builder.header("Authorization", authorization.expose());
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let started = Instant::now();
    let response = builder
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {}", request.url, error_chain(&e)))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.to_str().unwrap_or("(not text)").to_string(),
            )
        })
        .collect();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the response: {}", error_chain(&e)))?;
    let elapsed_ms = started.elapsed().as_millis();
    let mut body = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_LIMIT)]).to_string();
    if bytes.len() > BODY_LIMIT {
        body.push_str(&format!("\n… ({} bytes in all)", bytes.len()));
    }
    Ok(TestResponse {
        status,
        elapsed_ms,
        headers,
        body,
    })
}

/// Writes the destination file, saving first the credential it names when that is new here.
pub fn save(
    path: &Path,
    destination: &Destination,
    credential: Option<Credential>,
) -> Result<(PathBuf, crate::destination::Status), String> {
    if let Some(credential) = credential {
        let name = credential.name.clone();
        crate::credentials::CredentialStore::open_default()
            .add(credential)
            .map_err(|e| format!("cannot save credential {name:?}: {e}"))?;
    }
    destination.save(path).map_err(|e| e.to_string())?;
    Ok((path.to_path_buf(), destination.status))
}

/// Runs a saved, active destination from the wizard, reporting progress until done or `stop`.
/// Requests go one at a time at the destination's rate limit; 2xx counts as delivered, other
/// 4xx as rejected; 401/403 and network failures end the run with the reason.
pub async fn run(
    id: TaskId,
    dest_path: PathBuf,
    credential: Credential,
    tx: UnboundedSender<Msg>,
    mut stop: watch::Receiver<bool>,
) {
    let result = run_inner(id, &dest_path, &credential, &tx, &mut stop).await;
    let _ = tx.send(Msg::RunFinished { id, result });
}

async fn run_inner(
    id: TaskId,
    dest_path: &Path,
    credential: &Credential,
    tx: &UnboundedSender<Msg>,
    stop: &mut watch::Receiver<bool>,
) -> Result<RunProgress, String> {
    let destination = Destination::load(dest_path).map_err(|e| e.to_string())?;
    let plan = Plan::new(&destination, &credential.base_url).map_err(|e| e.to_string())?;
    let authorization = credential.authorization().map_err(|e| e.to_string())?;
    let source = crate::tui::model::resolve_source(&destination.source.path, Some(dest_path));
    let input = crate::records::Input::Path(source.clone());
    let total = {
        let input = input.clone();
        let format = destination.source.format;
        tokio::task::spawn_blocking(move || crate::records::count_records(&input, format))
            .await
            .ok()
            .flatten()
    };
    let (records_tx, mut records_rx) = tokio::sync::mpsc::channel(64);
    let format = destination.source.format;
    tokio::task::spawn_blocking(move || {
        let reader = match crate::records::open(&input, format) {
            Ok(r) => r,
            Err(e) => {
                let _ = records_tx.blocking_send(Err(e.to_string()));
                return;
            }
        };
        for record in reader {
            if records_tx.blocking_send(Ok(record)).is_err() {
                return;
            }
        }
    });
    let client = client(Duration::from_secs(
        destination.delivery.request_timeout_secs.max(1),
    ))?;
    let interval = match destination.delivery.rate_limit_per_minute {
        0 => Duration::ZERO,
        n => Duration::from_secs_f64(60.0 / n as f64),
    };
    let mut progress = RunProgress {
        total,
        ..Default::default()
    };
    let started = Instant::now();
    let mut next_send = Instant::now();
    let mut builder = plan.builder();
    let mut finished_input = false;
    loop {
        if *stop.borrow() {
            progress.note = Some("stopped: records not yet sent stay unsent".into());
            return Ok(progress);
        }
        let built = if finished_input {
            let rest = builder.finish();
            if rest.is_empty() {
                break;
            }
            rest
        } else {
            match records_rx.recv().await {
                Some(Ok(record)) => {
                    progress.read += 1;
                    builder.push(record)
                }
                Some(Err(e)) => return Err(e),
                None => {
                    finished_input = true;
                    continue;
                }
            }
        };
        for item in built {
            let request = match item {
                Built::Request(request) => request,
                Built::Invalid(_) => {
                    progress.invalid += 1;
                    continue;
                }
            };
            let wait = next_send.saturating_duration_since(Instant::now());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {
                    progress.note = Some("stopped: records not yet sent stay unsent".into());
                    return Ok(progress);
                }
            }
            next_send = Instant::now() + interval;
            let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
                .map_err(|e| e.to_string())?;
            let mut call = client.request(method, &request.url);
            for (name, value) in &request.headers {
                call = call.header(name, value);
            }
            if request.auth {
                call = call.header("Authorization", authorization.expose());
            }
            if let Some(body) = &request.body {
                call = call.body(body.clone());
            }
            progress.sent += 1;
            let count = request.records.len() as u64;
            match call.send().await {
                Ok(response) => match response.status().as_u16() {
                    200..=299 => progress.delivered += count,
                    401 | 403 => {
                        return Err(format!(
                            "the API answered {} : the credential was refused",
                            response.status()
                        ));
                    }
                    _ => progress.rejected += count,
                },
                Err(e) => return Err(format!("cannot reach {}: {}", request.url, error_chain(&e))),
            }
            // A rate over the first seconds says little: it is shown once there is a sample.
            let elapsed = started.elapsed();
            progress.per_minute = if elapsed >= Duration::from_secs(5) {
                progress.sent as f64 * 60.0 / elapsed.as_secs_f64()
            } else {
                0.0
            };
            if let Some(total) = progress.total {
                let left = total.saturating_sub(progress.read) + builder_pending(&progress);
                progress.eta_secs = Some((left as f64 * interval.as_secs_f64()) as u64);
            }
            let _ = tx.send(Msg::RunProgress {
                id,
                progress: progress.clone(),
            });
        }
        if finished_input {
            break;
        }
    }
    progress.done = true;
    progress.eta_secs = Some(0);
    Ok(progress)
}

fn builder_pending(progress: &RunProgress) -> u64 {
    progress
        .read
        .saturating_sub(progress.delivered + progress.rejected + progress.invalid)
}
