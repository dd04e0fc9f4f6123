//! The wizard's state as plain data: the destination being edited, the widgets of each step,
//! and the state of background work (dataset inspection, Verify, Send Test, a run).
//!
//! The [`Destination`] is the source of truth. Widgets start from it and each edit writes back
//! only the setting it changed, so re-saving a loaded file changes nothing that was not edited.

use std::path::PathBuf;

use crate::client::PingOutcome;
use crate::credentials::{AuthKind, Credential, TokenSource};
use crate::destination::{
    ContentFormat, Destination, FieldMapping, Method, Mode, Status, TemplateRef, Transform,
};
use crate::records::Format;
use crate::secret::Secret;
use crate::tui::areas::Layout;
use crate::tui::dataset::Dataset;
pub use crate::tui::field::{Field, Step};
use crate::tui::msg::{RunProgress, TaskId, TestResponse};
use crate::tui::sections::{Section, Setting, SettingId};
use crate::tui::theme::Theme;
use crate::tui::widgets::{BodyEditor, Checkbox, JsonView, Pulldown, Tabs, TextInput};

mod configure;
mod health;
mod mapping;
mod starter;
pub use configure::*;
pub use health::*;
pub use mapping::*;
pub use starter::*;

pub const NEW_CREDENTIAL: &str = "New credential…";
pub const CUSTOM_RESOURCE: &str = "custom…";
pub const MANUAL_ENDPOINT: &str = "None (manual, Advanced tab)";
pub use crate::rules::DEFAULT_BASE_URL;
/// How many requests the sample pane shows.
pub const PANE_REQUESTS: usize = 10;

/// What starts the wizard: an existing destination or nothing, and what the machine offers.
#[derive(Debug, Clone, Default)]
pub struct Init {
    pub dest_path: Option<PathBuf>,
    pub destination: Option<Destination>,
    /// `--input`: the dataset to use instead of the destination's source.
    pub input: Option<PathBuf>,
    pub credentials: Vec<Credential>,
    /// The "Local sandbox" credential of the embedded default, pointing at the in-process sandbox.
    pub sandbox: Option<Credential>,
    /// Dataset opened when nothing else names one (the bundled sample).
    pub default_dataset: Option<PathBuf>,
    /// The text the destination was loaded from, so saving keeps its comments and layout.
    pub original_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verify {
    Idle,
    Running(TaskId),
    Done(PingOutcome),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inspect {
    Idle,
    Running(TaskId),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Unknown,
    Counting(TaskId),
    Known(u64),
    /// Too large to count cheaply.
    Skipped,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceForm {
    pub path: TextInput,
    pub dataset: Option<Dataset>,
    pub inspect: Inspect,
    pub count: Count,
    pub completion: Option<TaskId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialForm {
    pub pick: Pulldown,
    pub name: TextInput,
    pub description: TextInput,
    pub api_id: TextInput,
    pub token: TextInput,
    pub kind: Pulldown,
    pub advanced: Checkbox,
    pub base_url: TextInput,
    pub verify: Verify,
    pub error: Option<String>,
}

/// One request of the sample pane, exactly as `preview` prints it, or a record that is invalid.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Request {
        preview: serde_json::Value,
        request: crate::request::Request,
    },
    Invalid {
        record: u64,
        line: u64,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestState {
    Idle,
    Editing,
    Sending { id: TaskId, started_tick: u64 },
    Done(TestResponse),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pane {
    pub samples: Vec<Sample>,
    pub selected: usize,
    pub expanded: bool,
    /// The pane takes the whole screen below the step indicator.
    pub fullscreen: bool,
    pub body: JsonView,
    pub error: Option<String>,
    /// Mapped fields left out of every body because their source attribute is excluded, as
    /// (target, source attribute).
    pub excluded_fields: Vec<(String, String)>,
    /// Exclusions that change nothing, each with the reason (shown beside the exclude list).
    pub ineffective_exclusions: Vec<String>,
    pub test: TestState,
    pub editor: Option<BodyEditor>,
    pub response: JsonView,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    Idle,
    Running { id: TaskId, progress: RunProgress },
    Finished(Result<RunProgress, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SaveForm {
    pub name: TextInput,
    pub path: TextInput,
    pub saved: Option<(PathBuf, Status)>,
    pub error: Option<String>,
    pub run: Run,
    /// The last records the run did not deliver, newest last.
    pub run_failures: Vec<String>,
    pub run_outputs: Option<crate::tui::msg::RunOutputs>,
    /// How far Stop has been pressed for the run going.
    pub stopping: Stopping,
    /// The file text being written, which becomes the text later saves keep the layout of.
    pub pending_text: Option<String>,
}

/// Stop pressed once drains (requests in flight finish), twice stops at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopping {
    No,
    Draining,
    Now,
}

/// How many failures the run view keeps.
pub const RUN_FAILURES_SHOWN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub width: u16,
    pub height: u16,
    pub step: Step,
    pub focus: Field,
    pub help: bool,
    pub quit: bool,
    /// Ctrl-C was pressed with something to lose: the question is on screen.
    pub quit_asked: bool,
    /// The mapping last suggested from the dataset's attributes, to tell whether the person
    /// has changed it since (an unchanged suggestion follows a new dataset).
    pub suggested_mapping: Option<Vec<crate::destination::FieldMapping>>,
    /// The person changed a setting since the destination was loaded or last saved.
    pub unsaved_edits: bool,
    pub theme: Theme,
    pub tick: u64,
    /// Where everything was on the last frame drawn; mouse clicks are matched against it.
    pub drawn: Layout,
    next_id: u64,
    pub notice: Option<(Level, String)>,
    pub dest: Destination,
    pub dest_path: Option<PathBuf>,
    pub credentials: Vec<Credential>,
    pub source: SourceForm,
    pub credential: CredentialForm,
    pub configure: ConfigureForm,
    pub pane: Pane,
    pub save: SaveForm,
    /// First line of form rows shown, per step, so long forms scroll with the focus.
    pub scroll: u16,
    /// Whether the last key given to the focused widget was used by it.
    pub last_key_consumed: bool,
    /// The dataset path was typed in this session (so a relative one is made absolute on save).
    pub source_edited: bool,
    /// The name of the credential that exists only in this process (the embedded sandbox's).
    pub ephemeral_credential: Option<String>,
    /// The destination file's text as loaded or last saved: saving writes over it, keeping
    /// the comments and layout of everything not edited.
    pub original_text: Option<String>,
}

impl Model {
    pub fn new(init: Init) -> Self {
        let mut credentials = init.credentials.clone();
        if let Some(sandbox) = &init.sandbox
            && !credentials.iter().any(|c| c.name == sandbox.name)
        {
            credentials.insert(0, sandbox.clone());
        }
        let dataset_path = init
            .input
            .clone()
            .or_else(|| {
                init.destination
                    .as_ref()
                    .map(|d| resolve_source(&d.source.path, init.dest_path.as_deref()))
            })
            .or(init.default_dataset.clone())
            .unwrap_or_default();
        let dest = match &init.destination {
            Some(dest) => dest.clone(),
            None => starter_destination(
                &dataset_path,
                credentials.first().map(|c| c.name.as_str()).unwrap_or(""),
            ),
        };
        let mut pick_options: Vec<String> = credentials.iter().map(|c| c.name.clone()).collect();
        pick_options.push(NEW_CREDENTIAL.into());
        // A credential the destination names but this machine lacks is offered as a new one
        // under that name, rather than silently swapped for another.
        let new_index = pick_options.len() - 1;
        let pick = credentials
            .iter()
            .position(|c| c.name == dest.credential)
            .unwrap_or(new_index);
        let missing_name = if pick == new_index {
            dest.credential.clone()
        } else {
            String::new()
        };
        let theme = Theme::default();
        let save_path = init
            .dest_path
            .clone()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| format!("{}.toml", dest.name));
        let mut model = Model {
            width: 80,
            height: 24,
            step: Step::Source,
            focus: Field::DatasetPath,
            help: false,
            quit: false,
            quit_asked: false,
            unsaved_edits: false,
            suggested_mapping: None,
            tick: 0,
            drawn: Layout::default(),
            next_id: 0,
            notice: None,
            dest_path: init.dest_path.clone(),
            credentials,
            source: SourceForm {
                path: TextInput::new(dataset_path.display().to_string())
                    .with_placeholder("path to a CSV, JSON Lines or JSON file"),
                dataset: None,
                inspect: Inspect::Idle,
                count: Count::Unknown,
                completion: None,
            },
            credential: CredentialForm {
                pick: Pulldown::new(pick_options, pick),
                name: TextInput::new(missing_name).with_placeholder("e.g. aircall-prod"),
                description: TextInput::default().with_placeholder("optional"),
                api_id: TextInput::default().with_placeholder("Company settings → API"),
                token: TextInput::masked().with_placeholder("hidden while typed"),
                kind: Pulldown::new(
                    vec![
                        "Basic (API ID + token)".into(),
                        "Bearer (OAuth token)".into(),
                    ],
                    0,
                ),
                advanced: Checkbox::new("advanced", false),
                base_url: TextInput::new(DEFAULT_BASE_URL),
                verify: Verify::Idle,
                error: None,
            },
            configure: ConfigureForm {
                tabs: Tabs::new(vec!["Template", "Advanced"]),
                endpoint: Pulldown::new(Vec::new(), 0),
                resource: Pulldown::new(Vec::new(), 0),
                custom_path: TextInput::default().with_placeholder("/v1/tags"),
                parameters: Vec::new(),
                mapping: Vec::new(),
                added_targets: Vec::new(),
                add_target: TextInput::default()
                    .with_placeholder("target path, e.g. emails[1].value; Enter adds"),
                request: Default::default(),
                batching: crate::tui::sections::batching::section(),
                capture: crate::tui::sections::capture::section(),
                delivery: crate::tui::sections::delivery::section(),
                sync: crate::tui::sections::sync::section(),
                schedule: crate::tui::sections::schedule::section(),
                sync_preview: SyncPreview::Off,
                errors: Vec::new(),
            },
            pane: Pane {
                samples: Vec::new(),
                selected: 0,
                expanded: false,
                fullscreen: false,
                body: JsonView::default(),
                error: None,
                excluded_fields: Vec::new(),
                ineffective_exclusions: Vec::new(),
                test: TestState::Idle,
                editor: None,
                response: JsonView::default(),
            },
            save: SaveForm {
                name: TextInput::new(dest.name.clone()),
                path: TextInput::new(save_path),
                saved: None,
                error: None,
                run: Run::Idle,
                run_failures: Vec::new(),
                run_outputs: None,
                stopping: Stopping::No,
                pending_text: None,
            },
            scroll: 0,
            last_key_consumed: false,
            source_edited: false,
            ephemeral_credential: init.sandbox.as_ref().map(|c| c.name.clone()),
            original_text: init.original_text.clone(),
            theme,
            dest,
        };
        model.load_configure_widgets();
        model
    }

    pub fn has_unsaved_edits(&self) -> bool {
        self.unsaved_edits
    }

    pub fn run_is_going(&self) -> bool {
        matches!(self.save.run, Run::Running { .. })
    }

    pub fn next_task(&mut self) -> TaskId {
        self.next_id += 1;
        TaskId(self.next_id)
    }

    pub fn attributes(&self) -> Vec<String> {
        self.source
            .dataset
            .as_ref()
            .map(|d| d.attributes.clone())
            .unwrap_or_default()
    }

    pub fn is_new_credential(&self) -> bool {
        self.credential.pick.selected_label() == NEW_CREDENTIAL
    }

    /// The credential chosen or being typed. A new one is checked for its required parts.
    pub fn chosen_credential(&self) -> Result<Credential, String> {
        if !self.is_new_credential() {
            return self
                .credentials
                .get(self.credential.pick.selected())
                .cloned()
                .ok_or_else(|| "pick a credential".to_string());
        }
        let form = &self.credential;
        let name = form.name.value().trim();
        if name.is_empty() {
            return Err("the new credential needs a name".into());
        }
        let kind = if form.kind.selected() == 1 {
            AuthKind::Bearer
        } else {
            AuthKind::Basic
        };
        if kind == AuthKind::Basic && form.api_id.value().trim().is_empty() {
            return Err("Basic auth needs the API ID".into());
        }
        if form.token.value().is_empty() {
            return Err("the API token is empty".into());
        }
        let base_url = form
            .base_url
            .value()
            .trim()
            .trim_end_matches('/')
            .to_string();
        crate::rules::parse_origin(&base_url).map_err(|rule| format!("the base URL: {rule}"))?;
        Ok(Credential {
            name: name.to_string(),
            description: form.description.value().trim().to_string(),
            api_id: form.api_id.value().trim().to_string(),
            token: TokenSource::Stored(Secret::new(form.token.value())),
            kind,
            base_url,
        })
    }

    /// The base URL `/` request URLs are joined to: the chosen credential's, else Aircall's.
    pub fn base_url(&self) -> String {
        self.chosen_credential()
            .map(|c| c.base_url)
            .unwrap_or_else(|_| DEFAULT_BASE_URL.to_string())
    }

    pub fn auth_kind(&self) -> Option<AuthKind> {
        self.chosen_credential().ok().map(|c| c.kind)
    }

    /// The template chosen on the Template tab, if any.
    pub fn template(&self) -> Option<&'static crate::templates::Template> {
        self.dest
            .template
            .as_ref()
            .and_then(|t| crate::templates::get(&t.id))
    }

    pub fn resource(&self) -> Option<&'static crate::templates::Resource> {
        let reference = self.dest.template.as_ref()?;
        self.template()?
            .resources
            .iter()
            .find(|r| r.id == reference.resource)
    }

    /// The fields the chosen template resource takes (none in manual mode or for a custom path).
    pub fn resource_fields(&self) -> Vec<crate::templates::FieldSpec> {
        self.dest
            .template
            .as_ref()
            .and_then(|t| crate::templates::resolve(t).ok())
            .map(|r| r.fields)
            .unwrap_or_default()
    }

    pub fn dataset_format(&self) -> Option<Format> {
        self.source.dataset.as_ref().map(|d| d.format)
    }

    pub fn section_of(&self, id: SettingId) -> Option<&Section> {
        self.configure.section_of(id)
    }

    pub fn setting(&self, id: SettingId) -> Option<&Setting> {
        self.configure.setting(id)
    }

    pub fn setting_mut(&mut self, id: SettingId) -> Option<&mut Setting> {
        self.configure.setting_mut(id)
    }

    pub fn error_for(&self, field: Field) -> Option<&str> {
        self.configure
            .errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    }

    pub fn set_error(&mut self, field: Field, error: Option<String>) {
        self.configure.errors.retain(|(f, _)| *f != field);
        if let Some(error) = error {
            self.configure.errors.push((field, error));
        }
    }
}
