//! Form sections made of typed settings. A setting owns its widget (a number with a range or a
//! choice over an enum), loads its value from the destination, applies an edit back to exactly
//! its own key, and says what to draw under it. A section is an ordered list of settings with a
//! title; the screen asks it for focus order, labels, hints and notes instead of knowing them.

pub mod batching;
pub mod capture;
pub mod delivery;
pub mod request;
pub mod schedule;
pub mod sync;

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::destination::Destination;
use crate::tui::widgets::choice::{self, ChoiceItem};
use crate::tui::widgets::number::NumberInput;
use crate::tui::widgets::{Checkbox, Hint, Outcome, Pulldown, TextInput};

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
/// Writes typed text into the destination, or says why it cannot be used (writing nothing).
type Parse = Arc<dyn Fn(&mut Destination, &str) -> Result<(), String> + Send + Sync>;
/// Whether a setting is offered for the destination as it is now.
type Shown = Arc<dyn Fn(&Destination) -> bool + Send + Sync>;

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
    /// Free text, checked as it is typed.
    Text {
        input: TextInput,
        get: Read<String>,
        set: Parse,
    },
    Toggle {
        checkbox: Checkbox,
        get: Read<bool>,
        set: Write<bool>,
    },
    /// One of options that come from outside the destination (the dataset's attributes).
    Pick {
        pulldown: Pulldown,
        get: Read<String>,
        set: Write<String>,
    },
}

/// One setting of a section: its widget and how it reads and writes the destination.
#[derive(Clone)]
pub struct Setting {
    pub id: SettingId,
    pub label: &'static str,
    control: Control,
    notes: Option<Notes>,
    shown: Option<Shown>,
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Setting");
        s.field("id", &self.id);
        match &self.control {
            Control::Number { input, .. } => s.field("number", input),
            Control::Choice { pulldown, .. } => s.field("choice", pulldown),
            Control::Text { input, .. } => s.field("text", input),
            Control::Toggle { checkbox, .. } => s.field("toggle", checkbox),
            Control::Pick { pulldown, .. } => s.field("pick", pulldown),
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
                (Control::Text { input: a, .. }, Control::Text { input: b, .. }) => a == b,
                (Control::Toggle { checkbox: a, .. }, Control::Toggle { checkbox: b, .. }) => {
                    a == b
                }
                (Control::Pick { pulldown: a, .. }, Control::Pick { pulldown: b, .. }) => a == b,
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
            shown: None,
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
            shown: None,
        }
    }

    /// Text typed in a field; `set` checks it and writes it, or says what is wrong and writes
    /// nothing.
    pub fn text(
        id: SettingId,
        label: &'static str,
        placeholder: &'static str,
        get: fn(&Destination) -> String,
        set: fn(&mut Destination, &str) -> Result<(), String>,
    ) -> Self {
        Setting {
            id,
            label,
            control: Control::Text {
                input: TextInput::default().with_placeholder(placeholder),
                get: Arc::new(get),
                set: Arc::new(set),
            },
            notes: None,
            shown: None,
        }
    }

    /// A checkbox; `text` is drawn beside the box.
    pub fn toggle(
        id: SettingId,
        label: &'static str,
        text: &'static str,
        get: fn(&Destination) -> bool,
        set: fn(&mut Destination, bool),
    ) -> Self {
        Setting {
            id,
            label,
            control: Control::Toggle {
                checkbox: Checkbox::new(text, false),
                get: Arc::new(get),
                set: Arc::new(set),
            },
            notes: None,
            shown: None,
        }
    }

    /// One of options given later with [`Setting::offer`] (the current value is always one).
    pub fn pick(
        id: SettingId,
        label: &'static str,
        get: fn(&Destination) -> String,
        set: fn(&mut Destination, String),
    ) -> Self {
        Setting {
            id,
            label,
            control: Control::Pick {
                pulldown: Pulldown::new(Vec::new(), 0),
                get: Arc::new(get),
                set: Arc::new(set),
            },
            notes: None,
            shown: None,
        }
    }

    /// Offered only while `when` holds for the destination (a setting of a feature turned on).
    pub fn shown_when(mut self, when: fn(&Destination) -> bool) -> Self {
        self.shown = Some(Arc::new(when));
        self
    }

    pub fn is_shown(&self, dest: &Destination) -> bool {
        self.shown.as_ref().is_none_or(|when| when(dest))
    }

    /// Sets the options of a pick, keeping the destination's value among them and selected.
    pub fn offer(&mut self, options: Vec<String>, dest: &Destination) {
        if let Control::Pick { pulldown, get, .. } = &mut self.control {
            let current = get(dest);
            let mut options = options;
            if !current.is_empty() && !options.contains(&current) {
                options.insert(0, current.clone());
            }
            pulldown.set_options(options);
            let at = pulldown.options().iter().position(|o| *o == current);
            pulldown.select(at.unwrap_or(0));
        }
    }

    /// Whether the widget shows the value the destination holds (not an edit it refused).
    fn holds(&self, dest: &Destination) -> bool {
        match &self.control {
            Control::Number { input, get, .. } => input.value() == Ok(get(dest)),
            Control::Text { input, get, .. } => input.value() == get(dest),
            _ => true,
        }
    }

    /// A pick whose destination value is empty while it has options: applying it writes the
    /// first option (a feature just turned on takes the best suggestion).
    fn wants_default(&self, dest: &Destination) -> bool {
        match &self.control {
            Control::Pick { pulldown, get, .. } => {
                get(dest).is_empty() && !pulldown.options().is_empty()
            }
            _ => false,
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
            Control::Text { input, get, .. } => input.set_value(get(dest)),
            Control::Toggle { checkbox, get, .. } => checkbox.checked = get(dest),
            Control::Pick { pulldown, get, .. } => {
                let current = get(dest);
                if let Some(at) = pulldown.options().iter().position(|o| *o == current) {
                    pulldown.select(at);
                } else if !current.is_empty() {
                    let mut options = pulldown.options().to_vec();
                    options.insert(0, current);
                    pulldown.set_options(options);
                    pulldown.select(0);
                }
            }
        }
    }

    /// Writes the widget's value to the destination, or says why it cannot be used (the
    /// destination then keeps its last good value).
    pub fn apply(&self, dest: &mut Destination) -> Result<(), String> {
        match &self.control {
            Control::Number { input, set, .. } => set(dest, input.value()?),
            Control::Choice { pulldown, set, .. } => set(dest, pulldown.selected()),
            Control::Text { input, set, .. } => set(dest, input.value())?,
            Control::Toggle { checkbox, set, .. } => set(dest, checkbox.checked),
            Control::Pick { pulldown, set, .. } => {
                if !pulldown.options().is_empty() {
                    set(dest, pulldown.selected_label().to_string())
                }
            }
        }
        Ok(())
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match &mut self.control {
            Control::Number { input, .. } => input.handle_key(key),
            Control::Choice { pulldown, .. } | Control::Pick { pulldown, .. } => {
                pulldown.handle_key(key)
            }
            Control::Text { input, .. } => input.handle_key(key),
            Control::Toggle { checkbox, .. } => checkbox.handle_key(key),
        }
    }

    pub fn hints(&self) -> Vec<Hint> {
        match &self.control {
            Control::Number { input, .. } => input.hints(),
            Control::Choice { pulldown, .. } | Control::Pick { pulldown, .. } => pulldown.hints(),
            Control::Text { input, .. } => input.hints(),
            Control::Toggle { checkbox, .. } => checkbox.hints(),
        }
    }

    /// A number or text is typed, so printable keys belong to it.
    pub fn takes_text(&self) -> bool {
        matches!(self.control, Control::Number { .. } | Control::Text { .. })
    }

    pub fn text_input(&self) -> Option<&TextInput> {
        match &self.control {
            Control::Number { input, .. } => Some(input.text_input()),
            Control::Text { input, .. } => Some(input),
            _ => None,
        }
    }

    pub fn text_input_mut(&mut self) -> Option<&mut TextInput> {
        match &mut self.control {
            Control::Number { input, .. } => Some(input.text_input_mut()),
            Control::Text { input, .. } => Some(input),
            _ => None,
        }
    }

    pub fn pulldown(&self) -> Option<&Pulldown> {
        match &self.control {
            Control::Choice { pulldown, .. } | Control::Pick { pulldown, .. } => Some(pulldown),
            _ => None,
        }
    }

    pub fn pulldown_mut(&mut self) -> Option<&mut Pulldown> {
        match &mut self.control {
            Control::Choice { pulldown, .. } | Control::Pick { pulldown, .. } => Some(pulldown),
            _ => None,
        }
    }

    pub fn checkbox(&self) -> Option<&Checkbox> {
        match &self.control {
            Control::Toggle { checkbox, .. } => Some(checkbox),
            _ => None,
        }
    }

    pub fn checkbox_mut(&mut self) -> Option<&mut Checkbox> {
        match &mut self.control {
            Control::Toggle { checkbox, .. } => Some(checkbox),
            _ => None,
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
    /// Whether the title is drawn as a heading above the first setting (a section whose first
    /// setting names it, such as the Batching checkbox, has none).
    pub heading: bool,
    pub settings: Vec<Setting>,
}

impl Section {
    pub fn new(title: &'static str, settings: Vec<Setting>) -> Self {
        Section {
            title,
            heading: true,
            settings,
        }
    }

    /// The section's title names it on the help page and for Alt-N only, not above its settings.
    pub fn without_heading(mut self) -> Self {
        self.heading = false;
        self
    }

    /// The settings offered for the destination as it is now, in order.
    pub fn shown_ids<'a>(&'a self, dest: &'a Destination) -> impl Iterator<Item = SettingId> + 'a {
        self.settings
            .iter()
            .filter(|s| s.is_shown(dest))
            .map(|s| s.id)
    }

    /// Applies the edited setting `id`; then every other setting shows what the destination now
    /// holds (a choice can change what they mean), and a pick a feature just turned on needs
    /// takes its first suggestion.
    pub fn apply_setting(&mut self, id: &str, dest: &mut Destination) -> Result<(), String> {
        let Some(setting) = self.get(id) else {
            return Ok(());
        };
        let before = dest.clone();
        setting.apply(dest)?;
        for other in &mut self.settings {
            if other.id == id {
                continue;
            }
            if other.is_shown(dest) && other.wants_default(dest) {
                other.apply(dest)?;
            }
            // A field shown with text it could not apply keeps that text until it is fixed.
            let edited = other.is_shown(&before) && !other.holds(&before);
            if !edited {
                other.load(dest);
            }
        }
        Ok(())
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
        self.heading && self.settings.first().is_some_and(|s| s.id == id)
    }
}
