//! The sample pane: each request says which records it carries (batches included), long text
//! wraps or scrolls sideways, the pane can take the whole screen, and a sample copies as curl.

use crate::tui_common;

use aircall_dest::tui::Cmd;
use aircall_dest::tui::model::{Field, Sample};
use aircall_dest::tui::update;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::{Harness, embedded_init};

const BASE: &str = "http://127.0.0.1:47800";

async fn configure() -> Harness {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    h
}

#[tokio::test]
async fn a_batch_of_two_shows_request_1_with_records_1_to_2() {
    let mut h = configure().await;
    h.key(KeyCode::Right); // Advanced tab
    h.focus(Field::Setting(
        aircall_dest::tui::sections::batching::ENABLED,
    ));
    h.key(KeyCode::Char(' '));
    h.focus(Field::Setting(aircall_dest::tui::sections::batching::SIZE));
    h.ctrl('u');
    h.type_text("2");
    assert!(h.model.dest.batching.enabled);
    assert_eq!(h.model.dest.batching.max_records, 2);
    let Some(Sample::Request { request, .. }) = h.model.pane.samples.first() else {
        panic!("a request first: {:?}", h.model.pane.samples.first());
    };
    let records: Vec<u64> = request.records.iter().map(|r| r.0).collect();
    assert_eq!(
        records,
        [1, 2],
        "the first request carries the first two records"
    );
    let body: serde_json::Value =
        serde_json::from_str(request.body.as_deref().unwrap_or("")).expect("a JSON body");
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    let screen = h.render(120, 40);
    assert!(
        screen.contains("request 1 · records 1–2 (2) · POST"),
        "{screen}"
    );
    assert!(
        screen.contains("request 2 · records 3–4 (2) · POST"),
        "{screen}"
    );
    insta::assert_snapshot!("batch_of_two_120x40", screen);
    insta::assert_snapshot!("batch_of_two_80x24", h.render(80, 24));
}

#[tokio::test]
async fn at_80x24_a_sample_line_keeps_its_record_number_and_path() {
    let h = configure().await;
    let screen = h.render(80, 24);
    assert!(
        screen.contains("▸ 1 · rec 1 · POST /v1/contacts"),
        "{screen}"
    );
    // The whole URL is in the selected sample's detail, wrapped.
    assert!(
        screen.contains("http://127.0.0.1:47800/v1/contac"),
        "{screen}"
    );
}

#[tokio::test]
async fn full_screen_wrap_and_sideways_scroll() {
    let mut h = configure().await;
    h.focus(Field::Pane);
    h.key(KeyCode::Enter); // expanded
    let narrow = h.render(80, 24);
    insta::assert_snapshot!("expanded_wrapped_80x24", narrow);
    h.key(KeyCode::Char('f'));
    assert!(h.model.pane.fullscreen);
    let full = h.render(80, 24);
    assert!(
        !full.contains("Endpoint"),
        "the form is hidden in full screen: {full}"
    );
    assert!(
        full.contains("request 1 · record 1 · POST http://127.0.0.1:47800/v1/contacts"),
        "{full}"
    );
    insta::assert_snapshot!("full_screen_80x24", full);
    insta::assert_snapshot!("full_screen_120x40", h.render(120, 40));

    h.key(KeyCode::Char('w'));
    assert!(!h.model.pane.body.wraps());
    h.key(KeyCode::Right);
    assert!(h.model.pane.body.column() > 0);
    h.key(KeyCode::Char('w'));
    assert!(h.model.pane.body.wraps());

    h.key(KeyCode::Esc);
    assert!(!h.model.pane.fullscreen, "Esc leaves full screen first");
    assert!(h.model.pane.expanded);
    assert!(h.render(80, 24).contains("Endpoint"));
}

#[tokio::test]
async fn a_long_response_line_wraps_so_it_can_be_read_whole() {
    let mut h = configure().await;
    let troubleshoot = "The request body must hold a JSON object whose phone_numbers entries each \
                        have a label and a value written in E.164";
    let body = serde_json::json!({ "troubleshoot": troubleshoot }).to_string();
    h.model.pane.response.set_text(&body, &h.model.theme);
    h.model.pane.test =
        aircall_dest::tui::model::TestState::Done(aircall_dest::tui::msg::TestResponse {
            status: 422,
            elapsed_ms: 12,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        });
    h.focus(Field::Pane);
    h.key(KeyCode::Char('f'));
    let screen = h.render(80, 24);
    let joined: String = screen
        .lines()
        .map(|l| l.trim_matches(|c| c == '"' || c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("written in E.164"), "{screen}");
    insta::assert_snapshot!("response_wrapped_80x24", screen);
}

#[tokio::test]
async fn c_copies_the_sample_as_curl_with_the_credential_masked() {
    let mut h = configure().await;
    h.focus(Field::Pane);
    let cmds = update::update(
        &mut h.model,
        aircall_dest::tui::Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)),
    );
    let text = cmds
        .iter()
        .find_map(|c| match c {
            Cmd::Copy { text } => Some(text.clone()),
            _ => None,
        })
        .expect("a copy command");
    assert!(
        text.starts_with("curl -X POST 'http://127.0.0.1:47800/v1/contacts'"),
        "{text}"
    );
    assert!(text.contains("-H 'Authorization: Basic •••'"), "{text}");
    assert!(!text.contains("sandbox-token"), "{text}");
    assert!(text.contains("--data-raw '{\"first_name\":"), "{text}");
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("copied sample 1 as a curl command"))
    );
}
