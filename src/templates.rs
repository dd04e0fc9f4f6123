//! Endpoint templates, kept as data under `assets/templates/` and embedded in the binary.
//!
//! A template names an Aircall operation (create, update, delete, …) and the resources it
//! applies to, with each resource's path, the fields it takes and which are required, and the
//! field mapping to suggest from a dataset's attribute names.

pub mod columns;
mod fields;

pub use fields::{FieldError, check_fields, is_e164};

use std::sync::OnceLock;

use serde::Deserialize;

use crate::destination::{
    Batching, BodyMode, ContentFormat, FieldMapping, Method, RequestSettings, TemplateRef,
    Transform,
};

const SOURCES: &[(&str, &str)] = &[
    (
        "create_records",
        include_str!("../assets/templates/create_records.toml"),
    ),
    (
        "update_records",
        include_str!("../assets/templates/update_records.toml"),
    ),
    (
        "delete_records",
        include_str!("../assets/templates/delete_records.toml"),
    ),
    (
        "add_team_members",
        include_str!("../assets/templates/add_team_members.toml"),
    ),
    (
        "call_comments",
        include_str!("../assets/templates/call_comments.toml"),
    ),
    (
        "dialer_campaign_numbers",
        include_str!("../assets/templates/dialer_campaign_numbers.toml"),
    ),
];

/// The resource id that lets a person type any resource path.
pub const CUSTOM: &str = "custom";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    pub method: Method,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    pub default: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    pub name: String,
    /// Overrides the template's method (Aircall updates contacts with POST).
    #[serde(default)]
    pub method: Option<Method>,
    /// The URL path; `${param}` is replaced by a template parameter.
    pub path: String,
    #[serde(default)]
    pub body: BodyMode,
    #[serde(default)]
    pub note: Option<String>,
    /// A parameter naming an attribute that only addresses the object and leaves the body.
    #[serde(default)]
    pub exclude_parameter: Option<String>,
    /// How a create whose outcome is unknown can be looked up: `contact` or `user`.
    #[serde(default)]
    pub reconcile: Option<String>,
    #[serde(default)]
    pub batching: Option<Batching>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub suggest: Vec<Suggestion>,
}

/// A field the resource takes, and what makes a value acceptable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    pub kind: FieldKind,
    #[serde(default)]
    pub min_items: Option<usize>,
    #[serde(default)]
    pub max_items: Option<usize>,
    /// When present, the value must not be blank (Aircall's "Can't be blank if defined").
    #[serde(default)]
    pub not_blank: bool,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    String,
    Integer,
    Email,
    E164,
    HexColor,
    /// `[{label, value}]` with E.164 values.
    PhoneList,
    /// `[{label, value}]` with email values.
    EmailList,
}

/// A mapping entry to propose when the dataset has a matching attribute.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suggestion {
    pub target: String,
    #[serde(default)]
    pub candidates: Vec<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub transform: Transform,
    #[serde(default)]
    pub optional: bool,
    /// For constants: include only when the suggestion for that target found an attribute.
    #[serde(default)]
    pub companion_of: Option<String>,
}

/// Every template, parsed once from the embedded data.
pub fn all() -> &'static [Template] {
    static TEMPLATES: OnceLock<Vec<Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(name, text)| match toml::from_str::<Template>(text) {
                Ok(template) => template,
                // The data is part of the binary and covered by tests; a broken file is a build bug.
                Err(err) => panic!("embedded template {name} is invalid: {err}"),
            })
            .collect()
    })
}

pub fn get(id: &str) -> Option<&'static Template> {
    all().iter().find(|t| t.id == id)
}

impl Template {
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// Whether the template offers a "custom…" resource (creating and updating do).
    pub fn allows_custom(&self) -> bool {
        matches!(
            self.id.as_str(),
            "create_records" | "update_records" | "delete_records"
        )
    }

    /// The value of a parameter in `reference`, else its default.
    pub fn parameter(&self, reference: &TemplateRef, name: &str) -> Option<String> {
        let default = self
            .parameters
            .iter()
            .find(|p| p.name == name)?
            .default
            .clone();
        Some(
            reference
                .parameters
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or(default),
        )
    }

    fn substitute(&self, reference: &TemplateRef, text: &str) -> String {
        let mut out = text.to_string();
        for parameter in &self.parameters {
            if let Some(value) = self.parameter(reference, &parameter.name) {
                out = out.replace(&format!("${{{}}}", parameter.name), &value);
            }
        }
        out
    }
}

/// The request settings, batching and field rules a template reference stands for.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub request: RequestSettings,
    pub batching: Option<Batching>,
    pub fields: Vec<FieldSpec>,
}

/// A template reference that names something no template has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template {id:?}: expected one of {known}")]
    UnknownTemplate { id: String, known: String },
    #[error("template {template} has no parameter {name:?} (it takes: {known})")]
    UnknownParameter {
        template: String,
        name: String,
        known: String,
    },
    #[error("template {template} has no custom resource")]
    NoCustomResource { template: String },
    #[error("resource = \"custom\" needs custom_path, a path such as \"/v1/tags\"")]
    NoCustomPath,
    #[error("template {template} has no resource {resource:?}: expected one of {known}")]
    UnknownResource {
        template: String,
        resource: String,
        known: String,
    },
}

/// Checks a destination's template reference: the template, the resource and the parameters.
pub fn check_reference(reference: &TemplateRef) -> Result<(), TemplateError> {
    resolve(reference).map(|_| ())
}

/// Resolves a template reference to the settings the wizard writes into the destination.
pub fn resolve(reference: &TemplateRef) -> Result<Resolved, TemplateError> {
    let template = get(&reference.id).ok_or_else(|| {
        let ids: Vec<&str> = all().iter().map(|t| t.id.as_str()).collect();
        TemplateError::UnknownTemplate {
            id: reference.id.clone(),
            known: ids.join(", "),
        }
    })?;
    for key in reference.parameters.keys() {
        if !template.parameters.iter().any(|p| &p.name == key) {
            let known: Vec<&str> = template
                .parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            return Err(TemplateError::UnknownParameter {
                template: template.id.clone(),
                name: key.clone(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            });
        }
    }
    if reference.resource == CUSTOM {
        if !template.allows_custom() {
            return Err(TemplateError::NoCustomResource {
                template: template.id.clone(),
            });
        }
        let path = reference
            .custom_path
            .as_deref()
            .filter(|p| p.starts_with('/'))
            .ok_or(TemplateError::NoCustomPath)?;
        let url = match template.id.as_str() {
            "create_records" => path.to_string(),
            _ => format!(
                "{}/{{record.{}}}",
                path.trim_end_matches('/'),
                template
                    .parameter(reference, "id_attribute")
                    .unwrap_or_else(|| "id".into())
            ),
        };
        let exclude = match template.id.as_str() {
            "update_records" => vec![
                template
                    .parameter(reference, "id_attribute")
                    .unwrap_or_else(|| "id".into()),
            ],
            _ => Vec::new(),
        };
        return Ok(Resolved {
            request: settings(template.method, url, BodyMode::Auto, exclude),
            batching: None,
            fields: Vec::new(),
        });
    }
    let resource = template.resource(&reference.resource).ok_or_else(|| {
        let mut ids: Vec<&str> = template.resources.iter().map(|r| r.id.as_str()).collect();
        if template.allows_custom() {
            ids.push(CUSTOM);
        }
        TemplateError::UnknownResource {
            template: template.id.clone(),
            resource: reference.resource.clone(),
            known: ids.join(", "),
        }
    })?;
    let url = template.substitute(reference, &resource.path);
    let exclude = resource
        .exclude_parameter
        .as_deref()
        .and_then(|p| template.parameter(reference, p))
        .into_iter()
        .collect();
    let batching = resource.batching.clone().map(|mut b| {
        b.group_by = b.group_by.map(|g| template.substitute(reference, &g));
        b
    });
    Ok(Resolved {
        request: settings(
            resource.method.unwrap_or(template.method),
            url,
            resource.body,
            exclude,
        ),
        batching,
        fields: resource.fields.clone(),
    })
}

fn settings(method: Method, url: String, body: BodyMode, exclude: Vec<String>) -> RequestSettings {
    RequestSettings {
        method,
        content_format: ContentFormat::Json,
        url,
        headers: toml::Table::new(),
        exclude,
        body,
        xml_root: "record".into(),
        allow_credential_hosts: Vec::new(),
        content_type_without_body: true,
    }
}

/// The field mapping to propose for `resource` given a dataset's attribute paths: each
/// suggestion takes a column spelt as the template knows the field (compared without case,
/// spaces or punctuation), else the column whose name looks most like it (see
/// [`columns`]); no column is used twice. [`columns::assign`] says which were guessed.
pub fn suggest_mapping(resource: &Resource, attributes: &[String]) -> Vec<FieldMapping> {
    let chosen = columns::assign(&resource.suggest, attributes);
    let column_of = |target: &str| {
        resource
            .suggest
            .iter()
            .position(|s| s.target == target)
            .and_then(|at| chosen[at].as_ref())
            .map(|choice| choice.attribute.clone())
    };
    let mut mapping = Vec::new();
    for (suggestion, choice) in resource.suggest.iter().zip(&chosen) {
        if let Some(value) = &suggestion.value {
            let mut if_present = None;
            if let Some(companion) = &suggestion.companion_of {
                let Some(partner) = resource.suggest.iter().find(|s| &s.target == companion) else {
                    continue;
                };
                let Some(attribute) = column_of(companion) else {
                    continue;
                };
                if partner.optional {
                    if_present = Some(attribute);
                }
            }
            mapping.push(FieldMapping {
                target: suggestion.target.clone(),
                from: None,
                value: Some(toml::Value::String(value.clone())),
                transform: Transform::None,
                default_country: None,
                phone_check: Default::default(),
                optional: false,
                if_present,
            });
        } else if let Some(choice) = choice {
            mapping.push(FieldMapping {
                target: suggestion.target.clone(),
                from: Some(choice.attribute.clone()),
                value: None,
                transform: suggestion.transform,
                default_country: None,
                phone_check: Default::default(),
                optional: suggestion.optional,
                if_present: None,
            });
        }
    }
    mapping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(id: &str, resource: &str) -> TemplateRef {
        TemplateRef {
            id: id.into(),
            resource: resource.into(),
            custom_path: None,
            parameters: toml::Table::new(),
        }
    }

    #[test]
    fn every_embedded_template_parses_and_resolves() {
        assert!(all().len() >= 6);
        for template in all() {
            for resource in &template.resources {
                let resolved = resolve(&reference(&template.id, &resource.id)).unwrap();
                assert!(
                    resolved.request.url.starts_with('/'),
                    "{}:{}",
                    template.id,
                    resource.id
                );
                assert!(
                    !resolved.request.url.contains("${"),
                    "unsubstituted parameter in {}",
                    resolved.request.url
                );
                crate::request::check_url_template(&resolved.request.url).unwrap();
            }
        }
    }

    #[test]
    fn parameters_and_custom_paths_shape_the_url() {
        let mut r = reference("update_records", "contacts");
        r.parameters.insert(
            "id_attribute".into(),
            toml::Value::String("aircall_id".into()),
        );
        let resolved = resolve(&r).unwrap();
        assert_eq!(resolved.request.method, Method::Post);
        assert_eq!(resolved.request.url, "/v1/contacts/{record.aircall_id}");
        assert_eq!(resolved.request.exclude, vec!["aircall_id".to_string()]);

        let mut custom = reference("create_records", CUSTOM);
        assert_eq!(resolve(&custom).unwrap_err(), TemplateError::NoCustomPath);
        custom.custom_path = Some("/v1/webhooks".into());
        assert_eq!(resolve(&custom).unwrap().request.url, "/v1/webhooks");

        assert!(matches!(
            resolve(&reference("create_records", "calls")),
            Err(TemplateError::UnknownResource { resource, .. }) if resource == "calls"
        ));
        assert!(matches!(
            resolve(&reference("nope", "contacts")),
            Err(TemplateError::UnknownTemplate { id, .. }) if id == "nope"
        ));
    }

    #[test]
    fn suggestions_follow_the_sample_csv_headers() {
        let attributes: Vec<String> = [
            "Index",
            "First Name",
            "Last Name",
            "Company",
            "Phone 1",
            "Phone 2",
            "Email",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let resource = get("create_records").unwrap().resource("contacts").unwrap();
        let mapping = suggest_mapping(resource, &attributes);
        let targets: Vec<&str> = mapping.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "first_name",
                "last_name",
                "company_name",
                "phone_numbers[0].label",
                "phone_numbers[0].value",
                "phone_numbers[1].label",
                "phone_numbers[1].value",
                "emails[0].label",
                "emails[0].value"
            ]
        );
        let second_label = &mapping[5];
        assert_eq!(second_label.if_present.as_deref(), Some("Phone 2"));
        assert_eq!(mapping[4].transform, Transform::E164);
    }

    #[test]
    fn updates_map_known_columns_and_leave_the_rest_out_of_the_body() {
        let attributes: Vec<String> = ["id", "Customer Id", "First Name", "Company"]
            .into_iter()
            .map(String::from)
            .collect();
        let resource = get("update_records").unwrap().resource("contacts").unwrap();
        let mapping = suggest_mapping(resource, &attributes);
        let pairs: Vec<(&str, Option<&str>)> = mapping
            .iter()
            .map(|m| (m.target.as_str(), m.from.as_deref()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("first_name", Some("First Name")),
                ("company_name", Some("Company"))
            ]
        );
        assert!(
            mapping.iter().all(|m| m.optional),
            "an update sends only what the record has"
        );
    }
}
