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
pub use crate::tui::areas::Layout;
use crate::tui::focus;
use crate::tui::form::{field_label, pulldown_ref, text_input_ref};
use crate::tui::keys;
use crate::tui::model::*;
use crate::tui::overlay;
use crate::tui::sections::Tone;
use crate::tui::widgets::clip;

mod placement;
mod rows;
mod run;
mod samples;
mod sync;
pub use placement::*;
use rows::*;
use run::*;
pub use samples::*;
use sync::*;

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
        Field::StopRun if model.save.stopping != Stopping::No => "[ Stop now ]".into(),
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
        Field::Setting(id) if model.setting(id).is_some_and(|s| s.checkbox().is_some()) => {
            if let Some(checkbox) = model.setting(id).and_then(|s| s.checkbox()) {
                checkbox.render(frame, rect, focused, t);
            }
        }
        Field::MapOptional(i) => {
            if let Some(row) = model.configure.mapping.get(i) {
                row.optional.render(frame, rect, focused, t);
            }
        }
        Field::Exclude => model
            .configure
            .request
            .exclude
            .render(frame, rect, focused, t),
        button
            if button.is_button() || matches!(button, Field::MapMore(_) | Field::MapRemove(_)) =>
        {
            // The primary button is the next step forward: once the file is saved and active,
            // that is starting the run, not saving again.
            let active = model
                .save
                .saved
                .as_ref()
                .is_some_and(|(_, s)| *s == crate::destination::Status::Active);
            let primary = match field {
                Field::Next | Field::StartRun => true,
                Field::SaveActivate => !active || model.unsaved_edits,
                _ => false,
            };
            let style = if focused {
                t.focused_button
            } else if primary {
                t.primary_button
            } else {
                t.button
            };
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
