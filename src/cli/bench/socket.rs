//! The bench's sockets and their batch reads and writes: `sendmmsg`/`recvmmsg`
//! on Linux, one datagram per call elsewhere.
//!
//! Each socket is connected to the target, so the kernel keeps only the
//! target's replies and caches the route (about 10% more datagrams a second to
//! a sink on loopback than naming the target in each one). A "port unreachable"
//! from the target then shows up as `ConnectionRefused` on the next call;
//! callers note it and go on. On loopback Linux reports every refused datagram,
//! which cuts each `sendmmsg` short after one; unconnected sockets would ignore
//! the reports, but would need an address per datagram, and nix's `sendmmsg`
//! reads its never-written address slots back when counting what went, which a
//! connected socket's `()` addresses make harmless.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use super::header::HEADER_LEN;

/// Datagrams per system call.
pub(super) const BATCH: usize = 64;

/// Bytes of each reply that are read: the header is all that is looked at.
const RECV_LEN: usize = 64;

/// Replies can come in faster than one thread reads them; a bigger buffer
/// (capped by the kernel at `net.core.rmem_max`) drops fewer of them.
const RECV_BUFFER: usize = 4 << 20;

/// Opens `count` sockets on ephemeral ports of the target's family, each
/// connected to `target`.
///
/// # Errors
/// The system refuses a socket, a bind or the connect.
pub(super) fn open(target: SocketAddr, count: u32) -> io::Result<Vec<UdpSocket>> {
    let any = if target.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    (0..count)
        .map(|_| {
            let socket = Socket::new(
                Domain::for_address(target),
                Type::DGRAM,
                Some(Protocol::UDP),
            )?;
            if let Err(e) = socket.set_recv_buffer_size(RECV_BUFFER) {
                eprintln!(
                    "udpdesk: cannot enlarge the receive buffer ({e}); more replies may be dropped"
                );
            }
            socket.bind(&SocketAddr::new(any, 0).into())?;
            socket.connect(&target.into())?;
            Ok(socket.into())
        })
        .collect()
}

/// Whether a failed send or read is worth retrying rather than ending the run.
pub(super) fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
    ) || e.raw_os_error() == Some(nix::errno::Errno::ENOBUFS as i32)
}

/// Writes batches of datagrams: each is a header of its own followed by the
/// same padding.
pub(super) struct BatchSender {
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<()>,
    #[cfg(not(target_os = "linux"))]
    datagram: Vec<u8>,
}

impl BatchSender {
    /// A sender of datagrams `size` bytes long (on Linux the padding is not
    /// copied but passed by reference with each datagram).
    #[cfg(target_os = "linux")]
    pub(super) fn new(_size: usize) -> BatchSender {
        BatchSender {
            headers: nix::sys::socket::MultiHeaders::preallocate(BATCH, None),
        }
    }

    /// A sender of datagrams `size` bytes long.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn new(size: usize) -> BatchSender {
        BatchSender {
            datagram: vec![0; size.max(HEADER_LEN)],
        }
    }

    /// Sends one datagram per header (at most [`BATCH`]), in order; returns how
    /// many went, which may be fewer than asked.
    ///
    /// # Errors
    /// The first datagram could not be sent.
    #[cfg(target_os = "linux")]
    pub(super) fn send(
        &mut self,
        socket: &UdpSocket,
        headers: &[[u8; HEADER_LEN]],
        padding: &[u8],
    ) -> io::Result<usize> {
        use nix::sys::socket::{ControlMessage, MsgFlags, sendmmsg};
        use std::io::IoSlice;
        use std::os::fd::AsRawFd;

        let headers = headers.get(..BATCH).unwrap_or(headers);
        let mut iovs = [[IoSlice::new(&[]), IoSlice::new(&[])]; BATCH];
        for (iov, header) in iovs.iter_mut().zip(headers) {
            *iov = [IoSlice::new(header), IoSlice::new(padding)];
        }
        // Connected: no address per datagram.
        let addrs = [None::<()>; BATCH];
        let no_cmsgs: [ControlMessage; 0] = [];
        let sent = sendmmsg(
            socket.as_raw_fd(),
            &mut self.headers,
            &iovs[..headers.len()],
            &addrs[..headers.len()],
            no_cmsgs,
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        Ok(sent.count())
    }

    /// Sends one datagram per header, in order; returns how many went.
    ///
    /// # Errors
    /// The first datagram could not be sent.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn send(
        &mut self,
        socket: &UdpSocket,
        headers: &[[u8; HEADER_LEN]],
        _padding: &[u8],
    ) -> io::Result<usize> {
        for (i, header) in headers.iter().enumerate() {
            if let Some(start) = self.datagram.get_mut(..HEADER_LEN) {
                start.copy_from_slice(header);
            }
            if let Err(e) = socket.send(&self.datagram) {
                return if i == 0 { Err(e) } else { Ok(i) };
            }
        }
        Ok(headers.len())
    }
}

/// Reads batches of replies without blocking.
pub(super) struct BatchReceiver {
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<()>,
    buffers: Box<[[u8; RECV_LEN]; BATCH]>,
}

impl BatchReceiver {
    pub(super) fn new() -> BatchReceiver {
        BatchReceiver {
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(BATCH, None),
            buffers: Box::new([[0; RECV_LEN]; BATCH]),
        }
    }

    /// Reads what is waiting on `socket`, at most one batch, and hands the
    /// start of each datagram to `each`, with whether it was longer. Returns
    /// how many were read: fewer than [`BATCH`] means the socket is drained.
    ///
    /// # Errors
    /// As the kernel reports them (`ConnectionRefused` after a "port unreachable").
    #[cfg(target_os = "linux")]
    pub(super) fn recv(
        &mut self,
        socket: &UdpSocket,
        mut each: impl FnMut(&[u8], bool),
    ) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, recvmmsg};
        use std::io::IoSliceMut;
        use std::os::fd::AsRawFd;

        let mut iovs = self.buffers.each_mut().map(|b| [IoSliceMut::new(b)]);
        let got = recvmmsg(
            socket.as_raw_fd(),
            &mut self.headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        );
        match got {
            Ok(replies) => {
                let mut n = 0;
                for reply in replies {
                    let cut = reply.flags.contains(MsgFlags::MSG_TRUNC);
                    each(reply.iovs().next().unwrap_or_default(), cut);
                    n += 1;
                }
                Ok(n)
            }
            Err(nix::errno::Errno::EAGAIN) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads what is waiting on `socket`, at most one batch, and hands the
    /// start of each datagram to `each`. Returns how many were read: fewer than
    /// [`BATCH`] means the socket is drained.
    ///
    /// # Errors
    /// As the kernel reports them (`ConnectionRefused` after a "port unreachable").
    #[cfg(not(target_os = "linux"))]
    pub(super) fn recv(
        &mut self,
        socket: &UdpSocket,
        mut each: impl FnMut(&[u8], bool),
    ) -> io::Result<usize> {
        use nix::sys::socket::{MsgFlags, recv};
        use std::os::fd::AsRawFd;

        let Some(buf) = self.buffers.first_mut() else {
            return Ok(0);
        };
        for n in 0..BATCH {
            match recv(socket.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
                Ok(len) => each(buf.get(..len).unwrap_or(buf), false),
                Err(nix::errno::Errno::EAGAIN) => return Ok(n),
                Err(e) if n == 0 => return Err(e.into()),
                Err(_) => return Ok(n),
            }
        }
        Ok(BATCH)
    }
}
