//! Sync against the sandbox beyond the mirror of tests/it/sync.rs: `create_only` never changes
//! or deletes, `update_only` never creates (and says why it skipped a row), a record refused or
//! invalid one day is tried again the next, the values a mapping leaves out are counted, and the
//! destination's own headers go with every request, record-less ones included.

use std::collections::BTreeMap;
use std::fs;

use aircall_dest::sync::fixture::{self, ExportRow, day1, day2};
use serde_json::{Value, json};

use crate::summary_support::{assert_counts_add_up, field};
use crate::sync_support::{
    DELIVERY, assert_mirrors, bench, bench_with, contacts, journal_shape, plan_json, run_ok,
    scratch, start, write_export,
};

/// The journal's requests other than reads (`GET`), as `METHOD path-pattern` and their counts.
fn writes(sandbox: &aircall_dest::sandbox::Sandbox) -> BTreeMap<String, usize> {
    journal_shape(sandbox)
        .into_iter()
        .filter(|(request, _)| !request.starts_with("GET "))
        .collect()
}

fn contact_for<'a>(list: &'a [Value], key: &str) -> &'a Value {
    list.iter()
        .find(|c| c["information"] == key)
        .unwrap_or_else(|| panic!("no contact for {key}"))
}

#[test]
fn create_only_creates_new_keys_and_never_updates_or_deletes() {
    let running = start("");
    let dir = scratch();
    let mut bench = bench(
        dir.path(),
        &running,
        "key = \"Customer Id\"\nmode = \"create_only\"",
    );
    let sandbox = &running.sandbox;
    // Row 3's number, entered by hand before the first sync: matched and remembered, not changed.
    let existing = running.create_contact(json!({
        "first_name": "Old",
        "phone_numbers": [{"label": "Mobile", "value": fixture::phone(3)}]
    }));
    sandbox.reset_journal();
    let rows: Vec<ExportRow> = day1(60).collect();
    write_export(&bench.input, &rows);
    let day = run_ok(&mut bench, &[]);
    assert_counts_add_up(&day);
    assert_eq!(
        (
            field(&day, "created"),
            field(&day, "matched"),
            field(&day, "updated")
        ),
        (59, 1, 0),
        "{day}"
    );
    assert_eq!(
        writes(sandbox),
        BTreeMap::from([("POST /v1/contacts".to_string(), 59)])
    );
    let (_, list) = contacts(sandbox);
    let kept = list.iter().find(|c| c["id"] == existing).unwrap();
    assert_eq!(
        kept["first_name"], "Old",
        "create_only changed a matched contact"
    );

    // Day 2: 20 rows changed, 5 gone, 10 new: only the 10 creates are sent.
    sandbox.reset_journal();
    write_export(&bench.input, &day2(60));
    let plan = plan_json(&bench);
    let day = run_ok(&mut bench, &[]);
    assert_counts_add_up(&day);
    for (planned, reported, expected) in [
        ("create", "created", 10),
        ("update", "updated", 0),
        ("delete", "deleted", 0),
        ("unchanged", "unchanged", 55),
    ] {
        assert_eq!(plan[planned], expected, "plan {planned}: {plan}");
        assert_eq!(field(&day, reported), expected, "{reported}: {day}");
    }
    assert_eq!(
        writes(sandbox),
        BTreeMap::from([("POST /v1/contacts".to_string(), 10)])
    );
    let (by_key, list) = contacts(sandbox);
    assert_eq!(list.len(), 59 + 1 + 10);
    for gone in 56..=60 {
        assert!(
            by_key.contains_key(&ExportRow::day1(gone).key()),
            "row {gone} left the export and create_only deleted its contact"
        );
    }
    assert_eq!(
        contact_for(&list, &ExportRow::day1(1).key())["first_name"],
        "First1",
        "create_only updated a changed row"
    );
}

#[test]
fn update_only_updates_what_exists_and_skips_new_keys_with_a_reason() {
    let running = start("");
    let dir = scratch();
    let mut bench = bench(
        dir.path(),
        &running,
        "key = \"Customer Id\"\nmode = \"update_only\"",
    );
    let sandbox = &running.sandbox;
    for i in 1..=5 {
        running.create_contact(json!({
            "first_name": format!("Old{i}"),
            "phone_numbers": [{"label": "Work", "value": fixture::phone(i)}]
        }));
    }
    sandbox.reset_journal();
    let mut rows: Vec<ExportRow> = day1(10).collect();
    write_export(&bench.input, &rows);
    let end = bench.run(&[], crate::sync_support::LIMIT);
    assert!(end.status.success(), "{}", end.stderr);
    let day = end.summary().unwrap();
    assert_counts_add_up(&day);
    assert_eq!(
        (
            field(&day, "matched"),
            field(&day, "updated"),
            field(&day, "created"),
            field(&day, "unmatched"),
            field(&day, "skipped_already_done"),
        ),
        (5, 5, 0, 5, 5),
        "{day}"
    );
    for i in 6..=10 {
        let reason = format!("record {i} (line {},", i + 1);
        assert!(
            end.stderr.lines().any(|l| l.starts_with("skipped:")
                && l.contains(&reason)
                && l.contains("update_only")),
            "no reason given for skipping row {i}:\n{}",
            end.stderr
        );
    }
    assert!(!writes(sandbox).contains_key("POST /v1/contacts"));
    let (_, list) = contacts(sandbox);
    assert_eq!(list.len(), 5, "update_only created contacts");
    for i in 1..=5 {
        assert_eq!(
            contact_for(&list, &ExportRow::day1(i).key())["first_name"],
            format!("First{i}")
        );
    }

    // Day 2: a matched row renamed, an unmatched one too: one update, still no create.
    sandbox.reset_journal();
    rows[1].first = "Renamed2".to_string();
    rows[6].first = "Renamed7".to_string();
    write_export(&bench.input, &rows);
    let day = run_ok(&mut bench, &[]);
    assert_eq!(
        (
            field(&day, "updated"),
            field(&day, "unchanged"),
            field(&day, "unmatched"),
            field(&day, "created")
        ),
        (1, 4, 5, 0),
        "{day}"
    );
    assert_eq!(
        writes(sandbox),
        BTreeMap::from([("POST /v1/contacts/{id}".to_string(), 1)])
    );
    assert_eq!(contacts(sandbox).1.len(), 5);
}

#[test]
fn a_record_refused_or_invalid_is_tried_again_and_its_values_left_out_are_counted() {
    let running = start("");
    let dir = scratch();
    let mut bench = bench(dir.path(), &running, "key = \"Customer Id\"");
    let sandbox = &running.sandbox;
    // The phone number optional: a number that does not parse is left out of the body; and
    // manual mode, so no template checks the body first: Aircall refuses the contact.
    let text = fixture::destination(DELIVERY, "key = \"Customer Id\"", "")
        .replace(
            "default_country = \"US\"\n",
            "default_country = \"US\"\noptional = true\n",
        )
        .replace("mode = \"template\"", "mode = \"manual\"")
        .replace(
            "[template]\nid = \"create_records\"\nresource = \"contacts\"\n",
            "",
        );
    assert!(text.contains("manual") && !text.contains("[template]"));
    fs::write(&bench.destination, text).unwrap();
    let input = bench.input.clone();
    let export = |refused_phone: &str, invalid_key: &str| {
        let mut csv = format!("{}\n", fixture::HEADER);
        for row in day1(5) {
            csv.push_str(&format!("{}\n", fixture::csv_line(&row)));
        }
        csv.push_str(&format!(
            "C0000006,First6,Last6,{refused_phone},c6@example.com\n"
        ));
        csv.push_str(&format!(
            "{invalid_key},First7,Last7,+1 415-500-0007,c7@example.com\n"
        ));
        fs::write(&input, csv).unwrap();
    };
    export("not a phone", "");
    for attempt in 1..=2 {
        sandbox.reset_journal();
        let end = bench.run(&[], crate::sync_support::LIMIT);
        assert_eq!(end.status.code(), Some(3), "{}", end.stderr);
        let day = end.summary().unwrap();
        assert_counts_add_up(&day);
        let created = if attempt == 1 { 5 } else { 0 };
        assert_eq!(
            (
                field(&day, "created"),
                field(&day, "unchanged"),
                field(&day, "dead_lettered"),
                field(&day, "invalid"),
                field(&day, "values_left_out"),
            ),
            (created, 5 - created, 1, 1, 1),
            "attempt {attempt}: {day}"
        );
        assert!(
            end.stderr.contains("warning: record 6 (line 7)"),
            "the value left out is not named:\n{}",
            end.stderr
        );
        // The refused row is sent again each time: it is not in sync.
        let creates: Vec<Value> = sandbox
            .journal()
            .iter()
            .filter(|e| e.method == "POST" && e.path == "/v1/contacts")
            .map(|e| serde_json::from_str(&e.body).unwrap())
            .collect();
        assert_eq!(creates.len(), created as usize + 1, "attempt {attempt}");
        assert!(creates.iter().any(|b| b["information"] == "C0000006"));
    }
    // Both rows put right: both are created, and nothing else is sent.
    export("+1 415-500-0006", "C0000007");
    sandbox.reset_journal();
    let day = run_ok(&mut bench, &[]);
    assert_eq!(
        (
            field(&day, "created"),
            field(&day, "unchanged"),
            field(&day, "dead_lettered"),
            field(&day, "invalid"),
            field(&day, "values_left_out"),
        ),
        (2, 5, 0, 0, 0),
        "{day}"
    );
    assert_eq!(
        writes(sandbox),
        BTreeMap::from([("POST /v1/contacts".to_string(), 2)])
    );
    let rows: Vec<ExportRow> = day1(7).collect();
    assert_mirrors(sandbox, &rows, 0);
}

#[test]
fn the_destinations_headers_go_with_every_request_record_less_ones_too() {
    let running = start("");
    let dir = scratch();
    let mut bench = bench_with(
        dir.path(),
        &running,
        "key = \"Customer Id\"\nmode = \"mirror\"",
        "\n[request.headers]\nX-Team = \"sales\"\nX-Row-Phone = \"{record.Phone}\"\n",
    );
    let sandbox = &running.sandbox;
    // 600 contacts: listing them would take 12 pages, more than one lookup per day-2 new key,
    // so day 2 looks each new key up.
    write_export(&bench.input, &day1(600).collect::<Vec<_>>());
    run_ok(&mut bench, &[]);
    let mut journal = sandbox.journal();
    sandbox.reset_journal();
    let rows = day2(600);
    write_export(&bench.input, &rows);
    let day = run_ok(&mut bench, &[]);
    assert_eq!(
        (
            field(&day, "created"),
            field(&day, "updated"),
            field(&day, "deleted")
        ),
        (10, 20, 5),
        "{day}"
    );
    assert_mirrors(sandbox, &rows, 0);
    journal.extend(sandbox.journal());
    let csv_phone = |key: &str| -> String {
        let id: usize = key.trim_start_matches('C').parse().unwrap();
        let line = fixture::csv_line(&ExportRow::day1(id));
        line.split(',').nth(3).unwrap().to_string()
    };
    let mut kinds = BTreeMap::new();
    for entry in &journal {
        let header = |name: &str| entry.headers.get(name).and_then(Value::as_str);
        assert_eq!(
            header("x-team"),
            Some("sales"),
            "{} {}",
            entry.method,
            entry.path
        );
        let record_less = (entry.method == "GET" && entry.path == "/v1/contacts")
            || (entry.method == "DELETE" && entry.path.matches('/').count() == 3);
        assert_eq!(
            header("x-row-phone").is_some(),
            !record_less,
            "{} {}",
            entry.method,
            entry.path
        );
        if entry.method == "POST" && entry.path == "/v1/contacts" {
            let body: Value = serde_json::from_str(&entry.body).unwrap();
            let key = body["information"].as_str().unwrap();
            assert_eq!(header("x-row-phone"), Some(csv_phone(key).as_str()));
        }
        let kind = if record_less {
            "record-less"
        } else if entry.method == "GET" {
            "lookup"
        } else if entry.path.contains("_details") {
            "details"
        } else {
            "other"
        };
        *kinds.entry(kind).or_insert(0) += 1;
    }
    // Each kind of request was seen: lookups, detail calls and record-less ones.
    assert_eq!(kinds.get("lookup"), Some(&19), "{kinds:?}");
    assert_eq!(kinds.get("details"), Some(&5), "{kinds:?}");
    assert_eq!(kinds.get("record-less"), Some(&(1 + 1 + 5)), "{kinds:?}");
}
