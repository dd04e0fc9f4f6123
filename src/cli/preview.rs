//! `aircall-dest preview`: the requests a destination would send, one JSON object per line.

use std::io::Write;

use super::context::{self, Failure, Outcome};
use super::{PreviewArgs, exit};
use crate::records;
use crate::request::Built;

pub fn run(args: &PreviewArgs) -> Outcome {
    let destination = context::load(&args.dest)?;
    let (plan, auth_kind) = context::preview_plan(&destination)?;
    let input = context::input(&destination, &args.dest, args.input.as_deref());
    let reader = records::open(&input, destination.source.format)?;
    let limit = args.limit.unwrap_or(usize::MAX);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut printed = 0usize;
    let mut invalid = 0usize;
    let mut emit = |built: Built, out: &mut dyn Write| -> Result<bool, Failure> {
        match built {
            Built::Request(request) => {
                if printed >= limit {
                    return Ok(false);
                }
                printed += 1;
                if writeln!(out, "{}", request.preview_json(auth_kind)).is_err() {
                    // A closed pipe (`| head`) ends the preview quietly.
                    return Ok(false);
                }
            }
            Built::Invalid(problem) => {
                invalid += 1;
                eprintln!("invalid: {problem}");
            }
        }
        Ok(true)
    };
    let mut builder = plan.builder();
    'records: for record in reader {
        for built in builder.push(record) {
            if !emit(built, &mut out)? {
                break 'records;
            }
        }
    }
    if printed < limit {
        for built in builder.finish() {
            if !emit(built, &mut out)? {
                break;
            }
        }
    }
    let _ = out.flush();
    if invalid > 0 {
        eprintln!("{printed} request(s) shown; {invalid} record(s) invalid and not sent");
        return Ok(exit::PARTIAL);
    }
    Ok(exit::SUCCESS)
}
