//! The help bar's content: the focused widget's own keys first, then the global bindings of
//! [`keymap`] that apply here.

use crate::tui::focus::{self, is_text};
use crate::tui::form::{pulldown_ref, text_input_ref};
use crate::tui::keymap;
use crate::tui::model::{Field, Model, Step, TestState};
use crate::tui::widgets::{Hint, hint};

/// Keys of the sample pane.
pub const PANE: &[Hint] = &[
    hint("↑↓", "pick a sample"),
    hint("Enter", "expand/collapse"),
    hint("e", "edit the body"),
    hint("t/Ctrl-S", "send test"),
    hint("f", "full screen"),
    hint("w", "wrap"),
    hint("c", "copy as curl"),
    hint("Esc", "cancel/close"),
];

/// The hints for what has the focus now, most specific first.
pub fn live(model: &Model) -> Vec<Hint> {
    let mut hints = Vec::new();
    match model.focus {
        Field::Pane => match model.pane.test {
            TestState::Sending { .. } => hints.push(hint("Esc", "cancel")),
            TestState::Done(_) | TestState::Failed(_) => {
                hints.extend(model.pane.response.hints());
                hints.extend([hint("f", "full screen"), hint("Esc", "close response")]);
            }
            _ => hints.extend(PANE.iter().cloned()),
        },
        Field::Editor => {
            if let Some(editor) = &model.pane.editor {
                hints.extend(editor.hints());
            }
        }
        Field::CredAdvanced => hints.extend(model.credential.advanced.hints()),
        Field::Tabs => hints.extend(model.configure.tabs.hints()),
        Field::Exclude => hints.extend(model.configure.request.exclude.hints()),
        Field::MapOptional(_) => hints.push(hint("Space", "toggle")),
        Field::MapMore(_) => hints.push(hint("Enter", "entry options")),
        Field::MapRemove(_) => hints.push(hint("Enter", "remove the entry")),
        Field::MapAdd => hints.push(hint("Enter", "add an entry for this path")),
        button if button.is_button() => hints.push(hint("Enter", "press")),
        Field::Setting(id) => {
            if let Some(setting) = model.setting(id) {
                hints.extend(setting.hints());
            }
        }
        Field::DatasetPath => {
            hints.push(hint("Tab", "complete path"));
            hints.extend(model.source.path.hints());
        }
        field => {
            if let Some(input) = text_input_ref(model, field) {
                hints.extend(input.hints());
            } else if let Some(pulldown) = pulldown_ref(model, field) {
                hints.extend(pulldown.hints());
            }
        }
    }
    hints.extend(keymap::bar(&context(model)));
    hints
}

/// What the keymap needs to know about the screen now.
pub fn context(model: &Model) -> keymap::Context {
    keymap::Context {
        in_text: is_text(model, model.focus),
        configure: model.step == Step::Configure,
        in_pane: matches!(model.focus, Field::Pane | Field::Editor),
        sections: focus::sections(model).len(),
    }
}
