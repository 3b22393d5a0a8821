//! Replies paired with the requests they answer, for a client: the round-trip
//! time of each reply, replies from an address the client never sent to, and
//! the figures of the current run (RTT min / median / p99, answered, lost).
//!
//! A reply that carries the very bytes of an unanswered request (an echo of
//! datagrams that differ, as numbered ones do) pairs with that request; this
//! also tells duplicates and reordering. Any other reply pairs with the oldest
//! unanswered datagram sent to its source, which is clear for the
//! request–reply traffic people test by hand; a reply from a source with
//! nothing unanswered pairs with nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use crate::packet::EndpointId;

/// Unanswered requests remembered per client; older ones are forgotten.
const MAX_OUTSTANDING: usize = 4096;
/// Round-trip times kept per run for the percentiles.
const MAX_SAMPLES: usize = 1 << 20;
/// Notes kept for the table; the oldest half goes when full.
const MAX_NOTES: usize = 1 << 20;
/// Addresses a client sent to, remembered to tell an expected source.
const MAX_TARGETS: usize = 64;
/// Round-trip times kept for the charts between two of their samples; more
/// are not kept (the charts ask several times a second).
const MAX_RECENT: usize = 4096;

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
    /// Replies from a target with nothing unanswered.
    pub unpaired: u64,
    /// Echoes of a request already answered.
    pub duplicates: u64,
    /// Echoes that came back before the echo of a request sent earlier.
    pub reordered: u64,
    /// Round-trip times: fastest, median and 99th percentile.
    pub rtt: Option<[Duration; 3]>,
}

/// One datagram sent and not yet answered.
#[derive(Debug, Clone, Copy)]
struct Request {
    peer: SocketAddr,
    time: SystemTime,
    /// Its bytes, hashed: an echo carries the same.
    content: u64,
}

/// Echoes remembered to tell a duplicate.
const MAX_ANSWERED: usize = 65_536;

#[derive(Debug, Default)]
struct Client {
    outstanding: VecDeque<Request>,
    /// The content of requests already answered, oldest first, and as a set.
    answered: VecDeque<u64>,
    answered_set: std::collections::HashSet<u64>,
    targets: VecDeque<SocketAddr>,
    figures: RunFigures,
    samples: Vec<Duration>,
    /// New samples since the percentiles were worked out.
    dirty: bool,
    /// Round-trip times since the charts last took them.
    recent: Vec<Duration>,
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
        c.answered.clear();
        c.answered_set.clear();
    }

    /// `client` sent `bytes` to `peer`.
    pub fn sent(&mut self, client: EndpointId, peer: SocketAddr, bytes: &[u8], time: SystemTime) {
        let c = self.clients.entry(client).or_default();
        c.figures.sent += 1;
        if c.outstanding.len() >= MAX_OUTSTANDING {
            c.outstanding.pop_front();
        }
        c.outstanding.push_back(Request {
            peer,
            time,
            content: content(bytes),
        });
        if !c.targets.contains(&peer) {
            if c.targets.len() >= MAX_TARGETS {
                c.targets.pop_front();
            }
            c.targets.push_back(peer);
        }
    }

    /// `client` received `bytes`, packet number `seq`, from `peer`; what to note beside it.
    pub fn received(
        &mut self,
        client: EndpointId,
        seq: u64,
        peer: SocketAddr,
        bytes: &[u8],
        time: SystemTime,
    ) -> Option<Note> {
        let c = self.clients.entry(client).or_default();
        let hash = content(bytes);
        let echo = c
            .outstanding
            .iter()
            .position(|r| r.peer == peer && r.content == hash);
        let first = c.outstanding.iter().position(|r| r.peer == peer);
        let paired = match (echo, first) {
            (Some(at), Some(oldest)) => {
                if at != oldest {
                    c.figures.reordered += 1;
                }
                Some(at)
            }
            (None, _) if c.answered_set.contains(&hash) => {
                c.figures.duplicates += 1;
                return None;
            }
            (None, first) => first,
            (Some(at), None) => Some(at),
        };
        let note = if let Some(at) = paired {
            let request = c.outstanding.remove(at)?;
            // Everything sent to this peer before the answered one stays
            // unanswered: it may still come, or it was lost.
            let rtt = time.duration_since(request.time).unwrap_or_default();
            if c.answered.len() >= MAX_ANSWERED
                && let Some(old) = c.answered.pop_front()
            {
                c.answered_set.remove(&old);
            }
            if c.answered_set.insert(request.content) {
                c.answered.push_back(request.content);
            }
            c.figures.answered += 1;
            if c.samples.len() < MAX_SAMPLES {
                c.samples.push(rtt);
                c.dirty = true;
            }
            if c.recent.len() < MAX_RECENT {
                c.recent.push(rtt);
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

    /// The round-trip times `client` measured since the last call, in the
    /// order their replies came (at most 4,096 between two calls).
    pub fn take_recent_rtts(&mut self, client: EndpointId) -> Vec<Duration> {
        self.clients
            .get_mut(&client)
            .map(|c| std::mem::take(&mut c.recent))
            .unwrap_or_default()
    }

    /// Forgets the notes and checksum counts (the log was cleared or replaced).
    pub fn clear_notes(&mut self) {
        self.notes.clear();
        self.bad_sums.clear();
    }
}

/// A datagram's bytes, hashed, to know its echo.
fn content(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
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
        p.sent(c, server, b"req", t0);
        p.sent(c, server, b"req", t0 + ms(1));
        p.sent(c, server, b"req", t0 + ms(2));
        assert_eq!(
            p.received(c, 10, server, b"reply", t0 + ms(5)),
            Some(rtt(ms(5)))
        );
        assert_eq!(
            p.received(c, 11, server, b"reply", t0 + ms(6)),
            Some(rtt(ms(5)))
        );
        assert_eq!(
            p.received(c, 12, other, b"reply", t0 + ms(7)),
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
        assert_eq!(
            p.received(c, 13, server, b"reply", t0 + ms(12)),
            Some(rtt(ms(10)))
        );
        assert_eq!(p.received(c, 14, server, b"reply", t0 + ms(13)), None);
        let f = p.figures(c).unwrap();
        assert_eq!((f.answered, f.unpaired), (3, 1));
        assert_eq!(f.rtt, Some([ms(5), ms(5), ms(10)]));
        p.new_run(c);
        assert_eq!(p.figures(c).unwrap(), RunFigures::default());
        // Numbered echoes pair by content: the second comes back first
        // (reordered), then the first, then the first again (a duplicate).
        for (i, b) in [b"n=1", b"n=2", b"n=3"].iter().enumerate() {
            p.sent(c, server, *b, t0 + ms(i as u64));
        }
        assert_eq!(
            p.received(c, 20, server, b"n=2", t0 + ms(11)),
            Some(rtt(ms(10)))
        );
        assert_eq!(
            p.received(c, 21, server, b"n=1", t0 + ms(12)),
            Some(rtt(ms(12)))
        );
        assert_eq!(p.received(c, 22, server, b"n=1", t0 + ms(13)), None);
        let f = p.figures(c).unwrap();
        assert_eq!(
            (f.sent, f.answered, f.reordered, f.duplicates),
            (3, 2, 1, 1)
        );
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

    #[test]
    fn recent_rtts_are_handed_out_once() {
        let c = EndpointId(2);
        let server: SocketAddr = "127.0.0.1:9999".parse().unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let ms = Duration::from_millis;
        let mut p = Pairing::default();
        assert!(
            p.take_recent_rtts(c).is_empty(),
            "an unknown client has none"
        );
        p.sent(c, server, b"a", t0);
        p.sent(c, server, b"b", t0);
        p.received(c, 1, server, b"a", t0 + ms(3));
        p.received(c, 2, server, b"b", t0 + ms(7));
        assert_eq!(p.take_recent_rtts(c), vec![ms(3), ms(7)]);
        assert!(p.take_recent_rtts(c).is_empty());
        // The run's figures still count both.
        assert_eq!(p.figures(c).unwrap().answered, 2);
    }
}
