//! Data health in the wizard: the reader's diagnosis and the invalid share of the sample on
//! step 1, and Save asking again when every sample record is invalid.

use crate::tui_common;

use std::path::{Path, PathBuf};

use aircall_dest::destination::{Destination, Status};
use aircall_dest::tui::model::{Init, Step};
use crossterm::event::KeyCode;
use tui_common::{Harness, sandbox_credential};

/// The shipped example, its dataset replaced by `input`, with its credential saved.
fn init(input: &Path) -> Init {
    let path = PathBuf::from("assets/examples/contacts.toml");
    let destination = Destination::load(&path).expect("the example loads");
    Init {
        dest_path: Some(path),
        destination: Some(destination),
        input: Some(input.to_path_buf()),
        credentials: vec![sandbox_credential("http://127.0.0.1:9")],
        ..Init::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_invalid_shows_on_step_one_and_save_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("wrong.csv");
    std::fs::write(&input, "colour,size\nred,1\nblue,2\ngreen,3\n").unwrap();
    let mut h = Harness::start(init(&input)).await;
    assert_eq!(h.model.step, Step::Source);
    let screen = h.render(120, 40);
    assert!(
        screen.contains("✗ 3 of 3 sample records invalid: attribute `First Name` is missing"),
        "step 1 says the records are invalid:\n{screen}"
    );

    h.ctrl('n');
    h.ctrl('n');
    assert_eq!(h.model.step, Step::Save);
    let path = dir.path().join("wrong.toml");
    h.save_active_as(&path).await;
    assert_eq!(h.model.save.saved, None, "the first press only warns");
    assert!(!path.exists());
    let warning = h.model.save.error.clone().unwrap_or_default();
    assert!(
        warning.contains("every sample record is invalid")
            && warning.contains("Press Save & Activate again"),
        "{warning}"
    );
    assert!(h.render(80, 24).contains("every sample record"));

    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(
        h.model.save.saved,
        Some((path.clone(), Status::Active)),
        "the second press saves: {:?}",
        h.model.save.error
    );
    assert!(path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readers_diagnosis_shows_on_step_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("latin.csv");
    std::fs::write(
        &input,
        b"first_name,last_name,phone\nRen\xe9,Dupont,+33612345678\n",
    )
    .unwrap();
    let h = Harness::start(init(&input)).await;
    let notes = &h.model.source.dataset.as_ref().expect("read").notes;
    assert!(!notes.is_empty(), "the reader notes the encoding");
    let screen = h.render(120, 40);
    assert!(screen.contains("⚠ "), "the note is on screen:\n{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_destinations_encoding_is_used_to_read_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("latin.csv");
    std::fs::write(
        &input,
        b"First Name,Last Name,Phone 1\nRen\xe9,Dupont,+33612345678\n",
    )
    .unwrap();
    let mut init = init(&input);
    if let Some(destination) = init.destination.as_mut() {
        destination.source.encoding = aircall_dest::destination::Encoding::Latin1;
    }
    let h = Harness::start(init).await;
    let dataset = h.model.source.dataset.as_ref().expect("read");
    assert_eq!(
        dataset.notes,
        Vec::<String>::new(),
        "read as Latin-1, nothing to note"
    );
    let first = dataset.samples.first().and_then(|r| r.as_ref().ok());
    assert_eq!(
        first
            .and_then(|r| r.value.get("First Name"))
            .and_then(|v| v.as_str()),
        Some("René")
    );
}
