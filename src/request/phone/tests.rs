//! The `e164` transform against libphonenumber's own answers (tests/data/phones, made by
//! `generate.py` there with the Python port), and the wording of refusals.

use super::*;

#[derive(serde::Deserialize)]
struct Case {
    input: String,
    country: String,
    possible: Option<String>,
    valid: Option<String>,
}

fn fixture() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/phones/expected.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("the phone fixture is committed");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("fixture lines are JSON"))
        .collect()
}

/// Agreement with libphonenumber under one check: no number it refuses or writes otherwise is
/// ever sent, and at least 99.9 % of all answers agree.
fn agrees_under(check: PhoneCheck, expected: impl Fn(&Case) -> &Option<String>) {
    let cases = fixture();
    assert!(cases.len() >= 2_000, "{} cases", cases.len());
    let mut wrong = Vec::new();
    let mut refused = 0usize;
    for case in &cases {
        let got = normalise(&case.input, &case.country, check).ok();
        let want = expected(case);
        match (&got, want) {
            (a, b) if a == b => {}
            (Some(_), _) => wrong.push(format!(
                "{:?} ({}) gave {got:?}, libphonenumber says {want:?}",
                case.input, case.country
            )),
            (None, _) => refused += 1,
        }
    }
    assert!(
        wrong.is_empty(),
        "wrong numbers sent:\n{}",
        wrong.join("\n")
    );
    let agreement = (cases.len() - refused) as f64 / cases.len() as f64;
    assert!(
        agreement >= 0.999,
        "agreement {:.4} % ({refused} good numbers refused)",
        agreement * 100.0
    );
}

#[test]
fn agrees_with_libphonenumber_on_possible_numbers() {
    agrees_under(PhoneCheck::Possible, |case| &case.possible);
}

#[test]
fn agrees_with_libphonenumber_on_valid_numbers() {
    agrees_under(PhoneCheck::Valid, |case| &case.valid);
}

#[test]
fn the_fixture_covers_many_countries_and_formats() {
    let cases = fixture();
    let countries: std::collections::HashSet<&str> =
        cases.iter().map(|c| c.country.as_str()).collect();
    assert!(countries.len() >= 30, "{} countries", countries.len());
    for needle in [
        "tel:", "ext", "(0)", "\u{2013}", "\u{ff11}", "FLOWERS", "00",
    ] {
        assert!(
            cases.iter().any(|c| c.input.contains(needle)),
            "no case holds {needle:?}"
        );
    }
}

fn possible(raw: &str, country: &str) -> Result<String, PhoneError> {
    normalise(raw, country, PhoneCheck::Possible)
}

#[test]
fn the_numbers_the_old_rules_got_wrong() {
    let cases = [
        ("+44 (0)20 7946 0958", "US", "+442079460958"),
        ("+33 (0)1 23 45 67 89", "US", "+33123456789"),
        ("tel:+1-415-555-0100", "US", "+14155550100"),
        ("415.555.0100;ext=12", "US", "+14155550100"),
        ("1-800-FLOWERS", "US", "+18003569377"),
        ("415\u{2013}555\u{2013}0100", "US", "+14155550100"),
        ("４１５５５５０１００", "US", "+14155550100"),
        ("001-367-429-8545x54065", "US", "+13674298545"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("01 23 45 67 89", "FR", "+33123456789"),
    ];
    for (raw, country, want) in cases {
        assert_eq!(possible(raw, country).as_deref(), Ok(want), "{raw}");
    }
}

#[test]
fn refusals_say_what_is_wrong() {
    let text = |raw: &str, country: &str| possible(raw, country).unwrap_err().to_string();
    assert_eq!(text(" ", "US"), "the phone number is empty");
    assert_eq!(text("call me", "US"), "\"call me\" is not a phone number");
    assert_eq!(
        text("011-512-9780", "US"),
        "\"011-512-9780\" is too short for a +51 (PE) phone number"
    );
    assert_eq!(
        text("555-0100", "US"),
        "\"555-0100\" is a local number without its area code; write the whole number (with the area code)"
    );
    assert!(text("+33 6 12 34 56 78 90", "FR").contains("too long for a +33 (FR)"));
    assert!(text("+999 123 4567", "US").contains("known country calling code"));
    assert!(text("4155550100", "ZZ").contains("unknown default country"));
    let unassigned = normalise("(023)456-7890", "US", PhoneCheck::Valid)
        .unwrap_err()
        .to_string();
    assert!(
        unassigned.contains("not in a range of numbers assigned"),
        "{unassigned}"
    );
}

#[test]
fn countries_come_from_libphonenumber() {
    assert_eq!(country_code("fr"), Some("33"));
    assert_eq!(country_code(" GB "), Some("44"));
    assert_eq!(country_code("ZZ"), None);
    assert!(countries().count() > 200);
    let first: Vec<&str> = countries().take(6).collect();
    assert_eq!(first, ["US", "CA", "PR", "GB", "IE", "FR"]);
}
