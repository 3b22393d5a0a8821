//! The open loop's receiving thread: waits on every socket at once and tallies
//! the replies, until told that sending is over and either every datagram has
//! its answer or the wait for stragglers is up, or told to stop.
//!
//! It runs beside the sender so that reading never slows sending. The sockets
//! stay blocking for the sender; this thread reads with `MSG_DONTWAIT` when
//! `epoll` says there is something, a bounded number of batches per socket per
//! round, so a flood on one socket cannot keep a stop from being heard.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::socket::{BATCH, BatchReceiver, transient};
use super::tally::Tally;

/// The token of the waker; socket `k` has token `k + 1`.
pub(super) const WAKE: Token = Token(0);

/// Batches read from one socket before the others (and the waker) get a turn.
const TURN: usize = 16;

/// What the main thread tells the receiver.
#[derive(Debug)]
pub(super) enum Control {
    /// Sending is over: `sent` datagrams went; wait at most `wait` for their replies.
    Finish { sent: u64, wait: Duration },
    /// End now.
    Stop,
}

/// What the receiving thread saw.
pub(super) struct Received {
    pub tally: Tally,
    pub refused: bool,
    pub error: Option<io::Error>,
}

/// A poll with every socket registered, and its waker.
///
/// # Errors
/// The system refuses an epoll instance or a registration.
pub(super) fn watch(sockets: &[UdpSocket]) -> io::Result<(Poll, Waker)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKE)?;
    for (k, socket) in sockets.iter().enumerate() {
        poll.registry().register(
            &mut SourceFd(&socket.as_raw_fd()),
            Token(k + 1),
            Interest::READABLE,
        )?;
    }
    Ok((poll, waker))
}

/// Tallies replies on `sockets` until `control` says to end.
pub(super) fn receive(
    sockets: &[UdpSocket],
    issued: &[AtomicU64],
    mut poll: Poll,
    control: &Receiver<Control>,
    start: Instant,
) -> Received {
    let mut got = Received {
        tally: Tally::new(sockets.len()),
        refused: false,
        error: None,
    };
    let mut events = Events::with_capacity(sockets.len() + 1);
    let mut ready = vec![false; sockets.len()];
    let mut input = BatchReceiver::new();
    // Once sending is over: how many went, and when to give up on the rest.
    let mut finish: Option<(u64, Instant)> = None;
    loop {
        let timeout = if ready.contains(&true) {
            Some(Duration::ZERO)
        } else {
            finish.map(|(_, at)| at.saturating_duration_since(Instant::now()))
        };
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            got.error = Some(e);
            return got;
        }
        for event in &events {
            match event.token() {
                WAKE => {
                    for message in control.try_iter() {
                        match message {
                            Control::Stop => return got,
                            Control::Finish { sent, wait } => {
                                let at = Instant::now()
                                    .checked_add(wait)
                                    .unwrap_or_else(Instant::now);
                                finish = Some((sent, at));
                            }
                        }
                    }
                }
                Token(k) => {
                    if let Some(r) = ready.get_mut(k.wrapping_sub(1)) {
                        *r = true;
                    }
                }
            }
        }
        for (k, (socket, issued)) in sockets.iter().zip(issued).enumerate() {
            if !ready.get(k).copied().unwrap_or(false) {
                continue;
            }
            let mut drained = false;
            for _ in 0..TURN {
                // Read after the datagrams arrive, so the clock never runs ahead of them
                // and `issued` already covers every datagram answered.
                let mut now_ns = None;
                let tally = &mut got.tally;
                let read = input.recv(socket, |bytes| {
                    let now = *now_ns.get_or_insert_with(|| since(start));
                    tally.reply(k, issued.load(Ordering::Acquire), bytes, now);
                });
                match read {
                    Ok(n) if n < BATCH => {
                        drained = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if transient(&e) => {
                        got.refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                    }
                    Err(e) => {
                        got.error = Some(e);
                        return got;
                    }
                }
            }
            if let Some(r) = ready.get_mut(k) {
                *r = !drained;
            }
        }
        if let Some((sent, at)) = finish
            && (got.tally.all_answered(sent) || Instant::now() >= at)
        {
            return got;
        }
    }
}

/// Nanoseconds since `start`.
pub(super) fn since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
