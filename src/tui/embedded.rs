//! The embedded default's sandbox: started in-process so a newcomer can go end to end.

use std::net::SocketAddr;

use crate::sandbox::{self, Sandbox, SandboxConfig};

/// The port tried first, so the "Local sandbox" credential saved with a destination keeps
/// working with `aircall-dest sandbox --addr 127.0.0.1:47800` after the wizard ends.
pub const PREFERRED_PORT: u16 = 47800;

pub async fn start_sandbox() -> anyhow::Result<Sandbox> {
    let preferred = SandboxConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], PREFERRED_PORT)),
        ..SandboxConfig::default()
    };
    match sandbox::start(preferred).await {
        Ok(sandbox) => Ok(sandbox),
        Err(_) => Ok(sandbox::start(SandboxConfig::default()).await?),
    }
}
