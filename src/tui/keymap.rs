//! The wizard's global key bindings as one table of actions. The update function looks a key's
//! action up here and the help bar and help page list the same table, so a key cannot be shown
//! without working, nor work without being shown.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::widgets::{Hint, hint};

/// What a global key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    NextField,
    PreviousField,
    NextStep,
    PreviousStep,
    Help,
    SendTest,
    /// Focus the first field of the form's section with this index (0-based).
    JumpToSection(usize),
    /// Close what is open, or go back a step (only when the focused widget has no use for Esc).
    Back,
}

/// Where a binding is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Before the focused widget sees the key.
    Everywhere,
    /// Before the widget, unless the focused widget takes typed text.
    OutsideText,
    /// Before the widget, on the Configure step.
    Configure,
    /// Only when the focused widget had no use for the key.
    Fallback,
}

/// When a binding appears in the help bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bar {
    Never,
    Always,
    InText,
    /// On the Configure step, outside the sample pane (which shows its own).
    ConfigureForm,
    /// When the form is long enough to want jumps (more than three sections).
    WithSections,
}

#[derive(Debug, Clone, Copy)]
enum Keys {
    Exact(KeyCode, KeyModifiers),
    /// Alt with a digit 1–9: the digit picks the section.
    AltDigit,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    keys: Keys,
    action: Action,
    pub shown: &'static str,
    pub does: &'static str,
    scope: Scope,
    bar: Bar,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// Every global binding, in the order the help bar lists them.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: Keys::Exact(KeyCode::Char('s'), CTRL),
        action: Action::SendTest,
        shown: "Ctrl-S",
        does: "send test",
        scope: Scope::Configure,
        bar: Bar::ConfigureForm,
    },
    Binding {
        keys: Keys::AltDigit,
        action: Action::JumpToSection(0),
        shown: "Alt-1…9",
        does: "sections",
        scope: Scope::Everywhere,
        bar: Bar::WithSections,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Char('?'), NONE),
        action: Action::Help,
        shown: "?",
        does: "help",
        scope: Scope::OutsideText,
        bar: Bar::Always,
    },
    Binding {
        keys: Keys::Exact(KeyCode::F(1), NONE),
        action: Action::Help,
        shown: "F1",
        does: "help",
        scope: Scope::Everywhere,
        bar: Bar::InText,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Tab, NONE),
        action: Action::NextField,
        shown: "Tab",
        does: "next",
        scope: Scope::Everywhere,
        bar: Bar::Always,
    },
    Binding {
        keys: Keys::Exact(KeyCode::BackTab, NONE),
        action: Action::PreviousField,
        shown: "Shift-Tab",
        does: "previous",
        scope: Scope::Everywhere,
        bar: Bar::Never,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Char('n'), CTRL),
        action: Action::NextStep,
        shown: "Ctrl-N",
        does: "next step",
        scope: Scope::Everywhere,
        bar: Bar::Always,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Char('b'), CTRL),
        action: Action::PreviousStep,
        shown: "Ctrl-B",
        does: "previous step",
        scope: Scope::Everywhere,
        bar: Bar::Never,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Esc, NONE),
        action: Action::Back,
        shown: "Esc",
        does: "close, cancel, back a step",
        scope: Scope::Fallback,
        bar: Bar::Never,
    },
    Binding {
        keys: Keys::Exact(KeyCode::Char('c'), CTRL),
        action: Action::Quit,
        shown: "Ctrl-C",
        does: "quit",
        scope: Scope::Everywhere,
        bar: Bar::Always,
    },
];

/// What the keymap needs to know about the screen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The focused widget takes typed text.
    pub in_text: bool,
    pub configure: bool,
    /// The sample pane or its editor has the focus.
    pub in_pane: bool,
    /// How many sections the form can jump to.
    pub sections: usize,
}

impl Binding {
    fn matches(&self, key: &KeyEvent) -> Option<Action> {
        match self.keys {
            Keys::AltDigit => match key.code {
                KeyCode::Char(c @ '1'..='9') if key.modifiers.contains(KeyModifiers::ALT) => {
                    Some(Action::JumpToSection(c as usize - '1' as usize))
                }
                _ => None,
            },
            Keys::Exact(code, modifiers) => {
                let held = key.modifiers - KeyModifiers::SHIFT;
                let fits = if modifiers.is_empty() {
                    !held.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                } else {
                    held.contains(modifiers)
                };
                (key.code == code && fits).then_some(self.action)
            }
        }
    }

    fn applies(&self, ctx: &Context, fallback: bool) -> bool {
        match self.scope {
            Scope::Fallback => fallback,
            _ if fallback => false,
            Scope::Everywhere => true,
            Scope::OutsideText => !ctx.in_text,
            Scope::Configure => ctx.configure,
        }
    }

    fn in_bar(&self, ctx: &Context) -> bool {
        match self.bar {
            Bar::Never => false,
            Bar::Always => self.applies(ctx, false),
            Bar::InText => ctx.in_text,
            Bar::ConfigureForm => ctx.configure && !ctx.in_pane,
            Bar::WithSections => ctx.sections > 3,
        }
    }

    pub fn hint(&self) -> Hint {
        hint(self.shown, self.does)
    }

    /// Where the binding works, for the help page ("" when everywhere).
    pub fn scope_note(&self) -> &'static str {
        match self.scope {
            Scope::Everywhere => "",
            Scope::OutsideText => " (outside text fields)",
            Scope::Configure => " (step 2)",
            Scope::Fallback => " (when the field has no use for it)",
        }
    }
}

/// The action of a key before the focused widget sees it.
pub fn action_for(key: &KeyEvent, ctx: &Context) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.applies(ctx, false))
        .find_map(|b| b.matches(key))
}

/// The action of a key the focused widget had no use for.
pub fn fallback_for(key: &KeyEvent, ctx: &Context) -> Option<Action> {
    BINDINGS
        .iter()
        .filter(|b| b.applies(ctx, true))
        .find_map(|b| b.matches(key))
}

/// The global part of the help bar.
pub fn bar(ctx: &Context) -> Vec<Hint> {
    BINDINGS
        .iter()
        .filter(|b| b.in_bar(ctx))
        .map(Binding::hint)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn a_question_mark_is_help_outside_text_and_typed_inside() {
        let outside = Context::default();
        let inside = Context {
            in_text: true,
            ..Context::default()
        };
        let q = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&q, &outside), Some(Action::Help));
        assert_eq!(action_for(&q, &inside), None);
        assert_eq!(
            action_for(&key(KeyCode::F(1), NONE), &inside),
            Some(Action::Help)
        );
    }

    #[test]
    fn alt_digits_jump_to_sections_and_plain_digits_do_not() {
        let ctx = Context::default();
        assert_eq!(
            action_for(&key(KeyCode::Char('3'), KeyModifiers::ALT), &ctx),
            Some(Action::JumpToSection(2))
        );
        assert_eq!(action_for(&key(KeyCode::Char('3'), NONE), &ctx), None);
    }

    #[test]
    fn esc_is_only_a_fallback_and_send_test_only_on_configure() {
        let ctx = Context::default();
        let esc = key(KeyCode::Esc, NONE);
        assert_eq!(action_for(&esc, &ctx), None);
        assert_eq!(fallback_for(&esc, &ctx), Some(Action::Back));
        let send = key(KeyCode::Char('s'), CTRL);
        assert_eq!(action_for(&send, &ctx), None);
        let configure = Context {
            configure: true,
            ..ctx
        };
        assert_eq!(action_for(&send, &configure), Some(Action::SendTest));
    }

    #[test]
    fn the_bar_lists_what_applies_here() {
        let text = bar(&Context {
            in_text: true,
            ..Context::default()
        });
        let keys: Vec<&str> = text.iter().map(|h| h.keys).collect();
        assert_eq!(keys, ["F1", "Tab", "Ctrl-N", "Ctrl-C"]);
        let form = bar(&Context {
            configure: true,
            sections: 5,
            ..Context::default()
        });
        let keys: Vec<&str> = form.iter().map(|h| h.keys).collect();
        assert_eq!(keys, ["Ctrl-S", "Alt-1…9", "?", "Tab", "Ctrl-N", "Ctrl-C"]);
    }
}
