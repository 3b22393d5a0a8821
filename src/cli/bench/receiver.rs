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

use super::header::since;
use super::record::{Kept, Recorder};
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

/// A poll with every socket registered (socket `k` as token `k + 1`), and its waker.
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
    recorder: Option<&Recorder>,
) -> Received {
    let mut run = Receiving {
        got: Received {
            tally: Tally::new(sockets.len()),
            refused: false,
            error: None,
        },
        watch: vec![Watch::Idle; sockets.len()],
        input: BatchReceiver::new(),
        finish: None,
        start,
        recorder,
    };
    let mut events = Events::with_capacity(sockets.len() + 1);
    loop {
        if let Err(e) = poll.poll(&mut events, run.timeout()) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            run.got.error = Some(e);
            return run.got;
        }
        for event in &events {
            if event.token() == WAKE {
                if !run.on_control(control) {
                    return run.got;
                }
            } else if let Some(w) = run.watch.get_mut(event.token().0.wrapping_sub(1)) {
                *w = Watch::Ready;
            }
        }
        let read = run.read_ready(sockets, issued, &poll);
        if let Err(e) = read.and_then(|()| run.resume(sockets, &poll)) {
            run.got.error = Some(e);
            return run.got;
        }
        if run.finished() {
            return run.got;
        }
    }
}

/// Whether a socket is worth reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Drained; epoll will say when more comes.
    Idle,
    /// Has (or may have) replies waiting.
    Ready,
    /// Out of the poll until then, after a "port unreachable" (see `REFUSED_PAUSE`).
    Paused(Instant),
}

/// After the target answers "port unreachable", how long that socket goes
/// unwatched. Nothing listens there, so no reply can come meanwhile, while
/// each report would wake this thread (Linux reports every refusal on
/// loopback, one per datagram), taking time from the sender. Anything that does
/// come waits in the socket's buffer.
const REFUSED_PAUSE: Duration = Duration::from_millis(50);

/// The receiving thread between polls.
struct Receiving<'r> {
    got: Received,
    watch: Vec<Watch>,
    input: BatchReceiver,
    /// Where the replies are captured, if anywhere.
    recorder: Option<&'r Recorder>,
    /// Once sending is over: how many went, and when to give up on the rest.
    finish: Option<(u64, Instant)>,
    start: Instant,
}

impl Receiving<'_> {
    /// How long the next poll may wait.
    fn timeout(&self) -> Option<Duration> {
        if self.watch.contains(&Watch::Ready) {
            return Some(Duration::ZERO);
        }
        let resume = self
            .watch
            .iter()
            .filter_map(|w| match w {
                Watch::Paused(at) => Some(*at),
                Watch::Idle | Watch::Ready => None,
            })
            .min();
        let until = match (resume, self.finish.map(|(_, at)| at)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        until.map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Takes the main thread's messages; false once told to stop.
    fn on_control(&mut self, control: &Receiver<Control>) -> bool {
        for message in control.try_iter() {
            match message {
                Control::Stop => return false,
                Control::Finish { sent, wait } => {
                    let at = Instant::now()
                        .checked_add(wait)
                        .unwrap_or_else(Instant::now);
                    self.finish = Some((sent, at));
                }
            }
        }
        true
    }

    /// Reads up to `TURN` batches from every ready socket.
    ///
    /// # Errors
    /// A read or a deregistration failed for good.
    fn read_ready(
        &mut self,
        sockets: &[UdpSocket],
        issued: &[AtomicU64],
        poll: &Poll,
    ) -> io::Result<()> {
        let start = self.start;
        for (k, ((socket, issued), watch)) in
            sockets.iter().zip(issued).zip(&mut self.watch).enumerate()
        {
            if *watch != Watch::Ready {
                continue;
            }
            for _ in 0..TURN {
                // Read after the datagrams arrive, so the clock never runs ahead of them
                // and `issued` already covers every datagram answered.
                let mut now_ns = None;
                let tally = &mut self.got.tally;
                let mut kept = Kept::new(self.recorder);
                let read = self.input.recv(socket, |bytes, cut| {
                    let now = *now_ns.get_or_insert_with(|| since(start));
                    tally.reply(k, issued.load(Ordering::Acquire), bytes, now);
                    kept.keep(bytes, cut);
                });
                kept.offer(k);
                match read {
                    Ok(n) if n < BATCH => {
                        *watch = Watch::Idle;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        self.got.refused = true;
                        poll.registry()
                            .deregister(&mut SourceFd(&socket.as_raw_fd()))?;
                        *watch = Watch::Paused(Instant::now() + REFUSED_PAUSE);
                        break;
                    }
                    Err(e) if transient(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Watches paused sockets again once their pause is over.
    ///
    /// # Errors
    /// The registration failed.
    fn resume(&mut self, sockets: &[UdpSocket], poll: &Poll) -> io::Result<()> {
        let now = Instant::now();
        for (k, (socket, watch)) in sockets.iter().zip(&mut self.watch).enumerate() {
            if let Watch::Paused(at) = *watch
                && now >= at
            {
                poll.registry().register(
                    &mut SourceFd(&socket.as_raw_fd()),
                    Token(k + 1),
                    Interest::READABLE,
                )?;
                // What came during the pause raised no event: look now.
                *watch = Watch::Ready;
            }
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.finish
            .is_some_and(|(sent, at)| self.got.tally.all_answered(sent) || Instant::now() >= at)
    }
}
