//! The synthetic contact exports sync is tested and measured with: the day-1 export of N
//! contacts keyed by `Customer Id`, the day-2 export of the issue's scenario (20 rows changed,
//! 5 removed, 10 new), the CSV they are written as, and the destination that syncs them. The
//! end-to-end tests (tests/it/sync*.rs) and the benchmark (examples/bench_sync.rs) share it, so
//! the figures are measured on the data the tests check. Not part of the tool's interface.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// One row of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub id: usize,
    pub first: String,
    pub last: String,
    /// E.164; written to the CSV as a CRM would (`+1 415-500-0001`).
    pub phone: String,
    pub email: Option<String>,
}

/// The phone number of row `i` (from 1): unique for the first 4,999,999 rows, valid E.164.
pub fn phone(i: usize) -> String {
    format!("+1415{:07}", (5_000_000 + i) % 10_000_000)
}

impl ExportRow {
    /// Row `i` of day 1: every tenth row has no email.
    pub fn day1(i: usize) -> ExportRow {
        ExportRow {
            id: i,
            first: format!("First{i}"),
            last: format!("Last{i}"),
            phone: phone(i),
            email: (!i.is_multiple_of(10)).then(|| format!("c{i}@example.com")),
        }
    }

    /// The row's `Customer Id`, which the sync keys on (and maps to the contact's
    /// `information`).
    pub fn key(&self) -> String {
        format!("C{:07}", self.id)
    }
}

/// Day 1: rows 1 to `rows`, made as they are read.
pub fn day1(rows: usize) -> impl Iterator<Item = ExportRow> {
    (1..=rows).map(ExportRow::day1)
}

/// Day 2 of a day-1 export of `rows` (at least 55): 20 rows changed — the first names of rows
/// 1–10, the last names of 11–15, the phone number of row 16 replaced, an email added to rows
/// 20, 30, 40 and 50 (which had none) — the last 5 rows removed and 10 new ones added.
pub fn day2(rows: usize) -> Vec<ExportRow> {
    let mut out: Vec<ExportRow> = day1(rows.saturating_sub(5)).collect();
    for row in &mut out {
        match row.id {
            1..=10 => row.first = format!("Renamed{}", row.id),
            11..=15 => row.last = format!("Changed{}", row.id),
            16 => row.phone = "+14155559999".to_string(),
            20 | 30 | 40 | 50 => row.email = Some(format!("added{}@example.com", row.id)),
            _ => {}
        }
    }
    out.extend((rows + 1..=rows + 10).map(ExportRow::day1));
    out
}

/// The header line of the CSV export.
pub const HEADER: &str = "Customer Id,First Name,Last Name,Phone,Email";

/// One row as a CSV line (without the line end); E.164 numbers are written with spaces and
/// dashes, as a CRM would, so the sync's normalisation is part of what is tested and measured.
pub fn csv_line(row: &ExportRow) -> String {
    let phone = match row.phone.strip_prefix("+1") {
        Some(digits) if digits.len() == 10 => {
            format!("+1 {}-{}-{}", &digits[0..3], &digits[3..6], &digits[6..])
        }
        _ => row.phone.clone(),
    };
    format!(
        "{},{},{},{phone},{}",
        row.key(),
        row.first,
        row.last,
        row.email.as_deref().unwrap_or_default()
    )
}

/// Writes `rows` to `path` as the CSV export, streaming (a million rows cost no memory).
pub fn write_export(path: &Path, rows: impl IntoIterator<Item = ExportRow>) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, "{HEADER}")?;
    for row in rows {
        writeln!(out, "{}", csv_line(&row))?;
    }
    out.flush()
}

/// The destination file (reading `contacts.csv` beside it, credential `sandbox`) that syncs the
/// export into contacts: names, `information` = the key, the phone number as E.164 (US by
/// default), the email when there is one. `delivery` and `sync` are the TOML lines of those
/// tables; `extra` is appended (e.g. a `[request.headers]` table).
pub fn destination(delivery: &str, sync: &str, extra: &str) -> String {
    format!(
        r#"version = 1
name = "sync-contacts"
status = "active"
credential = "sandbox"
mode = "template"

[source]
path = "contacts.csv"
format = "csv"

[template]
id = "create_records"
resource = "contacts"

[request]
method = "POST"
url = "/v1/contacts"

[[mapping]]
target = "first_name"
from = "First Name"

[[mapping]]
target = "last_name"
from = "Last Name"

[[mapping]]
target = "information"
from = "Customer Id"

[[mapping]]
target = "phone_numbers[0].label"
value = "Work"

[[mapping]]
target = "phone_numbers[0].value"
from = "Phone"
transform = "e164"
default_country = "US"

[[mapping]]
target = "emails[0].label"
value = "Work"
if_present = "Email"

[[mapping]]
target = "emails[0].value"
from = "Email"
optional = true

[delivery]
{delivery}

[sync]
{sync}
{extra}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_two_changes_twenty_rows_removes_five_and_adds_ten() {
        let before: Vec<ExportRow> = day1(1000).collect();
        let after = day2(1000);
        let changed = after
            .iter()
            .filter(|row| before.get(row.id - 1).is_some_and(|old| old != *row))
            .count();
        let added = after.iter().filter(|row| row.id > 1000).count();
        assert_eq!((after.len(), changed, added), (1005, 20, 10));
        assert!(after.iter().all(|row| row.id <= 995 || row.id > 1000));
    }

    #[test]
    fn numbers_are_written_as_a_crm_would() {
        let row = ExportRow::day1(3);
        assert_eq!(
            csv_line(&row),
            "C0000003,First3,Last3,+1 415-500-0003,c3@example.com"
        );
        assert_eq!(
            csv_line(&ExportRow::day1(10)),
            "C0000010,First10,Last10,+1 415-500-0010,"
        );
    }
}
