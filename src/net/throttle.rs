//! "At most once a second per key": how repeated reports (a dead peer's ICMP
//! errors, the same failing reply) are kept from becoming a flood of events.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys remembered before the stale ones are swept out.
const SWEEP_AT: usize = 4096;

/// Remembers when each key was last let through.
pub struct Throttle<K> {
    quiet: Duration,
    last: HashMap<K, Instant>,
}

impl<K: Hash + Eq> Throttle<K> {
    /// A throttle that lets each key through once per `quiet`.
    #[must_use]
    pub fn new(quiet: Duration) -> Self {
        Throttle {
            quiet,
            last: HashMap::new(),
        }
    }

    /// True if `key` may be said now (and remembers that it was).
    pub fn allow(&mut self, key: K, now: Instant) -> bool {
        let due = self
            .last
            .get(&key)
            .is_none_or(|t| now.duration_since(*t) >= self.quiet);
        if due {
            if self.last.len() >= SWEEP_AT {
                let quiet = self.quiet;
                self.last.retain(|_, t| now.duration_since(*t) < quiet);
            }
            self.last.insert(key, now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_let_through_once_per_quiet_period() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        assert!(t.allow("a", start));
        assert!(!t.allow("a", start + Duration::from_millis(999)));
        assert!(t.allow("b", start), "another key is not held back");
        assert!(t.allow("a", start + Duration::from_secs(1)));
    }

    #[test]
    fn stale_keys_are_swept_so_memory_stays_bounded() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        for k in 0..SWEEP_AT * 3 {
            t.allow(k, start + Duration::from_secs(k as u64));
        }
        assert!(t.last.len() <= SWEEP_AT);
    }
}
