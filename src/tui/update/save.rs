//! Saving the destination (validated as `validate` does) and starting a run of it.

use super::*;

/// The destination as it will be written, or what must be fixed first.
pub fn destination_to_save(
    model: &Model,
    activate: bool,
) -> Result<crate::destination::Destination, String> {
    if let Some((field, error)) = model.configure.errors.first() {
        return Err(format!(
            "{}: {error}",
            crate::tui::form::field_label(model, *field)
        ));
    }
    let mut dest = model.dest.clone();
    let target = PathBuf::from(model.save.path.value().trim());
    let same_folder = |a: Option<&std::path::Path>, b: Option<&std::path::Path>| {
        let canonical = |p: Option<&std::path::Path>| {
            let p = p
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        };
        canonical(a) == canonical(b)
    };
    if !model.source_edited
        && dest.source.path.is_relative()
        && let Some(original) = &model.dest_path
        && !same_folder(original.parent(), target.parent())
    {
        // Saved elsewhere, a relative source path would point at another file: keep the dataset.
        let resolved = resolve_source(&dest.source.path, Some(original));
        dest.source.path = std::path::absolute(&resolved).unwrap_or(resolved);
    }
    if (model.source_edited || model.dest_path.is_none()) && dest.source.path.is_relative() {
        // A path typed relative to where the wizard runs would break once the file is used from
        // elsewhere; an absolute one keeps meaning the same dataset.
        if let Ok(absolute) = std::path::absolute(&dest.source.path) {
            dest.source.path = absolute;
        }
    }
    if !dest.batching.enabled {
        // Settings of batching turned off would only mislead whoever reads the file.
        dest.batching = crate::destination::Batching::default();
    }
    dest.status = if activate {
        Status::Active
    } else {
        Status::Paused
    };
    dest.check().map_err(|problems| {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.key(), p.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    crate::request::Plan::new(&dest, &model.base_url()).map_err(|e| e.to_string())?;
    Ok(dest)
}

pub(super) fn save(model: &mut Model, activate: bool) -> Vec<Cmd> {
    let path = PathBuf::from(model.save.path.value().trim());
    if path.as_os_str().is_empty() {
        model.save.error = Some("choose where to save the destination file".into());
        return Vec::new();
    }
    let dest = match destination_to_save(model, activate) {
        Ok(d) => d,
        Err(e) => {
            model.save.error = Some(e);
            return Vec::new();
        }
    };
    // Data that would deliver nothing, or a required field nothing sets, is saved only when
    // the same button is pressed again over the same warning.
    if let Some(warning) = model.data_health().save_warning() {
        let button = if activate { "Save & Activate" } else { "Save" };
        let question = format!("{warning}. Press {button} again to save anyway.");
        if model.save.error.as_deref() != Some(question.as_str()) {
            model.save.error = Some(question);
            return Vec::new();
        }
    }
    let credential = if model.is_new_credential() || model.credential_is_ephemeral() {
        model.chosen_credential().ok()
    } else {
        None
    };
    model.save.error = None;
    let credential_comment = model
        .chosen_credential()
        .ok()
        .filter(|c| c.name == dest.credential)
        .and_then(|c| crate::tui::embedded::credential_comment(&c));
    let mut text = match &model.original_text {
        Some(original) => dest.to_toml_over(original),
        None => dest.to_toml(),
    };
    if let Some(comment) = &credential_comment {
        text = crate::tui::embedded::with_credential_comment(&text, comment);
    }
    model.save.pending_text = Some(text.clone());
    vec![Cmd::Save {
        path,
        destination: Box::new(dest),
        text,
        credential,
    }]
}

pub(super) fn start_run(model: &mut Model) -> Vec<Cmd> {
    let Some((path, Status::Active)) = model.save.saved.clone() else {
        model.save.error = Some("save and activate the destination first".into());
        return Vec::new();
    };
    let credential = match model.chosen_credential() {
        Ok(c) => c,
        Err(e) => {
            model.save.error = Some(e);
            return Vec::new();
        }
    };
    let id = model.next_task();
    model.save.run = Run::Running {
        id,
        progress: Default::default(),
    };
    model.save.run_failures.clear();
    model.save.run_outputs = None;
    model.save.stopping = Stopping::No;
    model.focus = Field::StopRun;
    vec![Cmd::StartRun {
        id,
        dest_path: path,
        credential,
    }]
}

impl Model {
    /// The chosen credential exists only in this process (the embedded sandbox's), so saving
    /// the destination also saves it, or the file would name a credential nobody has.
    pub fn credential_is_ephemeral(&self) -> bool {
        !self.is_new_credential()
            && self.ephemeral_credential.as_deref() == Some(self.credential.pick.selected_label())
    }
}

pub fn saved(model: &mut Model, result: Result<(PathBuf, Status), String>) {
    match result {
        Ok((path, status)) => {
            model.dest.status = status;
            model.dest_path = Some(path.clone());
            // The focus stays on the button pressed; the next one is named, not jumped to.
            let next = if status == Status::Active {
                " · Tab: Start the run now"
            } else {
                ""
            };
            model.notice = Some((
                Level::Ok,
                format!("saved {} ({status}){next}", path.display()),
            ));
            model.save.saved = Some((path, status));
            model.unsaved_edits = false;
            model.save.error = None;
            if let Some(text) = model.save.pending_text.take() {
                model.original_text = Some(text);
            }
        }
        Err(e) => model.save.error = Some(e),
    }
}
