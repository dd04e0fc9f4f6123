//! The fields of the form by name: the widget each one is and the label it is shown with, so
//! drawing, keys and validation messages all ask one place.

use crate::tui::model::*;
use crate::tui::widgets::{Pulldown, TextInput};

pub fn field_label(model: &Model, field: Field) -> String {
    match field {
        Field::Method | Field::ContentFormat | Field::Url | Field::Headers | Field::Exclude => {
            field
                .request_part()
                .map(|part| part.label().to_string())
                .unwrap_or_default()
        }
        Field::DatasetPath => "Dataset".into(),
        Field::Credential => "Credential".into(),
        Field::CredName => "Name".into(),
        Field::CredDescription => "Description".into(),
        Field::CredApiId => "API ID".into(),
        Field::CredToken => "API token".into(),
        Field::CredKind => "Auth".into(),
        Field::CredAdvanced => String::new(),
        Field::CredBaseUrl => "Base URL".into(),
        Field::Verify => String::new(),
        Field::Tabs => String::new(),
        Field::Endpoint => "Endpoint".into(),
        Field::Resource => "Resource type".into(),
        Field::CustomPath => "Resource path".into(),
        Field::MapSource(i) => model
            .configure
            .mapping
            .get(i)
            .map(|r| format!("{}{}", r.target, if r.required { "*" } else { "" }))
            .unwrap_or_default(),
        Field::MapConstant(i) => format!("value of {}", map_target(model, i)),
        Field::MapTransform(i) => format!("transform of {}", map_target(model, i)),
        Field::MapMore(_) => "options".into(),
        Field::MapOptional(_) => "  optional".into(),
        Field::MapIfPresent(_) => "  only if".into(),
        Field::MapCountry(_) => "  country".into(),
        Field::MapRemove(_) => "Remove entry".into(),
        Field::MapAdd => "Add entry".into(),
        Field::TemplateParam(i) => model
            .configure
            .parameters
            .get(i)
            .map(|(name, _)| name.clone())
            .unwrap_or_default(),
        Field::Setting(id) => model
            .setting(id)
            .map(|s| s.label.to_string())
            .unwrap_or_default(),
        Field::Pane => "Sample requests".into(),
        Field::Editor => "Body".into(),
        Field::DestName => "Name".into(),
        Field::SavePath => "File".into(),
        Field::Save => "Save".into(),
        Field::SaveActivate => "Save & Activate".into(),
        Field::StartRun => "Start run".into(),
        Field::StopRun => "Stop run".into(),
        Field::Back => "Back".into(),
        Field::Next => "Next".into(),
    }
}

fn map_target(model: &Model, index: usize) -> String {
    model
        .configure
        .mapping
        .get(index)
        .map(|r| r.target.clone())
        .unwrap_or_default()
}

/// Read-only twin of [`text_input_mut`], for drawing.
pub fn text_input_ref(model: &Model, field: Field) -> Option<&TextInput> {
    let c = &model.configure;
    if let Some(part) = field.request_part() {
        return c.request.text_input(part);
    }
    Some(match field {
        Field::DatasetPath => &model.source.path,
        Field::CredName => &model.credential.name,
        Field::CredDescription => &model.credential.description,
        Field::CredApiId => &model.credential.api_id,
        Field::CredToken => &model.credential.token,
        Field::CredBaseUrl => &model.credential.base_url,
        Field::CustomPath => &c.custom_path,
        Field::MapConstant(i) => &c.mapping.get(i)?.constant,
        Field::MapAdd => &c.add_target,
        Field::Setting(id) => return model.setting(id)?.text_input(),
        Field::DestName => &model.save.name,
        Field::SavePath => &model.save.path,
        _ => return None,
    })
}

/// Read-only twin of [`pulldown_mut`], for drawing.
pub fn pulldown_ref(model: &Model, field: Field) -> Option<&Pulldown> {
    let c = &model.configure;
    if let Some(part) = field.request_part() {
        return c.request.pulldown(part);
    }
    Some(match field {
        Field::Credential => &model.credential.pick,
        Field::CredKind => &model.credential.kind,
        Field::Endpoint => &c.endpoint,
        Field::Resource => &c.resource,
        Field::MapSource(i) => &c.mapping.get(i)?.source,
        Field::MapTransform(i) => &c.mapping.get(i)?.transform,
        Field::MapIfPresent(i) => &c.mapping.get(i)?.if_present,
        Field::MapCountry(i) => &c.mapping.get(i)?.country,
        Field::TemplateParam(i) => &c.parameters.get(i)?.1,
        Field::Setting(id) => return model.setting(id)?.pulldown(),
        _ => return None,
    })
}

pub fn text_input_mut(model: &mut Model, field: Field) -> Option<&mut TextInput> {
    let c = &mut model.configure;
    if let Some(part) = field.request_part() {
        return c.request.text_input_mut(part);
    }
    Some(match field {
        Field::DatasetPath => &mut model.source.path,
        Field::CredName => &mut model.credential.name,
        Field::CredDescription => &mut model.credential.description,
        Field::CredApiId => &mut model.credential.api_id,
        Field::CredToken => &mut model.credential.token,
        Field::CredBaseUrl => &mut model.credential.base_url,
        Field::CustomPath => &mut c.custom_path,
        Field::MapConstant(i) => &mut c.mapping.get_mut(i)?.constant,
        Field::MapAdd => &mut c.add_target,
        Field::Setting(id) => return c.setting_mut(id)?.text_input_mut(),
        Field::DestName => &mut model.save.name,
        Field::SavePath => &mut model.save.path,
        _ => return None,
    })
}

pub fn pulldown_mut(model: &mut Model, field: Field) -> Option<&mut Pulldown> {
    let c = &mut model.configure;
    if let Some(part) = field.request_part() {
        return c.request.pulldown_mut(part);
    }
    Some(match field {
        Field::Credential => &mut model.credential.pick,
        Field::CredKind => &mut model.credential.kind,
        Field::Endpoint => &mut c.endpoint,
        Field::Resource => &mut c.resource,
        Field::MapSource(i) => &mut c.mapping.get_mut(i)?.source,
        Field::MapTransform(i) => &mut c.mapping.get_mut(i)?.transform,
        Field::MapIfPresent(i) => &mut c.mapping.get_mut(i)?.if_present,
        Field::MapCountry(i) => &mut c.mapping.get_mut(i)?.country,
        Field::TemplateParam(i) => &mut c.parameters.get_mut(i)?.1,
        Field::Setting(id) => return c.setting_mut(id)?.pulldown_mut(),
        _ => return None,
    })
}
