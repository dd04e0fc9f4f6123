//! The destination file's data model (format version 1). Field meanings and defaults are
//! documented in `docs/destination-file.md`; keep the two in step.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::alerts::Alerts;
use super::error::Problem;
use super::schedule::Schedule;

/// A saved destination: where records come from, how each becomes a request, how they are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// Format version; only `1` exists.
    pub version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `paused` destinations are refused by `run` until activated.
    #[serde(default)]
    pub status: Status,
    /// The name of an entry in the credentials store. Never a secret.
    pub credential: String,
    pub source: Source,
    #[serde(default)]
    pub mode: Mode,
    /// The template and its parameters, in template mode. The resolved settings below are what
    /// is sent; the template tells the wizard how to edit them and which fields are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateRef>,
    pub request: RequestSettings,
    /// Field mapping: when present, each body is built from these entries instead of the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<FieldMapping>,
    #[serde(default)]
    pub batching: Batching,
    #[serde(default)]
    pub capture: Capture,
    #[serde(default)]
    pub delivery: Delivery,
    /// When the daemon runs it (DESIGN §8).
    #[serde(default, skip_serializing_if = "Schedule::is_empty")]
    pub schedule: Schedule,
    /// Whom the daemon tells when a run fails, recovers or rejects too much.
    #[serde(default, skip_serializing_if = "Alerts::is_default")]
    pub alerts: Alerts,
    /// `[sync]`: send only what changed since the last run (docs/sync.md). Absent: every record
    /// is pushed once, as in the first version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<super::sync::SyncSettings>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    #[default]
    Paused,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Active => "active",
            Status::Paused => "paused",
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Template,
    Manual,
}

/// Where records come from. A relative path is relative to the destination file's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub path: PathBuf,
    /// `csv`, `jsonl` or `json`; when absent the extension decides, else the content is sniffed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<crate::records::Format>,
    /// The file's text encoding (`utf-8`, `utf-16`, `latin-1`).
    #[serde(default, skip_serializing_if = "super::Encoding::is_default")]
    pub encoding: super::Encoding,
    /// CSV delimiter and row unwrapping.
    #[serde(default, skip_serializing_if = "super::CsvOptions::is_default")]
    pub csv: super::CsvOptions,
    /// A record larger than this many bytes of input is invalid; reading goes on after it.
    #[serde(
        default = "super::input::default_max_record_bytes",
        skip_serializing_if = "super::input::is_default_max_record_bytes"
    )]
    pub max_record_bytes: u64,
}

/// A template and the parameters the person chose for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    /// Template id, e.g. `create_records` (see `aircall-dest templates`).
    pub id: String,
    /// Resource id within the template (`contacts`, `users`, …) or `custom`.
    pub resource: String,
    /// For `resource = "custom"`: the resource path, e.g. `/v1/tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_path: Option<String>,
    /// Template parameters, e.g. `id_attribute = "id"` for update and delete templates.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub parameters: toml::Table,
}

/// The HTTP request each record (or batch) becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSettings {
    pub method: Method,
    #[serde(default)]
    pub content_format: ContentFormat,
    /// Absolute (`https://…`) or starting with `/`, joined to the credential's base URL.
    /// `{record.attr}` and `{record.a.b}` insert record values, percent-encoded.
    pub url: String,
    /// Extra headers; values may use record macros. The credential's headers are added at send time.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub headers: toml::Table,
    /// Attributes (dotted paths for nested ones) removed from every body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Whether requests carry a body: `auto` sends one for POST, PUT and PATCH only.
    #[serde(default, skip_serializing_if = "BodyMode::is_auto")]
    pub body: BodyMode,
    /// Root element name for XML bodies.
    #[serde(
        default = "default_xml_root",
        skip_serializing_if = "is_default_xml_root"
    )]
    pub xml_root: String,
    /// Hosts (`host` or `host:port`) other than the credential's own that may receive the credential.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_credential_hosts: Vec<String>,
    /// Whether POST, PUT, PATCH and DELETE requests without a body still carry the content
    /// format's `Content-Type` (Aircall asks for it on every such request).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub content_type_without_body: bool,
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn default_xml_root() -> String {
    "record".to_string()
}

fn is_default_xml_root(root: &str) -> bool {
    root == "record"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Sending the same request twice has the effect of sending it once.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentFormat {
    #[default]
    Json,
    Xml,
    Form,
}

impl ContentFormat {
    pub const ALL: [ContentFormat; 3] =
        [ContentFormat::Json, ContentFormat::Xml, ContentFormat::Form];

    pub fn content_type(self) -> &'static str {
        match self {
            ContentFormat::Json => "application/json",
            ContentFormat::Xml => "application/xml",
            ContentFormat::Form => "application/x-www-form-urlencoded",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContentFormat::Json => "json",
            ContentFormat::Xml => "xml",
            ContentFormat::Form => "form",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyMode {
    #[default]
    Auto,
    Record,
    None,
}

impl BodyMode {
    fn is_auto(&self) -> bool {
        *self == BodyMode::Auto
    }

    /// Whether a request with this method carries a body.
    pub fn sends_body(self, method: Method) -> bool {
        match self {
            BodyMode::Auto => matches!(method, Method::Post | Method::Put | Method::Patch),
            BodyMode::Record => true,
            BodyMode::None => false,
        }
    }
}

/// One entry of the field mapping: sets `target` in the body from an attribute or a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// Body path: `first_name`, `address.city`, `phone_numbers[0].value`.
    pub target: String,
    /// The record attribute (dotted path) the value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A constant value, instead of `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Transform::is_none")]
    pub transform: Transform,
    /// For `transform = "e164"`: the country of numbers written without an international prefix
    /// (ISO 3166 alpha-2, e.g. `US`, `FR`, `GB`). Defaults to `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    /// For `transform = "e164"`: accept `possible` numbers (a length the country uses) or only
    /// `valid` ones (in an assigned range).
    #[serde(default, skip_serializing_if = "super::PhoneCheck::is_default")]
    pub phone_check: super::PhoneCheck,
    /// A missing or empty source leaves the target unset instead of making the record invalid.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// Apply this entry only when that attribute is present and not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_present: Option<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Small value transforms for field mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    #[default]
    None,
    /// Remove leading and trailing white space.
    Trim,
    Lowercase,
    Uppercase,
    /// Normalise a phone number to E.164 (`+14155550100`); numbers that cannot be are invalid.
    E164,
    /// The first word of a full name.
    FirstName,
    /// Everything after the first word of a full name.
    LastName,
}

impl Transform {
    pub const ALL: [Transform; 7] = [
        Transform::None,
        Transform::Trim,
        Transform::Lowercase,
        Transform::Uppercase,
        Transform::E164,
        Transform::FirstName,
        Transform::LastName,
    ];

    fn is_none(&self) -> bool {
        *self == Transform::None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transform::None => "none",
            Transform::Trim => "trim",
            Transform::Lowercase => "lowercase",
            Transform::Uppercase => "uppercase",
            Transform::E164 => "e164",
            Transform::FirstName => "first_name",
            Transform::LastName => "last_name",
        }
    }
}

/// Record batching: several records per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_max_records")]
    pub max_records: usize,
    /// No request body exceeds this many bytes; a single record larger than it is invalid.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    #[serde(default)]
    pub algorithm: Algorithm,
    /// For `wrap`, and `group_by` with `group_shape = "wrap"`: the key holding the array.
    #[serde(default = "default_wrap_key")]
    pub wrap_key: String,
    /// For `group_by`: the attribute whose value groups records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// For `group_by`: the body shape of each group.
    #[serde(default)]
    pub group_shape: GroupShape,
    /// For `group_by`: send only this attribute of each record (`["+33…", …]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pluck: Option<String>,
}

impl Default for Batching {
    fn default() -> Self {
        Self {
            enabled: false,
            max_records: default_max_records(),
            max_bytes: default_max_bytes(),
            algorithm: Algorithm::default(),
            wrap_key: default_wrap_key(),
            group_by: None,
            group_shape: GroupShape::default(),
            pluck: None,
        }
    }
}

fn default_max_records() -> usize {
    100
}

fn default_max_bytes() -> usize {
    1_000_000
}

fn default_wrap_key() -> String {
    "items".to_string()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// The body is a JSON array of the records.
    #[default]
    Array,
    /// The body is `{"<wrap_key>": [records…]}`.
    Wrap,
    /// Records sharing a value of `group_by` go together.
    GroupBy,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::Array, Algorithm::Wrap, Algorithm::GroupBy];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Array => "array",
            Algorithm::Wrap => "wrap",
            Algorithm::GroupBy => "group_by",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupShape {
    #[default]
    Array,
    Wrap,
}

/// Response capture (the "response webhook"): every response recorded as one JSON line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// JSON Lines file receiving one line per call (relative to the destination file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// URL receiving each of those lines as a POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

/// How requests are paced, retried and accounted for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Requests per minute for every attempt, retries included; `0` turns pacing off.
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Requests that may go back to back before pacing applies (1 or 2 suits Aircall).
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Attempts per request, the first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Stop retrying a request after this many seconds since its first attempt.
    #[serde(default = "default_max_retry_secs")]
    pub max_retry_secs: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_backoff_initial")]
    pub backoff_initial_ms: u64,
    #[serde(default = "default_backoff_max")]
    pub backoff_max_ms: u64,
    /// Pause after a 429 that carries neither `X-AircallApi-Reset` nor `Retry-After`.
    #[serde(default = "default_fallback")]
    pub rate_limit_fallback_secs: u64,
    /// On Ctrl-C, how long in-flight requests may take to finish.
    #[serde(default = "default_drain")]
    pub drain_timeout_secs: u64,
    #[serde(default)]
    pub on_rejected: OnRejected,
    #[serde(default)]
    pub on_invalid: OnInvalid,
    #[serde(default)]
    pub in_doubt: InDoubtPolicy,
    /// Dead-letter file; by default `<state dir>/<destination name>.dead-letter.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_file: Option<PathBuf>,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: default_rate(),
            burst: default_burst(),
            concurrency: default_concurrency(),
            max_attempts: default_max_attempts(),
            max_retry_secs: default_max_retry_secs(),
            request_timeout_secs: default_request_timeout(),
            connect_timeout_secs: default_connect_timeout(),
            backoff_initial_ms: default_backoff_initial(),
            backoff_max_ms: default_backoff_max(),
            rate_limit_fallback_secs: default_fallback(),
            drain_timeout_secs: default_drain(),
            on_rejected: OnRejected::default(),
            on_invalid: OnInvalid::default(),
            in_doubt: InDoubtPolicy::default(),
            dead_letter_file: None,
        }
    }
}

fn default_rate() -> u32 {
    60
}
fn default_burst() -> u32 {
    1
}
fn default_concurrency() -> usize {
    4
}
fn default_max_attempts() -> u32 {
    5
}
fn default_max_retry_secs() -> u64 {
    600
}
fn default_request_timeout() -> u64 {
    30
}
fn default_connect_timeout() -> u64 {
    10
}
fn default_backoff_initial() -> u64 {
    500
}
fn default_backoff_max() -> u64 {
    30_000
}
fn default_fallback() -> u64 {
    60
}
fn default_drain() -> u64 {
    30
}

/// What happens to a record the API rejects (a 4xx other than 401, 403, 408 and 429).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRejected {
    /// Write it to the dead-letter file and go on.
    #[default]
    DeadLetter,
    /// Write it to the dead-letter file and stop the run.
    Stop,
}

/// What happens to a record that fails validation before sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Report it (and write it to the dead-letter file) and go on.
    #[default]
    Skip,
    /// Report it and stop the run before sending anything more.
    Stop,
}

/// What a rerun does with records whose earlier outcome is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InDoubtPolicy {
    /// Resend idempotent requests; look creates up first where Aircall allows (contacts by phone
    /// or email, users by email) and resend only those not found; report the rest.
    #[default]
    Reconcile,
    /// Resend every in-doubt record.
    Resend,
    /// Resend nothing; report in-doubt records.
    Report,
}

impl Destination {
    /// Checks that go beyond types. Each problem names its key path, for line and column.
    pub fn check(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut add = |path: &[&str], message: String| {
            problems.push(Problem::new(path, message));
        };
        if self.version != super::VERSION {
            add(
                &["version"],
                format!(
                    "expected 1 (the only version this build reads), found {}",
                    self.version
                ),
            );
        }
        if self.name.trim().is_empty() {
            add(&["name"], "expected a non-empty name".into());
        }
        if self.credential.trim().is_empty() {
            add(
                &["credential"],
                "expected the name of a saved credential".into(),
            );
        }
        if self.source.path.as_os_str().is_empty() {
            add(&["source", "path"], "expected a dataset path".into());
        }
        if self.source.max_record_bytes == 0 {
            add(
                &["source", "max_record_bytes"],
                "expected at least 1 byte".into(),
            );
        }
        let url = self.request.url.trim();
        if !(url.starts_with('/') || url.starts_with("https://") || url.starts_with("http://")) {
            add(
                &["request", "url"],
                format!("expected a URL starting with `/`, `https://` or `http://`, found {url:?}"),
            );
        }
        if let Err(message) = crate::request::check_url_template(&self.request.url) {
            add(&["request", "url"], message.to_string());
        }
        for (name, value) in &self.request.headers {
            let path = ["request", "headers", name.as_str()];
            match value.as_str() {
                None => add(
                    &path,
                    format!("expected a string value for header {name:?}"),
                ),
                Some(value) => {
                    if let Err(message) = crate::request::check_header(name, value) {
                        add(&path, message.to_string());
                    }
                }
            }
        }
        for (i, entry) in self.mapping.iter().enumerate() {
            let index = i.to_string();
            let path = ["mapping", index.as_str()];
            match (&entry.from, &entry.value) {
                (None, None) => add(
                    &path,
                    format!(
                        "mapping for {:?}: expected `from` (an attribute) or `value` (a constant)",
                        entry.target
                    ),
                ),
                (Some(_), Some(_)) => add(
                    &path,
                    format!(
                        "mapping for {:?}: expected either `from` or `value`, not both",
                        entry.target
                    ),
                ),
                _ => {}
            }
            if let Err(message) = crate::request::check_target_path(&entry.target) {
                add(
                    &path,
                    format!("mapping target {:?}: {message}", entry.target),
                );
            }
            if let Some(country) = &entry.default_country
                && crate::request::phone::country_code(country).is_none()
            {
                add(
                    &path,
                    format!(
                        "unknown default_country {country:?}: expected an ISO 3166 alpha-2 code such as US, GB or FR"
                    ),
                );
            }
        }
        let batching = &self.batching;
        if batching.enabled {
            if batching.max_records == 0 {
                add(&["batching", "max_records"], "expected at least 1".into());
            }
            if batching.max_bytes < 2 {
                add(
                    &["batching", "max_bytes"],
                    "expected at least 2 bytes".into(),
                );
            }
            if self.request.content_format != ContentFormat::Json {
                add(
                    &["batching", "enabled"],
                    "batching needs content_format = \"json\"".into(),
                );
            }
            let needs_key = batching.algorithm == Algorithm::Wrap
                || (batching.algorithm == Algorithm::GroupBy
                    && batching.group_shape == GroupShape::Wrap);
            if needs_key && batching.wrap_key.trim().is_empty() {
                add(
                    &["batching", "wrap_key"],
                    "expected a key name for the wrapped array".into(),
                );
            }
            if batching.algorithm == Algorithm::GroupBy
                && batching
                    .group_by
                    .as_deref()
                    .is_none_or(|g| g.trim().is_empty())
            {
                add(
                    &["batching", "algorithm"],
                    "group_by needs `group_by = \"<attribute>\"`".into(),
                );
            }
        }
        if let Some(url) = &self.capture.webhook_url
            && let Some(message) = webhook_url_problem(url)
        {
            // The webhook receives response bodies (record data).
            add(&["capture", "webhook_url"], message);
        }
        let delivery = &self.delivery;
        if delivery.concurrency == 0 {
            add(&["delivery", "concurrency"], "expected at least 1".into());
        }
        if delivery.max_attempts == 0 {
            add(&["delivery", "max_attempts"], "expected at least 1".into());
        }
        if delivery.burst == 0 {
            add(&["delivery", "burst"], "expected at least 1".into());
        }
        if delivery.request_timeout_secs == 0 {
            add(
                &["delivery", "request_timeout_secs"],
                "expected at least 1 second".into(),
            );
        }
        if self.mode == Mode::Template && self.template.is_none() {
            add(
                &["mode"],
                "mode = \"template\" needs a [template] table (or set mode = \"manual\")".into(),
            );
        }
        if let Some(template) = &self.template
            && let Err(problem) = crate::templates::check_reference(template)
        {
            add(&["template"], problem.to_string());
        }
        self.schedule.check(&mut problems);
        self.alerts.check(&mut problems);
        if let Some(sync) = &self.sync {
            sync.check(self.request.method, &self.request.url, &mut problems);
            if self.request.content_format != ContentFormat::Json {
                problems.push(Problem::new(
                    &["request", "content_format"],
                    "[sync] sends JSON bodies, as Aircall reads them: set content_format = \"json\""
                        .into(),
                ));
            }
            if self.batching.enabled {
                problems.push(Problem::new(
                    &["batching", "enabled"],
                    "[sync] sends one request per change of one object: batching must be off"
                        .into(),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// What is wrong with a URL the tool POSTs data to, if anything: plain HTTP only to loopback,
/// and no user name or password in it (destination files hold no secrets).
pub(super) fn webhook_url_problem(url: &str) -> Option<String> {
    crate::rules::parse_origin(url)
        .err()
        .map(|rule| rule.to_string())
}
