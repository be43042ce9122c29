//! A per-connection token bucket: bursts of ICE candidates pass, sustained floods do not.

use std::time::Instant;

/// Refused frames in a row after which a connection is closed with 4029: enough to survive a
/// client that briefly ignores the `rate-limited` errors, few enough that a flood ends quickly.
pub const MAX_STRIKES: u32 = 50;

/// What to do with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Pass,
    /// Over the limit: drop it and answer `rate-limited`.
    Refuse,
    /// Still sending after [`MAX_STRIKES`] refusals: close with 4029.
    Close,
}

/// A token bucket holding at most `burst` frames, refilled at `rate` frames per second.
///
/// Owned by one connection's reader, so it needs no synchronisation.
#[derive(Debug)]
pub struct TokenBucket {
    /// Frames per second on average.
    rate: f64,
    /// Most frames at once; also the starting balance, so a joiner's ICE burst passes.
    burst: f64,
    /// Frames that may be sent now.
    tokens: f64,
    /// When `tokens` was last refilled.
    refilled: Instant,
    /// Refusals since the last frame that passed.
    strikes: u32,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_sec: u32, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate: f64::from(rate_per_sec),
            burst,
            tokens: burst,
            refilled: now,
            strikes: 0,
        }
    }

    /// Takes one token for a frame arriving at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            Verdict::Pass
        } else {
            self.strikes += 1;
            if self.strikes > MAX_STRIKES {
                Verdict::Close
            } else {
                Verdict::Refuse
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_a_flood_is_refused_then_closed() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10, 100, t0);
        for _ in 0..100 {
            assert_eq!(bucket.check(t0), Verdict::Pass);
        }
        for _ in 0..MAX_STRIKES {
            assert_eq!(bucket.check(t0), Verdict::Refuse);
        }
        assert_eq!(bucket.check(t0), Verdict::Close);
    }

    #[test]
    fn refills_at_the_rate_and_forgives_strikes() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10, 1, t0);
        assert_eq!(bucket.check(t0), Verdict::Pass);
        assert_eq!(bucket.check(t0), Verdict::Refuse);
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(bucket.check(t1), Verdict::Pass);
        assert_eq!(bucket.check(t1), Verdict::Refuse);
        // A long pause refills to the burst only.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(bucket.check(t2), Verdict::Pass);
        assert_eq!(bucket.check(t2), Verdict::Refuse);
    }
}
