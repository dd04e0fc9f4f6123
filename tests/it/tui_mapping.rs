//! The Template tab's mapping form, template parameters, the Delivery section and Send Test's
//! guard rails, driven by keys through the real update function.

use crate::tui_common;

use aircall_dest::destination::{InDoubtPolicy, OnRejected, Transform};
use aircall_dest::tui::model::{Field, Sample, Step, TestState};
use aircall_dest::tui::sections::delivery;
use aircall_dest::tui::update::destination_to_save;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_common::{Harness, embedded_init};

/// Nothing is sent in these tests but Send Test's, against a server of the test's own.
const UNUSED_BASE: &str = "http://127.0.0.1:9";

async fn configure(base: &str) -> Harness {
    let mut h = Harness::start(embedded_init(base)).await;
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Configure);
    h
}

fn row(h: &Harness, target: &str) -> usize {
    h.model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == target)
        .unwrap_or_else(|| panic!("no mapping row for {target}"))
}

fn requests(h: &Harness) -> usize {
    h.model
        .pane
        .samples
        .iter()
        .filter(|s| matches!(s, Sample::Request { .. }))
        .count()
}

fn entry<'a>(h: &'a Harness, target: &str) -> Option<&'a aircall_dest::destination::FieldMapping> {
    h.model.dest.mapping.iter().find(|m| m.target == target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_set_by_entries_for_its_parts_shows_as_mapped() {
    let h = configure(UNUSED_BASE).await;
    let phones = &h.model.configure.mapping[row(&h, "phone_numbers")];
    assert!(phones.required && phones.is_field);
    assert_eq!(phones.sub_entries, 4);
    assert_eq!(phones.source.selected_label(), "(set by 4 entries below)");
    // The entries for its parts come right below it.
    let at = row(&h, "phone_numbers");
    let below: Vec<&str> = h.model.configure.mapping[at + 1..at + 5]
        .iter()
        .map(|r| r.target.as_str())
        .collect();
    assert_eq!(
        below,
        [
            "phone_numbers[0].label",
            "phone_numbers[0].value",
            "phone_numbers[1].label",
            "phone_numbers[1].value"
        ]
    );
    for (width, height) in [(80, 24), (120, 40)] {
        let screen = h.render(width, height);
        assert!(
            screen.contains("✓ phone_numbers*"),
            "{width}x{height}:\n{screen}"
        );
        assert!(screen.contains("phone_numbers[0].value"), "{screen}");
        assert!(!screen.contains("(not set)         ▾ none"), "{screen}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_removed_added_and_their_options_edited() {
    let mut h = configure(UNUSED_BASE).await;
    assert_eq!(requests(&h), 10);

    // Remove phone_numbers[0].value: every sample is then invalid for that part.
    let i = row(&h, "phone_numbers[0].value");
    h.focus(Field::MapMore(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapRemove(i));
    h.key(KeyCode::Enter);
    assert!(entry(&h, "phone_numbers[0].value").is_none());
    assert_eq!(requests(&h), 0);
    let screen = h.render(120, 40);
    assert!(screen.contains("✗ phone_numbers*"), "{screen}");
    assert!(
        screen.contains("samples invalid: `phone_numbers[0].value` is"),
        "{screen}"
    );

    // A bad target path is refused where it was typed.
    h.focus(Field::MapAdd);
    h.type_text("emails[x");
    h.key(KeyCode::Enter);
    assert!(h.model.error_for(Field::MapAdd).is_some());
    assert_eq!(h.model.focus, Field::MapAdd);

    // Add it back from "Add entry", pick its attribute and transform.
    h.send(aircall_dest::tui::msg::Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    h.type_text("phone_numbers[0].value");
    h.key(KeyCode::Enter);
    let i = row(&h, "phone_numbers[0].value");
    assert_eq!(h.model.focus, Field::MapSource(i));
    let source = &h.model.configure.mapping[i].source;
    assert!(source.is_open(), "the new entry's source list opens");
    let phone = source
        .options()
        .iter()
        .position(|o| o == "Phone 1")
        .unwrap();
    for _ in 0..phone {
        h.key(KeyCode::Down);
    }
    h.key(KeyCode::Enter);
    assert_eq!(
        entry(&h, "phone_numbers[0].value").and_then(|e| e.from.as_deref()),
        Some("Phone 1")
    );
    let i = row(&h, "phone_numbers[0].value");
    h.focus(Field::MapTransform(i));
    for _ in 0..4 {
        h.key(KeyCode::Right);
    }
    assert_eq!(
        entry(&h, "phone_numbers[0].value").map(|e| e.transform),
        Some(Transform::E164)
    );
    assert_eq!(requests(&h), 10, "{:?}", h.model.pane.samples.first());

    // Options: country for e164 (type letters to jump), optional, only if.
    h.focus(Field::MapMore(i));
    h.key(KeyCode::Enter);
    h.focus(Field::MapCountry(i));
    h.key(KeyCode::Enter);
    h.key(KeyCode::Char('f'));
    h.key(KeyCode::Char('r'));
    h.key(KeyCode::Enter);
    assert_eq!(
        entry(&h, "phone_numbers[0].value").and_then(|e| e.default_country.as_deref()),
        Some("FR")
    );
    h.focus(Field::MapOptional(i));
    h.key(KeyCode::Char(' '));
    assert!(entry(&h, "phone_numbers[0].value").is_some_and(|e| e.optional));
    h.focus(Field::MapIfPresent(i));
    h.key(KeyCode::Right);
    assert_eq!(
        entry(&h, "phone_numbers[0].value").and_then(|e| e.if_present.as_deref()),
        Some("Index")
    );

    // A target no field lists (`information` is one; `emails[1].value` is a part).
    h.focus(Field::MapAdd);
    h.type_text("emails[1].value");
    h.key(KeyCode::Enter);
    let i = row(&h, "emails[1].value");
    assert!(i > row(&h, "emails"), "listed under its field");
    h.key(KeyCode::Esc);
    assert!(
        entry(&h, "emails[1].value").is_none(),
        "nothing is written until a source is chosen"
    );
    assert_eq!(
        h.model.configure.mapping[row(&h, "emails")].sub_entries,
        3,
        "{:?}",
        h.model.configure.mapping
    );
    let saved = destination_to_save(&h.model, false).expect("savable");
    assert!(!saved.mapping.iter().any(|m| m.target == "emails[1].value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_parameter_re_resolves_the_request() {
    let mut h = configure(UNUSED_BASE).await;
    h.focus(Field::Endpoint);
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.dest.template.as_ref().map(|t| t.id.as_str()),
        Some("update_records")
    );
    h.focus(Field::TemplateParam(0));
    let (name, pulldown) = &h.model.configure.parameters[0];
    assert_eq!(name, "id_attribute");
    assert_eq!(
        pulldown.selected_label(),
        "id",
        "the default is preselected"
    );
    assert_eq!(h.model.dest.request.url, "/v1/contacts/{record.id}");
    h.key(KeyCode::Right);
    assert_eq!(h.model.configure.parameters[0].1.selected_label(), "Index");
    assert_eq!(h.model.dest.request.url, "/v1/contacts/{record.Index}");
    assert_eq!(h.model.dest.request.exclude, ["Index"]);
    assert_eq!(h.model.focus, Field::TemplateParam(0), "the focus stays");
    let first = h.model.pane.samples.iter().find_map(|s| match s {
        Sample::Request { request, .. } => Some(request.url.clone()),
        _ => None,
    });
    assert_eq!(first.as_deref(), Some("http://127.0.0.1:9/v1/contacts/1"));
    let saved = destination_to_save(&h.model, false).expect("savable");
    assert_eq!(
        saved
            .template
            .as_ref()
            .and_then(|t| t.parameters.get("id_attribute"))
            .and_then(|v| v.as_str()),
        Some("Index")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_numbers_are_checked_as_typed() {
    let mut h = configure(UNUSED_BASE).await;
    h.key(KeyCode::Right); // Advanced tab
    let clear = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.focus(Field::Setting(delivery::RATE));
    h.send(aircall_dest::tui::msg::Msg::Key(clear));
    h.type_text("x");
    assert!(h.model.error_for(Field::Setting(delivery::RATE)).is_some());
    assert_eq!(h.model.dest.delivery.rate_limit_per_minute, 60);
    let refused = destination_to_save(&h.model, false).unwrap_err();
    assert!(refused.contains("Rate / minute"), "{refused}");
    h.key(KeyCode::Backspace);
    h.type_text("9");
    assert_eq!(h.model.error_for(Field::Setting(delivery::RATE)), None);
    assert_eq!(h.model.dest.delivery.rate_limit_per_minute, 9);

    h.focus(Field::Setting(delivery::CONCURRENCY));
    h.send(aircall_dest::tui::msg::Msg::Key(clear));
    h.type_text("0");
    assert!(
        h.model
            .error_for(Field::Setting(delivery::CONCURRENCY))
            .is_some()
    );
    assert_eq!(h.model.dest.delivery.concurrency, 4);
    let refused = destination_to_save(&h.model, false).unwrap_err();
    assert!(refused.contains("Concurrency"), "{refused}");
    h.key(KeyCode::Backspace);
    h.type_text("2");
    assert_eq!(h.model.dest.delivery.concurrency, 2);

    h.focus(Field::Setting(delivery::MAX_ATTEMPTS));
    h.send(aircall_dest::tui::msg::Msg::Key(clear));
    h.type_text("3");
    assert_eq!(h.model.dest.delivery.max_attempts, 3);
    h.focus(Field::Setting(delivery::ON_REJECTED));
    h.key(KeyCode::Right);
    assert_eq!(h.model.dest.delivery.on_rejected, OnRejected::Stop);
    h.focus(Field::Setting(delivery::IN_DOUBT));
    h.key(KeyCode::Right);
    assert_eq!(h.model.dest.delivery.in_doubt, InDoubtPolicy::Resend);
    let screen = h.render(120, 40);
    assert!(
        screen.contains("Aircall allows 120/min per company"),
        "{screen}"
    );
    let saved = destination_to_save(&h.model, false).expect("savable");
    assert_eq!(saved.delivery.rate_limit_per_minute, 9);
    assert_eq!(saved.delivery.max_attempts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_warns_keeps_invalid_json_home_and_cancels_with_esc() {
    // A server that accepts and never answers: the request stays in flight until cancelled.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let mut h = configure(&base).await;
    let (before, after) = aircall_dest::tui::view::test_warning(&h.model).expect("a POST warns");
    assert!(before.contains("creates a real contact"), "{before}");
    assert!(before.contains("record 1"), "{before}");
    assert!(after.contains("will create another"), "{after}");
    let screen = h.render(120, 40);
    assert!(
        screen.contains("Send Test (Ctrl-S) creates a real contact"),
        "{screen}"
    );

    // Invalid JSON in the editor is shown and not sent.
    h.focus(Field::Pane);
    h.key(KeyCode::Char('e'));
    assert_eq!(h.model.pane.test, TestState::Editing);
    h.key(KeyCode::Char('x'));
    h.ctrl('s');
    assert_eq!(h.model.pane.test, TestState::Editing, "not sent");
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("not sent")),
        "{:?}",
        h.model.notice
    );
    h.key(KeyCode::Backspace);
    h.ctrl('s');
    assert!(matches!(h.model.pane.test, TestState::Sending { .. }));
    h.key(KeyCode::Esc);
    assert_eq!(h.model.pane.test, TestState::Failed("cancelled".into()));
    held.abort();
}

#[tokio::test]
async fn send_test_warning_follows_a_method_changed_on_the_advanced_tab() {
    let mut h = configure(UNUSED_BASE).await;
    let (before, _) = aircall_dest::tui::view::test_warning(&h.model).expect("a POST warns");
    assert!(before.contains("creates a real contact"), "{before}");
    h.key(KeyCode::Right); // Advanced tab
    h.focus(Field::Method);
    // POST, PUT, PATCH, DELETE: three steps right.
    for _ in 0..3 {
        h.key(KeyCode::Right);
    }
    assert_eq!(
        h.model.dest.request.method,
        aircall_dest::destination::Method::Delete
    );
    let (before, after) = aircall_dest::tui::view::test_warning(&h.model).expect("a DELETE warns");
    assert!(before.contains("deletes a real contact"), "{before}");
    assert!(!before.contains("creates"), "{before}");
    assert!(after.contains("is deleted"), "{after}");
    h.focus(Field::Method);
    h.key(KeyCode::Left); // PATCH
    let (before, _) = aircall_dest::tui::view::test_warning(&h.model).expect("a PATCH warns");
    assert!(before.contains("changes a real contact"), "{before}");
    h.key(KeyCode::Left);
    h.key(KeyCode::Left);
    h.key(KeyCode::Left); // GET
    assert_eq!(aircall_dest::tui::view::test_warning(&h.model), None);
}

/// The wizard on step 1 with the bundled sample, then `csv` typed as the dataset.
async fn with_dataset(csv: &str) -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.csv");
    std::fs::write(&path, csv).unwrap();
    let mut h = Harness::start(embedded_init(UNUSED_BASE)).await;
    assert!(
        h.model
            .dest
            .mapping
            .iter()
            .any(|m| m.from.as_deref() == Some("Phone 1")),
        "the sample's suggestion first"
    );
    h.focus(Field::DatasetPath);
    h.ctrl('u');
    h.type_text(&path.display().to_string());
    h.settle().await;
    assert_eq!(
        h.model.attributes().first().map(String::as_str),
        csv.split(',').next()
    );
    (h, dir)
}

#[tokio::test]
async fn another_dataset_gets_its_own_suggestion_and_no_stale_entry() {
    let (h, _dir) = with_dataset("First Name,Last Name,Mobile\nAda,Lovelace,0612345678\n").await;
    let mapping = &h.model.dest.mapping;
    assert!(
        mapping
            .iter()
            .any(|m| m.target == "first_name" && m.from.as_deref() == Some("First Name")),
        "{mapping:?}"
    );
    let attributes = h.model.attributes();
    assert!(
        mapping
            .iter()
            .filter_map(|m| m.from.as_ref())
            .all(|from| attributes.contains(from)),
        "no entry reads an attribute the new dataset lacks: {mapping:?}"
    );
}

#[tokio::test]
async fn a_changed_suggestion_is_kept_when_the_dataset_changes() {
    let mut h = configure(UNUSED_BASE).await;
    // The person edits the suggestion: first_name from Last Name.
    let row = h
        .model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == "first_name")
        .unwrap();
    h.focus(Field::MapSource(row));
    h.key(KeyCode::Right);
    let edited = h.model.dest.mapping.clone();
    assert_ne!(Some(&edited), h.model.suggested_mapping.as_ref());
    h.ctrl('b');
    h.focus(Field::DatasetPath);
    h.type_text(" ");
    h.key(KeyCode::Backspace);
    h.settle().await;
    assert_eq!(h.model.dest.mapping, edited, "the person's mapping stays");
}

#[tokio::test]
async fn field_notes_show_beside_mapping_rows() {
    let h = configure(UNUSED_BASE).await;
    let screen = h.render(120, 40);
    assert!(
        screen.contains("1 to 20 entries of {label, value}; values in E.164"),
        "{screen}"
    );
}

#[tokio::test]
async fn a_phone_column_chosen_for_phone_numbers_becomes_a_label_and_an_e164_value() {
    // A column name no suggestion knows or guesses, so the person maps it.
    let (mut h, _dir) = with_dataset("First Name,Joignable\nAda,+33612345678\n").await;
    h.ctrl('n');
    let row = h
        .model
        .configure
        .mapping
        .iter()
        .position(|r| r.target == "phone_numbers")
        .expect("a phone_numbers row");
    h.focus(Field::MapSource(row));
    assert_eq!(
        h.model.configure.mapping[row].source.options()[2],
        "Joignable",
        "(not set), First Name, Joignable, constant…"
    );
    h.key(KeyCode::Enter); // open the list
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    h.key(KeyCode::Enter); // choose Joignable
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("Joignable mapped onto phone_numbers[0]")),
        "{:?}",
        h.model.notice
    );
    let mapping = &h.model.dest.mapping;
    assert!(
        !mapping.iter().any(|m| m.target == "phone_numbers"),
        "{mapping:?}"
    );
    let value = mapping
        .iter()
        .find(|m| m.target == "phone_numbers[0].value")
        .expect("a value entry");
    assert_eq!(value.from.as_deref(), Some("Joignable"));
    assert_eq!(value.transform, Transform::E164);
    let label = mapping
        .iter()
        .find(|m| m.target == "phone_numbers[0].label")
        .expect("a label entry");
    assert_eq!(label.value.as_ref().and_then(|v| v.as_str()), Some("Work"));
    assert!(
        h.model
            .pane
            .samples
            .iter()
            .all(|s| matches!(s, Sample::Request { .. })),
        "every sample valid: {:?}",
        h.model.pane.samples
    );
}

#[tokio::test]
async fn a_column_guessed_by_its_name_is_marked_for_review() {
    let (mut h, _dir) = with_dataset("FName,Surname,Phone\nAda,Lovelace,+33612345678\n").await;
    let from = |h: &Harness, target: &str| entry(h, target).and_then(|e| e.from.clone());
    assert_eq!(from(&h, "first_name").as_deref(), Some("FName"));
    assert_eq!(from(&h, "last_name").as_deref(), Some("Surname"));
    h.ctrl('n');
    let guessed = &h.model.configure.mapping[row(&h, "first_name")];
    assert_eq!(guessed.guessed_from.as_deref(), Some("FName"));
    let known = &h.model.configure.mapping[row(&h, "last_name")];
    assert_eq!(
        known.guessed_from, None,
        "Surname is a spelling the template knows"
    );
    let screen = h.render(120, 40);
    assert!(
        screen.contains("≈ guessed from the column `FName`: check it"),
        "{screen}"
    );
    // Once the person picks the source themselves, it is no longer a guess.
    let i = row(&h, "first_name");
    h.focus(Field::MapSource(i));
    h.key(KeyCode::Right);
    h.key(KeyCode::Left);
    assert_eq!(from(&h, "first_name").as_deref(), Some("FName"));
    assert_eq!(
        h.model.configure.mapping[row(&h, "first_name")].guessed_from,
        None
    );
}

#[tokio::test]
async fn manual_mode_shows_the_mapping_that_builds_its_bodies_and_lets_it_be_edited() {
    let mut h = configure(UNUSED_BASE).await;
    h.focus(Field::Endpoint);
    h.key(KeyCode::Left); // the last choice: None (manual)
    assert_eq!(h.model.dest.mode, aircall_dest::destination::Mode::Manual);
    assert!(h.model.dest.template.is_none());
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("manual mode keeps the field mapping")),
        "{:?}",
        h.model.notice
    );
    // The mapping still builds each body, and it is on screen.
    let first_body = |h: &Harness| {
        h.model.pane.samples.iter().find_map(|s| match s {
            Sample::Request { request, .. } => request
                .body
                .as_deref()
                .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()),
            _ => None,
        })
    };
    let body = first_body(&h).expect("a request");
    assert_eq!(body["first_name"], "Stephanie", "{body}");
    let screen = h.render(120, 40);
    assert!(screen.contains("Manual mode"), "{screen}");
    assert!(screen.contains("first_name"), "{screen}");
    // Edited from the keyboard: first_name from Last Name.
    let i = row(&h, "first_name");
    h.focus(Field::MapSource(i));
    h.key(KeyCode::Enter);
    let source = &h.model.configure.mapping[i].source;
    let at = source
        .options()
        .iter()
        .position(|o| o == "Last Name")
        .unwrap();
    let from = source.selected();
    for _ in from..at {
        h.key(KeyCode::Down);
    }
    h.key(KeyCode::Enter);
    assert_eq!(
        entry(&h, "first_name").and_then(|e| e.from.as_deref()),
        Some("Last Name")
    );
    assert_eq!(first_body(&h).unwrap()["first_name"], "Fuentes");
    h.focus(Field::MapAdd);
    assert_eq!(h.model.dest.mode, aircall_dest::destination::Mode::Manual);
}

#[tokio::test]
async fn switching_the_endpoint_keeps_the_persons_entries_and_names_those_dropped() {
    let mut h = configure(UNUSED_BASE).await;
    // The person maps `information` from Customer Id: (not set) → Index → Customer Id.
    let i = row(&h, "information");
    h.focus(Field::MapSource(i));
    h.key(KeyCode::Right);
    h.key(KeyCode::Right);
    assert_eq!(
        entry(&h, "information").and_then(|e| e.from.as_deref()),
        Some("Customer Id")
    );
    // Update Records: its contacts take `information` too.
    h.focus(Field::Endpoint);
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.dest.template.as_ref().map(|t| t.id.as_str()),
        Some("update_records")
    );
    assert_eq!(
        entry(&h, "information").and_then(|e| e.from.as_deref()),
        Some("Customer Id"),
        "{:?}",
        h.model.dest.mapping
    );
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, n)| n.contains("kept your mapping entries: information")),
        "{:?}",
        h.model.notice
    );
    // Users have no `information`: the entry goes, and the notice says so.
    h.focus(Field::Resource);
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.dest.template.as_ref().map(|t| t.resource.as_str()),
        Some("users")
    );
    assert!(entry(&h, "information").is_none());
    let notice = h
        .model
        .notice
        .as_ref()
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    assert!(
        notice.contains("dropped your mapping entry for information: Users has no such field"),
        "{notice}"
    );
    assert!(h.render(120, 40).contains("dropped your mapping entry"));
}

#[tokio::test]
async fn an_entry_the_person_kept_says_when_the_new_dataset_lacks_its_column() {
    let mut h = configure(UNUSED_BASE).await;
    // The person maps `information` from Customer Id: (not set) → Index → Customer Id.
    let i = row(&h, "information");
    h.focus(Field::MapSource(i));
    h.key(KeyCode::Right);
    h.key(KeyCode::Right);
    h.ctrl('b');
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.csv");
    std::fs::write(
        &path,
        "First Name,Last Name,Mobile\nAda,Lovelace,+33612345678\n",
    )
    .unwrap();
    h.focus(Field::DatasetPath);
    h.ctrl('u');
    h.type_text(&path.display().to_string());
    h.settle().await;
    assert_eq!(h.model.attributes(), ["First Name", "Last Name", "Mobile"]);
    assert_eq!(
        entry(&h, "information").and_then(|e| e.from.as_deref()),
        Some("Customer Id"),
        "the person's mapping stays"
    );
    h.ctrl('n');
    let screen = h.render(120, 40);
    assert!(
        screen.contains("⚠ the dataset has no column `Customer Id`"),
        "{screen}"
    );
}
