//! The one line (or one JSON object) a bench run ends with. Figures that the
//! replies cannot give, because they do not carry our header, are `n/a` in
//! text and `null` in JSON rather than guesses.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::closed_loop::RoundTrips;
use super::receiver::Received;
use super::rtt::Percentiles;
use super::sender::Sent;

/// The results of a run.
#[derive(Debug, Serialize)]
pub(super) struct Summary {
    /// `open` or `closed`.
    pub mode: &'static str,
    pub target: String,
    /// Payload bytes per datagram.
    pub size: usize,
    pub sockets: u32,
    /// Datagrams sent (round trips begun, in the closed loop).
    pub sent: u64,
    /// How long the sending took.
    pub seconds: f64,
    /// `sent` over `seconds`.
    pub per_second: f64,
    /// Replies received (in the closed loop: in time).
    pub received: u64,
    pub lost: Option<u64>,
    pub loss_percent: Option<f64>,
    pub duplicates: Option<u64>,
    #[serde(flatten)]
    pub order: Order,
    /// Round-trip times in microseconds.
    pub rtt_us: Option<Percentiles>,
    /// Ctrl-C ended the run early.
    pub interrupted: bool,
}

/// The figure that only one mode has.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Order {
    /// Replies that came after a later one.
    Open { reordered: Option<u64> },
    /// Replies that came after their round trip had timed out.
    Closed { late: u64 },
}

/// What a run was asked to do, for the summary.
pub(super) struct Setting {
    pub target: String,
    pub size: usize,
    pub sockets: u32,
    pub interrupted: bool,
}

impl Summary {
    pub(super) fn open(setting: Setting, sent: &Sent, got: &Received) -> Summary {
        let t = &got.tally;
        // One reply we cannot place makes every count by sequence number doubtful.
        let judged = t.untagged == 0;
        let lost = judged.then(|| sent.total.saturating_sub(t.answered));
        Summary {
            mode: "open",
            received: t.received,
            loss_percent: lost.map(|l| percent(l, sent.total)),
            lost,
            duplicates: judged.then_some(t.duplicates),
            order: Order::Open {
                reordered: judged.then_some(t.reordered),
            },
            rtt_us: t.rtt.percentiles(),
            ..Summary::common(setting, sent.total, sent.elapsed)
        }
    }

    pub(super) fn closed(setting: Setting, r: &RoundTrips) -> Summary {
        Summary {
            mode: "closed",
            received: r.received,
            lost: Some(r.lost),
            loss_percent: Some(percent(r.lost, r.sent)),
            duplicates: (r.untagged == 0).then_some(r.duplicates),
            order: Order::Closed { late: r.late },
            rtt_us: r.rtt.percentiles(),
            ..Summary::common(setting, r.sent, r.elapsed)
        }
    }

    fn common(setting: Setting, sent: u64, elapsed: Duration) -> Summary {
        let seconds = elapsed.as_secs_f64();
        Summary {
            mode: "",
            target: setting.target,
            size: setting.size,
            sockets: setting.sockets,
            sent,
            seconds,
            per_second: if seconds > 0.0 {
                sent as f64 / seconds
            } else {
                0.0
            },
            received: 0,
            lost: None,
            loss_percent: None,
            duplicates: None,
            order: Order::Closed { late: 0 },
            rtt_us: None,
            interrupted: setting.interrupted,
        }
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// A count, or `n/a` when the replies cannot tell it.
struct Count(Option<u64>);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("n/a"),
        }
    }
}

/// Microseconds in the unit that reads best.
struct Micros(f64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us < 1.0 {
            write!(f, "{:.0} ns", us * 1000.0)
        } else if us < 100.0 {
            write!(f, "{us:.1} µs")
        } else if us < 1000.0 {
            write!(f, "{us:.0} µs")
        } else if us < 1_000_000.0 {
            write!(f, "{:.2} ms", us / 1000.0)
        } else {
            write!(f, "{:.3} s", us / 1_000_000.0)
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Two decimals as in "10.00 s", three for runs too short to show in two.
        let digits = if self.seconds < 1.0 { 3 } else { 2 };
        write!(
            f,
            "sent {} in {:.*} s ({:.0}/s), received {} ",
            self.sent, digits, self.seconds, self.per_second, self.received
        )?;
        match self.loss_percent {
            Some(p) => write!(f, "({p:.2}% lost)")?,
            None => f.write_str("(loss n/a)")?,
        }
        write!(f, ", {} duplicates", Count(self.duplicates))?;
        match self.order {
            Order::Open { reordered } => write!(f, ", {} reordered", Count(reordered))?,
            Order::Closed { late } => write!(f, ", {late} late")?,
        }
        if let Some(r) = self.rtt_us {
            write!(
                f,
                ", rtt p50 {}, p90 {}, p99 {}, max {}",
                Micros(r.p50),
                Micros(r.p90),
                Micros(r.p99),
                Micros(r.max)
            )?;
        }
        if self.lost.is_none() {
            f.write_str(" (the replies do not carry the datagrams' numbers)")?;
        }
        if self.interrupted {
            f.write_str(", interrupted")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(lost: Option<u64>, order: Order, rtt: Option<Percentiles>) -> Summary {
        Summary {
            mode: "open",
            target: "127.0.0.1:9".into(),
            size: 64,
            sockets: 1,
            sent: 100_000,
            seconds: 10.0,
            per_second: 10_000.0,
            received: 99_990,
            lost,
            loss_percent: lost.map(|l| percent(l, 100_000)),
            duplicates: lost.map(|_| 0),
            order,
            rtt_us: rtt,
            interrupted: false,
        }
    }

    #[test]
    fn the_line_reads_like_the_issue_asks() {
        let s = summary(Some(10), Order::Open { reordered: Some(3) }, None);
        assert_eq!(
            s.to_string(),
            "sent 100000 in 10.00 s (10000/s), received 99990 (0.01% lost), 0 duplicates, 3 reordered"
        );
        let rtt = Percentiles {
            p50: 52.4,
            p90: 180.2,
            p99: 1500.0,
            max: 2_000_000.0,
        };
        let s = summary(Some(0), Order::Closed { late: 1 }, Some(rtt));
        assert!(
            s.to_string().ends_with(
                "0 duplicates, 1 late, rtt p50 52.4 µs, p90 180 µs, p99 1.50 ms, max 2.000 s"
            ),
            "{s}"
        );
    }

    #[test]
    fn unknowable_figures_say_so() {
        let s = summary(None, Order::Open { reordered: None }, None);
        let line = s.to_string();
        assert!(
            line.contains("(loss n/a), n/a duplicates, n/a reordered"),
            "{line}"
        );
        let json = serde_json::to_value(&s).unwrap_or_default();
        assert!(
            json["lost"].is_null() && json["reordered"].is_null(),
            "{json}"
        );
        assert!(json.get("late").is_none(), "{json}");
        assert_eq!(json["received"], 99_990);
    }
}
