//! The key bindings the wizard answers to, as shown in the help bar and the `?` page. The
//! update function matches the same keys; the focused widget adds its own hints.

use crate::tui::focus::is_text;
use crate::tui::model::{Field, Model, Step, TestState};
use crate::tui::update::{pulldown_mut_ref, text_input_ref};
use crate::tui::widgets::{Hint, hint};

/// Keys that work everywhere (a focused text field keeps printable keys for itself).
pub const GLOBAL: &[Hint] = &[
    hint("Tab/Shift-Tab", "next/previous field"),
    hint("Enter", "open, confirm, press"),
    hint("Space", "toggle, open"),
    hint("Esc", "close, cancel, back a step"),
    hint("Ctrl-N", "next step"),
    hint("Ctrl-B", "previous step"),
    hint("?/F1", "this help"),
    hint("Ctrl-C", "quit"),
];

/// Keys of the sample pane.
pub const PANE: &[Hint] = &[
    hint("↑↓", "pick a sample"),
    hint("Enter", "expand/collapse"),
    hint("e", "edit the body"),
    hint("t/Ctrl-S", "send test"),
    hint("Esc", "cancel/close"),
];

/// The hints for what has the focus now, most specific first.
pub fn live(model: &Model) -> Vec<Hint> {
    let mut hints = Vec::new();
    match model.focus {
        Field::Pane => match model.pane.test {
            TestState::Sending { .. } => hints.push(hint("Esc", "cancel")),
            TestState::Done(_) | TestState::Failed(_) => {
                hints.extend([hint("↑↓", "scroll"), hint("Esc", "close response")])
            }
            _ => hints.extend(PANE.iter().cloned()),
        },
        Field::Editor => {
            if let Some(editor) = &model.pane.editor {
                hints.extend(editor.hints());
            }
        }
        Field::CredAdvanced => hints.extend(model.credential.advanced.hints()),
        Field::Batching => hints.extend(model.configure.batching.hints()),
        Field::Tabs => hints.extend(model.configure.tabs.hints()),
        Field::Exclude => hints.extend(model.configure.exclude.hints()),
        Field::MapOptional(_) => hints.push(hint("Space", "toggle")),
        Field::MapMore(_) => hints.push(hint("Enter", "entry options")),
        Field::MapRemove(_) => hints.push(hint("Enter", "remove the entry")),
        Field::MapAdd => hints.push(hint("Enter", "add an entry for this path")),
        Field::Verify
        | Field::Back
        | Field::Next
        | Field::Save
        | Field::SaveActivate
        | Field::StartRun
        | Field::StopRun => hints.push(hint("Enter", "press")),
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
            } else if let Some(pulldown) = pulldown_mut_ref(model, field) {
                hints.extend(pulldown.hints());
            }
        }
    }
    if model.step == Step::Configure && model.focus != Field::Pane && model.focus != Field::Editor {
        hints.push(hint("Ctrl-S", "send test"));
    }
    if !is_text(model, model.focus) {
        hints.push(hint("?", "help"));
    } else {
        hints.push(hint("F1", "help"));
    }
    hints.extend([
        hint("Tab", "next"),
        hint("Ctrl-N", "next step"),
        hint("Ctrl-C", "quit"),
    ]);
    hints
}
