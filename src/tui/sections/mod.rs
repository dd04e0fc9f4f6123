//! Form sections made of typed settings. A setting owns its widget (a number with a range or a
//! choice over an enum), loads its value from the destination, applies an edit back to exactly
//! its own key, and says what to draw under it. A section is an ordered list of settings with a
//! title; the screen asks it for focus order, labels, hints and notes instead of knowing them.

pub mod delivery;
pub mod request;

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::destination::Destination;
use crate::tui::widgets::choice::{self, ChoiceItem};
use crate::tui::widgets::number::NumberInput;
use crate::tui::widgets::{Hint, Outcome, Pulldown, TextInput};

/// Names a setting on screen (in `Field::Setting`) by its key in the destination file.
pub type SettingId = &'static str;

/// How a note under a setting is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Explain,
    Warn,
}

/// A line drawn under a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub tone: Tone,
    pub text: String,
}

impl Note {
    pub fn explain(text: impl Into<String>) -> Self {
        Note {
            tone: Tone::Explain,
            text: text.into(),
        }
    }

    pub fn warn(text: impl Into<String>) -> Self {
        Note {
            tone: Tone::Warn,
            text: text.into(),
        }
    }
}

type Notes = Arc<dyn Fn(&Destination) -> Vec<Note> + Send + Sync>;
/// Reads a setting's value from the destination.
type Read<T> = Arc<dyn Fn(&Destination) -> T + Send + Sync>;
/// Writes a setting's value into the destination.
type Write<T> = Arc<dyn Fn(&mut Destination, T) + Send + Sync>;

#[derive(Clone)]
enum Control {
    Number {
        input: NumberInput,
        get: Read<u64>,
        set: Write<u64>,
    },
    Choice {
        pulldown: Pulldown,
        get: Read<usize>,
        set: Write<usize>,
        explain: Arc<dyn Fn(usize) -> &'static str + Send + Sync>,
    },
}

/// One setting of a section: its widget and how it reads and writes the destination.
#[derive(Clone)]
pub struct Setting {
    pub id: SettingId,
    pub label: &'static str,
    control: Control,
    notes: Option<Notes>,
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Setting");
        s.field("id", &self.id);
        match &self.control {
            Control::Number { input, .. } => s.field("number", input),
            Control::Choice { pulldown, .. } => s.field("choice", pulldown),
        };
        s.finish()
    }
}

impl PartialEq for Setting {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && match (&self.control, &other.control) {
                (Control::Number { input: a, .. }, Control::Number { input: b, .. }) => a == b,
                (Control::Choice { pulldown: a, .. }, Control::Choice { pulldown: b, .. }) => {
                    a == b
                }
                _ => false,
            }
    }
}

impl Setting {
    /// A whole number within `range`, read and written as the destination's own integer type.
    pub fn number<T>(
        id: SettingId,
        label: &'static str,
        range: RangeInclusive<u64>,
        unit: &'static str,
        get: fn(&Destination) -> T,
        set: fn(&mut Destination, T),
    ) -> Self
    where
        T: Copy + TryFrom<u64> + TryInto<u64> + 'static,
    {
        Setting {
            id,
            label,
            control: Control::Number {
                input: NumberInput::new(0, range, unit),
                get: Arc::new(move |d| get(d).try_into().unwrap_or(u64::MAX)),
                set: Arc::new(move |d, v| {
                    if let Ok(v) = T::try_from(v) {
                        set(d, v);
                    }
                }),
            },
            notes: None,
        }
    }

    /// One value of the enum `E`; the chosen value's explanation is drawn under it.
    pub fn choice<E: ChoiceItem>(
        id: SettingId,
        label: &'static str,
        get: fn(&Destination) -> E,
        set: fn(&mut Destination, E),
    ) -> Self {
        Setting {
            id,
            label,
            control: Control::Choice {
                pulldown: choice::pulldown_of(E::ALL[0]),
                get: Arc::new(move |d| choice::index_of(get(d))),
                set: Arc::new(move |d, i| {
                    if let Some(v) = E::ALL.get(i) {
                        set(d, *v);
                    }
                }),
                explain: Arc::new(|i| E::ALL.get(i).map(|v| v.explain()).unwrap_or("")),
            },
            notes: None,
        }
    }

    /// Lines drawn under the setting, from the destination as it is now.
    pub fn with_notes(
        mut self,
        notes: impl Fn(&Destination) -> Vec<Note> + Send + Sync + 'static,
    ) -> Self {
        self.notes = Some(Arc::new(notes));
        self
    }

    pub fn load(&mut self, dest: &Destination) {
        match &mut self.control {
            Control::Number { input, get, .. } => input.set(get(dest)),
            Control::Choice { pulldown, get, .. } => pulldown.select(get(dest)),
        }
    }

    /// Writes the widget's value to the destination, or says why it cannot be used (the
    /// destination then keeps its last good value).
    pub fn apply(&self, dest: &mut Destination) -> Result<(), String> {
        match &self.control {
            Control::Number { input, set, .. } => set(dest, input.value()?),
            Control::Choice { pulldown, set, .. } => set(dest, pulldown.selected()),
        }
        Ok(())
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match &mut self.control {
            Control::Number { input, .. } => input.handle_key(key),
            Control::Choice { pulldown, .. } => pulldown.handle_key(key),
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        match &self.control {
            Control::Number { input, .. } => input.hints(),
            Control::Choice { pulldown, .. } => pulldown.hints(),
        }
    }

    /// A number is typed, so printable keys belong to it.
    pub fn takes_text(&self) -> bool {
        matches!(self.control, Control::Number { .. })
    }

    pub fn text_input(&self) -> Option<&TextInput> {
        match &self.control {
            Control::Number { input, .. } => Some(input.text_input()),
            Control::Choice { .. } => None,
        }
    }

    pub fn text_input_mut(&mut self) -> Option<&mut TextInput> {
        match &mut self.control {
            Control::Number { input, .. } => Some(input.text_input_mut()),
            Control::Choice { .. } => None,
        }
    }

    pub fn pulldown(&self) -> Option<&Pulldown> {
        match &self.control {
            Control::Choice { pulldown, .. } => Some(pulldown),
            Control::Number { .. } => None,
        }
    }

    pub fn pulldown_mut(&mut self) -> Option<&mut Pulldown> {
        match &mut self.control {
            Control::Choice { pulldown, .. } => Some(pulldown),
            Control::Number { .. } => None,
        }
    }

    /// What to draw under the setting: the chosen value's meaning, then the setting's notes.
    pub fn notes(&self, dest: &Destination) -> Vec<Note> {
        let mut notes = Vec::new();
        if let Control::Choice {
            pulldown, explain, ..
        } = &self.control
        {
            let text = explain(pulldown.selected());
            if !text.is_empty() {
                notes.push(Note::explain(text));
            }
        }
        if let Some(extra) = &self.notes {
            notes.extend(extra(dest));
        }
        notes
    }
}

/// A titled group of settings, in the order they are drawn and focused.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: &'static str,
    pub settings: Vec<Setting>,
}

impl Section {
    pub fn new(title: &'static str, settings: Vec<Setting>) -> Self {
        Section { title, settings }
    }

    /// Every setting's widget set from the destination.
    pub fn load(&mut self, dest: &Destination) {
        for setting in &mut self.settings {
            setting.load(dest);
        }
    }

    pub fn ids(&self) -> impl Iterator<Item = SettingId> + '_ {
        self.settings.iter().map(|s| s.id)
    }

    pub fn get(&self, id: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Setting> {
        self.settings.iter_mut().find(|s| s.id == id)
    }

    /// Whether `id` is the section's first setting, under which its title is drawn.
    pub fn starts_with(&self, id: &str) -> bool {
        self.settings.first().is_some_and(|s| s.id == id)
    }
}
