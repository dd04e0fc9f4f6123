//! The headless pipeline: records stream through the request builder to paced, retrying
//! senders; every record ends in exactly one outcome, written to the outcome log as it happens.

pub mod capture;
pub mod dead_letter;
pub mod in_doubt;
pub mod outcome_log;
mod pipeline;
pub mod reconcile;
pub mod summary;

pub use pipeline::{
    DryRun, Ending, Event, EventFn, RunError, RunOptions, RunReport, StopRequest,
    default_dead_letter_path, default_state_dir, run,
};
pub use summary::{Progress, Summary};

pub use crate::timestamp::rfc3339 as timestamp;
