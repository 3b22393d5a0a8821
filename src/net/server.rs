//! The server side of the network thread: binding servers, reading what
//! arrives on every ready socket, answering by the reply rule, manual replies,
//! and the quit word.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::packet::{Direction, EndpointId};

use super::command::MAX_DATAGRAM;
use super::command::{Event, ServerConfig, StopReason};
use super::endpoint::{Endpoint, Peers, Role, Server};
use super::error::NetError;
use super::limit::Limiter;
use super::outbox;
use super::reply::{Incoming, Responder};
use super::rules::{RuleSet, Verdict};
use super::socket::{self, RECV_SLOTS};
use super::worker::{READ_BUDGET, Worker, unknown};

/// Errors in a row after which a socket's reading stops until its next wake-up.
const MAX_READ_ERRORS: usize = 8;

impl Worker {
    pub(super) fn start_server(&mut self, id: EndpointId, config: ServerConfig) {
        if self.endpoints.contains_key(&id) {
            self.out
                .fail(Some(id), NetError::DuplicateId { id: id.to_string() });
            return;
        }
        let started = Responder::new(&config.reply, config.encoding).and_then(|responder| {
            let rules = RuleSet::new(&config.rules, config.encoding)?;
            let sock = socket::bind(config.bind, &config.options)?;
            let local = socket::local_addr(&sock)?;
            self.register(id, &sock)?;
            Ok((responder, rules, sock, local))
        });
        match started {
            Ok((responder, rules, sock, local)) => {
                let buffers = socket::buffers(&sock);
                self.endpoints.insert(
                    id,
                    Endpoint {
                        id,
                        socket: Some(sock),
                        local: Some(local),
                        encoding: config.encoding,
                        options: config.options,
                        role: Role::Server(Server {
                            responder,
                            rules,
                            quit_word: config.quit_word.filter(|w| !w.is_empty()),
                            received: 0,
                            peers: Peers::default(),
                            limiter: Limiter::new(config.reply_limit),
                        }),
                    },
                );
                self.out.name_endpoint(id, format!("server {local}"));
                self.guard.add(id, local);
                self.out.push(Event::Started { id, local, buffers });
            }
            Err(e) => self.out.fail(Some(id), e),
        }
    }

    pub(super) fn reply(&mut self, id: EndpointId, peer: SocketAddr, payload: &[u8]) {
        let Some(
            ep @ Endpoint {
                role: Role::Server(_),
                ..
            },
        ) = self.endpoints.get(&id)
        else {
            self.out.fail(Some(id), unknown("server", id));
            return;
        };
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return;
        };
        if let Err(e) = outbox::send(sock, origin, peer, payload, &mut self.out, &mut self.icmp) {
            self.out.fail(Some(id), e);
        }
    }

    /// Reads what waits on every ready socket, up to a budget each.
    pub(super) fn read_ready(&mut self) {
        let ready: Vec<EndpointId> = std::mem::take(&mut self.ready).into_iter().collect();
        for id in ready {
            if self.read_endpoint(id) {
                self.ready.insert(id);
            }
        }
    }

    /// Reads from one endpoint, many datagrams per system call; true if it may hold more.
    pub(super) fn read_endpoint(&mut self, id: EndpointId) -> bool {
        let Some(ep) = self.endpoints.get_mut(&id) else {
            return false;
        };
        if matches!(ep.role, Role::Relay(_)) {
            return self.read_relay(id);
        }
        let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
            return false;
        };
        let keep = ep.options.max_datagram.clamp(1, MAX_DATAGRAM);
        let mut errors = 0;
        let mut turns = 0;
        while turns < READ_BUDGET {
            turns += 1;
            let n = match self.recv.recv(sock, keep) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.icmp.report(sock, id, &mut self.out);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Any other ICMP report (host unreachable, too big) also comes
                    // this way; read the queue so it does not fill the buffer.
                    self.icmp.report(sock, id, &mut self.out);
                    errors += 1;
                    if errors > MAX_READ_ERRORS {
                        self.out
                            .fail(Some(id), NetError::io("receiving failed", &e));
                        return false;
                    }
                    continue;
                }
            };
            turns += n;
            let now = Instant::now();
            if let Some(dropped) = self.recv.kernel_drops() {
                self.out.kernel_drops(id, dropped);
            }
            for i in 0..n {
                let Some((bytes, got)) = self.recv.get(i) else {
                    continue;
                };
                let Some(peer) = got.peer else { continue };
                // One clock reading per datagram: the packet, the peer table and
                // the template's {time} all use it.
                // A socket bound to every address logs the one the datagram was sent to.
                let mut here = origin;
                if let Some(ip) = got.destination {
                    here.local.set_ip(ip);
                }
                let time = self
                    .out
                    .record(here, Direction::In, peer, bytes, got.truncated);
                let server = match &mut ep.role {
                    Role::Server(server) => server,
                    Role::Client(client) => {
                        if let Some(run) = &mut client.sequence {
                            run.heard(peer, bytes);
                        }
                        continue;
                    }
                    // Relays are read by their own path, above.
                    Role::Relay(_) => continue,
                };
                server.received += 1;
                server.peers.heard(peer, bytes.len(), time);
                let incoming = Incoming {
                    bytes,
                    peer,
                    time,
                    seq: server.received,
                };
                let answer = match server.rules.decide(&incoming) {
                    Verdict::NoMatch => server.responder.answer(&incoming).map(|a| (a, None)),
                    Verdict::Drop { .. } => None,
                    Verdict::Reply { bytes, delay, .. } => {
                        Some((bytes, (!delay.is_zero()).then(|| now + delay)))
                    }
                };
                if let Some((answer, later)) = answer {
                    if let Some((other, at)) = self.guard.server_at(peer) {
                        // Answering would start a reply loop: said once, counted always.
                        self.out.count_held_back(id);
                        if self.guard.first_time(id, peer) {
                            let whom = if other == id {
                                rust_i18n::t!("error.whom_itself", at = at)
                            } else {
                                rust_i18n::t!("error.whom_other", at = at)
                            }
                            .into_owned();
                            self.out.fail(Some(id), NetError::ReplyLoop { peer, whom });
                        }
                    } else if !server.limiter.allow(peer, now) {
                        self.out.count_held_back(id);
                    } else if let Some(at) = later {
                        if !self.later.push(at, id, peer, answer) {
                            self.out.count_held_back(id);
                        }
                    } else {
                        self.replies.push(peer, answer);
                    }
                }
                if let Some(word) = &server.quit_word
                    && is_quit(bytes, word, ep.encoding)
                {
                    // The quit word is answered; whatever came after it in
                    // this read is not: the server has stopped.
                    let reason = StopReason::QuitWord {
                        peer,
                        word: word.clone(),
                    };
                    self.replies
                        .send_all(sock, origin, &mut self.out, &mut self.icmp);
                    self.close(id, reason);
                    return false;
                }
            }
            self.replies
                .send_all(sock, origin, &mut self.out, &mut self.icmp);
            // recvmmsg stops at the first empty read: fewer than asked means the
            // socket is drained, and a new datagram will wake the poll again.
            if cfg!(target_os = "linux") && n < RECV_SLOTS {
                return false;
            }
        }
        true
    }
}

/// The quit word matches the datagram's text, ignoring a trailing line break
/// (what `nc -u` and terminals send after it).
fn is_quit(bytes: &[u8], word: &str, encoding: crate::codec::Encoding) -> bool {
    crate::codec::strict_text(bytes, encoding)
        .is_some_and(|text| text.trim_end_matches(['\r', '\n']) == word)
}

impl Worker {
    /// Replaces a server's rules; a bad list leaves the old rules in place.
    pub(super) fn set_rules(&mut self, id: EndpointId, rules: &[crate::net::rules::Rule]) {
        let Some(Endpoint {
            role: Role::Server(server),
            encoding,
            ..
        }) = self.endpoints.get_mut(&id)
        else {
            self.out.fail(Some(id), unknown("server", id));
            return;
        };
        match RuleSet::new(rules, *encoding) {
            Ok(set) => server.rules = set,
            Err(e) => self.out.fail(Some(id), e.into()),
        }
    }

    /// Sends the delayed replies that are due.
    pub(super) fn send_later(&mut self) {
        let now = Instant::now();
        while let Some(due) = self.later.pop_due(now) {
            let Some(ep) = self.endpoints.get(&due.id) else {
                continue;
            };
            let (Some(sock), Some(origin)) = (&ep.socket, ep.origin()) else {
                continue;
            };
            if let Err(e) = outbox::send(
                sock,
                origin,
                due.peer,
                &due.payload,
                &mut self.out,
                &mut self.icmp,
            ) && let Some(more) = self
                .later_failures
                .let_through((due.id, std::mem::discriminant(&e)), now)
            {
                // A flood of delayed replies to a dead peer is said once a second.
                self.out.fail(Some(due.id), e.repeated(more));
            }
        }
    }
}
