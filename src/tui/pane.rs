//! The sample payload pane's content: the first requests exactly as they will be sent, made by
//! the shared request builder (never by the wizard) from the dataset's first records.

use crate::request::{self, Built, Plan};
use crate::tui::model::{Model, PANE_REQUESTS, Sample};

/// Rebuilds the samples after any change to the destination, the dataset or the credential.
pub fn rebuild(model: &mut Model) {
    let Some(dataset) = &model.source.dataset else {
        model.pane.samples.clear();
        model.pane.error = Some("no dataset loaded".into());
        return;
    };
    let auth_kind = model.auth_kind();
    match Plan::new(&model.dest, &model.base_url()) {
        Ok(plan) => {
            model.pane.error = plan
                .warnings()
                .first()
                .cloned()
                .map(|w| format!("warning: {w}"));
            model.pane.samples = samples(&plan, dataset.records(), auth_kind, PANE_REQUESTS);
        }
        Err(e) => {
            model.pane.samples.clear();
            model.pane.error = Some(e.to_string());
        }
    }
    if model.pane.selected >= model.pane.samples.len() {
        model.pane.selected = model.pane.samples.len().saturating_sub(1);
    }
    load_selected_body(model);
}

/// The first `limit` requests (and the invalid records met on the way) for `records`.
pub fn samples(
    plan: &Plan,
    records: impl IntoIterator<Item = Result<crate::records::Record, crate::records::RecordError>>,
    auth_kind: Option<crate::credentials::AuthKind>,
    limit: usize,
) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut requests = 0;
    for built in request::build_all(plan, records) {
        match built {
            Built::Request(request) => {
                if requests == limit {
                    break;
                }
                requests += 1;
                out.push(Sample::Request {
                    preview: request.preview_json(auth_kind),
                    request,
                });
            }
            Built::Invalid(invalid) => {
                if out.len() < limit * 2 {
                    out.push(Sample::Invalid {
                        record: invalid.record.0,
                        line: invalid.line,
                        reason: invalid.reason,
                    });
                }
            }
        }
    }
    out
}

/// Loads the selected request's body into the scrollable view.
pub fn load_selected_body(model: &mut Model) {
    let text = match model.pane.samples.get(model.pane.selected) {
        Some(Sample::Request { request, .. }) => request.body.clone().unwrap_or_default(),
        Some(Sample::Invalid { reason, .. }) => reason.clone(),
        None => String::new(),
    };
    let scroll = model.pane.body.scroll();
    model.pane.body.set_text(&text, &model.theme);
    if scroll == 0 {
        model.pane.body.scroll_by(0);
    }
}
