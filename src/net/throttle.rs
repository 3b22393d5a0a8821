//! "At most once a second per key": how repeated reports (a dead peer's ICMP
//! errors, the same failing reply) are kept from becoming a flood of events.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys remembered before the stale ones are swept out.
const SWEEP_AT: usize = 4096;

/// Remembers when each key was last let through, and how many times it was
/// held back since.
pub struct Throttle<K> {
    quiet: Duration,
    last: HashMap<K, (Instant, u64)>,
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

    /// `Some(n)` if `key` may be said now, `n` being how many times it was
    /// held back since it was last said; `None` (and counted) otherwise.
    pub fn let_through(&mut self, key: K, now: Instant) -> Option<u64> {
        match self.last.get_mut(&key) {
            Some((t, held)) if now.duration_since(*t) < self.quiet => {
                *held += 1;
                None
            }
            Some((t, held)) => {
                let n = std::mem::take(held);
                *t = now;
                Some(n)
            }
            None => {
                if self.last.len() >= SWEEP_AT {
                    let quiet = self.quiet;
                    self.last.retain(|_, (t, _)| now.duration_since(*t) < quiet);
                }
                self.last.insert(key, (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_held_back_is_counted_for_the_next_saying() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        assert_eq!(t.let_through("a", start), Some(0));
        for i in 1..=5 {
            assert_eq!(
                t.let_through("a", start + Duration::from_millis(i * 100)),
                None
            );
        }
        assert_eq!(t.let_through("a", start + Duration::from_secs(1)), Some(5));
        assert_eq!(t.let_through("a", start + Duration::from_secs(2)), Some(0));
    }

    #[test]
    fn a_key_is_let_through_once_per_quiet_period() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        assert!(t.let_through("a", start).is_some());
        assert!(
            t.let_through("a", start + Duration::from_millis(999))
                .is_none()
        );
        assert!(
            t.let_through("b", start).is_some(),
            "another key is not held back"
        );
        assert!(t.let_through("a", start + Duration::from_secs(1)).is_some());
    }

    #[test]
    fn stale_keys_are_swept_so_memory_stays_bounded() {
        let mut t = Throttle::new(Duration::from_secs(1));
        let start = Instant::now();
        for k in 0..SWEEP_AT * 3 {
            let _said = t.let_through(k, start + Duration::from_secs(k as u64));
        }
        assert!(t.last.len() <= SWEEP_AT);
    }
}
