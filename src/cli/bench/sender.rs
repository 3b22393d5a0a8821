//! The open loop's sending thread: numbered datagrams in batches, round robin
//! over the sockets, flat out or on a fixed schedule.
//!
//! The schedule counts from the start: by time `t` at rate `r`, `t * r + 1`
//! datagrams are due. Whatever is due goes at once (in batches), so a late wake
//! catches up instead of drifting; when ahead, the thread sleeps until the next
//! one is due.

use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::header::{HEADER_LEN, Header, nanos};
use super::record::Recorder;
use super::socket::{BATCH, BatchSender, transient};
use super::stop::StopSignal;

/// When to stop sending.
#[derive(Debug, Clone, Copy)]
pub(super) enum Limit {
    /// After this many datagrams (round trips in the closed loop).
    Count(u64),
    /// After this long.
    Time(Duration),
}

/// Datagrams per second; 0 is flat out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pacer {
    pub rate: u64,
}

impl Pacer {
    /// How many datagrams are due by `elapsed` since the start; the first is due at once.
    pub(super) fn due(self, elapsed: Duration) -> u64 {
        if self.rate == 0 {
            return u64::MAX;
        }
        let due = elapsed.as_nanos() * u128::from(self.rate) / 1_000_000_000 + 1;
        u64::try_from(due).unwrap_or(u64::MAX)
    }

    /// When datagram `n` (counting from 0) is due, since the start.
    pub(super) fn due_at(self, n: u64) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let ns = u128::from(n) * 1_000_000_000 / u128::from(self.rate);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

/// What the sending thread did.
pub(super) struct Sent {
    pub total: u64,
    /// From the start to the last datagram, or to where the schedule says it
    /// ends when that is later, so a paced run reports its rate exactly.
    pub elapsed: Duration,
    /// The target answered a datagram with "port unreachable".
    pub refused: bool,
    /// The failure that ended the sending early.
    pub error: Option<io::Error>,
}

/// Sends until `limit` or the stop signal. `issued[k]` is raised before each
/// batch on socket `k`, so the receiver knows which sequence numbers are real.
// Each is a plain input of one thread's run; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(super) fn send_all(
    sockets: &[UdpSocket],
    issued: &[AtomicU64],
    size: usize,
    pacer: Pacer,
    limit: Limit,
    start: Instant,
    stop: &StopSignal,
    recorder: Option<&Recorder>,
) -> Sent {
    let (count, end) = match limit {
        Limit::Count(n) => (n, None),
        Limit::Time(d) => (u64::MAX, Some(d)),
    };
    let mut run = Sending {
        recorder,
        sockets,
        issued,
        next_seq: vec![0; sockets.len()],
        turn: 0,
        batch: Batch {
            socket: 0,
            headers: [[0; HEADER_LEN]; BATCH],
            len: 0,
            done: 0,
        },
        padding: vec![0; size.saturating_sub(HEADER_LEN)],
        out: BatchSender::new(size),
        sent: Sent {
            total: 0,
            elapsed: Duration::ZERO,
            refused: false,
            error: None,
        },
    };
    while !stop.is_set() && run.sent.total < count {
        if run.batch.done == run.batch.len {
            let elapsed = start.elapsed();
            if end.is_some_and(|d| elapsed >= d) {
                break;
            }
            let due = pacer.due(elapsed).saturating_sub(run.sent.total);
            if due == 0 {
                let next = pacer.due_at(run.sent.total);
                if end.is_some_and(|d| next >= d) || stop.sleep_until(start + next) {
                    break;
                }
                continue;
            }
            let n = due.min(count - run.sent.total);
            run.fill(usize::try_from(n).map_or(BATCH, |n| n.min(BATCH)), elapsed);
        }
        if let Err(e) = run.send() {
            run.sent.error = Some(e);
            break;
        }
    }
    run.sent.elapsed = start.elapsed().max(pacer.due_at(run.sent.total));
    run.sent
}

/// Numbered datagrams for one socket, written once and sent until all have
/// gone, however many calls that takes (a refusal cuts a call short).
struct Batch {
    socket: usize,
    headers: [[u8; HEADER_LEN]; BATCH],
    len: usize,
    /// How many have gone.
    done: usize,
}

/// The sending thread between batches.
struct Sending<'a> {
    /// Where what is sent is captured, if anywhere.
    recorder: Option<&'a Recorder>,
    sockets: &'a [UdpSocket],
    issued: &'a [AtomicU64],
    next_seq: Vec<u64>,
    /// Round robin over the sockets, one batch each.
    turn: usize,
    batch: Batch,
    padding: Vec<u8>,
    out: BatchSender,
    sent: Sent,
}

impl Sending<'_> {
    /// Numbers the next `n` datagrams of the next socket in turn, stamped `elapsed`.
    fn fill(&mut self, n: usize, elapsed: Duration) {
        let k = self.turn % self.sockets.len().max(1);
        self.turn += 1;
        let (Some(seq), Some(issued)) = (self.next_seq.get_mut(k), self.issued.get(k)) else {
            return;
        };
        let sent_ns = nanos(elapsed);
        let socket = u32::try_from(k).unwrap_or(u32::MAX);
        let mut len = 0;
        for h in self.batch.headers.iter_mut().take(n) {
            *h = Header {
                socket,
                seq: *seq,
                sent_ns,
            }
            .encode();
            *seq += 1;
            len += 1;
        }
        issued.store(*seq, Ordering::Release);
        self.batch.socket = k;
        self.batch.len = len;
        self.batch.done = 0;
    }

    /// Sends what is left of the batch, or as much of it as the kernel takes.
    ///
    /// # Errors
    /// A failure that retrying will not mend.
    fn send(&mut self) -> io::Result<()> {
        let b = &mut self.batch;
        let (Some(socket), Some(left)) = (self.sockets.get(b.socket), b.headers.get(b.done..b.len))
        else {
            b.done = b.len;
            return Ok(());
        };
        match self.out.send(socket, left, &self.padding) {
            Ok(m) => {
                if let (Some(r), Some(went)) = (self.recorder, left.get(..m)) {
                    r.sent(b.socket, went, &self.padding);
                }
                b.done += m;
                self.sent.total += m as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => self.sent.refused = true,
            // The send queue is full: let it drain a little.
            Err(e) if transient(&e) => std::thread::yield_now(),
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_counts_from_the_start() {
        let p = Pacer { rate: 1000 };
        assert_eq!(p.due(Duration::ZERO), 1);
        assert_eq!(p.due(Duration::from_micros(999)), 1);
        assert_eq!(p.due(Duration::from_millis(1)), 2);
        assert_eq!(p.due(Duration::from_secs(1)), 1001);
        assert_eq!(p.due_at(0), Duration::ZERO);
        assert_eq!(p.due_at(1500), Duration::from_millis(1500));
        let flat = Pacer { rate: 0 };
        assert_eq!(flat.due(Duration::ZERO), u64::MAX);
        assert_eq!(flat.due_at(1_000_000), Duration::ZERO);
        let huge = Pacer { rate: u64::MAX };
        assert_eq!(huge.due(Duration::from_secs(86_400)), u64::MAX);
    }
}
