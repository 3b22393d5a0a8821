//! The state the network thread keeps for each server and client.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use socket2::Socket;

use crate::codec::Encoding;
use crate::packet::EndpointId;

use super::command::{PeerInfo, SocketOptions};
use super::outbox::Origin;
use super::reply::Responder;

/// How many peers a server remembers: a flood of spoofed sources must not grow it without end.
pub const MAX_PEERS: usize = 1024;
/// Peers beyond the table counted by address at most (about 5 MB of them).
pub const MAX_UNLISTED: usize = 100_000;

/// The longest pause between rounds: a day.
pub const MAX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(86_400);

/// One open endpoint.
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Its socket; a client has none until its first send when no bind was given.
    pub socket: Option<Socket>,
    /// The address bound.
    pub local: Option<SocketAddr>,
    /// How its text is decoded (and, for a server, how replies are encoded).
    pub encoding: Encoding,
    /// Its socket settings.
    pub options: SocketOptions,
    /// Server or client.
    pub role: Role,
}

impl Endpoint {
    /// What each of its packets records.
    #[must_use]
    pub fn origin(&self) -> Option<Origin> {
        self.local.map(|local| Origin {
            id: self.id,
            local,
            encoding: self.encoding,
        })
    }
}

/// What kind of endpoint, with its own state.
pub enum Role {
    /// A server.
    Server(Server),
    /// A client.
    Client(Client),
    /// A relay between clients and one server.
    Relay(Box<super::relay::Relay>),
}

/// A server's state.
pub struct Server {
    /// The compiled reply mode.
    pub responder: Responder,
    /// The reply rules, asked first.
    pub rules: super::rules::RuleSet,
    /// The quit word, if any.
    pub quit_word: Option<String>,
    /// Datagrams received so far (the template's `{seq}`).
    pub received: u64,
    /// Everyone heard from.
    pub peers: Peers,
    /// The reply rate limit and its count.
    pub limiter: super::limit::Limiter,
}

/// A client's state.
pub struct Client {
    /// The local address asked for, if any.
    pub fixed_bind: Option<SocketAddr>,
    /// The sending in progress.
    pub job: Option<Job>,
    /// The sequence in progress.
    pub sequence: Option<super::sequence::Running>,
}

/// A send job being carried out.
pub struct Job {
    /// Where to.
    pub target: SocketAddr,
    /// One round of datagrams.
    pub payloads: Vec<Vec<u8>>,
    /// Rounds asked for; 0 for endless.
    pub count: u64,
    /// The pause between rounds.
    pub interval: std::time::Duration,
    /// The next datagram of the round.
    pub index: usize,
    /// Rounds finished.
    pub rounds: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// When the next datagram is due.
    pub next_at: Instant,
    /// When each payload is due, from `started` (a replay's timing); empty for none.
    pub at: Vec<std::time::Duration>,
    /// When the job began.
    pub started: Instant,
    /// Templates that make a payload afresh for each send, by payload index.
    pub fill: Vec<Option<crate::codec::Template>>,
    /// The bytes of the last payload made from a template.
    pub filled: Vec<u8>,
}

impl Job {
    /// The payload due next, then moves on; `None` when the job is complete.
    pub fn advance(&mut self) -> Option<usize> {
        if self.count != 0 && self.rounds >= self.count {
            return None;
        }
        let i = self.index;
        self.index += 1;
        if self.index == self.payloads.len() {
            self.index = 0;
            self.rounds += 1;
        }
        Some(i)
    }

    /// After a datagram: when a round has just ended, the next waits an interval.
    /// After a stall it goes on from `now` rather than firing a catch-up burst.
    pub fn schedule_next(&mut self, now: Instant) {
        if let Some(at) = self.at.get(self.index).filter(|_| self.index > 0) {
            // A replay keeps to its timetable; one that fell behind sends what
            // is due at once and catches up.
            self.next_at = self.started.checked_add(*at).unwrap_or(now);
            return;
        }
        if self.index == 0 && !self.interval.is_zero() {
            let interval = self.interval.min(MAX_INTERVAL);
            self.next_at = self.next_at.checked_add(interval).unwrap_or(now).max(now);
        }
    }

    /// True once every round has gone.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.count != 0 && self.rounds >= self.count
    }
}

/// A server's table of peers, with the ones changed since the owner was last told.
#[derive(Default)]
pub struct Peers {
    /// Peers heard from beyond the table's room, by address, up to
    /// [`MAX_UNLISTED`] of them (then only counted as "more than").
    unlisted: std::collections::HashSet<SocketAddr>,
    /// A new unlisted peer since the owner was last told.
    unlisted_changed: bool,
    table: HashMap<SocketAddr, Peer>,
    order: Vec<SocketAddr>,
    changed: Vec<SocketAddr>,
}

struct Peer {
    info: PeerInfo,
    /// Its place in first-contact order.
    index: usize,
    changed: bool,
}

impl Peers {
    /// Counts a datagram from `addr`.
    pub fn heard(&mut self, addr: SocketAddr, bytes: usize, time: SystemTime) {
        if let Some(p) = self.table.get_mut(&addr) {
            p.info.packets += 1;
            p.info.bytes += bytes as u64;
            p.info.last_seen = time;
            if !p.changed {
                p.changed = true;
                self.changed.push(addr);
            }
        } else if self.table.len() < MAX_PEERS {
            self.changed.push(addr);
            self.table.insert(
                addr,
                Peer {
                    index: self.order.len(),
                    info: PeerInfo {
                        addr,
                        packets: 1,
                        bytes: bytes as u64,
                        first_seen: time,
                        last_seen: time,
                    },
                    changed: true,
                },
            );
            self.order.push(addr);
        } else if self.unlisted.len() < MAX_UNLISTED && self.unlisted.insert(addr) {
            self.unlisted_changed = true;
        }
    }

    /// How many peers were heard from that the table has no room for (at
    /// most [`MAX_UNLISTED`]: a flood from ever new sources stays bounded).
    #[must_use]
    pub fn unlisted(&self) -> u64 {
        self.unlisted.len() as u64
    }

    /// True when some peer changed since [`Peers::take_changed`].
    #[must_use]
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty() || self.unlisted_changed
    }

    /// The peers changed since the last call, by first contact.
    pub fn take_changed(&mut self) -> Vec<PeerInfo> {
        self.unlisted_changed = false;
        let mut changed: Vec<(usize, PeerInfo)> = std::mem::take(&mut self.changed)
            .into_iter()
            .filter_map(|a| {
                self.table.get_mut(&a).map(|p| {
                    p.changed = false;
                    (p.index, p.info.clone())
                })
            })
            .collect();
        changed.sort_unstable_by_key(|(index, _)| *index);
        changed.into_iter().map(|(_, p)| p).collect()
    }

    /// Everyone, by first contact.
    #[cfg(test)]
    #[must_use]
    pub fn snapshot(&self) -> Vec<PeerInfo> {
        self.order
            .iter()
            .filter_map(|a| self.table.get(a).map(|p| p.info.clone()))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_timetable_sets_each_datagram_from_the_start() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut job = Job {
            target: "127.0.0.1:1".parse().unwrap(),
            payloads: vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
            count: 1,
            interval: Duration::from_secs(9),
            index: 0,
            rounds: 0,
            sent: 0,
            next_at: start,
            at: vec![ms(0), ms(50), ms(120)],
            started: start,
            fill: Vec::new(),
            filled: Vec::new(),
        };
        let late = start + ms(80);
        job.advance();
        job.schedule_next(late);
        assert_eq!(
            job.next_at,
            start + ms(50),
            "behind: due at once, not later"
        );
        job.advance();
        job.schedule_next(late);
        assert_eq!(job.next_at, start + ms(120));
        job.advance();
        assert!(job.finished());
    }

    #[test]
    fn job_walks_rounds_in_order() {
        let mut job = Job {
            target: "127.0.0.1:1".parse().unwrap(),
            payloads: vec![b"a".to_vec(), b"b".to_vec()],
            count: 2,
            interval: Duration::ZERO,
            index: 0,
            rounds: 0,
            sent: 0,
            next_at: Instant::now(),
            at: Vec::new(),
            started: Instant::now(),
            fill: Vec::new(),
            filled: Vec::new(),
        };
        let order: Vec<usize> = std::iter::from_fn(|| job.advance()).collect();
        assert_eq!(order, vec![0, 1, 0, 1]);
        assert!(job.finished());
    }

    #[test]
    fn the_interval_falls_between_rounds_not_inside_one() {
        let start = Instant::now();
        let mut job = Job {
            target: "127.0.0.1:1".parse().unwrap(),
            payloads: vec![b"a".to_vec(), b"b".to_vec()],
            count: 0,
            interval: Duration::from_millis(100),
            index: 0,
            rounds: 0,
            sent: 0,
            next_at: start,
            at: Vec::new(),
            started: start,
            fill: Vec::new(),
            filled: Vec::new(),
        };
        job.advance();
        job.schedule_next(start);
        assert_eq!(
            job.next_at, start,
            "the second line of the round goes at once"
        );
        job.advance();
        job.schedule_next(start);
        assert_eq!(
            job.next_at,
            start + Duration::from_millis(100),
            "the next round waits"
        );
        let late = start + Duration::from_secs(5);
        job.advance();
        job.advance();
        job.schedule_next(late);
        assert_eq!(job.next_at, late, "no catch-up burst after a stall");
    }

    #[test]
    fn peers_keep_first_contact_order_and_counts() {
        let mut peers = Peers::default();
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let now = SystemTime::now();
        peers.heard(b, 3, now);
        peers.heard(a, 5, now);
        peers.heard(b, 4, now);
        let snap = peers.snapshot();
        assert_eq!(snap.iter().map(|p| p.addr).collect::<Vec<_>>(), vec![b, a]);
        assert_eq!((snap[0].packets, snap[0].bytes), (2, 7));
        let changed = peers.take_changed();
        assert_eq!(changed, snap, "both are new, each told once");
        assert!(!peers.has_changes());
        peers.heard(a, 1, now);
        let changed = peers.take_changed();
        assert_eq!(changed.len(), 1, "only the peer that sent again");
        assert_eq!((changed[0].addr, changed[0].packets), (a, 2));
    }
}
