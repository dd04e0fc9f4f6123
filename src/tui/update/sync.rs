//! Asking what a sync run would do with the sample records (a background read of the state
//! file), and taking the answer.

use super::*;

/// A fresh judgement of the samples when sync is on; nothing (and no stale verdict) when off.
pub fn preview_sync(model: &mut Model) -> Vec<Cmd> {
    if model.dest.sync.is_none() || !crate::tui::sections::sync::supported(&model.dest) {
        model.configure.sync_preview = SyncPreview::Off;
        return Vec::new();
    }
    let Some(dataset) = &model.source.dataset else {
        model.configure.sync_preview = SyncPreview::Off;
        return Vec::new();
    };
    // The records the pane shows, and those before them (a duplicate key is one seen earlier).
    let last = model
        .pane
        .samples
        .iter()
        .filter_map(|s| match s {
            Sample::Request { request, .. } => request.records.last().map(|r| r.0),
            Sample::Invalid { record, .. } => Some(*record),
        })
        .max()
        .unwrap_or(0);
    let records: Vec<_> = dataset
        .samples
        .iter()
        .filter(|r| {
            let no = match r {
                Ok(record) => record.no.0,
                Err(e) => e.no.0,
            };
            no <= last
        })
        .cloned()
        .collect();
    let dest_path = PathBuf::from(model.save.path.value().trim());
    let id = model.next_task();
    model.configure.sync_preview = SyncPreview::Working(id);
    vec![Cmd::PreviewSync {
        id,
        destination: Box::new(model.dest.clone()),
        dest_path,
        base_url: model.base_url(),
        records,
    }]
}

pub fn sync_previewed(
    model: &mut Model,
    id: crate::tui::msg::TaskId,
    result: Result<crate::tui::sections::sync::SampleOperations, String>,
) {
    if model.configure.sync_preview == SyncPreview::Working(id) {
        model.configure.sync_preview = match result {
            Ok(operations) => SyncPreview::Ready(operations),
            Err(e) => SyncPreview::Failed(e),
        };
    }
}
