//! The real binary in a pseudo-terminal: the embedded default from first frame to an activated,
//! running and stopped destination, then Ctrl-C; the terminal must be back in cooked mode.

#![cfg(unix)]

use std::time::{Duration, Instant};

use std::io::{Read, Write};
use std::sync::mpsc;

use rexpect::process::PtyProcess;

/// Terminal output with escape sequences removed, so text can be searched.
fn strip_ansi(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\x07' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The terminal side of the pseudo-terminal: bytes the wizard wrote, keys to send.
struct Screen {
    _process: PtyProcess,
    input: std::fs::File,
    output: mpsc::Receiver<Vec<u8>>,
    raw: Vec<u8>,
}

impl Screen {
    fn spawn(command: std::process::Command) -> Self {
        let process = PtyProcess::new(command).expect("spawn in a pty");
        let input = process.get_file_handle().expect("pty handle");
        let mut reader = process.get_file_handle().expect("pty handle");
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 || tx.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Screen {
            _process: process,
            input,
            output,
            raw: Vec::new(),
        }
    }

    fn text_since(&self, start: usize) -> String {
        strip_ansi(&String::from_utf8_lossy(&self.raw[start..]))
    }

    /// Reads output until `needle` shows up (escape sequences ignored) or 20 s pass.
    fn expect(&mut self, needle: &str) {
        self.expect_since(self.raw.len(), needle);
    }

    /// Like [`Screen::expect`], searching the output from byte `start` on.
    fn expect_since(&mut self, start: usize, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.text_since(start).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.raw.extend(bytes),
                Err(_) => panic!(
                    "{needle:?} never appeared; screen text so far:\n{}",
                    self.text_since(start)
                ),
            }
        }
    }

    fn keys(&mut self, text: &str) {
        self.input.write_all(text.as_bytes()).expect("write to pty");
        self.input.flush().expect("flush");
    }

    fn ctrl(&mut self, c: char) {
        let byte = (c.to_ascii_lowercase() as u8) & 0x1f;
        self.input.write_all(&[byte]).expect("write to pty");
    }
}

#[test]
fn the_binary_completes_the_flow_in_a_terminal_and_restores_it() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("pty.toml");
    let bin = env!("CARGO_BIN_EXE_aircall-dest");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "stty rows 30 cols 100; '{bin}'; echo \"EXIT=$?\"; stty -a"
        ))
        .env("AIRCALL_DEST_HOME", home.path())
        .env("TERM", "xterm-256color");
    let mut screen = Screen::spawn(command);

    screen.expect("12 attributes");
    screen.keys("\t\t\r"); // Tab past the dataset and the credential to Verify.
    screen.expect("credential works");
    screen.ctrl('n');
    screen.expect("Sample requests");
    screen.ctrl('s');
    screen.expect("201 Created");
    screen.keys("\x1b"); // close the response
    screen.ctrl('n');
    screen.expect("Save & Activate");
    screen.keys("\t");
    screen.ctrl('u');
    screen.keys(&dest.display().to_string());
    // Schedule, On change, Save (paused), then press Save & Activate.
    screen.keys("\t\t\t\t\r");
    screen.expect("as active");
    screen.keys("\t\r"); // Tab to Start the run now, press it
    screen.expect("running");
    screen.keys("\r"); // Stop the run
    screen.expect("run stopped");
    let before_exit = screen.raw.len();
    screen.ctrl('c');
    screen.expect_since(before_exit, "EXIT=0");
    screen.expect_since(before_exit, "icanon");
    screen.expect_since(before_exit, "echoctl");
    let all = String::from_utf8_lossy(&screen.raw).to_string();
    let after = strip_ansi(&all[all.find("EXIT=0").unwrap_or(0)..]);
    let words: Vec<&str> = after.split_whitespace().collect();
    for flag in ["icanon", "isig", "icrnl", "opost"] {
        assert!(
            words.contains(&flag),
            "{flag} restored (raw mode clears it):\n{after}"
        );
    }
    assert!(all.contains("\x1b[?1049l"), "the alternate screen was left");
    assert!(all.contains("\x1b[?1000l"), "mouse capture was turned off");

    let saved = aircall_dest::destination::Destination::load(&dest).expect("saved file loads");
    assert_eq!(saved.status, aircall_dest::destination::Status::Active);
    assert_eq!(saved.credential, "Local sandbox");
    let store = std::fs::read_to_string(home.path().join("credentials.toml")).unwrap();
    assert!(
        store.contains("Local sandbox"),
        "the sandbox credential is saved for later runs"
    );
}
