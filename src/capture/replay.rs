//! The timetable of a replay: when each datagram goes, counted from the
//! start, with the capture's own timing, faster or slower, or none at all.

use std::fmt;
use std::time::{Duration, SystemTime};

/// How fast a replay goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As captured.
    Original,
    /// The captured gaps divided by this (2 is twice as fast), within
    /// [`Speed::SLOWEST`] and [`Speed::FASTEST`].
    Scaled(f64),
    /// Back to back.
    Fast,
}

impl Speed {
    /// The slowest scaling: a tenth of the captured pace.
    pub const SLOWEST: f64 = 0.1;
    /// The fastest scaling: a hundred times the captured pace.
    pub const FASTEST: f64 = 100.0;
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Speed::Original => f.write_str("original timing"),
            Speed::Scaled(x) => write!(f, "{x}× the original pace"),
            Speed::Fast => f.write_str("as fast as possible"),
        }
    }
}

/// When each datagram goes, from the first: the captured gaps, scaled; empty
/// when the replay is as fast as possible. A time earlier than the one
/// before it (a clock stepped back in the capture) counts as no gap.
#[must_use]
pub fn timetable(times: &[SystemTime], speed: Speed) -> Vec<Duration> {
    let factor = match speed {
        Speed::Fast => return Vec::new(),
        Speed::Original => 1.0,
        Speed::Scaled(x) => x.clamp(Speed::SLOWEST, Speed::FASTEST),
    };
    let Some(&first) = times.first() else {
        return Vec::new();
    };
    let mut last = Duration::ZERO;
    times
        .iter()
        .map(|t| {
            let since = t.duration_since(first).unwrap_or(Duration::ZERO).max(last);
            last = since;
            since.div_f64(factor)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_kept_scaled_or_dropped() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let ms = Duration::from_millis;
        let times = [t0, t0 + ms(100), t0 + ms(50), t0 + ms(300)];
        assert_eq!(
            timetable(&times, Speed::Original),
            [ms(0), ms(100), ms(100), ms(300)]
        );
        assert_eq!(
            timetable(&times, Speed::Scaled(2.0)),
            [ms(0), ms(50), ms(50), ms(150)]
        );
        assert_eq!(timetable(&times, Speed::Scaled(1000.0))[3], ms(3));
        assert!(timetable(&times, Speed::Fast).is_empty());
        assert!(timetable(&[], Speed::Original).is_empty());
        assert_eq!(Speed::Scaled(0.5).to_string(), "0.5× the original pace");
    }
}
