//! Two separate `run` processes of two destinations on one credential, started at once, keep to
//! the company's one rate together (the shared budget in the state folder) with no 429.
#![cfg(unix)]

use std::process::Stdio;

use crate::daemon_support::{Site, arrivals, assert_paced, sandbox};
use crate::summary_support::{assert_counts_add_up, field};

#[test]
fn two_run_processes_started_at_once_share_one_rate() {
    let running = sandbox(30);
    let site = Site::new(&running.sandbox.url());
    let mut children = Vec::new();
    for (file, input) in [("c.toml", "c.jsonl"), ("d.toml", "d.jsonl")] {
        site.input(input, 3, file);
        site.destination(file, input, 30, "");
    }
    for file in ["c.toml", "d.toml"] {
        let child = site
            .command()
            .arg("run")
            .arg(site.path(file))
            .arg("--json")
            .arg("--state-dir")
            .arg(site.state.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_counts_add_up(&summary);
        assert_eq!(field(&summary, "delivered"), 3);
        assert_eq!(field(&summary, "http_429"), 0);
    }
    let (times, too_many) = arrivals(&running.sandbox);
    assert_eq!(too_many, 0);
    assert_eq!(times.len(), 6);
    assert_paced(&times, 30, 1500);
    // The budget file is named by a hash: neither the API ID nor the token shows.
    let budgets: Vec<String> = std::fs::read_dir(site.state.path().join("budgets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(budgets.len(), 1, "{budgets:?}");
    assert!(!budgets[0].contains("sandbox"), "{budgets:?}");
}
