//! What an edited widget writes back into the destination, and what follows from it (a new template, mapping entries added or removed, the pane rebuilt).

use super::*;

/// Writes the edited widget's value into the destination and refreshes what depends on it.
pub fn on_changed(model: &mut Model, field: Field) -> Vec<Cmd> {
    // Switching a tab or showing advanced settings changes nothing that would be saved.
    if !matches!(field, Field::Tabs | Field::CredAdvanced) {
        model.unsaved_edits = true;
    }
    if let Field::MapSource(i) = field
        && map_onto_list(model, i)
    {
        pane::rebuild(model);
        return Vec::new();
    }
    let mut cmds = Vec::new();
    let c = &model.configure;
    match field {
        Field::DatasetPath => {
            model.dest.source.path = PathBuf::from(model.source.path.value().trim());
            model.dest.source.format = None;
            model.source_edited = true;
            cmds = inspect(model);
        }
        Field::Credential
        | Field::CredName
        | Field::CredDescription
        | Field::CredApiId
        | Field::CredToken
        | Field::CredKind
        | Field::CredBaseUrl => {
            model.credential.verify = Verify::Idle;
            if let Ok(credential) = model.chosen_credential() {
                if model.dest.credential != credential.name {
                    model.dest.credential = credential.name;
                }
            } else if model.is_new_credential() && !model.credential.name.value().trim().is_empty()
            {
                model.dest.credential = model.credential.name.value().trim().to_string();
            }
        }
        Field::CredAdvanced => {}
        Field::Tabs => {}
        Field::Endpoint => {
            let label = c.endpoint.selected_label().to_string();
            match crate::templates::all().iter().find(|t| t.name == label) {
                Some(template) => {
                    let resource = template
                        .resources
                        .first()
                        .map(|r| r.id.clone())
                        .unwrap_or_else(|| "custom".into());
                    apply_template(
                        model,
                        TemplateRef {
                            id: template.id.clone(),
                            resource,
                            custom_path: None,
                            parameters: toml::Table::new(),
                        },
                    );
                }
                None => {
                    model.dest.mode = Mode::Manual;
                    model.dest.template = None;
                    model.load_configure_widgets();
                    // The mapping still builds every body in manual mode: say so, since the
                    // person may expect the record itself to be sent.
                    let entries = model.dest.mapping.len();
                    if entries > 0 {
                        model.notice = Some((
                            Level::Info,
                            format!(
                                "manual mode keeps the field mapping ({entries} entr{}): it still \
                                 builds each body; remove entries below to send records as they are",
                                if entries == 1 { "y" } else { "ies" }
                            ),
                        ));
                    }
                }
            }
        }
        Field::Resource => {
            if let Some(mut reference) = model.dest.template.clone() {
                let label = c.resource.selected_label().to_string();
                let template = model.template();
                reference.resource = template
                    .and_then(|t| t.resources.iter().find(|r| r.name == label))
                    .map(|r| r.id.clone())
                    .unwrap_or_else(|| "custom".into());
                reference.custom_path = if reference.resource == "custom" {
                    Some(c.custom_path.value().to_string())
                        .filter(|p| !p.is_empty())
                        .or(Some("/v1/contacts".into()))
                } else {
                    None
                };
                apply_template(model, reference);
            }
        }
        Field::CustomPath => {
            if let Some(mut reference) = model.dest.template.clone() {
                reference.custom_path = Some(c.custom_path.value().trim().to_string());
                let path = c.custom_path.value().trim();
                if path.starts_with('/') {
                    model.set_error(Field::CustomPath, None);
                    apply_template_keep_widgets(model, reference);
                } else {
                    model.set_error(
                        Field::CustomPath,
                        Some("a resource path starts with /".into()),
                    );
                }
            }
        }
        Field::MapSource(i) | Field::MapConstant(i) | Field::MapTransform(i) => {
            // An entry the person has edited is theirs, no longer the suggestion's guess.
            if let (Some(row), Some(suggested)) =
                (c.mapping.get(i), model.suggested_mapping.as_mut())
            {
                suggested.retain(|m| m.target != row.target);
            }
            model.apply_mapping_row(i);
            if field != Field::MapConstant(i) {
                // Showing a value or a transform, or the count under a field, follows the source.
                model.refresh_attribute_widgets();
            }
        }
        Field::MapOptional(i) => {
            let checked = c.mapping.get(i).is_some_and(|r| r.optional.checked);
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.optional = checked;
            }
        }
        Field::MapIfPresent(i) => {
            let condition = c
                .mapping
                .get(i)
                .map(|r| r.if_present.selected_label().to_string())
                .filter(|l| l != ALWAYS);
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.if_present = condition;
            }
        }
        Field::MapCountry(i) => {
            let country = c
                .mapping
                .get(i)
                .map(|r| country_of(r.country.selected_label()).to_string());
            if let Some(entry) = model.mapping_entry_mut(i) {
                entry.default_country = country;
            }
        }
        Field::MapAdd => model.set_error(Field::MapAdd, None),
        Field::TemplateParam(i) => {
            if let (Some((name, pulldown)), Some(mut reference)) =
                (c.parameters.get(i), model.dest.template.clone())
            {
                reference.parameters.insert(
                    name.clone(),
                    toml::Value::String(pulldown.selected_label().to_string()),
                );
                apply_parameters(model, reference);
            }
        }
        Field::Setting(id) => {
            let problem = match model.configure.section_mut_of(id) {
                Some(section) => section.apply_setting(id, &mut model.dest).err(),
                None => None,
            };
            model.set_error(field, problem);
        }
        Field::Method | Field::ContentFormat | Field::Url | Field::Headers | Field::Exclude => {
            if let Some(part) = field.request_part() {
                let problem = model.configure.request.apply(part, &mut model.dest).err();
                model.set_error(field, problem);
            }
        }
        Field::DestName => {
            let name = model.save.name.value().trim().to_string();
            if !name.is_empty() {
                model.dest.name = name;
            }
        }
        _ => {}
    }
    if model.step == Step::Configure
        || matches!(
            field,
            Field::Credential | Field::CredBaseUrl | Field::CredKind
        )
    {
        pane::rebuild(model);
        cmds.extend(preview_sync(model));
    }
    cmds
}

/// Re-resolves the template after a parameter changed: the URL, method and excluded id follow
/// the parameter; the mapping, headers and content format the person set are kept.
pub(super) fn apply_parameters(model: &mut Model, reference: TemplateRef) {
    match crate::templates::resolve(&reference) {
        Ok(resolved) => {
            let request = &mut model.dest.request;
            request.method = resolved.request.method;
            request.url = resolved.request.url;
            request.exclude = resolved.request.exclude;
            request.body = resolved.request.body;
            if let Some(batching) = resolved.batching {
                model.dest.batching.group_by = batching.group_by;
            }
            model.dest.template = Some(reference);
            model.set_error(Field::Endpoint, None);
            model.load_configure_widgets();
        }
        Err(e) => model.set_error(Field::Endpoint, Some(e.to_string())),
    }
}

/// Adds a row for the target typed in "Add entry", focused on its source.
pub(super) fn add_mapping_entry(model: &mut Model) -> Vec<Cmd> {
    let target = model.configure.add_target.value().trim().to_string();
    if target.is_empty() {
        model.set_error(
            Field::MapAdd,
            Some("type the body path to set, e.g. information or emails[1].value".into()),
        );
        return Vec::new();
    }
    if let Err(e) = crate::request::check_target_path(&target) {
        model.set_error(Field::MapAdd, Some(e.to_string()));
        return Vec::new();
    }
    model.set_error(Field::MapAdd, None);
    if !model.configure.mapping.iter().any(|r| r.target == target) {
        model.configure.added_targets.push(target.clone());
        model.refresh_attribute_widgets();
    }
    model.configure.add_target.set_value("");
    if let Some(i) = model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == target)
    {
        model.focus = Field::MapSource(i);
        model.configure.mapping[i].source.open();
    }
    Vec::new()
}

/// Removes a mapping entry; a field of the resource stays listed, unset.
pub(super) fn remove_mapping_entry(model: &mut Model, index: usize) -> Vec<Cmd> {
    let Some(target) = model.configure.mapping.get(index).map(|r| r.target.clone()) else {
        return Vec::new();
    };
    model.dest.mapping.retain(|m| m.target != target);
    model.configure.added_targets.retain(|t| *t != target);
    model.refresh_attribute_widgets();
    let rows = model.configure.mapping.len();
    model.focus = if let Some(i) = model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == target)
    {
        model.configure.mapping[i].expanded = false;
        Field::MapSource(i)
    } else if index < rows {
        Field::MapSource(index)
    } else {
        Field::MapAdd
    };
    model.notice = Some((
        Level::Info,
        format!("removed the mapping entry for {target}"),
    ));
    pane::rebuild(model);
    Vec::new()
}

pub(super) fn apply_template(model: &mut Model, reference: TemplateRef) {
    apply_template_keep_widgets(model, reference);
    model.load_configure_widgets();
}

/// Resolves a template choice into request settings, batching and a suggested mapping, as the
/// file will store them.
pub(super) fn apply_template_keep_widgets(model: &mut Model, reference: TemplateRef) {
    match crate::templates::resolve(&reference) {
        Ok(resolved) => {
            // What the previous template brought itself is replaced; what the person added to
            // it (headers, exclusions) stays, and the notice says so.
            let previous_template = model
                .dest
                .template
                .as_ref()
                .and_then(|r| crate::templates::resolve(r).ok())
                .map(|r| r.request);
            let (request, kept_request) = carry_request(
                &model.dest.request,
                previous_template.as_ref(),
                resolved.request,
            );
            model.dest.request = request;
            model.dest.batching = resolved.batching.unwrap_or_default();
            model.dest.mode = Mode::Template;
            model.dest.template = Some(reference);
            model.configure.added_targets.clear();
            let attributes = model.attributes();
            let suggestion = model
                .resource()
                .map(|r| crate::templates::suggest_mapping(r, &attributes))
                .unwrap_or_default();
            // The person's own entries stay where the new resource has their field; the rest
            // of the mapping is the new resource's suggestion.
            let carried = carry_mapping(
                &model.dest.mapping,
                model.suggested_mapping.as_deref(),
                suggestion.clone(),
                &resolved.fields,
            );
            let resource = model
                .resource()
                .map(|r| r.name.clone())
                .unwrap_or_else(|| "this resource".into());
            let kept_request = (!kept_request.is_empty())
                .then(|| format!("kept your {}", kept_request.join(", ")));
            model.notice = match (carried.notice(&resource), kept_request) {
                (Some((level, text)), Some(kept)) => Some((level, format!("{text}; {kept}"))),
                (Some(notice), None) => Some(notice),
                (None, Some(kept)) => Some((crate::tui::model::Level::Info, kept)),
                (None, None) => model.notice.take(),
            };
            model.dest.mapping = carried.mapping;
            model.suggested_mapping = Some(suggestion);
            model.set_error(Field::Endpoint, None);
        }
        Err(e) => model.set_error(Field::Endpoint, Some(e.to_string())),
    }
}

/// The request settings of a newly chosen template, with what the person added to the previous
/// ones carried over: headers and exclusions that the previous template (or, in manual mode,
/// nothing) did not bring itself. Returns the settings and what was carried, for the notice.
fn carry_request(
    previous: &crate::destination::RequestSettings,
    previous_template: Option<&crate::destination::RequestSettings>,
    mut next: crate::destination::RequestSettings,
) -> (crate::destination::RequestSettings, Vec<String>) {
    let mut kept = Vec::new();
    for (name, value) in &previous.headers {
        let from_template = previous_template.is_some_and(|t| t.headers.get(name) == Some(value));
        if !from_template && next.headers.get(name) != Some(value) {
            next.headers.insert(name.clone(), value.clone());
            kept.push(format!("header {name}"));
        }
    }
    for attribute in &previous.exclude {
        let from_template = previous_template.is_some_and(|t| t.exclude.contains(attribute));
        if !from_template && !next.exclude.contains(attribute) {
            next.exclude.push(attribute.clone());
            kept.push(format!("exclusion of `{attribute}`"));
        }
    }
    (next, kept)
}

/// An attribute chosen for a whole `[{label, value}]` field (`phone_numbers`, `emails`) becomes
/// one entry of it: a label and the value taken from the attribute (phone numbers in E.164), at
/// the next free index. Returns whether it did so.
fn map_onto_list(model: &mut Model, index: usize) -> bool {
    use crate::destination::Transform;
    use crate::templates::FieldKind;
    let Some(row) = model.configure.mapping.get(index) else {
        return false;
    };
    let attribute = row.source.selected_label().to_string();
    if !row.is_field || !row.is_set() || row.is_constant() {
        return false;
    }
    let target = row.target.clone();
    let kind = model
        .resource_fields()
        .into_iter()
        .find(|f| f.name == target)
        .map(|f| f.kind);
    let transform = match kind {
        Some(FieldKind::PhoneList) => Transform::E164,
        Some(FieldKind::EmailList) => Transform::None,
        _ => return false,
    };
    let taken = |n: usize| {
        let prefix = format!("{target}[{n}]");
        model
            .dest
            .mapping
            .iter()
            .any(|m| m.target.starts_with(&prefix))
    };
    let slot = (0..).find(|n| !taken(*n)).unwrap_or(0);
    model.dest.mapping.retain(|m| m.target != target);
    let entry = |suffix: &str, from: Option<String>, value: Option<&str>, transform| {
        crate::destination::FieldMapping {
            target: format!("{target}[{slot}].{suffix}"),
            from,
            value: value.map(|v| toml::Value::String(v.to_string())),
            transform,
            default_country: None,
            phone_check: Default::default(),
            optional: false,
            if_present: None,
        }
    };
    model
        .dest
        .mapping
        .push(entry("label", None, Some("Work"), Transform::None));
    model
        .dest
        .mapping
        .push(entry("value", Some(attribute.clone()), None, transform));
    model.notice = Some((
        Level::Ok,
        format!(
            "{attribute} mapped onto {target}[{slot}] (label \"Work\"{}): change the label below",
            if transform == Transform::E164 {
                ", value in E.164"
            } else {
                ""
            }
        ),
    ));
    model.refresh_attribute_widgets();
    true
}
