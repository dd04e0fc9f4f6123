//! What several commands share: loading a destination, finding its dataset and credential.

use std::path::{Path, PathBuf};

use crate::credentials::{AuthKind, Credential, CredentialError, CredentialStore};
use crate::destination::Destination;
use crate::records::Input;
use crate::request::{DEFAULT_BASE_URL, Plan};
use crate::secret::Secret;

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

/// What a command works on, built once: the destination file (its path, text and settings),
/// its credential, and the plan that turns its records into requests.
pub struct Session {
    pub path: PathBuf,
    /// The file's text, as read once.
    pub text: String,
    pub destination: Destination,
    /// The credential, when it is saved here.
    pub credential: Option<Credential>,
    pub plan: Plan,
    /// What a person must be told: a credential not saved here, requests sent without it.
    pub warnings: Vec<String>,
}

impl Session {
    /// For commands that only show requests (`preview`, `validate`): the credential's base URL
    /// when it is saved here, else Aircall's with a warning. The file is refused if it holds the
    /// credential's token, since showing the file's headers would show the token too.
    pub fn for_showing(path: &Path) -> Result<Self, Failure> {
        let (text, destination) = Destination::read(path)?;
        Self::showing(path, text, destination)
    }

    /// [`Session::for_showing`] for a destination already read from `path`.
    pub fn showing(path: &Path, text: String, destination: Destination) -> Result<Self, Failure> {
        let mut warnings = Vec::new();
        let credential = match credential(&destination) {
            Ok(credential) => {
                if let Some(authorization) = credential.authorization_if_cheap() {
                    credential.refuse_secret_in(&authorization, path, &text)?;
                }
                Some(credential)
            }
            Err(CredentialError::NotFound { .. }) => {
                warnings.push(format!(
                    "credential {:?} is not saved here; showing URLs against {DEFAULT_BASE_URL} \
                     without an Authorization header (add it with `aircall-dest credentials add \
                     {:?} --api-id ID` before `run`)",
                    destination.credential, destination.credential
                ));
                None
            }
            Err(err) => return Err(err.into()),
        };
        let base_url = credential
            .as_ref()
            .map_or(DEFAULT_BASE_URL, |c| c.base_url.as_str())
            .to_string();
        Self::with_plan(path, text, destination, credential, &base_url, warnings)
    }

    /// For commands that send (`send-test`): the credential must be saved and valid.
    pub fn for_sending(path: &Path) -> Result<(Self, Credential), Failure> {
        let (text, destination) = Destination::read(path)?;
        let credential = credential(&destination)?;
        credential.check()?;
        let base_url = credential.base_url.clone();
        let session = Self::with_plan(
            path,
            text,
            destination,
            Some(credential.clone()),
            &base_url,
            Vec::new(),
        )?;
        Ok((session, credential))
    }

    /// For `run` and the wizard's run, over a destination already read from `path` with its
    /// `credential`: the credential is checked, its `Authorization` value worked out once (and
    /// the file refused if it holds it) and returned beside the session. A dry run only builds
    /// requests: it needs no credential, and without one its URLs are joined to Aircall's.
    pub fn for_running(
        path: &Path,
        text: String,
        destination: Destination,
        credential: Option<Credential>,
        dry_run: bool,
    ) -> Result<(Self, Option<Secret>), Failure> {
        let authorization = match &credential {
            Some(credential) => {
                credential.check()?;
                if dry_run {
                    None
                } else {
                    let authorization = credential.authorization()?;
                    credential.refuse_secret_in(&authorization, path, &text)?;
                    Some(authorization)
                }
            }
            None if dry_run => None,
            None => {
                return Err(Failure::error(
                    "no credential given for a run that sends requests",
                ));
            }
        };
        let base_url = credential
            .as_ref()
            .map_or(DEFAULT_BASE_URL, |c| c.base_url.as_str())
            .to_string();
        let session = Self::with_plan(path, text, destination, credential, &base_url, Vec::new())?;
        Ok((session, authorization))
    }

    fn with_plan(
        path: &Path,
        text: String,
        destination: Destination,
        credential: Option<Credential>,
        base_url: &str,
        mut warnings: Vec<String>,
    ) -> Result<Self, Failure> {
        let plan = Plan::new(&destination, base_url).map_err(|e| {
            if e.path.is_empty() {
                // Not from the file (the credential's base URL): nothing in it to point at.
                return Failure::error(format!("{}: cannot build requests: {e}", path.display()));
            }
            // From the file: located at its key, line and column, as every other file error.
            let key: Vec<&str> = e.path.iter().map(String::as_str).collect();
            let problem = crate::destination::Problem::new(&key, e.message.clone());
            Failure::from(crate::destination::DestinationError::invalid(
                &path.display().to_string(),
                &text,
                vec![problem],
            ))
        })?;
        warnings.extend(plan.warnings().iter().cloned());
        Ok(Self {
            path: path.to_path_buf(),
            text,
            destination,
            credential,
            plan,
            warnings,
        })
    }

    /// The kind of the credential's `Authorization` header, for showing it masked.
    pub fn auth_kind(&self) -> Option<AuthKind> {
        self.credential.as_ref().map(|c| c.kind)
    }

    /// The dataset: `--input` when given, else the destination's source.
    pub fn input(&self, input: Option<&Path>) -> Input {
        self::input(&self.destination, &self.path, input)
    }
}
