//! Drawing: the step indicator, the current step's form, the sample pane, the help bar and the
//! help page. [`layout`] places every field; the same layout answers mouse clicks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::client::PingOutcome;
use crate::destination::Mode;
use crate::secret::MASK;
use crate::tui::focus;
use crate::tui::keys;
use crate::tui::overlay;
use crate::tui::model::*;
use crate::tui::sections::Tone;
pub use crate::tui::areas::Layout;
use crate::tui::form::{field_label, pulldown_ref, text_input_ref};
use crate::tui::widgets::clip;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// One row of a form: a field with its label, or lines of information.
#[derive(Debug, Clone)]
enum Row {
    Field {
        field: Field,
        label: String,
        height: u16,
    },
    Info(Vec<Line<'static>>),
    /// A mapping entry: its target, then source and value or transform, and the options toggle.
    Mapping {
        index: usize,
    },
}

/// How a mapping row fares in the samples, as the request builder judged them: a mark and
/// its style. A reason names the field or entry it is about in backticks.
fn mapping_status(model: &Model, row: &MappingRow) -> (&'static str, ratatui::style::Style, usize) {
    let t = &model.theme;
    let quoted = format!("`{}", row.target);
    let concerns = |reason: &str| {
        reason.match_indices(&quoted).any(|(at, _)| {
            let rest = &reason[at + quoted.len()..];
            rest.starts_with('`')
                || (row.is_field && (rest.starts_with('[') || rest.starts_with('.')))
        })
    };
    let invalid = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Invalid { reason, .. } if concerns(reason)))
        .count();
    let covered = row.is_set() || row.sub_entries > 0;
    if invalid > 0 {
        ("✗ ", t.error, invalid)
    } else if covered && !model.pane.samples.is_empty() {
        ("✓ ", t.ok, 0)
    } else if row.required {
        ("✗ ", t.error, 0)
    } else {
        ("  ", t.dim, 0)
    }
}

fn field_row(model: &Model, field: Field) -> Row {
    let height = if field == Field::Exclude { 6 } else { 1 };
    Row::Field {
        field,
        label: field_label(model, field),
        height,
    }
}

fn info(model: &Model, text: impl Into<String>, style: ratatui::style::Style) -> Row {
    let _ = model;
    Row::Info(vec![Line::styled(text.into(), style)])
}

fn rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    let fields = focus::form_fields(model);
    for field in fields {
        match field {
            Field::Credential => {
                rows.push(field_row(model, field));
                if !model.is_new_credential()
                    && let Ok(c) = model.chosen_credential()
                {
                    let kind = c.kind.scheme();
                    rows.push(info(
                        model,
                        format!("  {} · {kind} · token {}", c.base_url, c.token_origin()),
                        t.dim,
                    ));
                }
            }
            Field::Verify => {
                rows.push(field_row(model, field));
            }
            Field::Endpoint => {
                rows.push(field_row(model, field));
                if let Some(template) = model.template() {
                    rows.push(info(model, format!("  {}", template.description), t.dim));
                }
                if let Some(e) = model.error_for(Field::Endpoint) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
            Field::MapSource(i) => {
                if i == 0 {
                    let (valid, invalid) = sample_counts(model);
                    rows.push(Row::Info(vec![Line::from(vec![
                        Span::styled("Field mapping ", t.label.add_modifier(Modifier::BOLD)),
                        Span::styled("(* required) ", t.dim),
                        Span::styled(format!("{valid} ok"), t.ok),
                        Span::styled(", ", t.dim),
                        Span::styled(
                            format!("{invalid} invalid"),
                            if invalid > 0 { t.error } else { t.dim },
                        ),
                        Span::styled(" in samples", t.dim),
                    ])]));
                }
                rows.push(Row::Mapping { index: i });
                if let Some(row) = model.configure.mapping.get(i) {
                    let (_, _, invalid) = mapping_status(model, row);
                    if invalid > 0 {
                        let reason = model.pane.samples.iter().find_map(|s| match s {
                            Sample::Invalid { reason, .. } if reason.contains(&row.target) => {
                                Some(reason.clone())
                            }
                            _ => None,
                        });
                        rows.push(info(
                            model,
                            format!(
                                "  ✗ {invalid} sample{} invalid: {}",
                                if invalid == 1 { "" } else { "s" },
                                reason.unwrap_or_default()
                            ),
                            t.error,
                        ));
                    } else if row.required && !row.is_set() && row.sub_entries == 0 {
                        rows.push(info(
                            model,
                            "  ✗ required: pick a source, or add entries for its parts",
                            t.error,
                        ));
                    }
                }
            }
            // Drawn on their source's line.
            Field::MapTransform(_) | Field::MapConstant(_) | Field::MapMore(_) => {}
            Field::MapAdd => {
                if model.configure.mapping.is_empty() {
                    rows.push(Row::Info(vec![Line::from(vec![
                        Span::styled("Field mapping ", t.label.add_modifier(Modifier::BOLD)),
                        Span::styled("none: each body is the record itself", t.dim),
                    ])]));
                }
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
            Field::TemplateParam(i) => {
                rows.push(field_row(model, field));
                if let (Some(template), Some((name, _))) =
                    (model.template(), model.configure.parameters.get(i))
                    && let Some(parameter) = template.parameters.iter().find(|p| &p.name == name)
                {
                    rows.push(info(
                        model,
                        format!(
                            "  {} (default {})",
                            parameter.description, parameter.default
                        ),
                        t.dim,
                    ));
                }
            }
            Field::Setting(id) => {
                if let Some(section) = model.section_of(id)
                    && section.starts_with(id)
                {
                    rows.push(Row::Info(vec![Line::styled(
                        section.title,
                        t.label.add_modifier(Modifier::BOLD),
                    )]));
                }
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
                if let Some(setting) = model.setting(id) {
                    for note in setting.notes(&model.dest) {
                        let style = match note.tone {
                            Tone::Explain => t.dim,
                            Tone::Warn => t.warn,
                        };
                        rows.push(info(model, format!("  {}", note.text), style));
                    }
                }
            }
            Field::Batching => {
                rows.push(field_row(model, field));
            }
            Field::SaveActivate => {
                rows.push(field_row(model, field));
                rows.extend(save_status_rows(model));
            }
            _ => {
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
        }
        if field == Field::DatasetPath {
            rows.extend(dataset_rows(model));
        }
        if field == Field::Verify {
            rows.push(Row::Info(vec![verify_line(model)]));
        }
        if field == Field::Tabs
            && model.configure.tabs.selected() == 0
            && model.dest.mode == Mode::Manual
        {
            rows.push(info(
                model,
                "Manual mode: the Advanced tab holds every setting.",
                t.dim,
            ));
        }
        if field == Field::SavePath {
            rows.extend(summary_rows(model));
        }
    }
    if model.step == Step::Save {
        rows.extend(run_rows(model));
    }
    rows
}

fn sample_counts(model: &Model) -> (usize, usize) {
    let invalid = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Invalid { .. }))
        .count();
    (model.pane.samples.len() - invalid, invalid)
}

fn dataset_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    match (&model.source.inspect, &model.source.dataset) {
        (Inspect::Running(_), _) => {
            rows.push(info(model, format!("  {} reading…", spinner(model)), t.dim))
        }
        (Inspect::Failed(e), _) => rows.push(info(model, format!("  ✗ {e}"), t.error)),
        (Inspect::Idle, Some(dataset)) => {
            let count = match &model.source.count {
                Count::Known(n) => format!("{n} records"),
                Count::Counting(_) => format!("{} counting records…", spinner(model)),
                Count::Skipped => "record count skipped (large file)".into(),
                Count::Failed(e) => format!("count failed: {e}"),
                Count::Unknown => String::new(),
            };
            rows.push(Row::Info(vec![Line::from(vec![
                Span::styled("  format ", t.dim),
                Span::styled(dataset.format.as_str().to_string(), t.ok),
                Span::styled(" · ", t.dim),
                Span::styled(count, t.text),
                Span::styled(format!(" · {} attributes", dataset.attributes.len()), t.dim),
            ])]));
            let list = dataset.attributes.join(", ");
            rows.push(info(model, format!("  {list}"), t.dim));
        }
        (Inspect::Idle, None) => {}
    }
    rows
}

fn verify_line(model: &Model) -> Line<'static> {
    let t = &model.theme;
    match &model.credential.verify {
        Verify::Idle => Line::styled("  Verify calls GET /v1/ping with this credential.", t.dim),
        Verify::Running(_) => Line::styled(
            format!("  {} calling GET /v1/ping…", spinner(model)),
            t.warn,
        ),
        Verify::Done(PingOutcome::Ok { latency }) => Line::styled(
            format!(
                "  ✓ credential works: GET /v1/ping answered 200 in {} ms",
                latency.as_millis()
            ),
            t.ok,
        ),
        Verify::Done(PingOutcome::MissingHeader) => Line::styled(
            "  ✗ 401: no usable Authorization header reached the API (is the base URL right?)",
            t.error,
        ),
        Verify::Done(PingOutcome::Refused) => Line::styled(
            "  ✗ 403: the API ID and token were refused; check both",
            t.error,
        ),
        Verify::Done(PingOutcome::Unexpected { status, body }) => {
            Line::styled(format!("  ✗ unexpected answer {status}: {body}"), t.error)
        }
        Verify::Done(PingOutcome::Unreachable { message }) => {
            Line::styled(format!("  ✗ unreachable: {message}"), t.error)
        }
        Verify::Done(PingOutcome::Token { message }) => {
            Line::styled(format!("  ✗ {message}"), t.error)
        }
    }
}

fn summary_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let d = &model.dest;
    let what = match &d.template {
        Some(reference) => format!("template {} / {}", reference.id, reference.resource),
        None => "manual settings".into(),
    };
    let batching = if d.batching.enabled {
        format!(
            "batches of {} ({})",
            d.batching.max_records,
            d.batching.algorithm.as_str()
        )
    } else {
        "one request per record".into()
    };
    vec![
        info(
            model,
            format!("  {} {} · {what}", d.request.method, d.request.url),
            t.dim,
        ),
        info(
            model,
            format!("  credential {:?} · {batching}", d.credential),
            t.dim,
        ),
    ]
}

fn save_status_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    if let Some(e) = &model.save.error {
        rows.push(Row::Info(vec![Line::styled(format!("✗ {e}"), t.error)]));
    }
    if let Some((path, status)) = &model.save.saved {
        rows.push(info(
            model,
            format!("✓ saved {} as {status}", path.display()),
            t.ok,
        ));
    }
    rows
}

fn run_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let progress_line = |p: &crate::tui::msg::RunProgress| {
        let total = p.total.map(|n| format!("/{n}")).unwrap_or_default();
        let eta = p
            .eta_secs
            .map(|s| format!(" · ETA {}m{:02}s", s / 60, s % 60))
            .unwrap_or_default();
        let rate = if p.per_minute > 0.0 {
            format!("{:.0}/min", p.per_minute)
        } else {
            "rate —".to_string()
        };
        format!(
            "read {}{total} · sent {} · delivered {} · rejected {} · invalid {} · {rate}{eta}",
            p.read, p.sent, p.delivered, p.rejected, p.invalid
        )
    };
    match &model.save.run {
        Run::Idle => Vec::new(),
        Run::Running { progress, .. } => vec![
            info(model, format!("{} running…", spinner(model)), t.warn),
            info(model, progress_line(progress), t.text),
        ],
        Run::Finished(Ok(p)) => {
            let mut rows = vec![
                info(
                    model,
                    if p.done {
                        "✓ run finished"
                    } else {
                        "■ run stopped"
                    },
                    t.ok,
                ),
                info(model, progress_line(p), t.text),
            ];
            if let Some(note) = &p.note {
                rows.push(info(model, note.clone(), t.dim));
            }
            rows
        }
        Run::Finished(Err(e)) => vec![info(model, format!("✗ run failed: {e}"), t.error)],
    }
}

fn spinner(model: &Model) -> &'static str {
    SPINNER[(model.tick % SPINNER.len() as u64) as usize]
}

/// Places everything for the model's size.
pub fn layout(model: &Model) -> Layout {
    let screen = Rect::new(0, 0, model.width, model.height);
    let mut layout = Layout::default();
    if screen.height < 6 || screen.width < 20 {
        return layout;
    }
    // Step indicator.
    let mut x = 1 + "aircall-dest ".len() as u16;
    for step in Step::ALL {
        let text = step_text(step, screen.width);
        let width = text.chars().count() as u16;
        layout.steps.push((
            Rect::new(x, 0, width.min(screen.width.saturating_sub(x)), 1),
            step,
        ));
        x = (x + width + 3).min(screen.width);
    }
    layout.help_bar = Rect::new(0, screen.height - 1, screen.width, 1);
    layout.notice = Rect::new(0, screen.height - 2, screen.width, 1);
    let body = Rect::new(0, 2, screen.width, screen.height.saturating_sub(5));
    let buttons_y = screen.height - 3;
    let (form, pane) = if model.step == Step::Configure {
        let form_width = form_width(model);
        (
            Rect::new(body.x, body.y, form_width, body.height),
            Some(Rect::new(
                form_width + 1,
                body.y,
                screen.width - form_width - 1,
                body.height + 1,
            )),
        )
    } else {
        (body, None)
    };
    layout.form = form;
    layout.pane = pane;
    // Back / Next, right-aligned under the form; on a very narrow form they shrink to arrows,
    // and a button with no room left is not drawn (Ctrl-N / Ctrl-B still work).
    let order = focus::order(model);
    let buttons: Vec<Field> = [Field::Next, Field::Back]
        .into_iter()
        .filter(|f| order.contains(f))
        .collect();
    let compact = compact_buttons(model);
    let mut right = form.right().saturating_sub(1);
    for field in buttons {
        let width = if compact {
            3
        } else {
            field_label(model, field).chars().count() as u16 + 4
        };
        if right < form.x + width {
            break;
        }
        let x = right - width;
        layout
            .fields
            .push((field, Rect::new(x, buttons_y, width, 1)));
        right = x.saturating_sub(if compact { 1 } else { 2 });
    }
    // Form rows, scrolled so the focused field is visible.
    let info_width_cols = form.width.saturating_sub(2) as usize;
    let rows: Vec<Row> = rows(model)
        .into_iter()
        .map(|row| match row {
            Row::Info(lines) => Row::Info(indent_wrapped(lines, info_width_cols)),
            other => other,
        })
        .collect();
    let label_width = (form.width / 3).clamp(8, 18);
    let mut heights = Vec::new();
    let info_width = form.width.saturating_sub(2).max(1) as usize;
    // Mapping targets get the label room they need: a long one takes a line of its own, and
    // on a narrow form every entry does, its source and transform indented below it.
    let content = form.width.saturating_sub(2);
    let map_label_col = (content * 2 / 5).max(label_width);
    let all_two_lines = form.right().saturating_sub(form.x + 1 + map_label_col + 2) < 28;
    let two_lines = |index: usize| {
        all_two_lines
            || model
                .configure
                .mapping
                .get(index)
                .is_some_and(|r| mapping_label(r).chars().count() as u16 + 2 > map_label_col)
    };
    for row in &rows {
        heights.push(match row {
            Row::Mapping { index } => 1 + u16::from(two_lines(*index)),
            Row::Field { height, .. } => *height,
            Row::Info(lines) => lines
                .iter()
                .map(|l| (l.width().max(1).div_ceil(info_width)) as u16)
                .sum::<u16>()
                .min(4),
        });
    }
    let mut focus_bottom = 0;
    let mut y = 0u16;
    for (row, h) in rows.iter().zip(&heights) {
        y += h;
        if let Row::Field { field, .. } = row
            && *field == model.focus
        {
            focus_bottom = y;
        }
        if let Row::Mapping { index } = row
            && matches!(model.focus,
                Field::MapSource(i) | Field::MapTransform(i) | Field::MapConstant(i) | Field::MapMore(i)
                if i == *index)
        {
            focus_bottom = y;
        }
        // The lines under the focused field (its error, its explanation) come into view with it.
        if focus_bottom > 0 && focus_bottom == y - h && matches!(row, Row::Info(_)) {
            focus_bottom = y;
        }
    }
    let scroll = focus_bottom.saturating_sub(form.height);
    let mut y = 0u16;
    for (row, h) in rows.into_iter().zip(heights) {
        let top = y;
        y += h;
        if top < scroll || y - scroll > form.height {
            continue;
        }
        let ry = form.y + top - scroll;
        match row {
            Row::Field {
                field,
                label,
                height,
            } => {
                let is_button = matches!(
                    field,
                    Field::Verify
                        | Field::Save
                        | Field::SaveActivate
                        | Field::StartRun
                        | Field::StopRun
                        | Field::Tabs
                        | Field::CredAdvanced
                        | Field::Batching
                        | Field::MapOptional(_)
                        | Field::MapRemove(_)
                );
                if is_button {
                    let width = match field {
                        Field::Tabs | Field::CredAdvanced | Field::Batching => {
                            form.width.saturating_sub(1)
                        }
                        Field::MapOptional(_) => form.width.saturating_sub(label_width + 2),
                        _ => button_text(model, field).chars().count() as u16,
                    };
                    let x = if matches!(
                        field,
                        Field::Batching | Field::MapOptional(_) | Field::MapRemove(_)
                    ) {
                        form.x + 1 + label_width + 1
                    } else {
                        form.x + 1
                    };
                    if matches!(field, Field::Batching | Field::MapOptional(_)) {
                        layout.labels.push((
                            Rect::new(form.x + 1, ry, label_width, 1),
                            field,
                            label,
                        ));
                    }
                    layout.fields.push((
                        field,
                        Rect::new(x, ry, width.min(form.right().saturating_sub(x)), height),
                    ));
                } else {
                    layout
                        .labels
                        .push((Rect::new(form.x + 1, ry, label_width, 1), field, label));
                    let x = form.x + 1 + label_width + 1;
                    let width = form.right().saturating_sub(x + 1);
                    layout.fields.push((field, Rect::new(x, ry, width, height)));
                }
            }
            Row::Mapping { index } => {
                let Some(row) = model.configure.mapping.get(index) else {
                    continue;
                };
                let two = two_lines(index);
                let (mark, mark_style, _) = mapping_status(model, row);
                layout.infos.push((
                    Rect::new(form.x + 1, ry, 2, 1),
                    vec![Line::styled(mark, mark_style)],
                ));
                let (label_rect, wy, wx) = if two {
                    let wx = if all_two_lines {
                        form.x + 3
                    } else {
                        form.x + 1 + map_label_col + 1
                    };
                    (
                        Rect::new(form.x + 3, ry, content.saturating_sub(2), 1),
                        ry + 1,
                        wx,
                    )
                } else {
                    (
                        Rect::new(form.x + 3, ry, map_label_col.saturating_sub(2), 1),
                        ry,
                        form.x + 1 + map_label_col + 1,
                    )
                };
                layout
                    .labels
                    .push((label_rect, Field::MapSource(index), mapping_label(row)));
                let width = form.right().saturating_sub(wx + 1);
                let rest = width.saturating_sub(4);
                if row.is_set() {
                    let source = rest * 11 / 20;
                    layout
                        .fields
                        .push((Field::MapSource(index), Rect::new(wx, wy, source, 1)));
                    let second = if row.is_constant() {
                        Field::MapConstant(index)
                    } else {
                        Field::MapTransform(index)
                    };
                    layout.fields.push((
                        second,
                        Rect::new(wx + source + 1, wy, rest.saturating_sub(source + 1), 1),
                    ));
                } else {
                    layout
                        .fields
                        .push((Field::MapSource(index), Rect::new(wx, wy, rest, 1)));
                }
                layout
                    .fields
                    .push((Field::MapMore(index), Rect::new(wx + rest + 1, wy, 3, 1)));
            }
            Row::Info(lines) => layout.infos.push((
                Rect::new(form.x + 1, ry, form.width.saturating_sub(2), h),
                lines,
            )),
        }
    }
    if let Some(pane) = pane {
        layout.fields.push((
            if model.pane.test == TestState::Editing {
                Field::Editor
            } else {
                Field::Pane
            },
            pane,
        ));
        layout.samples = sample_rows(model, pane);
    }
    layout
}

/// The form's width: the whole screen, or its left part beside the sample pane.
fn form_width(model: &Model) -> u16 {
    if model.step != Step::Configure {
        model.width
    } else if model.width >= 120 {
        model.width * 45 / 100
    } else {
        model.width / 2
    }
}

/// Whether Back and Next are drawn as arrows, the form being too narrow for their labels.
fn compact_buttons(model: &Model) -> bool {
    let order = focus::order(model);
    let full: u16 = [Field::Next, Field::Back]
        .into_iter()
        .filter(|f| order.contains(f))
        .map(|f| field_label(model, f).chars().count() as u16 + 6)
        .sum();
    full > form_width(model).saturating_sub(1)
}

fn mapping_label(row: &MappingRow) -> String {
    format!("{}{}", row.target, if row.required { "*" } else { "" })
}

fn step_text(step: Step, width: u16) -> String {
    let n = step.index() + 1;
    if width >= 100 {
        format!("{n} {}", step.title())
    } else {
        format!("{n} {}", step.title().split(' ').next().unwrap_or(""))
    }
}

fn button_text(model: &Model, field: Field) -> String {
    match field {
        Field::Verify => match model.credential.verify {
            Verify::Running(_) => format!("[ {} Verifying ]", spinner(model)),
            _ => "[ Verify ]".into(),
        },
        Field::Save => "[ Save (paused) ]".into(),
        Field::SaveActivate => "[ Save & Activate ]".into(),
        Field::StartRun => "[ Start the run now ]".into(),
        Field::StopRun => "[ Stop the run ]".into(),
        Field::MapMore(i) => {
            if model.configure.mapping.get(i).is_some_and(|r| r.expanded) {
                "[▴]".into()
            } else {
                "[⋯]".into()
            }
        }
        Field::MapRemove(_) => "[ Remove this entry ]".into(),
        Field::Back | Field::Next if compact_buttons(model) => if field == Field::Back {
            "[‹]"
        } else {
            "[›]"
        }
        .into(),
        other => format!("[ {} ]", field_label(model, other)),
    }
}

/// Draws the whole screen.
/// Draws the wizard.
pub fn view(model: &Model, frame: &mut Frame) {
    draw(model, frame);
}

/// Draws the wizard and returns where everything went, for mouse clicks on this frame.
pub fn draw(model: &Model, frame: &mut Frame) -> Layout {
    let screen = frame.area();
    let t = &model.theme;
    if screen.height < 6 || screen.width < 20 {
        frame.render_widget(Paragraph::new("window too small").style(t.warn), screen);
        return Layout::default();
    }
    let mut model_at_size = std::borrow::Cow::Borrowed(model);
    if model.width != screen.width || model.height != screen.height {
        let mut resized = model.clone();
        resized.width = screen.width;
        resized.height = screen.height;
        model_at_size = std::borrow::Cow::Owned(resized);
    }
    let model = model_at_size.as_ref();
    let layout = layout(model);
    // Title and steps.
    let mut spans = vec![Span::styled(
        " aircall-dest ",
        t.label.add_modifier(Modifier::BOLD),
    )];
    for (i, (_, step)) in layout.steps.iter().enumerate() {
        let style = if *step == model.step {
            t.step_current
        } else if *step < model.step {
            t.step_done
        } else {
            t.step_todo
        };
        spans.push(Span::styled(step_text(*step, screen.width), style));
        if i + 1 < layout.steps.len() {
            spans.push(Span::styled(" › ", t.dim));
        }
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)),
        Rect::new(0, 0, screen.width, 1),
    );
    frame.render_widget(
        Block::default()
            .borders(ratatui::widgets::Borders::TOP)
            .border_style(t.border),
        Rect::new(0, 1, screen.width, 1),
    );
    // Labels, infos, fields.
    for (rect, field, label) in &layout.labels {
        // A mapping target lights up while any widget of its line has the focus.
        let on_its_line = matches!((field, model.focus),
            (Field::MapSource(a), Field::MapTransform(b) | Field::MapConstant(b) | Field::MapMore(b))
            if *a == b);
        let style = if *field == model.focus || on_its_line {
            t.focused_label
        } else {
            t.label
        };
        frame.render_widget(
            Paragraph::new(Span::styled(clip(label, rect.width as usize), style)),
            *rect,
        );
    }
    for (rect, lines) in &layout.infos {
        frame.render_widget(
            Paragraph::new(lines.clone()).wrap(Wrap { trim: false }),
            *rect,
        );
    }
    for (field, rect) in &layout.fields {
        draw_field(model, frame, *field, *rect);
    }
    // Notice and help bar.
    if let Some((level, text)) = &model.notice {
        let style = match level {
            Level::Info => t.text,
            Level::Ok => t.ok,
            Level::Error => t.error,
        };
        frame.render_widget(
            Paragraph::new(Span::styled(clip(text, screen.width as usize), style)),
            layout.notice,
        );
    }
    frame.render_widget(
        Paragraph::new(help_bar(model, screen.width)),
        layout.help_bar,
    );
    // Popups last, over everything.
    if let Some(rect) = layout.rect_of(model.focus) {
        if let Some(pulldown) = pulldown_ref(model, model.focus) {
            pulldown.render_popup(frame, rect, t);
        }
        if let Some(input) = text_input_ref(model, model.focus) {
            input.render_popup(frame, rect, t);
        }
    }
    if model.help {
        overlay::draw_help(model, frame);
    }
    if model.quit_asked {
        overlay::draw_quit_question(model, frame);
    }
    layout
}

fn help_bar(model: &Model, width: u16) -> Line<'static> {
    let t = &model.theme;
    let mut spans = Vec::new();
    let mut used = 0usize;
    for hint in keys::live(model) {
        let piece = hint.keys.chars().count() + hint.action.chars().count() + 3;
        if used + piece > width as usize {
            break;
        }
        used += piece;
        spans.push(Span::styled(format!(" {}", hint.keys), t.key));
        spans.push(Span::styled(format!(" {} ", hint.action), t.dim));
    }
    Line::from(spans)
}

fn draw_field(model: &Model, frame: &mut Frame, field: Field, rect: Rect) {
    let t = &model.theme;
    let focused = model.focus == field;
    match field {
        Field::Pane | Field::Editor => draw_pane(model, frame, rect),
        Field::Tabs => model.configure.tabs.render(frame, rect, focused, t),
        Field::CredAdvanced => model.credential.advanced.render(frame, rect, focused, t),
        Field::Batching => model.configure.batching.render(frame, rect, focused, t),
        Field::MapOptional(i) => {
            if let Some(row) = model.configure.mapping.get(i) {
                row.optional.render(frame, rect, focused, t);
            }
        }
        Field::Exclude => model.configure.exclude.render(frame, rect, focused, t),
        Field::Verify
        | Field::Back
        | Field::Next
        | Field::Save
        | Field::SaveActivate
        | Field::StartRun
        | Field::StopRun
        | Field::MapMore(_)
        | Field::MapRemove(_) => {
            let style = if focused { t.focused_button } else { t.button };
            frame.render_widget(
                Paragraph::new(Span::styled(button_text(model, field), style)),
                rect,
            );
        }
        _ => {
            if let Some(input) = text_input_ref(model, field) {
                input.render(frame, rect, focused, t);
            } else if let Some(pulldown) = pulldown_ref(model, field) {
                // A short choice in a wide field reads better in a box of its own size.
                let width = rect.width.min(40);
                pulldown.render(frame, Rect { width, ..rect }, focused, t);
            }
        }
    }
}

/// Which samples the pane lists and the rows each takes.
/// What Send Test does to real data, for the selected request: `(before, after a 2xx)`.
/// `None` when sending it changes nothing (GET).
pub fn test_warning(model: &Model) -> Option<(String, String)> {
    let Some(Sample::Request { request, .. }) = model.pane.samples.get(model.pane.selected) else {
        return None;
    };
    let noun = match model.resource() {
        Some(resource) => {
            let name = resource.name.to_lowercase();
            name.strip_suffix('s').map(str::to_string).unwrap_or(name)
        }
        None => "object".to_string(),
    };
    let host = reqwest::Url::parse(&request.url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_default();
    let records = records_text(&request.records);
    let record = if request.records.len() == 1 {
        format!("record {records}")
    } else {
        format!("records {records}")
    };
    use crate::destination::Method;
    // A template says what its POSTs do (Aircall updates contacts with POST), as long as the
    // request still uses the template's method; a method changed on the Advanced tab says
    // itself what the request does.
    let template_method = model
        .dest
        .template
        .as_ref()
        .and_then(|t| crate::templates::resolve(t).ok())
        .map(|r| r.request.method);
    let template = model
        .template()
        .filter(|_| template_method == Some(request.method));
    let effect = match template.map(|t| t.id.as_str()) {
        Some("create_records") => Method::Post,
        Some("update_records") => Method::Put,
        Some("delete_records") => Method::Delete,
        _ => request.method,
    };
    Some(match effect {
        Method::Get => return None,
        Method::Post if template.is_some_and(|t| t.id != "create_records") => (
            format!(
                "⚠ Send Test (Ctrl-S) changes real data at {host} with {record}: {}.",
                template.map(|t| t.name.to_lowercase()).unwrap_or_default()
            ),
            format!(
                "{record} took effect at Aircall; the run sends it again unless you remove it \
                 from the dataset."
            ),
        ),
        Method::Post => (
            format!(
                "⚠ Send Test (Ctrl-S) creates a real {noun} at {host}: the run will create it again \
                 unless you remove {record} from the dataset."
            ),
            format!(
                "A real {noun} now exists for {record}: the run will create another unless you \
                 remove {record} from the dataset."
            ),
        ),
        Method::Put | Method::Patch => (
            format!("⚠ Send Test (Ctrl-S) changes a real {noun} at {host} with {record}."),
            format!("The real {noun} of {record} is changed; the run sends the same change again."),
        ),
        Method::Delete => (
            format!("⚠ Send Test (Ctrl-S) deletes a real {noun} at {host} ({record})."),
            format!("The {noun} of {record} is deleted; the run will find it gone (404)."),
        ),
    })
}

/// Lines the Send Test warning takes at the bottom of the pane.
fn warning_height(model: &Model, inner: Rect) -> u16 {
    if model.pane.test != TestState::Idle {
        return 0;
    }
    let height = test_warning(model).map_or(0, |(text, _)| {
        (wrap_words(&text, inner.width as usize).len() as u16).min(4)
    });
    // A short pane keeps its room for the samples; the warning returns as it grows.
    if inner.height < height + 6 { 0 } else { height }
}

/// Wraps one-style lines by hand so their continuation lines keep the first line's indent;
/// lines of several styles are left to the paragraph's own wrapping.
fn indent_wrapped(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for line in lines {
        if line.spans.len() != 1 || line.width() <= width {
            out.push(line);
            continue;
        }
        let span = &line.spans[0];
        let style = span.style.patch(line.style);
        let text = span.content.to_string();
        let indent = text.len() - text.trim_start().len();
        let pad = " ".repeat(indent);
        for piece in wrap_words(&text, width.saturating_sub(indent).max(1)) {
            out.push(Line::styled(format!("{pad}{piece}"), style));
        }
    }
    out
}

/// `text` wrapped at word boundaries to `width` columns (a longer word is cut).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word.iter());
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line = word.into_iter().collect();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn sample_rows(model: &Model, pane: Rect) -> Vec<(usize, u16, u16)> {
    let inner = pane.inner(ratatui::layout::Margin::new(1, 1));
    let inner = Rect {
        height: inner.height.saturating_sub(warning_height(model, inner)),
        ..inner
    };
    let mut out = Vec::new();
    let detail = detail_height(model, inner);
    let mut y = inner.y;
    let first = model
        .pane
        .selected
        .saturating_sub((inner.height.saturating_sub(detail) as usize).saturating_sub(1));
    for i in first..model.pane.samples.len() {
        let h = if i == model.pane.selected {
            1 + detail
        } else {
            1
        };
        if y + h > inner.bottom() {
            break;
        }
        out.push((i, y, y + h));
        y += h;
    }
    out
}

fn detail_height(model: &Model, inner: Rect) -> u16 {
    let others = model.pane.samples.len().saturating_sub(1) as u16;
    if model.pane.expanded {
        inner.height.saturating_sub(1)
    } else {
        inner.height.saturating_sub(1 + others.min(4)).max(3)
    }
}

fn draw_pane(model: &Model, frame: &mut Frame, rect: Rect) {
    let t = &model.theme;
    let focused = matches!(model.focus, Field::Pane | Field::Editor);
    let requests = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Request { .. }))
        .count();
    let title = match &model.pane.test {
        TestState::Editing => " Edit body, then Ctrl-S to send ".to_string(),
        TestState::Sending { .. } => " Send test ".to_string(),
        TestState::Done(_) | TestState::Failed(_) => " Test response ".to_string(),
        TestState::Idle => format!(
            " Sample requests ({requests}{}) ",
            if model.pane.expanded {
                ", expanded"
            } else {
                ""
            }
        ),
    };
    let block = Block::bordered()
        .title(Line::styled(
            title,
            if focused { t.focused_label } else { t.label },
        ))
        .border_style(if focused { t.focused_border } else { t.border });
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    match &model.pane.test {
        TestState::Editing => {
            if let Some(editor) = &model.pane.editor {
                editor.render(frame, inner, model.focus == Field::Editor, t);
            }
            return;
        }
        TestState::Sending { started_tick, .. } => {
            let seconds = model.tick.saturating_sub(*started_tick) / 10;
            let lines = vec![
                Line::styled(
                    format!(
                        "{} sending sample {}… {seconds}s",
                        spinner(model),
                        model.pane.selected + 1
                    ),
                    t.warn,
                ),
                Line::styled("Esc cancels.", t.dim),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
            return;
        }
        TestState::Failed(e) => {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(format!("✗ {e}"), t.error),
                    Line::styled("Esc closes.", t.dim),
                ])
                .wrap(Wrap { trim: false }),
                inner,
            );
            return;
        }
        TestState::Done(response) => {
            let success = (200..300).contains(&response.status);
            let status_style = if success { t.ok } else { t.error };
            let mut lines = vec![Line::from(vec![
                Span::styled(
                    format!("{} ", response.status),
                    status_style.add_modifier(Modifier::BOLD),
                ),
                Span::styled(reason(response.status).to_string(), status_style),
                Span::styled(format!("  in {} ms", response.elapsed_ms), t.dim),
            ])];
            if success && let Some((_, after)) = test_warning(model) {
                // Wrapped by hand: the lines are counted to place the body below them.
                for line in wrap_words(&after, inner.width as usize) {
                    lines.push(Line::styled(line, t.warn));
                }
            }
            for (name, value) in response.headers.iter().take(6) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{name}: "), t.label),
                    Span::styled(clip(value, inner.width as usize), t.dim),
                ]));
            }
            let head = lines.len() as u16;
            frame.render_widget(Paragraph::new(lines), inner);
            let body = Rect::new(
                inner.x,
                inner.y + head.min(inner.height),
                inner.width,
                inner.height.saturating_sub(head),
            );
            model.pane.response.render(frame, body);
            return;
        }
        TestState::Idle => {}
    }
    if model.pane.samples.is_empty() {
        let text = model
            .pane
            .error
            .clone()
            .unwrap_or_else(|| "no records to show".into());
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.error)).wrap(Wrap { trim: false }),
            inner,
        );
        return;
    }
    let mut y_end = inner.y;
    for (index, top, bottom) in sample_rows(model, rect) {
        let selected = index == model.pane.selected;
        let sample = &model.pane.samples[index];
        let marker = if selected { "▸ " } else { "  " };
        let header = match sample {
            Sample::Request { request, .. } => Line::from(vec![
                Span::styled(marker, t.focused_label),
                Span::styled(format!("{} ", request.method), t.method),
                Span::styled(request.url.clone(), t.text),
                Span::styled(format!("  rec {}", records_text(&request.records)), t.dim),
            ]),
            Sample::Invalid {
                record,
                line,
                reason,
            } => Line::from(vec![
                Span::styled(marker, t.focused_label),
                Span::styled(format!("✗ record {record} (line {line}): "), t.error),
                Span::styled(reason.clone(), t.error),
            ]),
        };
        let header_style = if selected && focused {
            t.selected
        } else {
            t.text
        };
        frame.render_widget(
            Paragraph::new(header).style(if selected && focused {
                header_style
            } else {
                t.text
            }),
            Rect::new(inner.x, top, inner.width, 1),
        );
        if selected && bottom > top + 1 {
            let area = Rect::new(
                inner.x + 2,
                top + 1,
                inner.width.saturating_sub(2),
                bottom - top - 1,
            );
            draw_sample_detail(model, frame, sample, area);
        }
        y_end = bottom;
    }
    let warning = warning_height(model, inner);
    if warning > 0
        && let Some((text, _)) = test_warning(model)
    {
        let lines: Vec<Line> = wrap_words(&text, inner.width as usize)
            .into_iter()
            .map(|l| Line::styled(l, t.warn))
            .collect();
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(inner.x, inner.bottom() - warning, inner.width, warning),
        );
    }
    let inner = Rect {
        height: inner.height - warning,
        ..inner
    };
    if let Some(e) = &model.pane.error
        && y_end < inner.bottom()
    {
        frame.render_widget(
            Paragraph::new(Line::styled(clip(e, inner.width as usize), t.warn)),
            Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
        );
    }
}

fn records_text(records: &[crate::records::RecordNo]) -> String {
    match records {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first}–{last} ({})", records.len()),
    }
}

fn draw_sample_detail(model: &Model, frame: &mut Frame, sample: &Sample, area: Rect) {
    let t = &model.theme;
    let preview = match sample {
        Sample::Request { preview, .. } => preview,
        Sample::Invalid { reason, .. } => {
            // The header line clips a long reason; here it is whole.
            let lines: Vec<Line> = wrap_words(reason, area.width as usize)
                .into_iter()
                .map(|l| Line::styled(l, t.error))
                .collect();
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
    };
    let mut lines = Vec::new();
    if let Some(headers) = preview.get("headers").and_then(|h| h.as_object()) {
        for (name, value) in headers {
            let value = value.as_str().unwrap_or("");
            // The preview already masks the credential; keep any value holding the mask as is.
            let shown = if value.contains(MASK) {
                value.to_string()
            } else {
                clip(value, area.width as usize)
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{name}: "), t.label),
                Span::styled(shown, t.dim),
            ]));
        }
    }
    let head = (lines.len() as u16).min(area.height);
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(area.x, area.y, area.width, head),
    );
    let body = Rect::new(area.x, area.y + head, area.width, area.height - head);
    if body.height > 0 {
        if preview.get("body").is_none_or(|b| b.is_null()) {
            frame.render_widget(Paragraph::new(Line::styled("(no body)", t.dim)), body);
        } else {
            model.pane.body.render(frame, body);
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
