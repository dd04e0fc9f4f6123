//! A multi-line body editor (on ratatui-textarea) for editing a sample request's body in place
//! before Send Test; it says whether the text is valid JSON and where it is not.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;
use ratatui_textarea::TextArea;

use super::{Hint, Outcome, hint};
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct BodyEditor {
    area: TextArea<'static>,
    /// Check the text as JSON (the destination's content format is JSON).
    json: bool,
    /// The text as it was opened, to tell whether leaving would discard edits.
    original: Vec<String>,
    /// Esc was pressed once over edited text; a second Esc discards.
    discard_asked: bool,
}

impl PartialEq for BodyEditor {
    fn eq(&self, other: &Self) -> bool {
        self.area.lines() == other.area.lines() && self.json == other.json
    }
}

impl BodyEditor {
    /// Starts from `body`, re-indented when it is JSON so it can be edited comfortably.
    pub fn new(body: &str, json: bool) -> Self {
        let text = if json {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| body.to_string())
        } else {
            body.to_string()
        };
        let original: Vec<String> = text.lines().map(str::to_string).collect();
        let mut area = TextArea::new(original.clone());
        area.set_cursor_line_style(ratatui::style::Style::default());
        Self {
            area,
            json,
            original,
            discard_asked: false,
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// The body to send: JSON is sent compact, as the request builder would have written it;
    /// other formats exactly as edited.
    pub fn body_to_send(&self) -> Result<String, String> {
        let text = self.text();
        if !self.json {
            return Ok(text);
        }
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => serde_json::to_string(&value).map_err(|e| e.to_string()),
            Err(err) => Err(format!(
                "invalid JSON at line {}, column {}: {}",
                err.line(),
                err.column(),
                err_message(&err)
            )),
        }
    }

    pub fn error(&self) -> Option<String> {
        self.body_to_send().err()
    }

    pub fn insert_str(&mut self, text: &str) -> Outcome {
        if self.area.insert_str(text) {
            Outcome::Changed
        } else {
            Outcome::Handled
        }
    }

    /// The text differs from what the editor opened with.
    pub fn is_modified(&self) -> bool {
        self.area.lines() != self.original.as_slice()
    }

    /// Esc over edited text: the first one asks (returns false), a second one discards.
    pub fn may_discard(&mut self) -> bool {
        if !self.is_modified() || self.discard_asked {
            return true;
        }
        self.discard_asked = true;
        false
    }

    /// Every key but Esc and Ctrl-S (handled by the screen) edits the text; Ctrl-Z undoes and
    /// Ctrl-Y redoes.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        use crossterm::event::{KeyCode, KeyModifiers};
        self.discard_asked = false;
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            let done = match key.code {
                KeyCode::Char('z') => Some(self.area.undo()),
                KeyCode::Char('y') => Some(self.area.redo()),
                _ => None,
            };
            if let Some(done) = done {
                return if done {
                    Outcome::Changed
                } else {
                    Outcome::Handled
                };
            }
        }
        if self.area.input(key) {
            Outcome::Changed
        } else {
            Outcome::Handled
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        vec![
            hint("Ctrl-S", "send test"),
            hint("Esc", "stop editing"),
            hint("Ctrl-Z", "undo"),
            hint("Ctrl-Y", "redo"),
        ]
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, focused: bool, theme: &Theme) {
        let mut editor = self.area.clone();
        let title = match self.error() {
            Some(err) => ratatui::text::Line::styled(format!(" {err} "), theme.error),
            None => ratatui::text::Line::styled(" body ", theme.ok),
        };
        editor.set_block(Block::bordered().title(title).border_style(if focused {
            theme.focused_border
        } else {
            theme.border
        }));
        if !focused {
            editor.set_cursor_style(ratatui::style::Style::default());
        }
        frame.render_widget(&editor, area);
    }
}

fn err_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    // serde_json appends " at line L column C"; the line and column are already in front.
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_is_reported_with_its_position_and_valid_json_is_sent_compact() {
        let mut editor = BodyEditor::new(r#"{"a": 1}"#, true);
        assert_eq!(editor.body_to_send().unwrap(), r#"{"a":1}"#);
        editor.insert_str(",");
        let err = editor.error().unwrap();
        assert!(err.starts_with("invalid JSON at line 1"), "{err}");
    }

    fn key(code: crossterm::event::KeyCode, ctrl: bool) -> KeyEvent {
        let modifiers = if ctrl {
            crossterm::event::KeyModifiers::CONTROL
        } else {
            crossterm::event::KeyModifiers::NONE
        };
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn ctrl_z_undoes_and_ctrl_y_redoes() {
        use crossterm::event::KeyCode;
        let mut editor = BodyEditor::new(r#"{"a": 1}"#, true);
        let before = editor.text();
        editor.handle_key(key(KeyCode::Char('x'), false));
        assert_ne!(editor.text(), before);
        assert_eq!(
            editor.handle_key(key(KeyCode::Char('z'), true)),
            Outcome::Changed
        );
        assert_eq!(editor.text(), before);
        assert!(!editor.is_modified());
        editor.handle_key(key(KeyCode::Char('y'), true));
        assert_ne!(editor.text(), before);
    }

    #[test]
    fn leaving_edited_text_asks_once() {
        use crossterm::event::KeyCode;
        let mut editor = BodyEditor::new("{}", true);
        assert!(editor.may_discard(), "nothing edited: leave at once");
        editor.handle_key(key(KeyCode::Char(' '), false));
        assert!(!editor.may_discard(), "the first Esc asks");
        assert!(editor.may_discard(), "the second discards");
    }
}
