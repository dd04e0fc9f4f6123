//! The sample payload pane's content: the first requests exactly as they will be sent, made by
//! the shared request builder (never by the wizard) from the dataset's first records.

use crate::destination::ContentFormat;
use crate::request::{self, Built, Plan};
use crate::tui::model::{Model, PANE_REQUESTS, Sample};

/// Rebuilds the samples after any change to the destination, the dataset or the credential.
pub fn rebuild(model: &mut Model) {
    let Some(dataset) = &model.source.dataset else {
        model.pane.samples.clear();
        model.pane.excluded_fields.clear();
        model.pane.ineffective_exclusions.clear();
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
            model.pane.excluded_fields = plan.excluded_mapping().to_vec();
            model.pane.ineffective_exclusions =
                plan.ineffective_exclusions(Some(dataset.attributes.as_slice()));
        }
        Err(e) => {
            model.pane.samples.clear();
            model.pane.excluded_fields.clear();
            model.pane.ineffective_exclusions.clear();
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
    let format = model.dest.request.content_format;
    let text = match model.pane.samples.get(model.pane.selected) {
        Some(Sample::Request { request, .. }) => request
            .body
            .as_deref()
            .map(|body| readable(body, format))
            .unwrap_or_default(),
        Some(Sample::Invalid { reason, .. }) => reason.clone(),
        None => String::new(),
    };
    let scroll = model.pane.body.scroll();
    model.pane.body.set_text(&text, &model.theme);
    if scroll == 0 {
        model.pane.body.scroll_by(0);
    }
}

/// A body laid out to be read: JSON is pretty-printed by the view itself; an XML body gets one
/// element per line, indented by depth (an element holding only text stays on its line); a
/// form body one pair per line, each after the first starting with its `&`, so the lines
/// joined are the bytes sent.
pub fn readable(body: &str, format: ContentFormat) -> String {
    match format {
        ContentFormat::Json => body.to_string(),
        ContentFormat::Form => body.replace('&', "\n&"),
        ContentFormat::Xml => xml_lines(body).unwrap_or_else(|| body.to_string()),
    }
}

/// One XML element per line, or `None` when `body` is not a sequence of tags and text.
fn xml_lines(body: &str) -> Option<String> {
    enum Part<'a> {
        Tag(&'a str),
        Text(&'a str),
    }
    let mut parts = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = rest.find('>')? + 1;
            parts.push(Part::Tag(&rest[..end]));
            rest = &rest[end..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            parts.push(Part::Text(&rest[..end]));
            rest = &rest[end..];
        }
    }
    let closing = |part: Option<&Part>| matches!(part, Some(Part::Tag(t)) if t.starts_with("</"));
    let mut lines: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < parts.len() {
        let pad = |depth: usize| "  ".repeat(depth);
        match &parts[i] {
            Part::Tag(tag) if tag.starts_with("</") => {
                depth = depth.saturating_sub(1);
                lines.push(format!("{}{tag}", pad(depth)));
                i += 1;
            }
            Part::Tag(tag)
                if tag.ends_with("/>") || tag.starts_with("<?") || tag.starts_with("<!") =>
            {
                lines.push(format!("{}{tag}", pad(depth)));
                i += 1;
            }
            Part::Tag(tag) => match (parts.get(i + 1), parts.get(i + 2)) {
                (Some(Part::Text(text)), Some(Part::Tag(end))) if closing(parts.get(i + 2)) => {
                    lines.push(format!("{}{tag}{text}{end}", pad(depth)));
                    i += 3;
                }
                (Some(Part::Tag(end)), _) if closing(parts.get(i + 1)) => {
                    lines.push(format!("{}{tag}{end}", pad(depth)));
                    i += 2;
                }
                _ => {
                    lines.push(format!("{}{tag}", pad(depth)));
                    depth += 1;
                    i += 1;
                }
            },
            Part::Text(text) => {
                if !text.trim().is_empty() {
                    lines.push(format!("{}{text}", pad(depth)));
                }
                i += 1;
            }
        }
    }
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xml_body_reads_one_element_per_line() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><first_name>Ada</first_name>\
                    <phone_numbers><item><label>Work</label><value>+33612345678</value></item>\
                    </phone_numbers><information></information></contact>";
        assert_eq!(
            readable(body, ContentFormat::Xml),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <contact>\n\
             \x20 <first_name>Ada</first_name>\n\
             \x20 <phone_numbers>\n\
             \x20   <item>\n\
             \x20     <label>Work</label>\n\
             \x20     <value>+33612345678</value>\n\
             \x20   </item>\n\
             \x20 </phone_numbers>\n\
             \x20 <information></information>\n\
             </contact>"
        );
        // Not XML after all: shown as it is.
        assert_eq!(readable("<a", ContentFormat::Xml), "<a");
    }

    #[test]
    fn a_form_body_reads_one_pair_per_line_and_joins_back_to_the_bytes_sent() {
        let body = "first_name=Ada&last_name=Lovelace&phone_numbers%5B0%5D%5Bvalue%5D=%2B336";
        let shown = readable(body, ContentFormat::Form);
        assert_eq!(shown.lines().count(), 3);
        assert_eq!(shown.lines().nth(1), Some("&last_name=Lovelace"));
        assert_eq!(shown.replace('\n', ""), body);
    }
}
