//! `aircall-dest validate`: checks a destination file and everything it names: the credential,
//! the requests it builds, and the input's attributes against the mapping, URL and headers
//! (with the closest attribute when one is misspelt) and the exclusions.

use super::context::{self, Failure, Outcome};
use super::{ValidateArgs, exit};
use crate::credentials::CredentialError;
use crate::destination::Destination;
use crate::records::{self, Input, ReadOptions};
use crate::request::Plan;
use crate::request::suggest::did_you_mean;

/// How many records are looked at to learn the input's attributes.
const SAMPLE_RECORDS: usize = 1000;

pub fn run(args: &ValidateArgs) -> Outcome {
    let destination = context::load(&args.dest)?;
    let mut warnings = Vec::new();
    let base_url = match context::credential(&destination) {
        Ok(credential) => {
            context::refuse_secret_in_file(&args.dest, &credential)?;
            credential.base_url
        }
        Err(CredentialError::NotFound { .. }) => {
            warnings.push(format!(
                "credential {:?} is not saved here; add it with `aircall-dest credentials add {:?} --api-id ID` before `run`",
                destination.credential, destination.credential
            ));
            crate::request::DEFAULT_BASE_URL.to_string()
        }
        Err(err) => return Err(err.into()),
    };
    let plan = Plan::new(&destination, &base_url).map_err(|e| {
        Failure::error(format!(
            "{}: cannot build requests: {e}",
            args.dest.display()
        ))
    })?;
    warnings.extend(plan.warnings().iter().cloned());
    let input = context::input(&destination, &args.dest, args.input.as_deref());
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
            problems.extend(check_attributes(&destination, &attributes, &mut warnings));
            Some(attributes)
        }
    };
    warnings.extend(plan.ineffective_exclusions(attributes.as_deref()));
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        return Err(Failure::error(format!(
            "{}: {} problem(s) with the input {input}",
            args.dest.display(),
            problems.len()
        )));
    }
    println!(
        "{}: valid destination {:?} ({}, {} {}, status {})",
        args.dest.display(),
        destination.name,
        match &destination.template {
            Some(t) => format!("template {}/{}", t.id, t.resource),
            None => "manual".to_string(),
        },
        destination.request.method,
        destination.request.url,
        destination.status
    );
    Ok(exit::SUCCESS)
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
