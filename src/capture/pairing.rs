//! Replies paired with the requests they answer, for a client: the round-trip
//! time of each reply, replies from an address the client never sent to, and
//! the figures of the current run (RTT min / median / p99, answered, lost).
//!
//! A reply pairs with the oldest unanswered datagram sent to its source, which
//! is clear for the request–reply traffic people test by hand; a reply from a
//! source with nothing unanswered pairs with nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use crate::packet::EndpointId;

/// Unanswered requests remembered per client; older ones are forgotten.
const MAX_OUTSTANDING: usize = 65_536;
/// Round-trip times kept per run for the percentiles.
const MAX_SAMPLES: usize = 1 << 20;
/// Notes kept for the table; the oldest half goes when full.
const MAX_NOTES: usize = 1 << 20;
/// Addresses a client sent to, remembered to tell an expected source.
const MAX_TARGETS: usize = 64;

/// What the table shows beside a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Note {
    /// A reply that came this long after its request.
    pub rtt: Option<Duration>,
    /// A reply from an address the client never sent to.
    pub unexpected: bool,
    /// The checksum it carries failed the endpoint's check.
    pub bad_sum: bool,
}

/// A client's figures since its last Send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunFigures {
    /// Datagrams sent.
    pub sent: u64,
    /// Replies paired with one of them.
    pub answered: u64,
    /// Replies from addresses the client never sent to.
    pub unexpected: u64,
    /// Replies from a target with nothing unanswered (a duplicate, or one
    /// whose request was already counted answered).
    pub unpaired: u64,
    /// Round-trip times: fastest, median and 99th percentile.
    pub rtt: Option<[Duration; 3]>,
}

#[derive(Debug, Default)]
struct Client {
    outstanding: VecDeque<(SocketAddr, SystemTime)>,
    targets: VecDeque<SocketAddr>,
    figures: RunFigures,
    samples: Vec<Duration>,
    /// New samples since the percentiles were worked out.
    dirty: bool,
}

/// Pairing for every client, and the notes for the table by packet number.
#[derive(Debug, Default)]
pub struct Pairing {
    clients: HashMap<EndpointId, Client>,
    notes: BTreeMap<u64, Note>,
    bad_sums: HashMap<EndpointId, u64>,
}

impl Pairing {
    /// A new run of `client` starts (Send was pressed): its figures start over.
    pub fn new_run(&mut self, client: EndpointId) {
        let c = self.clients.entry(client).or_default();
        c.figures = RunFigures::default();
        c.samples.clear();
        c.outstanding.clear();
    }

    /// `client` sent a datagram to `peer`.
    pub fn sent(&mut self, client: EndpointId, peer: SocketAddr, time: SystemTime) {
        let c = self.clients.entry(client).or_default();
        c.figures.sent += 1;
        if c.outstanding.len() >= MAX_OUTSTANDING {
            c.outstanding.pop_front();
        }
        c.outstanding.push_back((peer, time));
        if !c.targets.contains(&peer) {
            if c.targets.len() >= MAX_TARGETS {
                c.targets.pop_front();
            }
            c.targets.push_back(peer);
        }
    }

    /// `client` received packet number `seq` from `peer`; what to note beside it.
    pub fn received(
        &mut self,
        client: EndpointId,
        seq: u64,
        peer: SocketAddr,
        time: SystemTime,
    ) -> Option<Note> {
        let c = self.clients.entry(client).or_default();
        let note = if let Some(at) = c.outstanding.iter().position(|(p, _)| *p == peer) {
            let (_, sent) = c.outstanding.remove(at)?;
            // Everything sent to this peer before the answered one stays
            // unanswered: it may still come, or it was lost.
            let rtt = time.duration_since(sent).unwrap_or_default();
            c.figures.answered += 1;
            if c.samples.len() < MAX_SAMPLES {
                c.samples.push(rtt);
                c.dirty = true;
            }
            Note {
                rtt: Some(rtt),
                ..Note::default()
            }
        } else if c.targets.contains(&peer) {
            c.figures.unpaired += 1;
            return None;
        } else {
            c.figures.unexpected += 1;
            Note {
                unexpected: true,
                ..Note::default()
            }
        };
        self.keep_note(seq, |n| {
            n.rtt = note.rtt;
            n.unexpected = note.unexpected;
        });
        Some(note)
    }

    /// Packet number `seq`, received by `endpoint`, failed its checksum check.
    pub fn bad_sum(&mut self, endpoint: EndpointId, seq: u64) {
        *self.bad_sums.entry(endpoint).or_default() += 1;
        self.keep_note(seq, |n| n.bad_sum = true);
    }

    /// Received datagrams of `endpoint` that failed its checksum check.
    #[must_use]
    pub fn bad_sums(&self, endpoint: EndpointId) -> u64 {
        self.bad_sums.get(&endpoint).copied().unwrap_or(0)
    }

    fn keep_note(&mut self, seq: u64, change: impl FnOnce(&mut Note)) {
        if self.notes.len() >= MAX_NOTES {
            let keep = self.notes.split_off(&self.median_note());
            self.notes = keep;
        }
        change(self.notes.entry(seq).or_default());
    }

    fn median_note(&self) -> u64 {
        self.notes
            .keys()
            .nth(self.notes.len() / 2)
            .copied()
            .unwrap_or(0)
    }

    /// The note beside packet number `seq`, if any.
    #[must_use]
    pub fn note(&self, seq: u64) -> Option<Note> {
        self.notes.get(&seq).copied()
    }

    /// `client`'s figures since its last Send.
    #[must_use]
    pub fn figures(&mut self, client: EndpointId) -> Option<RunFigures> {
        let c = self.clients.get_mut(&client)?;
        let n = c.samples.len();
        // Worked out only when a reply came since: the window asks every frame.
        if n > 0 && c.dirty {
            c.dirty = false;
            let mut pick = |i: usize| *c.samples.select_nth_unstable(i.min(n - 1)).1;
            let min = pick(0);
            let median = pick(n / 2);
            let p99 = pick((n * 99).div_ceil(100).saturating_sub(1));
            c.figures.rtt = Some([min, median, p99]);
        }
        Some(c.figures)
    }

    /// Forgets the notes and checksum counts (the log was cleared or replaced).
    pub fn clear_notes(&mut self) {
        self.notes.clear();
        self.bad_sums.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rtt(d: Duration) -> Note {
        Note {
            rtt: Some(d),
            ..Note::default()
        }
    }

    #[test]
    fn replies_pair_in_order_and_strangers_are_flagged() {
        let c = EndpointId(2);
        let server: SocketAddr = "127.0.0.1:9999".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:7777".parse().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let ms = Duration::from_millis;
        let mut p = Pairing::default();
        p.new_run(c);
        p.sent(c, server, t0);
        p.sent(c, server, t0 + ms(1));
        p.sent(c, server, t0 + ms(2));
        assert_eq!(p.received(c, 10, server, t0 + ms(5)), Some(rtt(ms(5))));
        assert_eq!(p.received(c, 11, server, t0 + ms(6)), Some(rtt(ms(5))));
        assert_eq!(
            p.received(c, 12, other, t0 + ms(7)),
            Some(Note {
                unexpected: true,
                ..Note::default()
            })
        );
        assert_eq!(
            p.note(12),
            Some(Note {
                unexpected: true,
                ..Note::default()
            })
        );
        assert_eq!(p.note(10), Some(rtt(ms(5))));
        let f = p.figures(c).unwrap();
        assert_eq!((f.sent, f.answered, f.unexpected), (3, 2, 1));
        assert_eq!(f.rtt, Some([ms(5), ms(5), ms(5)]));
        // The third comes, then a duplicate with nothing left to pair.
        assert_eq!(p.received(c, 13, server, t0 + ms(12)), Some(rtt(ms(10))));
        assert_eq!(p.received(c, 14, server, t0 + ms(13)), None);
        let f = p.figures(c).unwrap();
        assert_eq!((f.answered, f.unpaired), (3, 1));
        assert_eq!(f.rtt, Some([ms(5), ms(5), ms(10)]));
        p.new_run(c);
        assert_eq!(p.figures(c).unwrap(), RunFigures::default());
        // A bad checksum joins whatever else the row had.
        p.bad_sum(c, 10);
        assert_eq!(
            p.note(10),
            Some(Note {
                bad_sum: true,
                ..rtt(ms(5))
            })
        );
        assert_eq!(p.bad_sums(c), 1);
    }
}
