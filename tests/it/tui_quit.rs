//! Quitting: Ctrl-C leaves at once when nothing would be lost, and asks first when edits are
//! unsaved or a run is going (a second Ctrl-C or `y` quits, `n` or Esc stays).

use crate::tui_common;

use aircall_dest::tui::Cmd;
use aircall_dest::tui::model::{Field, Run, Step};
use aircall_dest::tui::msg::{RunProgress, TaskId};
use aircall_dest::tui::update;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::{Harness, embedded_init};

const BASE: &str = "http://127.0.0.1:47800";

fn ctrl_c() -> aircall_dest::tui::Msg {
    aircall_dest::tui::Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

/// Applies Ctrl-C and says whether the wizard asked the runtime to quit.
fn press_ctrl_c(h: &mut Harness) -> bool {
    let cmds = update::update(&mut h.model, ctrl_c());
    cmds.iter().any(|c| matches!(c, Cmd::Quit))
}

#[tokio::test]
async fn nothing_to_lose_quits_at_once() {
    let mut h = Harness::start(embedded_init(BASE)).await;
    assert!(press_ctrl_c(&mut h));
    assert!(h.model.quit);
    assert!(!h.model.quit_asked);
}

#[tokio::test]
async fn switching_tabs_is_not_an_edit() {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    h.key(KeyCode::Right); // Advanced tab
    assert_eq!(h.model.configure.tabs.selected(), 1);
    assert!(press_ctrl_c(&mut h), "nothing to lose: quits at once");
}

#[tokio::test]
async fn an_unsaved_edit_asks_and_n_stays_then_a_second_ctrl_c_quits() {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Configure);
    h.key(KeyCode::Right); // Advanced tab
    h.focus(Field::Method);
    h.key(KeyCode::Right); // POST -> PUT
    assert!(!press_ctrl_c(&mut h), "the first Ctrl-C only asks");
    assert!(h.model.quit_asked);
    assert!(!h.model.quit);
    let screen = h.render(80, 24);
    assert!(screen.contains("Quit?"), "{screen}");
    assert!(
        screen.contains("This destination has not been saved."),
        "{screen}"
    );
    insta::assert_snapshot!("quit_question_80x24", screen);
    insta::assert_snapshot!("quit_question_120x40", h.render(120, 40));

    // Any other key leaves the question up and edits nothing.
    let method = h.model.dest.request.method;
    h.key(KeyCode::Right);
    assert!(h.model.quit_asked);
    assert_eq!(h.model.dest.request.method, method);

    h.key(KeyCode::Char('n'));
    assert!(!h.model.quit_asked);
    assert!(!h.render(80, 24).contains("Quit?"));

    assert!(!press_ctrl_c(&mut h));
    assert!(press_ctrl_c(&mut h), "a second Ctrl-C quits");
    assert!(h.model.quit);
}

#[tokio::test]
async fn y_quits_and_esc_stays() {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    h.key(KeyCode::Right);
    h.focus(Field::Method);
    h.key(KeyCode::Right);
    assert!(!press_ctrl_c(&mut h));
    h.key(KeyCode::Esc);
    assert!(!h.model.quit_asked);
    assert_eq!(
        h.model.step,
        Step::Configure,
        "Esc answered the question only"
    );
    assert!(!press_ctrl_c(&mut h));
    let cmds = update::update(
        &mut h.model,
        aircall_dest::tui::Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)),
    );
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Quit)));
}

#[tokio::test]
async fn a_run_going_asks_and_says_how_far_it_got() {
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.model.save.run = Run::Running {
        id: TaskId(99),
        progress: RunProgress {
            sent: 12,
            total: Some(100),
            ..RunProgress::default()
        },
    };
    assert!(!press_ctrl_c(&mut h));
    let screen = h.render(120, 40);
    assert!(
        screen.contains("A run is going (12 sent of 100)"),
        "{screen}"
    );
    // Quitting then stops the run rather than leaving it behind.
    let cmds = update::update(&mut h.model, ctrl_c());
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Cmd::Cancel { id } if *id == TaskId(99)))
    );
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Quit)));
}

#[tokio::test]
async fn saving_clears_the_unsaved_mark() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start(embedded_init(BASE)).await;
    h.ctrl('n');
    h.key(KeyCode::Right);
    h.focus(Field::Method);
    h.key(KeyCode::Right);
    assert!(h.model.has_unsaved_edits());
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    h.focus(Field::SavePath);
    h.send(aircall_dest::tui::Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    h.type_text(&dir.path().join("d.toml").display().to_string());
    h.focus(Field::Save);
    h.key(KeyCode::Enter);
    h.until(|m| m.save.saved.is_some() || m.save.error.is_some())
        .await;
    assert!(h.model.save.saved.is_some(), "{:?}", h.model.save.error);
    assert!(!h.model.has_unsaved_edits());
    assert!(press_ctrl_c(&mut h), "nothing left to lose");
}
