//! `aircall-dest validate`: checks a destination file and everything it names; `--json` prints
//! the result as one object (located errors included) for scripts and editors.

use serde_json::{Value, json};

use super::context::{Outcome, Session};
use super::{ValidateArgs, exit};
use crate::destination::{Destination, DestinationError};
use crate::records::Input;

pub fn run(args: &ValidateArgs) -> Outcome {
    let invalid = |errors: Value| {
        print_json(&json!({
            "file": args.dest.display().to_string(),
            "valid": false,
            "errors": errors,
            "warnings": [],
        }));
        Ok(exit::ERROR)
    };
    let (text, destination) = match Destination::read(&args.dest) {
        Ok(read) => read,
        Err(err) if args.json => return invalid(errors_of(&err)),
        Err(err) => return Err(err.into()),
    };
    let session = match Session::showing(&args.dest, text, destination) {
        Ok(session) => session,
        Err(failure) if args.json => return invalid(json!([unlocated(&failure.message)])),
        Err(failure) => return Err(failure),
    };
    let mut warnings = session.warnings.clone();
    if let Input::Path(path) = session.input(None)
        && !path.exists()
    {
        warnings.push(format!(
            "the dataset {} does not exist (yet); `run --input PATH` can name another",
            path.display()
        ));
    }
    let destination = &session.destination;
    if args.json {
        print_json(&json!({
            "file": args.dest.display().to_string(),
            "valid": true,
            "name": destination.name,
            "status": destination.status.to_string(),
            "mode": destination.mode,
            "template": destination.template.as_ref().map(|t| json!({"id": t.id, "resource": t.resource})),
            "method": destination.request.method.to_string(),
            "url": destination.request.url,
            "credential": destination.credential,
            "errors": [],
            "warnings": warnings,
        }));
        return Ok(exit::SUCCESS);
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", summary(&args.dest.display().to_string(), destination));
    Ok(exit::SUCCESS)
}

fn summary(file: &str, destination: &Destination) -> String {
    format!(
        "{file}: valid destination {:?} ({}, {} {}, status {})",
        destination.name,
        match &destination.template {
            Some(t) => format!("template {}/{}", t.id, t.resource),
            None => "manual".to_string(),
        },
        destination.request.method,
        destination.request.url,
        destination.status
    )
}

/// The errors of a file that did not load: located (line, column, key) when it was read.
fn errors_of(err: &DestinationError) -> Value {
    match err.located() {
        [] => json!([unlocated(&err.to_string())]),
        located => located
            .iter()
            .map(
                |e| json!({"line": e.line, "column": e.column, "key": e.key, "message": e.message}),
            )
            .collect(),
    }
}

fn unlocated(message: &str) -> Value {
    json!({"line": null, "column": null, "key": null, "message": message})
}

fn print_json(value: &Value) {
    println!("{value}");
}
