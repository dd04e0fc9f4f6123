//! Record batching: `array`, `wrap` and `group_by`, never over the batch size nor the byte limit.
//!
//! Records join a batch only when they go to the same URL with the same headers (and, for
//! `group_by`, share the group value), so a URL macro can name the group
//! (`/v1/users/{record.user_id}/dialer_campaign/phone_numbers`).

use serde_json::Value;

use super::macros::scalar_text;
use super::{Prepared, RecordWarning};
use crate::destination::{Algorithm, Batching, GroupShape};
use crate::records::get_path as lookup;
use crate::records::{Record, RecordNo};

/// How many batches may wait at once; past it the oldest is sent, so memory stays bounded
/// however many groups the input holds.
const MAX_OPEN: usize = 256;

#[derive(Debug, Clone)]
pub struct BatchSettings {
    pub max_records: usize,
    pub max_bytes: usize,
    wrap_key: Option<String>,
    group_by: Option<String>,
    pluck: Option<String>,
}

impl From<&Batching> for BatchSettings {
    fn from(b: &Batching) -> Self {
        let wraps = match b.algorithm {
            Algorithm::Array => false,
            Algorithm::Wrap => true,
            Algorithm::GroupBy => b.group_shape == GroupShape::Wrap,
        };
        let grouped = b.algorithm == Algorithm::GroupBy;
        Self {
            max_records: b.max_records.max(1),
            max_bytes: b.max_bytes,
            wrap_key: wraps.then(|| b.wrap_key.clone()),
            group_by: if grouped { b.group_by.clone() } else { None },
            pluck: if grouped { b.pluck.clone() } else { None },
        }
    }
}

impl BatchSettings {
    /// Bytes of the body around the items: `[` `]`, or `{"key":[` `]}`.
    fn framing(&self) -> usize {
        match &self.wrap_key {
            None => 2,
            Some(key) => Value::String(key.clone()).to_string().len() + 5,
        }
    }
}

/// Why a record cannot join a batch; the record is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("batching needs a request body")]
    NoBody,
    #[error("group_by attribute `{0}` is missing")]
    GroupMissing(String),
    #[error("group_by attribute `{0}` is not a single value")]
    GroupNotScalar(String),
    #[error("pluck attribute `{0}` is missing")]
    PluckMissing(String),
    #[error("the record alone makes a {bytes}-byte body, over batching.max_bytes ({max})")]
    TooLarge { bytes: usize, max: usize },
}

pub struct Batch {
    key: (String, Vec<(String, String)>, Option<String>),
    first: Prepared,
    records: Vec<RecordNo>,
    warnings: Vec<RecordWarning>,
    items: Vec<String>,
    bytes: usize,
    wrap_key: Option<String>,
}

impl Batch {
    pub fn into_parts(self) -> (Prepared, Vec<RecordNo>, String, Vec<RecordWarning>) {
        let mut body = String::with_capacity(self.bytes);
        if let Some(key) = &self.wrap_key {
            body.push('{');
            body.push_str(&Value::String(key.clone()).to_string());
            body.push(':');
        }
        body.push('[');
        body.push_str(&self.items.join(","));
        body.push(']');
        if self.wrap_key.is_some() {
            body.push('}');
        }
        (self.first, self.records, body, self.warnings)
    }
}

#[derive(Default)]
pub struct Batches {
    open: Vec<Batch>,
}

impl Batches {
    /// Adds a prepared record; returns the batches that became ready. The error makes the
    /// record invalid (it is too big alone, or lacks its group value).
    pub fn add(
        &mut self,
        settings: &BatchSettings,
        record: &Record,
        mut prepared: Prepared,
    ) -> Result<Vec<Batch>, BatchError> {
        let Some(body) = &prepared.body else {
            return Err(BatchError::NoBody);
        };
        let group = match &settings.group_by {
            None => None,
            Some(attribute) => {
                let value = lookup(&record.value, attribute)
                    .or_else(|| lookup(body, attribute))
                    .ok_or_else(|| BatchError::GroupMissing(attribute.clone()))?;
                Some(
                    scalar_text(value)
                        .ok_or_else(|| BatchError::GroupNotScalar(attribute.clone()))?,
                )
            }
        };
        let item = match &settings.pluck {
            None => Value::Object(body.clone()),
            Some(attribute) => lookup(body, attribute)
                .or_else(|| lookup(&record.value, attribute))
                .cloned()
                .ok_or_else(|| BatchError::PluckMissing(attribute.clone()))?,
        };
        let item = item.to_string();
        if settings.framing() + item.len() > settings.max_bytes {
            return Err(BatchError::TooLarge {
                bytes: settings.framing() + item.len(),
                max: settings.max_bytes,
            });
        }
        let key = (prepared.url.clone(), prepared.headers.clone(), group);
        let warnings = std::mem::take(&mut prepared.warnings);
        let mut ready = Vec::new();
        let position = self.open.iter().position(|b| b.key == key);
        let index = match position {
            Some(i) if self.open[i].bytes + 1 + item.len() <= settings.max_bytes => i,
            Some(i) => {
                ready.push(self.open.remove(i));
                self.start(settings, key, prepared)
            }
            None => {
                if self.open.len() >= MAX_OPEN {
                    ready.push(self.open.remove(0));
                }
                self.start(settings, key, prepared)
            }
        };
        let batch = &mut self.open[index];
        batch.bytes += item.len() + usize::from(!batch.items.is_empty());
        batch.items.push(item);
        batch.records.push(record.no);
        batch.warnings.extend(warnings);
        if batch.items.len() >= settings.max_records {
            ready.push(self.open.remove(index));
        }
        Ok(ready)
    }

    fn start(
        &mut self,
        settings: &BatchSettings,
        key: (String, Vec<(String, String)>, Option<String>),
        first: Prepared,
    ) -> usize {
        self.open.push(Batch {
            key,
            first,
            records: Vec::new(),
            warnings: Vec::new(),
            items: Vec::new(),
            bytes: settings.framing(),
            wrap_key: settings.wrap_key.clone(),
        });
        self.open.len() - 1
    }

    /// Every open batch, oldest first.
    pub fn drain(&mut self) -> Vec<Batch> {
        std::mem::take(&mut self.open)
    }
}
