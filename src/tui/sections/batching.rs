//! The Batching section of the Advanced tab: several records per request. The checkbox turns
//! it on; the size and algorithm follow, and the group and wrap settings only where the
//! algorithm uses them. Each setting maps onto one key of `[batching]`.

use crate::destination::{Algorithm, Destination, GroupShape};
use crate::tui::sections::{Section, Setting};
use crate::tui::widgets::choice::ChoiceItem;

pub const ENABLED: &str = "batching.enabled";
pub const SIZE: &str = "batching.max_records";
pub const MAX_BYTES: &str = "batching.max_bytes";
pub const ALGORITHM: &str = "batching.algorithm";
pub const GROUP_BY: &str = "batching.group_by";
pub const GROUP_SHAPE: &str = "batching.group_shape";
pub const PLUCK: &str = "batching.pluck";
pub const WRAP_KEY: &str = "batching.wrap_key";

fn on(d: &Destination) -> bool {
    d.batching.enabled
}

fn grouped(d: &Destination) -> bool {
    on(d) && d.batching.algorithm == Algorithm::GroupBy
}

fn wrapped(d: &Destination) -> bool {
    on(d)
        && (d.batching.algorithm == Algorithm::Wrap
            || (d.batching.algorithm == Algorithm::GroupBy
                && d.batching.group_shape == GroupShape::Wrap))
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

pub fn section() -> Section {
    Section::new(
        "Batching",
        vec![
            Setting::toggle(ENABLED, "Batching", "send in batches", on, |d, v| {
                d.batching.enabled = v
            }),
            Setting::number(
                SIZE,
                "Batch size",
                1..=100_000,
                "records per request",
                |d| d.batching.max_records,
                |d, v| d.batching.max_records = v,
            )
            .shown_when(on),
            Setting::number(
                MAX_BYTES,
                "Max bytes",
                2..=100_000_000,
                "bytes per request body",
                |d| d.batching.max_bytes,
                |d, v| d.batching.max_bytes = v,
            )
            .shown_when(on),
            Setting::choice(
                ALGORITHM,
                "Algorithm",
                |d| d.batching.algorithm,
                |d, v| d.batching.algorithm = v,
            )
            .shown_when(on),
            Setting::text(
                GROUP_BY,
                "Group by",
                "attribute",
                |d| d.batching.group_by.clone().unwrap_or_default(),
                |d, text| {
                    d.batching.group_by = optional(text);
                    Ok(())
                },
            )
            .shown_when(grouped),
            Setting::choice(
                GROUP_SHAPE,
                "Group shape",
                |d| d.batching.group_shape,
                |d, v| d.batching.group_shape = v,
            )
            .shown_when(grouped),
            Setting::text(
                PLUCK,
                "Pluck",
                "optional attribute",
                |d| d.batching.pluck.clone().unwrap_or_default(),
                |d, text| {
                    d.batching.pluck = optional(text);
                    Ok(())
                },
            )
            .shown_when(grouped),
            Setting::text(
                WRAP_KEY,
                "Wrap key",
                "items",
                |d| d.batching.wrap_key.clone(),
                |d, text| {
                    let key = optional(text)
                        .ok_or_else(|| "expected the key that holds the array".to_string())?;
                    d.batching.wrap_key = key;
                    Ok(())
                },
            )
            .shown_when(wrapped),
        ],
    )
    .without_heading()
}

impl ChoiceItem for Algorithm {
    const ALL: &'static [Self] = &Algorithm::ALL;
    fn label(self) -> &'static str {
        self.as_str()
    }
    fn explain(self) -> &'static str {
        match self {
            Algorithm::Array => "the body is a JSON array of the batch's records",
            Algorithm::Wrap => "the body is an object holding the array under the wrap key",
            Algorithm::GroupBy => "one request per value of an attribute, its records together",
        }
    }
}

impl ChoiceItem for GroupShape {
    const ALL: &'static [Self] = &[GroupShape::Array, GroupShape::Wrap];
    fn label(self) -> &'static str {
        match self {
            GroupShape::Array => "array",
            GroupShape::Wrap => "wrap",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> Destination {
        crate::tui::model::starter_destination(std::path::Path::new("x.csv"), "c")
    }

    #[test]
    fn settings_follow_the_checkbox_and_the_algorithm() {
        let mut section = section();
        let mut dest = destination();
        section.load(&dest);
        assert_eq!(section.shown_ids(&dest).collect::<Vec<_>>(), vec![ENABLED]);
        section
            .get_mut(ENABLED)
            .unwrap()
            .checkbox_mut()
            .unwrap()
            .toggle();
        section.apply_setting(ENABLED, &mut dest).unwrap();
        assert!(dest.batching.enabled);
        assert_eq!(
            section.shown_ids(&dest).collect::<Vec<_>>(),
            vec![ENABLED, SIZE, MAX_BYTES, ALGORITHM]
        );
        let algorithm = section.get_mut(ALGORITHM).unwrap().pulldown_mut().unwrap();
        algorithm.select(2);
        section.apply_setting(ALGORITHM, &mut dest).unwrap();
        assert_eq!(dest.batching.algorithm, Algorithm::GroupBy);
        assert_eq!(
            section.shown_ids(&dest).collect::<Vec<_>>(),
            vec![
                ENABLED,
                SIZE,
                MAX_BYTES,
                ALGORITHM,
                GROUP_BY,
                GROUP_SHAPE,
                PLUCK
            ]
        );
        section
            .get_mut(GROUP_SHAPE)
            .unwrap()
            .pulldown_mut()
            .unwrap()
            .select(1);
        section.apply_setting(GROUP_SHAPE, &mut dest).unwrap();
        assert!(section.shown_ids(&dest).any(|id| id == WRAP_KEY));
    }

    #[test]
    fn a_batch_size_of_zero_is_refused() {
        let mut section = section();
        let mut dest = destination();
        dest.batching.enabled = true;
        section.load(&dest);
        let size = section.get_mut(SIZE).unwrap();
        assert_eq!(size.text_input().unwrap().value(), "100");
        size.text_input_mut().unwrap().set_value("0");
        assert!(
            section
                .apply_setting(SIZE, &mut dest)
                .unwrap_err()
                .contains("1 to 100000")
        );
        assert_eq!(dest.batching.max_records, 100);
    }
}
