//! What the daemon counts, and `GET /metrics` (Prometheus text format 0.0.4) and `GET /healthz`
//! serving it on `--metrics-addr`.
//!
//! Counters add up what the runs this daemon started reported in their `--json` summaries;
//! they start at zero when the daemon starts, as Prometheus counters do after a restart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use tokio::sync::watch;

/// One destination's figures.
#[derive(Debug, Clone, Default)]
struct Figures {
    name: String,
    delivered: u64,
    dead_lettered: u64,
    invalid: u64,
    http_429: u64,
    runs_finished: u64,
    runs_failed: u64,
    running: bool,
    last_exit_code: Option<i64>,
    last_success: Option<bool>,
    last_finished: Option<SystemTime>,
    last_duration_s: Option<f64>,
}

/// The daemon's figures, shared with the HTTP server.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// By destination file name.
    figures: BTreeMap<String, Figures>,
    /// Destination files by state: active, paused, invalid.
    files: BTreeMap<&'static str, u64>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many destination files are active, paused and invalid.
    pub fn set_files(&self, active: u64, paused: u64, invalid: u64) {
        self.with(|inner| {
            inner.files =
                BTreeMap::from([("active", active), ("paused", paused), ("invalid", invalid)]);
        });
    }

    /// A run of `file` (destination `name`) started.
    pub fn started(&self, file: &str, name: &str) {
        self.with(|inner| {
            let figures = inner.figures.entry(file.to_string()).or_default();
            figures.name = name.to_string();
            figures.running = true;
        });
    }

    /// A run ended with `exit_code` (`None`: killed) and, when it printed one, its summary.
    pub fn finished(
        &self,
        file: &str,
        exit_code: Option<i32>,
        failed: bool,
        summary: Option<&Value>,
        started: SystemTime,
        finished: SystemTime,
    ) {
        self.with(|inner| {
            let figures = inner.figures.entry(file.to_string()).or_default();
            let count = |name: &str| {
                summary
                    .and_then(|s| s.get(name))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            };
            figures.delivered += count("delivered");
            figures.dead_lettered += count("dead_lettered");
            figures.invalid += count("invalid");
            figures.http_429 += count("http_429");
            if failed {
                figures.runs_failed += 1;
            } else {
                figures.runs_finished += 1;
            }
            figures.running = false;
            figures.last_exit_code = Some(exit_code.map_or(-1, i64::from));
            figures.last_success = Some(!failed);
            figures.last_finished = Some(finished);
            figures.last_duration_s = finished
                .duration_since(started)
                .ok()
                .map(|d| d.as_secs_f64());
        });
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        self.with(|inner| render(inner))
    }
}

fn render(inner: &Inner) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let per = |value: &dyn Fn(&Figures) -> Option<String>| -> Vec<(String, String)> {
        inner
            .figures
            .iter()
            .filter_map(|(file, figures)| {
                value(figures).map(|v| {
                    (
                        format!(
                            "destination=\"{}\",file=\"{}\"",
                            escape(&figures.name),
                            escape(file)
                        ),
                        v,
                    )
                })
            })
            .collect()
    };
    let files = inner
        .files
        .iter()
        .map(|(state, n)| (format!("state=\"{state}\""), n.to_string()))
        .collect();
    family(
        "aircall_dest_destination_files",
        "gauge",
        "Destination files in the daemon's folder, by state.",
        files,
    );
    family(
        "aircall_dest_records_delivered_total",
        "counter",
        "Records delivered by the runs this daemon started.",
        per(&|f| Some(f.delivered.to_string())),
    );
    family(
        "aircall_dest_records_dead_lettered_total",
        "counter",
        "Records the API rejected, written to the dead-letter file.",
        per(&|f| Some(f.dead_lettered.to_string())),
    );
    family(
        "aircall_dest_records_invalid_total",
        "counter",
        "Records that failed validation and were not sent.",
        per(&|f| Some(f.invalid.to_string())),
    );
    family(
        "aircall_dest_http_429_total",
        "counter",
        "429 Too Many Requests answers the runs received.",
        per(&|f| Some(f.http_429.to_string())),
    );
    family(
        "aircall_dest_runs_finished_total",
        "counter",
        "Runs that went to the end (exit 0, or 3 with records rejected).",
        per(&|f| Some(f.runs_finished.to_string())),
    );
    family(
        "aircall_dest_runs_failed_total",
        "counter",
        "Runs that failed (error exit or killed).",
        per(&|f| Some(f.runs_failed.to_string())),
    );
    family(
        "aircall_dest_running",
        "gauge",
        "1 while a run of the destination is in progress.",
        per(&|f| Some(u8::from(f.running).to_string())),
    );
    family(
        "aircall_dest_last_run_success",
        "gauge",
        "1 when the last run went to the end, 0 when it failed.",
        per(&|f| f.last_success.map(|s| u8::from(s).to_string())),
    );
    family(
        "aircall_dest_last_run_exit_code",
        "gauge",
        "Exit code of the last run (-1: killed by a signal).",
        per(&|f| f.last_exit_code.map(|c| c.to_string())),
    );
    family(
        "aircall_dest_last_run_timestamp_seconds",
        "gauge",
        "When the last run ended, in seconds since the UNIX epoch.",
        per(&|f| {
            f.last_finished
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| format!("{:.3}", d.as_secs_f64()))
        }),
    );
    family(
        "aircall_dest_last_run_duration_seconds",
        "gauge",
        "How long the last run took.",
        per(&|f| f.last_duration_s.map(|d| format!("{d:.3}"))),
    );
    out
}

/// A label value as the text format wants it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `/metrics` and `/healthz` on `listener` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                        .into_response()
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await
}

/// Binds the metrics address before the daemon says it is ready, so a bad address fails at once.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn figures_add_up_across_runs_and_labels_are_escaped() {
        let metrics = Metrics::default();
        let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let end = start + Duration::from_millis(2_500);
        metrics.started("a.toml", "say \"hi\"\\");
        let summary = serde_json::json!({"delivered": 4, "dead_lettered": 1, "http_429": 0});
        metrics.finished("a.toml", Some(3), false, Some(&summary), start, end);
        metrics.finished("a.toml", Some(1), true, None, start, end);
        let text = metrics.render();
        let label = "destination=\"say \\\"hi\\\"\\\\\",file=\"a.toml\"";
        assert!(
            text.contains(&format!(
                "aircall_dest_records_delivered_total{{{label}}} 4"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("aircall_dest_runs_failed_total{{{label}}} 1")));
        assert!(text.contains(&format!("aircall_dest_last_run_success{{{label}}} 0")));
        assert!(text.contains(&format!(
            "aircall_dest_last_run_timestamp_seconds{{{label}}} 1800000002.500"
        )));
    }
}
