//! `aircall-dest daemon` end to end, as a real process against the sandbox over loopback: two
//! destinations on one credential share the company's rate, a failing destination sends one
//! failure and one recovery alert, a schedule edited in place takes effect, SIGTERM drains and
//! exits 0, and `/metrics` is well-formed Prometheus text whose figures match the sandbox.
#![cfg(unix)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::daemon_support::{self, Site, arrivals, assert_paced, sandbox, wait_until};
use crate::prometheus_text;

const LIMIT: Duration = Duration::from_secs(60);

fn contacts(running: &daemon_support::Running) -> usize {
    running.sandbox.state()["contacts"]
        .as_object()
        .map_or(0, |c| c.len())
}

#[test]
fn two_destinations_on_one_credential_keep_to_one_rate_under_the_daemon() {
    // The company allows 30/min; each destination is paced to 30/min on its own, so only the
    // shared budget keeps the two together within it.
    let running = sandbox(30);
    let site = Site::new(&running.sandbox.url());
    for (file, input) in [("a.toml", "a.jsonl"), ("b.toml", "b.jsonl")] {
        site.input(input, 3, file);
        site.destination(file, input, 30, "[schedule]\nevery = \"2s\"\n");
    }
    let mut daemon = site.daemon(&[]);
    // Each has run twice: once sending its 3 records, once more 2 s later (nothing left to send).
    daemon.wait_for(2, &["a.toml: run ended (exit 0)"], LIMIT);
    daemon.wait_for(2, &["b.toml: run ended (exit 0)"], LIMIT);
    assert!(daemon.terminate().success());

    let (times, too_many) = arrivals(&running.sandbox);
    assert_eq!(too_many, 0, "no 429 at all");
    assert_eq!(times.len(), 6, "each record sent once: {times:?}");
    assert_eq!(contacts(&running), 6);
    assert_paced(&times, 30, 1500);

    // The runs are in each destination's history, started by the schedule, with their counts.
    for file in ["a.toml", "b.toml"] {
        let runs = site.history(file);
        let started = daemon.count(&[&format!("{file}: run started (schedule")]);
        assert_eq!(runs.len(), started, "{runs:?}");
        // Every run ended well, but the newest may have been running when the daemon was
        // told to stop: the daemon then stops it the way Ctrl-C does, and it ends with 130.
        assert!(runs.iter().all(|r| r["trigger"] == "schedule"), "{runs:?}");
        assert!(
            runs[1..].iter().all(|r| r["exit_code"] == 0)
                && (runs[0]["exit_code"] == 0 || runs[0]["exit_code"] == 130),
            "{runs:?}"
        );
        // Oldest last: it sent the 3 records; the later ones found them done.
        let oldest = &runs[runs.len() - 1]["summary"];
        assert_eq!(oldest["delivered"], 3, "{oldest}");
        assert_eq!(oldest["http_429"], 0, "{oldest}");
        for later in &runs[..runs.len() - 1] {
            assert_eq!(later["summary"]["skipped_already_done"], 3, "{later}");
            assert_eq!(later["summary"]["delivered"], 0, "{later}");
        }
    }
}

/// A local webhook receiver keeping every body it is sent.
fn receiver(running: &daemon_support::Running) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                "ok"
            }
        }),
    );
    let listener = running
        .runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    running.runtime.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, received)
}

#[test]
fn a_failing_destination_sends_one_failure_alert_then_one_recovery() {
    let running = sandbox(0);
    let (url, received) = receiver(&running);
    let site = Site::new(&running.sandbox.url());
    // Its input does not exist yet: every run fails until it does.
    site.destination(
        "flaky.toml",
        "flaky.jsonl",
        0,
        &format!(
            "[schedule]\nevery = \"1s\"\n\n[alerts]\nwebhook_url = \"{url}\"\non = [\"failure\", \"recovery\"]\n"
        ),
    );
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(1, &["flaky.toml: failure alert sent"], LIMIT);
    daemon.wait_for(3, &["flaky.toml: run ended (exit 1)"], LIMIT);
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "one notice for three failures"
    );

    site.input("flaky.jsonl", 2, "flaky");
    daemon.wait_for(1, &["flaky.toml: recovery alert sent"], LIMIT);
    daemon.wait_for(2, &["flaky.toml: run ended (exit 0)"], LIMIT);
    assert!(daemon.terminate().success());

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:?}");
    let (failure, recovery) = (&received[0], &received[1]);
    assert_eq!(failure["event"], "failure");
    assert_eq!(failure["exit_code"], 1);
    assert_eq!(failure["destination"], "flaky.toml");
    assert_eq!(failure["trigger"], "schedule");
    let text = failure["text"].as_str().unwrap();
    assert!(
        text.contains("flaky.toml") && text.contains("failed"),
        "{text}"
    );
    assert!(
        failure["first_error"]
            .as_str()
            .is_some_and(|e| e.contains("flaky.jsonl")),
        "{failure}"
    );
    assert_eq!(recovery["event"], "recovery");
    assert_eq!(recovery["exit_code"], 0);
    assert_eq!(recovery["summary"]["delivered"], 2);
    for notice in &received {
        assert!(
            !notice.to_string().contains("sandbox-token"),
            "no secret in {notice}"
        );
    }
}

#[test]
fn a_run_rejecting_over_the_threshold_sends_one_rejected_over_alert() {
    let running = sandbox(0);
    let (url, received) = receiver(&running);
    let site = Site::new(&running.sandbox.url());
    // Of 4 records, 1 has no phone number: the API rejects it (25% > 10%).
    site.input("r.jsonl", 3, "r");
    let mut text = std::fs::read_to_string(site.path("r.jsonl")).unwrap();
    text.push_str("{\"first_name\":\"no phone\"}\n");
    std::fs::write(site.path("r.jsonl"), text).unwrap();
    site.destination(
        "r.toml",
        "r.jsonl",
        0,
        &format!(
            "[schedule]\nevery = \"1s\"\n\n[alerts]\nwebhook_url = \"{url}\"\non = [\"failure\", \"rejected_over\"]\nrejected_over_percent = 10\n"
        ),
    );
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(1, &["r.toml: rejected_over alert sent"], LIMIT);
    // Later runs find every record done: nothing rejected, no new notice.
    daemon.wait_for(3, &["r.toml: run ended"], LIMIT);
    assert!(daemon.terminate().success());
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    let notice = &received[0];
    assert_eq!(notice["event"], "rejected_over");
    assert_eq!(notice["exit_code"], 3);
    assert_eq!(notice["rejected_percent"], 25.0);
    assert_eq!(notice["threshold_percent"], 10.0);
    assert_eq!(notice["summary"]["dead_lettered"], 1);
    assert_eq!(contacts(&running), 3);
}

#[test]
fn an_edited_schedule_takes_effect_without_a_restart() {
    let running = sandbox(0);
    let site = Site::new(&running.sandbox.url());
    site.input("e.jsonl", 1, "e");
    site.destination("e.toml", "e.jsonl", 0, "[schedule]\nevery = \"1h\"\n");
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(1, &["e.toml: run ended (exit 0)"], LIMIT);
    assert_eq!(daemon.count(&["e.toml: run started"]), 1);

    site.destination("e.toml", "e.jsonl", 0, "[schedule]\nevery = \"1s\"\n");
    daemon.wait_for(1, &["e.toml: \"e.toml\" is active: runs every 1s"], LIMIT);
    daemon.wait_for(3, &["e.toml: run started (schedule"], LIMIT);

    // Paused: no run starts after the one possibly in progress, while the daemon goes on
    // picking up files (a new destination added afterwards runs).
    let text = std::fs::read_to_string(site.path("e.toml"))
        .unwrap()
        .replace("status = \"active\"", "status = \"paused\"");
    std::fs::write(site.path("e.toml"), text).unwrap();
    daemon.wait_for(1, &["e.toml: \"e.toml\" is paused"], LIMIT);
    let started = daemon.count(&["e.toml: run started"]);
    daemon.wait_for(started, &["e.toml: run ended"], LIMIT);
    std::fs::write(site.path("note.txt"), "an input, not a destination").unwrap();
    site.input("other.jsonl", 1, "x");
    site.destination(
        "other.toml",
        "other.jsonl",
        0,
        "[schedule]\nevery = \"1h\"\n",
    );
    daemon.wait_for(1, &["other.toml: run ended (exit 0)"], LIMIT);
    assert_eq!(daemon.count(&["e.toml: run started"]), started);
    assert_eq!(daemon.count(&["note.txt"]), 0, "inputs are not looked at");
    assert!(daemon.terminate().success());
}

#[test]
fn a_changed_input_starts_a_run_marked_input_change() {
    let running = sandbox(0);
    let site = Site::new(&running.sandbox.url());
    site.input("w.jsonl", 1, "w");
    site.destination(
        "w.toml",
        "w.jsonl",
        0,
        "[schedule]\non_input_change = true\n",
    );
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(
        1,
        &["w.toml: \"w.toml\" is active: runs when the input changes"],
        LIMIT,
    );
    // A new export of 3 records (the first one is the same, the state file knows it is done).
    site.input("w.jsonl", 3, "w");
    daemon.wait_for(1, &["w.toml: run ended (exit 0)"], LIMIT);
    assert_eq!(daemon.count(&["w.toml: run started (input_change"]), 1);
    assert!(daemon.terminate().success());
    assert_eq!(
        daemon.count(&["w.toml: run started"]),
        1,
        "no run before the change"
    );
    let runs = site.history("w.toml");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"], "input_change");
    assert_eq!(runs[0]["summary"]["records_read"], 3);
    assert_eq!(
        contacts(&running),
        runs[0]["summary"]["delivered"].as_u64().unwrap() as usize
    );
}

#[test]
fn an_invalid_file_is_reported_and_skipped_not_fatal() {
    let running = sandbox(0);
    let site = Site::new(&running.sandbox.url());
    std::fs::write(site.path("broken.toml"), "version = 1\nname = 7\n").unwrap();
    site.input("ok.jsonl", 1, "ok");
    site.destination("ok.toml", "ok.jsonl", 0, "[schedule]\nevery = \"1h\"\n");
    site.destination("bad.toml", "ok.jsonl", 0, "[schedule]\nevery = \"soon\"\n");
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(1, &["ok.toml: run ended (exit 0)"], LIMIT);
    daemon.wait_for(1, &["error:", "broken.toml:2"], LIMIT);
    daemon.wait_for(1, &["error:", "bad.toml", "schedule.every"], LIMIT);
    assert_eq!(daemon.count(&["bad.toml: run started"]), 0);
    assert!(daemon.terminate().success());
    assert_eq!(
        daemon.count(&["broken.toml:2"]),
        1,
        "reported once, not once per poll"
    );
}

#[test]
fn sigterm_lets_the_run_in_progress_drain_and_exits_zero() {
    let running = sandbox(0);
    let site = Site::new(&running.sandbox.url());
    site.input("slow.jsonl", 40, "slow");
    site.destination(
        "slow.toml",
        "slow.jsonl",
        240,
        "[schedule]\nevery = \"1h\"\n",
    );
    let mut daemon = site.daemon(&[]);
    daemon.wait_for(1, &["slow.toml: run started"], LIMIT);
    wait_until(
        LIMIT,
        || arrivals(&running.sandbox).0.len() >= 3,
        || "three requests".into(),
    );
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log().join("\n"));
    let log = daemon.log();
    assert_eq!(
        daemon.count(&["stopping: starting no more runs; letting 1 run(s) in progress drain"]),
        1,
        "{log:?}"
    );
    // The run drained (exit 130: interrupted after finishing what was in flight).
    assert_eq!(
        daemon.count(&["slow.toml: run ended (exit 130)"]),
        1,
        "{log:?}"
    );
    assert_eq!(daemon.count(&["daemon stopped"]), 1);
    let (times, _) = arrivals(&running.sandbox);
    assert!(times.len() < 40, "stopped before the end: {}", times.len());
    // Every request that reached the sandbox made its contact: nothing was cut off mid-way.
    assert_eq!(contacts(&running), times.len());
}

#[test]
fn metrics_are_prometheus_text_and_match_what_was_delivered() {
    let running = sandbox(0);
    let site = Site::new(&running.sandbox.url());
    site.input("m.jsonl", 3, "m");
    site.destination("m.toml", "m.jsonl", 0, "[schedule]\nevery = \"1h\"\n");
    std::fs::write(
        site.path("paused.toml"),
        std::fs::read_to_string(site.path("m.toml"))
            .unwrap()
            .replace("active", "paused"),
    )
    .unwrap();
    let mut daemon = site.daemon(&["--metrics-addr", "127.0.0.1:0"]);
    daemon.wait_for(1, &["m.toml: run ended (exit 0)"], LIMIT);
    let line = daemon
        .log()
        .into_iter()
        .find(|l| l.contains("metrics on http://"))
        .unwrap();
    let base = line
        .split("metrics on ")
        .nth(1)
        .unwrap()
        .split("/metrics")
        .next()
        .unwrap()
        .to_string();
    let get = |path: &str| {
        running.runtime.block_on(async {
            let response = reqwest::get(format!("{base}{path}")).await.unwrap();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (
                response.status().as_u16(),
                kind,
                response.text().await.unwrap(),
            )
        })
    };
    let (status, _, body) = get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, kind, text) = get("/metrics");
    assert_eq!(status, 200);
    assert_eq!(
        kind.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(daemon.terminate().success());

    let samples = prometheus_text::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let value = |name: &str, label: (&str, &str)| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels.get(label.0).map(String::as_str) == Some(label.1))
            .unwrap_or_else(|| panic!("no {name} {label:?} in\n{text}"))
            .value
    };
    assert_eq!(
        value("aircall_dest_records_delivered_total", ("file", "m.toml")),
        contacts(&running) as f64
    );
    assert_eq!(contacts(&running), 3);
    for (name, label, expected) in [
        (
            "aircall_dest_records_dead_lettered_total",
            ("file", "m.toml"),
            0.0,
        ),
        ("aircall_dest_http_429_total", ("file", "m.toml"), 0.0),
        ("aircall_dest_last_run_success", ("file", "m.toml"), 1.0),
        ("aircall_dest_last_run_exit_code", ("file", "m.toml"), 0.0),
        ("aircall_dest_destination_files", ("state", "active"), 1.0),
        ("aircall_dest_destination_files", ("state", "paused"), 1.0),
    ] {
        assert_eq!(value(name, label), expected, "{name} {label:?}");
    }
    let finished = value(
        "aircall_dest_last_run_timestamp_seconds",
        ("file", "m.toml"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        finished <= now && finished > now - 120.0,
        "{finished} vs {now}"
    );
}
