//! aircall-dest: send the records of a dataset (CSV, JSON Lines, JSON) to the Aircall REST API.
//!
//! The crate is a pure core with thin edges. `records` streams input, `destination` holds the
//! saved settings, `request` is the one place that turns records into HTTP requests, `rules`
//! holds each edge rule (origin, loopback, headers, paths) once, and the
//! edges (`client`, `runner`, `sandbox`, `tui`, `cli`) do the I/O around that core.

/// Every binary built on this crate (the CLI, its tests, the benchmarks) allocates through
/// mimalloc: a run or a `plan` builds and frees a few dozen small values per record, often on
/// another thread than the one that built them, which the system allocator makes slow (a 1M-row
/// `plan` took twice as long; docs/benchmarks.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod alerts;
pub mod budget;
pub mod cli;
pub mod client;
pub mod credentials;
pub mod daemon;
pub mod destination;
pub mod files;
pub mod paths;
pub mod records;
pub mod request;
pub mod rules;
pub mod runner;
pub mod sandbox;
pub mod schedule;
pub mod secret;
pub mod state;
pub mod sync;
pub mod templates;
pub mod timestamp;
pub mod tui;
