//! One datagram as udpdesk saw it: plain data, cheap to clone, shared by the
//! engine, the packet store, the log writers and the window.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::codec::Encoding;

/// Identifies one server or client endpoint inside an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EndpointId(pub u32);

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Which way a datagram went, seen from udpdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Received by one of our sockets.
    In,
    /// Sent by one of our sockets.
    Out,
}

impl Direction {
    /// A short label for tables and logs: `in` or `out`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    /// An arrow for compact displays: `←` for in, `→` for out.
    #[must_use]
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::In => "←",
            Direction::Out => "→",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One datagram, either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Engine-wide sequence number, starting at 1, in the order packets were seen.
    pub seq: u64,
    /// Wall-clock time the datagram was received or sent (microsecond precision).
    pub time: SystemTime,
    /// The endpoint whose socket carried it.
    pub endpoint: EndpointId,
    /// Received or sent.
    pub direction: Direction,
    /// Our socket's address.
    pub local: SocketAddr,
    /// The other side's address.
    pub peer: SocketAddr,
    /// The endpoint's encoding when the packet was seen: how its text is shown by default.
    pub encoding: Encoding,
    /// Every byte of the datagram (shared, so clones are cheap).
    pub bytes: Arc<[u8]>,
    /// True when the datagram was larger than the receive buffer and the kernel cut it.
    pub truncated: bool,
}

impl Packet {
    /// The payload length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an empty datagram (legal in UDP).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Microseconds since the Unix epoch (0 for clocks set before 1970).
    #[must_use]
    pub fn unix_micros(&self) -> u64 {
        self.time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// The wall clock cut to whole microseconds: what every log format keeps, so a
/// saved log reads back identical.
#[must_use]
pub fn now_micros() -> SystemTime {
    micros(SystemTime::now())
}

/// A time cut to whole microseconds.
#[must_use]
pub fn micros(time: SystemTime) -> SystemTime {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => {
            SystemTime::UNIX_EPOCH
                + Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        }
        Err(_) => time,
    }
}

/// Appends the local time of day as tables and printed lines show it,
/// `HH:MM:SS.ffffff`. The local-time conversion is made once per second and
/// reused, since a busy printer asks for it thousands of times a second.
pub fn write_clock(out: &mut String, time: SystemTime) {
    use std::cell::RefCell;
    use std::fmt::Write as _;
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            let local: chrono::DateTime<chrono::Local> =
                (SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).into();
            text.clear();
            let _infallible = write!(text, "{}", local.format("%H:%M:%S"));
            *cached = secs;
        }
        out.push_str(text);
    });
    let _infallible = write!(out, ".{:06}", since.subsec_micros());
}

/// The local time of day of `time`, `HH:MM:SS.ffffff`.
#[must_use]
pub fn clock(time: SystemTime) -> String {
    let mut s = String::with_capacity(15);
    write_clock(&mut s, time);
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod clock_tests {
    use super::*;

    #[test]
    fn the_cached_clock_reads_as_chrono_formats_it() {
        let base = SystemTime::UNIX_EPOCH + Duration::from_micros(1_764_000_000_123_456);
        for step in [0, 1, 999_999, 1_000_000, 86_400_000_000] {
            let t = base + Duration::from_micros(step);
            let local: chrono::DateTime<chrono::Local> = t.into();
            assert_eq!(clock(t), local.format("%H:%M:%S%.6f").to_string());
        }
    }
}
