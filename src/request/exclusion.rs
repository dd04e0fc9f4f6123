//! Exclude Attributes: which input attributes never reach a body, and which exclusions change
//! nothing (so `validate` and the wizard can say so).
//!
//! Exclusion applies to the input record before the mapping reads it, so excluding a mapped
//! source drops the mapped field. Paths are dotted (`user.email`); excluding an object excludes
//! everything under it.

use super::mapping::Entry;

/// Whether `attribute` is `excluded` or lies under it (`user.email` under `user`).
pub fn covers(excluded: &str, attribute: &str) -> bool {
    attribute == excluded
        || attribute
            .strip_prefix(excluded)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Splits mapping entries into those kept and, as (target, source), those whose source
/// attribute is excluded: their field is left out of every body rather than reported missing.
/// When such a field sits in an array element (`emails[0].value`), the entries filling the rest
/// of that element (its `label`) go too, so no half element is sent.
pub fn split_mapping(
    entries: Vec<Entry>,
    exclude: &[String],
) -> (Vec<Entry>, Vec<(String, String)>) {
    let excluded = |entry: &Entry| {
        entry
            .source_attribute()
            .is_some_and(|source| exclude.iter().any(|e| covers(e, source)))
    };
    let gone: Vec<Vec<super::path::Step>> = entries
        .iter()
        .filter(|entry| excluded(entry))
        .map(|entry| entry.element().to_vec())
        .collect();
    let mut kept = Vec::with_capacity(entries.len());
    let mut dropped = Vec::new();
    for entry in entries {
        if excluded(&entry) {
            let source = entry.source_attribute().unwrap_or_default().to_string();
            dropped.push((entry.target().to_string(), source));
        } else if !gone
            .iter()
            .any(|element| entry.steps().starts_with(element))
        {
            kept.push(entry);
        }
    }
    (kept, dropped)
}

/// The exclusions that change nothing, each with the reason.
pub fn ineffective(
    exclude: &[String],
    sends_body: bool,
    mapping: Option<&[Entry]>,
    dropped: &[(String, String)],
    attributes: Option<&[String]>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for excluded in exclude {
        if !sends_body {
            notes.push(format!(
                "excluding `{excluded}` changes nothing: these requests carry no body"
            ));
            continue;
        }
        if let Some(attributes) = attributes
            && !attributes.iter().any(|a| covers(excluded, a))
        {
            notes.push(format!(
                "excluding `{excluded}` changes nothing: the input has no attribute `{excluded}`{}",
                super::suggest::did_you_mean(excluded, attributes)
            ));
            continue;
        }
        if let Some(entries) = mapping {
            let read_by_mapping = dropped.iter().any(|(_, source)| covers(excluded, source))
                || entries
                    .iter()
                    .filter_map(Entry::condition)
                    .any(|condition| covers(excluded, condition));
            if !read_by_mapping {
                notes.push(format!(
                    "excluding `{excluded}` changes nothing: the body is built from the field \
                     mapping, which does not read `{excluded}`"
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excluded_object_covers_its_members_only() {
        assert!(covers("user", "user"));
        assert!(covers("user", "user.email"));
        assert!(!covers("user", "username"));
        assert!(!covers("user.email", "user"));
    }
}
