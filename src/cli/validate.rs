//! `aircall-dest validate`: checks a destination file and everything it names.

use super::context::{self, Failure, Outcome};
use super::{DestArg, exit};
use crate::credentials::CredentialError;
use crate::records::Input;
use crate::request::Plan;

pub fn run(args: &DestArg) -> Outcome {
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
    if let Input::Path(path) = context::input(&destination, &args.dest, None)
        && !path.exists()
    {
        warnings.push(format!(
            "the dataset {} does not exist (yet); `run --input PATH` can name another",
            path.display()
        ));
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
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
