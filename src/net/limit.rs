//! The reply rate limit: automatic replies a server may send a second, to
//! each peer and in all. A spoofed source would otherwise turn the server
//! into a reflector that answers every datagram it is sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Automatic replies allowed a second; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimit {
    /// To any one peer.
    pub per_peer: u32,
    /// To all peers together.
    pub total: u32,
}

impl ReplyLimit {
    /// No limit at all (benchmarks, and a person who asks for it).
    pub const NONE: ReplyLimit = ReplyLimit {
        per_peer: 0,
        total: 0,
    };
}

impl Default for ReplyLimit {
    /// 1,000 a second to a peer, 10,000 in all.
    fn default() -> Self {
        ReplyLimit {
            per_peer: 1_000,
            total: 10_000,
        }
    }
}

impl std::fmt::Display for ReplyLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: u32| {
            if v == 0 {
                "no limit".to_owned()
            } else {
                format!("{v}/s")
            }
        };
        write!(f, "{} a peer, {} in all", n(self.per_peer), n(self.total))
    }
}

/// Counts replies in one-second windows.
#[derive(Debug)]
pub struct Limiter {
    limit: ReplyLimit,
    window: Instant,
    total: u32,
    per_peer: HashMap<SocketAddr, u32>,
}

/// Peers remembered in one window before the map is trimmed back at the next.
const KEEP_PEERS: usize = 4096;
/// Peers a server answers within one second at most (about 3 MB of counts).
const MAX_PEERS_A_SECOND: usize = 65_536;

impl Limiter {
    /// A limiter with nothing counted yet.
    #[must_use]
    pub fn new(limit: ReplyLimit) -> Limiter {
        Limiter {
            limit,
            window: Instant::now(),
            total: 0,
            per_peer: HashMap::new(),
        }
    }

    /// Changes the limit; what was counted this second still counts.
    pub fn set(&mut self, limit: ReplyLimit) {
        self.limit = limit;
    }

    /// True if a reply to `peer` may go now (and counts it).
    pub fn allow(&mut self, peer: SocketAddr, now: Instant) -> bool {
        if now.duration_since(self.window) >= Duration::from_secs(1) {
            self.window = now;
            self.total = 0;
            self.per_peer.clear();
            // A flood from many sources leaves a big map behind: give it back.
            if self.per_peer.capacity() > KEEP_PEERS {
                self.per_peer.shrink_to(KEEP_PEERS);
            }
        }
        if self.limit.total != 0 && self.total >= self.limit.total {
            return false;
        }
        if self.limit.per_peer != 0 {
            // Within one second, a flood from more sources than this gets no
            // answer from the newest: the map stays bounded however many there are.
            if self.per_peer.len() >= MAX_PEERS_A_SECOND && !self.per_peer.contains_key(&peer) {
                return false;
            }
            let sent = self.per_peer.entry(peer).or_insert(0);
            if *sent >= self.limit.per_peer {
                return false;
            }
            *sent += 1;
        }
        self.total += 1;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_and_all_of_them_are_held_to_the_limit_each_second() {
        let mut l = Limiter::new(ReplyLimit {
            per_peer: 3,
            total: 5,
        });
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let c: SocketAddr = "127.0.0.1:3".parse().unwrap();
        let t = Instant::now();
        let allowed = |l: &mut Limiter, p, n| (0..n).filter(|_| l.allow(p, t)).count();
        assert_eq!(allowed(&mut l, a, 10), 3);
        assert_eq!(allowed(&mut l, b, 10), 2, "the total is reached");
        assert_eq!(allowed(&mut l, c, 10), 0);
        // The next second starts afresh.
        let later = t + Duration::from_secs(1);
        assert!(l.allow(c, later));
        l.set(ReplyLimit::NONE);
        assert!((0..100_000).all(|_| l.allow(a, later)));
        assert_eq!(
            ReplyLimit::default().to_string(),
            "1000/s a peer, 10000/s in all"
        );
    }
}
