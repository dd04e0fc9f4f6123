//! The Sync section of the Advanced tab: offered for contacts, the key suggested from the data,
//! the mode, match and delete guard written to `[sync]`, and what a run would do with each
//! sample judged by the sync's classifier against the (absent) state file.

use crate::tui_common;

use aircall_dest::destination::{MatchRule, SyncMode};
use aircall_dest::tui::model::{Field, SyncPreview};
use aircall_dest::tui::sections::sync;
use crossterm::event::KeyCode;
use tui_common::{Harness, embedded_init};

async fn advanced() -> Harness {
    let mut h = Harness::start(embedded_init("http://127.0.0.1:47800")).await;
    h.ctrl('n');
    h.key(KeyCode::Right);
    assert_eq!(h.model.configure.tabs.selected(), 1);
    h
}

#[tokio::test]
async fn turning_sync_on_suggests_the_id_column_and_judges_every_sample_a_first_create() {
    let mut h = advanced().await;
    assert!(h.model.dest.sync.is_none());
    h.focus(Field::Setting(sync::ENABLED));
    h.key(KeyCode::Char(' '));
    h.settle().await;
    let settings = h.model.dest.sync.clone().expect("sync is on");
    // customers-100.csv: `Index` and `Customer Id` are unique in the sample; the id comes first.
    assert_eq!(settings.key.to_string(), "Customer Id");
    assert_eq!(settings.mode, SyncMode::Upsert);
    assert_eq!(settings.matching, None);
    let SyncPreview::Ready(operations) = &h.model.configure.sync_preview else {
        panic!("no verdict: {:?}", h.model.configure.sync_preview);
    };
    assert!(operations.first_sync);
    let records: Vec<u64> = operations.operations.iter().map(|(no, _)| *no).collect();
    assert_eq!(
        records,
        (1..=10).collect::<Vec<_>>(),
        "the pane's 10 records"
    );
    assert!(operations.operations.iter().all(|(_, op)| *op == "create"));
    // The verdict is drawn under the section's last setting, in view with it.
    h.focus(Field::Setting(sync::MATCH));
    let screen = h.render(120, 40);
    assert!(
        screen.contains("first sync: would look up then create: records"),
        "{screen}"
    );
    // Each request of the pane starts with its operation.
    assert!(screen.matches("create · ").count() >= 2, "{screen}");
    // At 80x24 the operation, the record number and the whole path still fit on the line.
    let narrow = h.render(80, 24);
    assert!(
        narrow.contains("create · 2·rec 2 POST /v1/contacts"),
        "{narrow}"
    );
}

#[tokio::test]
async fn mode_match_and_the_delete_guard_are_written_to_the_sync_settings() {
    let mut h = advanced().await;
    h.focus(Field::Setting(sync::ENABLED));
    h.key(KeyCode::Char(' '));
    h.settle().await;
    let guard = Field::Setting(sync::MAX_DELETE);
    assert!(
        !aircall_dest::tui::focus::order(&h.model).contains(&guard),
        "the delete guard is for mirror only"
    );
    // upsert → create_only → update_only → mirror.
    h.focus(Field::Setting(sync::MODE));
    for _ in 0..3 {
        h.key(KeyCode::Right);
    }
    h.settle().await;
    assert_eq!(h.model.dest.sync.as_ref().unwrap().mode, SyncMode::Mirror);
    h.focus(Field::Setting(sync::MATCH));
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.dest.sync.as_ref().unwrap().matching,
        Some(MatchRule::None)
    );
    h.focus(guard);
    h.ctrl('u');
    h.type_text("150");
    let error = h
        .model
        .error_for(guard)
        .expect("150% is refused")
        .to_string();
    assert!(error.contains("from 0 to 100"), "{error}");
    // Each key applies what it makes: "15" was taken, "150" is not.
    assert_eq!(h.model.dest.sync.as_ref().unwrap().max_delete_percent, 15.0);
    h.ctrl('u');
    h.type_text("25");
    assert_eq!(h.model.error_for(guard), None);
    assert_eq!(h.model.dest.sync.as_ref().unwrap().max_delete_percent, 25.0);
    h.settle().await;
    // Without matching a first sync creates without looking.
    h.focus(guard);
    let screen = h.render(120, 40);
    assert!(
        screen.contains("first sync: would create: records 1–10"),
        "{screen}"
    );
    // Turning sync off removes the section from the file and its settings from the form.
    h.focus(Field::Setting(sync::ENABLED));
    h.key(KeyCode::Char(' '));
    assert!(h.model.dest.sync.is_none());
    assert!(!aircall_dest::tui::focus::order(&h.model).contains(&Field::Setting(sync::MODE)));
}
