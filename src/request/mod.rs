//! The one request builder: turns (destination, records) into the exact HTTP requests to send.
//!
//! The wizard's sample pane, `preview`, `send-test` and `run` all go through [`Plan`] and
//! [`Builder`]; nothing else makes bodies. The builder is pure: it never sees a secret. It marks
//! each request with whether the credential goes with it, and the client adds the real header.

mod batch;
pub mod encode;
pub mod exclusion;
pub mod macros;
pub mod mapping;
pub mod path;
pub mod phone;
pub mod suggest;
pub mod tally;

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::credentials::AuthKind;
use crate::destination::{ContentFormat, Destination, Method, Mode};
use crate::records::{Record, RecordError, RecordNo};
use crate::secret::MASK;
use crate::templates::{self, FieldSpec};

pub use batch::BatchSettings;
pub use tally::ReasonTally;

/// A record's headers and mapped body, before encoding (see [`Plan::payload`]).
pub type Payload = (Vec<(String, String)>, Map<String, Value>);

pub use crate::rules::DEFAULT_BASE_URL;

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("aircall-dest/", env!("CARGO_PKG_VERSION"));

/// One HTTP request, exactly as it will be sent (less the credential's `Authorization` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers in send order; none of them is secret.
    pub headers: Vec<(String, String)>,
    /// Whether the credential's `Authorization` header goes with this request.
    pub auth: bool,
    /// The exact body, when the request has one.
    pub body: Option<String>,
    /// The input records this request carries.
    pub records: Vec<RecordNo>,
    /// What was left out of these records' bodies (optional values that failed their
    /// transform). The run summary counts them.
    pub warnings: Vec<RecordWarning>,
}

/// Something left out of one record's body, which is still sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWarning {
    pub record: RecordNo,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RecordWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {} (line {}): {}",
            self.record, self.line, self.message
        )
    }
}

impl Request {
    /// Headers as shown to a person: the credential's header is included, its secret masked.
    pub fn display_headers(&self, auth_kind: Option<AuthKind>) -> Vec<(String, String)> {
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        if self.auth
            && let Some(kind) = auth_kind
        {
            headers.push((
                "Authorization".to_string(),
                format!("{} {MASK}", kind.scheme()),
            ));
        }
        headers.extend(self.headers.iter().cloned());
        headers
    }

    /// The object `preview` prints for this request.
    pub fn preview_json(&self, auth_kind: Option<AuthKind>) -> Value {
        let headers: Map<String, Value> = self
            .display_headers(auth_kind)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        json!({
            "method": self.method.as_str(),
            "url": self.url,
            "headers": headers,
            "body": self.body,
            "records": self.records,
        })
    }
}

/// A record that will not be sent, with the reason. Unreadable input records are invalid too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub record: RecordNo,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {} (line {}): {}",
            self.record, self.line, self.reason
        )
    }
}

/// What the builder makes of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    Request(Request),
    Invalid(Invalid),
}

/// A destination that cannot be compiled into requests. `path` is the key path in the
/// destination file the problem comes from (`["request", "headers", "X-Team"]`,
/// `["mapping", "3", "from"]`), empty when it comes from elsewhere (the credential's base URL),
/// so a locator can point at the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlanError {
    pub path: Vec<String>,
    pub message: String,
}

impl PlanError {
    fn at(path: &[&str], message: impl Into<String>) -> Self {
        Self {
            path: path.iter().map(|p| p.to_string()).collect(),
            message: message.into(),
        }
    }

    /// The key path as written in messages: `request.headers.X-Team`, `mapping[3].from`.
    pub fn key(&self) -> String {
        let mut out = String::new();
        for part in &self.path {
            if part.parse::<usize>().is_ok() {
                out.push_str(&format!("[{part}]"));
            } else {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(part);
            }
        }
        out
    }
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key(), self.message)
        }
    }
}

impl From<mapping::CompileError> for PlanError {
    fn from(e: mapping::CompileError) -> Self {
        PlanError::at(&["mapping", &e.index.to_string(), e.key], e.message)
    }
}

/// A destination compiled for building requests against one base URL.
#[derive(Debug, Clone)]
pub struct Plan {
    method: Method,
    content_format: ContentFormat,
    xml_root: String,
    sends_body: bool,
    content_type_without_body: bool,
    base_url: String,
    url: macros::Template,
    headers: Vec<(String, macros::Template)>,
    exclude: Vec<String>,
    mapping: Option<Vec<mapping::Entry>>,
    /// Mapping entries dropped because their source attribute is excluded, as (target, source).
    excluded_mapping: Vec<(String, String)>,
    fields: Vec<FieldSpec>,
    batching: Option<BatchSettings>,
    auth: bool,
    warnings: Vec<String>,
}

impl Plan {
    /// Compiles `destination` for requests whose `/` URLs are joined to `base_url`.
    pub fn new(destination: &Destination, base_url: &str) -> Result<Self, PlanError> {
        let settings = &destination.request;
        let url = macros::Template::url(settings.url.trim())
            .map_err(|e| PlanError::at(&["request", "url"], e.to_string()))?;
        let base_url = base_url.trim_end_matches('/').to_string();
        let mut headers = Vec::new();
        for (name, value) in &settings.headers {
            let at = ["request", "headers", name.as_str()];
            let value = value
                .as_str()
                .ok_or_else(|| PlanError::at(&at, "expected a string"))?;
            check_header(name, value).map_err(|e| PlanError::at(&at, e.to_string()))?;
            let template =
                macros::Template::header(value).map_err(|e| PlanError::at(&at, e.to_string()))?;
            headers.push((name.clone(), template));
        }
        let (mapping, excluded_mapping) = if destination.mapping.is_empty() {
            (None, Vec::new())
        } else {
            let entries = mapping::compile(&destination.mapping)?;
            let (kept, dropped) = exclusion::split_mapping(entries, &settings.exclude);
            (Some(kept), dropped)
        };
        let fields = match (&destination.mode, &destination.template) {
            (Mode::Template, Some(reference)) => {
                templates::resolve(reference)
                    .map_err(|e| PlanError::at(&["template"], e.to_string()))?
                    .fields
            }
            _ => Vec::new(),
        };
        let batching = destination
            .batching
            .enabled
            .then(|| BatchSettings::from(&destination.batching));
        let sends_body = settings.body.sends_body(settings.method);
        if batching.is_some() && !sends_body {
            return Err(PlanError::at(
                &["batching", "enabled"],
                format!(
                    "batching needs a request body, but {} requests here carry none",
                    settings.method
                ),
            ));
        }
        let mut plan = Self {
            method: settings.method,
            content_format: settings.content_format,
            xml_root: settings.xml_root.clone(),
            sends_body,
            content_type_without_body: settings.content_type_without_body,
            base_url,
            url,
            headers,
            exclude: settings.exclude.clone(),
            mapping,
            excluded_mapping,
            fields,
            batching,
            auth: true,
            warnings: Vec::new(),
        };
        plan.check_origin(&settings.allow_credential_hosts)?;
        for (target, source) in &plan.excluded_mapping {
            plan.warnings.push(format!(
                "`{source}` is excluded, so the mapped field `{target}` is left out of every body"
            ));
        }
        Ok(plan)
    }

    /// Decides whether the credential may go with these requests, and refuses plain HTTP to
    /// anything but loopback.
    fn check_origin(&mut self, allowed_hosts: &[String]) -> Result<(), PlanError> {
        let base = url::Url::parse(&self.base_url).map_err(|e| {
            PlanError::at(
                &[],
                format!(
                    "the credential's base URL {:?} is not a URL: {e}",
                    self.base_url
                ),
            )
        })?;
        // The host part of a URL template has no macros, so filling them with a placeholder
        // gives the real scheme, host and port.
        let sample = self.join(
            self.url
                .source()
                .replace("{record.", "{")
                .replace(['{', '}'], "x"),
        );
        let target = url::Url::parse(&sample).map_err(|e| {
            PlanError::at(
                &["request", "url"],
                format!("gives {sample:?}, which is not a URL: {e}"),
            )
        })?;
        for url in [&base, &target] {
            let at: &[&str] = if std::ptr::eq(url, &base) {
                &[]
            } else {
                &["request", "url"]
            };
            crate::rules::check_origin(url).map_err(|e| PlanError::at(at, e.to_string()))?;
        }
        if base.origin() != target.origin() {
            let host = target.host_str().unwrap_or_default();
            let host_port = format!("{host}:{}", target.port_or_known_default().unwrap_or(0));
            let allowed = allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host) || h.eq_ignore_ascii_case(&host_port));
            if !allowed {
                self.auth = false;
                self.warnings.push(format!(
                    "requests go to {}, not to the credential's {}: they are sent without the credential \
                     (list the host in request.allow_credential_hosts to send it)",
                    target.origin().ascii_serialization(),
                    base.origin().ascii_serialization()
                ));
            }
        }
        Ok(())
    }

    fn join(&self, url: String) -> String {
        if url.starts_with('/') {
            // Once per request: one allocation of the right size, not the formatting machinery.
            let mut joined = String::with_capacity(self.base_url.len() + url.len());
            joined.push_str(&self.base_url);
            joined.push_str(&url);
            joined
        } else {
            url
        }
    }

    /// Things a person should know before sending (e.g. the credential will not be sent).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// Whether requests carry the credential.
    pub fn sends_credential(&self) -> bool {
        self.auth
    }

    /// The largest number of records one request carries.
    pub fn records_per_request(&self) -> usize {
        self.batching.as_ref().map_or(1, |b| b.max_records)
    }

    pub fn builder(&self) -> Builder<'_> {
        Builder {
            plan: self,
            batches: batch::Batches::default(),
        }
    }

    /// One record's headers and mapped body (mapping, exclusions and the template's field checks
    /// applied), for sync, which builds its own create, update and delete requests from them.
    pub fn payload(&self, record: &Record) -> Result<Payload, BuildError> {
        let prepared = self.prepare(record)?;
        Ok((prepared.headers, prepared.body.unwrap_or_default()))
    }

    /// The base URL `/` paths are joined to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Turns one record into its URL, headers and body (not yet encoded).
    fn prepare(&self, record: &Record) -> Result<Prepared, BuildError> {
        let url = self.join(self.url.render(&record.value).map_err(BuildError::Url)?);
        let mut headers = Vec::with_capacity(self.headers.len() + 3);
        headers.push(("Accept".to_string(), "application/json".to_string()));
        if self.sends_body || (self.content_type_without_body && self.method != Method::Get) {
            headers.push((
                "Content-Type".to_string(),
                self.content_format.content_type().to_string(),
            ));
        }
        headers.push(("User-Agent".to_string(), USER_AGENT.to_string()));
        for (name, template) in &self.headers {
            let value = template
                .render(&record.value)
                .map_err(|source| BuildError::Header {
                    name: name.clone(),
                    source,
                })?;
            match headers
                .iter_mut()
                .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
            {
                Some(slot) => slot.1 = value,
                None => headers.push((name.clone(), value)),
            }
        }
        let mut warnings = Vec::new();
        let body = if self.sends_body {
            // Exclusion applies to the input attributes, before the mapping reads them. A
            // mapping only reads the record, so without exclusions it reads it in place.
            let mut input = Cow::Borrowed(&record.value);
            for path in &self.exclude {
                path::remove(input.to_mut(), path);
            }
            let body = match &self.mapping {
                Some(entries) => {
                    let mapped = mapping::apply(entries, &input).map_err(BuildError::Mapping)?;
                    warnings = mapped
                        .warnings
                        .into_iter()
                        .map(|message| RecordWarning {
                            record: record.no,
                            line: record.line,
                            message,
                        })
                        .collect();
                    mapped.body
                }
                None => input.into_owned(),
            };
            templates::check_fields(&self.fields, &body).map_err(BuildError::Fields)?;
            Some(body)
        } else {
            None
        };
        Ok(Prepared {
            url,
            headers,
            body,
            warnings,
        })
    }

    /// Mapping entries left out because their source attribute is excluded, as
    /// (target, source attribute).
    pub fn excluded_mapping(&self) -> &[(String, String)] {
        &self.excluded_mapping
    }

    /// Exclusions that change nothing, each with the reason: the body is built from a mapping
    /// that does not read the attribute, or (given the input's attributes) the input has no
    /// such attribute. For `validate` and the wizard.
    pub fn ineffective_exclusions(&self, attributes: Option<&[String]>) -> Vec<String> {
        exclusion::ineffective(
            &self.exclude,
            self.sends_body,
            self.mapping.as_deref(),
            &self.excluded_mapping,
            attributes,
        )
    }

    fn request(
        &self,
        prepared: Prepared,
        records: Vec<RecordNo>,
        body: Option<String>,
        warnings: Vec<RecordWarning>,
    ) -> Request {
        Request {
            method: self.method,
            url: prepared.url,
            headers: prepared.headers,
            auth: self.auth,
            body,
            records,
            warnings,
        }
    }
}

struct Prepared {
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Map<String, Value>>,
    warnings: Vec<RecordWarning>,
}

/// Why one record cannot become a request; its text is the record's invalid reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Url(macros::MacroError),
    #[error("header {name}: {source}")]
    Header {
        name: String,
        source: macros::MacroError,
    },
    #[error(transparent)]
    Mapping(mapping::ApplyError),
    #[error(transparent)]
    Fields(templates::FieldError),
    #[error(transparent)]
    Batch(batch::BatchError),
}

/// Streams records into requests. With batching, records wait in open batches until a batch is
/// full, too big, or [`Builder::finish`] is called.
pub struct Builder<'p> {
    plan: &'p Plan,
    batches: batch::Batches,
}

impl Builder<'_> {
    /// Adds one record (or an unreadable one) and returns whatever is ready.
    pub fn push(&mut self, record: Result<Record, RecordError>) -> Vec<Built> {
        match record {
            Ok(record) => self.add(&record),
            Err(err) => vec![Built::Invalid(Invalid {
                record: err.no,
                line: err.line,
                reason: err.message,
            })],
        }
    }

    /// Adds one record read and returns whatever is ready. The record is only read, so a caller
    /// that keeps it (for dead letters) need not copy it.
    pub fn add(&mut self, record: &Record) -> Vec<Built> {
        let invalid = |reason: String| {
            Built::Invalid(Invalid {
                record: record.no,
                line: record.line,
                reason,
            })
        };
        let mut prepared = match self.plan.prepare(record) {
            Ok(prepared) => prepared,
            Err(reason) => return vec![invalid(reason.to_string())],
        };
        let Some(settings) = &self.plan.batching else {
            let body = prepared
                .body
                .as_ref()
                .map(|b| encode::encode(b, self.plan.content_format, &self.plan.xml_root));
            let warnings = std::mem::take(&mut prepared.warnings);
            return vec![Built::Request(self.plan.request(
                prepared,
                vec![record.no],
                body,
                warnings,
            ))];
        };
        match self.batches.add(settings, record, prepared) {
            Ok(ready) => ready
                .into_iter()
                .map(|b| Built::Request(self.finish_batch(b)))
                .collect(),
            Err(reason) => vec![invalid(BuildError::Batch(reason).to_string())],
        }
    }

    /// Sends out every batch still open.
    pub fn finish(&mut self) -> Vec<Built> {
        self.batches
            .drain()
            .into_iter()
            .map(|b| Built::Request(self.finish_batch(b)))
            .collect()
    }

    fn finish_batch(&self, batch: batch::Batch) -> Request {
        let (prepared, records, body, warnings) = batch.into_parts();
        self.plan.request(prepared, records, Some(body), warnings)
    }
}

/// Builds every request for `records` (for previews and tests; `run` streams with a [`Builder`]).
pub fn build_all(
    plan: &Plan,
    records: impl IntoIterator<Item = Result<Record, RecordError>>,
) -> Vec<Built> {
    let mut builder = plan.builder();
    let mut out = Vec::new();
    for record in records {
        out.extend(builder.push(record));
    }
    out.extend(builder.finish());
    out
}

/// Checks a URL template's macros and shape.
pub fn check_url_template(url: &str) -> Result<(), macros::MacroError> {
    macros::Template::url(url.trim()).map(|_| ())
}

/// Header names that carry credentials: they belong in the credentials store, not in a file.
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];
const SECRET_WORDS: &[&str] = &[
    "token", "secret", "password", "api-key", "apikey", "api_key",
];

/// Why a header cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(transparent)]
    Rule(crate::rules::RuleError),
    #[error(
        "{0} would put a secret in the destination file; save it in a credential \
         (`aircall-dest credentials add`) and the credential's header is added when sending"
    )]
    Secret(String),
    #[error(transparent)]
    Macro(#[from] macros::MacroError),
}

/// Checks a header: a valid name, no control characters, and no literal secrets.
pub fn check_header(name: &str, value: &str) -> Result<(), HeaderError> {
    crate::rules::check_header_name(name).map_err(HeaderError::Rule)?;
    crate::rules::check_header_value(name, value).map_err(HeaderError::Rule)?;
    let lower = name.to_ascii_lowercase();
    let literal = !value.contains("{record.");
    if SECRET_HEADERS.contains(&lower.as_str())
        || (literal && SECRET_WORDS.iter().any(|w| lower.contains(w)))
    {
        return Err(HeaderError::Secret(name.to_string()));
    }
    macros::Template::header(value)?;
    Ok(())
}

/// Checks a mapping target path.
pub fn check_target_path(target: &str) -> Result<(), path::TargetError> {
    path::parse_target(target).map(|_| ())
}

#[cfg(test)]
mod tests;
