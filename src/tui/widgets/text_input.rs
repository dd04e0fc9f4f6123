//! A single-line text field: cursor editing, a masked mode for secrets, and a completion popup
//! (path completion, `{record.…}` macros) that the field filters as the person types.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};

use super::{Hint, Outcome, hint, typed_char};
use crate::secret::MASK;
use crate::tui::theme::Theme;

/// Suggestions offered under the field. The text from `anchor` to the cursor is the token being
/// completed; choosing an item replaces that token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub items: Vec<String>,
    pub anchor: usize,
    pub selected: usize,
    /// The character that ends the token (`}` of a macro): typing it closes the popup, and Tab
    /// leaves the field rather than inserting. `None` for paths, where Tab completes.
    pub closer: Option<char>,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    value: String,
    /// Byte offset of the cursor in `value`, always on a char boundary.
    cursor: usize,
    masked: bool,
    placeholder: String,
    completion: Option<Completion>,
}

impl fmt::Debug for TextInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &str = if self.masked { MASK } else { &self.value };
        f.debug_struct("TextInput")
            .field("value", &value)
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl TextInput {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            cursor: value.len(),
            value,
            ..Self::default()
        }
    }

    /// A field whose content is never drawn: it shows `•••` whatever its length.
    pub fn masked() -> Self {
        Self {
            masked: true,
            ..Self::default()
        }
    }

    pub fn with_placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = placeholder.into();
        self
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn is_masked(&self) -> bool {
        self.masked
    }

    pub fn set_value(&mut self, value: impl Into<String>) {
        self.value = value.into();
        self.cursor = self.value.len();
        self.completion = None;
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn completion(&self) -> Option<&Completion> {
        self.completion.as_ref()
    }

    /// Opens the popup on `items`, completing the text from `anchor` (a byte offset) to the cursor.
    pub fn offer(&mut self, items: Vec<String>, anchor: usize) {
        self.open_completion(items, anchor, None);
    }

    /// Like [`offer`](Self::offer) for tokens that end with `closer` (record macros end with
    /// `}`): typing it closes the popup, and Tab moves on instead of inserting.
    pub fn offer_until(&mut self, items: Vec<String>, anchor: usize, closer: char) {
        self.open_completion(items, anchor, Some(closer));
    }

    fn open_completion(&mut self, items: Vec<String>, anchor: usize, closer: Option<char>) {
        let anchor = anchor.min(self.cursor);
        if items.is_empty() {
            self.completion = None;
        } else {
            self.completion = Some(Completion {
                items,
                anchor,
                selected: 0,
                closer,
            });
        }
    }

    pub fn close_completion(&mut self) {
        self.completion = None;
    }

    /// The items of the open popup that match what was typed since the anchor.
    pub fn visible_items(&self) -> Vec<&str> {
        let Some(completion) = &self.completion else {
            return Vec::new();
        };
        let typed = self
            .value
            .get(completion.anchor..self.cursor)
            .unwrap_or("")
            .to_lowercase();
        // Macro braces and the `record.` prefix are typed by habit; match on what follows them.
        let needle = typed.trim_start_matches('{').trim_start_matches("record.");
        completion
            .items
            .iter()
            .filter(|item| item.to_lowercase().contains(needle))
            .map(String::as_str)
            .collect()
    }

    /// Inserts pasted text at the cursor; line breaks become spaces in a single-line field.
    pub fn insert_str(&mut self, text: &str) -> Outcome {
        let clean: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        if clean.is_empty() {
            return Outcome::Ignored;
        }
        if self.masked {
            // A masked field cannot show where the cursor is, so text always goes at the end.
            self.cursor = self.value.len();
        }
        self.value.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
        Outcome::Changed
    }

    /// Accepts the selected completion, replacing the token being completed.
    pub fn accept_completion(&mut self) -> bool {
        let items = self.visible_items();
        let Some(completion) = &self.completion else {
            return false;
        };
        let Some(choice) = items.get(completion.selected.min(items.len().saturating_sub(1))) else {
            self.completion = None;
            return false;
        };
        let choice = choice.to_string();
        let anchor = completion.anchor;
        self.value.replace_range(anchor..self.cursor, &choice);
        self.cursor = anchor + choice.len();
        self.completion = None;
        true
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        if self.completion.is_some() {
            let count = self.visible_items().len();
            if let Some(completion) = self.completion.as_mut() {
                match key.code {
                    KeyCode::Up => {
                        completion.selected = completion
                            .selected
                            .checked_sub(1)
                            .unwrap_or(count.saturating_sub(1));
                        return Outcome::Handled;
                    }
                    KeyCode::Down => {
                        completion.selected = if completion.selected + 1 >= count {
                            0
                        } else {
                            completion.selected + 1
                        };
                        return Outcome::Handled;
                    }
                    KeyCode::Tab | KeyCode::BackTab if completion.closer.is_some() => {
                        self.completion = None;
                        return Outcome::Ignored;
                    }
                    KeyCode::Enter | KeyCode::Tab => {
                        return if self.accept_completion() {
                            Outcome::Changed
                        } else {
                            Outcome::Handled
                        };
                    }
                    KeyCode::Esc => {
                        self.completion = None;
                        return Outcome::Handled;
                    }
                    _ => {}
                }
            }
        }
        let outcome = self.edit(key);
        let closed = self
            .completion
            .as_ref()
            .is_some_and(|c| c.closer.is_some() && c.closer == typed_char(&key));
        if closed {
            self.completion = None;
        }
        if let Some(completion) = &self.completion {
            // The popup follows the token: it closes once the cursor leaves it or nothing matches.
            if self.cursor < completion.anchor || self.visible_items().is_empty() {
                self.completion = None;
            } else if let Some(completion) = self.completion.as_mut() {
                completion.selected = 0;
            }
        }
        outcome
    }

    fn edit(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(c) = typed_char(&key) {
            if self.masked {
                self.cursor = self.value.len();
            }
            self.value.insert(self.cursor, c);
            self.cursor += c.len_utf8();
            return Outcome::Changed;
        }
        match key.code {
            KeyCode::Enter => Outcome::Submitted,
            KeyCode::Backspace => {
                if self.masked {
                    self.cursor = self.value.len();
                }
                match self.value[..self.cursor].chars().next_back() {
                    Some(c) => {
                        self.cursor -= c.len_utf8();
                        self.value.remove(self.cursor);
                        Outcome::Changed
                    }
                    None => Outcome::Handled,
                }
            }
            KeyCode::Delete if !self.masked => {
                if self.cursor < self.value.len() {
                    self.value.remove(self.cursor);
                    Outcome::Changed
                } else {
                    Outcome::Handled
                }
            }
            KeyCode::Left if !self.masked => {
                if let Some(c) = self.value[..self.cursor].chars().next_back() {
                    self.cursor -= c.len_utf8();
                }
                Outcome::Handled
            }
            KeyCode::Right if !self.masked => {
                if let Some(c) = self.value[self.cursor..].chars().next() {
                    self.cursor += c.len_utf8();
                }
                Outcome::Handled
            }
            KeyCode::Home if !self.masked => {
                self.cursor = 0;
                Outcome::Handled
            }
            KeyCode::End => {
                self.cursor = self.value.len();
                Outcome::Handled
            }
            KeyCode::Char('a') if ctrl && !self.masked => {
                self.cursor = 0;
                Outcome::Handled
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = self.value.len();
                Outcome::Handled
            }
            KeyCode::Char('u') if ctrl => {
                if self.value.is_empty() {
                    return Outcome::Handled;
                }
                self.value.clear();
                self.cursor = 0;
                Outcome::Changed
            }
            _ => Outcome::Ignored,
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        if self.completion.is_some() {
            vec![
                hint("↑↓", "choose"),
                hint("Enter", "insert"),
                hint("Esc", "close"),
            ]
        } else if self.masked {
            vec![hint("type", "token (hidden)"), hint("Ctrl-U", "clear")]
        } else {
            vec![hint("←→", "move"), hint("Ctrl-U", "clear")]
        }
    }

    /// Draws the field in one row: the text (or placeholder), scrolled so the cursor stays in
    /// view, and sets the terminal cursor when focused.
    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let style = if focused {
            theme
                .input
                .patch(theme.focused_border)
                .add_modifier(ratatui::style::Modifier::UNDERLINED)
        } else {
            theme.input
        };
        let width = area.width as usize;
        let (shown, cursor_col) = if self.masked {
            let shown = if self.value.is_empty() {
                String::new()
            } else {
                MASK.to_string()
            };
            let col = shown.chars().count();
            (shown, col)
        } else {
            let before = self.value[..self.cursor].chars().count();
            // Scroll so the cursor is visible, keeping one cell for it at the end.
            let skip = (before + 1).saturating_sub(width);
            let shown: String = self.value.chars().skip(skip).take(width).collect();
            (shown, before - skip)
        };
        let line = if shown.is_empty() && !self.placeholder.is_empty() {
            Line::from(Span::styled(
                super::clip(&self.placeholder, width),
                theme.placeholder,
            ))
        } else {
            let pad = width.saturating_sub(shown.chars().count());
            Line::from(vec![
                Span::styled(shown, style),
                Span::styled(" ".repeat(if focused { pad } else { 0 }), style),
            ])
        };
        frame.render_widget(Paragraph::new(line), area);
        if focused {
            let x = area.x + (cursor_col as u16).min(area.width.saturating_sub(1));
            frame.set_cursor_position(Position::new(x, area.y));
        }
    }

    /// Draws the completion popup under (or above) the field; called last so it overlays the form.
    pub fn render_popup(&self, frame: &mut Frame, field: Rect, theme: &Theme) {
        let Some(completion) = &self.completion else {
            return;
        };
        let items = self.visible_items();
        if items.is_empty() {
            return;
        }
        let screen = frame.area();
        let longest = items.iter().map(|i| i.chars().count()).max().unwrap_or(10) as u16;
        let width = (longest + 2)
            .clamp(12, screen.width.saturating_sub(field.x).max(12))
            .min(screen.width);
        let height = (items.len() as u16 + 2).min(10);
        let below = screen.bottom().saturating_sub(field.bottom());
        let y = if below >= height {
            field.bottom()
        } else {
            field.y.saturating_sub(height)
        };
        let x = field.x.min(screen.width.saturating_sub(width));
        let area = Rect::new(x, y, width, height).intersection(screen);
        let list = List::new(items.iter().map(|i| ListItem::new(i.to_string())))
            .block(Block::bordered().border_style(theme.focused_border))
            .highlight_style(theme.selected);
        let mut state =
            ListState::default().with_selected(Some(completion.selected.min(items.len() - 1)));
        frame.render_widget(Clear, area);
        frame.render_stateful_widget(list, area, &mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(input: &mut TextInput, text: &str) {
        for c in text.chars() {
            input.handle_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn edits_at_the_cursor_with_multibyte_text() {
        let mut input = TextInput::new("héllo");
        input.handle_key(key(KeyCode::Left));
        input.handle_key(key(KeyCode::Left));
        input.handle_key(key(KeyCode::Backspace));
        assert_eq!(input.value(), "hélo");
        typed(&mut input, "ł");
        assert_eq!(input.value(), "héłlo");
        assert_eq!(input.handle_key(key(KeyCode::Enter)), Outcome::Submitted);
    }

    #[test]
    fn masked_input_never_prints_its_value() {
        let mut input = TextInput::masked();
        typed(&mut input, "secret-token");
        assert_eq!(input.value(), "secret-token");
        assert!(!format!("{input:?}").contains("secret"));
    }

    #[test]
    fn completion_filters_and_replaces_the_token() {
        let mut input = TextInput::new("/v1/users/");
        typed(&mut input, "{");
        let anchor = input.cursor() - 1;
        input.offer(
            vec![
                "{record.id}".into(),
                "{record.user.id}".into(),
                "{record.name}".into(),
            ],
            anchor,
        );
        typed(&mut input, "us");
        assert_eq!(input.visible_items(), vec!["{record.user.id}"]);
        assert_eq!(input.handle_key(key(KeyCode::Enter)), Outcome::Changed);
        assert_eq!(input.value(), "/v1/users/{record.user.id}");
        assert!(input.completion().is_none());
    }
}
