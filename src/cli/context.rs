//! What several commands share: loading a destination, finding its dataset and credential.

use std::path::Path;

use crate::credentials::{AuthKind, Credential, CredentialError, CredentialStore};
use crate::destination::Destination;
use crate::records::Input;
use crate::request::{DEFAULT_BASE_URL, Plan};

/// A command's failure: the message for standard error and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: super::exit::ERROR,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: super::exit::USAGE,
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure::error(err.to_string())
    }
}

pub type Outcome = Result<u8, Failure>;

/// Loads a destination file.
pub fn load(path: &Path) -> Result<Destination, Failure> {
    Ok(Destination::load(path)?)
}

/// The dataset to read: `--input` (or `-` for standard input), else the destination's source,
/// relative to the destination file's folder.
pub fn input(destination: &Destination, destination_path: &Path, input: Option<&Path>) -> Input {
    match input {
        Some(path) if path == Path::new("-") => Input::Stdin,
        Some(path) => Input::Path(path.to_path_buf()),
        None => Input::Path(crate::rules::relative_to_destination(
            destination_path,
            &destination.source.path,
        )),
    }
}

/// The destination's credential from the store.
pub fn credential(destination: &Destination) -> Result<Credential, CredentialError> {
    CredentialStore::open_default().get(&destination.credential)
}

/// Refuses a destination file that holds its credential's token (or `Authorization` value),
/// when the token can be had without running a command; `run` checks the resolved token itself.
pub fn refuse_secret_in_file(
    destination_path: &Path,
    credential: &Credential,
) -> Result<(), Failure> {
    let Some(authorization) = credential.authorization_if_cheap() else {
        return Ok(());
    };
    Ok(credential.refuse_secret_in_file(&authorization, destination_path)?)
}

/// A plan for showing requests: against the credential's base URL when the credential exists,
/// else against Aircall's, with a note on standard error.
pub fn preview_plan(
    destination: &Destination,
    destination_path: &Path,
) -> Result<(Plan, Option<AuthKind>), Failure> {
    let (base_url, kind) = match credential(destination) {
        Ok(credential) => {
            // A preview prints the file's headers: a token written there would be printed too.
            refuse_secret_in_file(destination_path, &credential)?;
            (credential.base_url, Some(credential.kind))
        }
        Err(CredentialError::NotFound { .. }) => {
            eprintln!(
                "note: credential {:?} is not saved here; showing URLs against {DEFAULT_BASE_URL} without an Authorization header",
                destination.credential
            );
            (DEFAULT_BASE_URL.to_string(), None)
        }
        Err(err) => return Err(err.into()),
    };
    let plan = Plan::new(destination, &base_url)
        .map_err(|e| Failure::error(format!("cannot build requests: {e}")))?;
    for warning in plan.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok((plan, kind))
}
