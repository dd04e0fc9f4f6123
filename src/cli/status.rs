//! `aircall-dest activate` and `pause`: flip a destination's `status`, changing nothing else in
//! the file (comments, order and spacing stay as the person left them).

use std::path::Path;

use super::context::{self, Failure, Outcome};
use super::{DestArg, exit};
use crate::destination::{Destination, Status};

pub fn activate(args: &DestArg) -> Outcome {
    set(&args.dest, Status::Active)
}

pub fn pause(args: &DestArg) -> Outcome {
    set(&args.dest, Status::Paused)
}

fn set(path: &Path, status: Status) -> Outcome {
    let destination = context::load(path)?;
    let shown = path.display();
    if destination.status == status {
        println!(
            "{shown}: destination {:?} is already {status}",
            destination.name
        );
        return Ok(exit::SUCCESS);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::error(format!("cannot read {shown}: {e}")))?;
    let edited = with_status(&text, status);
    // The edit is checked by reading it back: the file must still load, with the new status.
    let reloaded = Destination::from_toml(&edited, &shown.to_string())?;
    if reloaded.status != status {
        return Err(Failure::error(format!(
            "{shown}: could not set status = \"{status}\"; edit the file by hand"
        )));
    }
    write_keeping_mode(path, &edited)
        .map_err(|e| Failure::error(format!("cannot write {shown}: {e}")))?;
    println!(
        "{shown}: destination {:?} is now {status}",
        destination.name
    );
    Ok(exit::SUCCESS)
}

/// The file's text with its top-level `status` set: the existing line's value is replaced in
/// place (a trailing comment survives); without one, a line is added before the first table.
pub fn with_status(text: &str, status: Status) -> String {
    let value = format!("\"{status}\"");
    let mut out = String::with_capacity(text.len() + 20);
    let mut done = false;
    let mut in_tables = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !done && !in_tables && trimmed.starts_with('[') {
            in_tables = true;
            out.push_str(&format!("status = {value}\n"));
            done = true;
        }
        if !done
            && !in_tables
            && let Some(rest) = status_assignment(trimmed)
        {
            let indent = &line[..line.len() - trimmed.len()];
            let (old_value, tail) = split_value(rest);
            let _ = old_value;
            out.push_str(&format!("{indent}status = {value}{tail}"));
            if !tail.ends_with('\n') && line.ends_with('\n') {
                out.push('\n');
            }
            done = true;
            continue;
        }
        out.push_str(line);
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("status = {value}\n"));
    }
    out
}

/// For a line `status = <value>…`, the text after `=`.
fn status_assignment(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("status")?;
    let rest = rest.trim_start();
    rest.strip_prefix('=')
}

/// Splits `"value"  # comment\n` into the quoted value and what follows it.
fn split_value(rest: &str) -> (&str, &str) {
    let trimmed = rest.trim_start();
    let quote = match trimmed.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            // Not a string (the file would not have loaded); keep the line's end only.
            let end = trimmed.find(['#', '\n']).unwrap_or(trimmed.len());
            return (&trimmed[..end], &trimmed[end..]);
        }
    };
    match trimmed[1..].find(quote) {
        Some(close) => trimmed.split_at(close + 2),
        None => (trimmed, ""),
    }
}

/// Replaces the file atomically, keeping its permissions.
fn write_keeping_mode(path: &Path, text: &str) -> std::io::Result<()> {
    let permissions = std::fs::metadata(path)?.permissions();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::set_permissions(&tmp, permissions)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_is_replaced_in_place_keeping_comments() {
        let text = "# head\nversion = 1\nname = \"x\"\nstatus = \"paused\"   # saved paused\ncredential = \"c\"\n\n[source]\npath = \"a.csv\"\n";
        let edited = with_status(text, Status::Active);
        assert_eq!(
            edited,
            text.replace("status = \"paused\"", "status = \"active\"")
        );
        assert_eq!(with_status(&edited, Status::Paused), text);
    }

    #[test]
    fn a_missing_status_is_added_before_the_first_table() {
        let text = "version = 1\nname = \"x\"\n\n[source]\nstatus = \"not this one\"\n";
        let edited = with_status(text, Status::Active);
        assert_eq!(
            edited,
            "version = 1\nname = \"x\"\n\nstatus = \"active\"\n[source]\nstatus = \"not this one\"\n"
        );
        assert_eq!(
            with_status("version = 1", Status::Paused),
            "version = 1\nstatus = \"paused\"\n"
        );
    }

    #[test]
    fn single_quotes_and_spacing_are_handled() {
        assert_eq!(
            with_status("status='paused'\n", Status::Active),
            "status = \"active\"\n"
        );
        assert_eq!(
            with_status("  status  =  \"active\"\n", Status::Paused),
            "  status = \"paused\"\n"
        );
    }
}
