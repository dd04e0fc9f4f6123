//! Response capture (the "response webhook"): one JSON line per call — time, method, URL, record
//! numbers, attempt, status, latency, response headers and body — appended to a file and/or
//! POSTed to a webhook. The webhook is best effort: it never holds delivery up.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::client::{HttpClient, Response, SendError, WebhookError};
use crate::records::RecordNo;
use crate::request::Request;
use crate::secret::MASK;

/// Response bodies longer than this are cut in captures, so one huge answer cannot fill a disk.
const MAX_BODY: usize = 1 << 20;
/// Lines waiting for the webhook; beyond this they are dropped (and counted) rather than slow delivery.
const WEBHOOK_QUEUE: usize = 1024;

/// How long one post to the webhook may take before it counts as failed.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// One call, as captured.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureEntry {
    pub time: String,
    pub method: String,
    pub url: String,
    pub records: Vec<RecordNo>,
    pub attempt: u32,
    /// `None` when no answer came (the error says why).
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub response_headers: Map<String, Value>,
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Response headers as a JSON object; repeated names are joined with `, `, and headers that can
/// carry secrets (cookies) are masked.
pub fn headers_object(headers: &[(String, String)]) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let value = if matches!(
            lower.as_str(),
            "set-cookie" | "authorization" | "proxy-authorization"
        ) {
            MASK.to_string()
        } else {
            value.clone()
        };
        match map.get_mut(&lower) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(lower, Value::String(value));
            }
        }
    }
    map
}

/// Cuts a body to [`MAX_BODY`] bytes on a character boundary.
pub fn capped_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= MAX_BODY {
        return text.into_owned();
    }
    let mut end = MAX_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes in all]", &text[..end], bytes.len())
}

/// Where captured lines go.
#[derive(Debug)]
pub struct ResponseCapture {
    file: Option<Mutex<File>>,
    /// Taken (dropped) on close, which ends the poster once the queue is empty.
    webhook: Mutex<Option<mpsc::Sender<String>>>,
    has_webhook: bool,
    poster: Mutex<Option<JoinHandle<()>>>,
    dropped: AtomicU64,
    failed: std::sync::Arc<AtomicU64>,
}

impl ResponseCapture {
    /// Nothing captured.
    pub fn off() -> Self {
        Self::with(None, None, None)
    }

    fn with(
        file: Option<File>,
        webhook: Option<mpsc::Sender<String>>,
        poster: Option<JoinHandle<()>>,
    ) -> Self {
        Self {
            file: file.map(Mutex::new),
            has_webhook: webhook.is_some(),
            webhook: Mutex::new(webhook),
            poster: Mutex::new(poster),
            dropped: AtomicU64::new(0),
            failed: std::sync::Arc::new(AtomicU64::new(0)),
        }
    }

    /// Opens the capture file (0600, appended) and starts the webhook poster. Must run inside a
    /// tokio runtime when a webhook is given.
    pub fn open(
        file: Option<&Path>,
        webhook_url: Option<&str>,
        http: HttpClient,
    ) -> io::Result<Self> {
        let file = match file {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::files::create_private_dir_all(dir)?;
                }
                Some(crate::files::open_private_append(path)?)
            }
            None => None,
        };
        let failed = std::sync::Arc::new(AtomicU64::new(0));
        let (webhook, poster) = match webhook_url {
            Some(url) => {
                let (tx, rx) = mpsc::channel(WEBHOOK_QUEUE);
                let poster = tokio::spawn(post_lines(rx, http, url.to_string(), failed.clone()));
                (Some(tx), Some(poster))
            }
            None => (None, None),
        };
        let mut capture = Self::with(file, webhook, poster);
        capture.failed = failed;
        Ok(capture)
    }

    /// Records one call. A failing capture file is an error (the user asked for the record);
    /// a full webhook queue only drops the line and counts it.
    /// Whether entries go anywhere (a file or a webhook); when not, nobody need build them.
    pub fn is_on(&self) -> bool {
        self.file.is_some() || self.has_webhook
    }

    pub fn record(&self, entry: &CaptureEntry) -> io::Result<()> {
        if self.file.is_none() && !self.has_webhook {
            return Ok(());
        }
        let line = serde_json::to_string(entry).map_err(io::Error::other)?;
        if let Some(file) = &self.file {
            let mut file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            file.write_all(line.as_bytes())?;
            file.write_all(b"\n")?;
        }
        if self.has_webhook {
            let webhook = self
                .webhook
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // After close there is no queue: the line is counted as dropped like a full queue's.
            if webhook.as_ref().is_none_or(|tx| tx.try_send(line).is_err()) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Flushes the file and gives queued webhook posts up to `grace` to go out. Returns a note
    /// about lines the webhook did not receive, if any.
    pub async fn close(&self, grace: Duration) -> Option<String> {
        if let Some(file) = &self.file {
            let file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Err(err) = file.sync_data() {
                tracing::warn!("syncing the response capture file: {err}");
            }
        }
        // Dropping the only sender lets the poster finish the queue and end.
        drop(
            self.webhook
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        let poster = self
            .poster
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut poster) = poster
            && tokio::time::timeout(grace, &mut poster).await.is_err()
        {
            poster.abort();
            tracing::warn!(
                "response webhook: gave up on the lines still queued after {}s",
                grace.as_secs()
            );
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        (dropped + failed > 0).then(|| {
            format!("response webhook: {failed} post(s) failed and {dropped} line(s) were dropped because it fell behind")
        })
    }
}

async fn post_lines(
    mut rx: mpsc::Receiver<String>,
    http: HttpClient,
    url: String,
    failed: std::sync::Arc<AtomicU64>,
) {
    while let Some(line) = rx.recv().await {
        match http.post_webhook(&url, line, WEBHOOK_TIMEOUT).await {
            Ok(()) => {}
            Err(WebhookError::Answered(status)) => {
                failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("response webhook {url} answered {status}");
            }
            Err(WebhookError::Unreachable(why)) => {
                failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("response webhook {url}: {why}");
            }
        }
    }
}

impl ResponseCapture {
    /// Records one attempt that was sent: what went and what came back (or the error).
    pub fn attempt(&self, request: &Request, attempt: u32, result: &Result<Response, SendError>) {
        if !self.is_on() {
            return;
        }
        let (status, latency, headers, body, error) = match result {
            Ok(response) => (
                Some(response.status),
                response.latency,
                headers_object(&response.headers),
                Some(capped_body(&response.body)),
                None,
            ),
            Err(err) => (
                None,
                err.latency,
                Map::new(),
                None,
                Some(format!("{}: {}", err.kind.describe(), err.message)),
            ),
        };
        let entry = CaptureEntry {
            time: super::timestamp(std::time::SystemTime::now()),
            method: request.method.as_str().to_string(),
            url: request.url.clone(),
            records: request.records.clone(),
            attempt,
            status,
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            response_headers: headers,
            body,
            error,
        };
        if let Err(err) = self.record(&entry) {
            tracing::warn!("cannot write the response capture: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn plain_client() -> HttpClient {
        HttpClient::with_timeouts(Duration::from_secs(10), Duration::from_secs(10), None).unwrap()
    }

    fn entry(attempt: u32) -> CaptureEntry {
        CaptureEntry {
            time: "2026-01-01T00:00:00.000Z".into(),
            method: "POST".into(),
            url: "http://127.0.0.1/v1/contacts".into(),
            records: vec![RecordNo(3)],
            attempt,
            status: Some(201),
            latency_ms: 12,
            response_headers: headers_object(&[
                ("Content-Type".into(), "application/json".into()),
                ("Set-Cookie".into(), "session=abc".into()),
                ("Vary".into(), "a".into()),
                ("vary".into(), "b".into()),
            ]),
            body: Some(r#"{"contact":{"id":1}}"#.into()),
            error: None,
        }
    }

    #[test]
    fn headers_are_lowercased_joined_and_cookies_masked() {
        let map = entry(1).response_headers;
        assert_eq!(map["content-type"], "application/json");
        assert_eq!(map["set-cookie"], MASK);
        assert_eq!(map["vary"], "a, b");
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(MAX_BODY);
        let cut = capped_body(body.as_bytes());
        assert!(cut.len() < body.len() && cut.ends_with(&format!("[{} bytes in all]", body.len())));
        assert_eq!(capped_body(b"short"), "short");
    }

    #[tokio::test]
    async fn lines_go_to_the_file_and_the_webhook() {
        use axum::routing::post;
        let received = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: String| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.jsonl");
        let url = format!("http://{addr}/hook");
        let capture = ResponseCapture::open(Some(&path), Some(&url), plain_client()).unwrap();
        for attempt in 1..=3 {
            capture.record(&entry(attempt)).unwrap();
        }
        assert_eq!(capture.close(Duration::from_secs(10)).await, None);
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["attempt"], 3);
        assert_eq!(lines[0]["records"], serde_json::json!([3]));
        assert_eq!(lines[0]["status"], 201);
        assert_eq!(lines[0]["latency_ms"], 12);
        let posted = received.lock().unwrap().clone();
        assert_eq!(posted.len(), 3);
        assert_eq!(
            serde_json::from_str::<Value>(&posted[1]).unwrap()["attempt"],
            2
        );
    }

    #[tokio::test]
    async fn an_unreachable_webhook_is_reported_not_fatal() {
        // A port that was free a moment ago: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = format!("http://{addr}/hook");
        let capture = ResponseCapture::open(None, Some(&url), plain_client()).unwrap();
        capture.record(&entry(1)).unwrap();
        let note = capture
            .close(Duration::from_secs(10))
            .await
            .expect("a note about the failed post");
        assert!(note.contains("1 post(s) failed"), "{note}");
    }
}
