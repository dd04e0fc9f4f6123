//! Tests of the request builder over whole destinations.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::destination::{Algorithm, GroupShape};
use crate::records::Record;

fn destination(extra: &str) -> Destination {
    let text = format!(
        r#"version = 1
name = "t"
credential = "c"
mode = "manual"
[source]
path = "in.jsonl"
[request]
method = "POST"
url = "/v1/contacts"
{extra}
"#
    );
    Destination::from_toml(&text, "test.toml").unwrap()
}

fn record(no: u64, value: Value) -> Result<Record, RecordError> {
    Ok(Record {
        no: RecordNo(no),
        line: no,
        value: value.as_object().unwrap().clone(),
    })
}

fn requests(built: Vec<Built>) -> Vec<Request> {
    built
        .into_iter()
        .filter_map(|b| match b {
            Built::Request(r) => Some(r),
            Built::Invalid(_) => None,
        })
        .collect()
}

#[test]
fn one_request_per_record_with_headers_in_order() {
    let dest = destination(
        "headers = { \"X-Source\" = \"crm-{record.id}\" }\nexclude = [\"secret_note\", \"nested.drop\"]",
    );
    let plan = Plan::new(&dest, "https://api.aircall.io/").unwrap();
    let built = build_all(
        &plan,
        [record(
            1,
            json!({"id": 7, "name": "a", "secret_note": "x", "nested": {"drop": 1, "keep": 2}}),
        )],
    );
    let [Built::Request(request)] = built.as_slice() else {
        panic!("{built:?}")
    };
    assert_eq!(request.url, "https://api.aircall.io/v1/contacts");
    assert_eq!(
        request.body.as_deref(),
        Some(r#"{"id":7,"name":"a","nested":{"keep":2}}"#)
    );
    assert_eq!(
        request.headers,
        vec![
            ("Accept".to_string(), "application/json".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
            ("X-Source".to_string(), "crm-7".to_string()),
        ]
    );
    let preview = request.preview_json(Some(AuthKind::Basic));
    assert_eq!(preview["headers"]["Authorization"], "Basic •••");
    assert_eq!(preview["records"], json!([1]));
}

#[test]
fn delete_requests_carry_no_body() {
    let dest = destination("").clone();
    let mut dest = dest;
    dest.request.method = Method::Delete;
    dest.request.url = "/v1/contacts/{record.id}".into();
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let built = requests(build_all(&plan, [record(1, json!({"id": "a/b"}))]));
    assert_eq!(built[0].url, "https://api.aircall.io/v1/contacts/a%2Fb");
    assert_eq!(built[0].body, None);
    // Aircall asks for the JSON Content-Type on every POST, PUT and DELETE, bodies or not.
    assert!(
        built[0]
            .headers
            .contains(&("Content-Type".to_string(), "application/json".to_string()))
    );
    dest.request.content_type_without_body = false;
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let built = requests(build_all(&plan, [record(1, json!({"id": "a"}))]));
    assert!(!built[0].headers.iter().any(|(k, _)| k == "Content-Type"));
    dest.request.method = Method::Get;
    dest.request.content_type_without_body = true;
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let built = requests(build_all(&plan, [record(1, json!({"id": "a"}))]));
    assert!(!built[0].headers.iter().any(|(k, _)| k == "Content-Type"));
}

#[test]
fn credentials_stay_with_their_own_origin() {
    let mut dest = destination("");
    dest.request.url = "https://hooks.example.com/in".into();
    let plan = Plan::new(&dest, "https://api.aircall.io").unwrap();
    assert!(!plan.sends_credential());
    assert!(plan.warnings()[0].contains("without the credential"));
    dest.request.allow_credential_hosts = vec!["hooks.example.com".into()];
    assert!(
        Plan::new(&dest, "https://api.aircall.io")
            .unwrap()
            .sends_credential()
    );
    dest.request.url = "http://hooks.example.com/in".into();
    assert!(
        Plan::new(&dest, "https://api.aircall.io")
            .unwrap_err()
            .to_string()
            .contains("plain http")
    );
    dest.request.url = "/v1/ping".into();
    assert!(
        Plan::new(&dest, "http://127.0.0.1:9000")
            .unwrap()
            .sends_credential()
    );
}

#[test]
fn invalid_records_carry_their_number_line_and_reason() {
    let mut dest = destination("");
    dest.request.url = "/v1/contacts/{record.id}".into();
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let unreadable = Err(RecordError {
        no: RecordNo(2),
        line: 3,
        message: "malformed JSON".into(),
    });
    let built = build_all(&plan, [record(1, json!({"name": "x"})), unreadable]);
    assert_eq!(
        built,
        vec![
            Built::Invalid(Invalid {
                record: RecordNo(1),
                line: 1,
                reason: "attribute `id` is missing (used as {record.id})".into()
            }),
            Built::Invalid(Invalid {
                record: RecordNo(2),
                line: 3,
                reason: "malformed JSON".into()
            }),
        ]
    );
}

#[test]
fn template_mode_checks_required_fields_before_sending() {
    let text = r#"version = 1
name = "contacts"
credential = "c"
[source]
path = "x.csv"
[template]
id = "create_records"
resource = "contacts"
[request]
method = "POST"
url = "/v1/contacts"
[[mapping]]
target = "phone_numbers[0].label"
value = "Work"
[[mapping]]
target = "phone_numbers[0].value"
from = "Phone"
transform = "e164"
"#;
    let dest = Destination::from_toml(text, "t.toml").unwrap();
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let built = build_all(
        &plan,
        [
            record(1, json!({"Phone": "(818)877-7517"})),
            record(2, json!({"Phone": "12"})),
        ],
    );
    let Built::Request(ok) = &built[0] else {
        panic!()
    };
    assert_eq!(
        ok.body.as_deref(),
        Some(r#"{"phone_numbers":[{"label":"Work","value":"+18188777517"}]}"#)
    );
    let Built::Invalid(bad) = &built[1] else {
        panic!()
    };
    assert_eq!(bad.record, RecordNo(2));
    assert!(
        bad.reason.contains("phone_numbers[0].value"),
        "{}",
        bad.reason
    );
}

#[test]
fn xml_and_form_bodies_get_their_content_type() {
    for (format, content_type, body) in [
        (
            ContentFormat::Xml,
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record><a>x&amp;y</a></record>",
        ),
        (
            ContentFormat::Form,
            "application/x-www-form-urlencoded",
            "a=x%26y",
        ),
    ] {
        let mut dest = destination("");
        dest.request.content_format = format;
        let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
        let request = &requests(build_all(&plan, [record(1, json!({"a": "x&y"}))]))[0];
        assert_eq!(request.body.as_deref(), Some(body));
        assert!(
            request
                .headers
                .contains(&("Content-Type".to_string(), content_type.to_string()))
        );
    }
}

fn batched(algorithm: Algorithm, max_records: usize, max_bytes: usize) -> Destination {
    let mut dest = destination("");
    dest.batching.enabled = true;
    dest.batching.algorithm = algorithm;
    dest.batching.max_records = max_records;
    dest.batching.max_bytes = max_bytes;
    dest
}

#[test]
fn array_and_wrap_batches() {
    let records = || (1..=5).map(|i| record(i, json!({"n": i})));
    let plan = Plan::new(&batched(Algorithm::Array, 2, 1000), DEFAULT_BASE_URL).unwrap();
    let bodies: Vec<_> = requests(build_all(&plan, records()))
        .into_iter()
        .map(|r| (r.body.unwrap(), r.records))
        .collect();
    assert_eq!(
        bodies,
        vec![
            (
                r#"[{"n":1},{"n":2}]"#.to_string(),
                vec![RecordNo(1), RecordNo(2)]
            ),
            (
                r#"[{"n":3},{"n":4}]"#.to_string(),
                vec![RecordNo(3), RecordNo(4)]
            ),
            (r#"[{"n":5}]"#.to_string(), vec![RecordNo(5)]),
        ]
    );
    let plan = Plan::new(&batched(Algorithm::Wrap, 10, 1000), DEFAULT_BASE_URL).unwrap();
    let request = &requests(build_all(&plan, records()))[0];
    assert_eq!(
        request.body.as_deref(),
        Some(r#"{"items":[{"n":1},{"n":2},{"n":3},{"n":4},{"n":5}]}"#)
    );
}

#[test]
fn group_by_with_pluck_puts_the_group_in_the_url() {
    let mut dest = batched(Algorithm::GroupBy, 100, 10_000);
    dest.request.url = "/v1/users/{record.user_id}/dialer_campaign/phone_numbers".into();
    dest.batching.group_by = Some("user_id".into());
    dest.batching.group_shape = GroupShape::Wrap;
    dest.batching.wrap_key = "phone_numbers".into();
    dest.batching.pluck = Some("phone".into());
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let input = [
        (1, 10, "+33100000001"),
        (2, 20, "+33100000002"),
        (3, 10, "+33100000003"),
    ];
    let built = requests(build_all(
        &plan,
        input.map(|(no, user, phone)| record(no, json!({"user_id": user, "phone": phone}))),
    ));
    let summary: Vec<_> = built
        .iter()
        .map(|r| (r.url.as_str(), r.body.as_deref().unwrap(), r.records.len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "https://api.aircall.io/v1/users/10/dialer_campaign/phone_numbers",
                r#"{"phone_numbers":["+33100000001","+33100000003"]}"#,
                2
            ),
            (
                "https://api.aircall.io/v1/users/20/dialer_campaign/phone_numbers",
                r#"{"phone_numbers":["+33100000002"]}"#,
                1
            ),
        ]
    );
}

#[test]
fn a_record_bigger_than_max_bytes_is_invalid_not_dropped() {
    let plan = Plan::new(&batched(Algorithm::Array, 10, 20), DEFAULT_BASE_URL).unwrap();
    let built = build_all(
        &plan,
        [
            record(1, json!({"n": 1})),
            record(2, json!({"long": "x".repeat(50)})),
        ],
    );
    assert!(
        matches!(&built[0], Built::Invalid(i) if i.record == RecordNo(2) && i.reason.contains("max_bytes"))
    );
    assert!(matches!(&built[1], Built::Request(r) if r.records == vec![RecordNo(1)]));
}

proptest! {
    #[test]
    fn batches_respect_limits_and_account_for_every_record(
        sizes in proptest::collection::vec(0usize..60, 0..80),
        max_records in 1usize..8,
        max_bytes in 20usize..300,
        wrap in any::<bool>(),
    ) {
        let algorithm = if wrap { Algorithm::Wrap } else { Algorithm::Array };
        let plan = Plan::new(&batched(algorithm, max_records, max_bytes), DEFAULT_BASE_URL).unwrap();
        let input: Vec<_> = sizes.iter().enumerate().map(|(i, n)| record(i as u64 + 1, json!({"v": "x".repeat(*n)}))).collect();
        let built = build_all(&plan, input);
        let mut seen = Vec::new();
        for item in &built {
            match item {
                Built::Request(r) => {
                    let body = r.body.as_ref().unwrap();
                    prop_assert!(body.len() <= max_bytes, "{} > {}", body.len(), max_bytes);
                    prop_assert!(r.records.len() <= max_records);
                    let parsed: Value = serde_json::from_str(body).unwrap();
                    let items = if wrap { parsed["items"].as_array().unwrap().len() } else { parsed.as_array().unwrap().len() };
                    prop_assert_eq!(items, r.records.len());
                    seen.extend(r.records.iter().copied());
                }
                Built::Invalid(i) => seen.push(i.record),
            }
        }
        seen.sort();
        let expected: Vec<_> = (1..=sizes.len() as u64).map(RecordNo).collect();
        prop_assert_eq!(seen, expected);
    }
}

#[test]
fn exclusion_applies_to_input_attributes_before_the_mapping() {
    let dest = destination(
        "exclude = [\"Email\", \"Notes\"]\n\
         [[mapping]]\ntarget = \"first_name\"\nfrom = \"Name\"\n\
         [[mapping]]\ntarget = \"emails[0].value\"\nfrom = \"Email\"\n\
         [[mapping]]\ntarget = \"emails[0].label\"\nvalue = \"Work\"\nif_present = \"Email\"\n",
    );
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    assert!(
        plan.warnings()
            .iter()
            .any(|w| w.contains("`Email` is excluded") && w.contains("`emails[0].value`")),
        "{:?}",
        plan.warnings()
    );
    let built = requests(build_all(
        &plan,
        [record(
            1,
            json!({"Name": "Ada", "Email": "ada@example.com", "Notes": "x"}),
        )],
    ));
    assert_eq!(built[0].body.as_deref(), Some(r#"{"first_name":"Ada"}"#));
    // `Notes` is read by nothing: excluding it changes nothing, and validate says so.
    let notes = plan.ineffective_exclusions(None);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("`Notes` changes nothing"), "{notes:?}");
    let attributes = vec!["Name".to_string(), "Email".to_string(), "Note".to_string()];
    let notes = plan.ineffective_exclusions(Some(&attributes));
    assert!(
        notes[0].contains("no attribute `Notes` (did you mean `Note`?)"),
        "{notes:?}"
    );
}

#[test]
fn optional_values_that_fail_are_left_out_and_counted_on_the_request() {
    let dest = destination(
        "[[mapping]]\ntarget = \"phone_numbers[0].value\"\nfrom = \"p1\"\ntransform = \"e164\"\n\
         [[mapping]]\ntarget = \"phone_numbers[1].label\"\nvalue = \"Other\"\nif_present = \"p2\"\n\
         [[mapping]]\ntarget = \"phone_numbers[1].value\"\nfrom = \"p2\"\ntransform = \"e164\"\noptional = true\n\
         [batching]\nenabled = true\nmax_records = 2\n",
    );
    let plan = Plan::new(&dest, DEFAULT_BASE_URL).unwrap();
    let built = build_all(
        &plan,
        [
            record(1, json!({"p1": "(818)877-7517", "p2": "12"})),
            record(2, json!({"p1": "12", "p2": "(818)877-7517"})),
            record(3, json!({"p1": "6618384328", "p2": "323-571-0575"})),
        ],
    );
    let reqs = requests(built.clone());
    assert_eq!(
        reqs[0].body.as_deref(),
        Some(
            r#"[{"phone_numbers":[{"value":"+18188777517"}]},{"phone_numbers":[{"value":"+16618384328"},{"label":"Other","value":"+13235710575"}]}]"#
        )
    );
    assert_eq!(reqs[0].warnings.len(), 1);
    assert_eq!(reqs[0].warnings[0].record, RecordNo(1));
    assert!(
        built
            .iter()
            .any(|b| matches!(b, Built::Invalid(i) if i.record == RecordNo(2)))
    );
}

#[test]
fn plan_errors_carry_the_key_they_come_from() {
    let mut dest = destination("");
    dest.request
        .headers
        .insert("X-Bad".into(), toml::Value::String("{oops".into()));
    let err = Plan::new(&dest, DEFAULT_BASE_URL).unwrap_err();
    assert_eq!(err.path, ["request", "headers", "X-Bad"]);
    assert!(
        err.to_string().starts_with("request.headers.X-Bad: "),
        "{err}"
    );
    let mut dest = destination("[[mapping]]\ntarget = \"a\"\nfrom = \"b\"\n");
    dest.mapping[0].default_country = Some("QQ".into());
    let err = Plan::new(&dest, DEFAULT_BASE_URL).unwrap_err();
    assert_eq!(err.key(), "mapping[0].default_country");
}
