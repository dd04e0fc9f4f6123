//! `aircall-dest validate`: checks a destination file and everything it names: the credential,
//! the requests it builds, and the input's attributes against the mapping, URL and headers
//! (with the closest attribute when one is misspelt) and the exclusions. `--json` prints the
//! result as one object (located errors included) for scripts and editors.

use serde_json::{Value, json};

use super::context::{self, Outcome, Session};
use super::{ValidateArgs, exit};
use crate::destination::{Destination, DestinationError};
use crate::records::{self, Input, ReadOptions};
use crate::request::suggest::did_you_mean;

/// How many records are looked at to learn the input's attributes.
const SAMPLE_RECORDS: usize = 1000;

pub fn run(args: &ValidateArgs) -> Outcome {
    let invalid = |errors: Value, warnings: &[String]| {
        print_json(&json!({
            "file": args.dest.display().to_string(),
            "valid": false,
            "errors": errors,
            "warnings": warnings,
        }));
        Ok(exit::ERROR)
    };
    let (text, destination) = match Destination::read(&args.dest) {
        Ok(read) => read,
        Err(err) if args.json => return invalid(errors_of(&err), &[]),
        Err(err) => return Err(err.into()),
    };
    let session = match Session::showing(&args.dest, text, destination) {
        Ok(session) => session,
        Err(failure) if args.json => return invalid(json!([unlocated(&failure.message)]), &[]),
        Err(failure) => return Err(failure),
    };
    let destination = &session.destination;
    let mut warnings = session.warnings.clone();
    let input = session.input(args.input.as_deref());
    let mut problems = Vec::new();
    let attributes = match &input {
        Input::Path(path) if !path.exists() => {
            warnings.push(format!(
                "the dataset {} does not exist (yet); `run --input PATH` can name another",
                path.display()
            ));
            None
        }
        Input::Stdin => None,
        input => {
            let options =
                ReadOptions::for_source(&destination.source, args.input.is_some(), args.format);
            let reader = records::open_with(input, options)?;
            warnings.extend(reader.notes().iter().cloned());
            let attributes = input_attributes(reader);
            problems.extend(check_attributes(destination, &attributes, &mut warnings));
            Some(attributes)
        }
    };
    warnings.extend(session.plan.ineffective_exclusions(attributes.as_deref()));
    if args.json {
        if !problems.is_empty() {
            let errors = problems.iter().map(|p| unlocated(p)).collect();
            return invalid(Value::Array(errors), &warnings);
        }
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
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        return Err(context::Failure::error(format!(
            "{}: {} problem(s) with the input {input}",
            args.dest.display(),
            problems.len()
        )));
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

/// The attribute paths of the input: the CSV header, or those of its first records.
fn input_attributes(reader: records::RecordReader) -> Vec<String> {
    if let Some(columns) = reader.columns() {
        return columns.to_vec();
    }
    let sample: Vec<records::Record> = reader.take(SAMPLE_RECORDS).filter_map(Result::ok).collect();
    records::discover(&sample)
        .into_iter()
        .map(|a| a.path)
        .collect()
}

/// Problems (attributes every record needs but the input lacks) and, into `warnings`, optional
/// ones it lacks.
fn check_attributes(
    destination: &Destination,
    attributes: &[String],
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let has = |path: &str| {
        attributes
            .iter()
            .any(|a| a == path || path.starts_with(&format!("{a}.")))
    };
    let mut problems = Vec::new();
    for (i, entry) in destination.mapping.iter().enumerate() {
        if let Some(from) = &entry.from
            && !has(from)
        {
            let text = format!(
                "mapping[{i}] (`{}`) reads `{from}`, which the input does not have{}",
                entry.target,
                did_you_mean(from, attributes)
            );
            if entry.optional {
                warnings.push(format!("{text}; the field is left out of every body"));
            } else {
                problems.push(format!("{text}; every record would be invalid"));
            }
        }
        if let Some(condition) = &entry.if_present
            && !has(condition)
        {
            warnings.push(format!(
                "mapping[{i}] (`{}`) applies only if `{condition}` is present, which the input \
                 does not have{}",
                entry.target,
                did_you_mean(condition, attributes)
            ));
        }
    }
    let mut templates = vec![("request.url".to_string(), destination.request.url.clone())];
    for (name, value) in &destination.request.headers {
        if let Some(value) = value.as_str() {
            templates.push((format!("request.headers.{name}"), value.to_string()));
        }
    }
    for (key, text) in templates {
        let Ok(template) = crate::request::macros::Template::url(&text)
            .or_else(|_| crate::request::macros::Template::header(&text))
        else {
            continue;
        };
        for field in template.fields() {
            if !has(field) {
                problems.push(format!(
                    "{key} uses {{record.{field}}}, which the input does not have{}; every \
                     record would be invalid",
                    did_you_mean(field, attributes)
                ));
            }
        }
    }
    problems
}
