//! `send-test` acts on real data: before it sends, it says so on standard error, with what the
//! method does and where.

use crate::crash_support::{Bench, Program, sandbox};

#[test]
fn send_test_warns_that_a_post_creates_a_real_object_in_the_local_sandbox() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = sandbox(&runtime, "", 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let bench = Bench::new(
        dir.path(),
        Program::new(env!("CARGO_BIN_EXE_aircall-dest")),
        &sandbox.url(),
        2,
        "",
    );
    let destination = bench.destination.display().to_string();
    let out = bench
        .command(&["send-test", &destination])
        .output()
        .expect("send-test runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.lines().any(|l| l
            == "warning: send-test sends one real POST request: it creates a real object in the local sandbox"),
        "{stderr}"
    );
    // And it did: one contact now exists.
    let posts = sandbox
        .journal()
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(posts, 1);
    assert_eq!(
        sandbox.state()["contacts"].as_object().map(|c| c.len()),
        Some(1)
    );
}
