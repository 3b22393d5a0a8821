//! The record path and the hand-over to the owner: packets are numbered,
//! stamped and counted here, then handed over in batches by time (a batch goes
//! when 1,024 packets wait or a couple of milliseconds after the first unsent
//! one), never once per wake-up. The channel to the owner is bounded; when the
//! owner falls behind, the display copies of the oldest packets are dropped and
//! counted, while every other event waits its turn and is never lost.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Sender, TrySendError};

use crate::capture::{Closing, EndpointStats, LiveCapture};
use crate::packet::{Direction, EndpointId, Packet};

use super::command::Event;
use super::counters::Counters;
use super::error::NetError;
use super::outbox::Origin;

/// Packets per [`Event::Packets`] at most, so the owner takes a flood in bounded bites.
pub const BATCH: usize = 1024;
/// Payload bytes per [`Event::Packets`] at most (a batch also closes here).
const BATCH_BYTES: usize = 1 << 20;
/// How long the first unsent packet may wait for others to join its batch.
pub const DEFAULT_HANDOVER_DELAY: Duration = Duration::from_millis(2);
/// The longest hand-over delay a caller may ask for: the display is meant to be live.
pub const MAX_HANDOVER_DELAY: Duration = Duration::from_millis(100);
/// Events the channel to the owner holds. With batches of at most 1,024
/// packets and 1 MiB, this bounds the channel to 16,384 packets and 16 MiB.
pub const CHANNEL_EVENTS: usize = 16;
/// Packets waiting behind a full channel before the oldest display copies go.
const BACKLOG_PACKETS: usize = 65_536;
/// Bytes (payload plus a packet's own size) waiting behind a full channel, likewise.
const BACKLOG_BYTES: usize = 32 << 20;
/// How soon to try a full channel again.
const RETRY: Duration = Duration::from_millis(5);

/// What one stored packet costs the queue besides its payload.
const PACKET_OVERHEAD: usize = std::mem::size_of::<Packet>() + 16;

/// Counters of one endpoint, with a flag for "changed since last handed over".
#[derive(Default)]
struct Counted {
    counters: Counters,
    changed: bool,
}

/// The numbering, counting and batching of everything the owner is told.
pub struct Handover {
    tx: Sender<Event>,
    wake: Box<dyn Fn() + Send>,
    delay: Duration,
    seq: u64,
    batch: Vec<Packet>,
    batch_bytes: usize,
    first_unsent: Option<Instant>,
    backlog: VecDeque<Event>,
    backlog_packets: usize,
    backlog_bytes: usize,
    /// A non-packet event waits: hand over at the next flush.
    urgent: bool,
    /// When the channel was last found full.
    blocked_at: Option<Instant>,
    counters: HashMap<EndpointId, Counted>,
    /// Each endpoint's name, for a capture's interfaces.
    names: HashMap<EndpointId, String>,
    /// Names the owner gave ([`Command::NameEndpoint`]): they win over the
    /// engine's own `server ADDR`.
    labels: HashMap<EndpointId, String>,
    /// The capture file every packet also goes to, if one runs.
    capture: Option<Capturing>,
    /// The source address the routing table picks for each destination, for
    /// packets sent from a socket bound to every address.
    sources: HashMap<IpAddr, IpAddr>,
}

/// Destinations whose route source is remembered, at most (then forgotten and relearnt).
const SOURCES: usize = 4096;

/// A running capture and the counters as it began, for its statistics.
struct Capturing {
    live: LiveCapture,
    baseline: HashMap<EndpointId, Counters>,
    /// When progress was last told, and what it said.
    told: (Instant, u64, u64),
    /// Packets offered to the capture so far.
    offered: u64,
}

/// How often a running capture's figures are told at most.
const CAPTURE_PROGRESS_EVERY: Duration = Duration::from_secs(1);

impl Handover {
    /// A hand-over to `tx` that calls `wake` after putting anything in it.
    pub fn new(tx: Sender<Event>, wake: Box<dyn Fn() + Send>) -> Handover {
        Handover {
            tx,
            wake,
            delay: DEFAULT_HANDOVER_DELAY,
            seq: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            first_unsent: None,
            backlog: VecDeque::new(),
            backlog_packets: 0,
            backlog_bytes: 0,
            urgent: false,
            blocked_at: None,
            counters: HashMap::new(),
            names: HashMap::new(),
            labels: HashMap::new(),
            capture: None,
            sources: HashMap::new(),
        }
    }

    /// Names an endpoint (a capture file shows it).
    pub fn name_endpoint(&mut self, id: EndpointId, name: String) {
        let name = self.labels.get(&id).cloned().unwrap_or(name);
        if let Some(c) = &self.capture {
            c.live.name_endpoint(id, &name);
        }
        self.names.insert(id, name);
    }

    /// The owner's name for an endpoint, used from its start on (a capture
    /// already under way keeps the name it first wrote).
    pub fn label_endpoint(&mut self, id: EndpointId, name: String) {
        if self.names.contains_key(&id) {
            self.labels.insert(id, name.clone());
            self.name_endpoint(id, name);
        } else {
            self.labels.insert(id, name);
        }
    }

    /// Sends every packet recorded from now on to `live` as well, replacing
    /// (and returning the summary of) any capture running.
    pub fn start_capture(&mut self, live: LiveCapture) -> Option<Closing> {
        let before = self.stop_capture();
        for (id, name) in &self.names {
            live.name_endpoint(*id, name);
        }
        let baseline = self
            .counters
            .iter()
            .map(|(id, c)| (*id, c.counters))
            .collect();
        self.capture = Some(Capturing {
            live,
            baseline,
            told: (Instant::now(), 0, 0),
            offered: 0,
        });
        before
    }

    /// Queues the capture's figures if a second has passed and they changed.
    pub fn capture_progress(&mut self) {
        let Some(c) = &mut self.capture else { return };
        if c.told.0.elapsed() < CAPTURE_PROGRESS_EVERY {
            return;
        }
        let summary = c.live.summary();
        let unchanged = (summary.packets, summary.dropped) == (c.told.1, c.told.2);
        // Looked at now, told or not: the next look is a second away.
        c.told = (Instant::now(), summary.packets, summary.dropped);
        if !unchanged {
            self.push(Event::CaptureProgress { summary });
        }
    }

    /// True when a capture runs to the file at `path`.
    #[must_use]
    pub fn capture_writes_to(&self, path: &std::path::Path) -> bool {
        self.capture
            .as_ref()
            .is_some_and(|c| c.live.writes_to(path))
    }

    /// True when a capture runs but its writing failed.
    #[must_use]
    pub fn capture_failed(&self) -> bool {
        self.capture.as_ref().is_some_and(|c| c.live.failed())
    }

    /// Ends the capture, with every packet recorded so far in it and each
    /// endpoint's received and kernel-dropped datagrams since it began; the
    /// returned handle says when the file is closed.
    pub fn stop_capture(&mut self) -> Option<Closing> {
        self.close_batch();
        let Capturing { live, baseline, .. } = self.capture.take()?;
        let mut stats: Vec<(EndpointId, EndpointStats)> = self
            .counters
            .iter()
            .map(|(id, c)| {
                let since = c
                    .counters
                    .since(&baseline.get(id).copied().unwrap_or_default());
                let stats = EndpointStats {
                    received: since.packets_in,
                    dropped: since.kernel_drops,
                };
                (*id, stats)
            })
            .collect();
        stats.sort_by_key(|(id, _)| *id);
        // The writer finishes on its own thread: a slow disk must not hold
        // up the sockets.
        Some(live.close(stats))
    }

    /// Changes how long a packet may wait for its batch (capped at [`MAX_HANDOVER_DELAY`]).
    pub fn set_delay(&mut self, delay: Duration) {
        self.delay = delay.min(MAX_HANDOVER_DELAY);
    }

    /// Queues any event other than packets; it goes out at the next flush, in order.
    pub fn push(&mut self, event: Event) {
        self.close_batch();
        self.backlog.push_back(event);
        self.urgent = true;
    }

    /// Queues a failure.
    pub fn fail(&mut self, id: Option<EndpointId>, error: NetError) {
        self.push(Event::Failed { id, error });
    }

    /// Numbers, stamps, counts and queues a packet, and returns its time.
    pub fn record(
        &mut self,
        origin: Origin,
        direction: Direction,
        peer: SocketAddr,
        bytes: &[u8],
        truncated: bool,
    ) -> SystemTime {
        self.seq += 1;
        let mut local = origin.local;
        if direction == Direction::Out && local.ip().is_unspecified() {
            local.set_ip(self.source_for(peer.ip(), local.ip()));
        }
        let time = crate::packet::now_micros();
        let counted = self.counters.entry(origin.id).or_default();
        counted.counters.count(direction, bytes.len());
        counted.changed = true;
        if self.first_unsent.is_none() {
            self.first_unsent = Some(Instant::now());
        }
        self.batch_bytes += bytes.len() + PACKET_OVERHEAD;
        self.batch.push(Packet {
            seq: self.seq,
            time,
            endpoint: origin.id,
            direction,
            local,
            peer,
            encoding: origin.encoding,
            bytes: bytes.into(),
            truncated,
        });
        if self.batch.len() >= BATCH || self.batch_bytes >= BATCH_BYTES {
            self.close_batch();
        }
        time
    }

    /// The address a datagram to `to` leaves from when the socket is bound to
    /// `any`: the routing table's choice, learnt from a connected socket that
    /// sends nothing, and remembered.
    fn source_for(&mut self, to: IpAddr, any: IpAddr) -> IpAddr {
        if let Some(&ip) = self.sources.get(&to) {
            return ip;
        }
        let learnt = std::net::UdpSocket::bind(SocketAddr::new(any, 0))
            .and_then(|s| {
                s.connect(SocketAddr::new(to, 9))?;
                s.local_addr()
            })
            .map_or(any, |a| a.ip());
        if self.sources.len() >= SOURCES {
            self.sources.clear();
        }
        self.sources.insert(to, learnt);
        learnt
    }

    /// Counts an automatic reply not sent (rate limit or loop).
    pub fn count_held_back(&mut self, id: EndpointId) {
        let counted = self.counters.entry(id).or_default();
        counted.counters.held_back += 1;
        counted.changed = true;
    }

    /// Counts an automatic reply (already recorded as a packet out).
    pub fn count_reply(&mut self, id: EndpointId) {
        let counted = self.counters.entry(id).or_default();
        counted.counters.replies += 1;
        counted.changed = true;
    }

    /// Notes the kernel's running count of datagrams it dropped on an
    /// endpoint's socket. It only grows, but reports come from two places
    /// (with a datagram, as it was when that datagram was queued, and from
    /// the system's socket table, as it is now), so an older, smaller report
    /// is ignored; one smaller by more than half the 32-bit range means the
    /// kernel's count wrapped, and counting goes on from where it was.
    pub fn kernel_drops(&mut self, id: EndpointId, reported: u32) {
        let counted = self.counters.entry(id).or_default();
        let before = counted.counters.kernel_drops;
        let high = before & !u64::from(u32::MAX);
        let mut now = high | u64::from(reported);
        if now + (1 << 31) < before {
            now += 1 << 32;
        } else if now > before + (1 << 31) && high > 0 {
            // A report from before the wrap.
            now -= 1 << 32;
        }
        if now > before {
            counted.counters.kernel_drops = now;
            counted.changed = true;
        }
    }

    /// When the next flush is due, if anything waits.
    pub fn deadline(&self) -> Option<Instant> {
        let now = Instant::now();
        if self.urgent || self.backlog.iter().any(is_packets) && self.blocked_at.is_none() {
            return Some(now);
        }
        let retry = self.blocked_at.map(|t| t + RETRY);
        let waiting = !self.backlog.is_empty()
            // Counters that changed with no batch open to carry them.
            || self.batch.is_empty() && self.counters.values().any(|c| c.changed);
        let waiting = waiting.then(|| retry.unwrap_or(now));
        let batch = self.first_unsent.map(|t| t + self.delay);
        // A capture's figures are told until they include every packet offered.
        let progress = self
            .capture
            .as_ref()
            .filter(|c| c.told.1 + c.told.2 < c.offered)
            .map(|c| c.told.0 + CAPTURE_PROGRESS_EVERY);
        waiting.into_iter().chain(batch).chain(progress).min()
    }

    /// True while the owner is not taking events: the channel was full and
    /// events still wait behind it.
    #[must_use]
    pub fn blocked(&self) -> bool {
        self.blocked_at.is_some() && !self.backlog.is_empty()
    }

    /// Hands over what is due; calls the wake callback if anything went.
    pub fn flush(&mut self) {
        let Some(due) = self.deadline() else { return };
        if due > Instant::now() {
            return;
        }
        self.close_batch();
        self.urgent = false;
        let mut sent = false;
        while let Some(event) = self.backlog.pop_front() {
            let cost = match &event {
                Event::Packets { packets, .. } => Some(packet_cost(packets)),
                _ => None,
            };
            match self.tx.try_send(event) {
                Ok(()) => {
                    sent = true;
                    if let Some((n, bytes)) = cost {
                        self.backlog_packets -= n;
                        self.backlog_bytes -= bytes;
                    }
                }
                Err(TrySendError::Full(event)) => {
                    self.backlog.push_front(event);
                    self.blocked_at = Some(Instant::now());
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    // The owner is gone: there is no one left to tell.
                    self.backlog.clear();
                    self.backlog_packets = 0;
                    self.backlog_bytes = 0;
                    break;
                }
            }
        }
        if self.backlog.is_empty() {
            self.blocked_at = None;
            // Counters that changed with no packet to carry them (a display
            // drop, a reply counted after its batch closed).
            if self.counters.values().any(|c| c.changed) {
                let event = Event::Packets {
                    packets: Vec::new(),
                    counters: self.changed_counters(),
                };
                match self.tx.try_send(event) {
                    Ok(()) => {
                        sent = true;
                        self.clear_changed();
                    }
                    Err(TrySendError::Full(_)) => self.blocked_at = Some(Instant::now()),
                    Err(TrySendError::Disconnected(_)) => self.clear_changed(),
                }
            }
        }
        if sent {
            (self.wake)();
        }
    }

    /// Hands over everything left, waiting up to `patience` for the owner to
    /// take it: the network thread is about to end.
    pub fn finish(&mut self, patience: Duration) {
        self.close_batch();
        let until = Instant::now() + patience;
        while let Some(event) = self.backlog.pop_front() {
            let left = until.saturating_duration_since(Instant::now());
            if self.tx.send_timeout(event, left).is_err() {
                break;
            }
        }
        self.backlog.clear();
        (self.wake)();
    }

    /// Moves the open batch into the backlog, and drops the oldest display
    /// copies if the backlog is over its bounds.
    fn close_batch(&mut self) {
        self.first_unsent = None;
        if self.batch.is_empty() {
            return;
        }
        let packets = std::mem::take(&mut self.batch);
        // The capture gets every packet, before any display copy is dropped.
        if let Some(c) = &mut self.capture {
            c.live.offer(&packets);
            c.offered += packets.len() as u64;
        }
        let (n, bytes) = packet_cost(&packets);
        self.batch_bytes = 0;
        self.backlog_packets += n;
        self.backlog_bytes += bytes;
        // The counters as of this batch's last packet: they never run ahead
        // of the packets the owner has been given.
        let counters = self.changed_counters();
        self.clear_changed();
        self.backlog.push_back(Event::Packets { packets, counters });
        while self.backlog_packets > BACKLOG_PACKETS || self.backlog_bytes > BACKLOG_BYTES {
            if !self.drop_oldest() {
                break;
            }
        }
    }

    /// Drops the oldest batch of packets in the backlog, counting each as not
    /// shown; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        let Some(at) = self.backlog.iter().position(is_packets) else {
            return false;
        };
        let Some(Event::Packets { packets, counters }) = self.backlog.remove(at) else {
            return false;
        };
        // Counters that only this batch carried go with the next one.
        for (id, _) in counters {
            self.counters.entry(id).or_default().changed = true;
        }
        let (n, bytes) = packet_cost(&packets);
        self.backlog_packets -= n;
        self.backlog_bytes -= bytes;
        for p in &packets {
            let counted = self.counters.entry(p.endpoint).or_default();
            counted.counters.not_shown += 1;
            counted.changed = true;
        }
        true
    }

    fn changed_counters(&self) -> Vec<(EndpointId, Counters)> {
        self.counters
            .iter()
            .filter(|(_, c)| c.changed)
            .map(|(id, c)| (*id, c.counters))
            .collect()
    }

    fn clear_changed(&mut self) {
        for c in self.counters.values_mut() {
            c.changed = false;
        }
    }
}

fn is_packets(event: &Event) -> bool {
    matches!(event, Event::Packets { .. })
}

/// Packets and queue bytes of a batch.
fn packet_cost(packets: &[Packet]) -> (usize, usize) {
    let bytes = packets.iter().map(|p| p.len() + PACKET_OVERHEAD).sum();
    (packets.len(), bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Encoding;

    fn origin() -> Origin {
        Origin {
            id: EndpointId(1),
            local: "127.0.0.1:9".parse().unwrap(),
            encoding: Encoding::Utf8,
        }
    }

    fn handover() -> (Handover, crossbeam_channel::Receiver<Event>) {
        let (tx, rx) = crossbeam_channel::bounded(CHANNEL_EVENTS);
        (Handover::new(tx, Box::new(|| {})), rx)
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    #[test]
    fn kernel_drop_reports_ignore_stale_ones_and_survive_a_wrap() {
        let (mut h, _rx) = handover();
        let id = origin().id;
        let drops = |h: &Handover| h.counters[&id].counters.kernel_drops;
        h.kernel_drops(id, 100);
        // A datagram queued before that reading carries an older count.
        h.kernel_drops(id, 90);
        assert_eq!(drops(&h), 100);
        h.kernel_drops(id, u32::MAX - 5);
        assert_eq!(drops(&h), u64::from(u32::MAX) - 5);
        // The kernel's 32-bit count wrapped.
        h.kernel_drops(id, 4);
        assert_eq!(drops(&h), (1 << 32) + 4);
        h.kernel_drops(id, u32::MAX);
        assert_eq!(drops(&h), (1 << 32) + 4, "stale across the wrap");
    }

    #[test]
    fn a_lone_packet_waits_for_its_batch_then_goes_with_its_counters() {
        let (mut h, rx) = handover();
        h.record(origin(), Direction::In, peer(), b"hi", false);
        let due = h.deadline().unwrap();
        assert!(due > Instant::now(), "it waits for others to join");
        assert!(due <= Instant::now() + DEFAULT_HANDOVER_DELAY);
        h.flush();
        assert!(rx.is_empty(), "not before its time");
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        h.flush();
        let Ok(Event::Packets { packets, counters }) = rx.try_recv() else {
            panic!("a batch");
        };
        assert_eq!(packets.len(), 1);
        assert_eq!(counters[0].1.packets_in, 1);
        assert!(h.deadline().is_none(), "nothing waits any more");
    }

    #[test]
    fn a_full_batch_goes_at_once() {
        let (mut h, rx) = handover();
        for _ in 0..BATCH {
            h.record(origin(), Direction::In, peer(), b"x", false);
        }
        assert!(h.deadline().unwrap() <= Instant::now());
        h.flush();
        assert!(
            matches!(rx.try_recv(), Ok(Event::Packets { packets, .. }) if packets.len() == BATCH)
        );
    }

    #[test]
    fn a_slow_owner_loses_the_oldest_display_copies_and_never_an_event() {
        let (mut h, rx) = handover();
        let total = (CHANNEL_EVENTS * BATCH + BACKLOG_PACKETS) * 2;
        for i in 0..total {
            h.record(origin(), Direction::In, peer(), b"x", false);
            if i == 10 {
                h.push(Event::SendDone {
                    id: EndpointId(1),
                    sent: 7,
                });
            }
            h.flush();
        }
        // The owner takes everything now.
        let mut shown = 0;
        let mut done = 0;
        let mut last = Counters::default();
        let mut seqs = Vec::new();
        loop {
            let Ok(event) = rx.try_recv() else {
                // Room again: the hand-over tries once its retry is due.
                let Some(due) = h.deadline() else { break };
                while Instant::now() < due {
                    std::hint::spin_loop();
                }
                h.flush();
                continue;
            };
            match event {
                Event::Packets { packets, counters } => {
                    shown += packets.len();
                    seqs.extend(packets.iter().map(|p| p.seq));
                    if let Some((_, c)) = counters.first() {
                        last = *c;
                    }
                }
                Event::SendDone { sent: 7, .. } => done += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(done, 1, "the other event arrived");
        assert_eq!(last.packets_in, total as u64);
        assert!(last.not_shown > 0);
        assert_eq!(
            shown as u64 + last.not_shown,
            total as u64,
            "the counts add up"
        );
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(*seqs.last().unwrap(), total as u64, "the newest are kept");
    }

    #[test]
    fn counters_never_run_ahead_of_the_packets_handed_over() {
        let (mut h, rx) = handover();
        let total = 3 * BATCH + 5;
        for _ in 0..total {
            h.record(origin(), Direction::In, peer(), b"x", false);
        }
        let mut seen = 0u64;
        loop {
            while let Ok(event) = rx.try_recv() {
                if let Event::Packets { packets, counters } = event {
                    seen += packets.len() as u64;
                    if let Some((_, c)) = counters.first() {
                        assert_eq!(c.packets_in, seen, "as of the batch's last packet");
                    }
                }
            }
            let Some(due) = h.deadline() else { break };
            while Instant::now() < due {
                std::hint::spin_loop();
            }
            h.flush();
        }
        assert_eq!(seen, total as u64);
    }
}
