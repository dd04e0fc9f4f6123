//! The headless pipeline: records stream through the request builder to paced, retrying
//! senders; every record ends in exactly one outcome, written to the state store as it happens.

pub mod capture;
pub mod dead_letter;
mod deliver;
mod dispatcher;
pub mod disposition;
mod flight;
pub mod in_doubt;
mod pipeline;
mod reader;
pub mod reconcile;
pub mod summary;

pub use pipeline::{
    DryRun, Ending, Event, EventFn, RunError, RunOptions, RunReport, StopRequest,
    default_dead_letter_path, default_state_dir, run,
};
pub use summary::{Progress, Summary};

pub use crate::timestamp::rfc3339 as timestamp;
