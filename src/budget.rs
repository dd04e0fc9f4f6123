//! One rate budget per Aircall company, shared by every run on the machine: the daemon's child
//! runs and any `run` started by hand or by cron.
//!
//! Aircall counts requests per company (per API ID), whatever process sends them. Each run's own
//! [`crate::client::RateLimiter`] paces that run; this budget paces all of them together. It is
//! the same GCRA as the limiter's, kept in a small file in the state folder
//! (`budgets/<key>.json`) that every run locks (an advisory `flock`) for the few microseconds it
//! takes to read the theoretical arrival time, take the next slot and write it back. A 429 seen
//! by any run writes a pause there, which every other run honours before its next request.
//!
//! Times in the file are wall-clock milliseconds since the UNIX epoch, the one clock separate
//! processes share.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credentials::{AuthKind, Credential};

/// A slot further ahead than this is taken for the trace of a clock set back, not a real wait.
const STALE_AHEAD: Duration = Duration::from_secs(3_600);

/// What the shared file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetState {
    /// GCRA's theoretical arrival time: when the next slot is due at the steady rate.
    pub tat_ms: u64,
    /// No slot is handed out before this time (set by a 429 in any run).
    #[serde(default)]
    pub paused_until_ms: u64,
}

/// The pacing a run asks of the budget: its own rate and burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    interval_ms: u64,
    tolerance_ms: u64,
}

impl Pace {
    /// `per_minute` requests (at least 1), `burst` of them back to back.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval_ms = 60_000 / u64::from(per_minute.max(1));
        Self {
            interval_ms,
            tolerance_ms: interval_ms * u64::from(burst.max(1) - 1),
        }
    }
}

impl BudgetState {
    /// Takes the next slot at or after `now_ms` and returns it.
    pub fn reserve(&mut self, now_ms: u64, pace: Pace) -> u64 {
        if self.tat_ms > now_ms + STALE_AHEAD.as_millis() as u64 {
            *self = BudgetState::default();
        }
        let earliest = self.tat_ms.saturating_sub(pace.tolerance_ms);
        let slot = earliest.max(now_ms).max(self.paused_until_ms);
        self.tat_ms = self.tat_ms.max(slot) + pace.interval_ms;
        slot
    }

    /// Stops every run until `until_ms`; pacing then restarts at the steady rate, without the
    /// burst the idle time would have earned.
    pub fn pause_until(&mut self, until_ms: u64, pace: Pace) {
        self.paused_until_ms = self.paused_until_ms.max(until_ms);
        self.tat_ms = self.tat_ms.max(until_ms + pace.tolerance_ms);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct BudgetError {
    path: String,
    #[source]
    source: std::io::Error,
}

/// A handle on one company's shared budget file.
#[derive(Debug, Clone)]
pub struct SharedBudget {
    path: PathBuf,
    pace: Pace,
    /// `flock` locks belong to the open file, which this process's threads share: the mutex
    /// keeps them from entering together, the `flock` keeps other processes out.
    file: Arc<Mutex<File>>,
}

impl SharedBudget {
    /// The budget of `credential`'s company, for a run paced at `per_minute` (0: no pacing, so
    /// no budget) with `burst`.
    pub fn open(
        state_dir: &Path,
        credential: &Credential,
        per_minute: u32,
        burst: u32,
    ) -> Result<Option<Self>, BudgetError> {
        if per_minute == 0 {
            return Ok(None);
        }
        let path = state_dir
            .join("budgets")
            .join(format!("{}.json", company_key(credential)));
        let io = |source| BudgetError {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::files::create_private_dir_all(dir).map_err(io)?;
        }
        // Private like everything in the state folder: nobody else may pause or drain the budget.
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io)?;
        Ok(Some(Self {
            path,
            pace: Pace::new(per_minute, burst),
            file: Arc::new(Mutex::new(file)),
        }))
    }

    /// The file, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for a slot of the shared budget.
    pub async fn acquire(&self) {
        let pace = self.pace;
        loop {
            let slot = self
                .update(move |state, now| state.reserve(now, pace))
                .await;
            let Some(slot) = slot else { return };
            let wait = slot.saturating_sub(now_ms());
            if wait == 0 {
                // Reserved under the lock past any pause: nothing can void it.
                return;
            }
            tokio::time::sleep(Duration::from_millis(wait)).await;
            // A run may have been told to pause by a 429 while this one slept: the slot is void.
            let paused = self
                .update(|state, now| state.paused_until_ms > now)
                .await
                .unwrap_or(false);
            if !paused {
                return;
            }
        }
    }

    /// Pauses every run on this budget for `wait` from now. Called where a 429 is handled; the
    /// lock is held for a read and a write of a few bytes, so this blocks no longer than that.
    pub fn pause_for(&self, wait: Duration) {
        let until = now_ms() + wait.as_millis() as u64;
        let pace = self.pace;
        let file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(err) = locked_update(&file, |state, _| state.pause_until(until, pace)) {
            tracing::warn!(
                "shared rate budget {}: {err}; other runs are not told of this pause",
                self.path.display()
            );
        }
    }

    /// Applies `change` to the state under the lock and writes it back; `None` when the file
    /// could not be used (warned about; the run then keeps to its own pacing).
    async fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut BudgetState, u64) -> T + Send + 'static,
    ) -> Option<T> {
        let file = self.file.clone();
        let path = self.path.clone();
        let result = tokio::task::spawn_blocking(move || {
            let file = file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            locked_update(&file, change)
        })
        .await;
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                tracing::warn!(
                    "shared rate budget {}: {err}; this run keeps to its own pacing",
                    path.display()
                );
                None
            }
            Err(_) => None,
        }
    }
}

/// The shared budget a run sends through: its credential's company's, unless it is a dry run
/// (nothing is sent) or pacing is off. A budget file that cannot be opened is warned about and
/// the run keeps to its own pacing: it still retries any 429 it earns.
pub fn for_run(
    options: &crate::runner::RunOptions,
    delivery: &crate::destination::Delivery,
) -> Option<SharedBudget> {
    let credential = options.credential.as_ref().filter(|_| !options.dry_run)?;
    match SharedBudget::open(
        &options.state_dir,
        credential,
        delivery.rate_limit_per_minute,
        delivery.burst,
    ) {
        Ok(budget) => budget,
        Err(err) => {
            tracing::warn!("cannot share the rate budget with other runs: {err}");
            None
        }
    }
}

fn locked_update<T>(
    mut file: &File,
    change: impl FnOnce(&mut BudgetState, u64) -> T,
) -> std::io::Result<T> {
    file.lock()?;
    let result = (|| {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_string(&mut text)?;
        // An empty file is a new budget; one that does not parse (a crash between truncate and
        // write, a hand edit) is started afresh, which at worst allows one burst.
        let mut state: BudgetState = serde_json::from_str(&text).unwrap_or_default();
        let value = change(&mut state, now_ms());
        let text = serde_json::to_string(&state).map_err(std::io::Error::other)?;
        file.seek(SeekFrom::Start(0))?;
        file.set_len(0)?;
        file.write_all(text.as_bytes())?;
        Ok(value)
    })();
    file.unlock()?;
    result
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The company a credential belongs to: its API ID (Basic) or its name (Bearer tokens carry no
/// API ID), with its base URL so the sandbox and Aircall never share a budget. Hashed, so the
/// file name shows neither.
pub fn company_key(credential: &Credential) -> String {
    let who = match credential.kind {
        AuthKind::Basic => format!("api-id:{}", credential.api_id),
        AuthKind::Bearer => format!("credential:{}", credential.name),
    };
    let mut hasher = Sha256::new();
    hasher.update(credential.base_url.trim_end_matches('/').as_bytes());
    hasher.update(b"\n");
    hasher.update(who.as_bytes());
    let digest = hasher.finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_interval_apart_whoever_takes_them() {
        let pace = Pace::new(60, 1);
        let mut state = BudgetState::default();
        let now = 1_000_000;
        let slots: Vec<u64> = (0..5).map(|_| state.reserve(now, pace)).collect();
        assert_eq!(
            slots,
            vec![now, now + 1000, now + 2000, now + 3000, now + 4000]
        );
    }

    #[test]
    fn burst_allows_that_many_back_to_back_then_paces() {
        let pace = Pace::new(120, 2);
        let mut state = BudgetState::default();
        let now = 1_000_000;
        let slots: Vec<u64> = (0..4).map(|_| state.reserve(now, pace)).collect();
        assert_eq!(slots, vec![now, now, now + 500, now + 1000]);
    }

    #[test]
    fn a_pause_holds_every_slot_and_resumes_without_catch_up() {
        let pace = Pace::new(60, 2);
        let mut state = BudgetState::default();
        let now = 1_000_000;
        state.reserve(now, pace);
        state.pause_until(now + 30_000, pace);
        let slots: Vec<u64> = (0..3).map(|_| state.reserve(now + 1, pace)).collect();
        assert_eq!(slots, vec![now + 30_000, now + 31_000, now + 32_000]);
    }

    #[test]
    fn a_clock_set_back_does_not_stall_the_budget() {
        let pace = Pace::new(60, 1);
        let mut state = BudgetState {
            tat_ms: 10_000_000,
            paused_until_ms: 0,
        };
        assert_eq!(state.reserve(1_000, pace), 1_000);
    }

    fn credential(kind: AuthKind, api_id: &str, name: &str, base: &str) -> Credential {
        Credential {
            name: name.into(),
            description: String::new(),
            api_id: api_id.into(),
            token: crate::credentials::TokenSource::Env("UNUSED".into()),
            kind,
            base_url: base.into(),
        }
    }

    #[test]
    fn one_company_one_key() {
        let a = credential(AuthKind::Basic, "ID1", "contacts", "https://api.aircall.io");
        let b = credential(AuthKind::Basic, "ID1", "users", "https://api.aircall.io/");
        let other = credential(AuthKind::Basic, "ID2", "contacts", "https://api.aircall.io");
        let sandbox = credential(AuthKind::Basic, "ID1", "contacts", "http://127.0.0.1:9");
        assert_eq!(company_key(&a), company_key(&b));
        assert_ne!(company_key(&a), company_key(&other));
        assert_ne!(company_key(&a), company_key(&sandbox));
        assert!(!company_key(&a).contains("ID1"));
    }

    #[tokio::test]
    async fn handles_on_one_file_share_the_slots() {
        let dir = tempfile::tempdir().unwrap();
        let cred = credential(AuthKind::Basic, "ID1", "c", "http://127.0.0.1:9");
        // 600/min: 100 ms apart, so four acquisitions through two handles span ≥ 300 ms.
        let one = SharedBudget::open(dir.path(), &cred, 600, 1)
            .unwrap()
            .unwrap();
        let two = SharedBudget::open(dir.path(), &cred, 600, 1)
            .unwrap()
            .unwrap();
        assert_eq!(one.path(), two.path());
        let mut times = Vec::new();
        for handle in [&one, &two, &one, &two] {
            handle.acquire().await;
            times.push(now_ms());
        }
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= 95, "{times:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(one.path()), 0o600);
            assert_eq!(mode(one.path().parent().unwrap()), 0o700);
        }
        let text = std::fs::read_to_string(one.path()).unwrap();
        let state: BudgetState = serde_json::from_str(&text).unwrap();
        assert!(state.tat_ms >= times[3] + 95, "{state:?} {times:?}");
        assert!(
            SharedBudget::open(dir.path(), &cred, 0, 1)
                .unwrap()
                .is_none()
        );
    }
}
