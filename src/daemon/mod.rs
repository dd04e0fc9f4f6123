//! `aircall-dest daemon DIR`: runs every active destination file of a folder on its schedule.
//!
//! The loop polls the folder once a second (files added, edited, activated or paused are picked
//! up without a restart; an invalid file is reported once and skipped), starts each due
//! destination as a child `run` process ([`child`]), never two of one destination at once, and
//! when a run ends updates the metrics and sends the alerts it calls for. A stop request lets
//! the runs in progress drain (each is sent SIGTERM once) and returns when all have ended.

mod catalog;
mod child;
pub mod metrics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::alerts::{self, Health, RunFacts, RunVerdict};
use crate::schedule::Timing;
use catalog::{Catalog, Change, Fingerprint, Loaded};
use child::{Ended, Launcher};
pub use child::{TRIGGER_ENV, Trigger};
use metrics::Metrics;

/// How often the folder (and the inputs watched for changes) is looked at.
const POLL: Duration = Duration::from_secs(1);

/// What the daemon is asked to do.
#[derive(Debug)]
pub struct Options {
    pub dir: PathBuf,
    pub state_dir: PathBuf,
    /// The program runs are started with (this executable).
    pub program: PathBuf,
    /// Where `/metrics` and `/healthz` are served, already bound.
    pub metrics: Option<tokio::net::TcpListener>,
}

/// A stop request, from the first or a later signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    None,
    /// Start nothing more; let the runs in progress drain.
    Drain,
    /// Tell the runs again: they stop at once.
    Now,
}

/// One log line on standard error, time-stamped.
pub(crate) fn say(line: &str) {
    eprintln!("{} {line}", crate::timestamp::rfc3339(SystemTime::now()));
}

/// What the daemon keeps about one destination file between polls.
#[derive(Debug, Default)]
struct Tracked {
    /// The process id of the run in progress.
    running: Option<u32>,
    next_due: Option<SystemTime>,
    last_started: Option<SystemTime>,
    /// The input's fingerprint the last run (or the load) saw.
    input_seen: Option<Fingerprint>,
    /// A changed fingerprint seen once; a run starts when the next poll sees it unchanged, so a
    /// file still being written is not read half way.
    input_settling: Option<Fingerprint>,
    /// The input changed while a run was in progress: run again when it ends.
    input_pending: bool,
    health: Health,
}

/// Runs the daemon until `stop` asks it to end and every run has ended.
pub async fn run(options: Options, mut stop: watch::Receiver<Stop>) -> anyhow::Result<()> {
    let dir = options.dir.clone();
    let mut catalog = Catalog::default();
    // A folder that cannot be read at start is a configuration error; later, a warning.
    std::fs::read_dir(&dir)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", dir.display()))?;
    let metrics = Metrics::default();
    let (server_stop, server_stopped) = watch::channel(false);
    let mut server = None;
    if let Some(listener) = options.metrics {
        let addr = listener.local_addr()?;
        say(&format!(
            "metrics on http://{addr}/metrics, health on http://{addr}/healthz"
        ));
        server = Some(tokio::spawn(metrics::serve(
            listener,
            metrics.clone(),
            server_stopped,
        )));
    }
    say(&format!(
        "daemon watching {} (state in {})",
        dir.display(),
        options.state_dir.display()
    ));
    let launcher = Launcher {
        program: options.program,
        state_dir: options.state_dir,
    };
    let http = crate::client::HttpClient::with_timeouts(
        Duration::from_secs(10),
        Duration::from_secs(10),
        None,
    )?;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Ended>();
    let mut tracked: BTreeMap<PathBuf, Tracked> = BTreeMap::new();
    let mut notices = JoinSet::new();
    let mut stopping = Stop::None;
    let mut stop_open = true;
    let mut next_poll = tokio::time::Instant::now();
    loop {
        let running = tracked.values().filter(|t| t.running.is_some()).count();
        if stopping != Stop::None && running == 0 {
            break;
        }
        let wake = match (stopping, next_due(&tracked, &catalog)) {
            (Stop::None, Some(due)) => next_poll.min(instant_of(due)),
            (Stop::None, None) => next_poll,
            // While draining, only runs ending and a second signal matter.
            _ => tokio::time::Instant::now() + Duration::from_secs(3_600),
        };
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {
                if tokio::time::Instant::now() >= next_poll {
                    next_poll = tokio::time::Instant::now() + POLL;
                    apply_scan(&mut catalog, &mut tracked, &dir, &launcher.state_dir, &metrics);
                    watch_inputs(&catalog, &mut tracked);
                }
                start_due(&catalog, &mut tracked, &launcher, &done_tx, &metrics);
            }
            Some(ended) = done_rx.recv() => {
                finish(ended, &catalog, &mut tracked, &metrics, &http, &mut notices);
            }
            changed = stop.changed(), if stop_open => {
                // A stop channel gone (nobody left to signal) is a request to drain, once.
                stop_open = changed.is_ok();
                let request = if stop_open { *stop.borrow_and_update() } else { Stop::Drain };
                if request == Stop::None || request == stopping {
                    continue;
                }
                stopping = request;
                let pids: Vec<u32> = tracked.values().filter_map(|t| t.running).collect();
                say(&match request {
                    Stop::Drain => format!("stopping: starting no more runs; letting {} run(s) in progress drain", pids.len()),
                    _ => format!("stopping now: {} run(s) told to stop at once", pids.len()),
                });
                for pid in pids {
                    child::terminate(pid);
                }
            }
        }
    }
    // Notices already decided go out before the daemon ends (each send has its own timeout).
    while notices.join_next().await.is_some() {}
    let _ = server_stop.send(true);
    if let Some(server) = server {
        let _ = server.await;
    }
    say("daemon stopped");
    Ok(())
}

/// The tokio instant of a wall-clock time (now when it has passed).
fn instant_of(at: SystemTime) -> tokio::time::Instant {
    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
    tokio::time::Instant::now() + left
}

/// The earliest due time of an active destination with no run in progress.
fn next_due(tracked: &BTreeMap<PathBuf, Tracked>, catalog: &Catalog) -> Option<SystemTime> {
    tracked
        .iter()
        .filter(|(path, t)| {
            t.running.is_none() && catalog.loaded(path).is_some_and(Loaded::is_active)
        })
        .filter_map(|(_, t)| t.next_due)
        .min()
}

fn apply_scan(
    catalog: &mut Catalog,
    tracked: &mut BTreeMap<PathBuf, Tracked>,
    dir: &Path,
    state_dir: &Path,
    metrics: &Metrics,
) {
    let changes = match catalog.scan(dir) {
        Ok(changes) => changes,
        Err(err) => {
            say(&format!(
                "warning: cannot read {}: {err}; trying again",
                dir.display()
            ));
            return;
        }
    };
    let now = SystemTime::now();
    for change in changes {
        match change {
            Change::Loaded(path) => {
                let Some(loaded) = catalog.loaded(&path) else {
                    continue;
                };
                let t = tracked
                    .entry(path.clone())
                    .or_insert_with(|| remembered(state_dir, &path));
                t.next_due = first_due(loaded, t.last_started, now);
                if loaded.destination.schedule.on_input_change && t.input_seen.is_none() {
                    t.input_seen = Fingerprint::of(&loaded.input);
                }
                say(&format!("{}: {}", name(&path), describe(loaded)));
            }
            Change::Invalid(path, message) => {
                if let Some(t) = tracked.get_mut(&path) {
                    t.next_due = None;
                }
                say(&format!(
                    "error: {message}\n  (skipped until the file changes)"
                ));
            }
            Change::Removed(path) => {
                say(&format!("{}: removed", name(&path)));
                if tracked.get(&path).is_some_and(|t| t.running.is_none()) {
                    tracked.remove(&path);
                }
            }
        }
    }
    let (active, paused, invalid) = catalog.counts();
    metrics.set_files(active, paused, invalid);
}

/// What the destination's state file remembers of its last run: when it started (so `every`
/// keeps its pace across a restart of the daemon) and whether it failed (so a failure already
/// reported is not reported again).
fn remembered(state_dir: &Path, path: &Path) -> Tracked {
    let file = crate::state::StateStore::path_for(state_dir, path);
    let last = file
        .exists()
        .then(|| crate::state::StateStore::open(&file).and_then(|store| store.runs(1)))
        .and_then(Result::ok)
        .and_then(|runs| runs.into_iter().next());
    let Some(last) = last else {
        return Tracked::default();
    };
    let started = u64::try_from(last.started_at_ms)
        .ok()
        .map(|ms| std::time::UNIX_EPOCH + Duration::from_millis(ms));
    let failing = last.finished_at_ms.is_some()
        && RunVerdict::of_exit(last.exit_code.and_then(|c| i32::try_from(c).ok()))
            == RunVerdict::Failed;
    Tracked {
        last_started: started,
        health: Health {
            failing,
            rejecting: false,
        },
        ..Tracked::default()
    }
}

/// When a destination just loaded (or changed) is first due: `every` counts from the last start
/// (so an edit never makes it wait longer than the new interval), cron from now.
fn first_due(
    loaded: &Loaded,
    last_started: Option<SystemTime>,
    now: SystemTime,
) -> Option<SystemTime> {
    if !loaded.is_active() {
        return None;
    }
    match loaded.timing.as_ref()? {
        Timing::Every(interval) => Some(last_started.map_or(now, |at| (at + *interval).max(now))),
        timing => timing.next_after(now),
    }
}

fn describe(loaded: &Loaded) -> String {
    let destination = &loaded.destination;
    if !loaded.is_active() {
        return format!("{:?} is paused: not run", destination.name);
    }
    match destination.schedule.describe() {
        Some(schedule) => format!("{:?} is active: runs {schedule}", destination.name),
        None => format!(
            "{:?} is active but has no [schedule]: run it by hand with `aircall-dest run`",
            destination.name
        ),
    }
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn watch_inputs(catalog: &Catalog, tracked: &mut BTreeMap<PathBuf, Tracked>) {
    for (path, t) in tracked.iter_mut() {
        let Some(loaded) = catalog.loaded(path) else {
            continue;
        };
        if !loaded.is_active() || !loaded.destination.schedule.on_input_change {
            continue;
        }
        let now = Fingerprint::of(&loaded.input);
        if now == t.input_seen {
            t.input_settling = None;
        } else if now.is_some() && now == t.input_settling {
            t.input_seen = now;
            t.input_settling = None;
            t.input_pending = true;
        } else {
            t.input_settling = now;
        }
    }
}

fn start_due(
    catalog: &Catalog,
    tracked: &mut BTreeMap<PathBuf, Tracked>,
    launcher: &Launcher,
    done: &mpsc::UnboundedSender<Ended>,
    metrics: &Metrics,
) {
    let now = SystemTime::now();
    for (path, t) in tracked.iter_mut() {
        let Some(loaded) = catalog.loaded(path).filter(|l| l.is_active()) else {
            continue;
        };
        if t.running.is_some() {
            continue;
        }
        let trigger = if t.input_pending {
            Trigger::InputChange
        } else if t.next_due.is_some_and(|due| due <= now) {
            Trigger::Schedule
        } else {
            continue;
        };
        t.input_pending = false;
        t.last_started = Some(now);
        t.next_due = loaded
            .timing
            .as_ref()
            .and_then(|timing| timing.next_after(now));
        match launcher.start(path, trigger, done.clone()) {
            Ok(pid) => {
                t.running = Some(pid);
                metrics.started(&name(path), &loaded.destination.name);
                say(&format!(
                    "{}: run started ({}, pid {pid})",
                    name(path),
                    trigger.as_str()
                ));
            }
            Err(message) => say(&format!("error: {}: {message}", name(path))),
        }
    }
}

fn finish(
    ended: Ended,
    catalog: &Catalog,
    tracked: &mut BTreeMap<PathBuf, Tracked>,
    metrics: &Metrics,
    http: &crate::client::HttpClient,
    notices: &mut JoinSet<()>,
) {
    while notices.try_join_next().is_some() {}
    let file = name(&ended.path);
    let verdict = RunVerdict::of_exit(ended.exit_code);
    metrics.finished(
        &file,
        ended.exit_code,
        verdict == RunVerdict::Failed,
        ended.summary.as_ref(),
        ended.started,
        ended.finished,
    );
    let took = ended
        .finished
        .duration_since(ended.started)
        .unwrap_or_default();
    let counts = ended.summary.as_ref().map_or_else(String::new, |s| {
        let count = |k: &str| s.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        format!(
            ": {} read, {} delivered, {} dead-lettered, {} invalid, {} × 429",
            count("records_read"),
            count("delivered"),
            count("dead_lettered"),
            count("invalid"),
            count("http_429")
        )
    });
    say(&format!(
        "{file}: run ended ({}) in {:.1}s{counts}",
        ended
            .exit_code
            .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}")),
        took.as_secs_f64()
    ));
    let Some(t) = tracked.get_mut(&ended.path) else {
        return;
    };
    t.running = None;
    let Some(loaded) = catalog.loaded(&ended.path) else {
        // Removed (or made invalid) while it ran.
        if !catalog.entries.contains_key(&ended.path) {
            tracked.remove(&ended.path);
        }
        return;
    };
    let alerts_config = &loaded.destination.alerts;
    let (health, kinds) = alerts::decide(t.health, verdict, ended.summary.as_ref(), alerts_config);
    t.health = health;
    let Some(url) = alerts_config.webhook_url.clone() else {
        return;
    };
    for kind in kinds {
        let facts = RunFacts {
            destination: loaded.destination.name.clone(),
            file: ended.path.display().to_string(),
            trigger: ended.trigger.as_str().to_string(),
            started_at: crate::timestamp::rfc3339(ended.started),
            finished_at: crate::timestamp::rfc3339(ended.finished),
            exit_code: ended.exit_code,
            first_error: ended.first_error.clone(),
            summary: ended.summary.clone(),
        };
        let body = alerts::body(kind, &facts, alerts_config);
        let http = http.clone();
        let url = url.clone();
        let file = file.clone();
        notices.spawn(async move {
            match alerts::send(&http, &url, &body).await {
                Ok(()) => say(&format!("{file}: {} alert sent", kind.as_str())),
                Err(message) => say(&format!(
                    "warning: {file}: {} alert not sent: {message}",
                    kind.as_str()
                )),
            }
        });
    }
}
