//! Datagrams to send at a later moment (a rule's delayed reply), held in time
//! order and bounded, so a flood of delayed answers cannot grow without end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Instant;

use crate::packet::EndpointId;

/// The most datagrams waiting at once.
pub const MAX_WAITING: usize = 100_000;
/// The most bytes waiting at once.
pub const MAX_WAITING_BYTES: usize = 64 * 1024 * 1024;

/// One datagram waiting for its moment.
#[derive(Debug, PartialEq, Eq)]
pub struct Due {
    /// When it goes.
    pub at: Instant,
    /// Ties keep the order they were queued in.
    order: u64,
    /// Which endpoint's socket sends it.
    pub id: EndpointId,
    /// To whom.
    pub peer: SocketAddr,
    /// The datagram.
    pub payload: Vec<u8>,
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The queue.
#[derive(Debug, Default)]
pub struct Later {
    heap: BinaryHeap<Reverse<Due>>,
    bytes: usize,
    order: u64,
}

impl Later {
    /// Queues `payload`; false (and nothing queued) when the queue is full.
    pub fn push(
        &mut self,
        at: Instant,
        id: EndpointId,
        peer: SocketAddr,
        payload: Vec<u8>,
    ) -> bool {
        if self.heap.len() >= MAX_WAITING || self.bytes + payload.len() > MAX_WAITING_BYTES {
            return false;
        }
        self.order += 1;
        self.bytes += payload.len();
        self.heap.push(Reverse(Due {
            at,
            order: self.order,
            id,
            peer,
            payload,
        }));
        true
    }

    /// When the next datagram is due.
    #[must_use]
    pub fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(d)| d.at)
    }

    /// The next datagram due by `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<Due> {
        if self.next_at()? > now {
            return None;
        }
        let Reverse(due) = self.heap.pop()?;
        self.bytes -= due.payload.len();
        Some(due)
    }

    /// Forgets what an endpoint had waiting (it closed).
    pub fn forget(&mut self, id: EndpointId) {
        if self.heap.iter().any(|Reverse(d)| d.id == id) {
            let kept: Vec<_> = std::mem::take(&mut self.heap)
                .into_iter()
                .filter(|Reverse(d)| d.id != id)
                .collect();
            self.bytes = kept.iter().map(|Reverse(d)| d.payload.len()).sum();
            self.heap = kept.into();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_in_time_order_then_queue_order_and_bounded() {
        let t = Instant::now();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut q = Later::default();
        let ms = Duration::from_millis;
        assert!(q.push(t + ms(20), EndpointId(1), peer, b"b".to_vec()));
        assert!(q.push(t + ms(10), EndpointId(1), peer, b"a".to_vec()));
        assert!(q.push(t + ms(20), EndpointId(2), peer, b"c".to_vec()));
        assert_eq!(q.next_at(), Some(t + ms(10)));
        assert!(q.pop_due(t).is_none());
        assert_eq!(q.pop_due(t + ms(30)).unwrap().payload, b"a");
        q.forget(EndpointId(2));
        assert_eq!(q.pop_due(t + ms(30)).unwrap().payload, b"b");
        assert!(q.pop_due(t + ms(30)).is_none());
        assert!(!q.push(t, EndpointId(1), peer, vec![0; MAX_WAITING_BYTES + 1]));
        assert_eq!(q.next_at(), None);
    }
}
