//! Every step at every size: drawing never panics, and Back/Next never overlap another field.

use crate::tui_common;

use aircall_dest::tui::model::{Field, Step};
use aircall_dest::tui::sections::delivery;
use aircall_dest::tui::view::layout;
use crossterm::event::KeyCode;
use tui_common::{Harness, embedded_init};

const SIZES: &[(u16, u16)] = &[
    (1, 1),
    (10, 3),
    (19, 5),
    (20, 6),
    (30, 12),
    (44, 14),
    (60, 20),
    (79, 23),
    (80, 24),
    (100, 30),
    (120, 40),
    (200, 60),
];

fn check(h: &Harness, what: &str) {
    for &(width, height) in SIZES {
        // Drawing panics on any out-of-bounds area; this is the assertion for small sizes.
        let screen = h.render(width, height);
        assert_eq!(
            screen.lines().count(),
            height as usize,
            "{what} {width}x{height}"
        );
        let mut model = h.model.clone();
        model.width = width;
        model.height = height;
        let layout = layout(&model);
        for button in [Field::Back, Field::Next] {
            let Some(rect) = layout.rect_of(button) else {
                continue;
            };
            assert!(
                rect.right() <= width && rect.bottom() <= height,
                "{what} {width}x{height}: {button:?} off screen"
            );
            for (field, other) in &layout.fields {
                if *field != button && other.width > 0 && other.height > 0 {
                    assert!(
                        !rect.intersects(*other),
                        "{what} {width}x{height}: {button:?} {rect:?} overlaps {field:?} {other:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_step_draws_at_every_size_without_overlapping_buttons() {
    let mut h = Harness::start(embedded_init("http://127.0.0.1:9")).await;
    check(&h, "source");
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Configure);
    check(&h, "template tab");
    let i = h
        .model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == "phone_numbers[0].value")
        .expect("row");
    h.focus(Field::MapMore(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapAdd);
    check(&h, "template tab, options open, scrolled");
    h.focus(Field::Tabs);
    h.key(KeyCode::Right);
    h.focus(Field::Setting(delivery::IN_DOUBT));
    check(&h, "advanced tab, scrolled to delivery");
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    check(&h, "save");
    h.key(KeyCode::Char('?'));
    check(&h, "help");
}
