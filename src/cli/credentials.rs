//! `aircall-dest credentials list | add | remove`: the credentials store from the command line.
//! Secrets are never taken as arguments: they come from a no-echo prompt, standard input, or
//! are resolved at use time from an environment variable or a command.

use std::io::{IsTerminal, Read, Write};

use super::context::{Failure, Outcome};
use super::{CredentialAddArgs, ListArgs, exit};
use crate::credentials::{AuthKind, Credential, CredentialStore, TokenSource};
use crate::secret::Secret;

pub fn list(args: &ListArgs) -> Outcome {
    let store = CredentialStore::open_default();
    let credentials = store.list()?;
    if args.json {
        // Where each token comes from, never the token itself.
        let list: Vec<serde_json::Value> = credentials
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "auth": c.kind.scheme(),
                    "api_id": c.api_id,
                    "base_url": c.base_url,
                    "token": c.token_origin(),
                    "description": c.description,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(exit::SUCCESS);
    }
    if credentials.is_empty() {
        println!("No saved credentials in {}.", store.path().display());
        println!(
            "Add one with `aircall-dest credentials add NAME --api-id ID` (the token is prompted for)."
        );
        return Ok(exit::SUCCESS);
    }
    println!(
        "{:<20} {:<7} {:<20} {:<32} {:<14} DESCRIPTION",
        "NAME", "AUTH", "API ID", "BASE URL", "TOKEN"
    );
    for c in credentials {
        println!(
            "{:<20} {:<7} {:<20} {:<32} {:<14} {}",
            c.name,
            c.kind.scheme(),
            if c.api_id.is_empty() { "-" } else { &c.api_id },
            c.base_url,
            c.token_origin(),
            c.description
        );
    }
    Ok(exit::SUCCESS)
}

pub fn add(args: &CredentialAddArgs) -> Outcome {
    let kind = if args.bearer {
        AuthKind::Bearer
    } else {
        AuthKind::Basic
    };
    let token = if let Some(var) = &args.token_env {
        TokenSource::Env(var.clone())
    } else if let Some(command) = &args.token_cmd {
        TokenSource::Command(command.clone())
    } else if args.token_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::error(format!("cannot read the token from standard input: {e}"))
        })?;
        TokenSource::Stored(Secret::new(text.trim().to_string()))
    } else if std::io::stdin().is_terminal() {
        TokenSource::Stored(prompt_hidden(&format!(
            "API token for {:?} (not shown): ",
            args.name
        ))?)
    } else {
        return Err(Failure::usage(
            "no token given: use --token-stdin, --token-env VAR or --token-cmd COMMAND, or run in a terminal to be prompted",
        ));
    };
    if let TokenSource::Stored(secret) = &token
        && secret.is_empty()
    {
        return Err(Failure::usage("the token is empty"));
    }
    let credential = Credential {
        name: args.name.clone(),
        description: args.description.clone(),
        api_id: args.api_id.clone().unwrap_or_default(),
        token,
        kind,
        base_url: args.base_url.trim_end_matches('/').to_string(),
    };
    let store = CredentialStore::open_default();
    store.add(credential)?;
    println!(
        "Saved credential {:?} in {}.",
        args.name,
        store.path().display()
    );
    Ok(exit::SUCCESS)
}

pub fn remove(name: &str) -> Outcome {
    CredentialStore::open_default().remove(name)?;
    println!("Removed credential {name:?}.");
    Ok(exit::SUCCESS)
}

/// Reads a line from the terminal without echoing it.
fn prompt_hidden(prompt: &str) -> Result<Secret, Failure> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use crossterm::terminal;

    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    terminal::enable_raw_mode()
        .map_err(|e| Failure::error(format!("cannot read from the terminal: {e}")))?;
    let mut value = String::new();
    let result = loop {
        match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => match key.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(Failure {
                        message: "cancelled".into(),
                        code: super::exit::INTERRUPTED,
                    });
                }
                KeyCode::Char(c) => value.push(c),
                KeyCode::Backspace => {
                    value.pop();
                }
                KeyCode::Esc => break Err(Failure::usage("cancelled")),
                _ => {}
            },
            Ok(Event::Paste(text)) => value.push_str(&text),
            Ok(_) => {}
            Err(e) => {
                break Err(Failure::error(format!(
                    "cannot read from the terminal: {e}"
                )));
            }
        }
    };
    let _ = terminal::disable_raw_mode();
    eprintln!();
    result.map(|()| Secret::new(value.trim().to_string()))
}
