//! Where a contact's phone numbers come from, so each number is parsed once per row.
//!
//! A mapping that fills every `phone_numbers[..].value` through the `e164` transform has already
//! parsed each number into E.164. For North American numbers (`+1` and ten digits) comparing
//! such a value needs no second parse: the comparison's full normalisation gives the same text
//! back (the tests below check this on the sync fixture's numbers and on every number of
//! `tests/data/phones`). Other numbers are parsed again, as before.

use crate::destination::{Destination, Transform};

use super::shape::phone_key;

/// How the phone numbers of a mapped body were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhoneForm {
    /// Anything: each number is normalised in full.
    #[default]
    Any,
    /// Every number is the output of the `e164` transform.
    E164,
}

impl PhoneForm {
    /// `E164` when `destination`'s mapping writes phone numbers only through `e164` entries
    /// that read an attribute; `Any` otherwise (no mapping, a constant, a whole `phone_numbers`
    /// list or entry, or a value without the transform).
    pub fn of(destination: &Destination) -> PhoneForm {
        let mut through_e164 = false;
        for entry in &destination.mapping {
            let Some(rest) = entry.target.strip_prefix("phone_numbers") else {
                continue;
            };
            if rest.ends_with(".label") {
                continue;
            }
            if rest.ends_with(".value")
                && entry.transform == Transform::E164
                && entry.from.is_some()
            {
                through_e164 = true;
            } else {
                return PhoneForm::Any;
            }
        }
        if through_e164 {
            PhoneForm::E164
        } else {
            PhoneForm::Any
        }
    }

    /// The compared form of `value`, a phone number of a body written as `self` says.
    pub fn key(self, value: &str) -> String {
        match self {
            PhoneForm::E164 if is_e164_text(value) => value.to_string(),
            _ => phone_key(value),
        }
    }
}

/// A North American number as E.164 writes it: `+1`, then ten digits whose first is 2–9. Its
/// full parse reads the same ten digits back (no national prefix to strip, one possible length),
/// so the full normalisation returns it unchanged. Other countries are left to the full parse:
/// there the transform's text is not always stable (`+490084046` parses back as `+49084046`).
fn is_e164_text(value: &str) -> bool {
    value.strip_prefix("+1").is_some_and(|digits| {
        digits.len() == 10
            && digits.bytes().all(|b| b.is_ascii_digit())
            && matches!(digits.as_bytes()[0], b'2'..=b'9')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::PhoneCheck;
    use crate::request::phone;

    /// The fast path and the full normalisation agree on what the transform wrote from `raw`.
    fn agree(raw: &str, country: &str, check: PhoneCheck) -> Option<String> {
        let written = phone::normalise(raw, country, check).ok()?;
        assert_eq!(
            PhoneForm::E164.key(&written),
            phone_key(&written),
            "{raw} ({country}, {check:?}) written as {written}"
        );
        Some(written)
    }

    #[test]
    fn the_fixtures_numbers_compare_the_same_on_the_fast_path() {
        let rows = super::super::fixture::day1(20_000).chain(super::super::fixture::day2(1000));
        let mut checked = 0;
        for row in rows {
            let line = super::super::fixture::csv_line(&row);
            let raw = line.split(',').nth(3).expect("phone column");
            assert_eq!(
                agree(raw, "US", PhoneCheck::Possible).as_deref(),
                Some(row.phone.as_str())
            );
            checked += 1;
        }
        assert_eq!(checked, 21_005);
    }

    #[test]
    fn every_number_of_the_phone_corpus_compares_the_same_on_the_fast_path() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/phones/expected.jsonl"
        );
        let text = std::fs::read_to_string(path).expect("tests/data/phones/expected.jsonl");
        let (mut written, mut fast) = (0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: serde_json::Value = serde_json::from_str(line).expect("one JSON case");
            let raw = case["input"].as_str().expect("input");
            let country = case["country"].as_str().expect("country");
            for (check, expected) in [
                (PhoneCheck::Possible, &case["possible"]),
                (PhoneCheck::Valid, &case["valid"]),
            ] {
                let got = agree(raw, country, check);
                if let Some(number) = &got {
                    written += 1;
                    fast += usize::from(is_e164_text(number));
                    assert_eq!(Some(number.as_str()), expected.as_str(), "{line}");
                }
            }
        }
        assert!(written > 10_000, "only {written} numbers written");
        assert!(fast > 1_000, "only {fast} numbers on the fast path");
    }

    #[test]
    fn numbers_not_written_by_the_transform_are_parsed_in_full() {
        assert_eq!(PhoneForm::E164.key("+1 415-500-0003"), "+14155000003");
        assert_eq!(PhoneForm::E164.key("(415) 500-0003"), "+14155000003");
        assert_eq!(PhoneForm::Any.key("+14155000003"), "+14155000003");
        assert!(!is_e164_text("+0123"));
        assert!(!is_e164_text("+"));
        assert!(!is_e164_text("+1 4155000003"));
        assert!(!is_e164_text("14155000003"));
        assert!(!is_e164_text("+11155000003"));
        assert!(!is_e164_text("+141550000031"));
        assert!(!is_e164_text("+490084046"));
        assert!(is_e164_text("+14155000003"));
    }

    #[test]
    fn only_a_mapping_of_every_number_through_e164_trusts_the_numbers() {
        let text = super::super::fixture::destination("", "key = \"Customer Id\"", "");
        let destination: Destination = toml::from_str(&text).expect("fixture destination");
        assert_eq!(PhoneForm::of(&destination), PhoneForm::E164);
        let mut plain = destination.clone();
        for entry in &mut plain.mapping {
            entry.transform = Transform::None;
        }
        assert_eq!(PhoneForm::of(&plain), PhoneForm::Any);
        let mut none = destination;
        none.mapping.clear();
        assert_eq!(PhoneForm::of(&none), PhoneForm::Any);
    }
}
