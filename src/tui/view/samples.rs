//! The sample pane: the requests as they will be sent, the selected one's detail, Send Test's warning and response.

use super::*;

/// Which samples the pane lists and the rows each takes.
/// What Send Test does to real data, for the selected request: `(before, after a 2xx)`.
/// `None` when sending it changes nothing (GET).
pub fn test_warning(model: &Model) -> Option<(String, String)> {
    let Some(Sample::Request { request, .. }) = model.pane.samples.get(model.pane.selected) else {
        return None;
    };
    let noun = match model.resource() {
        Some(resource) => {
            let name = resource.name.to_lowercase();
            name.strip_suffix('s').map(str::to_string).unwrap_or(name)
        }
        None => "object".to_string(),
    };
    let host = url::Url::parse(&request.url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_default();
    let records = records_text(&request.records);
    let record = if request.records.len() == 1 {
        format!("record {records}")
    } else {
        format!("records {records}")
    };
    use crate::destination::Method;
    // A template says what its POSTs do (Aircall updates contacts with POST), as long as the
    // request still uses the template's method; a method changed on the Advanced tab says
    // itself what the request does.
    let template_method = model
        .dest
        .template
        .as_ref()
        .and_then(|t| crate::templates::resolve(t).ok())
        .map(|r| r.request.method);
    let template = model
        .template()
        .filter(|_| template_method == Some(request.method));
    let effect = match template.map(|t| t.id.as_str()) {
        Some("create_records") => Method::Post,
        Some("update_records") => Method::Put,
        Some("delete_records") => Method::Delete,
        _ => request.method,
    };
    Some(match effect {
        Method::Get => return None,
        Method::Post if template.is_some_and(|t| t.id != "create_records") => (
            format!(
                "⚠ Send Test (Ctrl-S) changes real data at {host} with {record}: {}.",
                template.map(|t| t.name.to_lowercase()).unwrap_or_default()
            ),
            format!(
                "{record} took effect at Aircall; the run sends it again unless you remove it \
                 from the dataset."
            ),
        ),
        Method::Post => (
            format!(
                "⚠ Send Test (Ctrl-S) creates a real {noun} at {host}: the run will create it again \
                 unless you remove {record} from the dataset."
            ),
            format!(
                "A real {noun} now exists for {record}: the run will create another unless you \
                 remove {record} from the dataset."
            ),
        ),
        Method::Put | Method::Patch => (
            format!("⚠ Send Test (Ctrl-S) changes a real {noun} at {host} with {record}."),
            format!("The real {noun} of {record} is changed; the run sends the same change again."),
        ),
        Method::Delete => (
            format!("⚠ Send Test (Ctrl-S) deletes a real {noun} at {host} ({record})."),
            format!("The {noun} of {record} is deleted; the run will find it gone (404)."),
        ),
    })
}

/// Lines the Send Test warning takes at the bottom of the pane.
pub(super) fn warning_height(model: &Model, inner: Rect) -> u16 {
    if model.pane.test != TestState::Idle {
        return 0;
    }
    let height = test_warning(model).map_or(0, |(text, _)| {
        (wrap_words(&text, inner.width as usize).len() as u16).min(4)
    });
    // A short pane keeps its room for the samples; the warning returns as it grows.
    if inner.height < height + 6 { 0 } else { height }
}

/// Wraps one-style lines by hand so their continuation lines keep the first line's indent;
/// lines of several styles are left to the paragraph's own wrapping.
pub(super) fn indent_wrapped(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for line in lines {
        if line.spans.len() != 1 || line.width() <= width {
            out.push(line);
            continue;
        }
        let span = &line.spans[0];
        let style = span.style.patch(line.style);
        let text = span.content.to_string();
        let indent = text.len() - text.trim_start().len();
        let pad = " ".repeat(indent);
        for piece in wrap_words(&text, width.saturating_sub(indent).max(1)) {
            out.push(Line::styled(format!("{pad}{piece}"), style));
        }
    }
    out
}

/// `text` wrapped at word boundaries to `width` columns (a longer word is cut).
pub(super) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word.iter());
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line = word.into_iter().collect();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub(super) fn sample_rows(model: &Model, pane: Rect) -> Vec<(usize, u16, u16)> {
    let inner = pane.inner(ratatui::layout::Margin::new(1, 1));
    let inner = Rect {
        height: inner.height.saturating_sub(warning_height(model, inner)),
        ..inner
    };
    let mut out = Vec::new();
    let detail = detail_height(model, inner);
    let mut y = inner.y;
    let first = model
        .pane
        .selected
        .saturating_sub((inner.height.saturating_sub(detail) as usize).saturating_sub(1));
    for i in first..model.pane.samples.len() {
        let h = if i == model.pane.selected {
            1 + detail
        } else {
            1
        };
        if y + h > inner.bottom() {
            break;
        }
        out.push((i, y, y + h));
        y += h;
    }
    out
}

pub(super) fn detail_height(model: &Model, inner: Rect) -> u16 {
    let others = model.pane.samples.len().saturating_sub(1) as u16;
    if model.pane.expanded {
        inner.height.saturating_sub(1)
    } else {
        inner.height.saturating_sub(1 + others.min(4)).max(3)
    }
}

pub(super) fn draw_pane(model: &Model, frame: &mut Frame, rect: Rect) {
    let t = &model.theme;
    let focused = matches!(model.focus, Field::Pane | Field::Editor);
    let requests = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Request { .. }))
        .count();
    let title = match &model.pane.test {
        TestState::Editing => " Edit body, then Ctrl-S to send ".to_string(),
        TestState::Sending { .. } => " Send test ".to_string(),
        TestState::Done(_) | TestState::Failed(_) => " Test response ".to_string(),
        TestState::Idle => format!(
            " Sample requests ({requests}{}) ",
            if model.pane.expanded {
                ", expanded"
            } else {
                ""
            }
        ),
    };
    let block = Block::bordered()
        .title(Line::styled(
            title,
            if focused { t.focused_label } else { t.label },
        ))
        .border_style(if focused { t.focused_border } else { t.border });
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    match &model.pane.test {
        TestState::Editing => {
            if let Some(editor) = &model.pane.editor {
                editor.render(frame, inner, model.focus == Field::Editor, t);
            }
            return;
        }
        TestState::Sending { started_tick, .. } => {
            let seconds = model.tick.saturating_sub(*started_tick) / 10;
            let lines = vec![
                Line::styled(
                    format!(
                        "{} sending sample {}… {seconds}s",
                        spinner(model),
                        model.pane.selected + 1
                    ),
                    t.warn,
                ),
                Line::styled("Esc cancels.", t.dim),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
            return;
        }
        TestState::Failed(e) => {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(format!("✗ {e}"), t.error),
                    Line::styled("Esc closes.", t.dim),
                ])
                .wrap(Wrap { trim: false }),
                inner,
            );
            return;
        }
        TestState::Done(response) => {
            let success = (200..300).contains(&response.status);
            let status_style = if success { t.ok } else { t.error };
            let mut lines = vec![Line::from(vec![
                Span::styled(
                    format!("{} ", response.status),
                    status_style.add_modifier(Modifier::BOLD),
                ),
                Span::styled(reason(response.status).to_string(), status_style),
                Span::styled(format!("  in {} ms", response.elapsed_ms), t.dim),
            ])];
            if success && let Some((_, after)) = test_warning(model) {
                // Wrapped by hand: the lines are counted to place the body below them.
                for line in wrap_words(&after, inner.width as usize) {
                    lines.push(Line::styled(line, t.warn));
                }
            }
            for (name, value) in response.headers.iter().take(6) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{name}: "), t.label),
                    Span::styled(clip(value, inner.width as usize), t.dim),
                ]));
            }
            let head = lines.len() as u16;
            frame.render_widget(Paragraph::new(lines), inner);
            let body = Rect::new(
                inner.x,
                inner.y + head.min(inner.height),
                inner.width,
                inner.height.saturating_sub(head),
            );
            model.pane.response.render(frame, body);
            return;
        }
        TestState::Idle => {}
    }
    if model.pane.samples.is_empty() {
        let text = model
            .pane
            .error
            .clone()
            .unwrap_or_else(|| "no records to show".into());
        frame.render_widget(
            Paragraph::new(Line::styled(text, t.error)).wrap(Wrap { trim: false }),
            inner,
        );
        return;
    }
    let mut y_end = inner.y;
    let requests_before: Vec<usize> = model
        .pane
        .samples
        .iter()
        .scan(0, |n, s| {
            let before = *n;
            if matches!(s, Sample::Request { .. }) {
                *n += 1;
            }
            Some(before)
        })
        .collect();
    for (index, top, bottom) in sample_rows(model, rect) {
        let request_no = requests_before.get(index).copied().unwrap_or(0) + 1;
        let selected = index == model.pane.selected;
        let sample = &model.pane.samples[index];
        let marker = if selected { "▸ " } else { "  " };
        let header = match sample {
            Sample::Request { request, .. } => {
                // With sync on, what the run would do with the record comes first.
                let operation = sync_operation(model, request)
                    .map(|op| format!("{op} · "))
                    .unwrap_or_default();
                let room = (inner.width.saturating_sub(2) as usize)
                    .saturating_sub(operation.chars().count());
                let (label, target) = request_header(request_no, request, room);
                Line::from(vec![
                    Span::styled(marker, t.focused_label),
                    Span::styled(operation, t.ok),
                    Span::styled(label, t.dim),
                    Span::styled(format!("{} ", request.method), t.method),
                    Span::styled(target, t.text),
                ])
            }
            Sample::Invalid {
                record,
                line,
                reason,
            } => Line::from(vec![
                Span::styled(marker, t.focused_label),
                Span::styled(format!("✗ record {record} (line {line}): "), t.error),
                Span::styled(reason.clone(), t.error),
            ]),
        };
        let header_style = if selected && focused {
            t.selected
        } else {
            t.text
        };
        frame.render_widget(
            Paragraph::new(header).style(if selected && focused {
                header_style
            } else {
                t.text
            }),
            Rect::new(inner.x, top, inner.width, 1),
        );
        if selected && bottom > top + 1 {
            let area = Rect::new(
                inner.x + 2,
                top + 1,
                inner.width.saturating_sub(2),
                bottom - top - 1,
            );
            draw_sample_detail(model, frame, sample, area);
        }
        y_end = bottom;
    }
    let warning = warning_height(model, inner);
    if warning > 0
        && let Some((text, _)) = test_warning(model)
    {
        let lines: Vec<Line> = wrap_words(&text, inner.width as usize)
            .into_iter()
            .map(|l| Line::styled(l, t.warn))
            .collect();
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(inner.x, inner.bottom() - warning, inner.width, warning),
        );
    }
    let inner = Rect {
        height: inner.height - warning,
        ..inner
    };
    if let Some(e) = &model.pane.error
        && y_end < inner.bottom()
    {
        frame.render_widget(
            Paragraph::new(Line::styled(clip(e, inner.width as usize), t.warn)),
            Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
        );
    }
}

/// The head of a request's line in the pane, longest form that fits `width`: which request,
/// which records it carries (so a batch reads "records 1–2"), then the URL — whole, or its path
/// when the host would push the rest off the line.
pub(super) fn request_header(
    number: usize,
    request: &crate::request::Request,
    width: usize,
) -> (String, String) {
    let records = records_text(&request.records);
    let plural = request.records.len() > 1;
    let path = url::Url::parse(&request.url)
        .map(|u| {
            let mut path = u.path().to_string();
            if let Some(query) = u.query() {
                path.push('?');
                path.push_str(query);
            }
            path
        })
        .unwrap_or_else(|_| request.url.clone());
    let long = format!(
        "request {number} · record{} {records} · ",
        if plural { "s" } else { "" }
    );
    let short = format!("{number} · rec {records} · ");
    // The last form that still names the record: what an 80-column pane has room for once a
    // sync operation (`create · `) leads the line.
    let tight = format!("{number}·rec {records} ");
    let method = request.method.as_str().len() + 1;
    let fits = |label: &str, target: &str| {
        label.chars().count() + method + target.chars().count() <= width
    };
    if fits(&long, &request.url) {
        (long, request.url.clone())
    } else if fits(&long, &path) {
        (long, path)
    } else if fits(&short, &path) {
        (short, path)
    } else if fits(&tight, &path) {
        (tight, path)
    } else {
        let room = width.saturating_sub(tight.chars().count() + method);
        (tight, clip(&path, room))
    }
}

pub(super) fn records_text(records: &[crate::records::RecordNo]) -> String {
    match records {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first}–{last} ({})", records.len()),
    }
}

pub(super) fn draw_sample_detail(model: &Model, frame: &mut Frame, sample: &Sample, area: Rect) {
    let t = &model.theme;
    let preview = match sample {
        Sample::Request { preview, .. } => preview,
        Sample::Invalid { reason, .. } => {
            // The header line clips a long reason; here it is whole.
            let lines: Vec<Line> = wrap_words(reason, area.width as usize)
                .into_iter()
                .map(|l| Line::styled(l, t.error))
                .collect();
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
    };
    let mut lines = Vec::new();
    // The whole URL, wrapped: the line above may show only its path.
    if let Sample::Request { request, .. } = sample {
        let width = area.width.max(1) as usize;
        let chars: Vec<char> = request.url.chars().collect();
        for chunk in chars.chunks(width) {
            lines.push(Line::styled(chunk.iter().collect::<String>(), t.dim));
        }
    }
    if let Some(headers) = preview.get("headers").and_then(|h| h.as_object()) {
        for (name, value) in headers {
            let value = value.as_str().unwrap_or("");
            // The preview already masks the credential; keep any value holding the mask as is.
            let shown = if value.contains(MASK) {
                value.to_string()
            } else {
                clip(value, area.width as usize)
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{name}: "), t.label),
                Span::styled(shown, t.dim),
            ]));
        }
    }
    let head = (lines.len() as u16).min(area.height);
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(area.x, area.y, area.width, head),
    );
    let body = Rect::new(area.x, area.y + head, area.width, area.height - head);
    if body.height > 0 {
        if preview.get("body").is_none_or(|b| b.is_null()) {
            frame.render_widget(Paragraph::new(Line::styled("(no body)", t.dim)), body);
        } else {
            model.pane.body.render(frame, body);
        }
    }
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
