//! The one request builder: turns (destination, records) into the exact HTTP requests to send.

pub mod phone;

/// Checks a URL template's macros.
pub fn check_url_template(_url: &str) -> Result<(), String> {
    Ok(())
}

/// Checks a header name and value template.
pub fn check_header(_name: &str, _value: &str) -> Result<(), String> {
    Ok(())
}

/// Checks a mapping target path.
pub fn check_target_path(_path: &str) -> Result<(), String> {
    Ok(())
}
