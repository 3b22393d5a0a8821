//! The chart strip's data: per-endpoint rates over the last minute, worked
//! out from the engine's counters a few times a second (never per packet),
//! and the round-trip times a client measured between two samples.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::net::Counters;
use crate::packet::EndpointId;
use crate::ui::chart_strip::{RatePoint, RttPoint, SPAN_SECS};

/// Seconds between two samples: five a second, whatever the frame rate.
pub const PERIOD: f64 = 0.2;
/// Each rate is averaged over this many seconds, so one datagram a second
/// reads as 1/s and not as a spike every fifth sample.
pub const RATE_WINDOW: f64 = 1.0;
/// Float sums of periods come out a hair short of a whole window.
const SLACK: f64 = 1e-6;

#[derive(Debug, Default)]
struct Endpoint {
    /// Counter readings from the last second or so (the oldest at least
    /// `RATE_WINDOW` old when there is one): the rates' base.
    readings: VecDeque<(f64, Counters)>,
    rates: VecDeque<RatePoint>,
    rtts: VecDeque<RttPoint>,
    /// When a rate last was not zero.
    busy_at: Option<f64>,
}

/// Samples for the charts, one ring of points per endpoint.
#[derive(Debug)]
pub struct Sampler {
    epoch: Instant,
    last: Option<f64>,
    endpoints: BTreeMap<EndpointId, Endpoint>,
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler {
            epoch: Instant::now(),
            last: None,
            endpoints: BTreeMap::new(),
        }
    }
}

impl Sampler {
    /// Seconds since the sampler began: the time its points are on.
    #[must_use]
    pub fn clock(&self) -> f64 {
        self.epoch.elapsed().as_secs_f64()
    }

    /// True when a sample at `now` is due (`PERIOD` after the last one).
    #[must_use]
    pub fn due(&self, now: f64) -> bool {
        self.last.is_none_or(|last| now - last >= PERIOD - SLACK)
    }

    /// Takes a sample at `now` of every endpoint's `counters` (totals since
    /// it opened) and of the round-trip times measured since the last one.
    pub fn sample(
        &mut self,
        now: f64,
        counters: impl IntoIterator<Item = (EndpointId, Counters)>,
        rtts: impl IntoIterator<Item = (EndpointId, Vec<Duration>)>,
    ) {
        let previous = self.last.replace(now);
        let since = now - SPAN_SECS;
        for (id, reading) in counters {
            let e = self.endpoints.entry(id).or_default();
            let point = e.rate(now, reading);
            if point.is_idle() && e.busy_at.is_none_or(|t| t < since) {
                // Quiet for a whole window: nothing to draw, nothing kept.
                e.rates.clear();
                continue;
            }
            if !point.is_idle() {
                if e.rates.is_empty() {
                    // The line rises from zero rather than starting mid-air.
                    e.rates.push_back(RatePoint {
                        t: previous.unwrap_or(now).min(now),
                        ..RatePoint::default()
                    });
                }
                e.busy_at = Some(now);
            }
            e.rates.push_back(point);
        }
        for (id, mut times) in rtts {
            if times.is_empty() {
                continue;
            }
            times.sort_unstable();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let point = RttPoint {
                t: now,
                median_ms: ms(times[times.len() / 2]),
                max_ms: ms(times[times.len() - 1]),
            };
            self.endpoints.entry(id).or_default().rtts.push_back(point);
        }
        for e in self.endpoints.values_mut() {
            while e.rates.front().is_some_and(|p| p.t < since) {
                e.rates.pop_front();
            }
            while e.rtts.front().is_some_and(|p| p.t < since) {
                e.rtts.pop_front();
            }
        }
    }

    /// The endpoints with something to draw, by id, with their rate and RTT points.
    pub fn traces(
        &self,
    ) -> impl Iterator<Item = (EndpointId, &VecDeque<RatePoint>, &VecDeque<RttPoint>)> {
        self.endpoints
            .iter()
            .filter(|(_, e)| !e.rates.is_empty() || !e.rtts.is_empty())
            .map(|(id, e)| (*id, &e.rates, &e.rtts))
    }

    /// One endpoint's rate points, oldest first.
    #[must_use]
    pub fn rates(&self, id: EndpointId) -> Option<&VecDeque<RatePoint>> {
        self.endpoints.get(&id).map(|e| &e.rates)
    }

    /// One endpoint's RTT points, oldest first.
    #[must_use]
    pub fn rtts(&self, id: EndpointId) -> Option<&VecDeque<RttPoint>> {
        self.endpoints.get(&id).map(|e| &e.rtts)
    }
}

impl Endpoint {
    /// The rates at `now` given this reading, and the reading kept as a base.
    fn rate(&mut self, now: f64, reading: Counters) -> RatePoint {
        let (base, span) = match self.readings.back() {
            // First seen: what it counted came within the last second.
            None => (Counters::default(), RATE_WINDOW),
            // No frame for over a second: the window was idle, and a packet
            // wakes a frame within a redraw interval, so what was counted
            // came within the last second, not spread over the quiet spell.
            Some(&(t, c)) if now - t >= RATE_WINDOW - SLACK => (c, RATE_WINDOW),
            Some(_) => {
                let &(t, c) = self
                    .readings
                    .iter()
                    .rev()
                    .find(|(t, _)| now - t >= RATE_WINDOW - SLACK)
                    .or_else(|| self.readings.front())
                    .unwrap_or(&(now, reading));
                (c, (now - t).max(PERIOD))
            }
        };
        let d = reading.since(&base);
        #[allow(clippy::cast_precision_loss)]
        let per_sec = |n: u64| n as f64 / span;
        self.readings.push_back((now, reading));
        while self
            .readings
            .get(1)
            .is_some_and(|(t, _)| now - t >= RATE_WINDOW - SLACK)
        {
            self.readings.pop_front();
        }
        RatePoint {
            t: now,
            packets_in: per_sec(d.packets_in),
            packets_out: per_sec(d.packets_out),
            bytes_in: per_sec(d.bytes_in),
            bytes_out: per_sec(d.bytes_out),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)]
mod tests {
    use super::*;

    const A: EndpointId = EndpointId(1);
    const B: EndpointId = EndpointId(2);

    fn counted(packets_in: u64, packets_out: u64) -> Counters {
        Counters {
            packets_in,
            bytes_in: packets_in * 10,
            packets_out,
            bytes_out: packets_out * 20,
            ..Counters::default()
        }
    }

    fn no_rtts() -> Vec<(EndpointId, Vec<Duration>)> {
        Vec::new()
    }

    /// Samples every `PERIOD` from `from` for `secs`, `per_sec` packets in
    /// and half as many out a second on A; returns the time of the last sample.
    fn flow(s: &mut Sampler, from: f64, secs: f64, per_sec: u64, counted_so_far: &mut u64) -> f64 {
        let mut t = from;
        while t < from + secs - 1e-9 {
            t += PERIOD;
            *counted_so_far += (per_sec as f64 * PERIOD).round() as u64;
            s.sample(
                t,
                [(A, counted(*counted_so_far, *counted_so_far / 2))],
                no_rtts(),
            );
        }
        t
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn rates_come_from_counter_deltas_over_a_second() {
        let mut s = Sampler::default();
        let mut n = 0;
        let t = flow(&mut s, 0.0, 5.0, 100, &mut n);
        let last = *s.rates(A).unwrap().back().unwrap();
        assert!(close(last.t, t));
        assert!(close(last.packets_in, 100.0), "{last:?}");
        assert!(close(last.packets_out, 50.0), "{last:?}");
        assert!(close(last.bytes_in, 1000.0), "{last:?}");
        assert!(close(last.bytes_out, 1000.0), "{last:?}");
    }

    #[test]
    fn one_datagram_a_second_reads_as_one_a_second() {
        let mut s = Sampler::default();
        let mut t = 0.0;
        for i in 1..=30u64 {
            // One datagram at each whole second, samples between.
            for _ in 0..5 {
                t += PERIOD;
                s.sample(t, [(A, counted(i, 0))], no_rtts());
            }
        }
        let last = s.rates(A).unwrap().back().unwrap().packets_in;
        assert!(close(last, 1.0), "{last}");
    }

    #[test]
    fn a_burst_after_a_quiet_spell_is_not_spread_over_it() {
        let mut s = Sampler::default();
        s.sample(0.0, [(A, counted(0, 0))], no_rtts());
        s.sample(30.0, [(A, counted(10, 0))], no_rtts());
        let points = s.rates(A).unwrap();
        assert_eq!(points.back().unwrap().packets_in, 10.0);
        assert_eq!(points.front().unwrap().packets_in, 0.0, "rises from zero");
    }

    #[test]
    fn the_window_holds_sixty_seconds() {
        let mut s = Sampler::default();
        let mut n = 0;
        let t = flow(&mut s, 0.0, 100.0, 50, &mut n);
        let points = s.rates(A).unwrap();
        assert!(points.front().unwrap().t >= t - SPAN_SECS);
        assert!(
            points.len() <= (SPAN_SECS / PERIOD) as usize + 1,
            "{}",
            points.len()
        );
        assert!(
            points.len() >= (SPAN_SECS / PERIOD) as usize - 1,
            "{}",
            points.len()
        );
    }

    #[test]
    fn an_endpoint_that_stops_falls_to_zero_then_leaves() {
        let mut s = Sampler::default();
        let mut n = 0;
        let t = flow(&mut s, 0.0, 10.0, 100, &mut n);
        // B never sends: nothing to draw.
        s.sample(
            t + PERIOD,
            [(A, counted(n, n / 2)), (B, counted(0, 0))],
            no_rtts(),
        );
        assert!(s.rates(B).unwrap().is_empty());
        // A stops: within a second its rate is zero.
        let mut t = t + PERIOD;
        for _ in 0..6 {
            t += PERIOD;
            s.sample(t, [(A, counted(n, n / 2))], no_rtts());
        }
        assert_eq!(s.rates(A).unwrap().back().unwrap().packets_in, 0.0);
        assert_eq!(s.traces().map(|(id, ..)| id).collect::<Vec<_>>(), vec![A]);
        // A minute later it has nothing left to draw.
        for _ in 0..(SPAN_SECS / PERIOD) as usize + 2 {
            t += PERIOD;
            s.sample(t, [(A, counted(n, n / 2))], no_rtts());
        }
        assert!(s.rates(A).unwrap().is_empty());
        assert_eq!(s.traces().count(), 0);
    }

    #[test]
    fn samples_are_due_five_times_a_second() {
        let mut s = Sampler::default();
        assert!(s.due(0.0));
        s.sample(0.0, [(A, counted(0, 0))], no_rtts());
        assert!(!s.due(0.1));
        assert!(s.due(PERIOD));
    }

    #[test]
    fn rtts_become_a_median_and_a_max_per_sample() {
        let mut s = Sampler::default();
        let ms = Duration::from_millis;
        s.sample(1.0, [], [(B, vec![ms(9), ms(2), ms(4)]), (A, vec![])]);
        let p = *s.rtts(B).unwrap().back().unwrap();
        assert_eq!((p.t, p.median_ms, p.max_ms), (1.0, 4.0, 9.0));
        assert!(s.rtts(A).is_none(), "no replies, no point");
        s.sample(100.0, [], no_rtts());
        assert!(s.rtts(B).unwrap().is_empty(), "a minute old: gone");
    }
}
