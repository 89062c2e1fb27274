//! The one backoff policy every network wait goes through (DNS, the Docker engine, the lock):
//! exponential from 250 ms to a 10 s cap, with jitter, bounded by a deadline.
//! It only computes delays and sleeps; it never decides what is worth retrying.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// First delay before a retry.
pub const INITIAL: Duration = Duration::from_millis(250);
/// Longest delay between two tries.
pub const CAP: Duration = Duration::from_secs(10);

/// Exponential backoff with jitter, ending at a deadline.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    deadline: Instant,
    attempts: u32,
}

impl Backoff {
    /// A fresh policy that gives up at `deadline`.
    pub fn until(deadline: Instant) -> Self {
        Backoff {
            next: INITIAL,
            deadline,
            attempts: 0,
        }
    }

    /// How many delays have been handed out so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The next delay (jittered to 50–100 % of the nominal step, never past the deadline),
    /// or `None` when the deadline has passed.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if now >= self.deadline {
            return None;
        }
        let nominal = self.next;
        self.next = (self.next * 2).min(CAP);
        self.attempts += 1;
        // Full jitter would allow near-zero waits that hammer a server at boot; half jitter
        // still spreads a fleet that booted at the same second.
        let half = nominal / 2;
        let jitter = Duration::from_nanos(random_u64() % (half.as_nanos() as u64).max(1));
        Some((half + jitter).min(self.deadline - now))
    }

    /// Sleep for the next delay; `false` when the deadline has passed and the caller must stop.
    pub fn wait(&mut self) -> bool {
        match self.next_delay() {
            Some(d) => {
                std::thread::sleep(d);
                true
            }
            None => false,
        }
    }
}

/// A random number for jitter and splay. Not for security: std seeds `RandomState` from the
/// OS once per process and perturbs it per instance, which is plenty to spread a fleet.
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// A uniformly random duration in `[0, max)`.
pub fn random_duration(max: Duration) -> Duration {
    let n = max.as_millis() as u64;
    if n == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(random_u64() % n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_with_jitter() {
        let mut b = Backoff::until(Instant::now() + Duration::from_secs(3600));
        let mut nominal = INITIAL;
        for _ in 0..12 {
            let d = b.next_delay().expect("deadline is far away");
            assert!(
                d >= nominal / 2 && d <= nominal,
                "{d:?} not in [{:?}, {nominal:?}]",
                nominal / 2
            );
            nominal = (nominal * 2).min(CAP);
        }
        assert_eq!(b.attempts(), 12);
    }

    #[test]
    fn never_sleeps_past_the_deadline() {
        let mut b = Backoff::until(Instant::now() + Duration::from_millis(50));
        for _ in 0..5 {
            b.next_delay();
        }
        let d = b.next_delay();
        assert!(d.is_none_or(|d| d <= Duration::from_millis(50)));
    }

    #[test]
    fn a_past_deadline_gives_no_delay() {
        let mut b = Backoff::until(Instant::now());
        assert_eq!(b.next_delay(), None);
        assert!(!b.wait());
    }

    #[test]
    fn random_durations_stay_in_range() {
        for _ in 0..100 {
            assert!(random_duration(Duration::from_millis(7)) < Duration::from_millis(7));
        }
        assert_eq!(random_duration(Duration::ZERO), Duration::ZERO);
    }
}
