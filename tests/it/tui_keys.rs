//! Keys that edit: the URL's macro popup lets Tab move on and closes at `}`, Ctrl-U clears a
//! whole field, the body editor undoes with Ctrl-Z and asks before Esc discards an edit, and
//! Alt-digits jump to the sections of a long form.

use crate::tui_common;

use aircall_dest::tui::model::{Field, TestState};
use aircall_dest::tui::sections::delivery;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::{Harness, embedded_init};

const BASE: &str = "http://127.0.0.1:9";

async fn advanced() -> Harness {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    h.key(KeyCode::Right); // Advanced tab
    h
}

fn alt(h: &mut Harness, c: char) {
    h.send(aircall_dest::tui::Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::ALT,
    )));
}

#[tokio::test]
async fn tab_leaves_the_macro_popup_and_the_field() {
    let mut h = advanced().await;
    h.focus(Field::Url);
    h.key(KeyCode::End);
    h.type_text("/{");
    assert!(
        h.model.configure.request.url.completion().is_some(),
        "`{{` offers macros"
    );
    h.key(KeyCode::Tab);
    assert!(h.model.configure.request.url.completion().is_none());
    assert_eq!(h.model.focus, Field::Headers, "Tab moved on");
    h.type_text("X-A:1");
    assert_eq!(
        h.model.configure.request.url.value(),
        "/v1/contacts/{",
        "what was typed next went to the next field"
    );
    assert_eq!(h.model.configure.request.headers.value(), "X-A:1");
}

#[tokio::test]
async fn typing_the_closing_brace_closes_the_macro_popup() {
    let mut h = advanced().await;
    h.focus(Field::Url);
    h.key(KeyCode::End);
    h.type_text("/{record.Index");
    assert!(h.model.configure.request.url.completion().is_some());
    h.type_text("}");
    assert!(h.model.configure.request.url.completion().is_none());
    assert_eq!(h.model.dest.request.url, "/v1/contacts/{record.Index}");
    h.key(KeyCode::Tab);
    assert_eq!(h.model.focus, Field::Headers);
}

#[tokio::test]
async fn ctrl_u_clears_the_whole_field_wherever_the_cursor_is() {
    let mut h = advanced().await;
    h.focus(Field::Url);
    h.key(KeyCode::Home);
    h.key(KeyCode::Right);
    h.key(KeyCode::Right);
    h.ctrl('u');
    assert_eq!(h.model.configure.request.url.value(), "");
}

#[tokio::test]
async fn the_body_editor_undoes_and_asks_before_discarding() {
    let mut h = advanced().await;
    h.focus(Field::Pane);
    h.key(KeyCode::Char('e'));
    assert_eq!(h.model.pane.test, TestState::Editing);
    let opened = h.model.pane.editor.as_ref().unwrap().text();
    h.type_text("zz");
    h.ctrl('z');
    h.ctrl('z');
    assert_eq!(h.model.pane.editor.as_ref().unwrap().text(), opened);

    h.type_text("x");
    h.key(KeyCode::Esc);
    assert_eq!(h.model.pane.test, TestState::Editing, "the first Esc asks");
    let screen = h.render(120, 40);
    assert!(screen.contains("Esc again discards it"), "{screen}");
    h.key(KeyCode::Esc);
    assert_eq!(
        h.model.pane.test,
        TestState::Idle,
        "the second Esc discards"
    );
    assert!(h.model.pane.editor.is_none());

    // Nothing edited: one Esc leaves.
    h.focus(Field::Pane);
    h.key(KeyCode::Char('e'));
    h.key(KeyCode::Esc);
    assert_eq!(h.model.pane.test, TestState::Idle);
}

#[tokio::test]
async fn alt_digits_jump_to_the_sections_of_the_advanced_tab() {
    let mut h = advanced().await;
    let sections = aircall_dest::tui::focus::sections(&h.model);
    let titles: Vec<&str> = sections.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        titles,
        [
            "Request", "Exclude", "Batching", "Capture", "Delivery", "Sync", "Samples"
        ]
    );
    alt(&mut h, '5');
    assert_eq!(h.model.focus, Field::Setting(delivery::RATE));
    alt(&mut h, '3');
    assert_eq!(
        h.model.focus,
        Field::Setting(aircall_dest::tui::sections::batching::ENABLED)
    );
    alt(&mut h, '1');
    assert_eq!(h.model.focus, Field::Method);
    alt(&mut h, '9');
    assert_eq!(
        h.model.focus,
        Field::Method,
        "no ninth section: nothing moves"
    );
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("no section 9"))
    );
    let screen = h.render(120, 40);
    assert!(screen.contains("Alt-1…9 sections"), "{screen}");
}
