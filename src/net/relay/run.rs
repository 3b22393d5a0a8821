//! The relay's sockets on the network thread: the listening socket that
//! clients send to, one upstream socket per client that the server answers,
//! the rules applied between them, held datagrams sent when due, idle
//! mappings closed, and datagrams injected by hand. Every datagram of both
//! legs is recorded under the relay's id.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use socket2::Socket;

use crate::packet::{Direction, EndpointId};

use super::super::command::{Event, MAX_DATAGRAM, SocketOptions};
use super::super::endpoint::{Endpoint, Role};
use super::super::error::NetError;
use super::super::handover::Handover;
use super::super::outbox::{self, IcmpReports, Origin};
use super::super::socket::{self, RECV_SLOTS, RecvBatch};
use super::super::worker::{READ_BUDGET, UPSTREAM, Worker, unknown};
use super::state::{Fate, Mapping, Relay, Slots, compile};
use super::{InjectTo, MAX_MAPPINGS, MappingChange, RelayConfig, RelayRule, Way, is_listen};

/// Errors in a row after which a socket's reading stops until its next wake-up.
const MAX_READ_ERRORS: usize = 8;
/// The shortest and longest idle timeouts taken (a zero one would close
/// every mapping as it opened).
const IDLE_RANGE: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(86_400));

/// The parts of the worker a relay's datagram needs, borrowed apart from its endpoint.
struct Wire<'a> {
    out: &'a mut Handover,
    icmp: &'a mut IcmpReports,
    registry: &'a Registry,
    slots: &'a mut Slots,
}

/// The relay's own side: its id, listening socket and settings.
struct Side<'a> {
    id: EndpointId,
    listen: &'a Socket,
    origin: Origin,
    options: &'a SocketOptions,
}

impl Worker {
    pub(in crate::net) fn start_relay(&mut self, id: EndpointId, config: RelayConfig) {
        if self.endpoints.contains_key(&id) {
            self.out
                .fail(Some(id), NetError::DuplicateId { id: id.to_string() });
            return;
        }
        let started = compile(&config.rules, config.encoding).and_then(|rules| {
            let sock = socket::bind(config.listen, &config.options)?;
            let local = socket::local_addr(&sock)?;
            if is_listen(config.upstream, local) {
                return Err(NetError::BadAddress {
                    input: config.upstream.to_string(),
                    detail: "that is the relay's own address: it would send to itself forever"
                        .to_owned(),
                });
            }
            self.register(id, &sock)?;
            Ok((rules, sock, local))
        });
        let (rules, sock, local) = match started {
            Ok(s) => s,
            Err(e) => return self.out.fail(Some(id), e),
        };
        let buffers = socket::buffers(&sock);
        let idle = config.idle_timeout.clamp(IDLE_RANGE.0, IDLE_RANGE.1);
        let relay = Relay::new(config.upstream, idle, rules);
        self.endpoints.insert(
            id,
            Endpoint {
                id,
                socket: Some(sock),
                local: Some(local),
                encoding: config.encoding,
                options: config.options,
                role: Role::Relay(Box::new(relay)),
            },
        );
        self.out
            .name_endpoint(id, format!("relay {local} to {}", config.upstream));
        self.out.push(Event::Started { id, local, buffers });
    }

    pub(in crate::net) fn update_relay(
        &mut self,
        id: EndpointId,
        rules: &[RelayRule],
        idle_timeout: Duration,
    ) {
        let Some(Endpoint {
            role: Role::Relay(relay),
            encoding,
            ..
        }) = self.endpoints.get_mut(&id)
        else {
            return self.out.fail(Some(id), unknown("relay", id));
        };
        match compile(rules, *encoding) {
            Ok(compiled) => {
                relay.rules = compiled;
                relay.idle_timeout = idle_timeout.clamp(IDLE_RANGE.0, IDLE_RANGE.1);
                // Looked at again under the new timeout.
                if !relay.mappings.is_empty() {
                    relay.next_sweep = Some(Instant::now());
                }
            }
            Err(e) => self.out.fail(Some(id), e),
        }
    }

    pub(in crate::net) fn inject(&mut self, id: EndpointId, to: InjectTo, payload: &[u8]) {
        let Some((side, relay)) = parts(self.endpoints.get_mut(&id)) else {
            return self.out.fail(Some(id), unknown("relay", id));
        };
        let mut wire = Wire {
            out: &mut self.out,
            icmp: &mut self.icmp,
            registry: self.poll.registry(),
            slots: &mut self.relay_slots,
        };
        let (way, client) = match to {
            InjectTo::Server { client } => (Way::ToServer, client),
            InjectTo::Client { client } => (Way::ToClient, client),
        };
        if send_way(&mut wire, &side, relay, way, client, payload) {
            relay.counters.injected += 1;
        }
    }

    /// Reads the listening socket: each client's datagram goes through the
    /// rules and on from its own upstream socket. True if it may hold more.
    pub(in crate::net) fn read_relay(&mut self, id: EndpointId) -> bool {
        let Some((side, relay)) = parts(self.endpoints.get_mut(&id)) else {
            return false;
        };
        let mut wire = Wire {
            out: &mut self.out,
            icmp: &mut self.icmp,
            registry: self.poll.registry(),
            slots: &mut self.relay_slots,
        };
        let keep = side.options.max_datagram.clamp(1, MAX_DATAGRAM);
        let mut errors = 0;
        let mut turns = 0;
        while turns < READ_BUDGET {
            turns += 1;
            let n = match read_once(
                &mut self.recv,
                side.listen,
                keep,
                id,
                &mut wire,
                &mut errors,
            ) {
                Ok(n) => n,
                Err(again) if again => continue,
                Err(_) => return false,
            };
            turns += n;
            for i in 0..n {
                let Some((bytes, got)) = self.recv.get(i) else {
                    continue;
                };
                let Some(client) = got.peer else { continue };
                let mut here = side.origin;
                if let Some(ip) = got.destination {
                    here.local.set_ip(ip);
                }
                let time = wire
                    .out
                    .record(here, Direction::In, client, bytes, got.truncated);
                let now = Instant::now();
                let Some(mapping) = mapping(&mut wire, &side, relay, client, now) else {
                    continue;
                };
                mapping.last = now;
                let fate = relay.decide(Way::ToServer, bytes, client, time);
                deliver(&mut wire, &side, relay, Way::ToServer, client, fate, now);
            }
            if cfg!(target_os = "linux") && n < RECV_SLOTS {
                return false;
            }
        }
        true
    }

    /// Reads every upstream socket that woke.
    pub(in crate::net) fn read_upstreams(&mut self) {
        let ready: Vec<usize> = std::mem::take(&mut self.ready_upstreams)
            .into_iter()
            .collect();
        for slot in ready {
            if self.read_upstream(slot) {
                self.ready_upstreams.insert(slot);
            }
        }
    }

    /// Reads one client's upstream socket: the server's answers go through
    /// the rules and back to that client from the listening socket.
    fn read_upstream(&mut self, slot: usize) -> bool {
        let Some((id, client)) = self.relay_slots.owner(slot) else {
            return false;
        };
        let Some((side, relay)) = parts(self.endpoints.get_mut(&id)) else {
            return false;
        };
        // Out of the table while it is read, so the rules may change the relay.
        let Some(mut mapping) = relay.mappings.remove(&client) else {
            return false;
        };
        let mut wire = Wire {
            out: &mut self.out,
            icmp: &mut self.icmp,
            registry: self.poll.registry(),
            slots: &mut self.relay_slots,
        };
        let keep = side.options.max_datagram.clamp(1, MAX_DATAGRAM);
        let origin = Origin {
            local: mapping.local,
            ..side.origin
        };
        let mut errors = 0;
        let mut turns = 0;
        let more = loop {
            if turns >= READ_BUDGET {
                break true;
            }
            turns += 1;
            let n = match read_once(
                &mut self.recv,
                &mapping.socket,
                keep,
                id,
                &mut wire,
                &mut errors,
            ) {
                Ok(n) => n,
                Err(again) if again => continue,
                Err(_) => break false,
            };
            turns += n;
            for i in 0..n {
                let Some((bytes, got)) = self.recv.get(i) else {
                    continue;
                };
                let Some(from) = got.peer else { continue };
                let mut here = origin;
                if let Some(ip) = got.destination {
                    here.local.set_ip(ip);
                }
                let time = wire
                    .out
                    .record(here, Direction::In, from, bytes, got.truncated);
                if from != relay.upstream {
                    // Only the server speaks for the server.
                    relay.counters.strays += 1;
                    relay.changed = true;
                    continue;
                }
                let now = Instant::now();
                mapping.last = now;
                let fate = relay.decide(Way::ToClient, bytes, from, time);
                deliver(&mut wire, &side, relay, Way::ToClient, client, fate, now);
            }
            if cfg!(target_os = "linux") && n < RECV_SLOTS {
                break false;
            }
        };
        relay.mappings.insert(client, mapping);
        more
    }

    /// Sends the held datagrams that are due and closes idle mappings.
    pub(in crate::net) fn relay_timers(&mut self) {
        let now = Instant::now();
        let due: Vec<EndpointId> = self
            .endpoints
            .values()
            .filter_map(|ep| match &ep.role {
                Role::Relay(r) if r.deadline().is_some_and(|t| t <= now) => Some(ep.id),
                _ => None,
            })
            .collect();
        for id in due {
            let Some((side, relay)) = parts(self.endpoints.get_mut(&id)) else {
                continue;
            };
            let mut wire = Wire {
                out: &mut self.out,
                icmp: &mut self.icmp,
                registry: self.poll.registry(),
                slots: &mut self.relay_slots,
            };
            while let Some((way, held)) = relay.take_due(now) {
                send_way(&mut wire, &side, relay, way, held.peer, &held.payload);
            }
            if relay.next_sweep.is_some_and(|t| t <= now) {
                for client in relay.expired(now) {
                    let Some(m) = relay.mappings.remove(&client) else {
                        continue;
                    };
                    wire.out.push(Event::RelayMapping {
                        id,
                        client,
                        upstream_local: m.local,
                        change: MappingChange::Expired,
                    });
                    close_mapping(wire.registry, wire.slots, &m);
                    self.ready_upstreams.remove(&m.slot);
                    self.recv.forget_socket();
                }
                relay.counters.mappings = relay.mappings.len() as u64;
                relay.changed = true;
            }
        }
    }

    /// When some relay next needs the thread.
    pub(in crate::net) fn relay_deadline(&self) -> Option<Instant> {
        self.endpoints
            .values()
            .filter_map(|ep| match &ep.role {
                Role::Relay(r) => r.deadline(),
                _ => None,
            })
            .min()
    }

    /// A relay's endpoint is gone: its upstream sockets close, and its last
    /// counters are told.
    pub(in crate::net) fn relay_closed(&mut self, id: EndpointId, relay: &mut Relay) {
        for (_, m) in relay.mappings.drain() {
            close_mapping(self.poll.registry(), &mut self.relay_slots, &m);
            self.ready_upstreams.remove(&m.slot);
        }
        self.recv.forget_socket();
        relay.counters.mappings = 0;
        self.out.push(Event::RelayCounters {
            id,
            counters: relay.counters,
        });
    }
}

/// The relay's side and state, if `ep` is a running relay.
fn parts(ep: Option<&mut Endpoint>) -> Option<(Side<'_>, &mut Relay)> {
    let ep = ep?;
    let origin = ep.origin()?;
    let Endpoint {
        id,
        socket: Some(listen),
        options,
        role: Role::Relay(relay),
        ..
    } = ep
    else {
        return None;
    };
    let side = Side {
        id: *id,
        listen,
        origin,
        options,
    };
    Some((side, relay))
}

/// One read from `sock`: `Ok(n)` datagrams, or `Err(true)` to try again and
/// `Err(false)` to stop (nothing waits, or too many errors in a row).
fn read_once(
    recv: &mut RecvBatch,
    sock: &Socket,
    keep: usize,
    id: EndpointId,
    wire: &mut Wire<'_>,
    errors: &mut usize,
) -> Result<usize, bool> {
    match recv.recv(sock, keep) {
        Ok(n) => {
            if let Some(dropped) = recv.kernel_drops() {
                wire.out.kernel_drops(id, dropped);
            }
            Ok(n)
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(false),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(true),
        Err(e) => {
            // ICMP reports (the server not listening, say) come this way.
            wire.icmp.report(sock, id, wire.out);
            if e.kind() == io::ErrorKind::ConnectionRefused {
                return Err(true);
            }
            *errors += 1;
            if *errors > MAX_READ_ERRORS {
                wire.out
                    .fail(Some(id), NetError::io("receiving failed", &e));
                return Err(false);
            }
            Err(true)
        }
    }
}

/// Sends, holds or drops a datagram as its rule decided.
fn deliver(
    wire: &mut Wire<'_>,
    side: &Side<'_>,
    relay: &mut Relay,
    way: Way,
    client: SocketAddr,
    fate: Fate,
    now: Instant,
) {
    let Fate::Send {
        bytes,
        copies,
        delay,
    } = fate
    else {
        return;
    };
    if let Some(delay) = delay {
        relay.hold(side.id, now + delay, way, client, bytes);
        return;
    }
    for _ in 0..copies {
        send_way(wire, side, relay, way, client, &bytes);
    }
}

/// Sends one datagram on `way` for `client`, counts it and says why not;
/// true if it went.
fn send_way(
    wire: &mut Wire<'_>,
    side: &Side<'_>,
    relay: &mut Relay,
    way: Way,
    client: SocketAddr,
    bytes: &[u8],
) -> bool {
    let result = match way {
        Way::ToClient => outbox::send(side.listen, side.origin, client, bytes, wire.out, wire.icmp),
        Way::ToServer => {
            let upstream = relay.upstream;
            let Some(m) = mapping(wire, side, relay, client, Instant::now()) else {
                return false;
            };
            m.last = Instant::now();
            let origin = Origin {
                local: m.local,
                ..side.origin
            };
            outbox::send(&m.socket, origin, upstream, bytes, wire.out, wire.icmp)
        }
    };
    match result {
        Ok(()) => {
            relay.sent(way);
            true
        }
        Err(e) => {
            if let Some(more) = relay
                .failures
                .let_through(std::mem::discriminant(&e), Instant::now())
            {
                wire.out.fail(Some(side.id), e.repeated(more));
            }
            false
        }
    }
}

/// `client`'s mapping, opened if it has none; `None` when the relay is full
/// (counted, said once) or the socket cannot open (said).
fn mapping<'r>(
    wire: &mut Wire<'_>,
    side: &Side<'_>,
    relay: &'r mut Relay,
    client: SocketAddr,
    now: Instant,
) -> Option<&'r mut Mapping> {
    if !relay.mappings.contains_key(&client) {
        if relay.mappings.len() >= MAX_MAPPINGS {
            relay.counters.refused += 1;
            relay.changed = true;
            if !std::mem::replace(&mut relay.full_said, true) {
                wire.out
                    .fail(Some(side.id), NetError::RelayFull { max: MAX_MAPPINGS });
            }
            return None;
        }
        match open_mapping(wire, side, relay.upstream, client, now) {
            Ok(m) => {
                wire.out.push(Event::RelayMapping {
                    id: side.id,
                    client,
                    upstream_local: m.local,
                    change: MappingChange::Opened,
                });
                relay.mappings.insert(client, m);
                relay.opened(now);
            }
            Err(e) => {
                // Out of sockets (the open-file limit) comes with every new
                // client's datagram: said once a second, counted always.
                relay.counters.refused += 1;
                relay.changed = true;
                if let Some(more) = relay.failures.let_through(std::mem::discriminant(&e), now) {
                    wire.out.fail(Some(side.id), e.repeated(more));
                }
                return None;
            }
        }
    }
    relay.mappings.get_mut(&client)
}

/// Binds and watches an upstream socket for `client`.
fn open_mapping(
    wire: &mut Wire<'_>,
    side: &Side<'_>,
    upstream: SocketAddr,
    client: SocketAddr,
    now: Instant,
) -> Result<Mapping, NetError> {
    let options = SocketOptions {
        multicast: None,
        ..side.options.clone()
    };
    let socket = socket::bind(upstream_bind(upstream), &options)?;
    let local = socket::local_addr(&socket)?;
    let slot = wire.slots.take(side.id, client);
    if let Err(e) = wire.registry.register(
        &mut SourceFd(&socket.as_raw_fd()),
        Token(UPSTREAM | slot),
        Interest::READABLE,
    ) {
        wire.slots.release(slot);
        return Err(NetError::io("cannot watch the upstream socket", &e));
    }
    Ok(Mapping {
        socket,
        local,
        slot,
        last: now,
    })
}

fn close_mapping(registry: &Registry, slots: &mut Slots, m: &Mapping) {
    // The socket closes as the mapping drops; deregistering first keeps the
    // poll from reporting a descriptor that may come back as another socket.
    let _gone = registry.deregister(&mut SourceFd(&m.socket.as_raw_fd()));
    slots.release(m.slot);
}

/// Where an upstream socket binds: a free port of the server's family, on
/// loopback when the server is there (nothing else can then reach it).
fn upstream_bind(upstream: SocketAddr) -> SocketAddr {
    let ip = match upstream.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}
