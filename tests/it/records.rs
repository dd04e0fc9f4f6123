//! The bad-input corpus (`tests/data/bad-input/`) and the bundled customers CSV, read through the
//! public reader API: each file's expected report, record by record.

use std::io::Write;
use std::path::{Path, PathBuf};

use aircall_dest::records::{
    Format, Input, JsonKind, OpenError, ReadOptions, Record, RecordError, count_records, discover,
    get_path, open, open_with,
};
use serde_json::{Value, json};

type Item = Result<Record, RecordError>;

/// What one item of a report should be: a record (optionally with a value to check) or an error
/// at a line whose message holds a fragment.
enum Want {
    Rec {
        line: u64,
        check: Option<(&'static str, Value)>,
    },
    Err {
        line: u64,
        fragment: &'static str,
    },
}

fn rec(line: u64) -> Want {
    Want::Rec { line, check: None }
}

fn rec_with(line: u64, path: &'static str, value: Value) -> Want {
    Want::Rec {
        line,
        check: Some((path, value)),
    }
}

fn err(line: u64, fragment: &'static str) -> Want {
    Want::Err { line, fragment }
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bad-input")
        .join(name)
}

fn read_all(path: &Path, format: Option<Format>) -> Result<(Format, Vec<Item>), OpenError> {
    let reader = open(&Input::Path(path.to_path_buf()), format)?;
    let format = reader.format();
    Ok((format, reader.collect()))
}

/// Checks a whole report: numbers run 1..=n, each item matches, nothing extra.
fn check_report(label: &str, items: &[Item], wants: &[Want]) {
    assert_eq!(
        items.len(),
        wants.len(),
        "{label}: {} items, expected {}: {items:#?}",
        items.len(),
        wants.len()
    );
    for (i, (item, want)) in items.iter().zip(wants).enumerate() {
        let no = i as u64 + 1;
        match (item, want) {
            (Ok(record), Want::Rec { line, check }) => {
                assert_eq!(record.no.0, no, "{label}: record number");
                assert_eq!(record.line, *line, "{label}: line of record {no}");
                if let Some((path, value)) = check {
                    assert_eq!(
                        get_path(&record.value, path),
                        Some(value),
                        "{label}: record {no} `{path}`"
                    );
                }
            }
            (Err(error), Want::Err { line, fragment }) => {
                assert_eq!(error.no.0, no, "{label}: error number");
                assert_eq!(error.line, *line, "{label}: line of error {no}: {error}");
                assert!(
                    error.message.contains(fragment),
                    "{label}: error {no} `{}` lacks `{fragment}`",
                    error.message
                );
            }
            (Ok(record), Want::Err { fragment, .. }) => {
                panic!("{label}: item {no} is a record {record:?}, expected an error `{fragment}`")
            }
            (Err(error), Want::Rec { .. }) => {
                panic!("{label}: item {no} is an error `{error}`, expected a record")
            }
        }
    }
}

#[test]
fn bad_input_corpus_gives_the_expected_report() {
    let table: Vec<(&str, Format, Vec<Want>)> = vec![
        (
            "broken-quoting.csv",
            Format::Csv,
            vec![
                rec_with(2, "phone", json!("+33 1 23 45 67 89")),
                err(
                    3,
                    "stopped reading: a quote opened in this record is never closed, so lines 3 to 6",
                ),
            ],
        ),
        (
            // Text after a closing quote joins the field, and a quote inside an unquoted field is
            // kept as text, as spreadsheet programs do; nothing is lost or shifted.
            "stray-quote.csv",
            Format::Csv,
            vec![
                rec(2),
                rec_with(3, "phone", json!("+44 20")),
                rec_with(4, "phone", json!("+1 \"555\"")),
            ],
        ),
        (
            "malformed-line.jsonl",
            Format::Jsonl,
            vec![
                rec(1),
                err(
                    2,
                    "malformed JSON at column 20: EOF while parsing an object",
                ),
                rec_with(3, "name", json!("Carl")),
            ],
        ),
        (
            "invalid-utf8.csv",
            Format::Csv,
            vec![
                rec(2),
                err(
                    3,
                    "column `name` (column 2) has invalid UTF-8 at byte 3 of the cell",
                ),
                rec_with(4, "email", json!("carl@example.com")),
            ],
        ),
        (
            "invalid-utf8.jsonl",
            Format::Jsonl,
            vec![
                rec(1),
                err(2, "invalid UTF-8 at byte 19 of the line"),
                rec(3),
            ],
        ),
        (
            "bom.csv",
            Format::Csv,
            vec![rec_with(2, "id", json!("1")), rec_with(3, "id", json!("2"))],
        ),
        (
            "bom.jsonl",
            Format::Jsonl,
            vec![rec_with(1, "id", json!(1)), rec_with(2, "id", json!(2))],
        ),
        (
            "bom.json",
            Format::Json,
            vec![rec_with(1, "id", json!(1)), rec(1)],
        ),
        (
            "crlf.csv",
            Format::Csv,
            vec![
                rec_with(2, "note", json!("first\r\nsecond")),
                rec_with(4, "note", json!("plain")),
            ],
        ),
        (
            "crlf.jsonl",
            Format::Jsonl,
            vec![rec_with(1, "id", json!(1)), rec_with(3, "id", json!(2))],
        ),
        ("empty.csv", Format::Csv, vec![]),
        ("empty.jsonl", Format::Jsonl, vec![]),
        ("empty.json", Format::Json, vec![]),
        ("blank-lines.jsonl", Format::Jsonl, vec![]),
        ("header-only.csv", Format::Csv, vec![]),
        (
            "big-numbers.jsonl",
            Format::Jsonl,
            vec![rec_with(
                1,
                "id",
                serde_json::from_str("123456789012345678901234567890").unwrap_or(Value::Null),
            )],
        ),
        (
            "wrong-field-count.csv",
            Format::Csv,
            vec![
                rec(2),
                err(3, "has 2 fields, but the header row has 3"),
                err(4, "has 4 fields, but the header row has 3"),
                rec_with(5, "name", json!("Dana")),
            ],
        ),
        (
            "not-objects.jsonl",
            Format::Jsonl,
            vec![
                rec(1),
                err(2, "expected a JSON object, found an array"),
                err(3, "expected a JSON object, found a string"),
                err(4, "expected a JSON object, found a number"),
                err(5, "expected a JSON object, found null"),
                rec_with(6, "id", json!(6)),
            ],
        ),
        (
            "truncated.json",
            Format::Json,
            vec![
                rec(2),
                rec(3),
                err(
                    4,
                    "stopped reading: the input ends inside the record starting at line 4",
                ),
            ],
        ),
        (
            "missing-comma.json",
            Format::Json,
            vec![
                rec(2),
                err(
                    3,
                    "stopped reading: expected `,` or `]` after the previous record, found `{` at line 3 column 3",
                ),
            ],
        ),
        (
            "bad-element.json",
            Format::Json,
            vec![
                rec(2),
                err(3, "malformed JSON at line 3 column 21: expected value"),
                rec_with(4, "id", json!(3)),
            ],
        ),
    ];
    for (name, format, wants) in &table {
        let path = corpus(name);
        // The format comes from the extension...
        let (found, items) = read_all(&path, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found, *format, "{name}: format from extension");
        check_report(name, &items, wants);
        // ...and sniffing the same bytes under a neutral name gives the same report.
        let dir = tempfile::tempdir().expect("temporary directory");
        let neutral = dir.path().join("input.dat");
        std::fs::copy(&path, &neutral).expect("copy");
        let (sniffed, items) = read_all(&neutral, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        if !wants.is_empty() {
            assert_eq!(sniffed, *format, "{name}: sniffed format");
            check_report(&format!("{name} (sniffed)"), &items, wants);
        }
        // The cheap count agrees with what reading yields.
        assert_eq!(
            count_records(&Input::Path(path.clone()), None),
            Some(wants.len() as u64),
            "{name}: count"
        );
    }
}

#[test]
fn big_numbers_are_kept_exactly() {
    let (_, items) = read_all(&corpus("big-numbers.jsonl"), None).expect("readable");
    let Some(Ok(record)) = items.first() else {
        panic!("{items:?}")
    };
    assert_eq!(
        serde_json::to_string(&record.value).unwrap_or_default(),
        "{\"id\":123456789012345678901234567890,\"ratio\":0.1000000000000000055511151231257827,\
         \"huge\":1e+400,\"neg\":-98765432109876543210}"
    );
}

#[test]
fn csv_header_problems_refuse_to_open_naming_file_line_and_columns() {
    let cases = [
        (
            "duplicate-headers.csv",
            "the CSV header row (line 1) names two columns `Email` (columns 2 and 4)",
        ),
        (
            "empty-header-name.csv",
            "the CSV header row (line 1) has no name for column 2",
        ),
    ];
    for (name, fragment) in cases {
        let path = corpus(name);
        match open(&Input::Path(path.clone()), None) {
            Ok(reader) => panic!("{name} opened as {}", reader.format()),
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains(fragment), "{text}");
                assert!(text.starts_with(&path.display().to_string()), "{text}");
            }
        }
    }
}

#[test]
fn missing_files_and_directories_are_open_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("nope.csv");
    let e = open(&Input::Path(missing.clone()), None).expect_err("missing file");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot open {}", missing.display())),
        "{e}"
    );
    let e =
        open(&Input::Path(dir.path().to_path_buf()), Some(Format::Csv)).expect_err("a directory");
    assert!(e.to_string().contains("it is a directory"), "{e}");
}

fn write_temp(
    dir: &tempfile::TempDir,
    name: &str,
    write: impl FnOnce(&mut std::fs::File),
) -> PathBuf {
    let path = dir.path().join(name);
    let mut file = std::fs::File::create(&path).expect("create");
    write(&mut file);
    path
}

#[test]
fn ten_megabyte_records_read_by_default_and_skip_past_a_lower_cap() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let big = "x".repeat(10 * 1024 * 1024);
    let jsonl = write_temp(&dir, "big.jsonl", |f| {
        writeln!(f, "{{\"id\":1}}")
            .and_then(|()| writeln!(f, "{{\"blob\":\"{big}\"}}"))
            .and_then(|()| writeln!(f, "{{\"id\":3}}"))
            .expect("write");
    });
    let json = write_temp(&dir, "big.json", |f| {
        write!(f, "[{{\"id\":1}},\n{{\"blob\":\"{big}\"}},\n{{\"id\":3}}]").expect("write");
    });
    let csv = write_temp(&dir, "big.csv", |f| {
        write!(f, "id,blob\n1,a\n2,\"{big}\nsecond line\"\n3,c\n4,d\n").expect("write");
    });
    // The default cap (64 MiB) reads every record whole.
    for path in [&jsonl, &json, &csv] {
        let (_, items) = read_all(path, None).expect("readable");
        assert_eq!(items.len(), if path == &csv { 4 } else { 3 });
        assert!(items.iter().all(Result::is_ok), "{path:?}");
    }
    // Past a lower cap, that record is invalid and reading goes on with the next one.
    let capped = |path: &PathBuf| -> Vec<Result<Record, RecordError>> {
        let options = ReadOptions {
            max_record_bytes: 4 * 1024 * 1024,
            ..ReadOptions::default()
        };
        open_with(&Input::Path(path.clone()), options)
            .expect("opens")
            .collect()
    };
    check_report(
        "big.jsonl",
        &capped(&jsonl),
        &[
            rec(1),
            err(
                2,
                "line is 10485771 bytes long, more than the 4 MiB a record may take; skipped",
            ),
            rec_with(3, "id", json!(3)),
        ],
    );
    check_report(
        "big.json",
        &capped(&json),
        &[
            rec(1),
            err(
                2,
                "record is 10485771 bytes, more than the 4 MiB a record may take; skipped",
            ),
            rec_with(3, "id", json!(3)),
        ],
    );
    let items = capped(&csv);
    check_report(
        "big.csv",
        &items,
        &[
            rec(2),
            err(
                3,
                "the record on lines 3 to 4 is larger than 4 MiB (source.max_record_bytes); skipped",
            ),
            rec_with(5, "id", json!("3")),
            rec_with(6, "id", json!("4")),
        ],
    );
}

#[test]
fn ten_thousand_deep_nesting_is_reported_and_the_next_records_read() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let deep = format!("{{\"a\":{}0{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_objects = format!("{}0{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for (name, body) in [
        (
            "deep.jsonl",
            format!("{{\"id\":1}}\n{deep}\n{deep_objects}\n{{\"id\":4}}\n"),
        ),
        (
            "deep.json",
            format!("[{{\"id\":1}},\n{deep},\n{deep_objects},\n{{\"id\":4}}]"),
        ),
    ] {
        let path = write_temp(&dir, name, |f| f.write_all(body.as_bytes()).expect("write"));
        let (_, items) = read_all(&path, None).expect("readable");
        check_report(
            name,
            &items,
            &[
                rec(1),
                err(2, "nested more than 128 levels deep"),
                err(3, "nested more than 128 levels deep"),
                rec_with(4, "id", json!(4)),
            ],
        );
    }
}

#[test]
fn customers_csv_reads_all_hundred_records_intact() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/data/customers-100.csv");
    let input = Input::Path(path);
    let reader = open(&input, None).expect("readable");
    assert_eq!(reader.format(), Format::Csv);
    assert_eq!(reader.columns().map(<[String]>::len), Some(12));
    let records: Vec<Record> = reader
        .map(|item| item.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    assert_eq!(records.len(), 100);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record.no.0, i as u64 + 1);
        assert_eq!(record.line, i as u64 + 2);
        assert_eq!(
            get_path(&record.value, "Index"),
            Some(&json!((i + 1).to_string()))
        );
        // CRLF line endings never leak into the last column.
        let website = get_path(&record.value, "Website")
            .and_then(Value::as_str)
            .unwrap_or("\r");
        assert!(
            !website.ends_with('\r') && website.starts_with("http"),
            "{website:?}"
        );
    }
    let first = &records[0].value;
    assert_eq!(
        get_path(first, "Company"),
        Some(&json!("Gillespie, Chapman and Evans"))
    );
    assert_eq!(
        get_path(first, "Phone 1"),
        Some(&json!("+1-940-986-3836x4639"))
    );
    assert_eq!(
        get_path(&records[99].value, "Company"),
        Some(&json!("Santos, Cox and Bishop"))
    );

    assert_eq!(count_records(&input, None), Some(100));
    assert_eq!(count_records(&Input::Stdin, None), None);

    let attributes = discover(records.iter().take(10));
    let paths: Vec<&str> = attributes.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths[..3], ["Index", "Customer Id", "First Name"]);
    assert_eq!(paths.len(), 12);
    assert!(
        attributes
            .iter()
            .all(|a| a.kinds == [JsonKind::String] && a.present_in == 10)
    );
    assert_eq!(attributes[0].example.as_deref(), Some("1"));
}

#[test]
fn explicit_format_beats_the_extension() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = write_temp(&dir, "records.csv", |f| {
        f.write_all(b"{\"id\":1}\n{\"id\":2}\n").expect("write")
    });
    let (format, items) = read_all(&path, Some(Format::Jsonl)).expect("readable");
    assert_eq!(format, Format::Jsonl);
    check_report("records.csv as jsonl", &items, &[rec(1), rec(2)]);
}
