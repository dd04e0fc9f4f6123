//! The update function: applies one message to the model and returns the commands to run.
//! It never blocks and never touches the terminal, the network or the disk.

use std::path::PathBuf;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use crate::client::PingOutcome;
use crate::destination::{ContentFormat, Mode, Status, TemplateRef};
use crate::tui::dataset;
use crate::tui::focus::{self, move_focus};
use crate::tui::form::{pulldown_mut, text_input_mut};
use crate::tui::keymap::{self, Action};
use crate::tui::keys;
use crate::tui::model::*;
use crate::tui::msg::{Cmd, Msg, TestRequest};
use crate::tui::pane;
use crate::tui::widgets::{BodyEditor, Outcome};

mod changed;
mod mouse;
mod samples;
mod save;
mod source;
mod sync;
pub use changed::*;
use mouse::*;
use samples::*;
pub use save::*;
pub use source::*;
pub use sync::*;

pub fn update(model: &mut Model, msg: Msg) -> Vec<Cmd> {
    let cmds = match msg {
        Msg::Key(key) => on_key(model, key),
        Msg::Mouse(mouse) => on_mouse(model, mouse),
        Msg::Paste(text) => on_paste(model, &text),
        Msg::Resize(width, height) => {
            model.width = width;
            model.height = height;
            Vec::new()
        }
        Msg::Tick => {
            model.tick = model.tick.wrapping_add(1);
            Vec::new()
        }
        Msg::DatasetInspected { id, result } => on_inspected(model, id, result),
        Msg::RecordsCounted { id, count } => {
            if model.source.count == Count::Counting(id) {
                model.source.count = match count {
                    Some(n) => Count::Known(n),
                    None => Count::Skipped,
                };
            }
            Vec::new()
        }
        Msg::PathCompletions { id, items } => {
            if model.source.completion == Some(id) {
                model.source.completion = None;
                complete_path(model, items)
            } else {
                Vec::new()
            }
        }
        Msg::Verified { id, outcome } => {
            if model.credential.verify == Verify::Running(id) {
                model.credential.verify = Verify::Done(outcome);
            }
            Vec::new()
        }
        Msg::TestSent { id, result } => {
            if matches!(model.pane.test, TestState::Sending { id: sending, .. } if sending == id) {
                model.pane.test = match result {
                    Ok(response) => {
                        model.pane.response.set_text(&response.body, &model.theme);
                        TestState::Done(response)
                    }
                    Err(e) => TestState::Failed(e),
                };
                model.pane.editor = None;
                if model.focus == Field::Editor {
                    model.focus = Field::Pane;
                }
            }
            Vec::new()
        }
        Msg::RunProgress { id, progress } => {
            if let Run::Running {
                id: running,
                progress: current,
            } = &mut model.save.run
                && *running == id
            {
                *current = progress;
            }
            Vec::new()
        }
        Msg::RunOutputs { id, outputs } => {
            if matches!(&model.save.run, Run::Running { id: running, .. } if *running == id) {
                model.save.run_outputs = Some(outputs);
            }
            Vec::new()
        }
        Msg::RunFailure { id, text } => {
            if matches!(&model.save.run, Run::Running { id: running, .. } if *running == id) {
                let failures = &mut model.save.run_failures;
                failures.push(text);
                if failures.len() > RUN_FAILURES_SHOWN {
                    failures.remove(0);
                }
            }
            Vec::new()
        }
        Msg::RunFinished { id, mut result } => {
            if let Run::Running {
                id: running,
                progress,
            } = &model.save.run
                && *running == id
            {
                // The final summary does not recount the input: keep the total seen while running.
                if let Ok(last) = &mut result
                    && last.total.is_none()
                {
                    last.total = progress.total;
                }
                model.save.run = Run::Finished(result);
                // Stop is gone with the run: Start takes its place, as the next thing to press.
                if model.focus == Field::StopRun {
                    model.focus = Field::StartRun;
                }
                focus::repair(model);
            }
            Vec::new()
        }
        Msg::Saved { result } => {
            saved(model, result);
            Vec::new()
        }
        Msg::SyncPreviewed { id, result } => {
            sync_previewed(model, id, result);
            Vec::new()
        }
    };
    focus::repair(model);
    cmds
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctx = keys::context(model);
    if model.quit_asked {
        return confirm_quit(model, key);
    }
    if keymap::action_for(&key, &ctx) == Some(Action::Quit) {
        return quit(model);
    }
    if model.help {
        if matches!(
            key.code,
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter | KeyCode::Char('q')
        ) {
            model.help = false;
        }
        return Vec::new();
    }
    model.notice = None;
    // An open popup owns every key until it closes.
    if popup_open(model) {
        let cmds = route_to_widget(model, key);
        // A key the popup gives back (Tab out of a macro popup) goes on to the bindings.
        if !cmds.is_empty() || model.last_key_consumed || popup_open(model) {
            return cmds;
        }
    }
    if let Some(action) = keymap::action_for(&key, &ctx) {
        return act(model, action);
    }
    let cmds = route_to_widget(model, key);
    if !cmds.is_empty() || model.last_key_consumed {
        return cmds;
    }
    match keymap::fallback_for(&key, &ctx) {
        Some(action) => act(model, action),
        None => Vec::new(),
    }
}

/// Does what a global key binding asks.
fn act(model: &mut Model, action: Action) -> Vec<Cmd> {
    match action {
        Action::Quit => quit(model),
        Action::NextField if model.focus == Field::DatasetPath && !path_is_loaded(model) => {
            request_completion(model)
        }
        Action::NextField => {
            model.pane.fullscreen = false;
            move_focus(model, true);
            Vec::new()
        }
        Action::PreviousField => {
            model.pane.fullscreen = false;
            move_focus(model, false);
            Vec::new()
        }
        Action::NextStep => go_to(model, model.step.index() + 1),
        Action::PreviousStep => go_to(model, model.step.index().saturating_sub(1)),
        Action::Help => {
            model.help = true;
            Vec::new()
        }
        Action::SendTest => send_test(model),
        Action::JumpToSection(index) => {
            match focus::sections(model).get(index) {
                Some((_, field)) => model.focus = *field,
                None => {
                    model.notice = Some((
                        Level::Info,
                        format!("there is no section {} here", index + 1),
                    ))
                }
            }
            Vec::new()
        }
        Action::Back => on_escape(model),
    }
}

/// Ctrl-C: quits at once when nothing would be lost, else asks first.
fn quit(model: &mut Model) -> Vec<Cmd> {
    if model.has_unsaved_edits() || model.run_is_going() {
        model.quit_asked = true;
        return Vec::new();
    }
    quit_now(model)
}

fn quit_now(model: &mut Model) -> Vec<Cmd> {
    model.quit = true;
    let mut cmds = cancel_all(model);
    cmds.push(Cmd::Quit);
    cmds
}

/// While the quit question is shown: `y` or a second Ctrl-C quits, `n` or Esc stays.
fn confirm_quit(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        _ if ctrl_c => quit_now(model),
        KeyCode::Char('y') | KeyCode::Char('Y') => quit_now(model),
        KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
            model.quit_asked = false;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn popup_open(model: &mut Model) -> bool {
    let focus = model.focus;
    if let Some(pulldown) = pulldown_mut(model, focus)
        && pulldown.is_open()
    {
        return true;
    }
    text_input_mut(model, focus).is_some_and(|input| input.completion().is_some())
}

fn on_escape(model: &mut Model) -> Vec<Cmd> {
    match &model.pane.test {
        TestState::Sending { id, .. } => {
            let id = *id;
            model.pane.test = TestState::Failed("cancelled".into());
            return vec![Cmd::Cancel { id }];
        }
        TestState::Editing => {
            if let Some(editor) = model.pane.editor.as_mut()
                && !editor.may_discard()
            {
                model.notice = Some((
                    Level::Info,
                    "the body was edited: Esc again discards it, Ctrl-S sends it".into(),
                ));
                return Vec::new();
            }
            model.pane.test = TestState::Idle;
            model.pane.editor = None;
            model.focus = Field::Pane;
            return Vec::new();
        }
        TestState::Done(_) | TestState::Failed(_) => {
            model.pane.test = TestState::Idle;
            return Vec::new();
        }
        TestState::Idle => {}
    }
    if model.step == Step::Configure && model.pane.fullscreen {
        model.pane.fullscreen = false;
        return Vec::new();
    }
    if model.step == Step::Configure && model.pane.expanded {
        model.pane.expanded = false;
        return Vec::new();
    }
    if model.step != Step::Source {
        return go_to(model, model.step.index() - 1);
    }
    Vec::new()
}

/// Moves to step `index` (0-based). Leaving step 1 needs a readable dataset and a credential.
pub fn go_to(model: &mut Model, index: usize) -> Vec<Cmd> {
    let Some(&target) = Step::ALL.get(index) else {
        return Vec::new();
    };
    if target > Step::Source && model.step == Step::Source {
        if model.source.dataset.is_none() {
            model.notice = Some((
                Level::Error,
                "choose a dataset that can be read before going on".into(),
            ));
            model.focus = Field::DatasetPath;
            return Vec::new();
        }
        if let Err(e) = model.chosen_credential() {
            model.notice = Some((Level::Error, e));
            model.focus = Field::Credential;
            return Vec::new();
        }
    }
    model.step = target;
    model.scroll = 0;
    model.focus = focus::order(model).first().copied().unwrap_or(Field::Next);
    if target == Step::Configure {
        model.refresh_sync_keys();
        pane::rebuild(model);
        return preview_sync(model);
    }
    Vec::new()
}

fn route_to_widget(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let field = model.focus;
    model.last_key_consumed = true;
    let outcome = if let Field::Setting(id) = field
        && let Some(setting) = model.setting_mut(id)
    {
        setting.handle_key(key)
    } else if let Some(input) = text_input_mut(model, field) {
        let outcome = input.handle_key(key);
        // Typing `{` in the URL offers the dataset's attributes as record macros.
        if field == Field::Url && key.code == KeyCode::Char('{') && outcome == Outcome::Changed {
            let attributes = model.attributes();
            model.configure.request.offer_macros(&attributes);
        }
        outcome
    } else if let Some(pulldown) = pulldown_mut(model, field) {
        pulldown.handle_key(key)
    } else {
        match field {
            Field::CredAdvanced => model.credential.advanced.handle_key(key),
            Field::Tabs => model.configure.tabs.handle_key(key),
            Field::Exclude => model.configure.request.exclude.handle_key(key),
            Field::MapOptional(i) => match model.configure.mapping.get_mut(i) {
                Some(row) => row.optional.handle_key(key),
                None => Outcome::Ignored,
            },
            Field::MapMore(_) | Field::MapRemove(_)
                if matches!(key.code, KeyCode::Enter | KeyCode::Char(' ')) =>
            {
                return press(model, field);
            }
            Field::Pane => return pane_key(model, key),
            Field::Editor => return editor_key(model, key),
            button if button.is_button() => {
                if matches!(key.code, KeyCode::Enter | KeyCode::Char(' ')) {
                    return press(model, field);
                }
                Outcome::Ignored
            }
            _ => Outcome::Ignored,
        }
    };
    model.last_key_consumed = outcome.consumed();
    match outcome {
        Outcome::Changed => on_changed(model, field),
        Outcome::Submitted if field == Field::MapAdd => add_mapping_entry(model),
        Outcome::Submitted => {
            move_focus(model, true);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn press(model: &mut Model, field: Field) -> Vec<Cmd> {
    match field {
        Field::Verify => verify(model),
        Field::Back => go_to(model, model.step.index().saturating_sub(1)),
        Field::Next => go_to(model, model.step.index() + 1),
        Field::Save => save(model, false),
        Field::SaveActivate => save(model, true),
        Field::StartRun => start_run(model),
        Field::MapMore(i) => {
            if let Some(row) = model.configure.mapping.get_mut(i) {
                row.expanded = !row.expanded;
            }
            Vec::new()
        }
        Field::MapRemove(i) => remove_mapping_entry(model, i),
        Field::StopRun => match &model.save.run {
            Run::Running { id, .. } => {
                model.save.stopping = match model.save.stopping {
                    Stopping::No => Stopping::Draining,
                    _ => Stopping::Now,
                };
                vec![Cmd::Cancel { id: *id }]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn verify(model: &mut Model) -> Vec<Cmd> {
    let credential = match model.chosen_credential() {
        Ok(c) => c,
        Err(e) => {
            model.credential.verify = Verify::Done(PingOutcome::Token { message: e });
            return Vec::new();
        }
    };
    let id = model.next_task();
    model.credential.verify = Verify::Running(id);
    vec![Cmd::Verify { id, credential }]
}

fn on_paste(model: &mut Model, text: &str) -> Vec<Cmd> {
    let field = model.focus;
    if field == Field::Editor {
        if let Some(editor) = model.pane.editor.as_mut() {
            editor.insert_str(text);
        }
        return Vec::new();
    }
    if let Some(input) = text_input_mut(model, field)
        && input.insert_str(text) == Outcome::Changed
    {
        return on_changed(model, field);
    }
    Vec::new()
}

fn cancel_all(model: &mut Model) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if let TestState::Sending { id, .. } = model.pane.test {
        cmds.push(Cmd::Cancel { id });
    }
    if let Run::Running { id, .. } = model.save.run {
        cmds.push(Cmd::Cancel { id });
    }
    cmds
}

/// Messages the runtime sends once, right after start: read the dataset named at start.
pub fn start(model: &mut Model) -> Vec<Cmd> {
    inspect(model)
}
