//! Making UDP sockets: binding, buffer sizes, broadcast, multicast, and the
//! error queue that carries the kernel's ICMP reports back to us.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::command::{Buffers, Multicast, SocketOptions};
use super::error::NetError;

/// A non-blocking UDP socket bound to `addr` with `options` applied.
///
/// # Errors
/// Binding or option failures, mapped to [`NetError`]s a person can act on.
pub fn bind(addr: SocketAddr, options: &SocketOptions) -> Result<Socket, NetError> {
    let domain = Domain::for_address(addr);
    let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| NetError::io("cannot create a UDP socket", &e))?;
    if addr.is_ipv6() {
        // `::` means IPv6 only; `0.0.0.0` is the way to ask for IPv4, so each bind means one family.
        socket
            .set_only_v6(true)
            .map_err(|e| NetError::io("cannot set IPV6_V6ONLY", &e))?;
    }
    socket
        .set_nonblocking(true)
        .map_err(|e| NetError::io("cannot make the socket non-blocking", &e))?;
    if options.recv_buffer > 0 {
        // The kernel caps this at net.core.rmem_max; a smaller buffer than asked is not an error.
        let _ignored_cap = socket.set_recv_buffer_size(options.recv_buffer);
    }
    if options.send_buffer > 0 {
        // Likewise capped at net.core.wmem_max; what was granted is read back and shown.
        let _ignored_cap = socket.set_send_buffer_size(options.send_buffer);
    }
    apply_broadcast(&socket, options.broadcast, addr)?;
    enable_error_queue(&socket, addr)?;
    count_kernel_drops(&socket);
    if addr.ip().is_unspecified() {
        ask_destination(&socket, addr);
    }
    socket
        .bind(&SockAddr::from(addr))
        .map_err(|e| NetError::from_bind(&e, addr))?;
    if let Some(m) = &options.multicast {
        apply_multicast(&socket, m, addr)?;
    }
    Ok(socket)
}

/// The address the kernel really bound (the real port when 0 was asked).
///
/// # Errors
/// Only if the socket is broken.
pub fn local_addr(socket: &Socket) -> Result<SocketAddr, NetError> {
    socket
        .local_addr()
        .map_err(|e| NetError::io("cannot read the bound address", &e))?
        .as_socket()
        .ok_or_else(|| NetError::Io {
            context: "cannot read the bound address".to_owned(),
            message: "not an IP socket".to_owned(),
        })
}

/// The buffer sizes the kernel granted (0 where it would not say).
#[must_use]
pub fn buffers(socket: &Socket) -> Buffers {
    Buffers {
        recv: socket.recv_buffer_size().unwrap_or(0),
        send: socket.send_buffer_size().unwrap_or(0),
    }
}

fn apply_broadcast(socket: &Socket, on: bool, addr: SocketAddr) -> Result<(), NetError> {
    if addr.is_ipv4() {
        socket
            .set_broadcast(on)
            .map_err(|e| NetError::io("cannot set SO_BROADCAST", &e))?;
    }
    Ok(())
}

fn apply_multicast(socket: &Socket, m: &Multicast, addr: SocketAddr) -> Result<(), NetError> {
    let ctx = |what: &str| format!("multicast: cannot {what}");
    if let Some(group) = m.group.filter(|g| !g.is_multicast()) {
        return Err(NetError::BadAddress {
            input: group.to_string(),
            detail: "that is not a multicast group: use 224.0.0.0 to 239.255.255.255, or ff00::/8"
                .to_owned(),
        });
    }
    match addr.ip() {
        IpAddr::V4(_) => {
            let iface = m.interface_v4.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
            socket
                .set_multicast_ttl_v4(m.ttl)
                .map_err(|e| NetError::io(ctx("set the TTL"), &e))?;
            socket
                .set_multicast_loop_v4(m.loopback)
                .map_err(|e| NetError::io(ctx("set loopback"), &e))?;
            if m.interface_v4.is_some() {
                socket
                    .set_multicast_if_v4(&iface)
                    .map_err(|e| NetError::io(ctx("choose the interface"), &e))?;
            }
            match m.group {
                Some(IpAddr::V4(group)) => socket
                    .join_multicast_v4(&group, &iface)
                    .map_err(|e| NetError::io(ctx(&format!("join {group}")), &e))?,
                Some(IpAddr::V6(group)) => {
                    return Err(NetError::BadAddress {
                        input: group.to_string(),
                        detail: "an IPv6 group needs an IPv6 socket".to_owned(),
                    });
                }
                None => {}
            }
        }
        IpAddr::V6(_) => {
            socket
                .set_multicast_hops_v6(m.ttl)
                .map_err(|e| NetError::io(ctx("set the hop limit"), &e))?;
            socket
                .set_multicast_loop_v6(m.loopback)
                .map_err(|e| NetError::io(ctx("set loopback"), &e))?;
            if m.interface_v6 != 0 {
                socket
                    .set_multicast_if_v6(m.interface_v6)
                    .map_err(|e| NetError::io(ctx("choose the interface"), &e))?;
            }
            match m.group {
                Some(IpAddr::V6(group)) => socket
                    .join_multicast_v6(&group, m.interface_v6)
                    .map_err(|e| NetError::io(ctx(&format!("join {group}")), &e))?,
                Some(IpAddr::V4(group)) => {
                    return Err(NetError::BadAddress {
                        input: group.to_string(),
                        detail: "an IPv4 group needs an IPv4 socket".to_owned(),
                    });
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// One datagram read from a socket.
pub struct Received {
    /// Bytes stored in the buffer.
    pub len: usize,
    /// Who sent it (`None` only for a sender that is not an IP address, which
    /// a UDP socket should never see).
    pub peer: Option<SocketAddr>,
    /// The datagram was longer than the buffer.
    pub truncated: bool,
    /// The address it was sent to, when the socket is bound to every
    /// address and the kernel said (Linux).
    pub destination: Option<std::net::IpAddr>,
}

/// Reads one datagram into `buf`, telling whether the kernel had to cut it.
///
/// # Errors
/// `WouldBlock` when nothing is waiting; other errors as the kernel reports them.
#[cfg(not(target_os = "linux"))]
pub fn recv(socket: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    use nix::sys::socket::{MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;

    let mut iov = [IoSliceMut::new(buf)];
    let msg =
        recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_DONTWAIT)
            .map_err(io::Error::from)?;
    let peer = msg.address.as_ref().and_then(storage_to_addr);
    Ok(Received {
        len: msg.bytes,
        peer,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        destination: None,
    })
}

/// Asks the kernel to say, with each datagram, how many it has dropped so far
/// because the receive buffer was full (`SO_RXQ_OVFL`): those never reach us,
/// and a person deserves to know of them. Best effort: without it the count
/// stays unknown, which is shown as nothing rather than as zero.
#[cfg(target_os = "linux")]
fn count_kernel_drops(socket: &Socket) {
    use nix::sys::socket::{setsockopt, sockopt};
    let _unsupported = setsockopt(socket, sockopt::RxqOvfl, &1);
}

#[cfg(not(target_os = "linux"))]
fn count_kernel_drops(_socket: &Socket) {}

/// A socket bound to every address asks the kernel to say, with each
/// datagram, which of this machine's addresses it was sent to (`IP_PKTINFO`,
/// `IPV6_RECVPKTINFO`): the log shows that address, as a sniffer would, not
/// `0.0.0.0`. Best effort: without it the bound address is shown.
#[cfg(target_os = "linux")]
fn ask_destination(socket: &Socket, addr: SocketAddr) {
    use nix::sys::socket::{setsockopt, sockopt};
    let _unsupported = if addr.is_ipv4() {
        setsockopt(socket, sockopt::Ipv4PacketInfo, &true)
    } else {
        setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)
    };
}

#[cfg(not(target_os = "linux"))]
fn ask_destination(_socket: &Socket, _addr: SocketAddr) {}

#[cfg(target_os = "linux")]
fn enable_error_queue(socket: &Socket, addr: SocketAddr) -> Result<(), NetError> {
    use nix::sys::socket::{setsockopt, sockopt};
    // Without IP_RECVERR Linux drops ICMP errors for unconnected sockets, and
    // "nobody is listening" would go unsaid.
    let done = if addr.is_ipv4() {
        setsockopt(socket, sockopt::Ipv4RecvErr, &true)
    } else {
        setsockopt(socket, sockopt::Ipv6RecvErr, &true)
    };
    done.map_err(|e| NetError::io("cannot enable ICMP error reports", &io::Error::from(e)))
}

#[cfg(not(target_os = "linux"))]
fn enable_error_queue(_socket: &Socket, _addr: SocketAddr) -> Result<(), NetError> {
    Ok(())
}

/// One report from the error queue: `Ok(destination)` for "port unreachable",
/// otherwise the error with the destination it concerns, when known.
pub type IcmpReport = Result<SocketAddr, (Option<SocketAddr>, io::Error)>;

/// Takes every waiting ICMP report off the socket's error queue.
#[cfg(target_os = "linux")]
pub fn drain_error_queue(socket: &Socket) -> Vec<IcmpReport> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg};
    use std::os::fd::AsRawFd;

    let mut reports = Vec::new();
    // A bounded loop: the queue holds at most a few reports per packet sent.
    for _ in 0..64 {
        let mut payload = [0u8; 64];
        let mut iov = [IoSliceMut::new(&mut payload)];
        // Room for one `sock_extended_err` (16 bytes) and the offender's address (at most 28).
        let mut cmsg = nix::cmsg_space!([u8; 64]);
        let msg = match recvmsg::<SockaddrStorage>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EAGAIN) => break,
            Err(e) => {
                reports.push(Err((None, io::Error::from(e))));
                break;
            }
        };
        let dest = msg
            .address
            .and_then(|a: SockaddrStorage| storage_to_addr(&a));
        let Ok(cmsgs) = msg.cmsgs() else { continue };
        for c in cmsgs {
            let errno = match c {
                ControlMessageOwned::Ipv4RecvErr(ee, _)
                | ControlMessageOwned::Ipv6RecvErr(ee, _) => ee.ee_errno,
                _ => continue,
            };
            let err = io::Error::from_raw_os_error(i32::try_from(errno).unwrap_or(0));
            match (err.kind(), dest) {
                (io::ErrorKind::ConnectionRefused, Some(d)) => reports.push(Ok(d)),
                (_, Some(d)) => reports.push(Err((Some(d), err))),
                (_, None) => reports.push(Err((None, err))),
            }
        }
    }
    reports
}

#[cfg(not(target_os = "linux"))]
pub fn drain_error_queue(_socket: &Socket) -> Vec<IcmpReport> {
    Vec::new()
}

fn storage_to_addr(a: &nix::sys::socket::SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::from((v4.ip(), v4.port())));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
}

/// Datagrams read per system call (`recvmmsg` on Linux).
pub const RECV_SLOTS: usize = 32;

/// Buffers for reading many datagrams with one system call: `recvmmsg` on
/// Linux, one `recvmsg` at a time elsewhere.
pub struct RecvBatch {
    buf: Vec<u8>,
    slot: usize,
    got: Vec<Received>,
    /// The kernel's count of datagrams it dropped on this socket, as the last
    /// read reported it (Linux, `SO_RXQ_OVFL`).
    kernel_drops: Option<u32>,
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<nix::sys::socket::SockaddrStorage>,
    /// A drop count did not fit in the last read: renew the headers.
    #[cfg(target_os = "linux")]
    truncated: bool,
    /// The socket the headers last read from.
    #[cfg(target_os = "linux")]
    last_fd: Option<std::os::fd::RawFd>,
}

impl RecvBatch {
    /// Room for [`RECV_SLOTS`] datagrams of up to `slot` bytes each.
    #[must_use]
    pub fn new(slot: usize) -> RecvBatch {
        let slot = slot.max(1);
        RecvBatch {
            buf: vec![0; slot * RECV_SLOTS],
            slot,
            got: Vec::with_capacity(RECV_SLOTS),
            kernel_drops: None,
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(
                RECV_SLOTS,
                Some(nix::cmsg_space!(u32, nix::libc::in6_pktinfo)),
            ),
            #[cfg(target_os = "linux")]
            truncated: false,
            #[cfg(target_os = "linux")]
            last_fd: None,
        }
    }

    /// Reads the datagrams waiting, up to [`RECV_SLOTS`], keeping at most `keep`
    /// bytes of each; returns how many. Fewer than the slots means the socket
    /// had no more just then.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is waiting; other errors as the kernel reports them.
    #[cfg(target_os = "linux")]
    pub fn recv(&mut self, socket: &Socket, keep: usize) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, recvmmsg};
        use std::os::fd::AsRawFd;

        let keep = keep.clamp(1, self.slot);
        // The kernel also writes back each slot's address length, and nix's
        // headers keep that too: after an IPv4 socket's 16-byte addresses an
        // IPv6 sender's 28-byte one would be cut to garbage (and answered at
        // that garbage). Another socket gets fresh headers; reads of the same
        // socket, the common case, reuse them.
        let fd = socket.as_raw_fd();
        if self.last_fd != Some(fd) {
            self.truncated = true;
            self.last_fd = Some(fd);
        }
        if self.truncated {
            // The kernel writes back each slot's control length (zero while a
            // socket has dropped nothing), and nix's headers keep it; once a
            // drop count did not fit, fresh headers give every slot room again.
            // After the first drop every datagram carries the count, so this
            // happens about once per socket, not once per read.
            self.headers = nix::sys::socket::MultiHeaders::preallocate(
                RECV_SLOTS,
                Some(nix::cmsg_space!(u32, nix::libc::in6_pktinfo)),
            );
            self.truncated = false;
        }
        let mut slices: Vec<[IoSliceMut<'_>; 1]> = self
            .buf
            .chunks_mut(self.slot)
            .map(|c| [IoSliceMut::new(&mut c[..keep])])
            .collect();
        let results = recvmmsg(
            socket.as_raw_fd(),
            &mut self.headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(io::Error::from)?;
        self.got.clear();
        self.kernel_drops = None;
        for r in results {
            let mut destination = None;
            match r.cmsgs() {
                Ok(cmsgs) => {
                    use nix::sys::socket::ControlMessageOwned as C;
                    for c in cmsgs {
                        match c {
                            C::RxqOvfl(n) => {
                                self.kernel_drops = Some(self.kernel_drops.map_or(n, |k| k.max(n)));
                            }
                            C::Ipv4PacketInfo(info) => {
                                let ip =
                                    std::net::Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                                destination = Some(std::net::IpAddr::V4(ip));
                            }
                            C::Ipv6PacketInfo(info) => {
                                let ip = std::net::Ipv6Addr::from(info.ipi6_addr.s6_addr);
                                destination = Some(std::net::IpAddr::V6(ip));
                            }
                            _ => {}
                        }
                    }
                }
                // A drop count that did not fit: the next datagram tells it.
                Err(_) => self.truncated = true,
            }
            self.got.push(Received {
                len: r.bytes,
                // A datagram from a non-IP address cannot reach a UDP socket;
                // should one, it is skipped.
                peer: r.address.as_ref().and_then(storage_to_addr),
                truncated: r.flags.contains(MsgFlags::MSG_TRUNC),
                destination,
            });
        }
        Ok(self.got.len())
    }

    /// Reads one datagram (platforms without `recvmmsg`).
    ///
    /// # Errors
    /// `WouldBlock` when nothing is waiting; other errors as the kernel reports them.
    #[cfg(not(target_os = "linux"))]
    pub fn recv(&mut self, socket: &Socket, keep: usize) -> io::Result<usize> {
        let keep = keep.clamp(1, self.slot);
        let got = recv(socket, &mut self.buf[..keep])?;
        self.got.clear();
        self.got.push(got);
        Ok(1)
    }

    /// A socket was closed: its descriptor may come back as another socket's,
    /// so the next read starts with fresh headers whatever its descriptor.
    pub fn forget_socket(&mut self) {
        #[cfg(target_os = "linux")]
        {
            self.last_fd = None;
        }
    }

    /// How many datagrams the kernel had dropped on the socket so far, as the
    /// last read reported (only on Linux, and only with a datagram to carry it).
    #[must_use]
    pub fn kernel_drops(&self) -> Option<u32> {
        self.kernel_drops
    }

    /// Datagram `i` of the last read: its bytes and where it came from.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<(&[u8], &Received)> {
        let got = self.got.get(i)?;
        let start = i * self.slot;
        Some((self.buf.get(start..start + got.len)?, got))
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Reads every datagram waiting on `sock`; returns how many.
    fn read_all(batch: &mut RecvBatch, sock: &Socket) -> usize {
        let mut got = 0;
        while let Ok(n) = batch.recv(sock, 64) {
            got += n;
        }
        got
    }

    #[test]
    fn the_kernel_says_how_many_datagrams_it_dropped() {
        let options = SocketOptions {
            // The smallest buffer the kernel grants: a few datagrams.
            recv_buffer: 1,
            ..SocketOptions::default()
        };
        let sock = bind("127.0.0.1:0".parse().unwrap(), &options).unwrap();
        let at = local_addr(&sock).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Nobody reads while these arrive, so all but the first few are dropped.
        for _ in 0..200 {
            sender.send_to(b"burst", at).unwrap();
        }
        let mut batch = RecvBatch::new(64);
        let first = read_all(&mut batch, &sock);
        // The count rides on the datagrams delivered after the drops; the
        // first of them may find no room for it (see `truncated`), so two go.
        for _ in 0..2 {
            sender.send_to(b"probe", at).unwrap();
            assert_eq!(read_all(&mut batch, &sock), 1);
        }
        let dropped = batch.kernel_drops().unwrap_or(0) as usize;
        assert!(dropped > 0, "{first} read");
        assert_eq!(first + dropped, 200, "every datagram read or counted");
    }
}
