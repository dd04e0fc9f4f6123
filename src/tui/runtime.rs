//! The wizard's edge: sets the terminal up (and restores it on exit, error and panic), turns
//! terminal events and finished tasks into messages, and runs the commands `update` returns.

use std::collections::HashMap;
use std::io::{Stdout, stdout};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::runner::StopRequest;
use crate::tui::model::{Inspect, Model, Run, TestState, Verify};
use crate::tui::msg::{Cmd, Msg, TaskId};
use crate::tui::{dataset, tasks, update, view};

/// Running background work, so Esc and Stop can reach it.
#[derive(Default)]
pub struct Tasks {
    aborts: HashMap<TaskId, AbortHandle>,
    stops: HashMap<TaskId, watch::Sender<StopRequest>>,
}

/// Carries out one command. Returns `false` when the wizard should end.
pub fn execute(cmd: Cmd, tx: &UnboundedSender<Msg>, tasks: &mut Tasks) -> bool {
    match cmd {
        Cmd::Copy { text } => {
            use std::io::Write;
            let mut out = stdout();
            if let Err(e) = out
                .write_all(crate::tui::curl::osc52(&text).as_bytes())
                .and_then(|_| out.flush())
            {
                tracing::warn!("cannot write to the clipboard: {e}");
            }
        }
        Cmd::Quit => {
            for (_, stop) in tasks.stops.drain() {
                let _ = stop.send(StopRequest::Drain);
            }
            for (_, abort) in tasks.aborts.drain() {
                abort.abort();
            }
            return false;
        }
        Cmd::InspectDataset { id, path, options } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let result = dataset::inspect(&path, options);
                let _ = tx.send(Msg::DatasetInspected { id, result });
            });
        }
        Cmd::CountRecords { id, path } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let count = dataset::count(&path, None);
                let _ = tx.send(Msg::RecordsCounted { id, count });
            });
        }
        Cmd::CompletePath { id, typed } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let items = dataset::complete_path(&typed);
                let _ = tx.send(Msg::PathCompletions { id, items });
            });
        }
        Cmd::Verify { id, credential } => {
            let tx = tx.clone();
            let handle = tokio::spawn(async move {
                let outcome = crate::client::ping(&credential).await;
                let _ = tx.send(Msg::Verified { id, outcome });
            });
            tasks.aborts.insert(id, handle.abort_handle());
        }
        Cmd::SendTest { id, request } => {
            let tx = tx.clone();
            let handle = tokio::spawn(async move {
                let result = tasks::send_test(request).await;
                let _ = tx.send(Msg::TestSent { id, result });
            });
            tasks.aborts.insert(id, handle.abort_handle());
        }
        Cmd::Cancel { id } => {
            if let Some(abort) = tasks.aborts.remove(&id) {
                abort.abort();
            }
            if let Some(stop) = tasks.stops.get(&id) {
                // A first stop drains (in-flight requests finish); a second stops at once.
                let next = if *stop.borrow() == StopRequest::None {
                    StopRequest::Drain
                } else {
                    StopRequest::Now
                };
                let _ = stop.send(next);
            }
        }
        Cmd::Save {
            path,
            destination,
            text,
            credential,
        } => {
            let result = tasks::save(&path, &destination, &text, credential);
            let _ = tx.send(Msg::Saved { result });
        }
        Cmd::StartRun {
            id,
            dest_path,
            credential,
        } => {
            let (stop_tx, stop_rx) = watch::channel(StopRequest::None);
            tasks.stops.insert(id, stop_tx);
            tokio::spawn(tasks::run(id, dest_path, credential, tx.clone(), stop_rx));
        }
        Cmd::PreviewSync {
            id,
            destination,
            dest_path,
            base_url,
            records,
        } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let state_dir = crate::runner::default_state_dir();
                let state = crate::sync::state_path(&state_dir, &dest_path);
                let result = crate::tui::sections::sync::sample_operations(
                    &destination,
                    &state,
                    &base_url,
                    &records,
                );
                let _ = tx.send(Msg::SyncPreviewed { id, result });
            });
        }
    }
    true
}

/// Whether something on screen animates, so ticks are worth a redraw.
pub fn animating(model: &Model) -> bool {
    matches!(model.source.inspect, Inspect::Running(_))
        || matches!(model.source.count, crate::tui::model::Count::Counting(_))
        || matches!(model.credential.verify, Verify::Running(_))
        || matches!(model.pane.test, TestState::Sending { .. })
        || matches!(model.save.run, Run::Running { .. })
        || matches!(
            model.configure.sync_preview,
            crate::tui::model::SyncPreview::Working(_)
        )
}

fn to_msg(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Mouse(mouse) => Some(Msg::Mouse(mouse)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// The event loop: draw, wait for a terminal event, a task's message or a tick, update, run.
pub async fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    events: impl futures::Stream<Item = std::io::Result<Event>> + Unpin,
    tx: UnboundedSender<Msg>,
    mut rx: UnboundedReceiver<Msg>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut events = events;
    let mut tasks = Tasks::default();
    let size = terminal.size()?;
    model.width = size.width;
    model.height = size.height;
    for cmd in update::start(model) {
        execute(cmd, &tx, &mut tasks);
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        let mut drawn = None;
        terminal.draw(|frame| drawn = Some(view::draw(model, frame)))?;
        model.drawn = drawn.unwrap_or_default();
        let msg = tokio::select! {
            biased;
            Some(msg) = rx.recv() => msg,
            event = events.next() => match event {
                Some(Ok(event)) => match to_msg(event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = ticker.tick(), if animating(model) => Msg::Tick,
        };
        let mut queue = vec![msg];
        // Apply everything already waiting before drawing again, so bursts cost one frame.
        while let Ok(more) = rx.try_recv() {
            queue.push(more);
        }
        for msg in queue {
            for cmd in update::update(model, msg) {
                if !execute(cmd, &tx, &mut tasks) {
                    return Ok(());
                }
            }
        }
    }
}

/// Puts the terminal back as it was: cooked mode, main screen, no mouse capture.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

fn setup_terminal() -> anyhow::Result<Terminal<CrosstermBackend<Stdout>>> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    Ok(Terminal::new(CrosstermBackend::new(stdout()))?)
}

/// Sends `tracing` output to a file while the terminal belongs to the wizard.
fn start_logging() -> Option<PathBuf> {
    let dir = crate::paths::logs_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("wizard.log");
    let file = crate::files::open_private_append(&path).ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIRCALL_DEST_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()?;
    Some(path)
}

/// Runs the wizard in this terminal until the person quits.
pub async fn run_in_terminal(mut model: Model) -> anyhow::Result<Model> {
    let log = start_logging();
    tracing::info!(log = ?log, "wizard started");
    let mut terminal = setup_terminal()?;
    let (tx, rx) = unbounded_channel();
    let result = event_loop(&mut terminal, &mut model, EventStream::new(), tx, rx).await;
    restore_terminal();
    tracing::info!("wizard ended");
    result.map(|_| model)
}
