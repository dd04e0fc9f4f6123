//! Messages into the wizard's update function and commands out of it. Every background task
//! carries the id it was started with; a result whose id is no longer awaited is ignored.

use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::tui::dataset::Dataset;

/// Identifies one background task, so a late answer to a superseded request is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u64);

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// Animation tick (spinners, progress).
    Tick,
    DatasetInspected {
        id: TaskId,
        result: Result<Dataset, String>,
    },
    RecordsCounted {
        id: TaskId,
        count: Option<u64>,
    },
    PathCompletions {
        id: TaskId,
        items: Vec<String>,
    },
    Verified {
        id: TaskId,
        outcome: crate::client::PingOutcome,
    },
    TestSent {
        id: TaskId,
        result: Result<TestResponse, String>,
    },
    RunProgress {
        id: TaskId,
        progress: RunProgress,
    },
    /// Where the run writes what it does not deliver, known once it starts.
    RunOutputs {
        id: TaskId,
        outputs: RunOutputs,
    },
    /// A record the run did not deliver (invalid, rejected, in doubt), with the reason.
    RunFailure {
        id: TaskId,
        text: String,
    },
    RunFinished {
        id: TaskId,
        result: Result<RunProgress, String>,
    },
    Saved {
        result: Result<(PathBuf, crate::destination::Status), String>,
    },
    /// What a sync run would do with each sample record.
    SyncPreviewed {
        id: TaskId,
        result: Result<crate::tui::sections::sync::SampleOperations, String>,
    },
}

/// What the wizard asks the runtime to do outside the pure update function.
#[derive(Debug, Clone)]
pub enum Cmd {
    Quit,
    /// Put the text on the terminal's clipboard (OSC 52).
    Copy {
        text: String,
    },
    InspectDataset {
        id: TaskId,
        path: PathBuf,
        options: crate::records::ReadOptions,
    },
    CountRecords {
        id: TaskId,
        path: PathBuf,
    },
    CompletePath {
        id: TaskId,
        typed: String,
    },
    /// `GET /v1/ping` with the credential; its token is resolved in the task, not in update.
    Verify {
        id: TaskId,
        credential: crate::credentials::Credential,
    },
    SendTest {
        id: TaskId,
        request: TestRequest,
    },
    Cancel {
        id: TaskId,
    },
    StartRun {
        id: TaskId,
        dest_path: PathBuf,
        credential: crate::credentials::Credential,
    },
    /// Write the destination file (and the credential it names, when that is new).
    Save {
        path: PathBuf,
        destination: Box<crate::destination::Destination>,
        /// The file's text: written over the text it was loaded from (comments and layout
        /// kept), with the "Local sandbox" credential explained.
        text: String,
        credential: Option<crate::credentials::Credential>,
    },
    /// Judge the sample records against the destination's sync state, read only (the state
    /// file of `dest_path` in the state folder).
    PreviewSync {
        id: TaskId,
        destination: Box<crate::destination::Destination>,
        dest_path: PathBuf,
        base_url: String,
        records: Vec<Result<crate::records::Record, crate::records::RecordError>>,
    },
}

/// One request sent by Send Test: the sample as the request builder made it (the body possibly
/// edited), and the credential whose header goes with it when the request says so.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRequest {
    pub request: crate::request::Request,
    pub credential: Option<crate::credentials::Credential>,
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResponse {
    pub status: u16,
    pub elapsed_ms: u128,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The files a run writes besides the outcome log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutputs {
    pub dead_letters: PathBuf,
    /// The response capture file, when the destination asks for one.
    pub capture: Option<PathBuf>,
}

/// Live counters of a run started from the wizard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunProgress {
    pub read: u64,
    pub in_doubt: u64,
    pub sent: u64,
    pub delivered: u64,
    pub rejected: u64,
    pub invalid: u64,
    /// Records with nothing to send: done by an earlier run, or unchanged since the last sync.
    pub skipped: u64,
    pub total: Option<u64>,
    pub per_minute: f64,
    pub eta_secs: Option<u64>,
    /// Requests sent whose answer has not come back yet (a sync: keys being written).
    pub in_flight: u64,
    pub done: bool,
    pub note: Option<String>,
    /// A sync's own counts (`[sync]` destinations).
    pub sync: Option<SyncCounts>,
}

impl RunProgress {
    /// The counts of a run's summary (as `run --json` reports them), nothing else set.
    pub fn counts(summary: &crate::runner::Summary) -> Self {
        RunProgress {
            read: summary.records_read,
            in_doubt: summary.in_doubt,
            sent: summary.requests,
            delivered: summary.delivered,
            rejected: summary.dead_lettered,
            invalid: summary.invalid,
            skipped: summary.skipped_already_done,
            ..RunProgress::default()
        }
    }
}

/// What a sync did to Aircall's objects so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
}
