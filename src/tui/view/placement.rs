//! Places the form's rows, the buttons and the sample pane for the screen size; the same areas answer mouse clicks.

use super::*;

/// Places everything for the model's size.
pub fn layout(model: &Model) -> Layout {
    let screen = Rect::new(0, 0, model.width, model.height);
    let mut layout = Layout::default();
    if screen.height < 6 || screen.width < 20 {
        return layout;
    }
    // Step indicator.
    let mut x = 1 + "aircall-dest ".len() as u16;
    for step in Step::ALL {
        let text = step_text(step, screen.width);
        let width = text.chars().count() as u16;
        layout.steps.push((
            Rect::new(x, 0, width.min(screen.width.saturating_sub(x)), 1),
            step,
        ));
        x = (x + width + 3).min(screen.width);
    }
    layout.help_bar = Rect::new(0, screen.height - 1, screen.width, 1);
    layout.notice = Rect::new(0, screen.height - 2, screen.width, 1);
    let body = Rect::new(0, 2, screen.width, screen.height.saturating_sub(5));
    let buttons_y = screen.height - 3;
    let (form, pane) = if model.step == Step::Configure {
        let form_width = form_width(model);
        (
            Rect::new(body.x, body.y, form_width, body.height),
            Some(Rect::new(
                form_width + 1,
                body.y,
                screen.width - form_width - 1,
                body.height + 1,
            )),
        )
    } else {
        (body, None)
    };
    layout.form = form;
    layout.pane = pane;
    // Back / Next, right-aligned under the form; on a very narrow form they shrink to arrows,
    // and a button with no room left is not drawn (Ctrl-N / Ctrl-B still work).
    let order = focus::order(model);
    let buttons: Vec<Field> = [Field::Next, Field::Back]
        .into_iter()
        .filter(|f| order.contains(f))
        .collect();
    let compact = compact_buttons(model);
    let mut right = form.right().saturating_sub(1);
    for field in buttons {
        let width = if compact {
            3
        } else {
            field_label(model, field).chars().count() as u16 + 4
        };
        if right < form.x + width {
            break;
        }
        let x = right - width;
        layout
            .fields
            .push((field, Rect::new(x, buttons_y, width, 1)));
        right = x.saturating_sub(if compact { 1 } else { 2 });
    }
    // Form rows, scrolled so the focused field is visible.
    let info_width_cols = form.width.saturating_sub(2) as usize;
    let rows: Vec<Row> = rows(model)
        .into_iter()
        .map(|row| match row {
            Row::Info(lines) => Row::Info(indent_wrapped(lines, info_width_cols)),
            other => other,
        })
        .collect();
    let label_width = (form.width / 3).clamp(8, 18);
    let mut heights = Vec::new();
    let info_width = form.width.saturating_sub(2).max(1) as usize;
    // Mapping targets get the label room they need: a long one takes a line of its own, and
    // on a narrow form every entry does, its source and transform indented below it.
    let content = form.width.saturating_sub(2);
    let map_label_col = (content * 2 / 5).max(label_width);
    let all_two_lines = form.right().saturating_sub(form.x + 1 + map_label_col + 2) < 28;
    let two_lines = |index: usize| {
        all_two_lines
            || model
                .configure
                .mapping
                .get(index)
                .is_some_and(|r| mapping_label(r).chars().count() as u16 + 2 > map_label_col)
    };
    for row in &rows {
        heights.push(match row {
            Row::Mapping { index } => 1 + u16::from(two_lines(*index)),
            Row::Field { height, .. } => *height,
            Row::Info(lines) => lines
                .iter()
                .map(|l| (l.width().max(1).div_ceil(info_width)) as u16)
                .sum::<u16>()
                .min(4),
        });
    }
    let mut focus_bottom = 0;
    let mut y = 0u16;
    for (row, h) in rows.iter().zip(&heights) {
        y += h;
        if let Row::Field { field, .. } = row
            && *field == model.focus
        {
            focus_bottom = y;
        }
        if let Row::Mapping { index } = row
            && matches!(model.focus,
                Field::MapSource(i) | Field::MapTransform(i) | Field::MapConstant(i) | Field::MapMore(i)
                if i == *index)
        {
            focus_bottom = y;
        }
        // The lines under the focused field (its error, its explanation) come into view with it.
        if focus_bottom > 0 && focus_bottom == y - h && matches!(row, Row::Info(_)) {
            focus_bottom = y;
        }
    }
    let scroll = focus_bottom.saturating_sub(form.height);
    let mut y = 0u16;
    for (row, h) in rows.into_iter().zip(heights) {
        let top = y;
        y += h;
        if top < scroll || y - scroll > form.height {
            continue;
        }
        let ry = form.y + top - scroll;
        match row {
            Row::Field {
                field,
                label,
                height,
            } => {
                // A checkbox of a section sits after its label, like the options' one.
                let toggle = matches!(field, Field::Setting(id)
                    if model.setting(id).is_some_and(|s| s.checkbox().is_some()));
                let is_button = toggle
                    || matches!(
                        field,
                        Field::Verify
                            | Field::Save
                            | Field::SaveActivate
                            | Field::StartRun
                            | Field::StopRun
                            | Field::Tabs
                            | Field::CredAdvanced
                            | Field::MapOptional(_)
                            | Field::MapRemove(_)
                    );
                if is_button {
                    let width = match field {
                        Field::Tabs | Field::CredAdvanced => form.width.saturating_sub(1),
                        _ if toggle => form.width.saturating_sub(label_width + 2),
                        Field::MapOptional(_) => form.width.saturating_sub(label_width + 2),
                        _ => button_text(model, field).chars().count() as u16,
                    };
                    let x =
                        if toggle || matches!(field, Field::MapOptional(_) | Field::MapRemove(_)) {
                            form.x + 1 + label_width + 1
                        } else {
                            form.x + 1
                        };
                    if toggle || matches!(field, Field::MapOptional(_)) {
                        layout.labels.push((
                            Rect::new(form.x + 1, ry, label_width, 1),
                            field,
                            label,
                        ));
                    }
                    layout.fields.push((
                        field,
                        Rect::new(x, ry, width.min(form.right().saturating_sub(x)), height),
                    ));
                } else {
                    layout
                        .labels
                        .push((Rect::new(form.x + 1, ry, label_width, 1), field, label));
                    let x = form.x + 1 + label_width + 1;
                    let width = form.right().saturating_sub(x + 1);
                    layout.fields.push((field, Rect::new(x, ry, width, height)));
                }
            }
            Row::Mapping { index } => {
                let Some(row) = model.configure.mapping.get(index) else {
                    continue;
                };
                let two = two_lines(index);
                let (mark, mark_style, _) = mapping_status(model, row);
                layout.infos.push((
                    Rect::new(form.x + 1, ry, 2, 1),
                    vec![Line::styled(mark, mark_style)],
                ));
                let (label_rect, wy, wx) = if two {
                    let wx = if all_two_lines {
                        form.x + 3
                    } else {
                        form.x + 1 + map_label_col + 1
                    };
                    (
                        Rect::new(form.x + 3, ry, content.saturating_sub(2), 1),
                        ry + 1,
                        wx,
                    )
                } else {
                    (
                        Rect::new(form.x + 3, ry, map_label_col.saturating_sub(2), 1),
                        ry,
                        form.x + 1 + map_label_col + 1,
                    )
                };
                layout
                    .labels
                    .push((label_rect, Field::MapSource(index), mapping_label(row)));
                let width = form.right().saturating_sub(wx + 1);
                let rest = width.saturating_sub(4);
                if row.is_set() {
                    let source = rest * 11 / 20;
                    layout
                        .fields
                        .push((Field::MapSource(index), Rect::new(wx, wy, source, 1)));
                    let second = if row.is_constant() {
                        Field::MapConstant(index)
                    } else {
                        Field::MapTransform(index)
                    };
                    layout.fields.push((
                        second,
                        Rect::new(wx + source + 1, wy, rest.saturating_sub(source + 1), 1),
                    ));
                } else {
                    layout
                        .fields
                        .push((Field::MapSource(index), Rect::new(wx, wy, rest, 1)));
                }
                layout
                    .fields
                    .push((Field::MapMore(index), Rect::new(wx + rest + 1, wy, 3, 1)));
            }
            Row::Info(lines) => layout.infos.push((
                Rect::new(form.x + 1, ry, form.width.saturating_sub(2), h),
                lines,
            )),
        }
    }
    let pane = match pane {
        // Full screen: the pane alone, over the form and its buttons.
        Some(_) if model.pane.fullscreen => {
            layout.fields.clear();
            layout.infos.clear();
            layout.labels.clear();
            let whole = Rect::new(0, body.y, screen.width, body.height + 1);
            layout.pane = Some(whole);
            Some(whole)
        }
        other => other,
    };
    if let Some(pane) = pane {
        layout.fields.push((
            if model.pane.test == TestState::Editing {
                Field::Editor
            } else {
                Field::Pane
            },
            pane,
        ));
        layout.samples = sample_rows(model, pane);
    }
    layout
}

/// The form's width: the whole screen, or its left part beside the sample pane.
pub(super) fn form_width(model: &Model) -> u16 {
    if model.step != Step::Configure {
        model.width
    } else if model.width >= 120 {
        model.width * 45 / 100
    } else {
        model.width / 2
    }
}

/// Whether Back and Next are drawn as arrows, the form being too narrow for their labels.
pub(super) fn compact_buttons(model: &Model) -> bool {
    let order = focus::order(model);
    let full: u16 = [Field::Next, Field::Back]
        .into_iter()
        .filter(|f| order.contains(f))
        .map(|f| field_label(model, f).chars().count() as u16 + 6)
        .sum();
    full > form_width(model).saturating_sub(1)
}

pub(super) fn mapping_label(row: &MappingRow) -> String {
    format!("{}{}", row.target, if row.required { "*" } else { "" })
}
