//! `aircall-dest preview`: the requests a destination would send, one JSON object per line.

use std::io::Write;

use super::context::{self, Outcome};
use super::{PreviewArgs, exit};
use crate::records;
use crate::request::Built;

pub fn run(args: &PreviewArgs) -> Outcome {
    let destination = context::load(&args.dest)?;
    if destination.sync.is_some() {
        return super::plan::preview(args, &destination);
    }
    let (plan, auth_kind) = context::preview_plan(&destination, &args.dest)?;
    let input = context::input(&destination, &args.dest, args.input.as_deref());
    let reader = records::open(&input, destination.source.format)?;
    let limit = args.limit.unwrap_or(usize::MAX);
    let stdout = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::new(stdout.lock()),
        limit,
        printed: 0,
        invalid: 0,
        auth_kind,
    };
    let mut builder = plan.builder();
    let mut open = true;
    for record in reader {
        for built in builder.push(record) {
            open = open && printer.emit(built);
        }
        if !open {
            break;
        }
    }
    if open {
        for built in builder.finish() {
            if !printer.emit(built) {
                break;
            }
        }
    }
    let _ = printer.out.flush();
    let (printed, invalid) = (printer.printed, printer.invalid);
    if invalid > 0 {
        eprintln!("{printed} request(s) shown; {invalid} record(s) invalid and not sent");
        return Ok(exit::PARTIAL);
    }
    Ok(exit::SUCCESS)
}

struct Printer<W: Write> {
    out: W,
    limit: usize,
    printed: usize,
    invalid: usize,
    auth_kind: Option<crate::credentials::AuthKind>,
}

impl<W: Write> Printer<W> {
    /// Prints one result; false once the limit is reached or standard output is closed.
    fn emit(&mut self, built: Built) -> bool {
        match built {
            Built::Request(request) => {
                if self.printed >= self.limit {
                    return false;
                }
                self.printed += 1;
                // A closed pipe (`| head`) ends the preview quietly.
                writeln!(self.out, "{}", request.preview_json(self.auth_kind)).is_ok()
                    && self.printed < self.limit
            }
            Built::Invalid(problem) => {
                self.invalid += 1;
                eprintln!("invalid: {problem}");
                true
            }
        }
    }
}
