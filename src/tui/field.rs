//! The steps of the wizard and everything on them that can hold the focus.

use crate::tui::sections::SettingId;
use crate::tui::sections::request::Part;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Source,
    Configure,
    Save,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Source, Step::Configure, Step::Save];

    pub fn title(self) -> &'static str {
        match self {
            Step::Source => "Source & credential",
            Step::Configure => "Configure",
            Step::Save => "Save & activate",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Everything that can hold the focus. Mapping rows are addressed by their index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    DatasetPath,
    Credential,
    CredName,
    CredDescription,
    CredApiId,
    CredToken,
    CredKind,
    CredAdvanced,
    CredBaseUrl,
    Verify,
    Tabs,
    Endpoint,
    Resource,
    CustomPath,
    /// A template parameter (`id_attribute`, …), by its index in the template.
    TemplateParam(usize),
    MapSource(usize),
    MapConstant(usize),
    MapTransform(usize),
    /// Opens or closes the entry's options (optional, only if, country, remove).
    MapMore(usize),
    MapOptional(usize),
    MapIfPresent(usize),
    MapCountry(usize),
    MapRemove(usize),
    /// A target path to add a mapping entry for.
    MapAdd,
    Method,
    ContentFormat,
    Url,
    Headers,
    Exclude,
    /// A setting of a section (Batching, Capture, Delivery, Sync, Schedule), by its key in the
    /// destination file.
    Setting(SettingId),
    Pane,
    Editor,
    DestName,
    SavePath,
    Save,
    SaveActivate,
    StartRun,
    StopRun,
    Back,
    Next,
}

impl Field {
    /// A button: Enter or Space presses it.
    pub fn is_button(self) -> bool {
        matches!(
            self,
            Field::Verify
                | Field::Back
                | Field::Next
                | Field::Save
                | Field::SaveActivate
                | Field::StartRun
                | Field::StopRun
        )
    }
}

impl Field {
    /// The part of the Request section this field is, if it is one.
    pub fn request_part(self) -> Option<Part> {
        Some(match self {
            Field::Method => Part::Method,
            Field::ContentFormat => Part::ContentFormat,
            Field::Url => Part::Url,
            Field::Headers => Part::Headers,
            Field::Exclude => Part::Exclude,
            _ => return None,
        })
    }
}

impl From<Part> for Field {
    fn from(part: Part) -> Self {
        match part {
            Part::Method => Field::Method,
            Part::ContentFormat => Field::ContentFormat,
            Part::Url => Field::Url,
            Part::Headers => Field::Headers,
            Part::Exclude => Field::Exclude,
        }
    }
}
