//! Small form widgets, each with its own key handling and drawing: the wizard's screens are
//! assembled from these and never interpret raw keys for a widget themselves.

pub mod body_editor;
pub mod checkbox;
pub mod choice;
pub mod json_view;
pub mod multi_select;
pub mod number;
pub mod pulldown;
pub mod tabs;
pub mod text_input;

pub use body_editor::BodyEditor;
pub use checkbox::Checkbox;
pub use json_view::JsonView;
pub use multi_select::MultiSelect;
pub use pulldown::Pulldown;
pub use tabs::Tabs;
pub use text_input::TextInput;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a widget did with a key, so the screen knows whether to react (rebuild the sample pane,
/// move focus) or offer the key to the global bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The widget has no use for the key.
    Ignored,
    /// The key moved something inside the widget but its value is unchanged.
    Handled,
    /// The widget's value changed.
    Changed,
    /// The person confirmed the widget (Enter on a text field).
    Submitted,
}

impl Outcome {
    pub fn consumed(self) -> bool {
        self != Outcome::Ignored
    }
}

/// One key hint for the help bar: the keys as shown and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub keys: &'static str,
    pub action: &'static str,
}

pub const fn hint(keys: &'static str, action: &'static str) -> Hint {
    Hint { keys, action }
}

/// A printable character typed without Ctrl or Alt: what a focused text field takes as input.
pub fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// Clips `text` to at most `width` terminal cells, for labels in narrow layouts.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
