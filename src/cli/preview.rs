//! `aircall-dest preview`: the requests a destination would send, one JSON object per line.
//!
//! Requests go to standard output; invalid records, values left out, notes about the input and
//! a tally of invalid reasons go to standard error. `--limit N` caps the requests and the
//! invalid-record lines alike (the tally still counts every record read).

use std::io::Write;

use super::context::{Outcome, Session};
use super::{PreviewArgs, exit};
use crate::records::{self, ReadOptions};
use crate::request::{Built, ReasonTally};

/// How many reasons the tally names.
pub(super) const TALLY_REASONS: usize = 5;

pub fn run(args: &PreviewArgs) -> Outcome {
    let session = Session::for_showing(&args.dest)?;
    if session.destination.sync.is_some() {
        return super::plan::preview(args, &session.destination);
    }
    for warning in &session.warnings {
        eprintln!("warning: {warning}");
    }
    let input = session.input(args.input.as_deref());
    let options = ReadOptions::for_source(
        &session.destination.source,
        args.input.is_some(),
        args.format,
    );
    let reader = records::open_with(&input, options)?;
    for note in reader.notes() {
        eprintln!("note: {note}");
    }
    let limit = args.limit.unwrap_or(usize::MAX);
    let stdout = std::io::stdout();
    let mut printer = Printer {
        out: std::io::BufWriter::new(stdout.lock()),
        limit,
        printed: 0,
        invalid_shown: 0,
        tally: ReasonTally::default(),
        warnings: 0,
        auth_kind: session.auth_kind(),
    };
    let mut builder = session.plan.builder();
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
    let invalid = printer.tally.total();
    if printer.warnings > 0 {
        eprintln!(
            "{} value(s) left out of records that are still sent",
            printer.warnings
        );
    }
    if invalid > 0 {
        let hidden = invalid.saturating_sub(printer.invalid_shown as u64);
        if hidden > 0 {
            eprintln!("({hidden} more invalid record line(s) not shown: --limit {limit})");
        }
        for line in printer.tally.lines(TALLY_REASONS) {
            eprintln!("{line}");
        }
        eprintln!(
            "{} request(s) shown; {invalid} record(s) invalid and not sent",
            printer.printed
        );
        return Ok(exit::PARTIAL);
    }
    Ok(exit::SUCCESS)
}

struct Printer<W: Write> {
    out: W,
    limit: usize,
    printed: usize,
    invalid_shown: usize,
    tally: ReasonTally,
    warnings: usize,
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
                for warning in &request.warnings {
                    self.warnings += 1;
                    eprintln!("warning: {warning}");
                }
                // A closed pipe (`| head`) ends the preview quietly.
                writeln!(self.out, "{}", request.preview_json(self.auth_kind)).is_ok()
                    && self.printed < self.limit
            }
            Built::Invalid(problem) => {
                self.tally.add(&problem.reason);
                if self.invalid_shown < self.limit {
                    self.invalid_shown += 1;
                    eprintln!("invalid: {problem}");
                }
                true
            }
        }
    }
}
