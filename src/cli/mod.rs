//! The command line: argument parsing and one file per command. The contract is DESIGN §3.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

mod context;
mod credentials;
mod daemon;
mod history;
mod plan;
mod preview;
mod run;
mod send_test;
mod status;
mod sync_run;
mod templates;
mod validate;
mod verify;

pub use context::{Failure, Outcome, Session, input};

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
    about = "Send dataset records to the Aircall REST API: set up in a terminal wizard, run headless.",
    after_help = concat!("\
Examples:
  aircall-dest                                   open the set-up wizard
  aircall-dest credentials add prod --api-id ID  save a credential (the token is prompted for)
  aircall-dest validate contacts.toml            check a destination file
  aircall-dest preview contacts.toml --limit 3   print the first requests, secrets masked
  aircall-dest run contacts.toml                 send every record

", "Environment:
  AIRCALL_DEST_HOME     One folder for configuration and state instead of ~/.config/aircall-dest
                        and ~/.local/state/aircall-dest (credentials.toml; state/ inside it)
  AIRCALL_DEST_LOG      Log filter for standard error, e.g. `debug` or `aircall_dest=trace`
                        (default `warn`); RUST_LOG is read when it is unset
  SSL_CERT_FILE         A PEM file of extra root certificates to trust (as --ca-file)
  AIRCALL_DEST_SEED     Seed of the retry jitter of `run`, for runs that repeat exactly
  AIRCALL_DEST_TRIGGER  What started a `run`, for its history: manual, schedule, input_change")
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A PEM file of root certificates to trust besides the system's and the built-in ones
    /// (e.g. a TLS-inspecting proxy's CA).
    #[arg(long, global = true, value_name = "FILE", env = "SSL_CERT_FILE")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the set-up wizard, creating or editing DEST.
    #[command(after_help = "\
Examples:
  aircall-dest setup contacts.toml                      create or edit contacts.toml
  aircall-dest setup contacts.toml --input export.csv   edit it against another dataset

The wizard needs a terminal; without one, write the file by hand (docs/destination-file.md)
and check it with `aircall-dest validate`.")]
    Setup(SetupArgs),
    /// Send every record of a destination's dataset.
    #[command(after_help = "\
Examples:
  aircall-dest run contacts.toml                       send every record
  aircall-dest run contacts.toml --dry-run             build and check every request, send none
  aircall-dest run contacts.toml --input new.csv --json
  cat rows.jsonl | aircall-dest run users.toml --input -

Exit codes: 0 all delivered, 1 error, 2 usage, 3 some records dead-lettered or invalid,
130 stopped by Ctrl-C or SIGTERM after draining.")]
    Run(RunArgs),
    /// Print the requests a destination would send, as JSON Lines, secrets masked.
    #[command(after_help = "\
Examples:
  aircall-dest preview contacts.toml --limit 3
  aircall-dest preview contacts.toml --input other.csv | jq .url")]
    Preview(PreviewArgs),
    /// Show what a sync run would do (creates, updates, deletes), writing nothing to Aircall.
    #[command(after_help = "\
Examples:
  aircall-dest plan sync-contacts.toml                   counts, and the first records of each kind
  aircall-dest plan sync-contacts.toml --input today.csv --json | jq .requests_estimate
  aircall-dest plan sync-contacts.toml --lookups         also ask Aircall which new keys exist")]
    Plan(PlanArgs),
    /// Send one sample request and print the response.
    #[command(after_help = "\
Examples:
  aircall-dest send-test contacts.toml                 send the first record's request
  aircall-dest send-test contacts.toml --sample 4      send the fourth request
  aircall-dest send-test contacts.toml --body body.json")]
    SendTest(SendTestArgs),
    /// Check a destination file, and the input's attributes against its mapping.
    #[command(after_help = "\
Examples:
  aircall-dest validate contacts.toml
  aircall-dest validate contacts.toml --input export.csv
  aircall-dest validate contacts.toml --json | jq .warnings")]
    Validate(ValidateArgs),
    /// Mark a destination active so `run` sends it.
    #[command(after_help = "\
Examples:
  aircall-dest activate contacts.toml

Only the `status` line changes; comments and layout are kept.")]
    Activate(DestArg),
    /// Mark a destination paused so `run` refuses it.
    #[command(after_help = "\
Examples:
  aircall-dest pause contacts.toml

Only the `status` line changes; comments and layout are kept.")]
    Pause(DestArg),
    /// Manage saved credentials.
    #[command(subcommand)]
    #[command(after_help = "\
Examples:
  aircall-dest credentials add prod --api-id ID
  aircall-dest credentials list --json
  aircall-dest credentials verify prod
  aircall-dest credentials remove prod")]
    Credentials(CredentialsCommand),
    /// List the endpoint templates, or describe one.
    #[command(after_help = "\
Examples:
  aircall-dest templates                        list them
  aircall-dest templates create_records         describe one
  aircall-dest templates --json | jq '.[].id'")]
    Templates(TemplatesArgs),
    /// Run the local Aircall sandbox server.
    #[command(after_help = "\
Examples:
  aircall-dest sandbox --addr 127.0.0.1:8787
  aircall-dest sandbox --addr 127.0.0.1:8787 --fault 500=0.05,latency=20..80ms --seed 7

Point a credential at it: aircall-dest credentials add local --api-id sandbox-id \\
  --base-url http://127.0.0.1:8787 (token: sandbox-token).")]
    Sandbox(crate::sandbox::SandboxArgs),
    /// Print shell completions.
    #[command(after_help = "\
Examples:
  aircall-dest completions bash > ~/.local/share/bash-completion/completions/aircall-dest
  aircall-dest completions zsh > ~/.zfunc/_aircall-dest")]
    Completions(CompletionsArgs),
    /// Run every active destination file of a folder on its [schedule], in the foreground.
    #[command(after_help = "\
Examples:
  aircall-dest daemon /etc/aircall-dest
  aircall-dest daemon ./destinations --metrics-addr 127.0.0.1:9464

Logs go to standard error; SIGTERM lets running runs drain, then exits 0 (docs/operations.md).")]
    Daemon(daemon::DaemonArgs),
    /// Show the past runs of a destination, newest first.
    #[command(after_help = "\
Examples:
  aircall-dest history contacts.toml
  aircall-dest history contacts.toml --json --limit 1 | jq '.[0].exit_code'")]
    History(history::HistoryArgs),
}

#[derive(Debug, Args)]
pub struct DestArg {
    /// The destination file (TOML).
    pub dest: PathBuf,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The destination file to create or edit (default: the wizard asks where to save).
    pub dest: Option<PathBuf>,
    /// The dataset to show instead of the file's source (CSV, JSON Lines or JSON).
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Read records from PATH instead of the file's source; `-` is standard input.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Read the input as this format (csv, jsonl, json); by default `--input`'s extension
    /// decides, else the file's `source.format`.
    #[arg(long, value_enum)]
    pub format: Option<crate::records::Format>,
    /// Where the state store lives (default: the state folder, ~/.local/state/aircall-dest).
    #[arg(long, value_name = "DIR")]
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
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Where the state store lives (default: the state folder, as for `run`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// Ask Aircall which new keys already exist (read-only requests), as a run would.
    #[arg(long)]
    pub lookups: bool,
    /// How many records of each kind to show with their requests.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub examples: usize,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Read records from PATH instead of the file's source; `-` is standard input.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Read the input as this format (csv, jsonl, json); by default `--input`'s extension
    /// decides, else the file's `source.format`.
    #[arg(long, value_enum)]
    pub format: Option<crate::records::Format>,
    /// Print at most N requests, and at most N invalid-record lines.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Where the sync state lives, for a destination with [sync] (default: as for `run`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Check this input's attributes against the mapping instead of the file's source's.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Read the input as this format (csv, jsonl, json); by default `--input`'s extension
    /// decides, else the file's `source.format`.
    #[arg(long, value_enum)]
    pub format: Option<crate::records::Format>,
    /// Print the result as one JSON object on standard output (also when the file is invalid).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The destination file (TOML).
    pub dest: PathBuf,
    /// Read records from PATH instead of the file's source; `-` is standard input.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Read the input as this format (csv, jsonl, json); by default `--input`'s extension
    /// decides, else the file's `source.format`.
    #[arg(long, value_enum)]
    pub format: Option<crate::records::Format>,
    /// Which sample request to send, counting from 1.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub sample: usize,
    /// Send this file's content as the body instead of the sample's.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// List saved credentials (never their secrets).
    #[command(after_help = "\
Examples:
  aircall-dest credentials list
  aircall-dest credentials list --json | jq '.[].name'")]
    List(ListArgs),
    /// Save a credential. The token is never taken as an argument.
    #[command(after_help = "\
Examples:
  aircall-dest credentials add prod --api-id ID              prompted for the token
  printf %s \"$TOKEN\" | aircall-dest credentials add prod --api-id ID --token-stdin
  aircall-dest credentials add prod --api-id ID --token-env AIRCALL_TOKEN
  aircall-dest credentials add prod --api-id ID --token-cmd 'pass show aircall'
  aircall-dest credentials add oauth --bearer --token-env AIRCALL_OAUTH")]
    Add(CredentialAddArgs),
    /// Delete a saved credential.
    #[command(after_help = "\
Examples:
  aircall-dest credentials remove prod")]
    Remove {
        /// The credential's name.
        name: String,
    },
    /// Call GET /v1/ping with a saved credential.
    #[command(after_help = "\
Examples:
  aircall-dest credentials verify prod")]
    Verify {
        /// The credential's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the credentials as a JSON array on standard output (never their secrets).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CredentialAddArgs {
    /// A name for the credential; destination files refer to it by this name.
    pub name: String,
    /// The API ID (Basic auth user name). Not needed with --bearer.
    #[arg(long, value_name = "ID")]
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
    /// The API's base URL; plain http:// only to loopback (e.g. the local sandbox).
    #[arg(long, value_name = "URL", default_value = crate::rules::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// A note shown by `credentials list` (e.g. which account the token belongs to).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// A template id to describe.
    pub name: Option<String>,
    /// Print the templates (or the one described) as JSON on standard output.
    #[arg(long)]
    pub json: bool,
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
    if let Some(path) = &cli.ca_file {
        crate::client::tls::set_ca_file(path.clone());
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

/// What to run instead of the wizard when there is no terminal to draw it on.
pub const NO_TERMINAL: &str = "the set-up wizard needs a terminal, and standard input or output \
is not one (a pipe, a file, cron or CI). Without one: save a credential with `aircall-dest \
credentials add NAME --api-id ID --token-stdin`, write the destination file by hand \
(docs/destination-file.md; `aircall-dest templates` lists the endpoints), check it with \
`aircall-dest validate DEST` and `aircall-dest preview DEST`, then `aircall-dest run DEST`";

/// Runs the set-up wizard; its errors (an unreadable destination file, no terminal) end here.
fn wizard(options: crate::tui::Options) -> context::Outcome {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(Failure::usage(NO_TERMINAL));
    }
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
        Some(Command::Credentials(CredentialsCommand::List(args))) => credentials::list(args),
        Some(Command::Credentials(CredentialsCommand::Add(args))) => credentials::add(args),
        Some(Command::Credentials(CredentialsCommand::Remove { name })) => {
            credentials::remove(name)
        }
        Some(Command::Daemon(args)) => daemon::run(args),
        Some(Command::History(args)) => history::run(args),
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
