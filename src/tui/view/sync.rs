//! Under the Sync section: what a sync run would do with each sample record, as the sync's own
//! classifier judges it against the destination's state file.

use super::*;

/// The rows drawn after the last setting of the Sync section shown now.
pub(super) fn sync_rows(model: &Model, id: &str) -> Vec<Row> {
    let t = &model.theme;
    let last = model.configure.sync.shown_ids(&model.dest).last();
    if last != Some(id) || model.dest.sync.is_none() {
        return Vec::new();
    }
    let mut rows = vec![info(model, "  Samples, against the state:", t.label)];
    match &model.configure.sync_preview {
        SyncPreview::Off => {}
        SyncPreview::Working(_) => rows.push(info(
            model,
            format!("  {} judging the samples…", spinner(model)),
            t.dim,
        )),
        SyncPreview::Failed(e) => rows.push(info(model, format!("  ✗ {e}"), t.error)),
        SyncPreview::Ready(operations) => {
            for line in operations.lines() {
                rows.push(info(model, format!("  {line}"), t.text));
            }
        }
    }
    if model
        .dest
        .sync
        .as_ref()
        .is_some_and(|s| s.mode == crate::destination::SyncMode::Mirror)
    {
        rows.push(info(
            model,
            "  deletes depend on the whole export: `aircall-dest plan` lists them",
            t.dim,
        ));
    }
    rows
}

/// What a sync run would do with the record a sample request carries, once judged.
pub(super) fn sync_operation(
    model: &Model,
    request: &crate::request::Request,
) -> Option<&'static str> {
    let SyncPreview::Ready(operations) = &model.configure.sync_preview else {
        return None;
    };
    let first = request.records.first()?.0;
    operations
        .operations
        .iter()
        .find(|(no, _)| *no == first)
        .map(|(_, op)| *op)
}
