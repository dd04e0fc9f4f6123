//! Phone numbers to E.164 through `rlibphonenumber`, a Rust port of Google's libphonenumber.
//!
//! A value is parsed the way libphonenumber parses it (national numbers read with the mapping's
//! `default_country`, `tel:` URIs, extensions, vanity letters, any dash, full-width digits) and
//! accepted when it passes the entry's [`PhoneCheck`]. A value that starts with `00` and is
//! refused that way is read once more with `00` as the international prefix, as most of the
//! world dials it (`0044 20 7946 0958` in a US export). Refusals say, in words a person uses,
//! what is wrong with the number.

use std::sync::OnceLock;

use rlibphonenumber::enums::Region;
use rlibphonenumber::{
    NumberLengthType, ParseError, PhoneNumber, PhoneNumberFormat, ValidationError,
};

pub use crate::destination::PhoneCheck;

/// Why a value cannot be sent as a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error(
        "unknown default country {0:?}: expected an ISO 3166 alpha-2 code such as US, GB or FR"
    )]
    UnknownCountry(String),
    #[error("the phone number is empty")]
    Empty,
    #[error("{0:?} is not a phone number")]
    NotANumber(String),
    #[error("{0:?} does not start with a known country calling code")]
    InvalidCountryCode(String),
    #[error("{raw:?} is too short for a {place} phone number")]
    TooShort { raw: String, place: String },
    #[error("{raw:?} is too long for a {place} phone number")]
    TooLong { raw: String, place: String },
    #[error("{raw:?} has a number of digits no {place} phone number has")]
    InvalidLength { raw: String, place: String },
    #[error(
        "{raw:?} is a local number without its area code; write the whole number (with the area code)"
    )]
    LocalOnly { raw: String },
    #[error(
        "{raw:?} is not in a range of numbers assigned in {place} (phone_check = `valid`; `possible` accepts it)"
    )]
    NotAssigned { raw: String, place: String },
}

/// One supported country: ISO code and calling code, e.g. (`FR`, `33`).
struct Country {
    iso: String,
    code: String,
}

/// Listed first, in this order.
const FIRST: &[&str] = &[
    "US", "CA", "PR", "GB", "IE", "FR", "DE", "ES", "IT", "PT", "NL", "BE", "LU", "CH", "AT", "DK",
    "NO", "SE", "FI", "IS", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "HR", "SI", "RS", "UA", "TR",
    "IL", "AE", "SA", "EG", "MA", "ZA", "NG", "KE", "IN", "PK", "BD", "CN", "HK", "TW", "JP", "KR",
    "SG", "MY", "TH", "VN", "PH", "ID", "AU", "NZ", "MX", "BR", "AR", "CL", "CO", "PE", "RU", "KZ",
];

fn table() -> &'static [Country] {
    static TABLE: OnceLock<Vec<Country>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let util = &*rlibphonenumber::PHONE_NUMBER_UTIL;
        let mut countries: Vec<Country> = util
            .get_supported_regions()
            .filter_map(|region| {
                let code = util.get_country_code_for_region(region)?;
                Some(Country {
                    iso: region.as_region_str().as_str().to_string(),
                    code: code.to_string(),
                })
            })
            .collect();
        // The countries exports come from most often first (the wizard's list jumps to the first
        // one starting with a typed letter), then every other one alphabetically.
        let rank = |iso: &str| FIRST.iter().position(|f| *f == iso).unwrap_or(FIRST.len());
        countries.sort_by(|a, b| (rank(&a.iso), &a.iso).cmp(&(rank(&b.iso), &b.iso)));
        countries
    })
}

/// The calling code of an ISO 3166 alpha-2 country libphonenumber knows (`FR` → `33`).
pub fn country_code(iso: &str) -> Option<&'static str> {
    let iso = iso.trim();
    table()
        .iter()
        .find(|c| c.iso.eq_ignore_ascii_case(iso))
        .map(|c| c.code.as_str())
}

/// The countries accepted as `default_country`, for help texts and the wizard.
pub fn countries() -> impl Iterator<Item = &'static str> {
    table().iter().map(|c| c.iso.as_str())
}

fn region(iso: &str) -> Result<Region, PhoneError> {
    country_code(iso)
        .and_then(|_| Region::from_code(&iso.trim().to_ascii_uppercase()).ok())
        .ok_or_else(|| PhoneError::UnknownCountry(iso.to_string()))
}

/// Normalises `raw` to E.164, reading numbers without an international prefix as numbers of
/// `default_country`, and refusing what does not pass `check`.
pub fn normalise(
    raw: &str,
    default_country: &str,
    check: PhoneCheck,
) -> Result<String, PhoneError> {
    let region = region(default_country)?;
    let text = raw.trim();
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let first = accept(text, raw, region, check);
    if first.is_ok() {
        return first;
    }
    // `00` is the international prefix of most countries; a US or Canadian export can hold it too.
    match text.strip_prefix("00") {
        Some(rest) if !rest.is_empty() => match accept(&format!("+{rest}"), raw, region, check) {
            // Read as international, the number exists but is not in an assigned range: that
            // says more than "too long" for the national reading.
            Err(retry @ PhoneError::NotAssigned { .. }) => Err(retry),
            retry => retry.or(first),
        },
        _ => first,
    }
}

fn accept(text: &str, raw: &str, region: Region, check: PhoneCheck) -> Result<String, PhoneError> {
    let number = PhoneNumber::parse(text, Some(region)).map_err(|e| parse_error(e, raw, region))?;
    let e164 = || number.format_as(PhoneNumberFormat::E164).into_owned();
    // libphonenumber's "valid" stands on its own: a number in an assigned range is accepted
    // even where the country's list of possible lengths is incomplete.
    if check == PhoneCheck::Valid && number.is_valid() {
        return Ok(e164());
    }
    let place = || place_of(&number);
    match number.is_possible_with_reason() {
        Ok(NumberLengthType::IsPossible) => {}
        Ok(NumberLengthType::IsPossibleLocalOnly) => {
            return Err(PhoneError::LocalOnly { raw: raw.into() });
        }
        Err(ValidationError::InvalidCountryCode) => {
            return Err(PhoneError::InvalidCountryCode(raw.into()));
        }
        Err(ValidationError::TooShort) => {
            return Err(PhoneError::TooShort {
                raw: raw.into(),
                place: place(),
            });
        }
        Err(ValidationError::TooLong) => {
            return Err(PhoneError::TooLong {
                raw: raw.into(),
                place: place(),
            });
        }
        Err(ValidationError::InvalidLength) => {
            return Err(PhoneError::InvalidLength {
                raw: raw.into(),
                place: place(),
            });
        }
    }
    if check == PhoneCheck::Valid {
        return Err(PhoneError::NotAssigned {
            raw: raw.into(),
            place: place(),
        });
    }
    Ok(e164())
}

/// `+33` (France) style wording for messages: the calling code and, when there is one, its
/// main country.
fn place_of(number: &PhoneNumber) -> String {
    let code = number.country_code;
    let util = &*rlibphonenumber::PHONE_NUMBER_UTIL;
    match util.get_region_for_country_code(code) {
        Some(region) if region != Region::World => {
            format!("+{code} ({})", region.as_region_str().as_str())
        }
        _ => format!("+{code}"),
    }
}

fn parse_error(error: ParseError, raw: &str, region: Region) -> PhoneError {
    let raw = raw.to_string();
    let place = || {
        let code = rlibphonenumber::PHONE_NUMBER_UTIL
            .get_country_code_for_region(region)
            .unwrap_or_default();
        format!("+{code} ({})", region.as_region_str().as_str())
    };
    match error {
        ParseError::InvalidCountryCode => PhoneError::InvalidCountryCode(raw),
        ParseError::NotANumber(_) => PhoneError::NotANumber(raw),
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort {
            raw,
            place: place(),
        },
        ParseError::TooLongNsn => PhoneError::TooLong {
            raw,
            place: place(),
        },
    }
}

#[cfg(test)]
mod tests;
