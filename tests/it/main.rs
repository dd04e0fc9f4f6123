//! The integration tests, as one binary: it links once, and the set-up the modules share lives
//! in the support modules below (`crash_support`, `summary_support`, `tui_common`).
//!
//! Run one area with a filter on its module, e.g. `cargo test --test it delivery::`.

mod crash_support;
mod summary_support;
mod tui_common;

mod cli_foundation;
mod crash;
mod crash_bad_input;
mod crash_late_apply;
mod delivery;
mod delivery_sandbox;
mod destination_errors;
mod fidelity;
mod records;
mod sandbox;
mod security;
mod security_wizard;
mod signals;
mod tui_bench;
mod tui_flow;
mod tui_layout;
mod tui_mapping;
mod tui_pty;
mod tui_render;
