//! A tally of invalid-record reasons: reasons that differ only in the values they quote or
//! count fall together, so a summary can say "328 × has N fields, but the header row has N".

use std::collections::HashMap;

/// Counts reasons by their shape. `preview` prints it; the runner can feed it each invalid
/// record's reason and print [`ReasonTally::lines`] with its summary.
#[derive(Debug, Default, Clone)]
pub struct ReasonTally {
    counts: HashMap<String, Entry>,
    total: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    count: u64,
    first_seen: u64,
    example: String,
}

impl ReasonTally {
    pub fn add(&mut self, reason: &str) {
        self.total += 1;
        let order = self.counts.len() as u64;
        let entry = self.counts.entry(shape(reason)).or_insert_with(|| Entry {
            count: 0,
            first_seen: order,
            example: reason.to_string(),
        });
        entry.count += 1;
    }

    /// Reasons counted, all kinds together.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The `limit` most frequent reason shapes with their counts and one full example, most
    /// frequent first (ties in the order first seen).
    pub fn top(&self, limit: usize) -> Vec<(String, u64, String)> {
        let mut all: Vec<(&String, &Entry)> = self.counts.iter().collect();
        all.sort_by(|a, b| {
            b.1.count
                .cmp(&a.1.count)
                .then(a.1.first_seen.cmp(&b.1.first_seen))
        });
        all.into_iter()
            .take(limit)
            .map(|(shape, e)| (shape.clone(), e.count, e.example.clone()))
            .collect()
    }

    /// Lines for a person: a heading and the top reasons, e.g.
    /// `  328 × has N fields, but the header row has N`. Empty when nothing was invalid.
    pub fn lines(&self, limit: usize) -> Vec<String> {
        if self.total == 0 {
            return Vec::new();
        }
        let mut out = vec![format!(
            "invalid records by reason ({} in all):",
            self.total
        )];
        let top = self.top(limit);
        for (shape, count, example) in &top {
            if *count == 1 {
                out.push(format!("  {count:>6} × {example}"));
            } else {
                out.push(format!("  {count:>6} × {shape}"));
            }
        }
        let shown: u64 = top.iter().map(|(_, c, _)| c).sum();
        if shown < self.total {
            out.push(format!(
                "  {:>6} × other reasons ({} kinds)",
                self.total - shown,
                self.counts.len() - top.len()
            ));
        }
        out
    }
}

/// A reason with its quoted values replaced by `"…"` and its numbers by `N`.
pub fn shape(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut chars = reason.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut escaped = false;
                for inner in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if inner == '\\' {
                        escaped = true;
                    } else if inner == '"' {
                        break;
                    }
                }
                out.push_str("\"…\"");
            }
            '0'..='9' => {
                while chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                    chars.next();
                }
                out.push('N');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_differing_only_in_values_fall_together() {
        let mut tally = ReasonTally::default();
        tally.add("`phone_numbers[0].value`: \"12\" is too short for a +1 (US) phone number");
        tally.add("`phone_numbers[0].value`: \"555\" is too short for a +1 (US) phone number");
        tally.add("has 1 fields, but the header row has 12");
        tally.add("has 1 fields, but the header row has 12");
        tally.add("has 3 fields, but the header row has 12");
        tally.add("attribute `Email` is missing (mapped to `emails[0].value`)");
        let top = tally.top(2);
        assert_eq!(top[0].0, "has N fields, but the header row has N");
        assert_eq!(top[0].1, 3);
        assert_eq!(
            top[1].0,
            "`phone_numbers[N].value`: \"…\" is too short for a +N (US) phone number"
        );
        assert_eq!(top[1].1, 2);
        let lines = tally.lines(2);
        assert_eq!(lines[0], "invalid records by reason (6 in all):");
        assert_eq!(lines[3], "       1 × other reasons (1 kinds)");
        assert!(ReasonTally::default().lines(5).is_empty());
    }
}
