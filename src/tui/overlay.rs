//! What is drawn over the wizard: the help page (from the live keymap) and the question asked
//! before quitting would lose edits or stop a run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::focus;
use crate::tui::keymap;
use crate::tui::keys;
use crate::tui::model::{Field, Model, Run, Step};
use crate::tui::widgets::Hint;

fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    )
}

fn key_line(model: &Model, hint: &Hint) -> Line<'static> {
    let t = &model.theme;
    Line::from(vec![
        Span::styled(format!("  {:<15}", hint.keys), t.key),
        Span::styled(hint.action, t.text),
    ])
}

pub fn draw_help(model: &Model, frame: &mut Frame) {
    let t = &model.theme;
    let screen = frame.area();
    let area = centered(
        screen,
        screen.width.saturating_sub(4).min(72),
        screen.height.saturating_sub(2).min(28),
    );
    let bold = t.label.add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::styled("Keys everywhere", bold)];
    for binding in keymap::BINDINGS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<15}", binding.shown), t.key),
            Span::styled(binding.does, t.text),
            Span::styled(binding.scope_note(), t.dim),
        ]));
    }
    let sections = focus::sections(model);
    if !sections.is_empty() {
        let names: Vec<String> = sections
            .iter()
            .enumerate()
            .map(|(i, (title, _))| format!("{} {title}", i + 1))
            .collect();
        lines.push(Line::from(vec![
            Span::styled("  Alt-N jumps to: ", t.dim),
            Span::styled(names.join(" · "), t.text),
        ]));
    }
    lines.push(Line::styled("Here", bold));
    let global: Vec<Hint> = keymap::bar(&keys::context(model));
    for hint in keys::live(model)
        .into_iter()
        .filter(|h| !global.contains(h))
    {
        lines.push(key_line(model, &hint));
    }
    if model.step == Step::Configure && !matches!(model.focus, Field::Pane | Field::Editor) {
        lines.push(Line::styled("Sample pane", bold));
        for hint in keys::PANE {
            lines.push(key_line(model, hint));
        }
    }
    lines.push(Line::styled(
        "Enter opens, confirms or presses; Space toggles. A focused text field takes every \
         printable key. Esc closes this help.",
        t.dim,
    ));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Help ")
                .border_style(t.focused_border),
        ),
        area,
    );
}

/// What quitting now would lose, one line each.
pub fn quit_losses(model: &Model) -> Vec<String> {
    let mut losses = Vec::new();
    if model.has_unsaved_edits() {
        losses.push(match &model.save.saved {
            Some((path, _)) => format!(
                "Edits made since {} was saved are not saved.",
                path.display()
            ),
            None => "This destination has not been saved.".to_string(),
        });
    }
    if let Run::Running { progress, .. } = &model.save.run {
        let of = progress
            .total
            .map(|t| format!(" of {t}"))
            .unwrap_or_default();
        losses.push(format!(
            "A run is going ({} sent{of}): quitting stops it; `aircall-dest run` resumes it.",
            progress.sent
        ));
    }
    losses
}

pub fn draw_quit_question(model: &Model, frame: &mut Frame) {
    let t = &model.theme;
    let screen = frame.area();
    let mut lines: Vec<Line> = quit_losses(model)
        .into_iter()
        .map(|l| Line::styled(l, t.warn))
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("y", t.key),
        Span::styled(" or ", t.dim),
        Span::styled("Ctrl-C", t.key),
        Span::styled(" quit   ", t.text),
        Span::styled("n", t.key),
        Span::styled(" or ", t.dim),
        Span::styled("Esc", t.key),
        Span::styled(" stay", t.text),
    ]));
    let width = screen.width.saturating_sub(4).min(64);
    let inner = width.saturating_sub(4).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let area = centered(screen, width, rows as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Quit? ")
                .padding(ratatui::widgets::Padding::horizontal(1))
                .border_style(t.focused_border),
        ),
        area,
    );
}
