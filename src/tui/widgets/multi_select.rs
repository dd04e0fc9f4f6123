//! A multi-select list with a filter: arrows move, Space ticks, typing narrows the list.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Hint, Outcome, hint, typed_char};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiSelect {
    items: Vec<String>,
    /// Ticked items by value, so a tick survives the list being refreshed or filtered.
    checked: BTreeSet<String>,
    filter: String,
    /// Index into the filtered items.
    cursor: usize,
}

impl MultiSelect {
    pub fn new(items: Vec<String>, checked: impl IntoIterator<Item = String>) -> Self {
        Self {
            items,
            checked: checked.into_iter().collect(),
            filter: String::new(),
            cursor: 0,
        }
    }

    pub fn set_items(&mut self, items: Vec<String>) {
        self.items = items;
        self.cursor = 0;
    }

    /// Ticked values in list order, then ticked values no longer in the list (kept, not dropped).
    pub fn checked(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .items
            .iter()
            .filter(|i| self.checked.contains(*i))
            .cloned()
            .collect();
        out.extend(
            self.checked
                .iter()
                .filter(|c| !self.items.contains(c))
                .cloned(),
        );
        out
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn visible(&self) -> Vec<&String> {
        let filter = self.filter.to_lowercase();
        self.items
            .iter()
            .filter(|i| i.to_lowercase().contains(&filter))
            .collect()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn toggle_visible(&mut self, index: usize) -> Outcome {
        let Some(item) = self.visible().get(index).map(|s| s.to_string()) else {
            return Outcome::Handled;
        };
        self.cursor = index;
        if !self.checked.remove(&item) {
            self.checked.insert(item);
        }
        Outcome::Changed
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let count = self.visible().len();
        match key.code {
            KeyCode::Up => {
                self.cursor = self.cursor.saturating_sub(1);
                Outcome::Handled
            }
            KeyCode::Down => {
                if self.cursor + 1 < count {
                    self.cursor += 1;
                }
                Outcome::Handled
            }
            KeyCode::Char(' ') => self.toggle_visible(self.cursor),
            KeyCode::Backspace => {
                self.filter.pop();
                self.cursor = 0;
                Outcome::Handled
            }
            KeyCode::Esc if !self.filter.is_empty() => {
                self.filter.clear();
                self.cursor = 0;
                Outcome::Handled
            }
            _ => match typed_char(&key) {
                Some(c) => {
                    self.filter.push(c);
                    self.cursor = 0;
                    Outcome::Handled
                }
                None => Outcome::Ignored,
            },
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        vec![
            hint("↑↓", "move"),
            hint("Space", "tick"),
            hint("type", "filter"),
        ]
    }

    /// The row drawn first, so the cursor stays in view in `height` rows.
    pub fn offset(&self, height: usize) -> usize {
        (self.cursor + 1).saturating_sub(height.max(1))
    }

    /// Draws a filter line and then the list rows.
    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        if area.height == 0 {
            return;
        }
        let visible = self.visible();
        let mut lines = Vec::new();
        let summary = format!("{} of {} ticked", self.checked.len(), self.items.len());
        let filter_line = if self.filter.is_empty() {
            Line::from(vec![
                Span::styled("filter: (type)  ", theme.dim),
                Span::styled(summary, theme.dim),
            ])
        } else {
            Line::from(vec![
                Span::styled("filter: ", theme.dim),
                Span::styled(self.filter.clone(), theme.input),
                Span::styled(format!("  {summary}"), theme.dim),
            ])
        };
        lines.push(filter_line);
        let rows = area.height.saturating_sub(1) as usize;
        let offset = self.offset(rows);
        if visible.is_empty() {
            lines.push(Line::styled(
                if self.items.is_empty() {
                    "(no attributes)"
                } else {
                    "(nothing matches)"
                },
                theme.dim,
            ));
        }
        for (i, item) in visible.iter().enumerate().skip(offset).take(rows) {
            let mark = if self.checked.contains(*item) {
                "[x] "
            } else {
                "[ ] "
            };
            let style = if focused && i == self.cursor {
                theme.selected
            } else {
                theme.text
            };
            lines.push(Line::styled(format!("{mark}{item}"), style));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn filter_then_tick_keeps_ticks_across_filters() {
        let mut select =
            MultiSelect::new(vec!["id".into(), "user.id".into(), "user.email".into()], []);
        select.handle_key(key(KeyCode::Char('u')));
        select.handle_key(key(KeyCode::Char('s')));
        assert_eq!(select.visible().len(), 2);
        select.handle_key(key(KeyCode::Down));
        select.handle_key(key(KeyCode::Char(' ')));
        select.handle_key(key(KeyCode::Esc));
        assert_eq!(select.visible().len(), 3);
        assert_eq!(select.checked(), vec!["user.email".to_string()]);
    }
}
