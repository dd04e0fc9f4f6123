//! Mouse clicks and the wheel, matched against the areas of the frame last drawn.

use super::*;

pub(super) fn on_mouse(model: &mut Model, mouse: MouseEvent) -> Vec<Cmd> {
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {}
        MouseEventKind::ScrollDown if model.step == Step::Configure => {
            model.pane.body.scroll_by(3);
            return Vec::new();
        }
        MouseEventKind::ScrollUp if model.step == Step::Configure => {
            model.pane.body.scroll_by(-3);
            return Vec::new();
        }
        _ => return Vec::new(),
    }
    if model.help {
        model.help = false;
        return Vec::new();
    }
    let layout = model.drawn.clone();
    let (x, y) = (mouse.column, mouse.row);
    let at = ratatui::layout::Position::new(x, y);
    // A click in an open pulldown's list chooses that option.
    let focus = model.focus;
    if let Some(field_rect) = layout.rect_of(focus) {
        let screen = ratatui::layout::Rect::new(0, 0, model.width, model.height);
        if let Some(pulldown) = pulldown_mut(model, focus)
            && pulldown.is_open()
        {
            let popup = pulldown.popup_area(field_rect, screen);
            if popup.contains(at) {
                let row = y.saturating_sub(popup.y + 1) as usize;
                if pulldown.click_option(row) == Outcome::Changed {
                    return on_changed(model, focus);
                }
                return Vec::new();
            }
        }
    }
    for (index, (step_rect, _)) in layout.steps.iter().enumerate() {
        if step_rect.contains(at) {
            return go_to(model, index);
        }
    }
    let Some(field) = layout.field_at(at) else {
        return Vec::new();
    };
    model.focus = field;
    match field {
        Field::Tabs => {
            let spans = model
                .configure
                .tabs
                .title_spans(layout.rect_of(Field::Tabs).map(|r| r.x).unwrap_or(0));
            if let Some(index) = spans.iter().position(|(a, b)| x >= *a && x < *b) {
                model.configure.tabs.select(index);
            }
            Vec::new()
        }
        Field::MapMore(_) | Field::MapRemove(_) => press(model, field),
        Field::MapOptional(i) => {
            let outcome = model
                .configure
                .mapping
                .get_mut(i)
                .map(|r| r.optional.toggle())
                .unwrap_or(Outcome::Ignored);
            if outcome == Outcome::Changed {
                on_changed(model, field)
            } else {
                Vec::new()
            }
        }
        Field::CredAdvanced => {
            let outcome = model.credential.advanced.toggle();
            if outcome == Outcome::Changed {
                on_changed(model, field)
            } else {
                Vec::new()
            }
        }
        Field::Setting(id) if model.setting(id).is_some_and(|s| s.checkbox().is_some()) => {
            let outcome = model
                .setting_mut(id)
                .and_then(|s| s.checkbox_mut())
                .map(|c| c.toggle())
                .unwrap_or(Outcome::Ignored);
            if outcome == Outcome::Changed {
                on_changed(model, field)
            } else {
                Vec::new()
            }
        }
        Field::Exclude => {
            let rect = layout.rect_of(Field::Exclude).unwrap_or_default();
            let rows = rect.height.saturating_sub(1) as usize;
            if y > rect.y {
                let index =
                    model.configure.request.exclude.offset(rows) + (y - rect.y - 1) as usize;
                if model.configure.request.exclude.toggle_visible(index) == Outcome::Changed {
                    return on_changed(model, field);
                }
            }
            Vec::new()
        }
        Field::Pane => {
            if let Some(index) = layout.sample_at(y) {
                model.pane.selected = index;
                pane::load_selected_body(model);
            }
            Vec::new()
        }
        button if button.is_button() => press(model, field),
        _ => {
            if let Some(pulldown) = pulldown_mut(model, field) {
                pulldown.open();
            }
            Vec::new()
        }
    }
}
