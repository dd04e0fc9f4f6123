//! Sync (DESIGN §8): keep Aircall in step with an export produced again every day. Each row's
//! key maps to the Aircall object it became; a run sends only the writes that changed rows need,
//! matches new keys to objects that already exist, and (mirror) deletes what it created whose
//! rows left the export. `plan` tells what a run would do without writing anything.

pub mod api;
pub mod classify;
pub mod diff;
pub mod execute;
#[doc(hidden)]
pub mod fixture;
pub mod forecast;
pub mod matcher;
pub mod phones;
pub mod pipeline;
pub mod send;
pub mod shape;
pub mod store;
pub mod summary;

use std::path::{Path, PathBuf};

use crate::credentials::Credential;
use crate::destination::{Destination, Status, SyncResource, SyncSettings};
use crate::records::{self, Input, RecordReader};
use crate::request::Plan;
use crate::secret::Secret;

pub use execute::{
    SyncEnding, SyncEvent, SyncProgress, SyncReport, execute, execute_with, print_lines,
};
pub use summary::SyncSummary;

/// What a sync run needs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub destination: Destination,
    pub destination_path: PathBuf,
    pub input: Input,
    pub state_dir: PathBuf,
    pub credential: Credential,
    /// Lets a mirror run delete more than `max_delete_percent` of the synced objects.
    pub allow_deletes: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{path} has no [sync] section")]
    NotSync { path: String },
    #[error(
        "destination {name:?} ({path}) is paused, so it is not run; activate it with `aircall-dest activate {path}`"
    )]
    Paused { name: String, path: String },
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Open(#[from] records::OpenError),
    #[error(transparent)]
    Credential(#[from] crate::credentials::CredentialError),
    #[error(
        "refused: this mirror run would delete {deletes} of the {synced} synced objects, more than \
         max_delete_percent = {percent}%; check the export, then run again with --allow-deletes if \
         the deletes are meant (`aircall-dest plan` lists them)"
    )]
    DeleteGuard {
        deletes: u64,
        synced: u64,
        percent: f64,
    },
    #[error("cannot keep standard input for the two passes of a sync: {0}")]
    Spool(std::io::Error),
}

/// A destination made ready for a sync: its request plan, target and state file.
pub struct Prepared {
    pub settings: SyncSettings,
    pub resource: SyncResource,
    pub plan: Plan,
    pub api: Api,
    pub state_path: PathBuf,
    pub authorization: Secret,
    /// How the mapping writes phone numbers (see [`phones::PhoneForm`]).
    pub phones: phones::PhoneForm,
    input: PathBuf,
    format: Option<records::Format>,
    /// Standard input, kept in a file so it can be read twice.
    _spool: Option<tempfile::NamedTempFile>,
}

use api::Api;

impl Prepared {
    /// A fresh reader over the input (each pass reads it from the start).
    pub fn open_input(&self) -> Result<RecordReader, SyncError> {
        Ok(records::open(
            &Input::Path(self.input.clone()),
            self.format,
        )?)
    }
}

/// The sync settings and resource of `destination`, or why it cannot sync.
pub fn target(
    destination: &Destination,
    path: &Path,
) -> Result<(SyncSettings, SyncResource), SyncError> {
    let settings = destination.sync.clone().ok_or_else(|| SyncError::NotSync {
        path: path.display().to_string(),
    })?;
    let resource = SyncResource::of(destination.request.method, &destination.request.url)
        .ok_or_else(|| {
            SyncError::Setup(format!(
                "{}: sync needs a destination that creates contacts or users",
                path.display()
            ))
        })?;
    Ok((settings, resource))
}

/// The state file of a destination: the state store's, shared with runs and history.
pub fn state_path(state_dir: &Path, destination_path: &Path) -> PathBuf {
    crate::state::StateStore::path_for(state_dir, destination_path)
}

/// Checks the destination and credential and readies the input for a run.
pub fn prepare(options: &SyncOptions) -> Result<Prepared, SyncError> {
    let destination = &options.destination;
    let path = &options.destination_path;
    let shown = path.display().to_string();
    if destination.status == Status::Paused {
        return Err(SyncError::Paused {
            name: destination.name.clone(),
            path: shown,
        });
    }
    let (settings, resource) = target(destination, path)?;
    let authorization = options.credential.authorization()?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| SyncError::Setup(format!("cannot read {shown}: {e}")))?;
    options
        .credential
        .refuse_secret_in(&authorization, path, &text)?;
    let plan = Plan::new(destination, &options.credential.base_url)
        .map_err(|e| SyncError::Setup(format!("cannot build requests: {e}")))?;
    let api = Api::new(
        resource,
        &destination.request.url,
        &options.credential.base_url,
        plan.sends_credential(),
        api::Headers::record_less(destination),
    );
    let (input, spool) = spool(&options.input)?;
    Ok(Prepared {
        settings,
        resource,
        plan,
        api,
        state_path: state_path(&options.state_dir, path),
        authorization,
        phones: phones::PhoneForm::of(destination),
        input,
        format: destination.source.format,
        _spool: spool,
    })
}

/// The input as a path; standard input is copied to a temporary file first.
fn spool(input: &Input) -> Result<(PathBuf, Option<tempfile::NamedTempFile>), SyncError> {
    match input {
        Input::Path(path) => Ok((path.clone(), None)),
        Input::Stdin => {
            let mut file = tempfile::NamedTempFile::new().map_err(SyncError::Spool)?;
            std::io::copy(&mut std::io::stdin().lock(), &mut file).map_err(SyncError::Spool)?;
            Ok((file.path().to_path_buf(), Some(file)))
        }
    }
}
