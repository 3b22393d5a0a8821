//! The closed loop: each socket has one datagram out at a time, sends the next
//! when the reply comes or after `--timeout` (that one counts as lost), and the
//! time each reply took goes into the RTT figures.
//!
//! A reply without our header is taken as the answer to whatever that socket
//! has outstanding, which is all a fixed-reply server allows; repeats are then
//! unknowable and reported as such.

use std::io;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::header::{HEADER_LEN, Header, nanos, since};
use super::receiver::WAKE;
use super::record::{Kept, Recorder};
use super::rtt::Rtt;
use super::sender::Limit;
use super::socket::{BATCH, BatchReceiver, transient};
use super::stop::StopSignal;
use super::tally::{Seen, SeqWindow};

/// After a send fails for a passing reason, how long before the next try.
const RETRY: Duration = Duration::from_millis(1);

/// What a closed-loop run measured.
pub(super) struct RoundTrips {
    /// Round trips begun, less any cut short by a stop.
    pub sent: u64,
    /// Answered within the timeout.
    pub received: u64,
    /// Not answered within the timeout.
    pub lost: u64,
    /// Replies that came after their round trip had timed out.
    pub late: u64,
    pub duplicates: u64,
    /// Replies without our header.
    pub untagged: u64,
    pub rtt: Rtt,
    pub elapsed: Duration,
    pub refused: bool,
    pub error: Option<io::Error>,
}

/// One socket's outstanding datagram.
#[derive(Clone, Copy)]
struct Flight {
    seq: u64,
    sent_at: Instant,
}

/// One socket's state.
struct Lane {
    flight: Option<Flight>,
    next_seq: u64,
    window: SeqWindow,
    ready: bool,
}

/// Runs round trips on every socket until `limit` or the stop signal.
// Each is a plain input of one thread's run; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(super) fn round_trips(
    sockets: &[UdpSocket],
    mut poll: Poll,
    size: usize,
    limit: Limit,
    timeout: Duration,
    start: Instant,
    stop: &StopSignal,
    recorder: Option<&Recorder>,
) -> RoundTrips {
    let mut run = ClosedLoop::new(sockets.len(), size, limit, start);
    run.recorder = recorder;
    let mut events = Events::with_capacity(sockets.len() + 1);
    loop {
        let now = Instant::now();
        let retry = match run.launch(sockets, now) {
            Ok(retry) => retry,
            Err(e) => {
                run.out.error = Some(e);
                break;
            }
        };
        let oldest = run
            .lanes
            .iter()
            .filter_map(|l| l.flight)
            .map(|f| f.sent_at)
            .min();
        let Some(oldest) = oldest.or(retry.then_some(now)) else {
            break; // nothing out and nothing more to send
        };
        let mut wait = (oldest + timeout).saturating_duration_since(Instant::now());
        if retry {
            wait = wait.min(RETRY);
        }
        if run.lanes.iter().any(|l| l.ready) {
            wait = Duration::ZERO;
        }
        if let Err(e) = poll.poll(&mut events, Some(wait))
            && e.kind() != io::ErrorKind::Interrupted
        {
            run.out.error = Some(e);
            break;
        }
        let mut stopped = false;
        for event in &events {
            if event.token() == WAKE {
                stopped |= stop.is_set();
            } else if let Some(lane) = run.lanes.get_mut(event.token().0.wrapping_sub(1)) {
                lane.ready = true;
            }
        }
        if stopped {
            break;
        }
        if let Err(e) = run.read(sockets) {
            run.out.error = Some(e);
            break;
        }
        run.expire(Instant::now(), timeout);
    }
    run.finish()
}

/// The closed loop between polls.
struct ClosedLoop<'r> {
    /// Where the datagrams and replies are captured, if anywhere.
    recorder: Option<&'r Recorder>,
    out: RoundTrips,
    lanes: Vec<Lane>,
    datagram: Vec<u8>,
    input: BatchReceiver,
    /// Round trips still to begin.
    budget: u64,
    /// When to stop beginning them.
    end: Option<Instant>,
    start: Instant,
}

impl ClosedLoop<'_> {
    fn new<'r>(sockets: usize, size: usize, limit: Limit, start: Instant) -> ClosedLoop<'r> {
        let (budget, end) = match limit {
            Limit::Count(n) => (n, None),
            Limit::Time(d) => (u64::MAX, start.checked_add(d)),
        };
        ClosedLoop {
            recorder: None,
            out: RoundTrips {
                sent: 0,
                received: 0,
                lost: 0,
                late: 0,
                duplicates: 0,
                untagged: 0,
                rtt: Rtt::new(),
                elapsed: Duration::ZERO,
                refused: false,
                error: None,
            },
            lanes: (0..sockets)
                .map(|_| Lane {
                    flight: None,
                    next_seq: 0,
                    window: SeqWindow::new(),
                    ready: false,
                })
                .collect(),
            datagram: vec![0; size.max(HEADER_LEN)],
            input: BatchReceiver::new(),
            budget,
            end,
            start,
        }
    }

    /// Sends the next datagram on every idle socket, while there are round
    /// trips to begin. Returns whether a send failed for a passing reason and
    /// wants another try soon.
    ///
    /// # Errors
    /// A send failed for good.
    fn launch(&mut self, sockets: &[UdpSocket], now: Instant) -> io::Result<bool> {
        if self.end.is_some_and(|e| now >= e) {
            return Ok(false);
        }
        let mut retry = false;
        for (k, (socket, lane)) in sockets.iter().zip(&mut self.lanes).enumerate() {
            if lane.flight.is_some() || self.budget == 0 {
                continue;
            }
            let header = Header {
                socket: u32::try_from(k).unwrap_or(u32::MAX),
                seq: lane.next_seq,
                sent_ns: since(self.start),
            };
            if let Some(h) = self.datagram.get_mut(..HEADER_LEN) {
                h.copy_from_slice(&header.encode());
            }
            let sent_at = Instant::now();
            match socket.send(&self.datagram) {
                Ok(_) => {
                    if let Some(r) = self.recorder {
                        let (head, padding) =
                            self.datagram.split_at(HEADER_LEN.min(self.datagram.len()));
                        let mut h = [0u8; HEADER_LEN];
                        h.copy_from_slice(head);
                        r.sent(k, &[h], padding);
                    }
                    lane.flight = Some(Flight {
                        seq: lane.next_seq,
                        sent_at,
                    });
                    lane.next_seq += 1;
                    self.budget -= 1;
                    self.out.sent += 1;
                }
                Err(e) if transient(&e) => {
                    self.out.refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                    retry = true;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(retry)
    }

    /// Reads a batch from every socket that has something.
    ///
    /// # Errors
    /// A read failed for good.
    fn read(&mut self, sockets: &[UdpSocket]) -> io::Result<()> {
        for (k, (socket, lane)) in sockets.iter().zip(&mut self.lanes).enumerate() {
            if !lane.ready {
                continue;
            }
            let out = &mut self.out;
            let mut kept = Kept::new(self.recorder);
            let read = self.input.recv(socket, |bytes, cut| {
                reply(out, k, lane, bytes);
                kept.keep(bytes, cut);
            });
            kept.offer(k);
            match read {
                // A full batch may have left more behind.
                Ok(n) => lane.ready = n == BATCH,
                Err(e) if transient(&e) => {
                    out.refused |= e.kind() == io::ErrorKind::ConnectionRefused;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Gives up on round trips older than `timeout`.
    fn expire(&mut self, now: Instant, timeout: Duration) {
        for lane in &mut self.lanes {
            if lane.flight.is_some_and(|f| now >= f.sent_at + timeout) {
                lane.flight = None;
                self.out.lost += 1;
            }
        }
    }

    fn finish(mut self) -> RoundTrips {
        // Round trips cut short were neither answered nor timed out: leave them out.
        let cut = self.lanes.iter().filter(|l| l.flight.is_some()).count();
        self.out.sent = self.out.sent.saturating_sub(cut as u64);
        self.out.elapsed = self.start.elapsed();
        self.out
    }
}

/// Counts one reply on socket `k`.
fn reply(out: &mut RoundTrips, k: usize, lane: &mut Lane, bytes: &[u8]) {
    let now = Instant::now();
    let ours = Header::decode(bytes)
        .filter(|h| usize::try_from(h.socket).is_ok_and(|s| s == k) && h.seq < lane.next_seq);
    let Some(h) = ours else {
        out.untagged += 1;
        match lane.flight.take() {
            Some(f) => {
                out.received += 1;
                out.rtt.record(nanos(now - f.sent_at));
            }
            None => out.late += 1,
        }
        return;
    };
    match lane.window.record(h.seq) {
        Seen::Duplicate => out.duplicates += 1,
        Seen::New { .. } => match lane.flight {
            Some(f) if f.seq == h.seq => {
                lane.flight = None;
                out.received += 1;
                out.rtt.record(nanos(now - f.sent_at));
            }
            _ => out.late += 1,
        },
    }
}
