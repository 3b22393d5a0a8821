//! What the network thread keeps for each relay: its compiled rules, one
//! mapping per client (with its upstream socket), the datagrams held for a
//! delay, and its counters; plus the engine-wide table of upstream sockets'
//! poll slots. No sockets are read or written here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use socket2::Socket;

use crate::codec::{Context, Encoding, Mode, Request, Scope, Template};
use crate::packet::EndpointId;

use super::super::error::NetError;
use super::super::later::{Due, Later};
use super::super::matcher::Matcher;
use super::super::throttle::Throttle;
use super::{
    MAX_DELAY, MAX_DUPLICATES, RelayAction, RelayCounters, RelayRule, Rewrite, Toward, Way,
};

/// A rule made ready for the hot path.
#[derive(Debug)]
pub struct Compiled {
    toward: Toward,
    matcher: Matcher,
    act: Act,
}

#[derive(Debug)]
enum Act {
    Forward,
    Drop,
    Delay(Duration),
    Duplicate(u32),
    /// A rewrite, text or hex, filled from the datagram and the rule's regex groups.
    Rewrite(Template),
}

/// Compiles the enabled rules, in order.
///
/// # Errors
/// The first rule that cannot be used, numbered from 1.
pub fn compile(rules: &[RelayRule], encoding: Encoding) -> Result<Vec<Compiled>, NetError> {
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        let bad = |detail: String| NetError::RelayRule {
            rule: i + 1,
            detail,
        };
        let act = match &rule.action {
            RelayAction::Forward => Act::Forward,
            RelayAction::Drop => Act::Drop,
            RelayAction::Delay(d) if *d > MAX_DELAY => {
                return Err(bad(format!("a delay is at most {} s", MAX_DELAY.as_secs())));
            }
            RelayAction::Delay(d) => Act::Delay(*d),
            RelayAction::Duplicate(n) if *n > MAX_DUPLICATES => {
                return Err(bad(format!("at most {MAX_DUPLICATES} extra copies")));
            }
            RelayAction::Duplicate(n) => Act::Duplicate(*n),
            RelayAction::Rewrite(Rewrite::Template(t)) => Act::Rewrite(
                Template::compile(t, Mode::Text, encoding, Scope::Reply)
                    .map_err(|e| bad(e.to_string()))?,
            ),
            RelayAction::Rewrite(Rewrite::Hex(h)) => Act::Rewrite(
                Template::compile(h, Mode::Hex, encoding, Scope::Reply)
                    .map_err(|e| bad(e.to_string()))?,
            ),
        };
        let m = &rule.matcher;
        let matcher = Matcher::new(m.kind, &m.pattern, encoding).map_err(bad)?;
        if rule.enabled {
            out.push(Compiled {
                toward: rule.toward,
                matcher,
                act,
            });
        }
    }
    Ok(out)
}

/// What becomes of one datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Fate {
    /// Gone.
    Dropped,
    /// Sent `copies` times (1 for a plain forward), after `delay` if any.
    Send {
        bytes: Vec<u8>,
        copies: u32,
        delay: Option<Duration>,
    },
}

/// A client's own way to the server.
pub struct Mapping {
    /// Bound for this client alone; the server's answers come back to it.
    pub socket: Socket,
    /// Its address.
    pub local: SocketAddr,
    /// Its poll slot.
    pub slot: usize,
    /// When a datagram last went either way.
    pub last: Instant,
}

/// One relay's state.
pub struct Relay {
    pub upstream: SocketAddr,
    pub idle_timeout: Duration,
    pub rules: Vec<Compiled>,
    /// By client address.
    pub mappings: HashMap<SocketAddr, Mapping>,
    /// Datagrams a delay rule holds, each way; `Due::peer` is the client.
    to_server: Later,
    to_client: Later,
    /// When the mappings are next looked at for idleness: no sooner than the
    /// first could expire, so traffic costs no bookkeeping.
    pub next_sweep: Option<Instant>,
    pub counters: RelayCounters,
    /// Counters changed since the owner was last told.
    pub changed: bool,
    /// Datagrams seen each way, for a template's `{seq}`.
    seq_to_server: u64,
    seq_to_client: u64,
    /// "Too many clients" has been said.
    pub full_said: bool,
    /// The matching rule's regex groups, for its rewrite.
    groups: Vec<Option<std::ops::Range<usize>>>,
    /// Send failures said at most once a second per kind.
    pub failures: Throttle<std::mem::Discriminant<NetError>>,
}

impl Relay {
    pub fn new(upstream: SocketAddr, idle_timeout: Duration, rules: Vec<Compiled>) -> Relay {
        Relay {
            upstream,
            idle_timeout,
            rules,
            mappings: HashMap::new(),
            to_server: Later::default(),
            to_client: Later::default(),
            next_sweep: None,
            counters: RelayCounters::default(),
            changed: false,
            seq_to_server: 0,
            seq_to_client: 0,
            full_said: false,
            groups: Vec::new(),
            failures: Throttle::new(Duration::from_secs(1)),
        }
    }

    /// Applies the first matching rule to a datagram from `peer` going `way`,
    /// and counts what it did.
    pub fn decide(&mut self, way: Way, bytes: &[u8], peer: SocketAddr, time: SystemTime) -> Fate {
        let seq = match way {
            Way::ToServer => &mut self.seq_to_server,
            Way::ToClient => &mut self.seq_to_client,
        };
        *seq += 1;
        let seq = *seq;
        self.changed = true;
        let groups = &mut self.groups;
        let act = self
            .rules
            .iter()
            .find(|r| r.toward.covers(way) && r.matcher.find(bytes, groups))
            .map_or(&Act::Forward, |r| &r.act);
        let c = &mut self.counters;
        let send = |bytes: Vec<u8>, copies, delay| Fate::Send {
            bytes,
            copies,
            delay,
        };
        match act {
            Act::Forward => send(bytes.to_vec(), 1, None),
            Act::Drop => {
                c.dropped += 1;
                Fate::Dropped
            }
            Act::Delay(d) => {
                c.delayed += 1;
                send(bytes.to_vec(), 1, Some(*d))
            }
            Act::Duplicate(n) => {
                c.duplicated += u64::from(*n);
                send(bytes.to_vec(), n + 1, None)
            }
            Act::Rewrite(template) => {
                c.rewritten += 1;
                let mut out = Vec::new();
                template.fill(
                    &Context {
                        seq,
                        time,
                        request: Some(Request {
                            bytes,
                            peer,
                            captures: groups,
                        }),
                    },
                    &mut out,
                );
                send(out, 1, None)
            }
        }
    }

    /// Counts a datagram sent on `way`.
    pub fn sent(&mut self, way: Way) {
        match way {
            Way::ToServer => self.counters.to_server += 1,
            Way::ToClient => self.counters.to_client += 1,
        }
        self.changed = true;
    }

    /// Holds a datagram for `client` until `due`; false (and counted) when
    /// the queue is full.
    pub fn hold(
        &mut self,
        id: EndpointId,
        due: Instant,
        way: Way,
        client: SocketAddr,
        bytes: Vec<u8>,
    ) -> bool {
        let queue = match way {
            Way::ToServer => &mut self.to_server,
            Way::ToClient => &mut self.to_client,
        };
        if queue.push(due, id, client, bytes) {
            return true;
        }
        // Counted as delayed when the rule chose it; it was not held after all.
        self.counters.delayed = self.counters.delayed.saturating_sub(1);
        self.counters.refused += 1;
        self.changed = true;
        false
    }

    /// The next held datagram due by `now`, and its way.
    pub fn take_due(&mut self, now: Instant) -> Option<(Way, Due)> {
        let first = match (self.to_server.next_at(), self.to_client.next_at()) {
            (Some(s), Some(c)) if c < s => Way::ToClient,
            (Some(_), _) => Way::ToServer,
            (None, _) => Way::ToClient,
        };
        match first {
            Way::ToServer => self.to_server.pop_due(now),
            Way::ToClient => self.to_client.pop_due(now),
        }
        .map(|due| (first, due))
    }

    /// When this relay next needs the thread: a held datagram or an idle sweep.
    pub fn deadline(&self) -> Option<Instant> {
        [
            self.to_server.next_at(),
            self.to_client.next_at(),
            self.next_sweep,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The clients idle for the idle timeout by `now`; the next sweep is set
    /// for the first of the rest to expire.
    pub fn expired(&mut self, now: Instant) -> Vec<SocketAddr> {
        let timeout = self.idle_timeout;
        let gone: Vec<SocketAddr> = self
            .mappings
            .iter()
            .filter(|(_, m)| now.saturating_duration_since(m.last) >= timeout)
            .map(|(c, _)| *c)
            .collect();
        self.next_sweep = self
            .mappings
            .values()
            .filter(|m| now.saturating_duration_since(m.last) < timeout)
            .map(|m| m.last + timeout)
            .min();
        gone
    }

    /// A mapping opened at `now`: the sweep comes no later than its expiry.
    pub fn opened(&mut self, now: Instant) {
        let expiry = now + self.idle_timeout;
        self.next_sweep = Some(self.next_sweep.map_or(expiry, |t| t.min(expiry)));
        self.counters.mappings = self.mappings.len() as u64;
        self.changed = true;
    }
}

/// Upstream sockets' poll slots, engine-wide: slot `n` is polled as token
/// `UPSTREAM | n` (see the worker), and names the relay and client it serves.
#[derive(Default)]
pub struct Slots {
    owners: Vec<Option<(EndpointId, SocketAddr)>>,
    free: Vec<usize>,
}

impl Slots {
    /// A slot for `client` of relay `id`.
    pub fn take(&mut self, id: EndpointId, client: SocketAddr) -> usize {
        if let Some(n) = self.free.pop() {
            self.owners[n] = Some((id, client));
            return n;
        }
        self.owners.push(Some((id, client)));
        self.owners.len() - 1
    }

    /// The slot's socket is closed; the number may be given out again.
    pub fn release(&mut self, n: usize) {
        if let Some(owner) = self.owners.get_mut(n)
            && owner.take().is_some()
        {
            self.free.push(n);
        }
    }

    /// Whose slot `n` is.
    #[must_use]
    pub fn owner(&self, n: usize) -> Option<(EndpointId, SocketAddr)> {
        self.owners.get(n).copied().flatten()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::net::matcher::MatchKind;
    use crate::net::relay::RuleMatch;

    fn relay(rules: &[RelayRule]) -> Relay {
        let compiled = compile(rules, Encoding::Utf8).unwrap();
        Relay::new(
            "127.0.0.1:9".parse().unwrap(),
            Duration::from_secs(1),
            compiled,
        )
    }

    fn fate(r: &mut Relay, way: Way, bytes: &[u8]) -> Fate {
        r.decide(
            way,
            bytes,
            "127.0.0.1:5".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
        )
    }

    fn sent(bytes: &[u8], copies: u32, delay: Option<Duration>) -> Fate {
        Fate::Send {
            bytes: bytes.to_vec(),
            copies,
            delay,
        }
    }

    #[test]
    fn the_first_enabled_matching_rule_decides() {
        let mut off = RelayRule::new(Toward::Both, RuleMatch::any(), RelayAction::Drop);
        off.enabled = false;
        let rules = [
            off,
            RelayRule::new(
                Toward::Server,
                RuleMatch::new(MatchKind::Contains, "keep"),
                RelayAction::Forward,
            ),
            RelayRule::new(
                Toward::Server,
                RuleMatch::new(MatchKind::Contains, "e"),
                RelayAction::Drop,
            ),
            RelayRule::new(
                Toward::Client,
                RuleMatch::any(),
                RelayAction::Rewrite(Rewrite::Template("{seq}:{text}".into())),
            ),
        ];
        let mut r = relay(&rules);
        assert_eq!(
            fate(&mut r, Way::ToServer, b"keep me"),
            sent(b"keep me", 1, None)
        );
        assert_eq!(fate(&mut r, Way::ToServer, b"me"), Fate::Dropped);
        assert_eq!(fate(&mut r, Way::ToServer, b"xyz"), sent(b"xyz", 1, None));
        assert_eq!(fate(&mut r, Way::ToClient, b"a"), sent(b"1:a", 1, None));
        assert_eq!(fate(&mut r, Way::ToClient, b"b"), sent(b"2:b", 1, None));
        assert_eq!((r.counters.dropped, r.counters.rewritten), (1, 2));
    }

    #[test]
    fn delays_and_copies_are_counted() {
        let ms = Duration::from_millis(30);
        let rules = [
            RelayRule::new(Toward::Server, RuleMatch::any(), RelayAction::Delay(ms)),
            RelayRule::new(Toward::Client, RuleMatch::any(), RelayAction::Duplicate(2)),
        ];
        let mut r = relay(&rules);
        assert_eq!(fate(&mut r, Way::ToServer, b"a"), sent(b"a", 1, Some(ms)));
        assert_eq!(fate(&mut r, Way::ToClient, b"b"), sent(b"b", 3, None));
        assert_eq!((r.counters.delayed, r.counters.duplicated), (1, 2));
    }

    #[test]
    fn held_datagrams_come_out_by_due_time_then_arrival() {
        let mut r = relay(&[]);
        let c: SocketAddr = "127.0.0.1:5".parse().unwrap();
        let id = EndpointId(1);
        let t = Instant::now();
        let ms = Duration::from_millis;
        assert!(r.hold(id, t + ms(20), Way::ToServer, c, b"late".to_vec()));
        assert!(r.hold(id, t + ms(10), Way::ToServer, c, b"first".to_vec()));
        assert!(r.hold(id, t + ms(12), Way::ToClient, c, b"second".to_vec()));
        assert_eq!(r.deadline(), Some(t + ms(10)));
        assert!(r.take_due(t).is_none(), "nothing is due yet");
        let order: Vec<(Way, Vec<u8>)> = std::iter::from_fn(|| r.take_due(t + ms(15)))
            .map(|(way, d)| (way, d.payload))
            .collect();
        assert_eq!(
            order,
            vec![
                (Way::ToServer, b"first".to_vec()),
                (Way::ToClient, b"second".to_vec())
            ]
        );
        assert_eq!(r.take_due(t + ms(20)).unwrap().1.payload, b"late");
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn slots_are_reused_once_released() {
        let mut slots = Slots::default();
        let c: SocketAddr = "127.0.0.1:5".parse().unwrap();
        let a = slots.take(EndpointId(1), c);
        let b = slots.take(EndpointId(1), c);
        assert_ne!(a, b);
        slots.release(a);
        slots.release(a);
        assert_eq!(slots.owner(a), None);
        assert_eq!(slots.take(EndpointId(2), c), a, "reused once, not twice");
        assert_ne!(slots.take(EndpointId(2), c), a);
    }
}
