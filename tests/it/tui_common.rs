//! Drives the wizard without a terminal: keys in, the real update and commands, screens out.

#![allow(dead_code)]

use aircall_dest::credentials::{AuthKind, Credential, TokenSource};
use aircall_dest::secret::Secret;
use aircall_dest::tui::model::{Init, Model};
use aircall_dest::tui::msg::Msg;
use aircall_dest::tui::runtime::{Tasks, animating, execute};
use aircall_dest::tui::{update, view};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

pub const SAMPLE: &str = "assets/data/customers-100.csv";

pub struct Harness {
    pub model: Model,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    tasks: Tasks,
}

impl Harness {
    /// Starts the wizard as the runtime would, waiting for the dataset to be read.
    pub async fn start(init: Init) -> Self {
        let (tx, rx) = unbounded_channel();
        let mut harness = Harness {
            model: Model::new(init),
            tx,
            rx,
            tasks: Tasks::default(),
        };
        let cmds = update::start(&mut harness.model);
        harness.run(cmds);
        harness.settle().await;
        harness
    }

    /// Starts the wizard without waiting for anything, as the first frame sees it.
    pub fn start_without_waiting(init: Init) -> Self {
        let (tx, rx) = unbounded_channel();
        let mut harness = Harness {
            model: Model::new(init),
            tx,
            rx,
            tasks: Tasks::default(),
        };
        let cmds = update::start(&mut harness.model);
        harness.run(cmds);
        harness
    }

    fn run(&mut self, cmds: Vec<aircall_dest::tui::Cmd>) {
        for cmd in cmds {
            execute(cmd, &self.tx, &mut self.tasks);
        }
    }

    /// Applies one message and runs its commands, without waiting for their results.
    pub fn send(&mut self, msg: Msg) {
        let cmds = update::update(&mut self.model, msg);
        self.run(cmds);
        while let Ok(msg) = self.rx.try_recv() {
            let cmds = update::update(&mut self.model, msg);
            self.run(cmds);
        }
    }

    /// Applies messages as they come until `done` holds for the model.
    pub async fn until(&mut self, done: impl Fn(&Model) -> bool) {
        while !done(&self.model) {
            let Some(msg) = self.rx.recv().await else {
                return;
            };
            let cmds = update::update(&mut self.model, msg);
            self.run(cmds);
        }
    }

    /// Waits until no background work the screen shows is still running.
    pub async fn settle(&mut self) {
        loop {
            while let Ok(msg) = self.rx.try_recv() {
                let cmds = update::update(&mut self.model, msg);
                self.run(cmds);
            }
            if !animating(&self.model) {
                return;
            }
            let Some(msg) = self.rx.recv().await else {
                return;
            };
            let cmds = update::update(&mut self.model, msg);
            self.run(cmds);
        }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn ctrl(&mut self, c: char) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    pub fn shift_tab(&mut self) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        )));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Tabs until `field` has the focus (at most one lap).
    pub fn focus(&mut self, field: aircall_dest::tui::model::Field) {
        for _ in 0..200 {
            if self.model.focus == field {
                return;
            }
            self.key(KeyCode::Tab);
        }
        panic!(
            "{field:?} never got the focus (order: {:?})",
            aircall_dest::tui::focus::order(&self.model)
        );
    }

    /// On step 3: types `path` as the file and presses Save & Activate, then waits for the save.
    pub async fn save_active_as(&mut self, path: &std::path::Path) {
        use aircall_dest::tui::model::Field;
        self.focus(Field::SavePath);
        self.ctrl('u');
        self.type_text(&path.display().to_string());
        self.focus(Field::SaveActivate);
        self.key(KeyCode::Enter);
        self.settle().await;
    }

    pub fn render(&self, width: u16, height: u16) -> String {
        let mut model = self.model.clone();
        model.width = width;
        model.height = height;
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
        terminal
            .draw(|frame| view::view(&model, frame))
            .expect("draw");
        terminal.backend().to_string()
    }
}

pub fn sandbox_credential(base_url: &str) -> Credential {
    aircall_dest::tui::sandbox_credential(base_url)
}

pub fn bearer(name: &str, base_url: &str) -> Credential {
    Credential {
        name: name.into(),
        description: String::new(),
        api_id: String::new(),
        token: TokenSource::Stored(Secret::new("sandbox-bearer")),
        kind: AuthKind::Bearer,
        base_url: base_url.into(),
    }
}

/// The wizard as the embedded default opens it, its sandbox at `base_url`.
pub fn embedded_init(base_url: &str) -> Init {
    Init {
        sandbox: Some(sandbox_credential(base_url)),
        default_dataset: Some(SAMPLE.into()),
        ..Init::default()
    }
}

/// A real sandbox on a free loopback port, as the embedded default starts one.
pub async fn sandbox() -> aircall_dest::sandbox::Sandbox {
    aircall_dest::sandbox::start(aircall_dest::sandbox::SandboxConfig::default())
        .await
        .expect("sandbox starts")
}
