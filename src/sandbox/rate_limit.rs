//! The per-company rate limit: a leaky bucket of N requests per minute.
//!
//! The bucket holds at most N requests and drains continuously at N per minute, so a full
//! burst is allowed once and capacity then comes back gradually, one request every 60/N s.

use std::time::{Duration, Instant};

/// What the bucket decided for one request, and the numbers the `X-AircallApi-*` headers show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Allowed: time until the bucket is empty (the counter fully reset).
    /// Refused: time until the bucket has room for one more request.
    pub reset_after: Duration,
}

#[derive(Debug)]
pub struct LeakyBucket {
    limit: u32,
    level: f64,
    last: Instant,
}

impl LeakyBucket {
    pub fn new(limit_per_minute: u32, now: Instant) -> Self {
        Self {
            limit: limit_per_minute,
            level: 0.0,
            last: now,
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.limit) / 60.0
    }

    /// Takes one request at `now` if the bucket has room; a refused request adds nothing.
    pub fn admit(&mut self, now: Instant) -> Admission {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.level = (self.level - elapsed * self.per_second()).max(0.0);
        let capacity = f64::from(self.limit);
        // A small tolerance keeps float drift from refusing a request that has exactly fit.
        let allowed = self.level + 1.0 <= capacity + 1e-9;
        let reset_after = if allowed {
            self.level += 1.0;
            self.level / self.per_second()
        } else {
            (self.level + 1.0 - capacity) / self.per_second()
        };
        let remaining = (capacity - self.level).floor().max(0.0) as u32;
        Admission {
            allowed,
            limit: self.limit,
            remaining,
            reset_after: Duration::from_secs_f64(reset_after.max(0.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_burst_passes_then_the_next_request_is_refused() {
        let start = Instant::now();
        let mut bucket = LeakyBucket::new(120, start);
        for i in 0..120 {
            let a = bucket.admit(start);
            assert!(a.allowed, "request {i}");
            assert_eq!(a.remaining, 119 - i);
        }
        let refused = bucket.admit(start);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // 120/min drains one request every 0.5 s.
        assert!(
            (refused.reset_after.as_secs_f64() - 0.5).abs() < 1e-6,
            "{refused:?}"
        );
    }

    #[test]
    fn capacity_returns_gradually() {
        let start = Instant::now();
        let mut bucket = LeakyBucket::new(60, start);
        for _ in 0..60 {
            assert!(bucket.admit(start).allowed);
        }
        assert!(!bucket.admit(start + Duration::from_millis(900)).allowed);
        let after_one = bucket.admit(start + Duration::from_millis(1000));
        assert!(after_one.allowed);
        assert!(!bucket.admit(start + Duration::from_millis(1100)).allowed);
        let later = start + Duration::from_secs(11);
        for _ in 0..10 {
            assert!(bucket.admit(later).allowed);
        }
        assert!(!bucket.admit(later).allowed);
    }

    #[test]
    fn an_allowed_answer_says_when_the_bucket_is_empty() {
        let start = Instant::now();
        let mut bucket = LeakyBucket::new(60, start);
        bucket.admit(start);
        let a = bucket.admit(start);
        assert_eq!(a.remaining, 58);
        assert!((a.reset_after.as_secs_f64() - 2.0).abs() < 1e-6);
    }
}
