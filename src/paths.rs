//! Where this program keeps its files: configuration (the credentials store) in the XDG config
//! folder, state (outcome logs, run history) and logs in the XDG state folder, or both under one
//! folder named by `AIRCALL_DEST_HOME`.
//!
//! | | default (Linux) | with `AIRCALL_DEST_HOME=H` |
//! |---|---|---|
//! | configuration | `~/.config/aircall-dest` | `H` |
//! | state | `~/.local/state/aircall-dest` | `H/state` |
//! | logs | `~/.local/state/aircall-dest/logs` | `H/state/logs` |

use std::path::PathBuf;

/// The variable that puts configuration and state under one folder.
pub const HOME_ENV: &str = "AIRCALL_DEST_HOME";

fn home_override() -> Option<PathBuf> {
    std::env::var_os(HOME_ENV)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "aircall-dest")
}

/// The configuration folder: `AIRCALL_DEST_HOME`, else the platform's (`~/.config/aircall-dest`).
pub fn config_dir() -> PathBuf {
    if let Some(home) = home_override() {
        return home;
    }
    project()
        .map(|dirs| dirs.config_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".aircall-dest"))
}

/// The state folder: `AIRCALL_DEST_HOME/state`, else `$XDG_STATE_HOME/aircall-dest`
/// (`~/.local/state/aircall-dest`); platforms without a state folder use the local data folder.
pub fn state_dir() -> PathBuf {
    if let Some(home) = home_override() {
        return home.join("state");
    }
    project()
        .map(|dirs| {
            dirs.state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf()
        })
        .unwrap_or_else(|| PathBuf::from(".aircall-dest").join("state"))
}

/// The folder of the wizard's log file: `logs/` in the state folder.
pub fn logs_dir() -> PathBuf {
    state_dir().join("logs")
}
