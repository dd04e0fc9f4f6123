//! `aircall-dest daemon DIR`: the scheduler in the foreground, logging to standard error, fit
//! for systemd. The first SIGTERM (or Ctrl-C) lets the runs in progress drain and exits 0; a
//! second one tells them to stop at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use tokio::sync::watch;

use super::context::{Failure, Outcome};
use super::exit;
use crate::daemon::{self, Stop};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The folder of destination files; every active one with a [schedule] is run on it.
    pub dir: PathBuf,
    /// Serve GET /metrics (Prometheus text) and GET /healthz on HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Where the runs keep their state (default: the state folder, as for `run`).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

pub fn run(args: &DaemonArgs) -> Outcome {
    if !args.dir.is_dir() {
        return Err(Failure::error(format!(
            "{} is not a folder of destination files",
            args.dir.display()
        )));
    }
    let program = std::env::current_exe()
        .map_err(|e| Failure::error(format!("cannot find this program's path: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let metrics = match &args.metrics_addr {
            Some(text) => Some(bind(text).await?),
            None => None,
        };
        let (stop_tx, stop_rx) = watch::channel(Stop::None);
        let signals = signals()?;
        tokio::spawn(async move {
            let mut signals = signals;
            let mut count = 0;
            while signals.next().await {
                count += 1;
                let _ = stop_tx.send(if count == 1 { Stop::Drain } else { Stop::Now });
            }
        });
        let options = daemon::Options {
            dir: args.dir.clone(),
            state_dir: args
                .state_dir
                .clone()
                .unwrap_or_else(crate::runner::default_state_dir),
            program,
            metrics,
        };
        daemon::run(options, stop_rx)
            .await
            .map_err(|err| Failure::error(format!("{err:#}")))
    })?;
    Ok(exit::SUCCESS)
}

async fn bind(text: &str) -> Result<tokio::net::TcpListener, Failure> {
    let addr: SocketAddr = tokio::net::lookup_host(text)
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--metrics-addr {text:?} is not a HOST:PORT address (e.g. 127.0.0.1:9187)"
            ))
        })?;
    daemon::metrics::bind(addr)
        .await
        .map_err(|e| Failure::error(format!("cannot listen on {addr} for metrics: {e}")))
}

/// SIGTERM and SIGINT, registered before the daemon starts any run.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

fn signals() -> Result<Signals, Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| {
            signal(kind).map_err(|e| Failure::error(format!("cannot listen for signals: {e}")))
        };
        Ok(Signals {
            term: listen(SignalKind::terminate())?,
            int: listen(SignalKind::interrupt())?,
        })
    }
    #[cfg(not(unix))]
    {
        Ok(Signals {})
    }
}

impl Signals {
    /// The next signal; false when none can come any more.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            tokio::select! {
                got = self.term.recv() => got.is_some(),
                got = self.int.recv() => got.is_some(),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}
