//! A row of tabs: Left/Right (or a click) switches between them.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Hint, Outcome, hint};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tabs {
    titles: Vec<&'static str>,
    selected: usize,
}

impl Tabs {
    pub fn new(titles: Vec<&'static str>) -> Self {
        Self {
            titles,
            selected: 0,
        }
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn select(&mut self, index: usize) -> Outcome {
        if index < self.titles.len() && index != self.selected {
            self.selected = index;
            Outcome::Changed
        } else {
            Outcome::Handled
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let count = self.titles.len();
        match key.code {
            KeyCode::Right | KeyCode::Enter | KeyCode::Char(' ') => {
                self.select((self.selected + 1) % count)
            }
            KeyCode::Left => self.select((self.selected + count - 1) % count),
            _ => Outcome::Ignored,
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        vec![hint("←→", "switch tab")]
    }

    /// The column ranges of each title as drawn from `x`, for mouse clicks.
    pub fn title_spans(&self, x: u16) -> Vec<(u16, u16)> {
        let mut spans = Vec::new();
        let mut at = x;
        for title in &self.titles {
            let width = title.chars().count() as u16 + 2;
            spans.push((at, at + width));
            at += width + 1;
        }
        spans
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        let mut spans = Vec::new();
        for (i, title) in self.titles.iter().enumerate() {
            let style = match (i == self.selected, focused) {
                (true, true) => theme.focused_button,
                (true, false) => theme.step_current,
                _ => theme.dim,
            };
            spans.push(Span::styled(format!(" {title} "), style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}
