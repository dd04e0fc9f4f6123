//! The rows of each step's form: a field with its label, or lines of information (dataset, Verify, mapping verdicts, notes of a section, the run).

use super::*;

pub(super) const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// One row of a form: a field with its label, or lines of information.
#[derive(Debug, Clone)]
pub(super) enum Row {
    Field {
        field: Field,
        label: String,
        height: u16,
    },
    Info(Vec<Line<'static>>),
    /// A mapping entry: its target, then source and value or transform, and the options toggle.
    Mapping {
        index: usize,
    },
}

/// How a mapping row fares in the samples, as the request builder judged them: a mark and
/// its style. A reason names the field or entry it is about in backticks.
pub(super) fn mapping_status(
    model: &Model,
    row: &MappingRow,
) -> (&'static str, ratatui::style::Style, usize) {
    let t = &model.theme;
    let quoted = format!("`{}", row.target);
    let concerns = |reason: &str| {
        reason.match_indices(&quoted).any(|(at, _)| {
            let rest = &reason[at + quoted.len()..];
            rest.starts_with('`')
                || (row.is_field && (rest.starts_with('[') || rest.starts_with('.')))
        })
    };
    let invalid = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Invalid { reason, .. } if concerns(reason)))
        .count();
    let covered = row.is_set() || row.sub_entries > 0;
    if invalid > 0 {
        ("✗ ", t.error, invalid)
    } else if covered && !model.pane.samples.is_empty() {
        ("✓ ", t.ok, 0)
    } else if row.required {
        ("✗ ", t.error, 0)
    } else {
        ("  ", t.dim, 0)
    }
}

pub(super) fn field_row(model: &Model, field: Field) -> Row {
    let height = if field == Field::Exclude { 6 } else { 1 };
    Row::Field {
        field,
        label: field_label(model, field),
        height,
    }
}

pub(super) fn info(model: &Model, text: impl Into<String>, style: ratatui::style::Style) -> Row {
    let _ = model;
    Row::Info(vec![Line::styled(text.into(), style)])
}

pub(super) fn rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    let fields = focus::form_fields(model);
    for field in fields {
        match field {
            Field::Credential => {
                rows.push(field_row(model, field));
                if !model.is_new_credential()
                    && let Ok(c) = model.chosen_credential()
                {
                    let kind = c.kind.scheme();
                    rows.push(info(
                        model,
                        format!("  {} · {kind} · token {}", c.base_url, c.token_origin()),
                        t.dim,
                    ));
                }
            }
            Field::Verify => {
                rows.push(field_row(model, field));
            }
            Field::Endpoint => {
                rows.push(field_row(model, field));
                if let Some(template) = model.template() {
                    rows.push(info(model, format!("  {}", template.description), t.dim));
                }
                if let Some(e) = model.error_for(Field::Endpoint) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
            Field::MapSource(i) => {
                if i == 0 {
                    let (valid, invalid) = sample_counts(model);
                    let title = vec![
                        Span::styled("Field mapping ", t.label.add_modifier(Modifier::BOLD)),
                        Span::styled("(* required)", t.dim),
                    ];
                    let counts = vec![
                        Span::styled(format!("{valid} ok"), t.ok),
                        Span::styled(", ", t.dim),
                        Span::styled(
                            format!("{invalid} invalid"),
                            if invalid > 0 { t.error } else { t.dim },
                        ),
                        Span::styled(" in samples", t.dim),
                    ];
                    // One line where it fits; else the counts get a line of their own rather
                    // than breaking mid-phrase (80 columns leave the form about 38).
                    let one_line =
                        Line::from(title.clone()).width() + 1 + Line::from(counts.clone()).width();
                    let room = usize::from(super::placement::form_width(model).saturating_sub(2));
                    rows.push(Row::Info(if one_line <= room {
                        let mut spans = title;
                        spans.push(Span::raw(" "));
                        spans.extend(counts);
                        vec![Line::from(spans)]
                    } else {
                        let mut spans = vec![Span::raw("  ")];
                        spans.extend(counts);
                        vec![Line::from(title), Line::from(spans)]
                    }));
                }
                rows.push(Row::Mapping { index: i });
                if let Some(row) = model.configure.mapping.get(i) {
                    // The template's note on the field (format, how many entries).
                    if !row.description.is_empty() {
                        rows.push(info(model, format!("  {}", row.description), t.dim));
                    }
                    let source = row.source.selected_label();
                    if row.is_set()
                        && !row.is_constant()
                        && let Some(dataset) = &model.source.dataset
                        && !dataset.attributes.iter().any(|a| a == source)
                    {
                        rows.push(info(
                            model,
                            format!("  ⚠ the dataset has no column `{source}`: pick another"),
                            t.warn,
                        ));
                    }
                    if let Some((_, source)) = model
                        .pane
                        .excluded_fields
                        .iter()
                        .find(|(target, _)| *target == row.target)
                    {
                        rows.push(info(
                            model,
                            format!(
                                "  ⊘ `{source}` is excluded (Advanced tab): left out of every body"
                            ),
                            t.warn,
                        ));
                    }
                    if let Some(column) = &row.guessed_from {
                        rows.push(info(
                            model,
                            format!("  ≈ guessed from the column `{column}`: check it"),
                            t.warn,
                        ));
                    }
                    let (_, _, invalid) = mapping_status(model, row);
                    if invalid > 0 {
                        let reason = model.pane.samples.iter().find_map(|s| match s {
                            Sample::Invalid { reason, .. } if reason.contains(&row.target) => {
                                Some(reason.clone())
                            }
                            _ => None,
                        });
                        rows.push(info(
                            model,
                            format!(
                                "  ✗ {invalid} sample{} invalid: {}",
                                if invalid == 1 { "" } else { "s" },
                                reason.unwrap_or_default()
                            ),
                            t.error,
                        ));
                    } else if row.required && !row.is_set() && row.sub_entries == 0 {
                        rows.push(info(
                            model,
                            "  ✗ required: pick a source, or add entries for its parts",
                            t.error,
                        ));
                    }
                }
            }
            // Drawn on their source's line.
            Field::MapTransform(_) | Field::MapConstant(_) | Field::MapMore(_) => {}
            Field::MapAdd => {
                if model.configure.mapping.is_empty() {
                    rows.push(Row::Info(vec![Line::from(vec![
                        Span::styled("Field mapping ", t.label.add_modifier(Modifier::BOLD)),
                        Span::styled("none: each body is the record itself", t.dim),
                    ])]));
                }
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
            Field::TemplateParam(i) => {
                rows.push(field_row(model, field));
                if let (Some(template), Some((name, _))) =
                    (model.template(), model.configure.parameters.get(i))
                    && let Some(parameter) = template.parameters.iter().find(|p| &p.name == name)
                {
                    rows.push(info(
                        model,
                        format!(
                            "  {} (default {})",
                            parameter.description, parameter.default
                        ),
                        t.dim,
                    ));
                }
            }
            Field::Setting(id) => {
                if let Some(section) = model.section_of(id)
                    && section.starts_with(id)
                {
                    rows.push(Row::Info(vec![Line::styled(
                        section.title,
                        t.label.add_modifier(Modifier::BOLD),
                    )]));
                }
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
                if let Some(setting) = model.setting(id) {
                    for note in setting.notes(&model.dest) {
                        let style = match note.tone {
                            Tone::Explain => t.dim,
                            Tone::Warn => t.warn,
                        };
                        rows.push(info(model, format!("  {}", note.text), style));
                    }
                }
                rows.extend(sync_rows(model, id));
            }
            Field::Exclude => {
                rows.push(field_row(model, field));
                rows.extend(exclusion_rows(model));
            }
            Field::SaveActivate => {
                rows.push(field_row(model, field));
                rows.extend(save_status_rows(model));
                rows.extend(activation_rows(model));
            }
            _ => {
                rows.push(field_row(model, field));
                if let Some(e) = model.error_for(field) {
                    rows.push(info(model, format!("  ✗ {e}"), t.error));
                }
            }
        }
        if field == Field::DatasetPath {
            rows.extend(dataset_rows(model));
        }
        if field == Field::Verify {
            rows.push(Row::Info(vec![verify_line(model)]));
        }
        if field == Field::Tabs
            && model.configure.tabs.selected() == 0
            && model.dest.mode == Mode::Manual
        {
            rows.push(info(
                model,
                "Manual mode: the request is set on the Advanced tab; mapping entries below, \
                 if any, build each body.",
                t.dim,
            ));
        }
        if field == Field::SavePath {
            rows.extend(summary_rows(model));
        }
    }
    if model.step == Step::Save {
        rows.extend(run_rows(model));
    }
    rows
}

/// What the exclusions do to the bodies: each mapped field they leave out, and each exclusion
/// that changes nothing, with the reason (the request builder's own verdicts).
pub(super) fn exclusion_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    for (target, source) in &model.pane.excluded_fields {
        rows.push(info(
            model,
            format!("  `{source}` excluded: `{target}` is left out of every body"),
            t.ok,
        ));
    }
    for note in &model.pane.ineffective_exclusions {
        rows.push(info(model, format!("  ⚠ {note}"), t.warn));
    }
    rows
}

pub(super) fn sample_counts(model: &Model) -> (usize, usize) {
    let invalid = model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Invalid { .. }))
        .count();
    (model.pane.samples.len() - invalid, invalid)
}

pub(super) fn dataset_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    match (&model.source.inspect, &model.source.dataset) {
        (Inspect::Running(_), _) => {
            rows.push(info(model, format!("  {} reading…", spinner(model)), t.dim))
        }
        (Inspect::Failed(e), _) => rows.push(info(model, format!("  ✗ {e}"), t.error)),
        (Inspect::Idle, Some(dataset)) => {
            let count = match &model.source.count {
                Count::Known(n) => format!("{n} records"),
                Count::Counting(_) => format!("{} counting records…", spinner(model)),
                Count::Skipped => "record count skipped (large file)".into(),
                Count::Failed(e) => format!("count failed: {e}"),
                Count::Unknown => String::new(),
            };
            rows.push(Row::Info(vec![Line::from(vec![
                Span::styled("  format ", t.dim),
                Span::styled(dataset.format.as_str().to_string(), t.ok),
                Span::styled(" · ", t.dim),
                Span::styled(count, t.text),
                Span::styled(format!(" · {} attributes", dataset.attributes.len()), t.dim),
            ])]));
            let list = dataset.attributes.join(", ");
            rows.push(info(model, format!("  {list}"), t.dim));
            for note in &dataset.notes {
                rows.push(info(model, format!("  ⚠ {note}"), t.warn));
            }
            let health = model.data_health();
            if health.invalid > 0 {
                let reason = health.first_reason.as_deref().unwrap_or_default();
                rows.push(info(
                    model,
                    format!(
                        "  ✗ {} of {} sample records invalid: {reason}",
                        health.invalid, health.sample_records
                    ),
                    t.error,
                ));
            } else if health.sample_records > 0 {
                rows.push(info(
                    model,
                    format!("  ✓ {} sample records valid", health.sample_records),
                    t.ok,
                ));
            }
        }
        (Inspect::Idle, None) => {}
    }
    rows
}

pub(super) fn verify_line(model: &Model) -> Line<'static> {
    let t = &model.theme;
    match &model.credential.verify {
        Verify::Idle => Line::styled("  Verify calls GET /v1/ping with this credential.", t.dim),
        Verify::Running(_) => Line::styled(
            format!("  {} calling GET /v1/ping…", spinner(model)),
            t.warn,
        ),
        Verify::Done(PingOutcome::Ok { latency }) => Line::styled(
            format!(
                "  ✓ credential works: GET /v1/ping answered 200 in {} ms",
                latency.as_millis()
            ),
            t.ok,
        ),
        Verify::Done(PingOutcome::MissingHeader) => Line::styled(
            "  ✗ 401: no usable Authorization header reached the API (is the base URL right?)",
            t.error,
        ),
        Verify::Done(PingOutcome::Refused) => Line::styled(
            "  ✗ 403: the API ID and token were refused; check both",
            t.error,
        ),
        Verify::Done(PingOutcome::Unexpected { status, body }) => {
            Line::styled(format!("  ✗ unexpected answer {status}: {body}"), t.error)
        }
        Verify::Done(PingOutcome::Unreachable { message }) => {
            Line::styled(format!("  ✗ unreachable: {message}"), t.error)
        }
        Verify::Done(PingOutcome::Token { message }) => {
            Line::styled(format!("  ✗ {message}"), t.error)
        }
    }
}

pub(super) fn summary_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let d = &model.dest;
    let what = match &d.template {
        Some(reference) => format!("template {} / {}", reference.id, reference.resource),
        None => "manual settings".into(),
    };
    let batching = if d.batching.enabled {
        format!(
            "batches of {} ({})",
            d.batching.max_records,
            d.batching.algorithm.as_str()
        )
    } else {
        "one request per record".into()
    };
    let mut rows = vec![
        info(
            model,
            format!("  {} {} · {what}", d.request.method, d.request.url),
            t.dim,
        ),
        info(
            model,
            format!("  credential {:?} · {batching}", d.credential),
            t.dim,
        ),
    ];
    if let Some(sync) = &d.sync {
        rows.push(info(
            model,
            format!(
                "  sync on {} · mode {}: a run sends only what changed",
                sync.key,
                sync.mode.as_str()
            ),
            t.dim,
        ));
    }
    rows
}

pub(super) fn save_status_rows(model: &Model) -> Vec<Row> {
    let t = &model.theme;
    let mut rows = Vec::new();
    if let Some(e) = &model.save.error {
        rows.push(Row::Info(vec![Line::styled(format!("✗ {e}"), t.error)]));
    }
    if let Some((path, status)) = &model.save.saved {
        rows.push(info(
            model,
            format!("✓ saved {} as {status}", path.display()),
            t.ok,
        ));
    }
    rows
}

pub(super) fn spinner(model: &Model) -> &'static str {
    SPINNER[(model.tick % SPINNER.len() as u64) as usize]
}
