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

use super::header::{HEADER_LEN, Header};
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
pub(super) fn send_all(
    sockets: &[UdpSocket],
    issued: &[AtomicU64],
    size: usize,
    pacer: Pacer,
    limit: Limit,
    start: Instant,
    stop: &StopSignal,
) -> Sent {
    let padding = vec![0u8; size.saturating_sub(HEADER_LEN)];
    let mut out = BatchSender::new(size);
    let mut headers = [[0u8; HEADER_LEN]; BATCH];
    let mut next_seq = vec![0u64; sockets.len()];
    let (count, end) = match limit {
        Limit::Count(n) => (n, None),
        Limit::Time(d) => (u64::MAX, Some(d)),
    };
    let mut sent = Sent {
        total: 0,
        elapsed: Duration::ZERO,
        refused: false,
        error: None,
    };
    let mut turn = 0;
    while !stop.is_set() && sent.total < count {
        let elapsed = start.elapsed();
        if end.is_some_and(|d| elapsed >= d) {
            break;
        }
        let due = pacer.due(elapsed).saturating_sub(sent.total);
        if due == 0 {
            let next = pacer.due_at(sent.total);
            if end.is_some_and(|d| next >= d) || stop.sleep_until(start + next) {
                break;
            }
            continue;
        }
        let n = usize::try_from(due.min(count - sent.total)).map_or(BATCH, |n| n.min(BATCH));
        let k = turn % sockets.len().max(1);
        turn += 1;
        let (Some(socket), Some(seq), Some(issued)) =
            (sockets.get(k), next_seq.get_mut(k), issued.get(k))
        else {
            break;
        };
        let sent_ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let batch = headers.get_mut(..n).unwrap_or_default();
        for (i, h) in (0u64..).zip(batch.iter_mut()) {
            *h = Header {
                socket: u32::try_from(k).unwrap_or(u32::MAX),
                seq: *seq + i,
                sent_ns,
            }
            .encode();
        }
        issued.store(*seq + n as u64, Ordering::Release);
        match out.send(socket, batch, &padding) {
            Ok(m) => {
                *seq += m as u64;
                sent.total += m as u64;
            }
            Err(e) if transient(&e) => {
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    sent.refused = true;
                } else {
                    // The send queue is full: let it drain a little.
                    std::thread::yield_now();
                }
            }
            Err(e) => {
                sent.error = Some(e);
                break;
            }
        }
    }
    sent.elapsed = start.elapsed().max(pacer.due_at(sent.total));
    sent
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
