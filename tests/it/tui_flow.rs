//! Key-driven walks through the wizard with the real update function, background tasks and
//! HTTP on loopback: the embedded default to a saved, activated file; editing one field of an
//! existing file; the pane against `preview`.

use crate::tui_common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aircall_dest::destination::{Destination, Method, Status};
use aircall_dest::tui::model::{Field, Init, Run, Sample, Step, TestState, Verify};
use crossterm::event::KeyCode;
use tui_common::{Harness, embedded_init, sandbox};

/// Saving writes the shared credentials store; one test at a time does, so their writes never
/// race on the store's temporary file.
static STORE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One configuration folder for this test binary: saving writes the credentials store there.
fn home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        // SAFETY: set once, before any test of this binary reads the environment.
        unsafe { std::env::set_var("AIRCALL_DEST_HOME", dir.path()) };
        dir
    })
    .path()
}

fn validate(path: &Path) {
    assert_cmd::Command::cargo_bin("aircall-dest")
        .expect("binary")
        .env("AIRCALL_DEST_HOME", home())
        .arg("validate")
        .arg(path)
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_to_a_saved_activated_destination() {
    home();
    let _store = STORE.lock().await;
    let sandbox = sandbox().await;
    let base = sandbox.url();
    let mut h = Harness::start(embedded_init(&base)).await;
    assert_eq!(h.model.step, Step::Source);
    assert_eq!(
        h.model.source.dataset.as_ref().map(|d| d.attributes.len()),
        Some(12)
    );

    // Step 1: verify the ready credential.
    h.focus(Field::Verify);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert!(
        matches!(
            h.model.credential.verify,
            Verify::Done(aircall_dest::client::PingOutcome::Ok { .. })
        ),
        "{:?}",
        h.model.credential.verify
    );

    // Step 2: the pane holds the contacts requests; send the first as a test.
    h.key(KeyCode::Tab);
    assert_eq!(h.model.focus, Field::Next);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Configure);
    assert!(
        matches!(h.model.pane.samples.first(), Some(Sample::Request { request, .. }) if request.url == format!("{base}/v1/contacts"))
    );
    h.focus(Field::Pane);
    h.key(KeyCode::Char('t'));
    h.settle().await;
    match &h.model.pane.test {
        TestState::Done(response) => {
            assert_eq!(response.status, 201);
            assert!(response.body.contains("Stephanie"), "{}", response.body);
        }
        other => panic!("expected a response, got {other:?}"),
    }
    h.key(KeyCode::Esc);
    assert_eq!(h.model.pane.test, TestState::Idle);

    // An edited body that is not JSON is shown as an error and not sent.
    h.key(KeyCode::Char('e'));
    assert_eq!(h.model.focus, Field::Editor);
    h.type_text("}");
    h.ctrl('s');
    assert_eq!(h.model.pane.test, TestState::Editing);
    assert!(
        h.model
            .notice
            .as_ref()
            .is_some_and(|(_, text)| text.contains("invalid JSON"))
    );
    h.key(KeyCode::Esc);

    // Turn batching on in the Advanced tab: one request carries the 100 records.
    h.focus(Field::Tabs);
    h.key(KeyCode::Right);
    h.focus(Field::Setting(
        aircall_dest::tui::sections::batching::ENABLED,
    ));
    h.key(KeyCode::Char(' '));
    match h.model.pane.samples.first() {
        Some(Sample::Request { request, .. }) => assert_eq!(request.records.len(), 100),
        other => panic!("expected one batched request, got {other:?}"),
    }
    // Aircall creates contacts one at a time: turn it off again.
    h.key(KeyCode::Char(' '));
    assert!(!h.model.dest.batching.enabled);
    assert_eq!(
        h.model.pane.samples.len(),
        aircall_dest::tui::model::PANE_REQUESTS
    );

    // Step 3: save and activate into a temp folder.
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("newcomer.toml");
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    h.save_active_as(&path).await;
    assert_eq!(
        h.model.save.saved,
        Some((path.clone(), Status::Active)),
        "error: {:?}",
        h.model.save.error
    );
    let saved = Destination::load(&path).expect("the saved file loads");
    assert_eq!(saved.status, Status::Active);
    assert_eq!(saved.credential, "Local sandbox");
    assert!(!saved.batching.enabled);
    assert_eq!(
        saved.template.as_ref().map(|t| t.id.as_str()),
        Some("create_records")
    );
    assert!(
        saved.source.path.is_absolute(),
        "the bundled dataset is named so it is found from anywhere"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("sandbox-token"),
        "no secret in the destination file"
    );
    validate(&path);

    // Start the run: contacts reach the sandbox, then the run is stopped cleanly.
    assert_eq!(
        h.model.focus,
        Field::SaveActivate,
        "saving does not move the focus"
    );
    h.key(KeyCode::Tab);
    assert_eq!(h.model.focus, Field::StartRun, "the run is the next stop");
    h.key(KeyCode::Enter);
    assert!(matches!(h.model.save.run, Run::Running { .. }));
    h.until(|m| matches!(&m.save.run, Run::Running { progress, .. } if progress.delivered >= 1))
        .await;
    assert_eq!(h.model.focus, Field::StopRun);
    h.key(KeyCode::Enter);
    h.settle().await;
    match &h.model.save.run {
        Run::Finished(Ok(progress)) => {
            assert!(!progress.done);
            assert!(progress.delivered >= 1 && progress.delivered < 100);
            assert_eq!(progress.rejected, 0);
        }
        other => panic!("expected a stopped run, got {other:?}"),
    }
    let contacts = sandbox
        .journal()
        .iter()
        .filter(|e| e.method == "POST" && e.path == "/v1/contacts")
        .count();
    assert!(
        contacts >= 2,
        "Send Test and the run reached the sandbox ({contacts} creates)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_can_be_stopped_cleanly() {
    home();
    let _store = STORE.lock().await;
    let sandbox = sandbox().await;
    let mut h = Harness::start(embedded_init(&sandbox.url())).await;
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("slow.toml");
    h.ctrl('n');
    h.ctrl('n');
    h.save_active_as(&path).await;
    h.focus(Field::StartRun);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.focus, Field::StopRun);
    // 60 requests a minute: the run is far from done when stopped.
    h.key(KeyCode::Enter);
    h.settle().await;
    match &h.model.save.run {
        Run::Finished(Ok(progress)) => {
            assert!(!progress.done);
            assert!(progress.sent < 100);
        }
        other => panic!("expected a stopped run, got {other:?}"),
    }
}

/// The embedded default with Sync on (key `Customer Id`, upsert) and pacing off, saved active
/// at `path`.
async fn sync_destination(h: &mut Harness, path: &Path) {
    use aircall_dest::tui::sections::{delivery, sync};
    h.ctrl('n');
    h.key(KeyCode::Right); // Advanced tab
    h.focus(Field::Setting(sync::ENABLED));
    h.key(KeyCode::Char(' '));
    h.settle().await;
    assert!(h.model.dest.sync.is_some());
    // Pacing off, so the 100 records go at once.
    h.focus(Field::Setting(delivery::RATE));
    h.ctrl('u');
    h.type_text("0");
    assert_eq!(h.model.dest.delivery.rate_limit_per_minute, 0);
    h.ctrl('n');
    h.save_active_as(path).await;
}

/// Started from the Run button, to its end.
async fn run_to_the_end(h: &mut Harness) -> aircall_dest::tui::msg::RunProgress {
    h.focus(Field::StartRun);
    h.key(KeyCode::Enter);
    assert!(matches!(h.model.save.run, Run::Running { .. }));
    h.until(|m| matches!(m.save.run, Run::Finished(_))).await;
    match &h.model.save.run {
        Run::Finished(Ok(progress)) => progress.clone(),
        other => panic!("expected a finished sync, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_destination_runs_from_the_wizard_and_a_second_run_sends_nothing() {
    home();
    let _store = STORE.lock().await;
    let sandbox = sandbox().await;
    let mut h = Harness::start(embedded_init(&sandbox.url())).await;
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("sync.toml");
    sync_destination(&mut h, &path).await;
    let screen = h.render(80, 24);
    assert!(
        screen.contains("sync on Customer Id · mode upsert: a run sends only what changed"),
        "{screen}"
    );
    let creates = |sandbox: &aircall_dest::sandbox::Sandbox| {
        sandbox
            .journal()
            .iter()
            .filter(|e| e.method == "POST" && e.path == "/v1/contacts")
            .count() as u64
    };

    // Day 1: every valid row is created, once.
    let first = run_to_the_end(&mut h).await;
    assert!(first.done, "{first:?}");
    let counts = first.sync.expect("a sync's counts");
    assert!(counts.created > 0, "{first:?}");
    assert_eq!(
        counts.created,
        creates(&sandbox),
        "one create per row created"
    );
    assert_eq!(counts.created, first.delivered);
    assert_eq!(
        first.delivered + first.invalid + first.rejected + first.in_doubt + first.skipped,
        100,
        "every row of customers-100.csv counted once: {first:?}"
    );
    let screen = h.render(80, 24);
    assert!(screen.contains("100/100 (100%)"), "{screen}");
    assert!(
        screen.contains(&format!("created {} · updated 0", counts.created)),
        "{screen}"
    );

    // Day 2, the same export: nothing is sent, every created row is unchanged.
    let requests_before = sandbox.journal().len();
    let second = run_to_the_end(&mut h).await;
    assert!(second.done);
    assert_eq!(second.sent, 0, "{second:?}");
    assert_eq!(sandbox.journal().len(), requests_before);
    let again = second.sync.expect("a sync's counts");
    assert_eq!((again.created, again.updated), (0, 0));
    assert_eq!(again.unchanged, counts.created);
    assert_eq!(second.skipped, counts.created, "unchanged rows are skipped");
    let screen = h.render(80, 24);
    assert!(screen.contains("100/100 (100%)"), "{screen}");
    assert!(
        screen.contains(&format!("unchanged {}", counts.created)),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_stopped_at_once_in_the_wizard_is_finished_by_the_next_run_without_duplicates() {
    home();
    let _store = STORE.lock().await;
    // Slow answers, so that keys are mid-request when the run is stopped.
    let sandbox = aircall_dest::sandbox::start(aircall_dest::sandbox::SandboxConfig {
        rate_limit: 0,
        faults: "latency=200..300ms".parse().expect("fault spec"),
        ..Default::default()
    })
    .await
    .expect("sandbox starts");
    let mut h = Harness::start(embedded_init(&sandbox.url())).await;
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("sync.toml");
    sync_destination(&mut h, &path).await;
    h.focus(Field::StartRun);
    h.key(KeyCode::Enter);
    h.until(|m| {
        matches!(&m.save.run, Run::Running { progress, .. }
            if progress.delivered >= 4 && progress.in_flight > 0)
    })
    .await;
    // Stop, then Stop now: the keys in flight are abandoned.
    h.key(KeyCode::Enter);
    h.key(KeyCode::Enter);
    h.settle().await;
    let stopped = match &h.model.save.run {
        Run::Finished(Ok(progress)) => progress.clone(),
        other => panic!("expected a stopped sync, got {other:?}"),
    };
    assert!(!stopped.done, "{stopped:?}");
    let note = stopped.note.clone().unwrap_or_default();
    assert!(note.contains("abandoned"), "{note}");
    assert!(
        stopped.delivered >= 4,
        "the counts shown last stay: {stopped:?}"
    );
    let created_before = sandbox.state()["contacts"]
        .as_object()
        .map_or(0, |c| c.len());
    assert!(
        created_before < 100,
        "stopped early: {created_before} contacts"
    );

    // The next run finishes the sync: every row's contact exists exactly once.
    let last = run_to_the_end(&mut h).await;
    assert!(last.done, "{last:?}");
    let contacts = sandbox.state()["contacts"].clone();
    let contacts = contacts.as_object().expect("contacts");
    let valid = 100 - last.invalid;
    assert_eq!(contacts.len() as u64, valid, "one contact per valid row");
    let mut names: Vec<String> = contacts
        .values()
        .map(|c| {
            format!(
                "{} {} {}",
                c["first_name"], c["last_name"], c["company_name"]
            )
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len() as u64, valid, "no row created twice");
}

fn copy_example(dir: &Path) -> PathBuf {
    let examples = dir.join("examples");
    std::fs::create_dir_all(&examples).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::copy(
        "assets/data/customers-100.csv",
        dir.join("data/customers-100.csv"),
    )
    .unwrap();
    let path = examples.join("contacts.toml");
    std::fs::copy("assets/examples/contacts.toml", &path).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_one_field_of_an_existing_file_changes_only_that_field() {
    home();
    let _store = STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = copy_example(dir.path());
    let original = Destination::load(&path).unwrap();
    let original_text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(original.status, Status::Paused);
    let mut h = Harness::start(Init {
        dest_path: Some(path.clone()),
        destination: Some(original.clone()),
        original_text: Some(original_text.clone()),
        ..Init::default()
    })
    .await;
    assert!(
        h.model.source.dataset.is_some(),
        "the file's relative source is found: {:?}",
        h.model.source.inspect
    );
    // The credential it names is not saved here: pick the New credential form and fill it.
    assert_eq!(
        h.model.credential.name.value(),
        "Local sandbox",
        "the missing credential's name is offered"
    );
    h.focus(Field::CredApiId);
    h.type_text("sandbox-id");
    h.focus(Field::CredToken);
    h.type_text("sandbox-token");
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Configure);
    h.key(KeyCode::Right);
    h.focus(Field::Method);
    h.key(KeyCode::Right); // POST → PUT
    assert_eq!(h.model.dest.request.method, Method::Put);
    h.ctrl('n');
    assert_eq!(h.model.save.path.value(), path.display().to_string());
    h.focus(Field::Save);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(
        h.model.save.saved,
        Some((path.clone(), Status::Paused)),
        "error: {:?}",
        h.model.save.error
    );
    let saved = Destination::load(&path).unwrap();
    let mut expected = original.clone();
    expected.request.method = Method::Put;
    assert_eq!(saved, expected);
    // The hand-written file keeps every comment and line; only the edited one differs.
    let text = std::fs::read_to_string(&path).unwrap();
    let changed: Vec<(&str, &str)> = original_text
        .lines()
        .zip(text.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        original_text.lines().count(),
        text.lines().count(),
        "{text}"
    );
    assert_eq!(changed, [("method = \"POST\"", "method = \"PUT\"")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pane_shows_what_preview_prints() {
    let empty_home = tempfile::tempdir().unwrap();
    let path = PathBuf::from("assets/examples/contacts.toml");
    let destination = Destination::load(&path).unwrap();
    let h = Harness::start(Init {
        dest_path: Some(path.clone()),
        destination: Some(destination),
        ..Init::default()
    })
    .await;
    let pane: Vec<serde_json::Value> = h
        .model
        .pane
        .samples
        .iter()
        .filter_map(|s| match s {
            Sample::Request { preview, .. } => Some(preview.clone()),
            Sample::Invalid { .. } => None,
        })
        .collect();
    assert_eq!(pane.len(), aircall_dest::tui::model::PANE_REQUESTS);
    let output = assert_cmd::Command::cargo_bin("aircall-dest")
        .unwrap()
        .env("AIRCALL_DEST_HOME", empty_home.path())
        .args(["preview", "assets/examples/contacts.toml", "--limit", "10"])
        .output()
        .unwrap();
    let printed: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(pane, printed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_drops_settings_of_disabled_batching_and_explains_the_local_sandbox() {
    home();
    let _store = STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = copy_example(dir.path());
    let original_text = format!(
        "{}\n[batching]\nenabled = false\nalgorithm = \"group_by\"\ngroup_by = \"Company\"\n",
        std::fs::read_to_string(&path).unwrap()
    );
    std::fs::write(&path, &original_text).unwrap();
    let original = Destination::load(&path).unwrap();
    assert_eq!(original.batching.group_by.as_deref(), Some("Company"));
    let mut h = Harness::start(Init {
        dest_path: Some(path.clone()),
        destination: Some(original),
        original_text: Some(original_text),
        ..embedded_init("http://127.0.0.1:47800")
    })
    .await;
    h.ctrl('n');
    h.ctrl('n');
    h.focus(Field::Save);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(
        h.model.save.saved,
        Some((path.clone(), Status::Paused)),
        "{:?}",
        h.model.save.error
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("group_by"),
        "no setting of the disabled batching is kept:\n{text}"
    );
    assert!(
        text.contains(
            "# \"Local sandbox\" is the sandbox the wizard starts inside itself at 127.0.0.1:47800; for a run\n\
             # without the wizard, start it first: aircall-dest sandbox --addr 127.0.0.1:47800\n\
             credential = \"Local sandbox\""
        ),
        "the credential is explained:\n{text}"
    );
    validate(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_typed_on_the_save_step_is_checked_saved_and_explained() {
    use aircall_dest::tui::sections::schedule;
    home();
    let _store = STORE.lock().await;
    let sandbox = sandbox().await;
    let mut h = Harness::start(embedded_init(&sandbox.url())).await;
    let out = tempfile::tempdir().expect("temp dir");
    let path = out.path().join("scheduled.toml");
    h.ctrl('n');
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    h.focus(Field::SavePath);
    h.ctrl('u');
    h.type_text(&path.display().to_string());

    // none → every: the interval field appears.
    h.focus(Field::Setting(schedule::KIND));
    h.key(KeyCode::Right);
    h.focus(Field::Setting(schedule::EVERY));
    h.ctrl('u');
    h.type_text("15x");
    let every = Field::Setting(schedule::EVERY);
    let error = h
        .model
        .error_for(every)
        .expect("15x is refused")
        .to_string();
    // The daemon's parser explains: a number and one of its units.
    assert!(
        error.contains("a number and a unit (s, m, h or d)"),
        "{error}"
    );
    let screen = h.render(80, 24);
    assert!(
        screen.contains("✗ expected a number and a unit"),
        "{screen}"
    );

    // Save & Activate refuses while the value is wrong, and writes nothing.
    h.focus(Field::SaveActivate);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(h.model.save.saved, None);
    let refused = h.model.save.error.clone().unwrap_or_default();
    assert!(refused.starts_with("Every: expected a number"), "{refused}");
    assert!(!path.exists());

    // 15x → 15m: accepted, saved, and `validate` agrees.
    h.focus(every);
    h.key(KeyCode::Backspace);
    h.type_text("m");
    assert_eq!(h.model.error_for(every), None);
    h.focus(Field::SaveActivate);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(
        h.model.save.saved,
        Some((path.clone(), Status::Active)),
        "error: {:?}",
        h.model.save.error
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\n[schedule]\nevery = \"15m\"\n"), "{text}");
    validate(&path);
    assert_eq!(
        h.model.focus,
        Field::SaveActivate,
        "saving does not move the focus"
    );

    // The screen and the exit note say the daemon runs it, watching the file's folder.
    let folder = out.path().display().to_string();
    let screen = h.render(120, 40);
    assert!(
        screen.contains(&format!(
            "runs every 15m under `aircall-dest daemon {folder}`"
        )),
        "{screen}"
    );
    let note = aircall_dest::tui::exit_note(&h.model);
    assert_eq!(
        note,
        format!(
            "Saved {} (active). The daemon runs it every 15m: aircall-dest daemon {folder} \
             (or once now: aircall-dest run {})",
            path.display(),
            path.display()
        )
    );
}
