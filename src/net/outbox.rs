//! Sending one datagram from an endpoint's socket and recording it, and the
//! kernel's ICMP reports that come back on the next call, said at most once a
//! second per peer.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket};

use crate::codec::Encoding;
use crate::packet::{Direction, EndpointId};

use super::error::{NetError, max_payload};
use super::handover::Handover;
use super::socket;
use super::throttle::Throttle;

/// How often the same "nobody is listening" may be said per endpoint: a flood
/// to a closed port must not become a flood of identical errors.
const UNREACHABLE_QUIET: Duration = Duration::from_secs(1);

/// Errors that are the kernel passing on an ICMP report about an earlier datagram.
fn is_icmp_report(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

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

/// Stands for "no destination known" in the throttle's key.
const NO_PEER: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::UNSPECIFIED,
    0,
));

/// The ICMP reports said so far, per endpoint and peer.
pub struct IcmpReports {
    unreachable: Throttle<(EndpointId, SocketAddr)>,
    other: Throttle<(EndpointId, SocketAddr, i32)>,
}

impl Default for IcmpReports {
    fn default() -> Self {
        IcmpReports {
            unreachable: Throttle::new(UNREACHABLE_QUIET),
            other: Throttle::new(UNREACHABLE_QUIET),
        }
    }
}

impl IcmpReports {
    /// Reads the socket's error queue and says, once a second per peer at most,
    /// who was not listening.
    pub fn report(&mut self, sock: &Socket, id: EndpointId, out: &mut Handover) {
        let now = Instant::now();
        for report in socket::drain_error_queue(sock) {
            match report {
                Ok(peer) => {
                    if let Some(more) = self.unreachable.let_through((id, peer), now) {
                        out.fail(Some(id), NetError::Unreachable { peer }.repeated(more));
                    }
                }
                Err((dest, e)) => {
                    // Host or network unreachable and the like: said once a second per
                    // destination and kind, like "port unreachable".
                    let key = (id, dest.unwrap_or(NO_PEER), e.raw_os_error().unwrap_or(0));
                    if let Some(more) = self.other.let_through(key, now) {
                        let context = match dest {
                            Some(d) => format!("cannot reach {d}"),
                            None => "the network reported an error".to_owned(),
                        };
                        out.fail(Some(id), NetError::io(context, &e).repeated(more));
                    }
                }
            }
        }
    }
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
    sock: &Socket,
    origin: Origin,
    peer: SocketAddr,
    payload: &[u8],
    out: &mut Handover,
    icmp: &mut IcmpReports,
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
        icmp.report(sock, origin.id, out);
        result = sock.send_to(payload, &to);
    }
    match result {
        Ok(_) => {
            out.record(origin, Direction::Out, peer, payload, false);
            Ok(())
        }
        Err(e) => Err(NetError::from_send(&e, peer, payload.len())),
    }
}

/// Automatic replies gathered from one read, sent together: one `sendmmsg`
/// on Linux, one `send_to` each elsewhere. They go out before the next read,
/// so a reply waits only for the other datagrams of its own read.
pub struct ReplyBatch {
    replies: Vec<(SocketAddr, Vec<u8>)>,
    /// A reply that fails fails for every datagram of a flood: each cause is
    /// said once a second per server.
    failures: Throttle<(EndpointId, std::mem::Discriminant<NetError>)>,
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<nix::sys::socket::SockaddrStorage>,
}

impl ReplyBatch {
    /// Room for `slots` replies per system call.
    #[must_use]
    pub fn new(slots: usize) -> ReplyBatch {
        ReplyBatch {
            replies: Vec::with_capacity(slots),
            failures: Throttle::new(UNREACHABLE_QUIET),
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(slots.max(1), None),
        }
    }

    /// Queues a reply to `peer`.
    pub fn push(&mut self, peer: SocketAddr, payload: Vec<u8>) {
        self.replies.push((peer, payload));
    }

    /// Sends every queued reply in order, recording and counting each one
    /// sent and reporting each failure.
    pub fn send_all(
        &mut self,
        sock: &Socket,
        origin: Origin,
        out: &mut Handover,
        icmp: &mut IcmpReports,
    ) {
        if self.replies.is_empty() {
            return;
        }
        let mut replies = std::mem::take(&mut self.replies);
        #[cfg(target_os = "linux")]
        self.send_linux(sock, origin, &mut replies, out, icmp);
        for (peer, payload) in replies.drain(..) {
            match send(sock, origin, peer, &payload, out, icmp) {
                Ok(()) => out.count_reply(origin.id),
                Err(e) => {
                    let cause = (origin.id, std::mem::discriminant(&e));
                    if let Some(more) = self.failures.let_through(cause, Instant::now()) {
                        out.fail(Some(origin.id), e.repeated(more));
                    }
                }
            }
        }
        self.replies = replies;
    }

    /// Sends the longest run of queued replies that `sendmmsg` takes, and
    /// leaves in `replies` what it did not send (a too-large reply, a family
    /// mismatch, or whatever follows a failure) for [`send`] to try and report.
    #[cfg(target_os = "linux")]
    fn send_linux(
        &mut self,
        sock: &Socket,
        origin: Origin,
        replies: &mut Vec<(SocketAddr, Vec<u8>)>,
        out: &mut Handover,
        icmp: &mut IcmpReports,
    ) {
        use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrStorage, sendmmsg};
        use std::io::IoSlice;
        use std::os::fd::AsRawFd;

        let plain = replies
            .iter()
            .take_while(|(peer, payload)| {
                payload.len() <= max_payload(peer) && peer.is_ipv6() == origin.local.is_ipv6()
            })
            .count();
        if plain < 2 {
            // One reply gains nothing from sendmmsg.
            return;
        }
        let batch = &replies[..plain];
        let slices: Vec<[IoSlice<'_>; 1]> = batch.iter().map(|(_, p)| [IoSlice::new(p)]).collect();
        let addrs: Vec<Option<SockaddrStorage>> = batch
            .iter()
            .map(|(peer, _)| Some(SockaddrStorage::from(*peer)))
            .collect();
        let cmsgs: [ControlMessage<'_>; 0] = [];
        let sent = match sendmmsg(
            sock.as_raw_fd(),
            &mut self.headers,
            slices.iter(),
            &addrs,
            cmsgs,
            MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(results) => results.count(),
            // The first one failed: `send` tries it again and says why.
            Err(_) => 0,
        };
        for (peer, payload) in replies.drain(..sent) {
            out.record(origin, Direction::Out, peer, &payload, false);
            out.count_reply(origin.id);
        }
        if sent < plain {
            // An ICMP report pending on the socket shows up as the failure of
            // the next send: read it now, as `send` does.
            icmp.report(sock, origin.id, out);
        }
    }
}
