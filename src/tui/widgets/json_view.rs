//! A scrollable, syntax-highlighted view of a JSON text (request and response bodies). Text that
//! is not JSON is shown as it is; very large bodies are not pretty-printed, to keep frames fast.
//! Long lines wrap by default; with wrapping off, ←→ scroll sideways.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};

use super::{Hint, Outcome, hint};
use crate::tui::theme::Theme;

/// Bodies above this size are shown line by line as sent instead of re-indented.
const PRETTY_LIMIT: usize = 1 << 20;

/// Columns moved by one ← or →.
const SIDE_STEP: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonView {
    lines: Vec<Line<'static>>,
    scroll: usize,
    /// Long lines continue on the next rows; otherwise they are cut at the edge.
    wrap: bool,
    /// Columns scrolled sideways (only without wrapping).
    column: usize,
}

impl Default for JsonView {
    fn default() -> Self {
        Self {
            lines: Vec::new(),
            scroll: 0,
            wrap: true,
            column: 0,
        }
    }
}

impl JsonView {
    pub fn new(text: &str, theme: &Theme) -> Self {
        Self {
            lines: highlight(text, theme),
            ..Self::default()
        }
    }

    pub fn wraps(&self) -> bool {
        self.wrap
    }

    pub fn set_wrap(&mut self, wrap: bool) {
        self.wrap = wrap;
        self.column = 0;
    }

    pub fn column(&self) -> usize {
        self.column
    }

    fn widest(&self) -> usize {
        self.lines.iter().map(Line::width).max().unwrap_or(0)
    }

    pub fn set_text(&mut self, text: &str, theme: &Theme) {
        self.lines = highlight(text, theme);
        self.scroll = self.scroll.min(self.lines.len().saturating_sub(1));
    }

    pub fn lines(&self) -> &[Line<'static>] {
        &self.lines
    }

    pub fn scroll(&self) -> usize {
        self.scroll
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.lines.len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Up => self.scroll_by(-1),
            KeyCode::Down => self.scroll_by(1),
            KeyCode::PageUp => self.scroll_by(-10),
            KeyCode::PageDown => self.scroll_by(10),
            KeyCode::Home => self.scroll = 0,
            KeyCode::End => self.scroll = self.lines.len().saturating_sub(1),
            KeyCode::Left if !self.wrap => self.column = self.column.saturating_sub(SIDE_STEP),
            KeyCode::Right if !self.wrap => {
                self.column = (self.column + SIDE_STEP).min(self.widest().saturating_sub(1))
            }
            KeyCode::Char('w') => self.set_wrap(!self.wrap),
            _ => return Outcome::Ignored,
        }
        Outcome::Handled
    }

    pub fn hints(&self) -> Vec<Hint> {
        let mut hints = vec![hint("↑↓ PgUp PgDn", "scroll")];
        if self.wrap {
            hints.push(hint("w", "no wrap"));
        } else {
            hints.extend([hint("←→", "sideways"), hint("w", "wrap")]);
        }
        hints
    }

    pub fn render(&self, frame: &mut Frame, area: Rect) {
        let height = area.height as usize;
        let shown: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(height)
            .cloned()
            .collect();
        let paragraph = Paragraph::new(shown);
        let paragraph = if self.wrap {
            paragraph.wrap(ratatui::widgets::Wrap { trim: false })
        } else {
            paragraph.scroll((0, self.column.min(u16::MAX as usize) as u16))
        };
        frame.render_widget(paragraph, area);
        if self.lines.len() > height && area.width > 1 {
            let mut state =
                ScrollbarState::new(self.lines.len().saturating_sub(height)).position(self.scroll);
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight),
                area,
                &mut state,
            );
        }
    }
}

/// Pretty-prints `text` when it is JSON (keeping key order and number spelling) and colours it.
pub fn highlight(text: &str, theme: &Theme) -> Vec<Line<'static>> {
    let pretty = if text.len() <= PRETTY_LIMIT {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
    } else {
        None
    };
    match pretty {
        Some(pretty) => pretty
            .lines()
            .map(|line| highlight_line(line, theme))
            .collect(),
        None => text
            .lines()
            .map(|line| Line::styled(line.to_string(), theme.text))
            .collect(),
    }
}

/// Colours one line of pretty-printed JSON. Pretty JSON never splits a token over lines, so a
/// line-local scan is enough.
pub fn highlight_line(line: &str, theme: &Theme) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let push = |spans: &mut Vec<Span<'static>>, text: String, style: Style| {
        spans.push(Span::styled(text, style))
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            let i_end = i.min(chars.len());
            let token: String = chars[start..i_end].iter().collect();
            let is_key = chars[i_end..].iter().find(|c| !c.is_whitespace()) == Some(&':');
            push(
                &mut spans,
                token,
                if is_key {
                    theme.json_key
                } else {
                    theme.json_string
                },
            );
            i = i_end;
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || matches!(chars[i], '-' | '+' | '.' | 'e' | 'E'))
            {
                i += 1;
            }
            push(
                &mut spans,
                chars[start..i].iter().collect(),
                theme.json_number,
            );
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            push(
                &mut spans,
                chars[start..i].iter().collect(),
                theme.json_literal,
            );
        } else {
            let start = i;
            while i < chars.len()
                && !(chars[i] == '"' || chars[i] == '-' || chars[i].is_ascii_alphanumeric())
            {
                i += 1;
            }
            push(
                &mut spans,
                chars[start..i].iter().collect(),
                theme.json_punct,
            );
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_strings_numbers_and_literals_get_their_own_styles() {
        let theme = Theme::default();
        let lines = highlight(r#"{"a":"x:y","n":-1.5e3,"t":true}"#, &theme);
        assert_eq!(lines.len(), 5);
        let spans = &lines[1].spans;
        assert_eq!(
            spans.iter().find(|s| s.content == "\"a\"").map(|s| s.style),
            Some(theme.json_key)
        );
        assert_eq!(
            spans
                .iter()
                .find(|s| s.content == "\"x:y\"")
                .map(|s| s.style),
            Some(theme.json_string)
        );
        assert!(
            lines[2]
                .spans
                .iter()
                .any(|s| s.content.contains("1.5") && s.style == theme.json_number)
        );
        assert!(
            lines[3]
                .spans
                .iter()
                .any(|s| s.content == "true" && s.style == theme.json_literal)
        );
    }

    #[test]
    fn w_turns_wrapping_off_and_arrows_then_scroll_sideways() {
        use crossterm::event::KeyModifiers;
        let theme = Theme::default();
        let mut view = JsonView::new(&"x".repeat(100), &theme);
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert!(view.wraps());
        assert_eq!(view.handle_key(key(KeyCode::Right)), Outcome::Ignored);
        view.handle_key(key(KeyCode::Char('w')));
        assert!(!view.wraps());
        view.handle_key(key(KeyCode::Right));
        assert_eq!(view.column(), SIDE_STEP);
        view.handle_key(key(KeyCode::Left));
        view.handle_key(key(KeyCode::Left));
        assert_eq!(view.column(), 0);
    }

    #[test]
    fn non_json_is_shown_as_is() {
        let theme = Theme::default();
        let lines = highlight("a=1&b=2", &theme);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].to_string(), "a=1&b=2");
    }
}
