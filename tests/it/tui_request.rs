//! The Advanced tab's request settings, driven by keys: excluding an attribute while a field
//! mapping is active takes its field out of the sample bodies, and an exclusion that changes
//! nothing says so beside the list.

use crate::tui_common;

use aircall_dest::tui::model::{Field, Sample};
use crossterm::event::KeyCode;
use tui_common::{Harness, embedded_init};

/// Nothing is sent in these tests.
const UNUSED_BASE: &str = "http://127.0.0.1:9";

async fn advanced() -> Harness {
    let mut h = Harness::start(embedded_init(UNUSED_BASE)).await;
    h.ctrl('n');
    h.key(KeyCode::Right); // Advanced tab
    h
}

/// The JSON body of every request in the pane.
fn bodies(h: &Harness) -> Vec<serde_json::Value> {
    h.model
        .pane
        .samples
        .iter()
        .filter_map(|s| match s {
            Sample::Request { request, .. } => request.body.as_deref(),
            Sample::Invalid { .. } => None,
        })
        .map(|body| serde_json::from_str(body).expect("a JSON body"))
        .collect()
}

/// Ticks the first attribute of the exclude list that contains `filter`, then clears the filter.
fn exclude(h: &mut Harness, filter: &str) {
    h.focus(Field::Exclude);
    h.type_text(filter);
    h.key(KeyCode::Char(' '));
    for _ in filter.chars() {
        h.key(KeyCode::Backspace);
    }
}

#[tokio::test]
async fn excluding_a_mapped_column_takes_its_field_out_of_every_sample_body() {
    let mut h = advanced().await;
    assert!(
        h.model
            .dest
            .mapping
            .iter()
            .any(|m| m.target == "first_name" && m.from.as_deref() == Some("First Name")),
        "the suggestion maps First Name onto first_name: {:?}",
        h.model.dest.mapping
    );
    let before = bodies(&h);
    assert_eq!(before.len(), 10);
    assert!(before.iter().all(|b| b.get("first_name").is_some()));

    exclude(&mut h, "First");
    assert_eq!(h.model.dest.request.exclude, ["First Name"]);
    let after = bodies(&h);
    assert_eq!(after.len(), 10, "every sample is still sent");
    for body in &after {
        assert!(body.get("first_name").is_none(), "{body}");
        assert!(body.get("last_name").is_some(), "{body}");
    }
    let screen = h.render(120, 40);
    assert!(
        screen.contains("`First Name` excluded: `first_name`"),
        "{screen}"
    );
    assert_eq!(
        h.model.pane.excluded_fields,
        [("first_name".to_string(), "First Name".to_string())]
    );
    assert!(!screen.contains("changes nothing"), "{screen}");
    // The Template tab says it beside the mapping row too.
    h.focus(Field::Tabs);
    h.key(KeyCode::Left);
    let screen = h.render(120, 40);
    assert!(
        screen.contains("⊘ `First Name` is excluded (Advanced tab)"),
        "{screen}"
    );
    h.key(KeyCode::Right);

    // Unticked, the field comes back.
    exclude(&mut h, "First");
    assert!(h.model.dest.request.exclude.is_empty());
    assert!(bodies(&h).iter().all(|b| b.get("first_name").is_some()));
}

#[tokio::test]
async fn an_exclusion_no_mapping_reads_is_noted_beside_the_list() {
    let mut h = advanced().await;
    exclude(&mut h, "Website");
    assert_eq!(h.model.dest.request.exclude, ["Website"]);
    assert_eq!(
        h.model.pane.ineffective_exclusions,
        [
            "excluding `Website` changes nothing: the body is built from the field mapping, \
          which does not read `Website`"
        ]
    );
    let screen = h.render(120, 40);
    assert!(
        screen.contains("⚠ excluding `Website` changes nothing"),
        "{screen}"
    );
    // The bodies are what they were: nothing reads Website.
    assert!(bodies(&h).iter().all(|b| b.get("first_name").is_some()));
}

/// Whether some line of `screen` has a box cell whose text starts with `start`.
fn has_cell_starting(screen: &str, start: &str) -> bool {
    screen
        .lines()
        .any(|line| line.split('│').any(|cell| cell.trim().starts_with(start)))
}

#[tokio::test]
async fn xml_and_form_bodies_read_one_element_or_pair_per_line_when_expanded() {
    let mut h = advanced().await;
    h.focus(Field::ContentFormat);
    h.key(KeyCode::Right); // XML
    assert_eq!(
        h.model.dest.request.content_format,
        aircall_dest::destination::ContentFormat::Xml
    );
    h.focus(Field::Pane);
    h.key(KeyCode::Enter); // expanded
    let screen = h.render(120, 40);
    assert!(
        screen
            .lines()
            .flat_map(|l| l.split('│'))
            .any(|cell| cell.trim() == "<first_name>Stephanie</first_name>"),
        "{screen}"
    );
    assert!(
        has_cell_starting(&screen, "<last_name>Fuentes</last_name>"),
        "{screen}"
    );

    h.focus(Field::ContentFormat);
    h.key(KeyCode::Right); // form-urlencoded
    h.focus(Field::Pane);
    assert!(h.model.pane.expanded);
    let screen = h.render(120, 40);
    assert!(
        has_cell_starting(&screen, "first_name=Stephanie"),
        "{screen}"
    );
    assert!(has_cell_starting(&screen, "&last_name=Fuentes"), "{screen}");
}

/// Choosing another template replaces what the previous one brought, but what the person added
/// to the request (an exclusion, a header) stays, and the notice names it.
#[tokio::test]
async fn switching_template_keeps_the_persons_exclusions_and_headers() {
    let mut h = advanced().await;
    exclude(&mut h, "Website");
    h.focus(Field::Headers);
    h.type_text("X-Team:ops");
    assert_eq!(h.model.dest.request.exclude, ["Website"]);
    assert_eq!(
        h.model
            .dest
            .request
            .headers
            .get("X-Team")
            .and_then(|v| v.as_str()),
        Some("ops"),
        "{:?}",
        h.model.dest.request.headers
    );
    let url_before = h.model.dest.request.url.clone();

    // The Template tab: Create Records → Update Records.
    h.focus(Field::Tabs);
    h.key(KeyCode::Left);
    h.focus(Field::Endpoint);
    h.key(KeyCode::Right);
    assert_eq!(
        h.model.dest.template.as_ref().map(|t| t.id.as_str()),
        Some("update_records")
    );
    assert_ne!(
        h.model.dest.request.url, url_before,
        "the new template's URL"
    );
    assert!(
        h.model
            .dest
            .request
            .exclude
            .contains(&"Website".to_string()),
        "{:?}",
        h.model.dest.request.exclude
    );
    assert_eq!(
        h.model
            .dest
            .request
            .headers
            .get("X-Team")
            .and_then(|v| v.as_str()),
        Some("ops")
    );
    let notice = h
        .model
        .notice
        .as_ref()
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    assert!(
        notice.contains("header X-Team") && notice.contains("exclusion of `Website`"),
        "{notice}"
    );
}
