//! The dataset's health as the wizard sees it: how many of the sample records the request
//! builder refuses, and which required fields nothing sets. Shown on step 1, checked at Save.

use super::*;

/// What is wrong with the data the destination would send, from the sample pane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataHealth {
    /// Records of the sample pane (those in its requests and those refused).
    pub sample_records: usize,
    /// Records of the sample pane the request builder refused.
    pub invalid: usize,
    /// The reason the first refused record gave.
    pub first_reason: Option<String>,
    /// Required fields of the template's resource that no mapping entry sets.
    pub unset_required: Vec<String>,
}

impl DataHealth {
    /// Every sample record is refused: the run would deliver nothing.
    pub fn all_invalid(&self) -> bool {
        self.sample_records > 0 && self.invalid == self.sample_records
    }

    /// Why saving this destination deserves a second look, if it does.
    pub fn save_warning(&self) -> Option<String> {
        let mut problems = Vec::new();
        if self.all_invalid() {
            problems.push(format!(
                "every sample record is invalid ({})",
                self.first_reason.as_deref().unwrap_or("no reason given")
            ));
        }
        if !self.unset_required.is_empty() {
            problems.push(format!(
                "required field{} not mapped: {}",
                if self.unset_required.len() == 1 {
                    ""
                } else {
                    "s"
                },
                self.unset_required.join(", ")
            ));
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

impl Model {
    /// The health of the data as the sample pane and the mapping show it now.
    pub fn data_health(&self) -> DataHealth {
        let mut health = DataHealth::default();
        for sample in &self.pane.samples {
            match sample {
                Sample::Request { request, .. } => health.sample_records += request.records.len(),
                Sample::Invalid { reason, .. } => {
                    health.sample_records += 1;
                    health.invalid += 1;
                    if health.first_reason.is_none() {
                        health.first_reason = Some(reason.clone());
                    }
                }
            }
        }
        health.unset_required = self
            .configure
            .mapping
            .iter()
            .filter(|row| row.required && !row.is_set() && row.sub_entries == 0)
            .map(|row| row.target.clone())
            .collect();
        health
    }
}
