//! The wizard's state as plain data: the destination being edited, the widgets of each step,
//! and the state of background work (dataset inspection, Verify, Send Test, a run).
//!
//! The [`Destination`] is the source of truth. Widgets start from it and each edit writes back
//! only the setting it changed, so re-saving a loaded file changes nothing that was not edited.

use std::path::PathBuf;

use crate::client::PingOutcome;
use crate::credentials::{AuthKind, Credential, TokenSource};
use crate::destination::{
    Algorithm, ContentFormat, Destination, FieldMapping, GroupShape, Method, Mode, Status,
    TemplateRef, Transform,
};
use crate::records::Format;
use crate::secret::Secret;
use crate::tui::dataset::Dataset;
use crate::tui::msg::{RunProgress, TaskId, TestResponse};
pub use crate::tui::field::{Field, Step};
use crate::tui::areas::Layout;
use crate::tui::sections::{Section, Setting, SettingId};
use crate::tui::theme::Theme;
use crate::tui::widgets::{BodyEditor, Checkbox, JsonView, MultiSelect, Pulldown, Tabs, TextInput};

pub const NEW_CREDENTIAL: &str = "New credential…";
pub const CUSTOM_RESOURCE: &str = "custom…";
pub const MANUAL_ENDPOINT: &str = "None (manual, Advanced tab)";
pub const DEFAULT_BASE_URL: &str = "https://api.aircall.io";
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

#[derive(Debug, Clone, PartialEq)]
pub struct MappingRow {
    pub target: String,
    pub required: bool,
    pub description: String,
    /// A field of the template's resource (removing its entry leaves the row, unset).
    pub is_field: bool,
    /// Entries that set parts of this field (`phone_numbers[0].value` under `phone_numbers`).
    pub sub_entries: usize,
    /// "(not set)", each attribute, then "constant…".
    pub source: Pulldown,
    pub constant: TextInput,
    pub transform: Pulldown,
    /// The entry's options are shown.
    pub expanded: bool,
    pub optional: Checkbox,
    /// "always", then each attribute.
    pub if_present: Pulldown,
    /// ISO 3166 alpha-2 codes, for `e164`.
    pub country: Pulldown,
}

impl MappingRow {
    pub fn is_constant(&self) -> bool {
        self.source.selected_label() == CONSTANT
    }

    pub fn is_set(&self) -> bool {
        self.source.selected() != 0
    }

    pub fn is_e164(&self) -> bool {
        Transform::ALL.get(self.transform.selected()) == Some(&Transform::E164)
    }
}

pub const CONSTANT: &str = "constant…";
pub const ALWAYS: &str = "always";

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigureForm {
    pub tabs: Tabs,
    pub endpoint: Pulldown,
    pub resource: Pulldown,
    pub custom_path: TextInput,
    /// Template parameters: name and the attribute chosen.
    pub parameters: Vec<(String, Pulldown)>,
    pub mapping: Vec<MappingRow>,
    /// Targets added on the form that have no source yet (so not in the destination).
    pub added_targets: Vec<String>,
    pub add_target: TextInput,
    pub method: Pulldown,
    pub content: Pulldown,
    pub url: TextInput,
    pub headers: TextInput,
    pub exclude: MultiSelect,
    pub batching: Checkbox,
    pub batch_size: TextInput,
    pub algorithm: Pulldown,
    pub wrap_key: TextInput,
    pub group_by: TextInput,
    pub group_shape: Pulldown,
    pub pluck: TextInput,
    pub capture_file: TextInput,
    pub webhook: TextInput,
    pub delivery: Section,
    /// Per-field problems in what was typed (kept out of the destination until fixed).
    pub errors: Vec<(Field, String)>,
}

impl ConfigureForm {
    /// The sections made of typed settings, in the order they appear.
    pub fn sections(&self) -> [&Section; 1] {
        [&self.delivery]
    }

    pub fn section_of(&self, id: SettingId) -> Option<&Section> {
        self.sections().into_iter().find(|s| s.get(id).is_some())
    }

    pub fn setting(&self, id: SettingId) -> Option<&Setting> {
        self.section_of(id)?.get(id)
    }

    pub fn setting_mut(&mut self, id: SettingId) -> Option<&mut Setting> {
        [&mut self.delivery].into_iter().find_map(|s| s.get_mut(id))
    }
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
    pub body: JsonView,
    pub error: Option<String>,
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
    /// The file text being written, which becomes the text later saves keep the layout of.
    pub pending_text: Option<String>,
}

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

/// A destination for a newcomer: create contacts from the dataset, mapping suggested later
/// from the dataset's attributes.
pub fn starter_destination(dataset: &std::path::Path, credential: &str) -> Destination {
    let template = TemplateRef {
        id: "create_records".into(),
        resource: "contacts".into(),
        custom_path: None,
        parameters: toml::Table::new(),
    };
    let resolved = crate::templates::resolve(&template);
    let request = match &resolved {
        Ok(resolved) => resolved.request.clone(),
        Err(_) => crate::destination::RequestSettings {
            method: Method::Post,
            content_format: ContentFormat::Json,
            url: "/v1/contacts".into(),
            headers: toml::Table::new(),
            exclude: Vec::new(),
            body: Default::default(),
            xml_root: "record".into(),
            allow_credential_hosts: Vec::new(),
        },
    };
    let ok = resolved.is_ok();
    Destination {
        version: crate::destination::VERSION,
        name: dataset
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "aircall".into()),
        description: String::new(),
        status: Status::Paused,
        credential: credential.to_string(),
        source: crate::destination::Source {
            path: dataset.to_path_buf(),
            format: None,
        },
        mode: if ok { Mode::Template } else { Mode::Manual },
        template: ok.then_some(template),
        request,
        mapping: Vec::new(),
        batching: Default::default(),
        capture: Default::default(),
        delivery: Default::default(),
    }
}

fn options<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> Vec<String> {
    all.iter().map(|v| label(*v).to_string()).collect()
}

pub fn method_index(method: Method) -> usize {
    Method::ALL.iter().position(|m| *m == method).unwrap_or(1)
}

pub fn headers_text(headers: &toml::Table) -> String {
    headers
        .iter()
        .map(|(name, value)| {
            format!(
                "{name}:{}",
                value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `name:value,name2:value2`. A comma inside a value is kept when what follows it has no
/// colon, so `Accept:a,b` stays one header.
pub fn parse_headers(text: &str) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    let mut pieces: Vec<String> = Vec::new();
    for piece in text.split(',') {
        match pieces.last_mut() {
            Some(last) if !piece.contains(':') => {
                last.push(',');
                last.push_str(piece);
            }
            _ => pieces.push(piece.to_string()),
        }
    }
    for piece in pieces.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let Some((name, value)) = piece.split_once(':') else {
            return Err(format!("expected name:value, found {piece:?}"));
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            return Err(format!("{name:?} is not a valid header name"));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(format!("the value of {name} holds a control character"));
        }
        table.insert(
            name.to_string(),
            toml::Value::String(value.trim().to_string()),
        );
    }
    Ok(table)
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
                method: Pulldown::new(options(&Method::ALL, Method::as_str), 1),
                content: Pulldown::new(
                    vec!["JSON".into(), "XML".into(), "form-urlencoded".into()],
                    0,
                ),
                url: TextInput::default()
                    .with_placeholder("/v1/contacts — type { for record macros"),
                headers: TextInput::default().with_placeholder("name:value,name2:value2"),
                exclude: MultiSelect::default(),
                batching: Checkbox::new("send records in batches", false),
                batch_size: TextInput::new("100"),
                algorithm: Pulldown::new(vec!["array".into(), "wrap".into(), "group_by".into()], 0),
                wrap_key: TextInput::new("items"),
                group_by: TextInput::default().with_placeholder("attribute"),
                group_shape: Pulldown::new(vec!["array".into(), "wrap".into()], 0),
                pluck: TextInput::default().with_placeholder("optional attribute"),
                capture_file: TextInput::default().with_placeholder("responses.jsonl (optional)"),
                webhook: TextInput::default().with_placeholder("https://… (optional)"),
                delivery: crate::tui::sections::delivery::section(),
                errors: Vec::new(),
            },
            pane: Pane {
                samples: Vec::new(),
                selected: 0,
                expanded: false,
                body: JsonView::default(),
                error: None,
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
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(format!(
                "the base URL must start with https:// (found {base_url:?})"
            ));
        }
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

    /// Sets every step-2 widget from the destination (at start, and after a template change
    /// rewrote the request settings).
    pub fn load_configure_widgets(&mut self) {
        let dest = &self.dest;
        let form = &mut self.configure;
        let mut endpoints: Vec<String> = crate::templates::all()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        endpoints.push(MANUAL_ENDPOINT.into());
        let endpoint = match &dest.template {
            Some(t) => crate::templates::all()
                .iter()
                .position(|x| x.id == t.id)
                .unwrap_or(endpoints.len() - 1),
            None => endpoints.len() - 1,
        };
        form.endpoint = Pulldown::new(endpoints, endpoint);
        let template = dest
            .template
            .as_ref()
            .and_then(|t| crate::templates::get(&t.id));
        let mut resources: Vec<String> = template
            .map(|t| t.resources.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        if template.is_some() {
            resources.push(CUSTOM_RESOURCE.into());
        }
        let resource = match (&dest.template, template) {
            (Some(reference), Some(t)) => t
                .resources
                .iter()
                .position(|r| r.id == reference.resource)
                .unwrap_or(resources.len() - 1),
            _ => 0,
        };
        form.resource = Pulldown::new(resources, resource);
        form.custom_path.set_value(
            dest.template
                .as_ref()
                .and_then(|t| t.custom_path.clone())
                .unwrap_or_default(),
        );
        form.method.select(method_index(dest.request.method));
        form.content.select(
            ContentFormat::ALL
                .iter()
                .position(|c| *c == dest.request.content_format)
                .unwrap_or(0),
        );
        form.url.set_value(dest.request.url.clone());
        form.headers.set_value(headers_text(&dest.request.headers));
        form.exclude = MultiSelect::new(Vec::new(), dest.request.exclude.clone());
        form.batching.checked = dest.batching.enabled;
        form.batch_size
            .set_value(dest.batching.max_records.to_string());
        form.algorithm.select(
            Algorithm::ALL
                .iter()
                .position(|a| *a == dest.batching.algorithm)
                .unwrap_or(0),
        );
        form.wrap_key.set_value(dest.batching.wrap_key.clone());
        form.group_by
            .set_value(dest.batching.group_by.clone().unwrap_or_default());
        form.group_shape
            .select(if dest.batching.group_shape == GroupShape::Wrap {
                1
            } else {
                0
            });
        form.pluck
            .set_value(dest.batching.pluck.clone().unwrap_or_default());
        form.capture_file.set_value(
            dest.capture
                .file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        form.webhook
            .set_value(dest.capture.webhook_url.clone().unwrap_or_default());
        form.delivery.load(dest);
        form.errors.clear();
        self.refresh_attribute_widgets();
    }

    /// Rebuilds the widgets listing dataset attributes (mapping sources, exclude list,
    /// template parameters).
    pub fn refresh_attribute_widgets(&mut self) {
        let attributes = self.attributes();
        self.configure.exclude.set_items(attributes.clone());
        self.configure.parameters = self.parameter_widgets(&attributes);
        let mut fields = self.resource_fields();
        fields.sort_by_key(|f| !f.required);
        let expanded: Vec<String> = self
            .configure
            .mapping
            .iter()
            .filter(|r| r.expanded)
            .map(|r| r.target.clone())
            .collect();
        let mut targets: Vec<String> = self.dest.mapping.iter().map(|m| m.target.clone()).collect();
        for added in &self.configure.added_targets {
            if !targets.contains(added) {
                targets.push(added.clone());
            }
        }
        let mut rows = Vec::new();
        // Each field of the resource, followed by the entries that set parts of it.
        for field in &fields {
            let mut row =
                self.mapping_row(&field.name, field.required, &field.description, &attributes);
            row.is_field = true;
            let parts: Vec<&String> = targets
                .iter()
                .filter(|t| top_level(t) == field.name && **t != field.name)
                .collect();
            row.sub_entries = parts.len();
            if row.sub_entries > 0 && !row.is_set() {
                let mut options = row.source.options().to_vec();
                options[0] = format!(
                    "(set by {} entr{} below)",
                    row.sub_entries,
                    if row.sub_entries == 1 { "y" } else { "ies" }
                );
                row.source = Pulldown::new(options, 0);
            }
            rows.push(row);
            for target in parts {
                rows.push(self.mapping_row(target, false, "", &attributes));
            }
        }
        // Entries for targets the resource does not list stay editable too.
        for target in &targets {
            if !rows.iter().any(|r| &r.target == target) {
                rows.push(self.mapping_row(target, false, "", &attributes));
            }
        }
        for row in &mut rows {
            row.expanded = expanded.contains(&row.target);
        }
        self.configure.mapping = rows;
    }

    /// One pulldown per template parameter, over the dataset's attributes, on the value in the
    /// destination or else the template's default.
    fn parameter_widgets(&self, attributes: &[String]) -> Vec<(String, Pulldown)> {
        let (Some(template), Some(reference)) = (self.template(), self.dest.template.as_ref())
        else {
            return Vec::new();
        };
        template
            .parameters
            .iter()
            .map(|parameter| {
                let current = template
                    .parameter(reference, &parameter.name)
                    .unwrap_or_else(|| parameter.default.clone());
                let mut options: Vec<String> = attributes.to_vec();
                for extra in [&parameter.default, &current] {
                    if !options.contains(extra) {
                        options.insert(0, extra.clone());
                    }
                }
                let selected = options.iter().position(|o| *o == current).unwrap_or(0);
                (parameter.name.clone(), Pulldown::new(options, selected))
            })
            .collect()
    }

    fn mapping_row(
        &self,
        target: &str,
        required: bool,
        description: &str,
        attributes: &[String],
    ) -> MappingRow {
        let entry = self.dest.mapping.iter().find(|m| m.target == target);
        let mut sources = vec!["(not set)".to_string()];
        sources.extend(attributes.iter().cloned());
        // An attribute the file names but the dataset lacks is still shown, not silently dropped.
        if let Some(from) = entry.and_then(|e| e.from.clone())
            && !sources.contains(&from)
        {
            sources.push(from);
        }
        sources.push(CONSTANT.into());
        let selected = match entry {
            None => 0,
            Some(e) => match (&e.from, &e.value) {
                (Some(from), _) => sources.iter().position(|s| s == from).unwrap_or(0),
                (None, Some(_)) => sources.len() - 1,
                _ => 0,
            },
        };
        let constant = entry
            .and_then(|e| e.value.as_ref())
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default();
        let transform = entry
            .map(|e| {
                Transform::ALL
                    .iter()
                    .position(|t| *t == e.transform)
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let mut conditions = vec![ALWAYS.to_string()];
        conditions.extend(attributes.iter().cloned());
        let condition = entry.and_then(|e| e.if_present.clone());
        if let Some(condition) = &condition
            && !conditions.contains(condition)
        {
            conditions.push(condition.clone());
        }
        let condition = condition
            .and_then(|c| conditions.iter().position(|o| *o == c))
            .unwrap_or(0);
        let countries: Vec<String> = crate::request::phone::countries()
            .map(|iso| {
                let code = crate::request::phone::country_code(iso).unwrap_or("");
                format!("{iso} +{code}")
            })
            .collect();
        let country = entry
            .and_then(|e| e.default_country.as_deref())
            .unwrap_or("US");
        let country = countries
            .iter()
            .position(|c| country_of(c).eq_ignore_ascii_case(country))
            .unwrap_or(0);
        MappingRow {
            target: target.to_string(),
            required,
            description: description.to_string(),
            is_field: false,
            sub_entries: 0,
            source: Pulldown::new(sources, selected),
            constant: TextInput::new(constant),
            transform: Pulldown::new(options(&Transform::ALL, Transform::as_str), transform),
            expanded: false,
            optional: Checkbox::new(
                "leave unset if the attribute is empty",
                entry.is_some_and(|e| e.optional),
            ),
            if_present: Pulldown::new(conditions, condition),
            country: Pulldown::new(countries, country),
        }
    }

    /// Writes mapping row `index` back into the destination's mapping, touching only that entry.
    pub fn apply_mapping_row(&mut self, index: usize) {
        let Some(row) = self.configure.mapping.get(index) else {
            return;
        };
        let label = row.source.selected_label().to_string();
        let transform = Transform::ALL
            .get(row.transform.selected())
            .copied()
            .unwrap_or_default();
        let position = self
            .dest
            .mapping
            .iter()
            .position(|m| m.target == row.target);
        if row.source.selected() == 0 {
            if let Some(at) = position {
                self.dest.mapping.remove(at);
            }
            return;
        }
        let constant = label == CONSTANT;
        let entry = match position {
            Some(at) => &mut self.dest.mapping[at],
            None => {
                self.dest.mapping.push(FieldMapping {
                    target: row.target.clone(),
                    from: None,
                    value: None,
                    transform: Transform::None,
                    default_country: None,
                    optional: false,
                    if_present: None,
                });
                self.dest.mapping.last_mut().expect("just pushed")
            }
        };
        if constant {
            entry.from = None;
            entry.value = Some(toml::Value::String(row.constant.value().to_string()));
        } else {
            entry.value = None;
            entry.from = Some(label);
        }
        entry.transform = transform;
    }

    /// The destination's entry for mapping row `index`, when it has one.
    pub fn mapping_entry_mut(&mut self, index: usize) -> Option<&mut FieldMapping> {
        let target = self.configure.mapping.get(index)?.target.clone();
        self.dest.mapping.iter_mut().find(|m| m.target == target)
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

/// The ISO code of a country choice (`FR +33` → `FR`).
pub fn country_of(choice: &str) -> &str {
    choice.split(' ').next().unwrap_or(choice)
}

/// The first name of a target path: `phone_numbers` for `phone_numbers[0].value`.
pub fn top_level(target: &str) -> &str {
    target.split(['.', '[']).next().unwrap_or(target)
}

/// A destination's source path, relative paths taken from the destination file's folder.
pub fn resolve_source(path: &std::path::Path, dest_path: Option<&std::path::Path>) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match dest_path
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(dir) => dir.join(path),
        None => path.to_path_buf(),
    }
}
