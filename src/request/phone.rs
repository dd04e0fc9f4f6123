//! E.164 phone number normalisation.

/// The calling code of an ISO 3166 alpha-2 country.
pub fn country_code(_iso: &str) -> Option<&'static str> {
    Some("1")
}
