//! E.164 phone number normalisation (`+14155550100`), as Aircall wants wherever it dials or texts.
//!
//! Accepts the formats found in real exports: separators (`-`, `.`, spaces, parentheses),
//! extensions (`x123`, `ext. 123`, `#123` — dropped, since E.164 cannot carry them),
//! international prefixes (`+`, `00`, and `011` for North American defaults), national numbers
//! with or without a trunk prefix (`0…`, or `1…` in North America).

/// Countries by ISO 3166 alpha-2: (calling code, national trunk prefix).
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("US", "1", "1"),
    ("CA", "1", "1"),
    ("PR", "1", "1"),
    ("GB", "44", "0"),
    ("IE", "353", "0"),
    ("FR", "33", "0"),
    ("DE", "49", "0"),
    ("ES", "34", ""),
    ("IT", "39", ""),
    ("PT", "351", ""),
    ("NL", "31", "0"),
    ("BE", "32", "0"),
    ("LU", "352", ""),
    ("CH", "41", "0"),
    ("AT", "43", "0"),
    ("DK", "45", ""),
    ("NO", "47", ""),
    ("SE", "46", "0"),
    ("FI", "358", "0"),
    ("IS", "354", ""),
    ("PL", "48", ""),
    ("CZ", "420", ""),
    ("SK", "421", ""),
    ("HU", "36", "06"),
    ("RO", "40", "0"),
    ("BG", "359", "0"),
    ("GR", "30", ""),
    ("HR", "385", "0"),
    ("SI", "386", "0"),
    ("RS", "381", "0"),
    ("UA", "380", "0"),
    ("TR", "90", "0"),
    ("IL", "972", "0"),
    ("AE", "971", "0"),
    ("SA", "966", "0"),
    ("EG", "20", "0"),
    ("MA", "212", "0"),
    ("ZA", "27", "0"),
    ("NG", "234", "0"),
    ("KE", "254", "0"),
    ("IN", "91", "0"),
    ("PK", "92", "0"),
    ("BD", "880", "0"),
    ("CN", "86", "0"),
    ("HK", "852", ""),
    ("TW", "886", "0"),
    ("JP", "81", "0"),
    ("KR", "82", "0"),
    ("SG", "65", ""),
    ("MY", "60", "0"),
    ("TH", "66", "0"),
    ("VN", "84", "0"),
    ("PH", "63", "0"),
    ("ID", "62", "0"),
    ("AU", "61", "0"),
    ("NZ", "64", "0"),
    ("MX", "52", ""),
    ("BR", "55", "0"),
    ("AR", "54", "0"),
    ("CL", "56", ""),
    ("CO", "57", ""),
    ("PE", "51", "0"),
    ("RU", "7", "8"),
    ("KZ", "7", "8"),
];

/// Every assigned country calling code (ITU-T E.164), used to check international numbers.
const CALLING_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "211",
    "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228",
    "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241",
    "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252", "253", "254",
    "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266", "267", "268",
    "269", "290", "291", "297", "298", "299", "350", "351", "352", "353", "354", "355", "356",
    "357", "358", "359", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379",
    "380", "381", "382", "383", "385", "386", "387", "389", "420", "421", "423", "500", "501",
    "502", "503", "504", "505", "506", "507", "508", "509", "590", "591", "592", "593", "594",
    "595", "596", "597", "598", "599", "670", "672", "673", "674", "675", "676", "677", "678",
    "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691", "692",
    "800", "808", "850", "852", "853", "855", "856", "870", "878", "880", "881", "882", "883",
    "886", "888", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970", "971",
    "972", "973", "974", "975", "976", "977", "979", "992", "993", "994", "995", "996", "998",
];

/// The calling code of an ISO 3166 alpha-2 country this module knows.
pub fn country_code(iso: &str) -> Option<&'static str> {
    country(iso).map(|(_, code, _)| *code)
}

/// The countries accepted as `default_country`, for help texts and the wizard.
pub fn countries() -> impl Iterator<Item = &'static str> {
    COUNTRIES.iter().map(|(iso, _, _)| *iso)
}

fn country(iso: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    COUNTRIES
        .iter()
        .find(|(code, _, _)| code.eq_ignore_ascii_case(iso.trim()))
}

/// Normalises `raw` to E.164, reading numbers without an international prefix as numbers of
/// `default_country`. The error says what is wrong with the number.
pub fn normalise(raw: &str, default_country: &str) -> Result<String, String> {
    let (_, home_code, trunk) = country(default_country)
        .ok_or_else(|| format!("unknown default country {default_country:?}"))?;
    let text = strip_extension(raw.trim());
    if text.is_empty() {
        return Err("the phone number is empty".into());
    }
    let (plus, body) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(body.len());
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            other => {
                return Err(format!(
                    "{raw:?} holds {other:?}, which is not part of a phone number"
                ));
            }
        }
    }
    if digits.is_empty() {
        return Err(format!("{raw:?} holds no digits"));
    }
    let international = if plus {
        Some(digits.as_str())
    } else if let Some(rest) = digits.strip_prefix("00") {
        Some(rest)
    } else if *home_code == "1" {
        digits.strip_prefix("011")
    } else {
        None
    };
    let e164 = match international {
        Some(number) => number.to_string(),
        None => {
            let national = if !trunk.is_empty() && digits.len() > 7 {
                digits.strip_prefix(trunk).unwrap_or(&digits)
            } else {
                &digits
            };
            if *home_code == "1" && national.len() != 10 {
                return Err(format!(
                    "{raw:?} is not a North American number: expected 10 digits (or 11 starting with 1)"
                ));
            }
            format!("{home_code}{national}")
        }
    };
    check(&e164, raw)?;
    Ok(format!("+{e164}"))
}

fn strip_extension(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    for marker in ["extension", "ext.", "ext", "x", "#"] {
        if let Some(at) = lower.rfind(marker) {
            let tail = text[at + marker.len()..].trim();
            if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) && at > 0 {
                return text[..at].trim_end_matches([' ', ',', ';']);
            }
        }
    }
    text
}

fn check(e164: &str, raw: &str) -> Result<(), String> {
    if !(7..=15).contains(&e164.len()) {
        return Err(format!(
            "{raw:?} gives {} digits; an E.164 number has 7 to 15",
            e164.len()
        ));
    }
    let code = (1..=3)
        .map(|n| &e164[..n])
        .find(|prefix| CALLING_CODES.contains(prefix))
        .ok_or_else(|| format!("{raw:?} does not start with a known country calling code"))?;
    if code == "1" {
        let national = &e164[1..];
        if national.len() != 10 {
            return Err(format!(
                "{raw:?}: a North American number has 10 digits after +1"
            ));
        }
        let bytes = national.as_bytes();
        if bytes[0] < b'2' || bytes[3] < b'2' {
            return Err(format!(
                "{raw:?}: North American area codes and exchanges cannot start with 0 or 1"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_the_messy_formats_of_the_sample_data() {
        let cases = [
            ("+1-940-986-3836x4639", "+19409863836"),
            ("323-571-0575", "+13235710575"),
            ("(818)877-7517", "+18188777517"),
            ("634.731.3884x537", "+16347313884"),
            ("6618384328", "+16618384328"),
            ("001-367-429-8545x54065", "+13674298545"),
            ("1 (415) 555-0100", "+14155550100"),
            ("011 44 20 7946 0958", "+442079460958"),
            ("+33 1 23 45 67 89", "+33123456789"),
            ("415-555-0100 ext. 12", "+14155550100"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise(raw, "US").as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn national_numbers_use_the_default_country_and_its_trunk_prefix() {
        assert_eq!(
            normalise("01 23 45 67 89", "FR").as_deref(),
            Ok("+33123456789")
        );
        assert_eq!(
            normalise("020 7946 0958", "gb").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            normalise("0044 20 7946 0958", "FR").as_deref(),
            Ok("+442079460958")
        );
    }

    #[test]
    fn impossible_numbers_are_errors_that_say_why() {
        assert!(normalise("", "US").unwrap_err().contains("empty"));
        assert!(
            normalise("call me", "US")
                .unwrap_err()
                .contains("not part of a phone number")
        );
        assert!(
            normalise("555-0100", "US")
                .unwrap_err()
                .contains("10 digits")
        );
        assert!(
            normalise("(023)456-7890", "US")
                .unwrap_err()
                .contains("cannot start with 0 or 1")
        );
        assert!(
            normalise("+999 123 4567", "US")
                .unwrap_err()
                .contains("calling code")
        );
        assert!(normalise("+1234567890123456", "US").is_err());
        assert!(
            normalise("4155550100", "ZZ")
                .unwrap_err()
                .contains("unknown default country")
        );
    }

    #[test]
    fn every_default_country_has_a_known_calling_code() {
        for (iso, code, _) in COUNTRIES {
            assert!(CALLING_CODES.contains(code), "{iso} -> {code}");
        }
    }
}
