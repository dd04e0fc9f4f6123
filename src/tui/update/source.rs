//! Reading the dataset named on step 1, and completing its path.

use super::*;

/// Tab completes the dataset path only while it names nothing readable; otherwise it moves on.
pub(super) fn path_is_loaded(model: &Model) -> bool {
    !(model.source.path.value().trim().is_empty()
        || matches!(model.source.inspect, Inspect::Failed(_)))
}

pub(super) fn request_completion(model: &mut Model) -> Vec<Cmd> {
    let id = model.next_task();
    model.source.completion = Some(id);
    vec![Cmd::CompletePath {
        id,
        typed: model.source.path.value().to_string(),
    }]
}

pub(super) fn complete_path(model: &mut Model, items: Vec<String>) -> Vec<Cmd> {
    let typed = model.source.path.value().to_string();
    if items.is_empty() {
        model.notice = Some((Level::Info, format!("nothing matches {typed:?}")));
        return Vec::new();
    }
    let prefix = dataset::common_prefix(&items);
    if items.len() == 1 || prefix.len() > typed.len() {
        model.source.path.set_value(prefix);
        if items.len() > 1 {
            model.source.path.offer(items, 0);
        }
        return on_changed(model, Field::DatasetPath);
    }
    model.source.path.offer(items, 0);
    Vec::new()
}

pub(super) fn on_inspected(
    model: &mut Model,
    id: crate::tui::msg::TaskId,
    result: Result<dataset::Dataset, String>,
) -> Vec<Cmd> {
    if model.source.inspect != Inspect::Running(id) {
        return Vec::new();
    }
    match result {
        Ok(dataset) => {
            model.source.inspect = Inspect::Idle;
            let mut cmds = Vec::new();
            model.source.count = match dataset.known_count() {
                Some(n) => Count::Known(n),
                None => {
                    let id = model.next_task();
                    cmds.push(Cmd::CountRecords {
                        id,
                        path: dataset.path.clone(),
                    });
                    Count::Counting(id)
                }
            };
            model.source.dataset = Some(dataset);
            // A destination started here (not loaded) gets the template's suggested mapping as
            // soon as the dataset's attributes are known, and another dataset gets a new one;
            // entries the person set themselves stay (an attribute the new dataset lacks then
            // shows as such on its row).
            if (model.dest_path.is_none() || model.suggested_mapping.is_some())
                && let Some(resource) = model.resource()
            {
                let suggestion = crate::templates::suggest_mapping(resource, &model.attributes());
                let carried = carry_mapping(
                    &model.dest.mapping,
                    model.suggested_mapping.as_deref(),
                    suggestion.clone(),
                    &[],
                );
                model.dest.mapping = carried.mapping;
                model.suggested_mapping = Some(suggestion);
            }
            model.refresh_attribute_widgets();
            pane::rebuild(model);
            cmds
        }
        Err(e) => {
            model.source.inspect = Inspect::Failed(e);
            model.source.dataset = None;
            model.source.count = Count::Unknown;
            Vec::new()
        }
    }
}

/// Starts reading the dataset named in the path field.
pub fn inspect(model: &mut Model) -> Vec<Cmd> {
    let path = PathBuf::from(model.source.path.value().trim());
    if path.as_os_str().is_empty() {
        model.source.inspect = Inspect::Failed("no dataset chosen".into());
        model.source.dataset = None;
        return Vec::new();
    }
    let id = model.next_task();
    model.source.inspect = Inspect::Running(id);
    // Read as `run` will: the destination's delimiter, encoding and size limit; its format
    // only while the dataset is still the file the destination names.
    let options = crate::records::ReadOptions::for_source(
        &model.dest.source,
        path != model.dest.source.path,
        None,
    );
    vec![Cmd::InspectDataset { id, path, options }]
}
