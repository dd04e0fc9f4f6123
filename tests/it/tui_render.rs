//! Screens of the wizard in every step and state, at 80x24 and 120x40, as insta snapshots.

use crate::tui_common;

use aircall_dest::client::PingOutcome;
use aircall_dest::tui::model::{Field, Init, Run, TestState, Verify};
use aircall_dest::tui::msg::{Msg, RunOutputs, RunProgress, TaskId, TestResponse};
use aircall_dest::tui::sections::delivery;
use crossterm::event::KeyCode;
use tui_common::{Harness, SAMPLE, embedded_init};

const BASE: &str = "http://127.0.0.1:47800";
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(harness: &Harness, name: &str) {
    for (w, h) in SIZES {
        let screen = harness.render(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

async fn embedded() -> Harness {
    Harness::start(embedded_init(BASE)).await
}

async fn configure() -> Harness {
    let mut h = embedded().await;
    h.ctrl('n');
    assert_eq!(h.model.step, aircall_dest::tui::model::Step::Configure);
    h
}

#[tokio::test]
async fn source_step_empty() {
    let h = Harness::start(Init::default()).await;
    snap(&h, "source_empty");
}

#[tokio::test]
async fn source_step_filled_with_the_embedded_default() {
    let h = embedded().await;
    assert!(h.model.source.dataset.is_some());
    snap(&h, "source_filled");
}

#[tokio::test]
async fn source_step_new_credential_with_a_validation_error() {
    let mut h = Harness::start(Init {
        default_dataset: Some(SAMPLE.into()),
        ..Init::default()
    })
    .await;
    h.focus(Field::CredName);
    h.type_text("prod");
    h.ctrl('n');
    assert_eq!(
        h.model.step,
        aircall_dest::tui::model::Step::Source,
        "a credential without API ID stays on step 1"
    );
    snap(&h, "source_validation_error");
}

#[tokio::test]
async fn source_step_verifying_and_verified() {
    let mut h = embedded().await;
    h.model.credential.verify = Verify::Running(TaskId(1));
    h.model.focus = Field::Verify;
    snap(&h, "source_verifying");
    h.model.credential.verify = Verify::Done(PingOutcome::Ok {
        latency: std::time::Duration::from_millis(3),
    });
    snap(&h, "source_verified");
    h.model.credential.verify = Verify::Done(PingOutcome::Refused);
    snap(&h, "source_verify_403");
}

#[tokio::test]
async fn source_step_bad_dataset_path() {
    let mut h = embedded().await;
    h.ctrl('u');
    h.type_text("missing.csv");
    h.settle().await;
    snap(&h, "source_bad_path");
}

#[tokio::test]
async fn configure_template_tab() {
    let h = configure().await;
    snap(&h, "configure_template");
}

#[tokio::test]
async fn configure_endpoint_pulldown_open() {
    let mut h = configure().await;
    h.focus(Field::Endpoint);
    h.key(KeyCode::Enter);
    snap(&h, "configure_endpoint_open");
}

#[tokio::test]
async fn configure_mapping_entry_options_open() {
    let mut h = configure().await;
    let i = h
        .model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == "phone_numbers[0].value")
        .expect("row");
    h.focus(Field::MapMore(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapCountry(i));
    snap(&h, "configure_mapping_options");
}

#[tokio::test]
async fn configure_mapping_required_part_missing() {
    let mut h = configure().await;
    let i = h
        .model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == "phone_numbers[0].value")
        .expect("row");
    h.focus(Field::MapMore(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapRemove(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapAdd);
    h.type_text("emails[");
    h.key(KeyCode::Enter);
    snap(&h, "configure_mapping_invalid");
}

#[tokio::test]
async fn configure_update_template_parameter() {
    let mut h = configure().await;
    h.focus(Field::Endpoint);
    h.key(KeyCode::Right);
    h.focus(Field::TemplateParam(0));
    h.key(KeyCode::Right);
    snap(&h, "configure_template_parameter");
}

#[tokio::test]
async fn configure_delivery_section() {
    let mut h = configure().await;
    h.key(KeyCode::Right);
    h.focus(Field::Setting(delivery::CONCURRENCY));
    h.key(KeyCode::Backspace);
    h.type_text("0");
    snap(&h, "configure_delivery");
}

#[tokio::test]
async fn configure_advanced_tab() {
    let mut h = configure().await;
    h.key(KeyCode::Right);
    assert_eq!(h.model.configure.tabs.selected(), 1);
    snap(&h, "configure_advanced");
}

#[tokio::test]
async fn configure_batching_on() {
    let mut h = configure().await;
    h.key(KeyCode::Right);
    h.focus(Field::Setting(
        aircall_dest::tui::sections::batching::ENABLED,
    ));
    h.key(KeyCode::Char(' '));
    assert!(h.model.dest.batching.enabled);
    snap(&h, "configure_batching");
}

#[tokio::test]
async fn configure_url_macro_completion() {
    let mut h = configure().await;
    h.key(KeyCode::Right);
    h.focus(Field::Url);
    h.type_text("/{");
    snap(&h, "configure_url_completion");
}

#[tokio::test]
async fn configure_sample_expanded() {
    let mut h = configure().await;
    h.focus(Field::Pane);
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter);
    snap(&h, "configure_sample_expanded");
}

#[tokio::test]
async fn configure_editing_an_invalid_body() {
    let mut h = configure().await;
    h.focus(Field::Pane);
    h.key(KeyCode::Char('e'));
    assert_eq!(h.model.focus, Field::Editor);
    h.type_text("oops");
    snap(&h, "configure_editing_invalid");
}

#[tokio::test]
async fn configure_sending_and_response() {
    let mut h = configure().await;
    h.focus(Field::Pane);
    h.model.pane.test = TestState::Sending {
        id: TaskId(7),
        started_tick: 0,
    };
    snap(&h, "configure_sending");
    let body = r#"{"contact":{"id":1,"first_name":"Stephanie","phone_numbers":[{"label":"Work","value":"+19409863836"}]}}"#;
    h.model.pane.response.set_text(body, &h.model.theme);
    h.model.pane.test = TestState::Done(TestResponse {
        status: 201,
        elapsed_ms: 12,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-aircallapi-remaining".into(), "59".into()),
        ],
        body: body.into(),
    });
    snap(&h, "configure_response");
}

#[tokio::test]
async fn save_step_and_run_progress() {
    let mut h = configure().await;
    h.ctrl('n');
    snap(&h, "save_step");
    h.model.save.saved = Some((
        "customers-100.toml".into(),
        aircall_dest::destination::Status::Active,
    ));
    h.model.save.run = Run::Running {
        id: TaskId(9),
        progress: RunProgress {
            in_doubt: 0,
            read: 40,
            sent: 38,
            delivered: 37,
            rejected: 1,
            invalid: 2,
            total: Some(100),
            per_minute: 60.0,
            eta_secs: Some(62),
            in_flight: 3,
            done: false,
            note: None,
            ..RunProgress::default()
        },
    };
    h.send(Msg::RunOutputs {
        id: TaskId(9),
        outputs: RunOutputs {
            dead_letters: "/state/customers-100.dead-letter.jsonl".into(),
            capture: Some("/data/responses.jsonl".into()),
        },
    });
    for text in [
        "invalid: record 7 (line 8): `phone_numbers[0].value` is required",
        "rejected, record 12: 422 Unprocessable Entity",
    ] {
        h.send(Msg::RunFailure {
            id: TaskId(9),
            text: text.into(),
        });
    }
    // A message of another run is ignored.
    h.send(Msg::RunFailure {
        id: TaskId(8),
        text: "from an older run".into(),
    });
    h.model.focus = Field::StopRun;
    let screen = h.render(120, 40);
    for expected in [
        "[███",
        "] 40/100 (40%)",
        "sent 38 · delivered 37 · rejected 1 · invalid 2 · in doubt 0",
        "60 records/min · ETA 1m02s",
        "3 requests in flight",
        "✗ rejected, record 12: 422 Unprocessable Entity",
        "dead letters → /state/customers-100.dead-letter.jsonl",
        "responses → /data/responses.jsonl",
    ] {
        assert!(screen.contains(expected), "{expected:?} in {screen}");
    }
    assert!(!screen.contains("from an older run"));
    snap(&h, "save_running");
    h.key(KeyCode::Enter); // Stop: drain
    let screen = h.render(120, 40);
    assert!(
        screen.contains("stopping: 3 requests in flight finish first"),
        "{screen}"
    );
    assert!(screen.contains("[ Stop now ]"), "{screen}");
    snap(&h, "save_stopping");
    // The final counts come without the input's total: the one seen while running stays.
    h.send(Msg::RunFinished {
        id: TaskId(9),
        result: Ok(RunProgress {
            read: 45,
            sent: 45,
            delivered: 42,
            rejected: 1,
            invalid: 2,
            note: Some(
                "stopped: records not yet sent stay unsent; `aircall-dest run` resumes".into(),
            ),
            ..RunProgress::default()
        }),
    });
    let screen = h.render(120, 40);
    assert!(screen.contains("■ run stopped"), "{screen}");
    assert!(screen.contains("] 45/100 (45%)"), "{screen}");
    snap(&h, "save_stopped");
}

#[tokio::test]
async fn configure_sync_section() {
    let mut h = configure().await;
    h.key(KeyCode::Right);
    h.focus(Field::Setting(aircall_dest::tui::sections::sync::ENABLED));
    h.key(KeyCode::Char(' '));
    h.settle().await;
    assert!(h.model.dest.sync.is_some());
    // The section's last setting, with the verdict on the samples under it.
    h.focus(Field::Setting(aircall_dest::tui::sections::sync::MATCH));
    snap(&h, "configure_sync");
}

#[tokio::test]
async fn save_step_with_a_schedule() {
    use aircall_dest::tui::sections::schedule;
    let mut h = configure().await;
    h.ctrl('n');
    h.focus(Field::Setting(schedule::KIND));
    h.key(KeyCode::Right);
    h.focus(Field::Setting(schedule::EVERY));
    h.ctrl('u');
    h.type_text("15x");
    snap(&h, "save_schedule_invalid");
    h.key(KeyCode::Backspace);
    h.type_text("m");
    // As after Save & Activate into /srv/dests (the save itself is tested in tui_flow).
    h.model.save.saved = Some((
        "/srv/dests/customers-100.toml".into(),
        aircall_dest::destination::Status::Active,
    ));
    h.model.focus = Field::SaveActivate;
    snap(&h, "save_scheduled_active");
}

#[tokio::test]
async fn save_step_with_a_cron_schedule() {
    use aircall_dest::tui::sections::schedule;
    let mut h = configure().await;
    h.ctrl('n');
    h.focus(Field::Setting(schedule::KIND));
    h.key(KeyCode::Right);
    h.key(KeyCode::Right);
    assert_eq!(h.model.dest.schedule.cron.as_deref(), Some("0 6 * * *"));
    h.focus(Field::Setting(schedule::TIMEZONE));
    h.type_text("Europe/Paris");
    h.focus(Field::Setting(schedule::ON_INPUT_CHANGE));
    h.key(KeyCode::Char(' '));
    assert!(h.model.dest.schedule.on_input_change);
    snap(&h, "save_schedule_cron");
}

/// The background colour of the first cell of `field` as drawn at 80x24.
fn button_background(h: &Harness, field: Field) -> ratatui::style::Color {
    let mut model = h.model.clone();
    model.width = 80;
    model.height = 24;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).expect("backend");
    let mut layout = None;
    terminal
        .draw(|frame| layout = Some(aircall_dest::tui::view::draw(&model, frame)))
        .expect("draw");
    let rect = layout
        .and_then(|l| l.rect_of(field))
        .unwrap_or_else(|| panic!("{field:?} is drawn"));
    terminal.backend().buffer()[(rect.x, rect.y)].bg
}

#[tokio::test]
async fn after_save_and_activate_the_run_is_the_primary_button_and_the_focus_stays() {
    use ratatui::style::Color;
    let mut h = configure().await;
    h.ctrl('n');
    h.model.focus = Field::DestName;
    // Before saving, Save & Activate is the way forward; Save (paused) is plain.
    assert_eq!(button_background(&h, Field::Save), Color::DarkGray);
    assert_eq!(button_background(&h, Field::SaveActivate), Color::Green);
    h.model.save.saved = Some((
        "customers-100.toml".into(),
        aircall_dest::destination::Status::Active,
    ));
    h.model.unsaved_edits = false;
    // Saved and active: starting the run is; the buttons behind it look plain.
    assert_eq!(button_background(&h, Field::SaveActivate), Color::DarkGray);
    assert_eq!(button_background(&h, Field::StartRun), Color::Green);
    // The focused one is set apart from both.
    h.model.focus = Field::StartRun;
    assert_eq!(button_background(&h, Field::StartRun), Color::Cyan);
    assert_eq!(button_background(&h, Field::Save), Color::DarkGray);
}

#[tokio::test]
async fn help_page() {
    let mut h = embedded().await;
    h.model.focus = Field::Credential;
    h.key(KeyCode::Char('?'));
    assert!(h.model.help);
    snap(&h, "help");
}
