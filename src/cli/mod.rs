//! The command line: argument parsing and one file per command. The contract is DESIGN §3.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

mod context;
mod credentials;
mod plan;
mod preview;
mod run;
mod send_test;
mod status;
mod sync_run;
mod templates;
mod validate;
mod verify;

pub use context::{Failure, Outcome};

/// Exit codes every command keeps to.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    /// Configuration, credentials or I/O error.
    pub const ERROR: u8 = 1;
    /// Bad command-line usage.
    pub const USAGE: u8 = 2;
    /// Finished, but some records were dead-lettered or invalid.
    pub const PARTIAL: u8 = 3;
    /// Stopped by Ctrl-C or SIGTERM after draining.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "aircall-dest",
    version,
    about = "Send dataset records to the Aircall REST API: set up in a terminal wizard, run headless."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the set-up wizard, creating or editing DEST.
    Setup(SetupArgs),
    /// Send every record of a destination's dataset.
    Run(RunArgs),
    /// Print the requests a destination would send, as JSON Lines, secrets masked.
    Preview(PreviewArgs),
    /// Show what a sync run would do (creates, updates, deletes), writing nothing to Aircall.
    Plan(PlanArgs),
    /// Send one sample request and print the response.
    SendTest(SendTestArgs),
    /// Check a destination file.
    Validate(DestArg),
    /// Mark a destination active so `run` sends it.
    Activate(DestArg),
    /// Mark a destination paused so `run` refuses it.
    Pause(DestArg),
    /// Manage saved credentials.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// List the endpoint templates, or describe one.
    Templates(TemplatesArgs),
    /// Run the local Aircall sandbox server.
    Sandbox(crate::sandbox::SandboxArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct DestArg {
    /// The destination file (TOML).
    pub dest: PathBuf,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The destination file to create or edit.
    pub dest: Option<PathBuf>,
    /// The dataset to use instead of the file's source.
    #[arg(long)]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Read records from PATH instead of the file's source; `-` is standard input.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where the outcome log lives (default: a folder beside the configuration).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Build and validate every request without sending anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// Forget the outcome log of an earlier run of a changed input and start over.
    #[arg(long)]
    pub restart: bool,
    /// Resend records whose earlier outcome is unknown, even creates that cannot be looked up.
    #[arg(long)]
    pub resend_in_doubt: bool,
    /// Let a sync in mirror mode delete more than its max_delete_percent of the synced objects.
    #[arg(long)]
    pub allow_deletes: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The destination file (TOML), with a [sync] section.
    pub dest: PathBuf,
    /// Read records from PATH instead of the file's source; `-` is standard input.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where the sync state lives (default: the same folder `run` uses).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Print one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// Ask Aircall which new keys already exist (read-only requests), as a run would.
    #[arg(long)]
    pub lookups: bool,
    /// How many records of each kind to show with their requests.
    #[arg(long, default_value_t = 3)]
    pub examples: usize,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Print at most N requests.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Where the sync state lives, for a destination with [sync] (default: as for `run`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Which sample request to send, counting from 1.
    #[arg(long, default_value_t = 1)]
    pub sample: usize,
    /// Send this file's content as the body instead of the sample's.
    #[arg(long)]
    pub body: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// List saved credentials (never their secrets).
    List,
    /// Save a credential. The token is never taken as an argument.
    Add(CredentialAddArgs),
    /// Delete a saved credential.
    Remove {
        /// The credential's name.
        name: String,
    },
    /// Call GET /v1/ping with a saved credential.
    Verify {
        /// The credential's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct CredentialAddArgs {
    /// A name for the credential; destination files refer to it by this name.
    pub name: String,
    /// The API ID (Basic auth user name). Not needed with --bearer.
    #[arg(long)]
    pub api_id: Option<String>,
    /// Read the token from standard input.
    #[arg(long, conflicts_with = "token_env")]
    pub token_stdin: bool,
    /// Resolve the token from this environment variable each time it is used (not stored).
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Resolve the token by running this command each time it is used (e.g. a password manager).
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["token_env", "token_stdin"])]
    pub token_cmd: Option<String>,
    /// The token is an OAuth Bearer token.
    #[arg(long)]
    pub bearer: bool,
    #[arg(long, default_value = "https://api.aircall.io")]
    pub base_url: String,
    #[arg(long, default_value = "")]
    pub description: String,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// A template id to describe.
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// Parses the command line and runs the command; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    if !opens_the_wizard(&cli) {
        init_logging();
    }
    ExitCode::from(dispatch(cli))
}

/// The environment variable holding the log filter (`tracing_subscriber`'s `EnvFilter` syntax,
/// e.g. `debug` or `aircall_dest=trace,hyper=info`); `RUST_LOG` is read when it is unset.
pub const LOG_ENV: &str = "AIRCALL_DEST_LOG";

/// Logs go to standard error, warnings only unless [`LOG_ENV`] or `RUST_LOG` asks for more.
/// Secrets never reach a log: tokens are [`crate::secret::Secret`]s and the client marks the
/// `Authorization` header sensitive, which its `Debug` hides.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The wizard owns the terminal: log lines on standard error would tear its screen.
fn opens_the_wizard(cli: &Cli) -> bool {
    matches!(cli.command, None | Some(Command::Setup(_)))
}

/// Runs the set-up wizard; its errors (an unreadable destination file, no terminal) end here.
fn wizard(options: crate::tui::Options) -> context::Outcome {
    crate::tui::run(options)
        .map(|()| exit::SUCCESS)
        .map_err(|e| Failure::error(format!("{e:#}")))
}

fn dispatch(cli: Cli) -> u8 {
    let outcome = match &cli.command {
        None => wizard(crate::tui::Options::default()),
        Some(Command::Setup(args)) => wizard(crate::tui::Options {
            dest: args.dest.clone(),
            input: args.input.clone(),
        }),
        Some(Command::Preview(args)) => preview::run(args),
        Some(Command::Plan(args)) => plan::run(args),
        Some(Command::Sandbox(args)) => sandbox(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::SendTest(args)) => send_test::run(args),
        Some(Command::Activate(args)) => status::activate(args),
        Some(Command::Pause(args)) => status::pause(args),
        Some(Command::Credentials(CredentialsCommand::Verify { name })) => verify::run(name),
        Some(Command::Validate(args)) => validate::run(args),
        Some(Command::Templates(args)) => templates::run(args),
        Some(Command::Credentials(CredentialsCommand::List)) => credentials::list(),
        Some(Command::Credentials(CredentialsCommand::Add(args))) => credentials::add(args),
        Some(Command::Credentials(CredentialsCommand::Remove { name })) => {
            credentials::remove(name)
        }
        Some(Command::Completions(args)) => {
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "aircall-dest",
                &mut std::io::stdout(),
            );
            Ok(exit::SUCCESS)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

fn sandbox(args: &crate::sandbox::SandboxArgs) -> Outcome {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(crate::sandbox::run_command(args.clone()))
        .map_err(|err| Failure::error(format!("{err:#}")))?;
    Ok(exit::SUCCESS)
}
