//! Counting replies by their sequence numbers: which are new, which repeat one
//! already seen, which came after a later one (reordered).
//!
//! Each socket remembers the last `WINDOW` sequence numbers in a ring of bits,
//! so memory stays fixed however long the run. A reply older than the window is
//! counted as new and reordered: whether it repeats one is no longer known, and a
//! reply held back by 65,536 others is rare enough not to matter.

use super::header::Header;
use super::rtt::Rtt;

const WINDOW: u64 = 1 << 16;
const WORDS: usize = (WINDOW / 64) as usize;

/// What one reply's sequence number turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// The first reply to this datagram; `reordered` when a later one came first.
    New { reordered: bool },
    /// A second (or later) reply to the same datagram.
    Duplicate,
}

/// The sequence numbers seen on one socket.
pub(super) struct SeqWindow {
    /// One past the highest sequence number seen.
    top: u64,
    bits: Box<[u64; WORDS]>,
}

impl SeqWindow {
    pub(super) fn new() -> SeqWindow {
        SeqWindow {
            top: 0,
            bits: Box::new([0; WORDS]),
        }
    }

    pub(super) fn record(&mut self, seq: u64) -> Seen {
        if seq >= self.top {
            if seq - self.top >= WINDOW {
                self.bits.fill(0);
            } else {
                // Slots for the numbers skipped over still hold ones from a lap ago.
                for skipped in self.top..seq {
                    self.set(skipped, false);
                }
            }
            self.set(seq, true);
            self.top = seq + 1;
            return Seen::New { reordered: false };
        }
        if self.top - seq > WINDOW {
            return Seen::New { reordered: true };
        }
        if self.get(seq) {
            return Seen::Duplicate;
        }
        self.set(seq, true);
        Seen::New { reordered: true }
    }

    fn slot(seq: u64) -> (usize, u64) {
        let bit = seq % WINDOW;
        (usize::try_from(bit / 64).unwrap_or(0), 1 << (bit % 64))
    }

    fn get(&self, seq: u64) -> bool {
        let (word, mask) = Self::slot(seq);
        self.bits.get(word).is_some_and(|w| w & mask != 0)
    }

    fn set(&mut self, seq: u64, on: bool) {
        let (word, mask) = Self::slot(seq);
        if let Some(w) = self.bits.get_mut(word) {
            if on {
                *w |= mask;
            } else {
                *w &= !mask;
            }
        }
    }
}

/// Everything the open loop's replies said.
pub(super) struct Tally {
    /// Every reply from the target, with or without a header.
    pub received: u64,
    /// Replies without a header of ours: they cannot tell loss or order.
    pub untagged: u64,
    /// Datagrams answered at least once.
    pub answered: u64,
    pub duplicates: u64,
    pub reordered: u64,
    pub rtt: Rtt,
    windows: Vec<SeqWindow>,
}

impl Tally {
    pub(super) fn new(sockets: usize) -> Tally {
        Tally {
            received: 0,
            untagged: 0,
            answered: 0,
            duplicates: 0,
            reordered: 0,
            rtt: Rtt::new(),
            windows: (0..sockets).map(|_| SeqWindow::new()).collect(),
        }
    }

    /// Counts one reply that came in on socket `socket`, whose datagrams so far
    /// number `issued`, at `now_ns` after the start.
    pub(super) fn reply(&mut self, socket: usize, issued: u64, bytes: &[u8], now_ns: u64) {
        self.received += 1;
        // A header is ours only if it names this socket and a datagram it sent.
        let ours = Header::decode(bytes)
            .filter(|h| usize::try_from(h.socket).is_ok_and(|s| s == socket) && h.seq < issued);
        let (Some(h), Some(window)) = (ours, self.windows.get_mut(socket)) else {
            self.untagged += 1;
            return;
        };
        match window.record(h.seq) {
            Seen::New { reordered } => {
                self.answered += 1;
                self.reordered += u64::from(reordered);
                self.rtt.record(now_ns.saturating_sub(h.sent_ns));
            }
            Seen::Duplicate => self.duplicates += 1,
        }
    }

    /// Whether every datagram sent has had its answer.
    pub(super) fn all_answered(&self, sent: u64) -> bool {
        self.answered + self.untagged >= sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_replies_are_all_new() {
        let mut w = SeqWindow::new();
        for seq in 0..200_000 {
            assert_eq!(w.record(seq), Seen::New { reordered: false });
        }
    }

    #[test]
    fn repeats_and_late_ones_are_told_apart() {
        let mut w = SeqWindow::new();
        assert_eq!(w.record(0), Seen::New { reordered: false });
        assert_eq!(w.record(2), Seen::New { reordered: false });
        assert_eq!(w.record(1), Seen::New { reordered: true });
        assert_eq!(w.record(1), Seen::Duplicate);
        assert_eq!(w.record(2), Seen::Duplicate);
        assert_eq!(w.record(0), Seen::Duplicate);
    }

    #[test]
    fn the_window_forgets_a_lap_ago() {
        let mut w = SeqWindow::new();
        assert_eq!(w.record(5), Seen::New { reordered: false });
        // Slot 5 comes round again: it must read as new, not as a repeat.
        assert_eq!(w.record(WINDOW + 10), Seen::New { reordered: false });
        assert_eq!(w.record(WINDOW + 5), Seen::New { reordered: true });
        // Far older than the window: new and reordered, as documented.
        assert_eq!(w.record(3), Seen::New { reordered: true });
        assert_eq!(w.record(4 * WINDOW), Seen::New { reordered: false });
        assert_eq!(w.record(4 * WINDOW - 1), Seen::New { reordered: true });
    }

    #[test]
    fn foreign_replies_are_counted_but_not_judged() {
        let mut t = Tally::new(2);
        let ours = |socket, seq| {
            Header {
                socket,
                seq,
                sent_ns: 10,
            }
            .encode()
        };
        t.reply(0, 5, &ours(0, 0), 50);
        t.reply(0, 5, &ours(0, 0), 60);
        t.reply(1, 5, &ours(0, 1), 60); // names the other socket
        t.reply(0, 5, &ours(0, 9), 60); // never sent
        t.reply(0, 5, b"fixed reply", 60);
        assert_eq!(t.received, 5);
        assert_eq!(t.answered, 1);
        assert_eq!(t.duplicates, 1);
        assert_eq!(t.untagged, 3);
        assert!(!t.all_answered(5));
        assert!(t.all_answered(4));
    }
}
