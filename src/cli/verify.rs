//! `aircall-dest credentials verify NAME`: one `GET /v1/ping` with a saved credential.

use std::time::Duration;

use super::context::{Failure, Outcome};
use super::exit;
use crate::client::ping;
use crate::credentials::CredentialStore;

pub fn run(name: &str) -> Outcome {
    let credential = CredentialStore::open_default().get(name)?;
    credential.check()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(ping(&credential));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let line = outcome.describe(&credential);
    if outcome.is_ok() {
        println!("{line}");
        Ok(exit::SUCCESS)
    } else {
        Err(Failure::error(line))
    }
}
