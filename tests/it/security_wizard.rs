//! The canary through the wizard: a new credential typed in with a unique token, verified, its
//! requests shown in the sample pane, a Send Test, a response capture, Save & Activate and a run,
//! every screen rendered at several sizes. The canary, and its Basic form, appear in no rendered
//! buffer, in no `Debug` of the model, in no file written but the credentials store, and not in
//! the sandbox's journal. (The headless half of the canary test is in `tests/security.rs`.)

use crate::tui_common;

use std::path::{Path, PathBuf};

use aircall_dest::sandbox::{self, SandboxConfig, SandboxCredentials};
use aircall_dest::secret::Secret;
use aircall_dest::tui::model::{Field, Init, Run, Sample, Step, TestState, Verify};
use base64::Engine;
use crossterm::event::KeyCode;
use tui_common::{Harness, SAMPLE};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Rendered screens and model dumps, labelled, for the final search.
#[derive(Default)]
struct Screens {
    shots: Vec<(String, String)>,
}

impl Screens {
    fn take(&mut self, label: &str, h: &Harness) {
        for (width, height) in SIZES {
            self.shots
                .push((format!("{label} {width}x{height}"), h.render(width, height)));
        }
        self.shots
            .push((format!("{label} model Debug"), format!("{:?}", h.model)));
    }

    fn any(&self, needle: &str) -> bool {
        self.shots.iter().any(|(_, text)| text.contains(needle))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_typed_into_the_wizard_appears_on_no_screen_and_in_no_file() {
    let home = tempfile::tempdir().expect("temp home");
    let out = tempfile::tempdir().expect("temp output folder");
    // SAFETY: this test binary holds one test, and it sets the variable before anything reads it.
    unsafe { std::env::set_var("AIRCALL_DEST_HOME", home.path()) };

    let canary = format!(
        "wzcnry{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let api_id = "wizard-id";
    let pair = format!("{api_id}:{canary}");
    let journal = out.path().join("sandbox-journal.jsonl");
    let sandbox = sandbox::start(SandboxConfig {
        rate_limit: 0,
        journal: Some(journal.clone()),
        credentials: SandboxCredentials {
            api_id: api_id.into(),
            api_token: Secret::new(canary.clone()),
            bearer: Secret::new(format!("{canary}-bearer")),
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let base = sandbox.url();

    let mut screens = Screens::default();
    let mut h = Harness::start(Init {
        default_dataset: Some(SAMPLE.into()),
        ..Init::default()
    })
    .await;
    assert!(
        h.model.is_new_credential(),
        "nothing saved: a new credential"
    );
    screens.take("start", &h);

    // Step 1: the new credential, its token typed and then pasted (both are masked).
    h.focus(Field::CredName);
    h.type_text("wizard-canary");
    h.focus(Field::CredApiId);
    h.type_text(api_id);
    h.focus(Field::CredToken);
    let (first, second) = canary.split_at(canary.len() / 2);
    h.type_text(first);
    screens.take("token half typed", &h);
    h.send(aircall_dest::tui::msg::Msg::Paste(second.to_string()));
    assert_eq!(h.model.credential.token.value(), canary);
    screens.take("token typed", &h);
    h.focus(Field::CredAdvanced);
    h.key(KeyCode::Char(' '));
    h.focus(Field::CredBaseUrl);
    h.ctrl('u');
    h.type_text(&base);
    screens.take("credential filled", &h);
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
    screens.take("verified", &h);

    // Step 2: the pane shows the requests (credential masked); a Send Test gets 201.
    h.focus(Field::Next);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Configure);
    assert!(matches!(
        h.model.pane.samples.first(),
        Some(Sample::Request { request, .. }) if request.url == format!("{base}/v1/contacts")
    ));
    screens.take("configure", &h);
    h.focus(Field::Pane);
    h.key(KeyCode::Enter);
    screens.take("sample expanded", &h);
    h.key(KeyCode::Char('t'));
    h.settle().await;
    match &h.model.pane.test {
        TestState::Done(response) => assert_eq!(response.status, 201, "{}", response.body),
        other => panic!("expected a response, got {other:?}"),
    }
    screens.take("test response", &h);
    h.key(KeyCode::Esc);

    // Response capture into the output folder (Advanced tab).
    let capture = out.path().join("responses.jsonl");
    h.focus(Field::Tabs);
    h.key(KeyCode::Right);
    h.focus(Field::Setting(aircall_dest::tui::sections::capture::FILE));
    h.type_text(&capture.display().to_string());
    screens.take("advanced", &h);

    // Step 3: Save & Activate, run until records are delivered, stop.
    let dest = out.path().join("wizard.toml");
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    h.save_active_as(&dest).await;
    assert!(h.model.save.saved.is_some(), "{:?}", h.model.save.error);
    screens.take("saved", &h);
    h.focus(Field::StartRun);
    h.key(KeyCode::Enter);
    assert!(matches!(h.model.save.run, Run::Running { .. }));
    h.until(|m| matches!(&m.save.run, Run::Running { progress, .. } if progress.delivered >= 2))
        .await;
    screens.take("running", &h);
    h.focus(Field::StopRun);
    h.key(KeyCode::Enter);
    h.settle().await;
    assert!(matches!(h.model.save.run, Run::Finished(Ok(_))));
    screens.take("stopped", &h);
    sandbox.shutdown().await;

    // The flow was real: the screens showed the masked credential, the sandbox saw it on
    // every request, and the store, capture and destination file were written.
    assert!(
        screens.any("•••"),
        "the token field and the pane show the mask"
    );
    assert!(
        screens.any("Basic •••"),
        "the pane shows the masked Authorization header"
    );
    let entries: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .expect("journal written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        entries.len() >= 4,
        "ping, send test and run: {}",
        entries.len()
    );
    assert!(
        entries
            .iter()
            .all(|e| e["headers"]["authorization"] == "Basic •••")
    );
    // The wizard's run is the headless runner: it captured responses and kept its outcome log
    // (in the config home); both are searched below with everything else.
    let captured = std::fs::read_to_string(&capture).unwrap_or_default();
    assert!(captured.lines().count() >= 2, "capture written: {captured}");
    assert!(
        files_under(home.path()).len() >= 2,
        "store and outcome log: {:?}",
        files_under(home.path())
    );

    let basic = base64::engine::general_purpose::STANDARD.encode(&pair);
    let needles = [
        canary.clone(),
        basic.trim_end_matches('=').to_string(),
        base64::engine::general_purpose::STANDARD
            .encode(&canary)
            .trim_end_matches('=')
            .to_string(),
    ];
    let store = home.path().join("credentials.toml");
    assert!(
        contains(
            &std::fs::read(&store).expect("the wizard saved the credential"),
            &canary
        ),
        "the search finds the canary where it belongs"
    );
    let mut leaks = Vec::new();
    let mut searched = 0;
    for file in files_under(home.path())
        .into_iter()
        .chain(files_under(out.path()))
    {
        if file == store {
            continue;
        }
        searched += 1;
        let bytes = std::fs::read(&file).expect("readable file");
        for needle in &needles {
            if contains(&bytes, needle) {
                leaks.push(format!("{} holds {needle}", file.display()));
            }
        }
    }
    assert!(
        searched >= 4,
        "destination file, capture, journal, outcome log: {searched}"
    );
    for (label, text) in &screens.shots {
        for needle in &needles {
            if text.contains(needle.as_str()) {
                leaks.push(format!("screen {label} shows {needle}"));
            }
        }
    }
    assert!(leaks.is_empty(), "the canary leaked:\n{}", leaks.join("\n"));
}

/// The wizard's Send Test against a server answering `307` to another host: the answer is
/// shown as it came, and the other host receives nothing (no credential, no record).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_follows_no_redirect() {
    let target = sandbox::start(SandboxConfig {
        rate_limit: 0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let location = format!("{}/v1/contacts", target.url());
    let app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [("location", location)],
                "",
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut h = Harness::start(Init {
        credentials: vec![tui_common::sandbox_credential(&redirector)],
        default_dataset: Some(SAMPLE.into()),
        ..Init::default()
    })
    .await;
    h.focus(Field::Next);
    h.key(KeyCode::Enter);
    assert_eq!(h.model.step, Step::Configure);
    h.focus(Field::Pane);
    h.key(KeyCode::Char('t'));
    h.settle().await;
    match &h.model.pane.test {
        TestState::Done(response) => assert_eq!(response.status, 307),
        other => panic!("expected the 307 as the answer, got {other:?}"),
    }
    assert!(target.journal().is_empty(), "{:?}", target.journal());
}

/// A server that echoes the credential back in its body and a header: the wizard's response
/// view shows `•••` there, and no rendered screen shows the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_credential_is_masked_in_the_wizards_response_view() {
    let app = axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = serde_json::json!({ "you_sent": auth });
        (
            axum::http::StatusCode::OK,
            [("x-echo", auth)],
            body.to_string(),
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let canary = format!("echocnry{:x}", std::process::id());
    let credential = aircall_dest::credentials::Credential {
        name: "echoed".into(),
        description: String::new(),
        api_id: "echo-id".into(),
        token: aircall_dest::credentials::TokenSource::Stored(Secret::new(canary.clone())),
        kind: aircall_dest::credentials::AuthKind::Basic,
        base_url: echo,
    };
    let mut h = Harness::start(Init {
        credentials: vec![credential],
        default_dataset: Some(SAMPLE.into()),
        ..Init::default()
    })
    .await;
    h.focus(Field::Next);
    h.key(KeyCode::Enter);
    h.focus(Field::Pane);
    h.key(KeyCode::Char('t'));
    h.settle().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("echo-id:{canary}"));
    match &h.model.pane.test {
        TestState::Done(response) => {
            assert!(response.body.contains("•••"), "{}", response.body);
            for text in
                std::iter::once(&response.body).chain(response.headers.iter().map(|(_, v)| v))
            {
                assert!(!text.contains(&canary) && !text.contains(&basic), "{text}");
            }
        }
        other => panic!("expected a response, got {other:?}"),
    }
    for (width, height) in SIZES {
        let screen = h.render(width, height);
        assert!(
            !screen.contains(&canary) && !screen.contains(&basic[..20]),
            "{screen}"
        );
    }
}
