//! `PacketStore`: the bounded packet log behind the window's table.

use std::collections::VecDeque;
use std::collections::vec_deque;

use crate::packet::Packet;

/// Counts over every packet pushed since the store was created or cleared,
/// including packets already evicted by the cap: the engine's counters, kept
/// over what the table was given.
pub type Totals = crate::net::Counters;

/// A bounded, oldest-first log of packets: pushing past the cap evicts the
/// oldest packet, so a flood cannot exhaust memory.
#[derive(Debug, Clone)]
pub struct PacketStore {
    rows: VecDeque<Packet>,
    cap: usize,
    dropped: u64,
    totals: Totals,
}

impl Default for PacketStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAP)
    }
}

impl PacketStore {
    /// The cap used by `PacketStore::default()`.
    pub const DEFAULT_CAP: usize = 100_000;

    /// Pre-allocating a huge cap up front would cost memory nobody may use;
    /// the deque grows on demand past this.
    const PREALLOC: usize = 1024;

    /// An empty store keeping at most `cap` packets (0 keeps none, but still counts totals).
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self {
            rows: VecDeque::with_capacity(cap.min(Self::PREALLOC)),
            cap,
            dropped: 0,
            totals: Totals::default(),
        }
    }

    /// Appends a packet, evicting the oldest one if the store is full.
    pub fn push(&mut self, packet: Packet) {
        self.totals.add(&packet);
        if self.cap == 0 {
            self.dropped += 1;
            return;
        }
        if self.rows.len() >= self.cap {
            self.rows.pop_front();
            self.dropped += 1;
        }
        self.rows.push_back(packet);
    }

    /// Pushes every packet in order.
    pub fn extend(&mut self, packets: impl IntoIterator<Item = Packet>) {
        for packet in packets {
            self.push(packet);
        }
    }

    /// Packets currently kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no packet is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The `i`-th kept packet; 0 is the oldest.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<&Packet> {
        self.rows.get(i)
    }

    /// The newest packet.
    #[must_use]
    pub fn last(&self) -> Option<&Packet> {
        self.rows.back()
    }

    /// Kept packets, oldest first.
    pub fn iter(&self) -> vec_deque::Iter<'_, Packet> {
        self.rows.iter()
    }

    /// Forgets every packet and resets `dropped()` and `totals()`.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.dropped = 0;
        self.totals = Totals::default();
    }

    /// Packets evicted because of the cap since the last clear.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The maximum number of packets kept.
    #[must_use]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Changes the cap; lowering it evicts the oldest packets now (counted in `dropped()`).
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
        let excess = self.rows.len().saturating_sub(cap);
        if excess > 0 {
            self.rows.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// Counts over everything pushed since the last clear, evicted or not.
    #[must_use]
    pub fn totals(&self) -> Totals {
        self.totals
    }
}

impl<'a> IntoIterator for &'a PacketStore {
    type Item = &'a Packet;
    type IntoIter = vec_deque::Iter<'a, Packet>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::capture::testdata::packet;
    use crate::packet::Direction;

    #[test]
    fn cap_evicts_oldest_and_counts_dropped() {
        let mut store = PacketStore::new(3);
        store.extend((1..=5).map(|seq| packet(seq, Direction::In, b"x")));
        assert_eq!(store.len(), 3);
        assert_eq!(store.dropped(), 2);
        let seqs: Vec<u64> = store.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(store.get(0).map(|p| p.seq), Some(3));
        assert_eq!(store.last().map(|p| p.seq), Some(5));
        assert!(store.get(3).is_none());
    }

    #[test]
    fn totals_survive_eviction() {
        let mut store = PacketStore::new(1);
        store.push(packet(1, Direction::In, b"abc"));
        store.push(packet(2, Direction::Out, b"de"));
        store.push(packet(3, Direction::In, b""));
        store.push(packet(4, Direction::Out, b"f"));
        let t = store.totals();
        assert_eq!(
            (t.packets_in, t.bytes_in, t.packets_out, t.bytes_out),
            (2, 3, 2, 3)
        );
        assert_eq!((t.packets(), t.bytes()), (4, 6));
        assert_eq!(store.len(), 1);
        assert_eq!(store.dropped(), 3);
    }

    #[test]
    fn clear_resets_everything_but_cap() {
        let mut store = PacketStore::new(2);
        store.extend((1..=4).map(|seq| packet(seq, Direction::Out, b"zz")));
        store.clear();
        assert!(store.is_empty());
        assert_eq!(store.dropped(), 0);
        assert_eq!(store.totals(), Totals::default());
        assert_eq!(store.cap(), 2);
        store.push(packet(9, Direction::In, b"q"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn lowering_cap_evicts_now_and_zero_keeps_nothing() {
        let mut store = PacketStore::new(10);
        store.extend((1..=6).map(|seq| packet(seq, Direction::In, b"")));
        store.set_cap(4);
        assert_eq!(store.len(), 4);
        assert_eq!(store.dropped(), 2);
        assert_eq!(store.get(0).map(|p| p.seq), Some(3));
        store.set_cap(0);
        store.push(packet(7, Direction::In, b"a"));
        assert!(store.is_empty());
        assert_eq!(store.dropped(), 7);
        assert_eq!(store.totals().packets_in, 7);
    }

    #[test]
    fn default_uses_default_cap() {
        assert_eq!(PacketStore::default().cap(), PacketStore::DEFAULT_CAP);
    }

    #[test]
    fn totals_read_as_a_sentence() {
        let t = Totals {
            packets_in: 1,
            bytes_in: 5,
            packets_out: 2,
            bytes_out: 10,
            ..Totals::default()
        };
        assert_eq!(t.to_string(), "1 packet (5 B) in, 2 packets (10 B) out");
        let behind = Totals { not_shown: 3, ..t };
        assert_eq!(
            behind.to_string(),
            "1 packet (5 B) in, 2 packets (10 B) out, 3 not shown (display too slow)"
        );
    }
}
