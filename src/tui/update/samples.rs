//! Keys of the sample pane and its body editor, and Send Test.

use super::*;

pub(super) fn pane_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let pane = &mut model.pane;
    let count = pane.samples.len();
    model.last_key_consumed = true;
    if let TestState::Done(_) = pane.test
        && pane.response.handle_key(key).consumed()
    {
        return Vec::new();
    }
    match key.code {
        KeyCode::Up
        | KeyCode::Down
        | KeyCode::PageUp
        | KeyCode::PageDown
        | KeyCode::Home
        | KeyCode::End
            if pane.expanded =>
        {
            pane.body.handle_key(key);
        }
        KeyCode::Left | KeyCode::Right if !pane.body.wraps() => {
            pane.body.handle_key(key);
        }
        KeyCode::Char('w') => {
            let wrap = !pane.body.wraps();
            pane.body.set_wrap(wrap);
            pane.response.set_wrap(wrap);
        }
        KeyCode::Char('f') => pane.fullscreen = !pane.fullscreen,
        KeyCode::Char('c') => return copy_as_curl(model),
        KeyCode::Up => {
            pane.selected = pane.selected.saturating_sub(1);
            pane::load_selected_body(model);
        }
        KeyCode::Down => {
            if pane.selected + 1 < count {
                pane.selected += 1;
            }
            pane::load_selected_body(model);
        }
        KeyCode::Enter => {
            pane.expanded = !pane.expanded;
            pane::load_selected_body(model);
        }
        KeyCode::Char('e') => return start_editing(model),
        KeyCode::Char('t') => return send_test(model),
        _ => model.last_key_consumed = false,
    }
    Vec::new()
}

pub(super) fn start_editing(model: &mut Model) -> Vec<Cmd> {
    let Some(Sample::Request { request, .. }) = model.pane.samples.get(model.pane.selected) else {
        model.notice = Some((
            Level::Error,
            "pick a request (not an invalid record) to edit".into(),
        ));
        return Vec::new();
    };
    let json = model.dest.request.content_format == ContentFormat::Json;
    model.pane.editor = Some(BodyEditor::new(request.body.as_deref().unwrap_or(""), json));
    model.pane.test = TestState::Editing;
    model.focus = Field::Editor;
    Vec::new()
}

pub(super) fn editor_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    model.last_key_consumed = true;
    if key.code == KeyCode::Esc {
        model.last_key_consumed = false;
        return Vec::new();
    }
    if let Some(editor) = model.pane.editor.as_mut() {
        editor.handle_key(key);
    }
    Vec::new()
}

/// Sends the selected sample (with the edited body when editing) in the background.
pub(super) fn send_test(model: &mut Model) -> Vec<Cmd> {
    if matches!(model.pane.test, TestState::Sending { .. }) {
        return Vec::new();
    }
    let Some(Sample::Request { request, .. }) =
        model.pane.samples.get(model.pane.selected).cloned()
    else {
        model.notice = Some((
            Level::Error,
            "there is no request to send: pick a valid sample".into(),
        ));
        return Vec::new();
    };
    let body = match (&model.pane.editor, model.pane.test == TestState::Editing) {
        (Some(editor), true) => match editor.body_to_send() {
            Ok(body) => Some(body),
            Err(e) => {
                model.notice = Some((Level::Error, format!("not sent: {e}")));
                return Vec::new();
            }
        },
        _ => request.body.clone(),
    };
    let credential = if request.auth {
        match model.chosen_credential() {
            Ok(c) => Some(c),
            Err(e) => {
                model.pane.test = TestState::Failed(e);
                return Vec::new();
            }
        }
    } else {
        None
    };
    let id = model.next_task();
    model.pane.test = TestState::Sending {
        id,
        started_tick: model.tick,
    };
    if model.focus == Field::Editor {
        model.focus = Field::Pane;
    }
    vec![Cmd::SendTest {
        id,
        request: TestRequest {
            request: crate::request::Request { body, ..request },
            credential,
            timeout_secs: model.dest.delivery.request_timeout_secs.max(1),
            connect_timeout_secs: model.dest.delivery.connect_timeout_secs.max(1),
        },
    }]
}

/// Copies the selected sample as a `curl` command, the credential masked.
pub(super) fn copy_as_curl(model: &mut Model) -> Vec<Cmd> {
    let Some(Sample::Request { request, .. }) = model.pane.samples.get(model.pane.selected) else {
        model.notice = Some((
            Level::Error,
            "pick a request (not an invalid record) to copy".into(),
        ));
        return Vec::new();
    };
    let text = crate::tui::curl::command(request, model.auth_kind());
    model.notice = Some((
        Level::Ok,
        format!(
            "copied sample {} as a curl command (credential masked; the terminal must allow OSC 52)",
            model.pane.selected + 1
        ),
    ));
    vec![Cmd::Copy { text }]
}
