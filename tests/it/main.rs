//! The integration tests, as one binary: it links once, and the set-up the modules share lives
//! in the support modules below (`crash_support`, `daemon_support`, `prometheus_text`,
//! `summary_support`, `tui_common`).
//!
//! Run one area with a filter on its module, e.g. `cargo test --test it delivery::`.

mod crash_support;
mod daemon_support;
mod prometheus_text;
mod summary_support;
mod sync_support;
mod tui_common;

mod cli_foundation;
mod cli_polish;
mod crash;
mod crash_bad_input;
mod crash_late_apply;
mod daemon;
mod delivery;
mod delivery_sandbox;
mod delivery_state;
mod destination_errors;
mod fidelity;
mod history;
mod records;
mod rules;
mod run_summary;
mod sandbox;
mod security;
mod security_wizard;
mod send_test_warning;
mod shared_budget;
mod signals;
mod sync;
mod sync_modes;
mod tui_bench;
mod tui_flow;
mod tui_health;
mod tui_keys;
mod tui_layout;
mod tui_mapping;
mod tui_pty;
mod tui_quit;
mod tui_render;
mod tui_request;
mod tui_samples;
mod tui_structure;
mod tui_sync;
