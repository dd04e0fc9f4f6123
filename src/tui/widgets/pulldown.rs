//! A pulldown (dropdown): one choice among a fixed list, opened with Enter or Space and drawn as
//! an overlay list; Left/Right cycle through the choices without opening it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};

use super::{Hint, Outcome, hint};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulldown {
    options: Vec<String>,
    selected: usize,
    /// The highlighted row while open; `None` when closed.
    open: Option<usize>,
    /// Letters typed since the list opened: typing `fr` reaches "FR" in a list of countries.
    typed: String,
}

impl Pulldown {
    pub fn new(options: Vec<String>, selected: usize) -> Self {
        let selected = selected.min(options.len().saturating_sub(1));
        Self {
            options,
            selected,
            open: None,
            typed: String::new(),
        }
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn selected_label(&self) -> &str {
        self.options
            .get(self.selected)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn options(&self) -> &[String] {
        &self.options
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub fn select(&mut self, index: usize) {
        if index < self.options.len() {
            self.selected = index;
        }
    }

    /// Replaces the options, keeping the selection on the same label when it is still offered.
    pub fn set_options(&mut self, options: Vec<String>) {
        let current = self.selected_label().to_string();
        self.selected = options.iter().position(|o| *o == current).unwrap_or(0);
        self.options = options;
        self.open = None;
    }

    pub fn open(&mut self) {
        self.open = Some(self.selected);
        self.typed.clear();
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let count = self.options.len();
        if count == 0 {
            return Outcome::Ignored;
        }
        match (self.open, key.code) {
            (None, KeyCode::Enter | KeyCode::Char(' ')) => {
                self.open();
                Outcome::Handled
            }
            (None, KeyCode::Right) => {
                self.selected = (self.selected + 1) % count;
                Outcome::Changed
            }
            (None, KeyCode::Left) => {
                self.selected = (self.selected + count - 1) % count;
                Outcome::Changed
            }
            (Some(row), KeyCode::Up) => {
                self.open = Some((row + count - 1) % count);
                Outcome::Handled
            }
            (Some(row), KeyCode::Down) => {
                self.open = Some((row + 1) % count);
                Outcome::Handled
            }
            (Some(row), KeyCode::Enter | KeyCode::Char(' ')) => {
                self.open = None;
                if row != self.selected {
                    self.selected = row;
                    Outcome::Changed
                } else {
                    Outcome::Handled
                }
            }
            (Some(_), KeyCode::Esc) => {
                self.open = None;
                Outcome::Handled
            }
            // Letters typed in a row jump to the first choice starting with them; a letter that
            // extends no choice starts again and goes to the next choice starting with it.
            (Some(row), KeyCode::Char(c)) if c.is_alphanumeric() => {
                let starts =
                    |o: &String, prefix: &str| o.to_lowercase().starts_with(&prefix.to_lowercase());
                self.typed.push(c);
                let prefix = self.typed.clone();
                let found = if prefix.chars().count() > 1 {
                    self.options.iter().position(|o| starts(o, &prefix))
                } else {
                    None
                };
                let found = found.or_else(|| {
                    self.typed = c.to_string();
                    (1..=count)
                        .map(|step| (row + step) % count)
                        .find(|i| starts(&self.options[*i], &self.typed))
                });
                if let Some(next) = found {
                    self.open = Some(next);
                }
                Outcome::Handled
            }
            (Some(_), _) => Outcome::Handled,
            _ => Outcome::Ignored,
        }
    }

    /// A click on row `row` of the open list (0 = first option).
    pub fn click_option(&mut self, row: usize) -> Outcome {
        if self.open.is_some() && row < self.options.len() {
            self.open = None;
            if row != self.selected {
                self.selected = row;
                return Outcome::Changed;
            }
            return Outcome::Handled;
        }
        Outcome::Ignored
    }

    pub fn hints(&self) -> Vec<Hint> {
        if self.open.is_some() {
            vec![
                hint("↑↓", "choose"),
                hint("Enter", "select"),
                hint("Esc", "close"),
            ]
        } else {
            vec![hint("Enter", "open"), hint("←→", "change")]
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        let style = if focused {
            theme.focused_button
        } else {
            theme.input
        };
        let width = area.width.saturating_sub(2) as usize;
        let line = Line::from(vec![
            Span::styled(
                format!("{:<width$}", super::clip(self.selected_label(), width)),
                style,
            ),
            Span::styled(" ▾", style),
        ]);
        frame.render_widget(Paragraph::new(line), area);
    }

    /// The area the open list covers when the field sits at `field`.
    pub fn popup_area(&self, field: Rect, screen: Rect) -> Rect {
        let height = (self.options.len() as u16 + 2)
            .min(screen.height.saturating_sub(2))
            .max(3);
        let longest = self
            .options
            .iter()
            .map(|o| o.chars().count())
            .max()
            .unwrap_or(8) as u16;
        let width = (longest + 4).max(field.width).min(screen.width);
        let below = screen.bottom().saturating_sub(field.bottom());
        let y = if below >= height {
            field.bottom()
        } else {
            screen.bottom().saturating_sub(height).min(field.y)
        };
        let x = field.x.min(screen.width.saturating_sub(width));
        Rect::new(x, y, width, height).intersection(screen)
    }

    pub fn render_popup(&self, frame: &mut Frame, field: Rect, theme: &Theme) {
        let Some(row) = self.open else { return };
        let area = self.popup_area(field, frame.area());
        let list = List::new(self.options.iter().map(|o| ListItem::new(o.clone())))
            .block(Block::bordered().border_style(theme.focused_border))
            .highlight_style(theme.selected)
            .highlight_symbol("› ");
        let mut state = ListState::default().with_selected(Some(row));
        frame.render_widget(Clear, area);
        frame.render_stateful_widget(list, area, &mut state);
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
    fn opens_moves_and_confirms() {
        let mut pulldown = Pulldown::new(vec!["GET".into(), "POST".into(), "PUT".into()], 1);
        assert_eq!(pulldown.handle_key(key(KeyCode::Enter)), Outcome::Handled);
        assert!(pulldown.is_open());
        pulldown.handle_key(key(KeyCode::Down));
        assert_eq!(pulldown.handle_key(key(KeyCode::Enter)), Outcome::Changed);
        assert_eq!(pulldown.selected_label(), "PUT");
        pulldown.handle_key(key(KeyCode::Enter));
        pulldown.handle_key(key(KeyCode::Up));
        assert_eq!(pulldown.handle_key(key(KeyCode::Esc)), Outcome::Handled);
        assert_eq!(pulldown.selected_label(), "PUT", "Esc keeps the old choice");
        assert_eq!(pulldown.handle_key(key(KeyCode::Right)), Outcome::Changed);
        assert_eq!(pulldown.selected_label(), "GET");
    }

    #[test]
    fn letters_typed_in_a_row_reach_the_choice_they_spell() {
        let countries = ["DE", "FI", "FJ", "FR", "GB", "US"];
        let mut pulldown = Pulldown::new(countries.iter().map(|c| c.to_string()).collect(), 5);
        pulldown.handle_key(key(KeyCode::Enter));
        pulldown.handle_key(key(KeyCode::Char('f')));
        pulldown.handle_key(key(KeyCode::Char('r')));
        pulldown.handle_key(key(KeyCode::Enter));
        assert_eq!(pulldown.selected_label(), "FR");
        // A repeated first letter spells nothing, so each press moves to the next choice with
        // it: from FR, `f` wraps round to FI and a second `f` goes on to FJ.
        pulldown.handle_key(key(KeyCode::Enter));
        pulldown.handle_key(key(KeyCode::Char('f')));
        pulldown.handle_key(key(KeyCode::Char('f')));
        pulldown.handle_key(key(KeyCode::Enter));
        assert_eq!(pulldown.selected_label(), "FJ");
    }
}
