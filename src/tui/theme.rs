//! The wizard's colours and text styles, in one place so every screen agrees (ANSI defaults).

use ratatui::style::{Color, Modifier, Style};

/// Every style the wizard draws with. The defaults use the 16 ANSI colours so the terminal's own
/// palette decides the exact shades, which keeps the wizard readable on light and dark themes.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub label: Style,
    pub focused_label: Style,
    pub focused_border: Style,
    pub border: Style,
    pub input: Style,
    pub placeholder: Style,
    pub selected: Style,
    pub step_done: Style,
    pub step_current: Style,
    pub step_todo: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub key: Style,
    pub json_key: Style,
    pub json_string: Style,
    pub json_number: Style,
    pub json_literal: Style,
    pub json_punct: Style,
    pub method: Style,
    pub button: Style,
    pub focused_button: Style,
    /// The step's main action (Next, Save & Activate, Start the run), told apart unfocused.
    pub primary_button: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            text: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            label: Style::new().fg(Color::Gray),
            focused_label: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            focused_border: Style::new().fg(Color::Cyan),
            border: Style::new().fg(Color::DarkGray),
            input: Style::new().fg(Color::White),
            placeholder: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
            selected: Style::new().fg(Color::Black).bg(Color::Cyan),
            step_done: Style::new().fg(Color::Green),
            step_current: Style::new()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            step_todo: Style::new().fg(Color::DarkGray),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            error: Style::new().fg(Color::Red),
            key: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            json_key: Style::new().fg(Color::Blue),
            json_string: Style::new().fg(Color::Green),
            json_number: Style::new().fg(Color::Magenta),
            json_literal: Style::new().fg(Color::Yellow),
            json_punct: Style::new().fg(Color::Gray),
            method: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            button: Style::new().fg(Color::White).bg(Color::DarkGray),
            focused_button: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            primary_button: Style::new()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
        }
    }
}
