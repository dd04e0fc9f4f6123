//! A checkbox: Space or Enter toggles it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Hint, Outcome, hint};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkbox {
    pub checked: bool,
    pub label: String,
}

impl Checkbox {
    pub fn new(label: impl Into<String>, checked: bool) -> Self {
        Self {
            checked,
            label: label.into(),
        }
    }

    pub fn toggle(&mut self) -> Outcome {
        self.checked = !self.checked;
        Outcome::Changed
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Char(' ') | KeyCode::Enter => self.toggle(),
            _ => Outcome::Ignored,
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        vec![hint("Space", "toggle")]
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        let mark = if self.checked { "[x] " } else { "[ ] " };
        let style = if focused {
            theme.focused_label
        } else {
            theme.text
        };
        let line = Line::from(vec![
            Span::styled(mark, style),
            Span::styled(self.label.clone(), style),
        ]);
        frame.render_widget(Paragraph::new(line), area);
    }
}
