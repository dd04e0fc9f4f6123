//! templates

/// Checks a destination's template reference.
pub fn check_reference(_template: &crate::destination::TemplateRef) -> Result<(), String> {
    Ok(())
}
