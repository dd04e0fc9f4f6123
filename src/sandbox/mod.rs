//! The local Aircall sandbox: an HTTP server that behaves like the parts of Aircall's API the
//! templates use (auth, endpoints, validation, rate limit), with fault injection and a journal,
//! for the embedded default, end-to-end tests and people trying the tool without an account.

mod answer;
mod auth;
pub mod fault;
mod intake;
pub mod journal;
pub mod rate_limit;
mod routes;
mod server;
pub mod store;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use rand::SeedableRng;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use answer::ApiError;
pub use auth::SandboxCredentials;
pub use fault::{FaultSpec, FaultSpecError};
pub use journal::{JournalEntry, JournalStatus};

use fault::FaultPlan;
use journal::Journal;
use rate_limit::LeakyBucket;
use store::Store;

use crate::secret::Secret;

/// Aircall's documented per-company limit, the sandbox's default.
pub const DEFAULT_RATE_LIMIT: u32 = 120;

/// Command-line arguments of `aircall-dest sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    pub addr: String,
    /// Requests per minute per company (leaky bucket); 0 turns the limit off.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RATE_LIMIT)]
    pub rate_limit: u32,
    /// Faults to inject, e.g. `500=0.05,503=0.02,latency=20..80ms,drop=0.05,stall=0.01:30s,
    /// apply_then_drop=0.05` (grammar in docs/sandbox.md).
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<FaultSpec>,
    /// Seed of the fault generator (and webhook ids), for runs that repeat exactly.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Append one JSON line per request received to FILE (created 0600).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// The Basic credential the sandbox accepts. Sandbox-only test credentials, never a real
    /// Aircall key: they show in `ps` and shell history.
    #[arg(long, value_name = "ID:TOKEN", default_value = "sandbox-id:sandbox-token", value_parser = parse_basic)]
    pub basic: BasicPair,
    /// The Bearer token the sandbox accepts. A sandbox-only test credential, never a real one.
    #[arg(long, value_name = "TOKEN", default_value = "sandbox-bearer", value_parser = parse_bearer)]
    pub bearer: Secret,
}

/// An API ID and token given as `ID:TOKEN`.
#[derive(Debug, Clone)]
pub struct BasicPair {
    pub api_id: String,
    pub api_token: Secret,
}

fn parse_basic(text: &str) -> Result<BasicPair, String> {
    match text.split_once(':') {
        Some((id, token)) if !id.is_empty() && !token.is_empty() => Ok(BasicPair {
            api_id: id.to_owned(),
            api_token: Secret::new(token),
        }),
        _ => Err("expected ID:TOKEN, both non-empty (e.g. sandbox-id:sandbox-token)".into()),
    }
}

fn parse_bearer(text: &str) -> Result<Secret, String> {
    if text.is_empty() || text.contains(char::is_whitespace) {
        Err("the bearer token must be non-empty and without spaces".into())
    } else {
        Ok(Secret::new(text))
    }
}

/// How to start a sandbox in-process.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub addr: SocketAddr,
    /// Requests per minute; 0 = no limit (and no `X-AircallApi-*` headers).
    pub rate_limit: u32,
    pub faults: FaultSpec,
    /// Seed of the fault plan and of webhook ids; random when `None` (see [`Sandbox::seed`]).
    pub seed: Option<u64>,
    pub journal: Option<PathBuf>,
    pub credentials: SandboxCredentials,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit: DEFAULT_RATE_LIMIT,
            faults: FaultSpec::default(),
            seed: None,
            journal: None,
            credentials: SandboxCredentials::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalOpenError),
}

/// What every request handler shares.
#[derive(Debug)]
struct App {
    store: Mutex<Store>,
    journal: Journal,
    credentials: SandboxCredentials,
    limiter: Option<Mutex<LeakyBucket>>,
    faults: Option<FaultPlan>,
    rate_limit: u32,
}

impl App {
    /// The limit an injected 429 reports when the real limit is off.
    fn config_limit(&self) -> u32 {
        if self.rate_limit == 0 {
            DEFAULT_RATE_LIMIT
        } else {
            self.rate_limit
        }
    }
}

/// A running sandbox. Dropping it stops the server without waiting; [`Sandbox::shutdown`]
/// waits until every connection is closed.
#[derive(Debug)]
pub struct Sandbox {
    pub addr: SocketAddr,
    seed: u64,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// Starts a sandbox on `config.addr` (port 0 = a free port) in the current tokio runtime.
pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: config.addr,
        source,
    })?;
    let journal = Journal::new(config.journal.as_deref())?;
    let seed = config
        .seed
        .unwrap_or_else(|| rand::Rng::random(&mut rand::rngs::StdRng::from_os_rng()));
    let faults = (!config.faults.is_empty()).then(|| FaultPlan::new(config.faults.clone(), seed));
    let limiter = (config.rate_limit > 0)
        .then(|| Mutex::new(LeakyBucket::new(config.rate_limit, Instant::now())));
    let app = Arc::new(App {
        store: Mutex::new(Store::new(format!("http://{addr}"), seed)),
        journal,
        credentials: config.credentials,
        limiter,
        faults,
        rate_limit: config.rate_limit,
    });
    let router = routes::router(app.clone()).layer(axum::middleware::from_fn_with_state(
        app.clone(),
        intake::intake,
    ));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(server::serve(listener, router, stopped));
    Ok(Sandbox {
        addr,
        seed,
        app,
        stop,
        task: Some(task),
    })
}

impl Sandbox {
    /// `http://HOST:PORT`, the base URL a credential uses.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The seed in use, to repeat a run with `--seed`.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every API request received so far, in order of arrival.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.app.journal.entries()
    }

    pub fn reset_journal(&self) {
        self.app.journal.reset();
    }

    /// The store as `GET /_sandbox/state` shows it.
    pub fn state(&self) -> Value {
        self.app
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .dump()
    }

    /// Stops accepting, closes every connection and waits until the server task has ended.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The server task sees the signal (or the sender going away) and ends by itself.
        let _ = self.stop.send(true);
    }
}

impl SandboxArgs {
    async fn into_config(self) -> anyhow::Result<SandboxConfig> {
        let addr = tokio::net::lookup_host(&self.addr)
            .await
            .with_context(|| format!("--addr {:?} is not a HOST:PORT address", self.addr))?
            .next()
            .with_context(|| format!("--addr {:?} resolves to no address", self.addr))?;
        Ok(SandboxConfig {
            addr,
            rate_limit: self.rate_limit,
            faults: self.fault.unwrap_or_default(),
            seed: self.seed,
            journal: self.journal,
            credentials: SandboxCredentials {
                api_id: self.basic.api_id,
                api_token: self.basic.api_token,
                bearer: self.bearer,
            },
        })
    }
}

/// `aircall-dest sandbox`: prints `listening on http://HOST:PORT` first, serves until Ctrl-C or SIGTERM.
pub async fn run_command(args: SandboxArgs) -> anyhow::Result<()> {
    let config = args.into_config().await?;
    let faults = config.faults.clone();
    let sandbox = start(config).await?;
    // Listen for signals before announcing the address: a client that reads the address and
    // signals at once must find the handler in place, not the default action.
    let stop = stop_signal()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", sandbox.url())?;
    stdout.flush()?;
    drop(stdout);
    if !sandbox.addr.ip().is_loopback() {
        eprintln!(
            "warning: listening beyond loopback on {}; the sandbox credentials are public test values",
            sandbox.addr
        );
    }
    if !faults.is_empty() {
        eprintln!(
            "faults: {faults} (seed {}; repeat with --seed {})",
            sandbox.seed(),
            sandbox.seed()
        );
    }
    stop.await;
    sandbox.shutdown().await;
    eprintln!("sandbox stopped");
    Ok(())
}

/// A future that completes on SIGINT or SIGTERM, with both handlers registered on return.
#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
