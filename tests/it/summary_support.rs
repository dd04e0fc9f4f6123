//! Reading `run --json` summaries in tests: one field, and the accounting rule that every
//! record read is counted in exactly one outcome (DESIGN §3).

use serde_json::Value;

pub fn field(summary: &Value, name: &str) -> u64 {
    summary[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {summary}"))
}

pub fn assert_counts_add_up(summary: &Value) {
    let parts: u64 = [
        "delivered",
        "dead_lettered",
        "invalid",
        "skipped_already_done",
        "in_doubt",
    ]
    .iter()
    .map(|f| field(summary, f))
    .sum();
    assert_eq!(field(summary, "records_read"), parts, "{summary}");
}
