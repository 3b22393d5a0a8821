//! The status bar: packets and bytes in and out as the engine counted them,
//! per second too, packets the table could not show, the last error, and
//! passing messages such as "saved".

use std::time::{Duration, Instant};

use egui::{RichText, Ui};
use rust_i18n::t;

use crate::net::Counters;

use super::widgets::{ERROR_RED, bytes_label, missed_ui};

/// Per-second rates, measured over about one second.
#[derive(Debug)]
pub struct Rates {
    since: Instant,
    base: Counters,
    /// Datagrams in and out per second, bytes in and out per second.
    pub per_sec: [f64; 4],
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            since: Instant::now(),
            base: Counters::default(),
            per_sec: [0.0; 4],
        }
    }
}

impl Rates {
    /// Folds in the current totals; true while anything moves (so the bar keeps updating).
    pub fn update(&mut self, now: Counters) -> bool {
        let elapsed = self.since.elapsed();
        if elapsed >= Duration::from_secs(1) || now.packets() < self.base.packets() {
            let secs = elapsed.as_secs_f64().max(1e-3);
            #[allow(clippy::cast_precision_loss)]
            let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
            self.per_sec = [
                rate(now.packets_in, self.base.packets_in),
                rate(now.packets_out, self.base.packets_out),
                rate(now.bytes_in, self.base.bytes_in),
                rate(now.bytes_out, self.base.bytes_out),
            ];
            self.base = now;
            self.since = Instant::now();
        }
        self.per_sec.iter().any(|r| *r > 0.0)
    }
}

/// The packet log's use of its memory budget.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Bytes held.
    pub used: usize,
    /// Bytes allowed.
    pub budget: usize,
    /// Packets that left memory since the log was cleared.
    pub evicted: u64,
}

/// Draws the bar.
pub fn status_bar_ui(
    ui: &mut Ui,
    totals: Counters,
    memory: Memory,
    rates: &Rates,
    error: Option<&str>,
    status: Option<&str>,
) {
    ui.horizontal_wrapped(|ui| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let b = |r: f64| bytes_label(r as u64);
        ui.label(t!(
            "status.totals",
            packets_in = totals.packets_in,
            bytes_in = bytes_label(totals.bytes_in),
            packet_rate_in = format!("{:.0}", rates.per_sec[0]),
            byte_rate_in = b(rates.per_sec[2]),
            packets_out = totals.packets_out,
            bytes_out = bytes_label(totals.bytes_out),
            packet_rate_out = format!("{:.0}", rates.per_sec[1]),
            byte_rate_out = b(rates.per_sec[3])
        ));
        if totals.kernel_drops > 0 || totals.not_shown > 0 {
            ui.separator();
            missed_ui(ui, &totals);
        }
        ui.separator();
        let used = bytes_label(memory.used as u64);
        let budget = bytes_label(memory.budget as u64);
        let text = if memory.evicted > 0 {
            t!(
                "status.memory_evicted",
                used = used,
                budget = budget,
                evicted = memory.evicted
            )
        } else {
            t!("status.memory", used = used, budget = budget)
        };
        ui.weak(text).on_hover_text(t!("status.memory_hover"));
        if let Some(s) = status {
            ui.separator();
            ui.label(s);
        }
        if let Some(e) = error {
            ui.separator();
            ui.label(RichText::new(t!("status.last_error", error = e)).color(ERROR_RED));
        }
    });
}
