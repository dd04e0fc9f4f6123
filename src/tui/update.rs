//! The update function: applies one message to the model and returns the commands to run.
//! It never blocks and never touches the terminal, the network or the disk.

use std::path::PathBuf;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use crate::client::PingOutcome;
use crate::destination::{
    Algorithm, ContentFormat, GroupShape, InDoubtPolicy, Method, Mode, OnInvalid, OnRejected,
    Status, TemplateRef,
};
use crate::tui::dataset;
use crate::tui::focus::{self, is_text, move_focus};
use crate::tui::model::*;
use crate::tui::msg::{Cmd, Msg, TestRequest};
use crate::tui::pane;
use crate::tui::widgets::{BodyEditor, Outcome, Pulldown, TextInput};

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
        Msg::RunFinished { id, result } => {
            if matches!(&model.save.run, Run::Running { id: running, .. } if *running == id) {
                model.save.run = Run::Finished(result);
                focus::repair(model);
            }
            Vec::new()
        }
        Msg::Saved { result } => {
            saved(model, result);
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
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        model.quit = true;
        let mut cmds = cancel_all(model);
        cmds.push(Cmd::Quit);
        return cmds;
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
        return route_to_widget(model, key);
    }
    let text = is_text(model.focus);
    match key.code {
        KeyCode::Tab if model.focus == Field::DatasetPath && !path_is_loaded(model) => {
            return request_completion(model);
        }
        KeyCode::Tab => {
            move_focus(model, true);
            return Vec::new();
        }
        KeyCode::BackTab => {
            move_focus(model, false);
            return Vec::new();
        }
        KeyCode::F(1) => {
            model.help = true;
            return Vec::new();
        }
        KeyCode::Char('?') if !text => {
            model.help = true;
            return Vec::new();
        }
        KeyCode::Char('n') if ctrl => return go_to(model, model.step.index() + 1),
        KeyCode::Char('b') if ctrl => return go_to(model, model.step.index().saturating_sub(1)),
        KeyCode::Char('s') if ctrl && model.step == Step::Configure => return send_test(model),
        _ => {}
    }
    let cmds = route_to_widget(model, key);
    if !cmds.is_empty() || model.last_key_consumed {
        return cmds;
    }
    if key.code == KeyCode::Esc {
        return on_escape(model);
    }
    Vec::new()
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
    if model.step == Step::Configure && model.pane.expanded {
        model.pane.expanded = false;
        return Vec::new();
    }
    if model.step != Step::Source {
        return go_to(model, model.step.index() - 1);
    }
    Vec::new()
}

/// Tab completes the dataset path only while it names nothing readable; otherwise it moves on.
fn path_is_loaded(model: &Model) -> bool {
    !(model.source.path.value().trim().is_empty()
        || matches!(model.source.inspect, Inspect::Failed(_)))
}

fn request_completion(model: &mut Model) -> Vec<Cmd> {
    let id = model.next_task();
    model.source.completion = Some(id);
    vec![Cmd::CompletePath {
        id,
        typed: model.source.path.value().to_string(),
    }]
}

fn complete_path(model: &mut Model, items: Vec<String>) -> Vec<Cmd> {
    let typed = model.source.path.value().to_string();
    if items.is_empty() {
        model.notice = Some((Level::Info, format!("nothing matches {typed:?}")));
        return Vec::new();
    }
    let prefix = dataset::common_prefix(&items);
    if items.len() == 1 || prefix.len() > typed.len() {
        model.source.path.set_value(prefix);
        if items.len() > 1 {
            model.source.path.offer(items, 0);
        }
        return on_changed(model, Field::DatasetPath);
    }
    model.source.path.offer(items, 0);
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
        pane::rebuild(model);
    }
    Vec::new()
}

/// Read-only twin of [`text_input_mut`], for drawing.
pub fn text_input_ref(model: &Model, field: Field) -> Option<&TextInput> {
    let c = &model.configure;
    Some(match field {
        Field::DatasetPath => &model.source.path,
        Field::CredName => &model.credential.name,
        Field::CredDescription => &model.credential.description,
        Field::CredApiId => &model.credential.api_id,
        Field::CredToken => &model.credential.token,
        Field::CredBaseUrl => &model.credential.base_url,
        Field::CustomPath => &c.custom_path,
        Field::MapConstant(i) => &c.mapping.get(i)?.constant,
        Field::MapAdd => &c.add_target,
        Field::RateLimit => &c.rate_limit,
        Field::Concurrency => &c.concurrency,
        Field::MaxAttempts => &c.max_attempts,
        Field::Url => &c.url,
        Field::Headers => &c.headers,
        Field::BatchSize => &c.batch_size,
        Field::WrapKey => &c.wrap_key,
        Field::GroupBy => &c.group_by,
        Field::Pluck => &c.pluck,
        Field::CaptureFile => &c.capture_file,
        Field::Webhook => &c.webhook,
        Field::DestName => &model.save.name,
        Field::SavePath => &model.save.path,
        _ => return None,
    })
}

/// Read-only twin of [`pulldown_mut`], for drawing.
pub fn pulldown_mut_ref(model: &Model, field: Field) -> Option<&Pulldown> {
    let c = &model.configure;
    Some(match field {
        Field::Credential => &model.credential.pick,
        Field::CredKind => &model.credential.kind,
        Field::Endpoint => &c.endpoint,
        Field::Resource => &c.resource,
        Field::MapSource(i) => &c.mapping.get(i)?.source,
        Field::MapTransform(i) => &c.mapping.get(i)?.transform,
        Field::MapIfPresent(i) => &c.mapping.get(i)?.if_present,
        Field::MapCountry(i) => &c.mapping.get(i)?.country,
        Field::TemplateParam(i) => &c.parameters.get(i)?.1,
        Field::OnRejected => &c.on_rejected,
        Field::OnInvalid => &c.on_invalid,
        Field::InDoubt => &c.in_doubt,
        Field::Method => &c.method,
        Field::ContentFormat => &c.content,
        Field::Algorithm => &c.algorithm,
        Field::GroupShape => &c.group_shape,
        _ => return None,
    })
}

pub fn text_input_mut(model: &mut Model, field: Field) -> Option<&mut TextInput> {
    let c = &mut model.configure;
    Some(match field {
        Field::DatasetPath => &mut model.source.path,
        Field::CredName => &mut model.credential.name,
        Field::CredDescription => &mut model.credential.description,
        Field::CredApiId => &mut model.credential.api_id,
        Field::CredToken => &mut model.credential.token,
        Field::CredBaseUrl => &mut model.credential.base_url,
        Field::CustomPath => &mut c.custom_path,
        Field::MapConstant(i) => &mut c.mapping.get_mut(i)?.constant,
        Field::MapAdd => &mut c.add_target,
        Field::RateLimit => &mut c.rate_limit,
        Field::Concurrency => &mut c.concurrency,
        Field::MaxAttempts => &mut c.max_attempts,
        Field::Url => &mut c.url,
        Field::Headers => &mut c.headers,
        Field::BatchSize => &mut c.batch_size,
        Field::WrapKey => &mut c.wrap_key,
        Field::GroupBy => &mut c.group_by,
        Field::Pluck => &mut c.pluck,
        Field::CaptureFile => &mut c.capture_file,
        Field::Webhook => &mut c.webhook,
        Field::DestName => &mut model.save.name,
        Field::SavePath => &mut model.save.path,
        _ => return None,
    })
}

pub fn pulldown_mut(model: &mut Model, field: Field) -> Option<&mut Pulldown> {
    let c = &mut model.configure;
    Some(match field {
        Field::Credential => &mut model.credential.pick,
        Field::CredKind => &mut model.credential.kind,
        Field::Endpoint => &mut c.endpoint,
        Field::Resource => &mut c.resource,
        Field::MapSource(i) => &mut c.mapping.get_mut(i)?.source,
        Field::MapTransform(i) => &mut c.mapping.get_mut(i)?.transform,
        Field::MapIfPresent(i) => &mut c.mapping.get_mut(i)?.if_present,
        Field::MapCountry(i) => &mut c.mapping.get_mut(i)?.country,
        Field::TemplateParam(i) => &mut c.parameters.get_mut(i)?.1,
        Field::OnRejected => &mut c.on_rejected,
        Field::OnInvalid => &mut c.on_invalid,
        Field::InDoubt => &mut c.in_doubt,
        Field::Method => &mut c.method,
        Field::ContentFormat => &mut c.content,
        Field::Algorithm => &mut c.algorithm,
        Field::GroupShape => &mut c.group_shape,
        _ => return None,
    })
}

fn route_to_widget(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
    let field = model.focus;
    model.last_key_consumed = true;
    let outcome = if let Some(input) = text_input_mut(model, field) {
        let outcome = input.handle_key(key);
        // Typing `{` in the URL offers the dataset's attributes as record macros.
        if field == Field::Url && key.code == KeyCode::Char('{') && outcome == Outcome::Changed {
            let items: Vec<String> = model
                .attributes()
                .iter()
                .map(|a| format!("{{record.{a}}}"))
                .collect();
            let anchor = model.configure.url.cursor() - 1;
            model.configure.url.offer(items, anchor);
        }
        outcome
    } else if let Some(pulldown) = pulldown_mut(model, field) {
        pulldown.handle_key(key)
    } else {
        match field {
            Field::CredAdvanced => model.credential.advanced.handle_key(key),
            Field::Batching => model.configure.batching.handle_key(key),
            Field::Tabs => model.configure.tabs.handle_key(key),
            Field::Exclude => model.configure.exclude.handle_key(key),
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
            Field::Verify
            | Field::Back
            | Field::Next
            | Field::Save
            | Field::SaveActivate
            | Field::StartRun
            | Field::StopRun => {
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
            Run::Running { id, .. } => vec![Cmd::Cancel { id: *id }],
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

fn pane_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
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

fn start_editing(model: &mut Model) -> Vec<Cmd> {
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

fn editor_key(model: &mut Model, key: KeyEvent) -> Vec<Cmd> {
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
fn send_test(model: &mut Model) -> Vec<Cmd> {
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

fn on_inspected(
    model: &mut Model,
    id: crate::tui::msg::TaskId,
    result: Result<dataset::Dataset, String>,
) -> Vec<Cmd> {
    if model.source.inspect != Inspect::Running(id) {
        return Vec::new();
    }
    match result {
        Ok(dataset) => {
            model.source.inspect = Inspect::Idle;
            let mut cmds = Vec::new();
            model.source.count = match dataset.known_count() {
                Some(n) => Count::Known(n),
                None => {
                    let id = model.next_task();
                    cmds.push(Cmd::CountRecords {
                        id,
                        path: dataset.path.clone(),
                    });
                    Count::Counting(id)
                }
            };
            model.source.dataset = Some(dataset);
            // A destination started here (not loaded) gets the template's suggested mapping as
            // soon as the dataset's attributes are known.
            if model.dest_path.is_none()
                && model.dest.mapping.is_empty()
                && let Some(resource) = model.resource()
            {
                model.dest.mapping =
                    crate::templates::suggest_mapping(resource, &model.attributes());
            }
            model.refresh_attribute_widgets();
            pane::rebuild(model);
            cmds
        }
        Err(e) => {
            model.source.inspect = Inspect::Failed(e);
            model.source.dataset = None;
            model.source.count = Count::Unknown;
            Vec::new()
        }
    }
}

/// Starts reading the dataset named in the path field.
pub fn inspect(model: &mut Model) -> Vec<Cmd> {
    let path = PathBuf::from(model.source.path.value().trim());
    if path.as_os_str().is_empty() {
        model.source.inspect = Inspect::Failed("no dataset chosen".into());
        model.source.dataset = None;
        return Vec::new();
    }
    let id = model.next_task();
    model.source.inspect = Inspect::Running(id);
    vec![Cmd::InspectDataset { id, path }]
}

/// Writes the edited widget's value into the destination and refreshes what depends on it.
pub fn on_changed(model: &mut Model, field: Field) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    let c = &model.configure;
    match field {
        Field::DatasetPath => {
            model.dest.source.path = PathBuf::from(model.source.path.value().trim());
            model.dest.source.format = None;
            model.source_edited = true;
            cmds = inspect(model);
        }
        Field::Credential
        | Field::CredName
        | Field::CredDescription
        | Field::CredApiId
        | Field::CredToken
        | Field::CredKind
        | Field::CredBaseUrl => {
            model.credential.verify = Verify::Idle;
            if let Ok(credential) = model.chosen_credential() {
                if model.dest.credential != credential.name {
                    model.dest.credential = credential.name;
                }
            } else if model.is_new_credential() && !model.credential.name.value().trim().is_empty()
            {
                model.dest.credential = model.credential.name.value().trim().to_string();
            }
        }
        Field::CredAdvanced => {}
        Field::Tabs => {}
        Field::Endpoint => {
            let label = c.endpoint.selected_label().to_string();
            match crate::templates::all().iter().find(|t| t.name == label) {
                Some(template) => {
                    let resource = template
                        .resources
                        .first()
                        .map(|r| r.id.clone())
                        .unwrap_or_else(|| "custom".into());
                    apply_template(
                        model,
                        TemplateRef {
                            id: template.id.clone(),
                            resource,
                            custom_path: None,
                            parameters: toml::Table::new(),
                        },
                    );
                }
                None => {
                    model.dest.mode = Mode::Manual;
                    model.dest.template = None;
                    model.load_configure_widgets();
                }
            }
        }
        Field::Resource => {
            if let Some(mut reference) = model.dest.template.clone() {
                let label = c.resource.selected_label().to_string();
                let template = model.template();
                reference.resource = template
                    .and_then(|t| t.resources.iter().find(|r| r.name == label))
                    .map(|r| r.id.clone())
                    .unwrap_or_else(|| "custom".into());
                reference.custom_path = if reference.resource == "custom" {
                    Some(c.custom_path.value().to_string())
                        .filter(|p| !p.is_empty())
                        .or(Some("/v1/contacts".into()))
                } else {
                    None
                };
                apply_template(model, reference);
            }
        }
        Field::CustomPath => {
            if let Some(mut reference) = model.dest.template.clone() {
                reference.custom_path = Some(c.custom_path.value().trim().to_string());
                let path = c.custom_path.value().trim();
                if path.starts_with('/') {
                    model.set_error(Field::CustomPath, None);
                    apply_template_keep_widgets(model, reference);
                } else {
                    model.set_error(
                        Field::CustomPath,
                        Some("a resource path starts with /".into()),
                    );
                }
            }
        }
        Field::MapSource(i) | Field::MapConstant(i) | Field::MapTransform(i) => {
            model.apply_mapping_row(i);
            if field != Field::MapConstant(i) {
                // Showing a value or a transform, or the count under a field, follows the source.
                model.refresh_attribute_widgets();
            }
        }
        Field::MapOptional(i) => {
            let checked = c.mapping.get(i).is_some_and(|r| r.optional.checked);
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.optional = checked;
            }
        }
        Field::MapIfPresent(i) => {
            let condition = c
                .mapping
                .get(i)
                .map(|r| r.if_present.selected_label().to_string())
                .filter(|l| l != ALWAYS);
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.if_present = condition;
            }
        }
        Field::MapCountry(i) => {
            let country = c
                .mapping
                .get(i)
                .map(|r| country_of(r.country.selected_label()).to_string());
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.default_country = country;
            }
        }
        Field::MapAdd => model.set_error(Field::MapAdd, None),
        Field::TemplateParam(i) => {
            if let (Some((name, pulldown)), Some(mut reference)) =
                (c.parameters.get(i), model.dest.template.clone())
            {
                reference.parameters.insert(
                    name.clone(),
                    toml::Value::String(pulldown.selected_label().to_string()),
                );
                apply_parameters(model, reference);
            }
        }
        Field::RateLimit => match c.rate_limit.value().trim().parse::<u32>() {
            Ok(n) => {
                model.dest.delivery.rate_limit_per_minute = n;
                model.set_error(Field::RateLimit, None);
            }
            Err(_) => model.set_error(
                Field::RateLimit,
                Some("expected a whole number of requests per minute (0 turns pacing off)".into()),
            ),
        },
        Field::Concurrency => match c.concurrency.value().trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => {
                model.dest.delivery.concurrency = n;
                model.set_error(Field::Concurrency, None);
            }
            _ => model.set_error(
                Field::Concurrency,
                Some("expected a whole number from 1 to 64".into()),
            ),
        },
        Field::MaxAttempts => match c.max_attempts.value().trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => {
                model.dest.delivery.max_attempts = n;
                model.set_error(Field::MaxAttempts, None);
            }
            _ => model.set_error(
                Field::MaxAttempts,
                Some("expected a whole number from 1 to 100 (1 = no retries)".into()),
            ),
        },
        Field::OnRejected => {
            model.dest.delivery.on_rejected = if c.on_rejected.selected() == 1 {
                OnRejected::Stop
            } else {
                OnRejected::DeadLetter
            }
        }
        Field::OnInvalid => {
            model.dest.delivery.on_invalid = if c.on_invalid.selected() == 1 {
                OnInvalid::Stop
            } else {
                OnInvalid::Skip
            }
        }
        Field::InDoubt => {
            model.dest.delivery.in_doubt = match c.in_doubt.selected() {
                1 => InDoubtPolicy::Resend,
                2 => InDoubtPolicy::Report,
                _ => InDoubtPolicy::Reconcile,
            }
        }
        Field::Method => model.dest.request.method = Method::ALL[c.method.selected().min(4)],
        Field::ContentFormat => {
            model.dest.request.content_format = ContentFormat::ALL[c.content.selected().min(2)]
        }
        Field::Url => {
            let url = c.url.value().trim().to_string();
            let problem = if !(url.starts_with('/')
                || url.starts_with("https://")
                || url.starts_with("http://"))
            {
                Some("a URL starts with /, https:// or http://".to_string())
            } else {
                crate::request::check_url_template(&url)
                    .err()
                    .map(|e| e.to_string())
            };
            if problem.is_none() {
                model.dest.request.url = url;
            }
            model.set_error(Field::Url, problem);
        }
        Field::Headers => match parse_headers(c.headers.value()) {
            Ok(headers) => {
                model.dest.request.headers = headers;
                model.set_error(Field::Headers, None);
            }
            Err(e) => model.set_error(Field::Headers, Some(e)),
        },
        Field::Exclude => model.dest.request.exclude = c.exclude.checked(),
        Field::Batching => model.dest.batching.enabled = c.batching.checked,
        Field::BatchSize => match c.batch_size.value().trim().parse::<usize>() {
            Ok(n) if n >= 1 => {
                model.dest.batching.max_records = n;
                model.set_error(Field::BatchSize, None);
            }
            _ => model.set_error(
                Field::BatchSize,
                Some("expected a whole number of records, 1 or more".into()),
            ),
        },
        Field::Algorithm => {
            model.dest.batching.algorithm = Algorithm::ALL[c.algorithm.selected().min(2)]
        }
        Field::WrapKey => model.dest.batching.wrap_key = c.wrap_key.value().trim().to_string(),
        Field::GroupBy => {
            model.dest.batching.group_by =
                Some(c.group_by.value().trim().to_string()).filter(|s| !s.is_empty())
        }
        Field::GroupShape => {
            model.dest.batching.group_shape = if c.group_shape.selected() == 1 {
                GroupShape::Wrap
            } else {
                GroupShape::Array
            }
        }
        Field::Pluck => {
            model.dest.batching.pluck =
                Some(c.pluck.value().trim().to_string()).filter(|s| !s.is_empty())
        }
        Field::CaptureFile => {
            model.dest.capture.file = Some(PathBuf::from(c.capture_file.value().trim()))
                .filter(|p| !p.as_os_str().is_empty())
        }
        Field::Webhook => {
            let url = c.webhook.value().trim().to_string();
            if url.is_empty() || url.starts_with("https://") || url.starts_with("http://") {
                model.dest.capture.webhook_url = Some(url).filter(|u| !u.is_empty());
                model.set_error(Field::Webhook, None);
            } else {
                model.set_error(Field::Webhook, Some("expected an http(s) URL".into()));
            }
        }
        Field::DestName => {
            let name = model.save.name.value().trim().to_string();
            if !name.is_empty() {
                model.dest.name = name;
            }
        }
        _ => {}
    }
    if model.step == Step::Configure
        || matches!(
            field,
            Field::Credential | Field::CredBaseUrl | Field::CredKind
        )
    {
        pane::rebuild(model);
    }
    cmds
}

/// Re-resolves the template after a parameter changed: the URL, method and excluded id follow
/// the parameter; the mapping, headers and content format the person set are kept.
fn apply_parameters(model: &mut Model, reference: TemplateRef) {
    match crate::templates::resolve(&reference) {
        Ok(resolved) => {
            let request = &mut model.dest.request;
            request.method = resolved.request.method;
            request.url = resolved.request.url;
            request.exclude = resolved.request.exclude;
            request.body = resolved.request.body;
            if let Some(batching) = resolved.batching {
                model.dest.batching.group_by = batching.group_by;
            }
            model.dest.template = Some(reference);
            model.set_error(Field::Endpoint, None);
            model.load_configure_widgets();
        }
        Err(e) => model.set_error(Field::Endpoint, Some(e.to_string())),
    }
}

/// Adds a row for the target typed in "Add entry", focused on its source.
fn add_mapping_entry(model: &mut Model) -> Vec<Cmd> {
    let target = model.configure.add_target.value().trim().to_string();
    if target.is_empty() {
        model.set_error(
            Field::MapAdd,
            Some("type the body path to set, e.g. information or emails[1].value".into()),
        );
        return Vec::new();
    }
    if let Err(e) = crate::request::check_target_path(&target) {
        model.set_error(Field::MapAdd, Some(e.to_string()));
        return Vec::new();
    }
    model.set_error(Field::MapAdd, None);
    if !model.configure.mapping.iter().any(|r| r.target == target) {
        model.configure.added_targets.push(target.clone());
        model.refresh_attribute_widgets();
    }
    model.configure.add_target.set_value("");
    if let Some(i) = model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == target)
    {
        model.focus = Field::MapSource(i);
        model.configure.mapping[i].source.open();
    }
    Vec::new()
}

/// Removes a mapping entry; a field of the resource stays listed, unset.
fn remove_mapping_entry(model: &mut Model, index: usize) -> Vec<Cmd> {
    let Some(target) = model.configure.mapping.get(index).map(|r| r.target.clone()) else {
        return Vec::new();
    };
    model.dest.mapping.retain(|m| m.target != target);
    model.configure.added_targets.retain(|t| *t != target);
    model.refresh_attribute_widgets();
    let rows = model.configure.mapping.len();
    model.focus = if let Some(i) = model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == target)
    {
        model.configure.mapping[i].expanded = false;
        Field::MapSource(i)
    } else if index < rows {
        Field::MapSource(index)
    } else {
        Field::MapAdd
    };
    model.notice = Some((
        Level::Info,
        format!("removed the mapping entry for {target}"),
    ));
    pane::rebuild(model);
    Vec::new()
}

fn apply_template(model: &mut Model, reference: TemplateRef) {
    apply_template_keep_widgets(model, reference);
    model.load_configure_widgets();
}

/// Resolves a template choice into request settings, batching and a suggested mapping, as the
/// file will store them.
fn apply_template_keep_widgets(model: &mut Model, reference: TemplateRef) {
    match crate::templates::resolve(&reference) {
        Ok(resolved) => {
            model.dest.request = resolved.request;
            model.dest.batching = resolved.batching.unwrap_or_default();
            model.dest.mode = Mode::Template;
            model.dest.template = Some(reference);
            model.configure.added_targets.clear();
            let attributes = model.attributes();
            model.dest.mapping = model
                .resource()
                .map(|r| crate::templates::suggest_mapping(r, &attributes))
                .unwrap_or_default();
            model.set_error(Field::Endpoint, None);
        }
        Err(e) => model.set_error(Field::Endpoint, Some(e.to_string())),
    }
}

/// The destination as it will be written, or what must be fixed first.
pub fn destination_to_save(
    model: &Model,
    activate: bool,
) -> Result<crate::destination::Destination, String> {
    if let Some((field, error)) = model.configure.errors.first() {
        return Err(format!(
            "{}: {error}",
            crate::tui::view::field_label(model, *field)
        ));
    }
    let mut dest = model.dest.clone();
    let target = PathBuf::from(model.save.path.value().trim());
    let same_folder = |a: Option<&std::path::Path>, b: Option<&std::path::Path>| {
        let canonical = |p: Option<&std::path::Path>| {
            let p = p
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        };
        canonical(a) == canonical(b)
    };
    if !model.source_edited
        && dest.source.path.is_relative()
        && let Some(original) = &model.dest_path
        && !same_folder(original.parent(), target.parent())
    {
        // Saved elsewhere, a relative source path would point at another file: keep the dataset.
        let resolved = resolve_source(&dest.source.path, Some(original));
        dest.source.path = std::path::absolute(&resolved).unwrap_or(resolved);
    }
    if (model.source_edited || model.dest_path.is_none()) && dest.source.path.is_relative() {
        // A path typed relative to where the wizard runs would break once the file is used from
        // elsewhere; an absolute one keeps meaning the same dataset.
        if let Ok(absolute) = std::path::absolute(&dest.source.path) {
            dest.source.path = absolute;
        }
    }
    dest.status = if activate {
        Status::Active
    } else {
        Status::Paused
    };
    dest.check().map_err(|problems| {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.key(), p.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    crate::request::Plan::new(&dest, &model.base_url()).map_err(|e| e.to_string())?;
    Ok(dest)
}

fn save(model: &mut Model, activate: bool) -> Vec<Cmd> {
    let path = PathBuf::from(model.save.path.value().trim());
    if path.as_os_str().is_empty() {
        model.save.error = Some("choose where to save the destination file".into());
        return Vec::new();
    }
    let dest = match destination_to_save(model, activate) {
        Ok(d) => d,
        Err(e) => {
            model.save.error = Some(e);
            return Vec::new();
        }
    };
    let credential = if model.is_new_credential() || model.credential_is_ephemeral() {
        model.chosen_credential().ok()
    } else {
        None
    };
    model.save.error = None;
    model.save.pending_text = Some(match &model.original_text {
        Some(original) => dest.to_toml_over(original),
        None => dest.to_toml(),
    });
    vec![Cmd::Save {
        path,
        destination: Box::new(dest),
        original: model.original_text.clone(),
        credential,
    }]
}

fn start_run(model: &mut Model) -> Vec<Cmd> {
    let Some((path, Status::Active)) = model.save.saved.clone() else {
        model.save.error = Some("save and activate the destination first".into());
        return Vec::new();
    };
    let credential = match model.chosen_credential() {
        Ok(c) => c,
        Err(e) => {
            model.save.error = Some(e);
            return Vec::new();
        }
    };
    let id = model.next_task();
    model.save.run = Run::Running {
        id,
        progress: Default::default(),
    };
    model.focus = Field::StopRun;
    vec![Cmd::StartRun {
        id,
        dest_path: path,
        credential,
    }]
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

fn on_mouse(model: &mut Model, mouse: MouseEvent) -> Vec<Cmd> {
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {}
        MouseEventKind::ScrollDown if model.step == Step::Configure => {
            model.pane.body.scroll_by(3);
            return Vec::new();
        }
        MouseEventKind::ScrollUp if model.step == Step::Configure => {
            model.pane.body.scroll_by(-3);
            return Vec::new();
        }
        _ => return Vec::new(),
    }
    if model.help {
        model.help = false;
        return Vec::new();
    }
    let layout = crate::tui::view::layout(model);
    let (x, y) = (mouse.column, mouse.row);
    let at = ratatui::layout::Position::new(x, y);
    // A click in an open pulldown's list chooses that option.
    let focus = model.focus;
    if let Some(field_rect) = layout.rect_of(focus) {
        let screen = ratatui::layout::Rect::new(0, 0, model.width, model.height);
        if let Some(pulldown) = pulldown_mut(model, focus)
            && pulldown.is_open()
        {
            let popup = pulldown.popup_area(field_rect, screen);
            if popup.contains(at) {
                let row = y.saturating_sub(popup.y + 1) as usize;
                if pulldown.click_option(row) == Outcome::Changed {
                    return on_changed(model, focus);
                }
                return Vec::new();
            }
        }
    }
    for (index, (step_rect, _)) in layout.steps.iter().enumerate() {
        if step_rect.contains(at) {
            return go_to(model, index);
        }
    }
    let Some(field) = layout.field_at(at) else {
        return Vec::new();
    };
    model.focus = field;
    match field {
        Field::Tabs => {
            let spans = model
                .configure
                .tabs
                .title_spans(layout.rect_of(Field::Tabs).map(|r| r.x).unwrap_or(0));
            if let Some(index) = spans.iter().position(|(a, b)| x >= *a && x < *b) {
                model.configure.tabs.select(index);
            }
            Vec::new()
        }
        Field::MapMore(_) | Field::MapRemove(_) => press(model, field),
        Field::MapOptional(i) => {
            let outcome = model
                .configure
                .mapping
                .get_mut(i)
                .map(|r| r.optional.toggle())
                .unwrap_or(Outcome::Ignored);
            if outcome == Outcome::Changed {
                on_changed(model, field)
            } else {
                Vec::new()
            }
        }
        Field::CredAdvanced | Field::Batching => {
            let outcome = if field == Field::Batching {
                model.configure.batching.toggle()
            } else {
                model.credential.advanced.toggle()
            };
            if outcome == Outcome::Changed {
                on_changed(model, field)
            } else {
                Vec::new()
            }
        }
        Field::Exclude => {
            let rect = layout.rect_of(Field::Exclude).unwrap_or_default();
            let rows = rect.height.saturating_sub(1) as usize;
            if y > rect.y {
                let index = model.configure.exclude.offset(rows) + (y - rect.y - 1) as usize;
                if model.configure.exclude.toggle_visible(index) == Outcome::Changed {
                    return on_changed(model, field);
                }
            }
            Vec::new()
        }
        Field::Pane => {
            if let Some(index) = layout.sample_at(y) {
                model.pane.selected = index;
                pane::load_selected_body(model);
            }
            Vec::new()
        }
        Field::Verify
        | Field::Back
        | Field::Next
        | Field::Save
        | Field::SaveActivate
        | Field::StartRun
        | Field::StopRun => press(model, field),
        _ => {
            if let Some(pulldown) = pulldown_mut(model, field) {
                pulldown.open();
            }
            Vec::new()
        }
    }
}

/// Messages the runtime sends once, right after start: read the dataset named at start.
pub fn start(model: &mut Model) -> Vec<Cmd> {
    inspect(model)
}

impl Model {
    /// The chosen credential exists only in this process (the embedded sandbox's), so saving
    /// the destination also saves it, or the file would name a credential nobody has.
    pub fn credential_is_ephemeral(&self) -> bool {
        !self.is_new_credential()
            && self.ephemeral_credential.as_deref() == Some(self.credential.pick.selected_label())
    }
}

pub fn saved(model: &mut Model, result: Result<(PathBuf, Status), String>) {
    match result {
        Ok((path, status)) => {
            model.dest.status = status;
            model.dest_path = Some(path.clone());
            model.notice = Some((Level::Ok, format!("saved {} ({status})", path.display())));
            model.save.saved = Some((path, status));
            model.save.error = None;
            if let Some(text) = model.save.pending_text.take() {
                model.original_text = Some(text);
            }
            if status == Status::Active {
                model.focus = Field::StartRun;
            }
        }
        Err(e) => model.save.error = Some(e),
    }
}
