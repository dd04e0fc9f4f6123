//! Wizard speed figures (run: `cargo test --release --test tui_bench -- --ignored --nocapture`):
//! keystroke-to-frame time with a 100-record batch in the pane at 200x60, and time to first
//! frame on a 1 GB input generated here. Prints figures; asserts only that the work was done.

use crate::tui_common;

use std::io::Write;
use std::time::{Duration, Instant};

use aircall_dest::tui::model::{Field, Init, Sample};
use aircall_dest::tui::msg::Msg;
use aircall_dest::tui::{update, view};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::{Harness, embedded_init};

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name}: n={} mean={:.2?} p50={:.2?} p99={:.2?} max={:.2?}",
        samples.len(),
        mean,
        at(0.5),
        at(0.99),
        samples[samples.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints figures"]
async fn keystroke_to_frame_with_a_100_record_batch() {
    let mut h = Harness::start(embedded_init("http://127.0.0.1:47800")).await;
    h.ctrl('n');
    h.key(KeyCode::Right);
    h.focus(Field::Setting(
        aircall_dest::tui::sections::batching::ENABLED,
    ));
    h.key(KeyCode::Char(' '));
    h.focus(Field::Pane);
    h.key(KeyCode::Enter); // expand the batch's body
    match h.model.pane.samples.first() {
        Some(Sample::Request { request, .. }) => assert_eq!(request.records.len(), 100),
        other => panic!("expected a 100-record batch, got {other:?}"),
    }
    let mut model = h.model.clone();
    model.width = 200;
    model.height = 60;
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    terminal.draw(|f| view::view(&model, f)).unwrap();
    // Typing in the headers field rebuilds the whole pane (the batch) on every key.
    model.focus = Field::Headers;
    let mut edits = Vec::new();
    for (i, c) in "X-Trace:abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .cycle()
        .take(300)
        .enumerate()
    {
        let key = if i % 50 == 49 {
            KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)
        } else {
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
        };
        let started = Instant::now();
        let _ = update::update(&mut model, Msg::Key(key));
        terminal.draw(|f| view::view(&model, f)).unwrap();
        edits.push(started.elapsed());
    }
    // Scrolling the expanded batch body.
    model.focus = Field::Pane;
    let mut scrolls = Vec::new();
    for i in 0..300 {
        let code = if i % 2 == 0 {
            KeyCode::PageDown
        } else {
            KeyCode::Down
        };
        let started = Instant::now();
        let _ = update::update(
            &mut model,
            Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        );
        terminal.draw(|f| view::view(&model, f)).unwrap();
        scrolls.push(started.elapsed());
    }
    println!("keystroke-to-frame at 200x60, 100-record batch in the pane (target < 16 ms)");
    summary("  edit a field (pane rebuilt)", edits);
    summary("  scroll the batch body     ", scrolls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: writes a 1 GB file"]
async fn first_frame_on_a_1_gb_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    {
        let sample = std::fs::read_to_string(tui_common::SAMPLE).unwrap();
        let (header, rows) = sample.split_once('\n').unwrap();
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        out.write_all(header.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        let mut written = 0u64;
        while written < 1 << 30 {
            out.write_all(rows.as_bytes()).unwrap();
            written += rows.len() as u64;
        }
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let init = Init {
        input: Some(path.clone()),
        ..embedded_init("http://127.0.0.1:47800")
    };
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let started = Instant::now();
    let mut h = Harness::start_without_waiting(init);
    terminal.draw(|f| view::view(&h.model, f)).unwrap();
    let first = started.elapsed();
    h.until(|m| {
        m.source.dataset.is_some()
            || matches!(
                m.source.inspect,
                aircall_dest::tui::model::Inspect::Failed(_)
            )
    })
    .await;
    terminal.draw(|f| view::view(&h.model, f)).unwrap();
    let with_dataset = started.elapsed();
    h.until(|m| !matches!(m.source.count, aircall_dest::tui::model::Count::Counting(_)))
        .await;
    let dataset = h
        .model
        .source
        .dataset
        .as_ref()
        .expect("the big file is read");
    assert_eq!(dataset.attributes.len(), 12);
    println!(
        "time to first frame on a {:.2} GB CSV (target < 200 ms)",
        size as f64 / 1e9
    );
    println!("  first frame (dataset being read): {first:.2?}");
    println!("  first frame with format, attributes and sample pane data: {with_dataset:.2?}");
    println!(
        "  record count: {:?} (skipped above 64 MiB, so the disk is not read end to end)",
        h.model.source.count
    );
}
