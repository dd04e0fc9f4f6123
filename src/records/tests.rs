//! Reader tests: each format on clean and broken input, plus property tests.

use std::io::Cursor;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

type Item = Result<Record, RecordError>;

fn reader(bytes: &[u8], format: Format, max: usize) -> Result<RecordReader, OpenError> {
    build(
        Box::new(Cursor::new(bytes.to_vec())),
        format,
        "test",
        ReadOptions {
            max_record_bytes: max,
            ..ReadOptions::default()
        },
    )
}

fn read_with(bytes: &[u8], format: Format, max: usize) -> Vec<Item> {
    match reader(bytes, format, max) {
        Ok(reader) => reader.collect(),
        Err(e) => panic!("open failed: {e}"),
    }
}

fn read(bytes: &[u8], format: Format) -> Vec<Item> {
    read_with(bytes, format, MAX_RECORD_BYTES)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Record numbers run 1..=n with no gap, and only the last item may stop the reading.
fn assert_accounted(items: &[Item]) {
    for (i, item) in items.iter().enumerate() {
        let no = match item {
            Ok(record) => record.no,
            Err(error) => {
                assert!(
                    !error.stopped_reading() || i + 1 == items.len(),
                    "a stopping error is not last: {error}"
                );
                error.no
            }
        };
        assert_eq!(no, RecordNo(i as u64 + 1));
    }
}

/// (number, line, Ok(value) | Err(message)) for compact assertions.
fn summary(items: &[Item]) -> Vec<(u64, u64, Result<Value, String>)> {
    items
        .iter()
        .map(|item| match item {
            Ok(r) => (r.no.0, r.line, Ok(Value::Object(r.value.clone()))),
            Err(e) => (e.no.0, e.line, Err(e.message.clone())),
        })
        .collect()
}

fn error_at(items: &[Item], index: usize) -> &RecordError {
    match &items[index] {
        Err(e) => e,
        Ok(r) => panic!("item {index} is a record: {r:?}"),
    }
}

#[test]
fn readers_can_move_to_another_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<RecordReader>();
    let reader = reader(b"{\"a\":1}\n", Format::Jsonl, MAX_RECORD_BYTES).expect("open");
    let count = std::thread::spawn(move || reader.count())
        .join()
        .unwrap_or(0);
    assert_eq!(count, 1);
}

#[test]
fn inputs_from_arguments() {
    assert_eq!(Input::from_arg("-"), Input::Stdin);
    assert_eq!(Input::from_arg("a.csv"), Input::Path("a.csv".into()));
    assert_eq!(Input::Stdin.to_string(), "standard input");
}

// ---------- JSON Lines ----------

#[test]
fn jsonl_counts_blank_lines_and_keeps_going_after_bad_lines() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n{\"a\":\n[1,2]\n\"text\"\n{\"b\":{\"c\":true}}";
    let items = read(input, Format::Jsonl);
    assert_accounted(&items);
    let got = summary(&items);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], (1, 1, Ok(json!({"a": 1}))));
    assert_eq!(got[1].1, 4);
    assert_eq!(
        got[1].2,
        Err("malformed JSON at column 5: EOF while parsing a value".into())
    );
    assert_eq!(
        got[2],
        (3, 5, Err("expected a JSON object, found an array".into()))
    );
    assert_eq!(
        got[3],
        (4, 6, Err("expected a JSON object, found a string".into()))
    );
    assert_eq!(got[4], (5, 7, Ok(json!({"b": {"c": true}}))));
}

#[test]
fn jsonl_reports_invalid_utf8_and_long_lines_then_continues() {
    let mut input = b"{\"a\":\"\xFF\"}\n".to_vec();
    input.extend_from_slice(format!("{{\"big\":\"{}\"}}\n", "x".repeat(100)).as_bytes());
    input.extend_from_slice(b"{\"ok\":1}\n");
    let items = read_with(&input, Format::Jsonl, 64);
    assert_accounted(&items);
    assert_eq!(
        error_at(&items, 0).message,
        "invalid UTF-8 at byte 7 of the line"
    );
    let long = error_at(&items, 1);
    assert_eq!(long.line, 2);
    assert!(
        long.message
            .contains("line is 110 bytes long, more than the 64 bytes"),
        "{long}"
    );
    assert!(matches!(&items[2], Ok(r) if r.line == 3 && r.value == object(json!({"ok": 1}))));
}

#[test]
fn jsonl_keeps_numbers_beyond_i64_and_f64_exactly() {
    let input = b"{\"n\":-123456789012345678901234567890,\"f\":0.1000000000000000055511151231257827,\"e\":1.5e400}\n";
    let items = read(input, Format::Jsonl);
    let Ok(record) = &items[0] else {
        panic!("{items:?}")
    };
    let text = serde_json::to_string(&record.value).unwrap_or_default();
    assert_eq!(
        text,
        "{\"n\":-123456789012345678901234567890,\"f\":0.1000000000000000055511151231257827,\"e\":1.5e+400}"
    );
}

#[test]
fn jsonl_reports_deep_nesting() {
    let deep = format!(
        "{{\"a\":{}1{}}}\n{{\"b\":2}}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let items = read(deep.as_bytes(), Format::Jsonl);
    assert_accounted(&items);
    assert!(
        error_at(&items, 0)
            .message
            .contains("nested more than 128 levels deep")
    );
    assert!(items[1].is_ok());
}

// ---------- JSON ----------

#[test]
fn json_array_streams_elements_with_their_lines() {
    let input = b"[\n  {\"a\": \"x]}\\\"{\"},\n  {\"a\": [1, {\"b\": 2}]}\n,{}]\n";
    let items = read(input, Format::Json);
    assert_accounted(&items);
    assert_eq!(
        summary(&items),
        vec![
            (1, 2, Ok(json!({"a": "x]}\"{"}))),
            (2, 3, Ok(json!({"a": [1, {"b": 2}]}))),
            (3, 4, Ok(json!({}))),
        ]
    );
}

#[test]
fn json_single_object_and_concatenated_objects() {
    let items = read(b"{\n \"a\": 1\n}\n", Format::Json);
    assert_eq!(summary(&items), vec![(1, 1, Ok(json!({"a": 1})))]);
    let items = read(b"{\"a\":1}\n{\"a\":2}\n[{\"a\":3}]", Format::Json);
    assert_eq!(items.len(), 3);
    assert_accounted(&items);
}

#[test]
fn json_bad_elements_are_reported_and_reading_continues() {
    let input = b"[{\"a\":1}, 42, {\"a\" 2}, \"s\", [1], null, {\"a\":3},]";
    let items = read(input, Format::Json);
    assert_accounted(&items);
    let got = summary(&items);
    assert_eq!(got.len(), 7);
    assert_eq!(
        got[1].2,
        Err("expected a JSON object, found a number".into())
    );
    let bad = got[2].2.as_ref().err().cloned().unwrap_or_default();
    assert!(
        bad.starts_with("malformed JSON at line 1 column 20: expected `:`"),
        "{bad}"
    );
    assert_eq!(
        got[3].2,
        Err("expected a JSON object, found a string".into())
    );
    assert_eq!(
        got[4].2,
        Err("expected a JSON object, found an array".into())
    );
    assert_eq!(got[5].2, Err("expected a JSON object, found null".into()));
    assert_eq!(got[6].2, Ok(json!({"a": 3})));
}

#[test]
fn json_structural_errors_stop_with_a_report() {
    let cases: &[(&[u8], usize, &str)] = &[
        (
            b"[{\"a\":1} {\"a\":2}]",
            2,
            "expected `,` or `]` after the previous record, found `{` at line 1 column 10",
        ),
        (b"[{\"a\":[1}]", 1, "found `}` where `]` should close"),
        (
            b"[{\"a\":1},\n{\"a\":",
            2,
            "the input ends inside the record starting at line 2",
        ),
        (
            b"[{\"a\":1}",
            2,
            "the input ends before the `]` closing the array opened on line 1",
        ),
        (b"[,{\"a\":1}]", 1, "expected a record, found `,`"),
        (b"{\"a\":1}]", 2, "unexpected `]` at line 1 column 8"),
    ];
    for (input, count, fragment) in cases {
        let items = read(input, Format::Json);
        assert_accounted(&items);
        assert_eq!(items.len(), *count, "{}", String::from_utf8_lossy(input));
        let last = error_at(&items, count - 1);
        assert!(last.stopped_reading(), "{last}");
        assert!(last.message.contains(fragment), "{last} lacks {fragment}");
    }
}

#[test]
fn json_large_element_is_skipped_and_the_next_read() {
    let input = format!("[{{\"big\":\"{}\"}},{{\"ok\":true}}]", "y".repeat(500));
    let items = read_with(input.as_bytes(), Format::Json, 100);
    assert_accounted(&items);
    assert!(
        error_at(&items, 0)
            .message
            .starts_with("record is 510 bytes, more than the 100 bytes")
    );
    assert!(matches!(&items[1], Ok(r) if r.value == object(json!({"ok": true}))));
}

#[test]
fn json_invalid_utf8_names_the_position() {
    let items = read(b"[\n{\"a\":1},\n{\"a\":\n\"\xC3\x28\"}]", Format::Json);
    assert_accounted(&items);
    assert_eq!(
        error_at(&items, 1).message,
        "invalid UTF-8 at line 4 column 2"
    );
}

// ---------- CSV ----------

#[test]
fn csv_quoted_fields_crlf_and_bom() {
    let input =
        b"\xEF\xBB\xBFname,note\r\n\"Doe, Jane\",\"two\r\nlines\"\r\nBob,\"say \"\"hi\"\"\"\r\n";
    let reader = reader(input, Format::Csv, MAX_RECORD_BYTES).expect("header is fine");
    assert_eq!(
        reader.columns(),
        Some(&["name".to_string(), "note".to_string()][..])
    );
    let items: Vec<Item> = reader.collect();
    assert_eq!(
        summary(&items),
        vec![
            (
                1,
                2,
                Ok(json!({"name": "Doe, Jane", "note": "two\r\nlines"}))
            ),
            (2, 4, Ok(json!({"name": "Bob", "note": "say \"hi\""}))),
        ]
    );
}

#[test]
fn csv_wrong_field_counts_and_bad_utf8_are_reported() {
    let input = b"a,b,c\n1,2,3\n1,2\n1,\xFF\xFE,3\n1,2,3,4\n7,8,9\n";
    let items = read(input, Format::Csv);
    assert_accounted(&items);
    let got = summary(&items);
    assert_eq!(got.len(), 5);
    assert_eq!(
        got[1],
        (2, 3, Err("has 2 fields, but the header row has 3".into()))
    );
    assert_eq!(
        got[2],
        (
            3,
            4,
            Err("column `b` (column 2) has invalid UTF-8 at byte 1 of the cell".into())
        )
    );
    assert_eq!(
        got[3],
        (4, 5, Err("has 4 fields, but the header row has 3".into()))
    );
    assert_eq!(got[4], (5, 6, Ok(json!({"a": "7", "b": "8", "c": "9"}))));
}

#[test]
fn csv_header_problems_refuse_to_open() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"id,Email,name,Email\n1,a,b,c\n",
            "names two columns `Email` (columns 2 and 4)",
        ),
        (b"id,,name\n", "has no name for column 2"),
        (b"id,\xFFx\n", "has invalid UTF-8 in column 2"),
    ];
    for (input, fragment) in cases {
        match reader(input, Format::Csv, MAX_RECORD_BYTES) {
            Ok(_) => panic!("opened {}", String::from_utf8_lossy(input)),
            Err(e) => assert!(e.to_string().contains(fragment), "{e} lacks {fragment}"),
        }
    }
}

#[test]
fn csv_empty_input_and_header_only_yield_nothing() {
    for input in [&b""[..], b"\n\n", b"\xEF\xBB\xBF", b"a,b\r\n"] {
        assert!(read(input, Format::Csv).is_empty());
    }
}

#[test]
fn csv_unclosed_quote_is_reported_not_buffered() {
    let mut input = b"a,b\n1,2\n3,\"open\n".to_vec();
    for i in 0..20_000 {
        input.extend_from_slice(format!("{i},x\n").as_bytes());
    }
    let items = read_with(&input, Format::Csv, 1000);
    assert_accounted(&items);
    assert_eq!(items.len(), 2);
    let stop = error_at(&items, 1);
    assert!(stop.stopped_reading(), "{stop}");
    assert!(stop.message.contains("quote left open"), "{stop}");
    // Within the limit, the swallowed rows are still not passed off as one record.
    let items = read(&input, Format::Csv);
    assert_accounted(&items);
    assert_eq!(items.len(), 2);
    assert_eq!(
        error_at(&items, 1).message,
        "stopped reading: a quote opened in this record is never closed, so lines 3 to 20004 \
         were read as a single record; close the quote"
    );
    // A quoted multi-line field that is closed at the very end is fine.
    let items = read(b"a,b\n1,\"two\nlines\"", Format::Csv);
    assert!(
        matches!(&items[..], [Ok(r)] if r.value == object(json!({"a": "1", "b": "two\nlines"})))
    );
}

// ---------- counting and properties ----------

fn count(bytes: &[u8], format: Format, max: usize) -> u64 {
    reader(bytes, format, max)
        .and_then(|r| {
            r.count_rest().map_err(|source| OpenError::Read {
                input: "test".into(),
                source,
            })
        })
        .unwrap_or(u64::MAX)
}

#[test]
fn counting_matches_reading() {
    let samples: &[(&[u8], Format)] = &[
        (b"{\"a\":1}\n\n{\"a\"\n[]\n", Format::Jsonl),
        (b"[{\"a\":1},2,{\"a\":[}]", Format::Json),
        (b"a,b\n1,2\n\"x\ny\",3\n4\n", Format::Csv),
        (b"a,b\n1,2\n3,\"x\ny\n", Format::Csv),
    ];
    for (input, format) in samples {
        assert_eq!(
            count(input, *format, MAX_RECORD_BYTES),
            read(input, *format).len() as u64
        );
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[0-9]{20,30}"
            .prop_map(|digits| serde_json::from_str(&format!("1{digits}")).unwrap_or(Value::Null)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn arb_objects() -> impl Strategy<Value = Vec<Map<String, Value>>> {
    prop::collection::vec(
        prop::collection::vec((any::<String>(), arb_value()), 0..5)
            .prop_map(|pairs| pairs.into_iter().collect::<Map<String, Value>>()),
        0..8,
    )
}

fn values(items: Vec<Item>) -> Vec<Map<String, Value>> {
    items
        .into_iter()
        .map(|item| match item {
            Ok(record) => record.value,
            Err(e) => panic!("unexpected error: {e}"),
        })
        .collect()
}

proptest! {
    #[test]
    fn jsonl_round_trips(objects in arb_objects(), crlf in any::<bool>()) {
        let mut text = String::new();
        for object in &objects {
            text.push_str(&serde_json::to_string(object).unwrap_or_default());
            text.push_str(if crlf { "\r\n" } else { "\n" });
        }
        prop_assert_eq!(values(read(text.as_bytes(), Format::Jsonl)), objects);
    }

    #[test]
    fn json_array_round_trips(objects in arb_objects(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&objects)
        } else {
            serde_json::to_string(&objects)
        }.unwrap_or_default();
        prop_assert_eq!(values(read(text.as_bytes(), Format::Json)), objects);
    }

    #[test]
    fn csv_round_trips(
        columns in prop::collection::hash_set("[^\u{FEFF}]{1,6}", 1..5),
        cells in prop::collection::vec(prop::collection::vec(any::<String>(), 5), 0..6),
    ) {
        let columns: Vec<String> = columns.into_iter().collect();
        // A file of one column whose name holds a delimiter (`;`, or `,` quoted) is what a
        // misread file looks like, and the reader says so instead of guessing
        // (tests/it/fidelity.rs, `misshapen_files_are_diagnosed_once_then_read_with_their_setting`): not a round trip.
        prop_assume!(!(columns.len() == 1 && columns[0].contains([',', ';', '\t', '|'])));
        let mut writer = ::csv::WriterBuilder::new().from_writer(Vec::new());
        let mut expected = Vec::new();
        writer.write_record(&columns).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for row in &cells {
            let row = &row[..columns.len()];
            // A row of one empty cell is written as a blank line, which CSV readers skip.
            prop_assume!(!(columns.len() == 1 && row[0].is_empty()));
            writer.write_record(row).map_err(|e| TestCaseError::fail(e.to_string()))?;
            expected.push(columns.iter().cloned().zip(row.iter().map(|c| Value::String(c.clone()))).collect::<Map<String, Value>>());
        }
        let bytes = writer.into_inner().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(values(read(&bytes, Format::Csv)), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_every_number_is_accounted_for(
        bytes in prop::collection::vec(prop_oneof![
            any::<u8>(),
            prop::sample::select(b"{}[],:\"\\\n\r 01a".to_vec()),
        ], 0..400),
        max in 8usize..200,
    ) {
        for format in [Format::Jsonl, Format::Json, Format::Csv] {
            if let Ok(reader) = reader(&bytes, format, max) {
                let items: Vec<Item> = reader.collect();
                assert_accounted(&items);
                prop_assert_eq!(count(&bytes, format, max), items.len() as u64, "{:?}", format);
            }
        }
    }
}

#[test]
fn csv_lines_are_right_with_blank_lines_and_either_line_ending() {
    for eol in ["\n", "\r\n"] {
        let text = ["h1,h2", "1,2", "\"a", "b\",3", "", "", "4,5"].join(eol);
        let lines: Vec<u64> = read(text.as_bytes(), Format::Csv)
            .iter()
            .map(|item| item.as_ref().map_or(0, |r| r.line))
            .collect();
        assert_eq!(lines, [2, 3, 7], "line ending {eol:?}");
    }
}
