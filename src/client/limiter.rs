//! The one rate limiter every attempt goes through, retries included: a GCRA (leaky bucket)
//! with a small burst, plus a global pause that a 429 sets for every sender at once.
//!
//! Aircall counts requests per company per minute with a leaky bucket, so a fixed window (which
//! lets 2×N through across a window edge) or a large burst would earn 429s. The limiter hands out
//! evenly spaced slots instead; `burst` of them may be taken back to back.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Paces requests to `per_minute` (0 turns pacing off) and honours pauses.
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two slots; `None` when pacing is off.
    interval: Option<Duration>,
    /// How far ahead of its theoretical time a slot may be taken: `(burst - 1) * interval`.
    tolerance: Duration,
    state: Mutex<State>,
    /// The company's budget shared with every other run on the machine, when there is one.
    budget: Option<crate::budget::SharedBudget>,
}

#[derive(Debug)]
struct State {
    /// GCRA's theoretical arrival time: when the next slot would be due at the steady rate.
    tat: Instant,
    /// No slot is handed out before this instant (set by 429 answers).
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// A limiter of `per_minute` requests with `burst` of them allowed back to back (at least 1).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval = (per_minute > 0).then(|| Duration::from_secs(60) / per_minute);
        let burst = burst.max(1);
        let tolerance = interval.map_or(Duration::ZERO, |i| i * (burst - 1));
        Self {
            interval,
            tolerance,
            state: Mutex::new(State {
                tat: Instant::now(),
                paused_until: None,
            }),
            budget: None,
        }
    }

    /// Also waits for a slot of `budget` on every acquire, and tells it of every pause.
    pub fn with_budget(mut self, budget: Option<crate::budget::SharedBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// The steady time between requests, `None` when pacing is off. Used for ETAs.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// Waits for this sender's slot (and then for the shared budget's). Every attempt (first or
    /// retry) calls this once.
    pub async fn acquire(&self) {
        self.acquire_own().await;
        if let Some(budget) = &self.budget {
            budget.acquire().await;
        }
    }

    async fn acquire_own(&self) {
        loop {
            let slot = self.reserve(Instant::now());
            let Some(slot) = slot else { return };
            tokio::time::sleep_until(slot).await;
            // A 429 may have paused everyone while this sender slept on a slot before the
            // pause ended; such a slot is void and the sender queues again behind the pause.
            if !self.paused_at(Instant::now()) {
                return;
            }
        }
    }

    /// Stops every sender until `until`. Afterwards pacing restarts at the steady rate from
    /// `until`, without the burst that the idle time would otherwise have earned.
    pub fn pause_until(&self, until: Instant) {
        if let Some(budget) = &self.budget {
            budget.pause_for(until.saturating_duration_since(Instant::now()));
        }
        let mut state = self.lock();
        if state.paused_until.is_none_or(|p| p < until) {
            state.paused_until = Some(until);
        }
        // Putting the theoretical arrival time `tolerance` past the pause leaves exactly one slot
        // at `until`, then one per interval.
        let resume = until + self.tolerance;
        if state.tat < resume {
            state.tat = resume;
        }
    }

    /// Reserves the next slot at or after `now`; `None` means go at once.
    fn reserve(&self, now: Instant) -> Option<Instant> {
        let mut state = self.lock();
        let paused = state.paused_until.filter(|p| *p > now);
        if paused.is_none() {
            state.paused_until = None;
        }
        let Some(interval) = self.interval else {
            return paused;
        };
        let earliest = state.tat.checked_sub(self.tolerance).unwrap_or(now);
        let mut slot = earliest.max(now);
        if let Some(paused) = paused {
            slot = slot.max(paused);
        }
        state.tat = state.tat.max(slot) + interval;
        (slot > now).then_some(slot)
    }

    fn paused_at(&self, now: Instant) -> bool {
        self.lock().paused_until.is_some_and(|p| p > now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two instants updated together; a panic elsewhere cannot leave them torn.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Starts `tasks` senders that each take `each` slots, and returns every grant time.
    async fn grants(limiter: Arc<RateLimiter>, tasks: usize, each: usize) -> Vec<Instant> {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                let mut times = Vec::new();
                for _ in 0..each {
                    limiter.acquire().await;
                    times.push(Instant::now());
                }
                times
            }));
        }
        let mut all = Vec::new();
        for handle in handles {
            all.extend(handle.await.unwrap());
        }
        all.sort();
        all
    }

    fn max_in_window(times: &[Instant], window: Duration) -> usize {
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    #[tokio::test(start_paused = true)]
    async fn no_sliding_minute_holds_more_than_rate_plus_burst() {
        for (rate, burst) in [(60, 1), (60, 2), (120, 2), (600, 1)] {
            let limiter = Arc::new(RateLimiter::new(rate, burst));
            let times = grants(limiter, 8, rate as usize / 2).await;
            assert_eq!(times.len(), rate as usize * 4);
            let worst = max_in_window(&times, Duration::from_secs(60));
            assert!(
                worst <= (rate + burst) as usize,
                "rate {rate} burst {burst}: {worst} in one minute"
            );
            // Smooth, not a window: after the burst, grants are one interval apart.
            let interval = Duration::from_secs(60) / rate;
            for pair in times[burst as usize..].windows(2) {
                assert_eq!(pair[1] - pair[0], interval, "rate {rate} burst {burst}");
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_reaches_the_rate_it_promises() {
        let limiter = Arc::new(RateLimiter::new(600, 1));
        let start = Instant::now();
        let times = grants(limiter, 4, 150).await;
        let elapsed = *times.last().unwrap() - start;
        // 600 grants at 10/s: the first at once, the last 59.9 s later.
        assert_eq!(elapsed, Duration::from_millis(59_900));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_no_pacing() {
        let limiter = Arc::new(RateLimiter::new(0, 1));
        let start = Instant::now();
        let times = grants(limiter, 4, 100).await;
        assert!(times.iter().all(|t| *t == start));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_blocks_every_sender_then_pacing_resumes_without_catch_up() {
        let limiter = Arc::new(RateLimiter::new(60, 2));
        let start = Instant::now();
        limiter.acquire().await;
        limiter.pause_until(start + Duration::from_secs(30));
        let times = grants(limiter.clone(), 5, 2).await;
        assert!(
            times.iter().all(|t| *t >= start + Duration::from_secs(30)),
            "nobody goes during the pause"
        );
        assert_eq!(times[0], start + Duration::from_secs(30));
        for pair in times.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                Duration::from_secs(1),
                "steady pacing after the pause"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_also_stops_senders_already_holding_a_later_slot_and_with_pacing_off() {
        let limiter = Arc::new(RateLimiter::new(0, 1));
        let start = Instant::now();
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                limiter.acquire().await;
                Instant::now()
            })
        };
        limiter.pause_until(start + Duration::from_secs(7));
        assert_eq!(waiter.await.unwrap(), start + Duration::from_secs(7));

        // A sender that reserved a slot before the pause was set still waits for the pause.
        let limiter = Arc::new(RateLimiter::new(60, 1));
        let start = Instant::now();
        limiter.acquire().await;
        let sleeper = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter.acquire().await;
                Instant::now()
            })
        };
        tokio::task::yield_now().await;
        limiter.pause_until(start + Duration::from_secs(10));
        assert_eq!(sleeper.await.unwrap(), start + Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_pause_never_shortens_a_longer_one() {
        let limiter = RateLimiter::new(60, 1);
        let start = Instant::now();
        limiter.pause_until(start + Duration::from_secs(20));
        limiter.pause_until(start + Duration::from_secs(5));
        limiter.acquire().await;
        assert_eq!(Instant::now(), start + Duration::from_secs(20));
    }
}
