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

/// Where the "Local sandbox" credential points, when that is this machine: `host:port` of its
/// loopback base URL. `None` for any other credential.
pub fn sandbox_address(credential: &crate::credentials::Credential) -> Option<String> {
    if credential.name != crate::tui::SANDBOX_CREDENTIAL {
        return None;
    }
    let url = url::Url::parse(&credential.base_url).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let port = url.port_or_known_default()?;
    loopback.then(|| format!("{}:{port}", url.host_str().unwrap_or("127.0.0.1")))
}

/// What `run` adds to "cannot reach" for the "Local sandbox" credential: how to start the
/// sandbox it points at.
pub fn unreachable_hint(credential: &crate::credentials::Credential) -> Option<String> {
    sandbox_address(credential).map(|addr| {
        format!(
            "the credential \"{}\" points at the sandbox the wizard runs inside itself; without \
             the wizard, start it first: aircall-dest sandbox --addr {addr}",
            credential.name
        )
    })
}

/// The comment saved above `credential = "Local sandbox"`: the sandbox lives only while the
/// wizard runs, so a headless run needs one started by hand.
pub fn credential_comment(credential: &crate::credentials::Credential) -> Option<String> {
    sandbox_address(credential).map(|addr| {
        format!(
            "# \"{}\" is the sandbox the wizard starts inside itself at {addr}; for a run\n\
             # without the wizard, start it first: aircall-dest sandbox --addr {addr}\n",
            credential.name
        )
    })
}

/// `text` (a destination file) with `comment` above its top-level `credential` key, unless the
/// file already says so.
pub fn with_credential_comment(text: &str, comment: &str) -> String {
    if text.contains(comment.trim_end()) {
        return text.to_string();
    }
    let Ok(mut document) = text.parse::<toml_edit::DocumentMut>() else {
        return text.to_string();
    };
    let Some(mut key) = document.as_table_mut().key_mut("credential") else {
        return text.to_string();
    };
    let prefix = key
        .leaf_decor()
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    key.leaf_decor_mut()
        .set_prefix(format!("{prefix}{comment}"));
    document.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_local_sandbox_gets_the_hint() {
        let local = crate::tui::sandbox_credential("http://127.0.0.1:47800");
        assert_eq!(sandbox_address(&local).as_deref(), Some("127.0.0.1:47800"));
        let remote = crate::tui::sandbox_credential("https://api.aircall.io");
        assert_eq!(sandbox_address(&remote), None);
        let mut other = local.clone();
        other.name = "prod".into();
        assert_eq!(unreachable_hint(&other), None);
    }

    #[test]
    fn the_comment_lands_above_the_credential_once() {
        let local = crate::tui::sandbox_credential("http://127.0.0.1:47800");
        let comment = credential_comment(&local).unwrap();
        let text = "# head\nversion = 1\n# which\ncredential = \"Local sandbox\"\nmode = \"x\"\n";
        let once = with_credential_comment(text, &comment);
        assert_eq!(
            once,
            format!(
                "# head\nversion = 1\n# which\n{comment}credential = \"Local sandbox\"\nmode = \"x\"\n"
            )
        );
        assert_eq!(with_credential_comment(&once, &comment), once);
    }
}
