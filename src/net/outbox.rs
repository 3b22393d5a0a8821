//! What the network thread has to tell its owner since the last wake-up, in
//! order, and the one place where packets are numbered and sent.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use socket2::{SockAddr, Socket};

use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId, Packet};

use super::command::Event;
use super::error::{NetError, max_payload};
use super::socket;

/// How often the same "nobody is listening" may be said per endpoint: a flood
/// to a closed port must not become a flood of identical errors.
const UNREACHABLE_QUIET: Duration = Duration::from_secs(1);

/// Packets per [`Event::Packets`] at most, so the owner can take a flood in
/// bounded bites.
pub const BATCH: usize = 1024;

/// Errors that are the kernel passing on an ICMP report about an earlier datagram.
fn is_icmp_report(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

/// The wall clock cut to whole microseconds: what every log format keeps, so a
/// saved log reads back identical.
fn now_micros() -> SystemTime {
    let now = SystemTime::now();
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => {
            SystemTime::UNIX_EPOCH
                + Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        }
        Err(_) => now,
    }
}

/// Events waiting to go out, packets batched.
#[derive(Default)]
pub struct Outbox {
    events: Vec<Event>,
    seq: u64,
    last_unreachable: HashMap<(EndpointId, SocketAddr), Instant>,
    last_other: HashMap<(EndpointId, SocketAddr, i32), Instant>,
}

/// Stands for "no destination known" in the throttle's key.
const NO_PEER: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::UNSPECIFIED,
    0,
));

/// The parts of an endpoint a packet needs.
#[derive(Clone, Copy)]
pub struct Origin {
    /// Which endpoint.
    pub id: EndpointId,
    /// Its bound address.
    pub local: SocketAddr,
    /// Its encoding.
    pub encoding: Encoding,
}

impl Outbox {
    /// Queues any event.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Queues a failure.
    pub fn fail(&mut self, id: Option<EndpointId>, error: NetError) {
        self.events.push(Event::Failed { id, error });
    }

    /// Numbers, stamps and queues a packet, and returns its time; consecutive
    /// packets share one [`Event::Packets`].
    pub fn packet(
        &mut self,
        origin: Origin,
        direction: Direction,
        peer: SocketAddr,
        bytes: &[u8],
        truncated: bool,
    ) -> SystemTime {
        self.seq += 1;
        let time = now_micros();
        let packet = Packet {
            seq: self.seq,
            time,
            endpoint: origin.id,
            direction,
            local: origin.local,
            peer,
            encoding: origin.encoding,
            bytes: Arc::from(bytes),
            truncated,
        };
        match self.events.last_mut() {
            Some(Event::Packets(batch)) if batch.len() < BATCH => batch.push(packet),
            _ => {
                let mut batch = Vec::with_capacity(64);
                batch.push(packet);
                self.events.push(Event::Packets(batch));
            }
        }
        time
    }

    /// Sends `payload` to `peer` from `sock` and records it.
    ///
    /// A "connection refused" or "unreachable" here belongs to an earlier
    /// datagram (the kernel reports ICMP errors on the next call): it is reported
    /// from the error queue and this datagram is tried once more.
    ///
    /// # Errors
    /// Too large, permission denied, unreachable and other send failures.
    pub fn send(
        &mut self,
        sock: &Socket,
        origin: Origin,
        peer: SocketAddr,
        payload: &[u8],
    ) -> Result<(), NetError> {
        let max = max_payload(&peer);
        if payload.len() > max {
            return Err(NetError::too_large(payload.len(), peer.is_ipv6()));
        }
        if peer.is_ipv6() != origin.local.is_ipv6() {
            return Err(NetError::FamilyMismatch {
                local: origin.local,
                peer,
            });
        }
        let to = SockAddr::from(peer);
        let mut result = sock.send_to(payload, &to);
        if matches!(&result, Err(e) if is_icmp_report(e)) {
            self.report_icmp(sock, origin.id);
            result = sock.send_to(payload, &to);
        }
        match result {
            Ok(_) => {
                self.packet(origin, Direction::Out, peer, payload, false);
                Ok(())
            }
            Err(e) => Err(NetError::from_send(&e, peer, payload.len())),
        }
    }

    /// Reads the socket's error queue and says, once a second per peer at most,
    /// who was not listening.
    pub fn report_icmp(&mut self, sock: &Socket, id: EndpointId) {
        let now = Instant::now();
        for report in socket::drain_error_queue(sock) {
            match report {
                Ok(peer) => {
                    let last = self.last_unreachable.get(&(id, peer));
                    if last.is_none_or(|t| now.duration_since(*t) >= UNREACHABLE_QUIET) {
                        self.last_unreachable.insert((id, peer), now);
                        self.fail(Some(id), NetError::Unreachable { peer });
                    }
                }
                Err((dest, e)) => {
                    // Host or network unreachable and the like: said once a second per
                    // destination and kind, like "port unreachable".
                    let key = (id, dest.unwrap_or(NO_PEER), e.raw_os_error().unwrap_or(0));
                    let last = self.last_other.get(&key);
                    if last.is_none_or(|t| now.duration_since(*t) >= UNREACHABLE_QUIET) {
                        self.last_other.insert(key, now);
                        let context = match dest {
                            Some(d) => format!("cannot reach {d}"),
                            None => "the network reported an error".to_owned(),
                        };
                        self.fail(Some(id), NetError::io(context, &e));
                    }
                }
            }
        }
        if self.last_other.len() > 4096 {
            self.last_other
                .retain(|_, t| now.duration_since(*t) < UNREACHABLE_QUIET);
        }
        if self.last_unreachable.len() > 4096 {
            self.last_unreachable
                .retain(|_, t| now.duration_since(*t) < UNREACHABLE_QUIET);
        }
    }

    /// True when nothing waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Takes the waiting events.
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}
