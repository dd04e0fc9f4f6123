//! The set-up wizard: a message-driven ratatui app (model, messages, update, view) whose
//! network work runs in background tasks that report back as messages.

pub mod areas;
pub mod curl;
pub mod dataset;
pub mod embedded;
pub mod field;
pub mod focus;
pub mod form;
pub mod keymap;
pub mod keys;
pub mod model;
pub mod msg;
pub mod overlay;
pub mod pane;
pub mod sections;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

pub use model::{Init, Model};
pub use msg::{Cmd, Msg};
pub use update::update;
pub use view::view;
pub mod runtime;
pub mod sync_task;
pub mod tasks;

use std::path::{Path, PathBuf};

use crate::credentials::{AuthKind, Credential, CredentialStore, TokenSource};
use crate::destination::Destination;
use crate::secret::Secret;

/// The sample dataset bundled with the binary, for the embedded default.
pub const SAMPLE_DATASET: &[u8] = include_bytes!("../../assets/data/customers-100.csv");

/// What `aircall-dest` and `aircall-dest setup [DEST] [--input PATH]` ask of the wizard.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub dest: Option<PathBuf>,
    pub input: Option<PathBuf>,
}

/// Writes the bundled sample into the configuration folder (once) and returns its path.
pub fn install_sample(config_dir: &Path) -> std::io::Result<PathBuf> {
    let path = config_dir.join("sample").join("customers-100.csv");
    if std::fs::read(&path).ok().as_deref() != Some(SAMPLE_DATASET) {
        std::fs::create_dir_all(path.parent().unwrap_or(config_dir))?;
        std::fs::write(&path, SAMPLE_DATASET)?;
    }
    Ok(path)
}

/// The name of the embedded sandbox's credential.
pub const SANDBOX_CREDENTIAL: &str = "Local sandbox";

/// The "Local sandbox" credential for a sandbox listening at `base_url`.
pub fn sandbox_credential(base_url: &str) -> Credential {
    Credential {
        name: SANDBOX_CREDENTIAL.into(),
        description: "the sandbox started inside aircall-dest".into(),
        api_id: "sandbox-id".into(),
        token: TokenSource::Stored(Secret::new("sandbox-token")),
        kind: AuthKind::Basic,
        base_url: base_url.to_string(),
    }
}

/// Gathers what the wizard starts from: the destination to edit, saved credentials and, when
/// nothing is configured, the embedded default (bundled dataset, in-process sandbox).
pub fn prepare(options: &Options) -> anyhow::Result<Init> {
    let (destination, original_text) = match &options.dest {
        Some(path) if path.exists() => {
            let destination = Destination::load(path)?;
            // Read again for its layout; a file that changed in between is still only kept
            // where its values agree with what is saved.
            (Some(destination), std::fs::read_to_string(path).ok())
        }
        _ => (None, None),
    };
    let store = CredentialStore::open_default();
    let credentials = store.list().unwrap_or_else(|e| {
        tracing::warn!("cannot read the credentials store: {e}");
        Vec::new()
    });
    let default_dataset = if destination.is_none() && options.input.is_none() {
        Some(install_sample(&crate::credentials::config_dir())?)
    } else {
        None
    };
    Ok(Init {
        dest_path: options.dest.clone(),
        destination,
        input: options.input.clone(),
        credentials,
        sandbox: None,
        default_dataset,
        original_text,
    })
}

/// The line printed once the terminal is restored: what was saved and how it will run without
/// the wizard (under the daemon when it has a schedule, else by hand), or that nothing was.
pub fn exit_note(model: &Model) -> String {
    let lost = if model.has_unsaved_edits() {
        " Edits made after that were not saved."
    } else {
        ""
    };
    match &model.save.saved {
        Some((path, status)) => {
            let how = sections::schedule::how_it_runs(&model.dest.schedule, path);
            let path = &how.file;
            match (status, &how.daemon) {
                (crate::destination::Status::Active, Some((when, folder))) => format!(
                    "Saved {path} (active). The daemon runs it {when}: aircall-dest daemon \
                     {folder} (or once now: aircall-dest run {path}){lost}"
                ),
                (crate::destination::Status::Active, None) => format!(
                    "Saved {path} (active). Run it without the wizard: aircall-dest run {path}{lost}"
                ),
                (crate::destination::Status::Paused, daemon) => {
                    let later = daemon
                        .as_ref()
                        .map(|(when, folder)| {
                            format!("; once active, aircall-dest daemon {folder} runs it {when}")
                        })
                        .unwrap_or_default();
                    format!(
                        "Saved {path} (paused). To run it: aircall-dest activate {path} && \
                         aircall-dest run {path}{later}{lost}"
                    )
                }
            }
        }
        None if model.has_unsaved_edits() => {
            "Nothing was saved: the destination's edits were discarded.".to_string()
        }
        None => "Nothing was saved.".to_string(),
    }
}

/// Runs the wizard. Blocks until the person quits; the terminal is restored in every case.
pub fn run(options: Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut init = prepare(&options)?;
        // Nothing configured: a newcomer gets the bundled dataset and a sandbox in this process.
        // A "Local sandbox" saved by an earlier session needs its sandbox again too.
        let wanted = (init.credentials.is_empty() && init.destination.is_none())
            || init
                .credentials
                .iter()
                .any(|c| c.name == SANDBOX_CREDENTIAL);
        let _sandbox = if wanted {
            let sandbox = embedded::start_sandbox().await?;
            init.sandbox = Some(sandbox_credential(&sandbox.url()));
            Some(sandbox)
        } else {
            None
        };
        let model = runtime::run_in_terminal(Model::new(init)).await?;
        println!("{}", exit_note(&model));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_note_says_what_was_saved_and_the_headless_command() {
        let mut model = Model::new(Init::default());
        assert_eq!(exit_note(&model), "Nothing was saved.");
        model.unsaved_edits = true;
        assert!(exit_note(&model).contains("discarded"));
        model.unsaved_edits = false;
        model.save.saved = Some((
            PathBuf::from("/tmp/my dest.toml"),
            crate::destination::Status::Active,
        ));
        assert_eq!(
            exit_note(&model),
            "Saved '/tmp/my dest.toml' (active). Run it without the wizard: \
             aircall-dest run '/tmp/my dest.toml'"
        );
        model.save.saved = Some((PathBuf::from("a.toml"), crate::destination::Status::Paused));
        assert!(
            exit_note(&model).contains("aircall-dest activate a.toml && aircall-dest run a.toml")
        );
        model.dest.schedule.every = Some("15m".into());
        model.save.saved = Some((
            PathBuf::from("/srv/dests/a.toml"),
            crate::destination::Status::Active,
        ));
        assert_eq!(
            exit_note(&model),
            "Saved /srv/dests/a.toml (active). The daemon runs it every 15m: aircall-dest daemon \
             /srv/dests (or once now: aircall-dest run /srv/dests/a.toml)"
        );
    }
}
