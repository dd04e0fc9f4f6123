//! Which fields are on screen, in Tab order, for the current step and state.

use crate::tui::model::{Field, Model, Run, Step, TestState};
use crate::tui::sections::request::Part;

/// The fields of the form area in order (the sample pane and the buttons come after them).
pub fn form_fields(model: &Model) -> Vec<Field> {
    let mut fields = Vec::new();
    match model.step {
        Step::Source => {
            fields.push(Field::DatasetPath);
            fields.push(Field::Credential);
            if model.is_new_credential() {
                fields.extend([Field::CredName, Field::CredDescription, Field::CredKind]);
                if model.credential.kind.selected() == 0 {
                    fields.push(Field::CredApiId);
                }
                fields.extend([Field::CredToken, Field::CredAdvanced]);
                if model.credential.advanced.checked {
                    fields.push(Field::CredBaseUrl);
                }
            }
            fields.push(Field::Verify);
        }
        Step::Configure => {
            fields.push(Field::Tabs);
            let form = &model.configure;
            if form.tabs.selected() == 0 {
                fields.push(Field::Endpoint);
                if model.dest.template.is_some() {
                    fields.push(Field::Resource);
                    if model
                        .dest
                        .template
                        .as_ref()
                        .is_some_and(|t| t.resource == "custom")
                    {
                        fields.push(Field::CustomPath);
                    }
                    fields.extend((0..form.parameters.len()).map(Field::TemplateParam));
                }
                // The mapping builds the body in manual mode too, so it is shown there as well.
                for (i, row) in form.mapping.iter().enumerate() {
                    // Source, then its value or transform, then the options toggle share a
                    // line; the options follow when opened.
                    fields.push(Field::MapSource(i));
                    if row.is_constant() {
                        fields.push(Field::MapConstant(i));
                    } else if row.is_set() {
                        fields.push(Field::MapTransform(i));
                    }
                    fields.push(Field::MapMore(i));
                    if row.expanded {
                        if row.is_set() && !row.is_constant() {
                            fields.push(Field::MapOptional(i));
                        }
                        if row.is_set() {
                            fields.push(Field::MapIfPresent(i));
                        }
                        if row.is_set() && !row.is_constant() && row.is_e164() {
                            fields.push(Field::MapCountry(i));
                        }
                        fields.push(Field::MapRemove(i));
                    }
                }
                fields.push(Field::MapAdd);
            } else {
                fields.extend(Part::ALL.map(Field::from));
                for section in form.advanced_sections() {
                    fields.extend(section.shown_ids(&model.dest).map(Field::Setting));
                }
            }
        }
        Step::Save => {
            fields.extend([Field::DestName, Field::SavePath]);
            fields.extend(
                model
                    .configure
                    .schedule
                    .shown_ids(&model.dest)
                    .map(Field::Setting),
            );
            fields.extend([Field::Save, Field::SaveActivate]);
            let active = model
                .save
                .saved
                .as_ref()
                .is_some_and(|(_, s)| *s == crate::destination::Status::Active);
            match &model.save.run {
                Run::Running { .. } => fields.push(Field::StopRun),
                _ if active => fields.push(Field::StartRun),
                _ => {}
            }
        }
    }
    fields
}

/// The headed parts of the form shown now, with the field each starts at, for Alt-1…9.
pub fn sections(model: &Model) -> Vec<(&'static str, Field)> {
    let order = order(model);
    let first = |pick: &dyn Fn(&Field) -> bool| order.iter().copied().find(|f| pick(f));
    let mut found = Vec::new();
    let candidates: Vec<(&'static str, Option<Field>)> = match model.step {
        Step::Source => vec![
            ("Dataset", first(&|f| *f == Field::DatasetPath)),
            ("Credential", first(&|f| *f == Field::Credential)),
        ],
        Step::Configure if model.configure.tabs.selected() == 0 => vec![
            ("Endpoint", first(&|f| *f == Field::Endpoint)),
            (
                "Field mapping",
                first(&|f| matches!(f, Field::MapSource(_) | Field::MapAdd)),
            ),
            (
                "Samples",
                first(&|f| matches!(f, Field::Pane | Field::Editor)),
            ),
        ],
        Step::Configure => {
            let mut list = vec![
                ("Request", first(&|f| *f == Field::Method)),
                ("Exclude", first(&|f| *f == Field::Exclude)),
            ];
            for section in model.configure.advanced_sections() {
                let start = section.shown_ids(&model.dest).next();
                list.push((
                    section.title,
                    first(&|f| matches!(f, Field::Setting(id) if Some(*id) == start)),
                ));
            }
            list.push((
                "Samples",
                first(&|f| matches!(f, Field::Pane | Field::Editor)),
            ));
            list
        }
        Step::Save => vec![
            ("Name", first(&|f| *f == Field::DestName)),
            (
                "Schedule",
                first(&|f| *f == Field::Setting(crate::tui::sections::schedule::KIND)),
            ),
            ("Save", first(&|f| *f == Field::Save)),
            (
                "Run",
                first(&|f| matches!(f, Field::StartRun | Field::StopRun)),
            ),
        ],
    };
    for (title, field) in candidates {
        if let Some(field) = field {
            found.push((title, field));
        }
    }
    found
}

/// Every focusable field in Tab order.
pub fn order(model: &Model) -> Vec<Field> {
    let mut fields = form_fields(model);
    if model.step == Step::Configure {
        fields.push(if model.pane.test == TestState::Editing {
            Field::Editor
        } else {
            Field::Pane
        });
    }
    if model.step != Step::Source {
        fields.push(Field::Back);
    }
    if model.step != Step::Save {
        fields.push(Field::Next);
    }
    fields
}

/// Keeps the focus on a field that exists, after a change removed the focused one.
pub fn repair(model: &mut Model) {
    let order = order(model);
    if !order.contains(&model.focus) {
        model.focus = order.first().copied().unwrap_or(Field::Next);
    }
}

pub fn move_focus(model: &mut Model, forward: bool) {
    let order = order(model);
    let at = order.iter().position(|f| *f == model.focus).unwrap_or(0);
    let len = order.len();
    let next = if forward {
        (at + 1) % len
    } else {
        (at + len - 1) % len
    };
    model.focus = order[next];
}

/// Fields that take printable keys as text, so global single-key bindings stand aside.
pub fn is_text(model: &Model, field: Field) -> bool {
    if let Field::Setting(id) = field {
        return model.setting(id).is_some_and(|s| s.takes_text());
    }
    matches!(
        field,
        Field::DatasetPath
            | Field::CredName
            | Field::CredDescription
            | Field::CredApiId
            | Field::CredToken
            | Field::CredBaseUrl
            | Field::CustomPath
            | Field::MapConstant(_)
            | Field::MapAdd
            | Field::Url
            | Field::Headers
            | Field::Exclude
            | Field::Editor
            | Field::DestName
            | Field::SavePath
    )
}
